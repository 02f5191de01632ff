#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "i18n.h"

struct ku_engine;

struct ku_task {
	struct ku_engine *engine;
	const struct ku_plan_phase *phase;
	const struct ku_step *step;
	const struct ku_target *target;
	size_t step_index;
	enum ku_state state;
	bool queued;
	int attempt;
	/* The task it waits for in the step before (-1: every target of the
	 * nearest earlier step that has targets; -2: nothing, first step). */
	long dep;
	/* The task of the next step with targets that waits for this one
	 * alone, or -1. */
	long next;
	ku_rc error;
	char *message;
	uint64_t started_ms;
};

/* Tasks of one step. */
struct ku_step_tasks {
	struct ku_task *tasks;
	size_t n;
	size_t n_finished;   /* done or skipped */
	long prev;           /* nearest earlier step with targets, or -1 */
	long following;      /* nearest later step with targets, or -1 */
};

struct ku_engine {
	const struct ku_plan *plan;
	struct ku_engine_opts opts;
	struct ku_frontend fe;

	pthread_mutex_t lock;
	pthread_cond_t changed;   /* the coordinator: a task ended, cancel */
	pthread_cond_t work;      /* the workers: something to do, or stop */
	pthread_cond_t wake;      /* retry pauses: cancel */
	pthread_t *threads;
	size_t n_threads;

	/* steps[phase][step] */
	struct ku_step_tasks **steps;

	struct ku_task **queue;   /* ready tasks, FIFO ring */
	size_t qhead, qlen, qcap;
	size_t running;
	bool stop_workers;
	bool cancelled;           /* written under lock, read atomically */
	bool aborted;
	ku_rc journal_error;

	struct ku_strv skipped;
	struct ku_strv failed;
};

bool
ku_rc_is_permanent(ku_rc rc)
{
	switch (rc) {
	case KU_ERR_NOT_IMPLEMENTED:
	case KU_ERR_INVALID:
	case KU_ERR_ANSWERS:
	case KU_ERR_HOSTKEY:
	case KU_ERR_HOSTKEY_UNKNOWN:
	case KU_ERR_TLS:
	case KU_ERR_PREREQ:
	case KU_ERR_TEMPLATE:
		return true;
	default:
		return false;
	}
}

/* --- events --- */

static void
ku_event_init(struct ku_event *ev, enum ku_event_type type,
    const struct ku_plan_phase *ph)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->wall_ms = ku_wall_ms();
	if (ph) {
		ev->phase = ph->def->id;
		ev->phase_title = ph->def->title;
	}
}

static void
ku_emit(struct ku_engine *e, const struct ku_event *ev)
{
	if (e->fe.event)
		e->fe.event(e->fe.ud, ev);
}

/* --- the one place where a target changes state ---
 *
 * Called with the lock held. Finished states (done, failed, skipped) are
 * journaled before the event goes out, so a front end never shows what a
 * crash could lose. "running" and "pending" are not journaled: a target not
 * recorded as finished simply runs again on --resume. */
static void
ku_task_set(struct ku_engine *e, struct ku_task *t, enum ku_state st,
    ku_rc err, const char *message, bool journal)
{
	struct ku_event ev;
	const char *ph = t->phase->def->id, *ss = t->step->def->id;
	uint64_t now = ku_now_ms();

	t->state = st;
	t->error = err;
	if (message != t->message) {
		free(t->message);
		t->message = message ? xstrdup(message) : NULL;
	}
	if (journal && e->journal_error == KU_OK) {
		ku_rc rc = ku_journal_record(e->opts.journal, ph, ss,
		    t->target->name, st, err, t->message);
		if (rc != KU_OK) {
			e->journal_error = KU_ERR_JOURNAL;
			e->aborted = true;
			pthread_cond_broadcast(&e->wake);
			ku_log(e->opts.log, KU_LOG_ERROR, ph, ss,
			    t->target->name, "journal write failed: the run "
			    "stops, since it could not be resumed");
		}
	}

	ku_event_init(&ev, KU_EV_TARGET, t->phase);
	ev.substep = ss;
	ev.substep_title = t->step->def->title;
	ev.target = t->target->name;
	ev.state = st;
	ev.attempt = t->attempt;
	ev.error = err;
	ev.message = t->message;
	if (st == KU_STATE_RUNNING && t->attempt <= 1)
		t->started_ms = now;
	if ((st == KU_STATE_DONE || st == KU_STATE_FAILED) && t->started_ms)
		ev.duration_ms = now - t->started_ms;

	switch (st) {
	case KU_STATE_RUNNING:
		ku_log(e->opts.log, KU_LOG_INFO, ph, ss, t->target->name,
		    "running (attempt %d)%s%s", t->attempt,
		    t->message ? ", after: " : "",
		    t->message ? t->message : "");
		break;
	case KU_STATE_DONE:
		ku_log(e->opts.log, KU_LOG_INFO, ph, ss, t->target->name,
		    "done in %llu ms%s%s",
		    (unsigned long long)ev.duration_ms,
		    t->message ? ": " : "", t->message ? t->message : "");
		break;
	case KU_STATE_FAILED:
		ku_log(e->opts.log, KU_LOG_ERROR, ph, ss, t->target->name,
		    "failed (%s): %s", ku_error_id(err),
		    t->message ? t->message : ku_strerror(err));
		break;
	case KU_STATE_SKIPPED:
		ku_log(e->opts.log, KU_LOG_WARN, ph, ss, t->target->name,
		    "skipped%s%s", t->message ? ": " : "",
		    t->message ? t->message : "");
		break;
	default:
		break;
	}
	ku_emit(e, &ev);
}

