#include "config.h"

#include <string.h>

#include "events.h"

static const char *const ku_state_names[] = {
#define KU_X_NAME(sym, name) [sym] = name,
	KU_STATES(KU_X_NAME)
#undef KU_X_NAME
};

const char *
ku_state_name(enum ku_state s)
{
	if ((unsigned)s >= KU_STATE__COUNT)
		return "unknown";
	return ku_state_names[s];
}

int
ku_state_parse(const char *name)
{
	for (int i = 0; i < KU_STATE__COUNT; i++)
		if (strcmp(ku_state_names[i], name) == 0)
			return i;
	return -1;
}

const char *
ku_decision_name(enum ku_decision d)
{
	switch (d) {
	case KU_DECIDE_RETRY:
		return "retry";
	case KU_DECIDE_SKIP:
		return "skip";
	case KU_DECIDE_ABORT:
		return "abort";
	}
	return "unknown";
}
