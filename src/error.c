#include "config.h"

#include "error.h"
#include "i18n.h"

static const struct {
	const char *id;
	const char *msg;
} ku_errors[] = {
#define KU_X_ROW(sym, id, msg) [sym] = { id, msg },
	KU_ERRORS(KU_X_ROW)
#undef KU_X_ROW
};

const char *
ku_strerror(ku_rc rc)
{
	if ((unsigned)rc >= KU_ERR__COUNT)
		return _("unknown error");
	return _(ku_errors[rc].msg);
}

const char *
ku_error_id(ku_rc rc)
{
	if ((unsigned)rc >= KU_ERR__COUNT)
		return "unknown";
	return ku_errors[rc].id;
}