/* --- scheduling --- */

static void
ku_enqueue(struct ku_engine *e, struct ku_task *t)
{
	if (t->queued || t->state != KU_STATE_PENDING)
		return;
	if (e->qlen == e->qcap) {
		size_t ncap = e->qcap ? e->qcap * 2 : 64;
		struct ku_task **nq = xcalloc(ncap, sizeof *nq);
		for (size_t i = 0; i < e->qlen; i++)
			nq[i] = e->queue[(e->qhead + i) % e->qcap];
		free(e->queue);
		e->queue = nq;
		e->qcap = ncap;
		e->qhead = 0;
	}
	e->queue[(e->qhead + e->qlen) % e->qcap] = t;
	e->qlen++;
	t->queued = true;
	pthread_cond_signal(&e->work);
}

static struct ku_task *
ku_dequeue(struct ku_engine *e)
{
	struct ku_task *t = e->queue[e->qhead];
	e->qhead = (e->qhead + 1) % e->qcap;
	e->qlen--;
	t->queued = false;
	return t;
}

static bool
ku_finished(enum ku_state st)
{
	return st == KU_STATE_DONE || st == KU_STATE_SKIPPED;
}

static size_t
ku_phase_index(const struct ku_engine *e, const struct ku_plan_phase *ph)
{
	return (size_t)(ph - e->plan->phases);
}

static bool
ku_task_ready(const struct ku_engine *e, const struct ku_task *t)
{
	const struct ku_step_tasks *steps = e->steps[ku_phase_index(e, t->phase)];
	const struct ku_step_tasks *st = &steps[t->step_index];

	if (t->dep == -2)
		return true;
	if (t->dep >= 0)
		return ku_finished(steps[st->prev].tasks[t->dep].state);
	return steps[st->prev].n_finished == steps[st->prev].n;
}

/* A task became done or skipped: count it and start what waited for it. */
static void
ku_task_finished(struct ku_engine *e, struct ku_task *t)
{
	struct ku_step_tasks *steps = e->steps[ku_phase_index(e, t->phase)];
	struct ku_step_tasks *st = &steps[t->step_index];
	struct ku_step_tasks *nx;

	st->n_finished++;
	if (st->following < 0)
		return;
	nx = &steps[st->following];
	if (t->next >= 0 && ku_task_ready(e, &nx->tasks[t->next]))
		ku_enqueue(e, &nx->tasks[t->next]);
	if (st->n_finished == st->n)
		for (size_t i = 0; i < nx->n; i++)
			if (nx->tasks[i].dep == -1)
				ku_enqueue(e, &nx->tasks[i]);
}

/* The index of machine m among a step's targets, or -1. */
static long
ku_step_find(const struct ku_step *step, int machine)
{
	for (size_t i = 0; i < step->n_targets; i++)
		if (step->targets[i].machine == machine)
			return (long)i;
	return -1;
}

