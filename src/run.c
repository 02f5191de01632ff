#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "engine.h"
#include "i18n.h"
#include "journal.h"
#include "log.h"
#include "pki.h"
#include "plan.h"
#include "provider.h"
#include "render.h"
#include "run.h"

struct ku_run {
	const struct ku_spec *spec;
	struct ku_run_opts opts;
	char *state_dir;
	char *log_path;
	int lock_fd;
	struct ku_journal *journal;
	struct ku_log *log;
	pthread_mutex_t lock;
	struct ku_engine *engine;  /* while executing */
	bool cancel_requested;
};

char *
ku_state_dir_default(const char *cluster)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	char *base, *dir;

	if (xdg && xdg[0] == '/')
		base = xasprintf("%s/kubeup", xdg);
	else
		base = ku_path_expand("~/.local/state/kubeup", NULL);
	dir = ku_path_join(base, cluster);
	free(base);
	return dir;
}

static ku_rc
ku_run_lock(struct ku_run *run, char **err)
{
	char *path = ku_path_join(run->state_dir, "lock");
	char pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		*err = xasprintf(_("%s: cannot open: %s"), path,
		    strerror(errno));
		free(path);
		return KU_ERR_STATE;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		*err = xasprintf(_("%s: another kubeup (pid %s) is working on "
		    "this state directory; wait for it or stop it first"),
		    run->state_dir, pid[0] ? pid : "?");
		close(fd);
		free(path);
		return KU_ERR_STATE;
	}
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, strlen(pid), 0) < 0)
		(void)0;   /* the pid is a courtesy for the message above */
	run->lock_fd = fd;
	free(path);
	return KU_OK;
}

ku_rc
ku_run_saved_answers(const char *state_dir,
    const struct ku_answers_overrides *ov, struct ku_spec **out,
    struct ku_diags *diags)
{
	char *path = ku_path_join(state_dir, "answers.conf");
	ku_rc rc;

	if (!ku_path_exists(path)) {
		ku_diags_add(diags, path, 0, "", _("no saved answers: nothing "
		    "was started in this state directory"));
		free(path);
		return KU_ERR_STATE;
	}
	rc = ku_answers_read_with(path, ov, out, diags);
	free(path);
	return rc;
}

/* With --resume, the answers given must be the ones the run started
 * with. */
static ku_rc
ku_run_compare_saved(struct ku_run *run, const char *saved_path, char **err)
{
	struct ku_spec *saved = NULL;
	struct ku_diags diags = { 0 };
	struct ku_strv keys = { 0 };
	ku_rc rc;

	if (!ku_path_exists(saved_path)) {
		*err = xasprintf(_("%s: nothing to resume: no run was started "
		    "in this state directory"), run->state_dir);
		return KU_ERR_STATE;
	}
	rc = ku_answers_read(saved_path, &saved, &diags);
	if (rc != KU_OK) {
		char *first = diags.n ? ku_diag_format(&diags.v[0]) :
		    xstrdup(ku_strerror(rc));
		*err = xasprintf(_("the saved answers cannot be read: %s"),
		    first);
		free(first);
		goto out;
	}
	ku_spec_diff(saved, run->spec, &keys);
	/* How the engine works (parallelism, retries, on_failure) may change
	 * between runs; what it installs may not. */
	for (size_t i = 0; i < keys.n; ) {
		if (ku_str_has_prefix(keys.v[i], "engine.")) {
			free(keys.v[i]);
			keys.v[i] = keys.v[--keys.n];
			keys.v[keys.n] = NULL;
		} else {
			i++;
		}
	}
	if (keys.n > 0) {
		char *list = ku_strjoin((const char *const *)keys.v, keys.n,
		    ", ");
		*err = xasprintf(_("these answers differ from the ones the run "
		    "started with (%s): %s. Resume without an answers file, "
		    "or start a new run without --resume"), saved_path, list);
		free(list);
		rc = KU_ERR_ANSWERS;
	}
out:
	ku_spec_free(saved);
	ku_diags_free(&diags);
	ku_strv_free(&keys);
	return rc;
}

