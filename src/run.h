/* One install run, shared by the batch front end and the wizard: the state
 * directory (locked, 0700), the answers saved there, the journal, the log,
 * the plan and the engine. */
#ifndef KU_RUN_H
#define KU_RUN_H

#include <stdbool.h>

#include "events.h"
#include "spec.h"

struct ku_run_opts {
	const char *state_dir;     /* NULL: the default for the cluster */
	const char *templates_dir; /* --templates, or NULL */
	bool teardown;             /* kubeup down: the provider's teardown */
	bool purge;                /* with teardown: remove packages too */
	bool resume;
	const char *const *only;   /* --phases, NULL: all */
	size_t n_only;
};

struct ku_run;

/* The default state directory: $XDG_STATE_HOME/kubeup/<cluster>, or
 * ~/.local/state/kubeup/<cluster>. Caller frees. */
char *ku_state_dir_default(const char *cluster);

/* Opens the state directory for spec (creating it 0700), takes its lock,
 * and saves the answers there before anything touches a machine. With
 * resume, the answers saved there must equal spec: otherwise *err lists the
 * keys that differ and KU_ERR_ANSWERS is returned. On failure *err says
 * why (caller frees). */
ku_rc ku_run_open(const struct ku_spec *spec, const struct ku_run_opts *opts,
    struct ku_run **out, char **err);
void ku_run_close(struct ku_run *run);

const char *ku_run_state_dir(const struct ku_run *run);
const char *ku_run_log_path(const struct ku_run *run);
/* The run's journal (what is done, this run and before). */
const struct ku_journal *ku_run_journal(const struct ku_run *run);

/* Runs the plan with the front end; the targets skipped and failed are
 * added to the lists (either may be NULL) for the summary. */
ku_rc ku_run_execute(struct ku_run *run, const struct ku_frontend *fe,
    struct ku_strv *skipped, struct ku_strv *failed);
/* Stops a run in progress from another thread; no-op when none runs. */
void ku_run_cancel(struct ku_run *run);

/* Reads the answers saved in a state directory (for --resume without an
 * answers file). */
struct ku_answers_overrides;
ku_rc ku_run_saved_answers(const char *state_dir,
    const struct ku_answers_overrides *ov, struct ku_spec **out,
    struct ku_diags *diags);

#endif