static void
ku_phase_setup(struct ku_engine *e, size_t p)
{
	const struct ku_plan_phase *ph = &e->plan->phases[p];
	struct ku_step_tasks *steps = xcalloc(ph->n_steps ? ph->n_steps : 1,
	    sizeof *steps);
	long prev = -1;

	for (size_t s = 0; s < ph->n_steps; s++) {
		const struct ku_step *step = &ph->steps[s];
		struct ku_step_tasks *st = &steps[s];

		st->n = step->n_targets;
		st->tasks = xcalloc(st->n ? st->n : 1, sizeof *st->tasks);
		st->prev = prev;
		st->following = -1;
		for (size_t i = 0; i < st->n; i++) {
			struct ku_task *t = &st->tasks[i];
			t->engine = e;
			t->phase = ph;
			t->step = step;
			t->target = &step->targets[i];
			t->step_index = s;
			t->state = KU_STATE_PENDING;
			t->next = -1;
			if (prev < 0) {
				t->dep = -2;
			} else {
				const struct ku_step *ps = &ph->steps[prev];
				t->dep = t->target->machine >= 0 ?
				    ku_step_find(ps, t->target->machine) : -1;
				if (t->dep >= 0)
					steps[prev].tasks[t->dep].next = (long)i;
			}
		}
		if (st->n > 0) {
			if (prev >= 0)
				steps[prev].following = (long)s;
			prev = (long)s;
		}
	}
	e->steps[p] = steps;
}

static bool
ku_phase_selected(const struct ku_engine *e, const char *id)
{
	if (e->opts.only == NULL)
		return true;
	for (size_t i = 0; i < e->opts.n_only; i++)
		if (strcmp(e->opts.only[i], id) == 0)
			return true;
	return false;
}

/* --- workers --- */

static ku_rc
ku_run_action(struct ku_task *t)
{
	ku_rc rc;

	if (t->step->def->run == NULL)
		return ku_task_fail(t, KU_ERR_NOT_IMPLEMENTED,
		    _("%s: not implemented yet in this version of kubeup"),
		    _(t->step->def->title));
	rc = t->step->def->run(t);
	if (rc != KU_OK && t->message == NULL)
		ku_task_fail(t, rc, "%s", ku_strerror(rc));
	return rc;
}

static int
ku_backoff_ms(const struct ku_engine *e, int attempt)
{
	long ms = e->opts.backoff_ms;
	for (int i = 1; i < attempt && ms < e->opts.backoff_max_ms; i++)
		ms *= 2;
	if (ms > e->opts.backoff_max_ms)
		ms = e->opts.backoff_max_ms;
	return (int)ms;
}

/* Waits before a retry; returns early when the run is cancelled. Called
 * with the lock held. */
static void
ku_backoff_wait(struct ku_engine *e, int ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!e->cancelled && !e->aborted)
		if (pthread_cond_timedwait(&e->wake, &e->lock, &ts) ==
		    ETIMEDOUT)
			break;
}

static void
ku_work(struct ku_engine *e, struct ku_task *t)
{
	ku_rc rc;

	t->attempt = 1;
	free(t->message);
	t->message = NULL;
	ku_task_set(e, t, KU_STATE_RUNNING, KU_OK, NULL, false);
	e->running++;
	for (;;) {
		pthread_mutex_unlock(&e->lock);
		rc = ku_run_action(t);
		pthread_mutex_lock(&e->lock);
		if (rc == KU_OK || e->cancelled || e->aborted ||
		    ku_rc_is_permanent(rc) || t->attempt > e->opts.retries)
			break;
		ku_log(e->opts.log, KU_LOG_WARN, t->phase->def->id,
		    t->step->def->id, t->target->name,
		    "attempt %d failed, retrying: %s", t->attempt,
		    t->message ? t->message : ku_strerror(rc));
		ku_backoff_wait(e, ku_backoff_ms(e, t->attempt));
		if (e->cancelled || e->aborted)
			break;
		t->attempt++;
		ku_task_set(e, t, KU_STATE_RUNNING, rc, t->message, false);
		free(t->message);
		t->message = NULL;
	}
	e->running--;
	if (rc == KU_OK) {
		ku_task_set(e, t, KU_STATE_DONE, KU_OK, NULL, true);
		ku_task_finished(e, t);
	} else if (e->cancelled && (rc == KU_ERR_INTERRUPTED ||
	    !ku_rc_is_permanent(rc))) {
		/* Interrupted, not failed: it runs again on --resume. */
		ku_task_set(e, t, KU_STATE_PENDING, KU_ERR_INTERRUPTED,
		    _("interrupted"), false);
	} else {
		ku_task_set(e, t, KU_STATE_FAILED, rc, t->message, true);
	}
	pthread_cond_broadcast(&e->changed);
}