ku_rc
ku_run_open(const struct ku_spec *spec, const struct ku_run_opts *opts,
    struct ku_run **out, char **err)
{
	struct ku_run *run = xcalloc(1, sizeof *run);
	char *path = NULL, *logs = NULL;
	char stamp[40];
	size_t dropped = 0;
	ku_rc rc;

	*err = NULL;
	run->spec = spec;
	run->opts = *opts;
	run->lock_fd = -1;
	pthread_mutex_init(&run->lock, NULL);
	run->state_dir = opts->state_dir ? xstrdup(opts->state_dir) :
	    ku_state_dir_default(spec->name);

	if (ku_mkdir_p(run->state_dir, 0700) != KU_OK) {
		*err = xasprintf(_("%s: cannot create the state directory: %s"),
		    run->state_dir, strerror(errno));
		rc = KU_ERR_STATE;
		goto fail;
	}
	/* It may hold keys: nobody else reads it. */
	if (chmod(run->state_dir, 0700) != 0) {
		*err = xasprintf(_("%s: cannot make it private: %s"),
		    run->state_dir, strerror(errno));
		rc = KU_ERR_STATE;
		goto fail;
	}
	rc = ku_run_lock(run, err);
	if (rc != KU_OK)
		goto fail;

	path = ku_path_join(run->state_dir, "answers.conf");
	if (opts->resume) {
		rc = ku_run_compare_saved(run, path, err);
		if (rc != KU_OK)
			goto fail;
	} else if (ku_answers_write(spec, path) != KU_OK) {
		*err = xasprintf(_("%s: cannot save the answers: %s"), path,
		    strerror(errno));
		rc = KU_ERR_STATE;
		goto fail;
	}
	free(path);
	path = ku_path_join(run->state_dir, "journal");
	if (ku_journal_open(path, &run->journal, &dropped) != KU_OK) {
		*err = xasprintf(_("%s: cannot open the journal: %s"), path,
		    strerror(errno));
		rc = KU_ERR_JOURNAL;
		goto fail;
	}
	if (opts->resume && ku_journal_runs(run->journal) == 0) {
		*err = xasprintf(_("%s: nothing to resume: the journal records "
		    "no run"), path);
		rc = KU_ERR_STATE;
		goto fail;
	}

	logs = ku_path_join(run->state_dir, "logs");
	if (ku_mkdir_p(logs, 0700) != KU_OK) {
		*err = xasprintf(_("%s: cannot create: %s"), logs,
		    strerror(errno));
		rc = KU_ERR_STATE;
		goto fail;
	}
	ku_format_time(ku_wall_ms(), stamp, sizeof stamp);
	run->log_path = xasprintf("%s/run-%u-%.10s.log", logs,
	    ku_journal_runs(run->journal) + 1, stamp);
	if (ku_log_open(run->log_path, &run->log) != KU_OK) {
		*err = xasprintf(_("%s: cannot open the log: %s"),
		    run->log_path, strerror(errno));
		rc = KU_ERR_STATE;
		goto fail;
	}
	ku_log(run->log, KU_LOG_INFO, NULL, NULL, NULL,
	    "kubeup %s, cluster %s, %s run, state directory %s",
	    PACKAGE_VERSION, spec->name, opts->resume ? "resumed" : "new",
	    run->state_dir);
	if (dropped)
		ku_log(run->log, KU_LOG_WARN, NULL, NULL, NULL,
		    "journal: dropped %zu bytes of an unfinished record",
		    dropped);
	free(path);
	free(logs);
	*out = run;
	return KU_OK;
fail:
	free(path);
	free(logs);
	ku_run_close(run);
	return rc;
}

void
ku_run_close(struct ku_run *run)
{
	if (run == NULL)
		return;
	ku_log_close(run->log);
	ku_journal_close(run->journal);
	if (run->lock_fd >= 0)
		close(run->lock_fd);
	pthread_mutex_destroy(&run->lock);
	free(run->log_path);
	free(run->state_dir);
	free(run);
}

const char *
ku_run_state_dir(const struct ku_run *run)
{
	return run->state_dir;
}

