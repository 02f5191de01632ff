/* gettext wiring: _() for text an operator reads, N_() in static tables. */
#ifndef KU_I18N_H
#define KU_I18N_H

#include <libintl.h>
#include <locale.h>

#define _(s) gettext(s)
#define N_(s) (s)

#endif