static void *
ku_worker(void *arg)
{
	struct ku_engine *e = arg;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		while (e->qlen == 0 && !e->stop_workers)
			pthread_cond_wait(&e->work, &e->lock);
		if (e->stop_workers)
			break;
		struct ku_task *t = ku_dequeue(e);
		if (e->cancelled || e->aborted)
			continue;   /* never started: stays pending */
		ku_work(e, t);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* --- the coordinator --- */

/* The first step of the phase with failed targets and nothing running or
 * queued in it or before it, or -1. */
static long
ku_step_to_ask(const struct ku_engine *e, size_t p)
{
	const struct ku_plan_phase *ph = &e->plan->phases[p];

	for (size_t s = 0; s < ph->n_steps; s++) {
		const struct ku_step_tasks *st = &e->steps[p][s];
		bool failed = false;
		for (size_t i = 0; i < st->n; i++) {
			if (st->tasks[i].state == KU_STATE_RUNNING ||
			    st->tasks[i].queued)
				return -1;
			if (st->tasks[i].state == KU_STATE_FAILED)
				failed = true;
		}
		if (failed)
			return (long)s;
	}
	return -1;
}

static bool
ku_phase_complete(const struct ku_engine *e, size_t p)
{
	const struct ku_plan_phase *ph = &e->plan->phases[p];
	for (size_t s = 0; s < ph->n_steps; s++)
		if (e->steps[p][s].n_finished != e->steps[p][s].n)
			return false;
	return true;
}

/* Asks the front end about a step's failed targets and applies the answer.
 * Called with the lock held; releases it while the front end decides. */
static void
ku_ask(struct ku_engine *e, size_t p, size_t s)
{
	const struct ku_plan_phase *ph = &e->plan->phases[p];
	struct ku_step_tasks *st = &e->steps[p][s];
	struct ku_task **failed = xcalloc(st->n, sizeof *failed);
	const char **names = xcalloc(st->n, sizeof *names);
	const char **msgs = xcalloc(st->n, sizeof *msgs);
	struct ku_pause pause = {
		.phase = ph->def->id,
		.phase_title = ph->def->title,
		.substep = ph->steps[s].def->id,
		.substep_title = ph->steps[s].def->title,
	};
	struct ku_event ev;
	enum ku_decision d;

	for (size_t i = 0; i < st->n; i++) {
		if (st->tasks[i].state != KU_STATE_FAILED)
			continue;
		failed[pause.n_failed] = &st->tasks[i];
		names[pause.n_failed] = st->tasks[i].target->name;
		msgs[pause.n_failed] = st->tasks[i].message ?
		    st->tasks[i].message : "";
		pause.n_failed++;
	}
	pause.targets = names;
	pause.messages = msgs;

	ku_event_init(&ev, KU_EV_PAUSED, ph);
	ev.substep = pause.substep;
	ev.substep_title = pause.substep_title;
	ev.n_failed = pause.n_failed;
	ku_emit(e, &ev);
	ku_log(e->opts.log, KU_LOG_WARN, ph->def->id, pause.substep, NULL,
	    "paused: %zu target(s) still failing", pause.n_failed);

	/* Other targets go on working while the front end decides. The
	 * failed tasks cannot change meanwhile: only this thread touches
	 * failed tasks. */
	pthread_mutex_unlock(&e->lock);
	d = e->fe.decide ? e->fe.decide(e->fe.ud, &pause) : KU_DECIDE_ABORT;
	pthread_mutex_lock(&e->lock);

	ku_event_init(&ev, KU_EV_DECIDED, ph);
	ev.substep = pause.substep;
	ev.substep_title = pause.substep_title;
	ev.message = ku_decision_name(d);
	ku_emit(e, &ev);
	ku_log(e->opts.log, KU_LOG_INFO, ph->def->id, pause.substep, NULL,
	    "decision: %s", ku_decision_name(d));

	for (size_t i = 0; i < pause.n_failed; i++) {
		struct ku_task *t = failed[i];
		switch (d) {
		case KU_DECIDE_RETRY:
			t->attempt = 0;
			ku_task_set(e, t, KU_STATE_PENDING, KU_OK, NULL, false);
			ku_enqueue(e, t);
			break;
		case KU_DECIDE_SKIP:
			ku_task_set(e, t, KU_STATE_SKIPPED, t->error,
			    t->message, true);
			ku_task_finished(e, t);
			break;
		case KU_DECIDE_ABORT:
			e->aborted = true;
			/* Targets pausing before a retry stop now. */
			pthread_cond_broadcast(&e->wake);
			break;
		}
	}
	free(failed);
	free(names);
	free(msgs);
}

/* Runs one phase to its barrier. Called with the lock held. */
static ku_rc
ku_run_phase(struct ku_engine *e, size_t p)
{
	const struct ku_plan_phase *ph = &e->plan->phases[p];
	uint64_t start = ku_now_ms();
	struct ku_event ev;
	ku_rc rc = KU_OK;

	ku_event_init(&ev, KU_EV_PHASE_START, ph);
	ku_emit(e, &ev);
	ku_log(e->opts.log, KU_LOG_INFO, ph->def->id, NULL, NULL,
	    "phase %s started: %s", ph->def->id, ph->def->title);

	/* What an earlier run finished stays finished on --resume. */
	for (size_t s = 0; s < ph->n_steps; s++) {
		struct ku_step_tasks *st = &e->steps[p][s];
		for (size_t i = 0; e->opts.resume && i < st->n; i++) {
			struct ku_task *t = &st->tasks[i];
			enum ku_state js = ku_journal_state(e->opts.journal,
			    ph->def->id, ph->steps[s].def->id, t->target->name);
			if (!ku_finished(js))
				continue;
			ku_task_set(e, t, js, KU_OK, js == KU_STATE_DONE ?
			    _("finished in an earlier run") :
			    _("skipped in an earlier run; a run without "
			    "--resume tries it again"), false);
			st->n_finished++;
		}
	}
	for (size_t s = 0; s < ph->n_steps; s++)
		for (size_t i = 0; i < e->steps[p][s].n; i++)
			if (ku_task_ready(e, &e->steps[p][s].tasks[i]))
				ku_enqueue(e, &e->steps[p][s].tasks[i]);

	for (;;) {
		long ask;

		if (e->cancelled || e->aborted) {
			while (e->running > 0)
				pthread_cond_wait(&e->changed, &e->lock);
			rc = e->journal_error ? e->journal_error :
			    e->cancelled ? KU_ERR_INTERRUPTED : KU_ERR_ABORTED;
			break;
		}
		if (ku_phase_complete(e, p))
			break;
		ask = ku_step_to_ask(e, p);
		if (ask >= 0) {
			ku_ask(e, p, (size_t)ask);
			continue;
		}
		if (e->running == 0 && e->qlen == 0) {
			/* Nothing can move any more: a bug, never a hang. */
			ku_log(e->opts.log, KU_LOG_ERROR, ph->def->id, NULL,
			    NULL, "internal error: phase stalled");
			rc = KU_ERR_STATE;
			break;
		}
		pthread_cond_wait(&e->changed, &e->lock);
	}
	/* Tasks queued but never started stay pending. */
	while (e->qlen > 0)
		ku_dequeue(e);

	if (rc == KU_OK && ku_journal_mark_phase(e->opts.journal,
	    ph->def->id, KU_STATE_DONE) != KU_OK)
		rc = KU_ERR_JOURNAL;
	ku_event_init(&ev, KU_EV_PHASE_END, ph);
	ev.state = rc == KU_OK ? KU_STATE_DONE : KU_STATE_FAILED;
	ev.error = rc;
	ev.duration_ms = ku_now_ms() - start;
	ku_emit(e, &ev);
	ku_log(e->opts.log, rc ? KU_LOG_ERROR : KU_LOG_INFO, ph->def->id,
	    NULL, NULL, "phase %s %s after %llu ms", ph->def->id,
	    rc ? "stopped" : "done", (unsigned long long)ev.duration_ms);
	return rc;
}

/* Every phase the selected ones require that does not run now must be
 * finished in the journal. */
static ku_rc
ku_check_prerequisites(struct ku_engine *e, char **why)
{
	struct ku_buf msg;

	ku_buf_init(&msg, 0);
	for (size_t p = 0; p < e->plan->n_phases; p++) {
		const struct ku_phase_def *def = e->plan->phases[p].def;
		if (!ku_phase_selected(e, def->id))
			continue;
		for (size_t r = 0; r < def->n_requires; r++) {
			const char *req = def->requires[r];
			if (ku_phase_selected(e, req) ||
			    ku_journal_phase_done(e->opts.journal, req))
				continue;
			if (msg.len)
				ku_buf_adds(&msg, "; ");
			ku_buf_printf(&msg, _("phase %s needs phase %s, which "
			    "has not finished in this state directory (run "
			    "it too: --phases %s,%s)"), def->id, req, req,
			    def->id);
		}
	}
	if (msg.len == 0) {
		ku_buf_free(&msg);
		return KU_OK;
	}
	*why = ku_buf_steal(&msg);
	return KU_ERR_PREREQ;
}

struct ku_engine *
ku_engine_new(const struct ku_plan *plan, const struct ku_engine_opts *opts,
    const struct ku_frontend *fe)
{
	struct ku_engine *e = xcalloc(1, sizeof *e);
	pthread_condattr_t ca;

	e->plan = plan;
	e->opts = *opts;
	if (e->opts.parallelism < 1)
		e->opts.parallelism = 1;
	if (e->opts.retries < 0)
		e->opts.retries = 0;
	if (e->opts.backoff_max_ms < e->opts.backoff_ms)
		e->opts.backoff_max_ms = e->opts.backoff_ms;
	if (fe)
		e->fe = *fe;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->changed, NULL);
	pthread_cond_init(&e->work, NULL);
	pthread_cond_init(&e->wake, &ca);
	pthread_condattr_destroy(&ca);
	e->steps = xcalloc(plan->n_phases ? plan->n_phases : 1,
	    sizeof *e->steps);
	for (size_t p = 0; p < plan->n_phases; p++)
		ku_phase_setup(e, p);
	return e;
}

