/* What the engine tells its front ends, and what they answer. */
#ifndef KU_EVENTS_H
#define KU_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The state of one target of one substep. Append only: journaled by name. */
#define KU_STATES(X)                    \
	X(KU_STATE_PENDING, "pending")  \
	X(KU_STATE_RUNNING, "running")  \
	X(KU_STATE_DONE,    "done")     \
	X(KU_STATE_FAILED,  "failed")   \
	X(KU_STATE_SKIPPED, "skipped")

enum ku_state {
#define KU_X_ENUM(sym, name) sym,
	KU_STATES(KU_X_ENUM)
#undef KU_X_ENUM
	KU_STATE__COUNT
};

const char *ku_state_name(enum ku_state s);
/* -1 when name is not a state. */
int ku_state_parse(const char *name);

enum ku_event_type {
	KU_EV_RUN_START,
	KU_EV_PHASE_START,
	KU_EV_PHASE_END,     /* state: done (barrier passed) or failed */
	KU_EV_TARGET,        /* a target of a substep changed state */
	KU_EV_PAUSED,        /* a substep still fails; a decision is asked */
	KU_EV_DECIDED,       /* message: "retry", "skip" or "abort" */
	KU_EV_RUN_END,       /* error: the run's result */
};

struct ku_event {
	enum ku_event_type type;
	uint64_t wall_ms;
	const char *phase;           /* "4.1"; NULL for run events */
	const char *phase_title;     /* untranslated; front ends translate */
	const char *substep;         /* "static-pods" */
	const char *substep_title;
	const char *target;          /* "cluster", a machine's name */
	enum ku_state state;
	int attempt;                 /* 1 for the first try */
	uint64_t duration_ms;        /* finished target, phase or run */
	ku_rc error;                 /* KU_OK unless failed */
	const char *message;         /* the readable reason of a failure */
	size_t n_done, n_failed, n_skipped, n_total; /* run end, per target */
};

enum ku_decision { KU_DECIDE_RETRY, KU_DECIDE_SKIP, KU_DECIDE_ABORT };

const char *ku_decision_name(enum ku_decision d);

/* A substep whose targets still fail after automatic retries. */
struct ku_pause {
	const char *phase;
	const char *phase_title;
	const char *substep;
	const char *substep_title;
	size_t n_failed;
	const char *const *targets;   /* n_failed names */
	const char *const *messages;  /* n_failed reasons */
};

/* A front end. event() is called with the engine's lock held, from any of
 * its threads, one call at a time: it must be quick and must not call back
 * into the engine. decide() is called from the thread that runs the engine
 * while the other targets go on working; it may block (the wizard asks the
 * operator). */
struct ku_frontend {
	void (*event)(void *ud, const struct ku_event *ev);
	enum ku_decision (*decide)(void *ud, const struct ku_pause *pause);
	void *ud;
};

#endif
