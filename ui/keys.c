/* Raw keys to actions, through binding tables; the footer from the same
 * tables, so it shows exactly the keys that work. */
#include "config.h"

#include <string.h>

#include <curses.h>

#include "i18n.h"
#include "ui.h"

/* Navigation, the same on every screen. */
static const struct {
	int code;       /* a curses code */
	wint_t ch;      /* or a character */
	enum ku_act act;
} ku_nav[] = {
	{ KEY_UP, 0, KU_A_UP },
	{ KEY_DOWN, 0, KU_A_DOWN },
	{ KEY_LEFT, 0, KU_A_LEFT },
	{ KEY_RIGHT, 0, KU_A_RIGHT },
	{ KEY_PPAGE, 0, KU_A_PGUP },
	{ KEY_NPAGE, 0, KU_A_PGDN },
	{ KEY_HOME, 0, KU_A_HOME },
	{ KEY_END, 0, KU_A_END },
	{ KEY_BTAB, 0, KU_A_PREV_FIELD },
	{ KEY_ENTER, 0, KU_A_ENTER },
	{ KEY_BACKSPACE, 0, KU_A_BACKSPACE },
	{ KEY_DC, 0, KU_A_DELETE },
	{ KEY_F(1), 0, KU_A_HELP },
	{ KEY_F(10), 0, KU_A_QUIT },
	{ 0, '\t', KU_A_NEXT_FIELD },
	{ 0, '\r', KU_A_ENTER },
	{ 0, '\n', KU_A_ENTER },
	{ 0, 27, KU_A_BACK },        /* Esc */
	{ 0, 127, KU_A_BACKSPACE },
	{ 0, 8, KU_A_BACKSPACE },
	{ 0, 3, KU_A_QUIT },         /* Ctrl-C */
	{ 0, 12, KU_A_REDRAW },      /* Ctrl-L */
	{ 0, 1, KU_A_HOME },         /* Ctrl-A */
	{ 0, 5, KU_A_END },          /* Ctrl-E */
};

bool
ku_ui_read_key(struct ku_key *k)
{
	wint_t wch;
	int r = wget_wch(stdscr, &wch);

	memset(k, 0, sizeof *k);
	if (r == ERR)
		return false;
	if (r == KEY_CODE_YES)
		k->code = (int)wch;
	else
		k->ch = wch;
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_nav); i++)
		if ((k->code && ku_nav[i].code == k->code) ||
		    (!k->code && ku_nav[i].ch && ku_nav[i].ch == k->ch))
			k->act = ku_nav[i].act;
	if (k->act == KU_A_NONE && k->ch >= 32 && k->ch != 127)
		k->act = KU_A_CHAR;
	return true;
}

enum ku_act
ku_ui_action(const struct ku_key *k, const struct ku_binding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i].code && b[i].code == k->code)
			return b[i].act;
		if (b[i].ch && !k->code && b[i].ch == k->ch)
			return b[i].act;
	}
	return k->act;
}

void
ku_ui_footer(const struct ku_binding *b, size_t n)
{
	int y = LINES - 1, x = 1;

	attrset(ku_ui_attr(KU_C_BAR));
	mvhline(y, 0, ' ', COLS);
	for (size_t i = 0; i < n; i++) {
		const char *label;
		int need;

		if (b[i].key == NULL)
			continue;
		/* duplicates (F1 and ?) share the entry with a label */
		if (b[i].label == NULL)
			continue;
		label = _(b[i].label);
		need = ku_ui_width(b[i].key) + 1 + ku_ui_width(label) + 2;
		if (x + need > COLS)
			break;
		attrset(ku_ui_attr(KU_C_BAR) | A_BOLD);
		x += ku_ui_put(y, x, COLS - x, 0, b[i].key);
		attrset(ku_ui_attr(KU_C_BAR));
		x += ku_ui_put(y, x + 1, COLS - x - 1, 0, label) + 3;
	}
	attrset(A_NORMAL);
}