static void
ku_collect(struct ku_engine *e, struct ku_event *end)
{
	for (size_t p = 0; p < e->plan->n_phases; p++) {
		const struct ku_plan_phase *ph = &e->plan->phases[p];
		if (!ku_phase_selected(e, ph->def->id))
			continue;
		for (size_t s = 0; s < ph->n_steps; s++) {
			for (size_t i = 0; i < e->steps[p][s].n; i++) {
				struct ku_task *t = &e->steps[p][s].tasks[i];
				/* TRANSLATORS: phase/substep on a
				   machine, in the run's summary. */
				char *what = xasprintf(_("%s/%s on %s"),
				    ph->def->id, ph->steps[s].def->id,
				    t->target->name);
				end->n_total++;
				if (t->state == KU_STATE_DONE) {
					end->n_done++;
					free(what);
				} else if (t->state == KU_STATE_SKIPPED) {
					end->n_skipped++;
					ku_strv_push_owned(&e->skipped, what);
				} else if (t->state == KU_STATE_FAILED) {
					end->n_failed++;
					ku_strv_push_owned(&e->failed, what);
				} else {
					free(what);
				}
			}
		}
	}
}

ku_rc
ku_engine_run(struct ku_engine *e)
{
	struct ku_event ev;
	char *why = NULL;
	uint64_t start = ku_now_ms();
	size_t most = 1;
	ku_rc rc;

	pthread_mutex_lock(&e->lock);
	ku_event_init(&ev, KU_EV_RUN_START, NULL);
	ku_emit(e, &ev);
	rc = ku_check_prerequisites(e, &why);
	if (rc == KU_OK)
		rc = ku_journal_mark(e->opts.journal, "run-start", NULL) ?
		    KU_ERR_JOURNAL : KU_OK;
	/* A run without --resume does its phases again: what earlier runs
	 * recorded for them no longer counts. Otherwise a --resume after
	 * this run stops would take what it did not reach as finished,
	 * though what that depends on was done again (a new test pod, say),
	 * down to whole phases after the one it stopped in. */
	for (size_t p = 0; rc == KU_OK && !e->opts.resume &&
	    p < e->plan->n_phases; p++)
		if (ku_phase_selected(e, e->plan->phases[p].def->id) &&
		    ku_journal_mark(e->opts.journal, "redo",
		    e->plan->phases[p].def->id) != KU_OK)
			rc = KU_ERR_JOURNAL;
	if (rc == KU_OK) {
		/* No more threads than targets in the widest step. */
		for (size_t p = 0; p < e->plan->n_phases; p++)
			for (size_t s = 0; s < e->plan->phases[p].n_steps; s++)
				if (e->steps[p][s].n > most)
					most = e->steps[p][s].n;
		e->n_threads = (size_t)e->opts.parallelism < most ?
		    (size_t)e->opts.parallelism : most;
		e->threads = xcalloc(e->n_threads, sizeof *e->threads);
		for (size_t i = 0; i < e->n_threads; i++) {
			if (pthread_create(&e->threads[i], NULL, ku_worker,
			    e) != 0) {
				e->n_threads = i;
				break;
			}
		}
		if (e->n_threads == 0)
			rc = KU_ERR_NOMEM;
	}
	for (size_t p = 0; rc == KU_OK && p < e->plan->n_phases; p++) {
		if (!ku_phase_selected(e, e->plan->phases[p].def->id))
			continue;
		if (e->cancelled) {
			rc = KU_ERR_INTERRUPTED;
			break;
		}
		rc = ku_run_phase(e, p);
	}
	e->stop_workers = true;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < e->n_threads; i++)
		pthread_join(e->threads[i], NULL);

	pthread_mutex_lock(&e->lock);
	if (rc != KU_ERR_PREREQ)
		(void)ku_journal_mark(e->opts.journal, "run-end",
		    ku_error_id(rc));
	ku_event_init(&ev, KU_EV_RUN_END, NULL);
	ev.error = rc;
	ev.message = why;
	ev.duration_ms = ku_now_ms() - start;
	ku_collect(e, &ev);
	ku_emit(e, &ev);
	ku_log(e->opts.log, rc ? KU_LOG_ERROR : KU_LOG_INFO, NULL, NULL, NULL,
	    "run ended: %s%s%s", ku_error_id(rc), why ? ": " : "",
	    why ? why : "");
	pthread_mutex_unlock(&e->lock);
	free(why);
	return rc;
}