const char *
ku_run_log_path(const struct ku_run *run)
{
	return run->log_path;
}

const struct ku_journal *
ku_run_journal(const struct ku_run *run)
{
	return run->journal;
}

ku_rc
ku_run_execute(struct ku_run *run, const struct ku_frontend *fe,
    struct ku_strv *skipped, struct ku_strv *failed)
{
	const struct ku_spec *spec = run->spec;
	const struct ku_provider *provider = ku_provider_get(spec->provider);
	const struct ku_phase_def *teardown[] = { provider->teardown };
	struct ku_plan *plan = run->opts.teardown ?
	    ku_plan_build_from(spec, teardown, 1) : ku_plan_build(spec);
	struct ku_engine_opts eo = {
		.journal = run->journal,
		.log = run->log,
		.state_dir = run->state_dir,
		.parallelism = spec->parallelism,
		.retries = spec->retries,
		.backoff_ms = spec->retry_backoff_ms,
		.backoff_max_ms = spec->retry_backoff_max_ms,
		.only = run->opts.only,
		.n_only = run->opts.n_only,
		.resume = run->opts.resume,
	};
	/* Phase 2's actions share one PKI context: its algorithms are
	 * fetched and its CAs loaded once per run. */
	struct ku_pki *pki = ku_pki_new(spec, run->state_dir);
	struct ku_render_set files = { 0 };
	struct ku_deploy deploy = {
		.spec = spec,
		.state_dir = run->state_dir,
		.files = &files,
		.pki = pki,
	};
	struct ku_engine *engine;
	char *err = NULL;
	ku_rc rc = KU_OK;

	/* Every file the install places or applies, rendered once, before
	 * anything touches a machine: a template error stops the run here. */
	if (!run->opts.teardown)
		rc = ku_render_all(spec, run->opts.templates_dir, &files, &err);
	if (rc == KU_OK && provider->open) {
		struct ku_provider_env env = {
			.log = run->log,
			.state_dir = run->state_dir,
			.purge = run->opts.purge,
		};
		rc = provider->open(spec, &env, &eo.provider_state, &err);
	}
	eo.user = &deploy;
	if (rc != KU_OK) {
		ku_log(run->log, KU_LOG_ERROR, NULL, NULL, NULL, "%s",
		    err ? err : ku_strerror(rc));
		if (failed)
			ku_strv_push_owned(failed, err ? err :
			    xstrdup(ku_strerror(rc)));
		else
			free(err);
		goto out;
	}
	engine = ku_engine_new(plan, &eo, fe);

	pthread_mutex_lock(&run->lock);
	run->engine = engine;
	if (run->cancel_requested)
		ku_engine_cancel(engine);
	pthread_mutex_unlock(&run->lock);

	rc = ku_engine_run(engine);

	pthread_mutex_lock(&run->lock);
	run->engine = NULL;
	pthread_mutex_unlock(&run->lock);

	/* A down that undid everything: nothing is finished any more, so a
	 * later --resume or --phases cannot believe otherwise. */
	if (rc == KU_OK && run->opts.teardown &&
	    ku_engine_skipped(engine)->n == 0 &&
	    ku_journal_mark(run->journal, "reset", "down") != KU_OK)
		rc = KU_ERR_JOURNAL;
	for (size_t i = 0; skipped && i < ku_engine_skipped(engine)->n; i++)
		ku_strv_push(skipped, ku_engine_skipped(engine)->v[i]);
	for (size_t i = 0; failed && i < ku_engine_failed(engine)->n; i++)
		ku_strv_push(failed, ku_engine_failed(engine)->v[i]);
	ku_engine_free(engine);
out:
	if (provider->close)
		provider->close(eo.provider_state);
	ku_render_set_free(&files);
	ku_pki_free(pki);
	ku_plan_free(plan);
	return rc;
}

void
ku_run_cancel(struct ku_run *run)
{
	pthread_mutex_lock(&run->lock);
	run->cancel_requested = true;
	if (run->engine)
		ku_engine_cancel(run->engine);
	pthread_mutex_unlock(&run->lock);
}
