/* The phase engine: runs a plan on a bounded pool of worker threads.
 *
 * Within a phase, each target goes through the phase's substeps on its own:
 * a node never waits for another node, and a failure holds up only that
 * target's later substeps. A cluster-wide substep waits for every target of
 * the substep before it. A phase is a barrier: the next one starts when
 * every target of this one is done or skipped.
 *
 * A failed target is retried automatically (count and backoff from the
 * options). When it still fails, the engine asks the front end once
 * nothing runs or waits in that substep or any before it in the phase (so
 * one question covers every target that fails there): retry (the failed
 * targets only), skip, or abort; the other targets go on meanwhile. Every change of state goes through one function, which writes
 * the journal and then emits the event.
 */
#ifndef KU_ENGINE_H
#define KU_ENGINE_H

#include <stdbool.h>

#include "events.h"
#include "journal.h"
#include "log.h"
#include "plan.h"

struct ku_engine_opts {
	struct ku_journal *journal;  /* required */
	struct ku_log *log;          /* may be NULL */
	const char *state_dir;       /* given to actions */
	int parallelism;             /* worker threads, >= 1 */
	int retries;                 /* automatic retries per target */
	int backoff_ms;              /* first pause before a retry */
	int backoff_max_ms;
	/* Run only these phases (ids); NULL: all. Phases they require that
	 * are not run now must be done in the journal. */
	const char *const *only;
	size_t n_only;
	/* Resume: targets recorded done or skipped in the journal are not
	 * run again. Without it every selected substep runs (each one checks
	 * before it acts, so a re-run on an installed cluster changes
	 * nothing). */
	bool resume;
	void *user;                  /* for actions: ku_task_user() */
	void *provider_state;        /* ku_task_provider_state() */
};

struct ku_engine;

struct ku_engine *ku_engine_new(const struct ku_plan *plan,
    const struct ku_engine_opts *opts, const struct ku_frontend *fe);
void ku_engine_free(struct ku_engine *engine);

/* Runs to the end. KU_OK: every selected phase done (some targets may be
 * skipped); KU_ERR_ABORTED: the front end aborted after a failure;
 * KU_ERR_INTERRUPTED: ku_engine_cancel() was called; KU_ERR_PREREQ: a
 * required phase is missing (named in the RUN_END event's message);
 * KU_ERR_JOURNAL: the journal could not be written. */
ku_rc ku_engine_run(struct ku_engine *engine);

/* Stops starting work, tells running actions to stop, and makes
 * ku_engine_run() return KU_ERR_INTERRUPTED. Safe from any thread (not from
 * a signal handler). */
void ku_engine_cancel(struct ku_engine *engine);

/* After the run: the skipped and failed targets, "4.1/start-kubelet on
 * node-2", for the summary. */
const struct ku_strv *ku_engine_skipped(const struct ku_engine *engine);
const struct ku_strv *ku_engine_failed(const struct ku_engine *engine);

/* --- for actions: one target of one substep while it runs --- */

struct ku_task;

const struct ku_spec *ku_task_spec(const struct ku_task *task);
/* NULL for a cluster-wide substep. */
const struct ku_machine *ku_task_machine(const struct ku_task *task);
const char *ku_task_target(const struct ku_task *task);
const char *ku_task_phase(const struct ku_task *task);
const char *ku_task_substep(const struct ku_task *task);
const char *ku_task_state_dir(const struct ku_task *task);
int ku_task_attempt(const struct ku_task *task);
void *ku_task_user(const struct ku_task *task);
/* What the spec's provider opened for this run (its sessions). */
void *ku_task_provider_state(const struct ku_task *task);
/* True once the run is being interrupted: an action stops at its next
 * safe point and returns KU_ERR_INTERRUPTED. */
bool ku_task_cancelled(const struct ku_task *task);

void ku_task_log(struct ku_task *task, enum ku_log_level level,
    const char *fmt, ...) KU_PRINTF(3, 4);
/* Records the readable reason of a failure (the machine and what was being
 * done: "upload /etc/kubernetes/pki/ca.crt: permission denied") and returns
 * rc, so that an action ends with `return ku_task_fail(t, rc, ...)`. */
ku_rc ku_task_fail(struct ku_task *task, ku_rc rc, const char *fmt, ...)
    KU_PRINTF(3, 4);

/* Errors that no automatic retry can mend (not implemented, invalid
 * input, an untrusted host key): the engine asks the front end at once. */
bool ku_rc_is_permanent(ku_rc rc);

#endif