void
ku_engine_cancel(struct ku_engine *e)
{
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->cancelled, true, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&e->changed);
	pthread_cond_broadcast(&e->wake);
	pthread_mutex_unlock(&e->lock);
}

void
ku_engine_free(struct ku_engine *e)
{
	if (e == NULL)
		return;
	for (size_t p = 0; p < e->plan->n_phases; p++) {
		for (size_t s = 0; s < e->plan->phases[p].n_steps; s++) {
			struct ku_step_tasks *st = &e->steps[p][s];
			for (size_t i = 0; i < st->n; i++)
				free(st->tasks[i].message);
			free(st->tasks);
		}
		free(e->steps[p]);
	}
	free(e->steps);
	free(e->queue);
	free(e->threads);
	ku_strv_free(&e->skipped);
	ku_strv_free(&e->failed);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->changed);
	pthread_cond_destroy(&e->work);
	pthread_cond_destroy(&e->wake);
	free(e);
}

const struct ku_strv *
ku_engine_skipped(const struct ku_engine *e)
{
	return &e->skipped;
}

const struct ku_strv *
ku_engine_failed(const struct ku_engine *e)
{
	return &e->failed;
}

/* --- the task API --- */

const struct ku_spec *
ku_task_spec(const struct ku_task *t)
{
	return t->engine->plan->spec;
}

const struct ku_machine *
ku_task_machine(const struct ku_task *t)
{
	if (t->target->machine < 0)
		return NULL;
	return ku_spec_machine(t->engine->plan->spec,
	    (size_t)t->target->machine);
}

const char *
ku_task_target(const struct ku_task *t)
{
	return t->target->name;
}

const char *
ku_task_phase(const struct ku_task *t)
{
	return t->phase->def->id;
}

const char *
ku_task_substep(const struct ku_task *t)
{
	return t->step->def->id;
}

const char *
ku_task_state_dir(const struct ku_task *t)
{
	return t->engine->opts.state_dir;
}

int
ku_task_attempt(const struct ku_task *t)
{
	return t->attempt;
}

void *
ku_task_user(const struct ku_task *t)
{
	return t->engine->opts.user;
}

void *
ku_task_provider_state(const struct ku_task *t)
{
	return t->engine->opts.provider_state;
}

bool
ku_task_cancelled(const struct ku_task *t)
{
	return __atomic_load_n(&t->engine->cancelled, __ATOMIC_SEQ_CST);
}

void
ku_task_log(struct ku_task *t, enum ku_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ku_logv(t->engine->opts.log, level, t->phase->def->id,
	    t->step->def->id, t->target->name, fmt, ap);
	va_end(ap);
}

ku_rc
ku_task_fail(struct ku_task *t, ku_rc rc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* Only the worker running the task touches its message while it
	 * runs. */
	free(t->message);
	t->message = msg;
	t->error = rc;
	return rc;
}
