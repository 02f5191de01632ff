/* Unit tests of src/engine.c: the phase engine driven by plans built from
 * phase definitions written here, whose actions read what to do from the
 * test's context (ku_task_user()), and by a front end that records every
 * event and answers decide() from a script.
 *
 * Every wait has a deadline; the engine itself runs in a thread of its own
 * so that a stalled engine fails the test instead of hanging it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "journal.h"
#include "log.h"
#include "plan.h"
#include "testlib.h"

#define MAX_EVENTS 8192
#define MAX_RECS 512
#define MAX_DECISIONS 16
#define WAIT_MS (TL_DEADLINE_S * 1000L)

/* --- what the front end saw --- */

struct evrec {
	enum ku_event_type type;
	char phase[16];
	char substep[32];
	char target[32];
	enum ku_state state;
	int attempt;
	ku_rc error;
	char message[512];
	size_t n_done, n_failed, n_skipped, n_total;
	uint64_t mono_ms;
	unsigned long seq;
};

struct pauserec {
	char phase[16];
	char substep[32];
	size_t n_failed;
	char targets[256];     /* "node-1,node-3" */
	char messages[1024];   /* joined with " | " */
};

/* --- what the actions did, per phase/substep/target --- */

struct callrec {
	char phase[16];
	char substep[32];
	char target[32];
	int calls;
	int last_attempt;
	unsigned long first_start;   /* sequence numbers */
	unsigned long last_start;
	unsigned long last_end;
	bool saw_cancel;
};

/* How an action behaves for the targets it matches (NULL: any). */
struct rule {
	const char *phase;
	const char *substep;
	const char *target;
	int fail_times;      /* fail the first N calls; -1: every call */
	ku_rc rc;            /* the failure (KU_OK: KU_ERR_REMOTE) */
	int sleep_ms;        /* before answering; never asserted on */
	size_t message_len;  /* > 0: a failure message this long */
};

struct tctx;
typedef enum ku_decision (*decide_hook_fn)(struct tctx *c,
    const struct ku_pause *pause);

struct tctx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long seq;       /* orders action starts/ends and events */

	const struct rule *rules;
	size_t n_rules;
	struct callrec recs[MAX_RECS];
	size_t n_recs;
	int running, max_running;
	int accessor_errors;
	bool timed_out;          /* a wait in an action or decide() expired */
	bool overflow;
	const struct ku_spec *spec;
	const char *state_dir;

	/* act_gate: waves of gate_p actions held until all are inside. */
	int gate_p, gate_total, gate_arrivals;
	int gate_wave[256];

	/* act_block: held until cancel_called. */
	int block_running;
	bool cancel_called;

	/* independence: nodes' later substeps wait until decide() has been
	 * called (stays true once it has). */
	bool in_decide;
	bool others_done_in_decide;

	/* The read end of the FIFO the engine's log goes to, or -1. */
	int log_fd;
	bool saw_log_line;

	struct evrec *evs;
	size_t n_evs;

	enum ku_decision script[MAX_DECISIONS];
	size_t n_script;
	size_t n_decide;
	struct pauserec pauses[MAX_DECISIONS];
	decide_hook_fn decide_hook;
};

static void
copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void
ctx_init(struct tctx *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	tl_cond_init(&c->cv);
	c->evs = xcalloc(MAX_EVENTS, sizeof *c->evs);
	c->log_fd = -1;
}

/* Forgets what was seen and done (between two runs); keeps nothing of
 * the script either. */
static void
ctx_clear(struct tctx *c)
{
	memset(c->recs, 0, sizeof c->recs);
	c->n_recs = 0;
	c->n_evs = 0;
	c->n_decide = 0;
	c->n_script = 0;
	c->running = c->max_running = 0;
	c->rules = NULL;
	c->n_rules = 0;
	c->decide_hook = NULL;
}

static void
ctx_free(struct tctx *c)
{
	free(c->evs);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
}

/* Called with c->mu held. */
static struct callrec *
rec_get(struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	for (size_t i = 0; i < c->n_recs; i++) {
		struct callrec *r = &c->recs[i];
		if (strcmp(r->phase, phase) == 0 &&
		    strcmp(r->substep, substep) == 0 &&
		    strcmp(r->target, target) == 0)
			return r;
	}
	if (c->n_recs == MAX_RECS) {
		c->overflow = true;
		return &c->recs[MAX_RECS - 1];
	}
	struct callrec *r = &c->recs[c->n_recs++];
	copy_str(r->phase, sizeof r->phase, phase);
	copy_str(r->substep, sizeof r->substep, substep);
	copy_str(r->target, sizeof r->target, target);
	return r;
}

static const struct rule *
rule_find(const struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rule *r = &c->rules[i];
		if ((r->phase == NULL || strcmp(r->phase, phase) == 0) &&
		    (r->substep == NULL || strcmp(r->substep, substep) == 0) &&
		    (r->target == NULL || strcmp(r->target, target) == 0))
			return r;
	}
	return NULL;
}

/* The task's accessors agree with the plan and the options. */
static bool
accessors_ok(struct tctx *c, struct ku_task *t)
{
	const struct ku_machine *m = ku_task_machine(t);
	const char *target = ku_task_target(t);

	if (ku_task_spec(t) != c->spec || ku_task_phase(t) == NULL ||
	    ku_task_substep(t) == NULL || target == NULL ||
	    ku_task_attempt(t) < 1)
		return false;
	if (!ku_streq(ku_task_state_dir(t), c->state_dir))
		return false;
	if (m == NULL)
		return strcmp(target, "cluster") == 0;
	return strcmp(m->name, target) == 0;
}

/* Records the start of an action; returns its call number (1 first). */
static int
action_begin(struct tctx *c, struct ku_task *t, struct callrec **out)
{
	struct callrec *r;
	int n;

	pthread_mutex_lock(&c->mu);
	r = rec_get(c, ku_task_phase(t), ku_task_substep(t),
	    ku_task_target(t));
	n = ++r->calls;
	r->last_attempt = ku_task_attempt(t);
	r->last_start = ++c->seq;
	if (r->first_start == 0)
		r->first_start = r->last_start;
	if (++c->running > c->max_running)
		c->max_running = c->running;
	if (!accessors_ok(c, t))
		c->accessor_errors++;
	pthread_mutex_unlock(&c->mu);
	*out = r;
	return n;
}

static void
action_end(struct tctx *c, struct callrec *r)
{
	pthread_mutex_lock(&c->mu);
	r->last_end = ++c->seq;
	c->running--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* The action of most substeps: what the rules say. */
static ku_rc
act_generic(struct ku_task *t)
{
	struct tctx *c = ku_task_user(t);
	const struct rule *rule;
	struct callrec *r;
	int n = action_begin(c, t, &r);
	bool fail;

	rule = rule_find(c, ku_task_phase(t), ku_task_substep(t),
	    ku_task_target(t));
	if (rule && rule->sleep_ms > 0)
		tl_sleep_ms(rule->sleep_ms);
	fail = rule && (rule->fail_times < 0 || n <= rule->fail_times);
	action_end(c, r);
	if (!fail)
		return KU_OK;
	if (rule->message_len > 0) {
		char *msg = xmalloc(rule->message_len + 1);
		ku_rc rc;
		memset(msg, 'e', rule->message_len);
		msg[rule->message_len] = '\0';
		rc = ku_task_fail(t, rule->rc ? rule->rc : KU_ERR_REMOTE,
		    "%s", msg);
		free(msg);
		return rc;
	}
	return ku_task_fail(t, rule->rc ? rule->rc : KU_ERR_REMOTE,
	    "%s: scripted failure %d of %s", ku_task_target(t), n,
	    ku_task_substep(t));
}

/* Held until gate_p actions are inside at once (or every one of
 * gate_total has started): overlap is certain, not a matter of timing. */
static ku_rc
act_gate(struct ku_task *t)
{
	struct tctx *c = ku_task_user(t);
	struct timespec dl = tl_deadline_ms(WAIT_MS);
	struct callrec *r;
	int wave;

	action_begin(c, t, &r);
	pthread_mutex_lock(&c->mu);
	wave = c->gate_arrivals++ / c->gate_p;
	if (wave < (int)KU_ARRAY_LEN(c->gate_wave))
		c->gate_wave[wave]++;
	pthread_cond_broadcast(&c->cv);
	while (c->gate_wave[wave] < c->gate_p &&
	    c->gate_arrivals < c->gate_total) {
		if (!tl_cond_wait_until(&c->cv, &c->mu, &dl)) {
			c->timed_out = true;
			break;
		}
	}
	/* The first wave stays a little longer: an engine running more
	 * than gate_p at once would start one more meanwhile. A correct
	 * one cannot, so the result never depends on this pause. */
	if (wave == 0) {
		struct timespec hold = tl_deadline_ms(100);
		while (c->running <= c->gate_p)
			if (!tl_cond_wait_until(&c->cv, &c->mu, &hold))
				break;
	}
	pthread_mutex_unlock(&c->mu);
	action_end(c, r);
	return KU_OK;
}

/* Held until the test has called ku_engine_cancel(); reports what
 * ku_task_cancelled() says then. */
static ku_rc
act_block(struct ku_task *t)
{
	struct tctx *c = ku_task_user(t);
	struct timespec dl = tl_deadline_ms(WAIT_MS);
	struct callrec *r;
	bool seen;

	action_begin(c, t, &r);
	pthread_mutex_lock(&c->mu);
	c->block_running++;
	pthread_cond_broadcast(&c->cv);
	while (!c->cancel_called) {
		if (!tl_cond_wait_until(&c->cv, &c->mu, &dl)) {
			c->timed_out = true;
			break;
		}
	}
	seen = ku_task_cancelled(t);
	r->saw_cancel = seen;
	pthread_mutex_unlock(&c->mu);
	action_end(c, r);
	return ku_task_fail(t, KU_ERR_INTERRUPTED, "stopped: %s",
	    seen ? "cancelled" : "NOT cancelled");
}

/* Held until decide() has been entered. */
static ku_rc
act_after_decide(struct ku_task *t)
{
	struct tctx *c = ku_task_user(t);
	struct timespec dl = tl_deadline_ms(WAIT_MS);

	if (strcmp(ku_task_target(t), "node-1") != 0) {
		pthread_mutex_lock(&c->mu);
		while (!c->in_decide) {
			if (!tl_cond_wait_until(&c->cv, &c->mu, &dl)) {
				c->timed_out = true;
				break;
			}
		}
		pthread_mutex_unlock(&c->mu);
	}
	return act_generic(t);
}

/* --- the front end --- */

static void
fe_event(void *ud, const struct ku_event *ev)
{
	struct tctx *c = ud;
	struct evrec *e;

	pthread_mutex_lock(&c->mu);
	if (c->n_evs == MAX_EVENTS) {
		c->overflow = true;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	e = &c->evs[c->n_evs++];
	memset(e, 0, sizeof *e);
	e->type = ev->type;
	copy_str(e->phase, sizeof e->phase, ev->phase);
	copy_str(e->substep, sizeof e->substep, ev->substep);
	copy_str(e->target, sizeof e->target, ev->target);
	e->state = ev->state;
	e->attempt = ev->attempt;
	e->error = ev->error;
	copy_str(e->message, sizeof e->message, ev->message);
	e->n_done = ev->n_done;
	e->n_failed = ev->n_failed;
	e->n_skipped = ev->n_skipped;
	e->n_total = ev->n_total;
	e->mono_ms = ku_now_ms();
	e->seq = ++c->seq;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static enum ku_decision
fe_decide(void *ud, const struct ku_pause *pause)
{
	struct tctx *c = ud;
	enum ku_decision d = KU_DECIDE_ABORT;
	size_t i;

	pthread_mutex_lock(&c->mu);
	i = c->n_decide++;
	if (i < MAX_DECISIONS) {
		struct pauserec *p = &c->pauses[i];
		struct ku_buf t, m;
		copy_str(p->phase, sizeof p->phase, pause->phase);
		copy_str(p->substep, sizeof p->substep, pause->substep);
		p->n_failed = pause->n_failed;
		ku_buf_init(&t, sizeof p->targets - 1);
		ku_buf_init(&m, sizeof p->messages - 1);
		for (size_t k = 0; k < pause->n_failed; k++) {
			ku_buf_printf(&t, "%s%s", k ? "," : "",
			    pause->targets[k]);
			ku_buf_printf(&m, "%s%s", k ? " | " : "",
			    pause->messages[k]);
		}
		copy_str(p->targets, sizeof p->targets, t.data);
		copy_str(p->messages, sizeof p->messages, m.data);
		ku_buf_free(&t);
		ku_buf_free(&m);
	}
	c->in_decide = true;
	pthread_cond_broadcast(&c->cv);
	if (c->decide_hook)
		d = c->decide_hook(c, pause);
	else if (i < c->n_script)
		d = c->script[i];
	pthread_mutex_unlock(&c->mu);
	return d;
}

/* --- queries (after the run) --- */

static const struct callrec *
rec_find(const struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	for (size_t i = 0; i < c->n_recs; i++) {
		const struct callrec *r = &c->recs[i];
		if (strcmp(r->phase, phase) == 0 &&
		    strcmp(r->substep, substep) == 0 &&
		    strcmp(r->target, target) == 0)
			return r;
	}
	return NULL;
}

static int
calls(const struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	const struct callrec *r = rec_find(c, phase, substep, target);
	return r ? r->calls : 0;
}

/* Calls of every target of a phase (substep NULL: any substep). */
static int
calls_in(const struct tctx *c, const char *phase, const char *substep)
{
	int n = 0;
	for (size_t i = 0; i < c->n_recs; i++)
		if (strcmp(c->recs[i].phase, phase) == 0 &&
		    (substep == NULL ||
		    strcmp(c->recs[i].substep, substep) == 0))
			n += c->recs[i].calls;
	return n;
}

static bool
ev_match(const struct evrec *e, enum ku_event_type type, const char *phase,
    const char *substep, const char *target)
{
	return e->type == type &&
	    (phase == NULL || strcmp(e->phase, phase) == 0) &&
	    (substep == NULL || strcmp(e->substep, substep) == 0) &&
	    (target == NULL || strcmp(e->target, target) == 0);
}

static size_t
count_target_events(const struct tctx *c, const char *phase,
    const char *substep, const char *target, enum ku_state state)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_evs; i++)
		if (ev_match(&c->evs[i], KU_EV_TARGET, phase, substep,
		    target) && c->evs[i].state == state)
			n++;
	return n;
}

static size_t
count_events(const struct tctx *c, enum ku_event_type type,
    const char *phase)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_evs; i++)
		if (ev_match(&c->evs[i], type, phase, NULL, NULL))
			n++;
	return n;
}

static const struct evrec *
last_event(const struct tctx *c, enum ku_event_type type)
{
	for (size_t i = c->n_evs; i-- > 0;)
		if (c->evs[i].type == type)
			return &c->evs[i];
	return NULL;
}

static const struct evrec *
run_end(const struct tctx *c)
{
	const struct evrec *e = last_event(c, KU_EV_RUN_END);
	assert_non_null(e);
	/* The last event of a run. */
	assert_ptr_equal(e, &c->evs[c->n_evs - 1]);
	return e;
}

/* --- running the engine with a deadline --- */

struct runner {
	pthread_t th;
	struct ku_engine *engine;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	ku_rc rc;
};

static void *
runner_main(void *arg)
{
	struct runner *r = arg;
	ku_rc rc = ku_engine_run(r->engine);

	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void
runner_start(struct runner *r, struct ku_engine *engine)
{
	memset(r, 0, sizeof *r);
	r->engine = engine;
	pthread_mutex_init(&r->mu, NULL);
	tl_cond_init(&r->cv);
	if (pthread_create(&r->th, NULL, runner_main, r) != 0)
		fail_msg("pthread_create failed");
}

/* The run's result; fails the test when the engine did not finish in
 * time (after cancelling it, so that nothing is left running). */
static ku_rc
runner_wait(struct runner *r, long ms)
{
	struct timespec dl = tl_deadline_ms(ms);
	bool stalled = false;
	ku_rc rc;

	pthread_mutex_lock(&r->mu);
	while (!r->done)
		if (!tl_cond_wait_until(&r->cv, &r->mu, &dl))
			break;
	if (!r->done) {
		stalled = true;
		pthread_mutex_unlock(&r->mu);
		ku_engine_cancel(r->engine);
		pthread_mutex_lock(&r->mu);
		dl = tl_deadline_ms(5000);
		while (!r->done)
			if (!tl_cond_wait_until(&r->cv, &r->mu, &dl))
				break;
		if (!r->done) {
			print_error("engine stalled and did not stop when "
			    "cancelled: giving up\n");
			abort();
		}
	}
	rc = r->rc;
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	if (stalled)
		fail_msg("the engine stalled: no result within %ld ms", ms);
	return rc;
}

/* --- the fixture --- */

struct fx {
	char *dir;
	char *jpath;
	struct ku_spec *spec;
	struct ku_journal *journal;
	struct ku_plan *plan;
	struct ku_engine *engine;
	struct ku_log *log;
	struct ku_engine_opts opts;
	struct ku_frontend fe;
	struct tctx c;
	bool ctx_ready;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	f->dir = tl_mkdtemp("engine");
	f->jpath = ku_path_join(f->dir, "journal");
	ctx_init(&f->c);
	f->ctx_ready = true;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ku_engine_free(f->engine);
	ku_plan_free(f->plan);
	ku_journal_close(f->journal);
	ku_spec_free(f->spec);
	/* The writer first: a FIFO without a reader would raise SIGPIPE. */
	ku_log_close(f->log);
	if (f->c.log_fd >= 0)
		close(f->c.log_fd);
	if (f->ctx_ready)
		ctx_free(&f->c);
	tl_rmtree(f->dir);
	free(f->dir);
	free(f->jpath);
	free(f);
	return 0;
}

/* A spec with n nodes, the plan of the given phases, a fresh journal and
 * the default options: parallelism 4, no retries, no backoff. */
static void
fx_start(struct fx *f, size_t n_nodes, const struct ku_phase_def *const *phases,
    size_t n_phases)
{
	size_t dropped = 0;

	f->spec = tl_spec(n_nodes);
	f->plan = ku_plan_build_from(f->spec, phases, n_phases);
	assert_non_null(f->plan);
	assert_int_equal(ku_journal_open(f->jpath, &f->journal, &dropped),
	    KU_OK);
	memset(&f->opts, 0, sizeof f->opts);
	f->opts.journal = f->journal;
	f->opts.state_dir = f->dir;
	f->opts.parallelism = 4;
	f->opts.retries = 0;
	f->opts.backoff_ms = 0;
	f->opts.backoff_max_ms = 0;
	f->opts.user = &f->c;
	f->fe.event = fe_event;
	f->fe.decide = fe_decide;
	f->fe.ud = &f->c;
	f->c.spec = f->spec;
	f->c.state_dir = f->dir;
}

static void
fx_rules(struct fx *f, const struct rule *rules, size_t n)
{
	f->c.rules = rules;
	f->c.n_rules = n;
}

static void
fx_script(struct fx *f, size_t n, const enum ku_decision *d)
{
	assert_true(n <= MAX_DECISIONS);
	memcpy(f->c.script, d, n * sizeof *d);
	f->c.n_script = n;
}

static void
fx_new_engine(struct fx *f)
{
	ku_engine_free(f->engine);
	f->opts.journal = f->journal;
	f->engine = ku_engine_new(f->plan, &f->opts, &f->fe);
	assert_non_null(f->engine);
}

/* A new engine on the current options, run to its end. */
static ku_rc
fx_run(struct fx *f)
{
	struct runner r;
	ku_rc rc;

	fx_new_engine(f);
	runner_start(&r, f->engine);
	rc = runner_wait(&r, WAIT_MS);
	assert_false(f->c.timed_out);
	assert_false(f->c.overflow);
	assert_int_equal(f->c.accessor_errors, 0);
	return rc;
}

/* Closes and opens the journal again, as a new process would. */
static void
fx_reopen_journal(struct fx *f)
{
	size_t dropped = 99;

	ku_engine_free(f->engine);
	f->engine = NULL;
	ku_journal_close(f->journal);
	f->journal = NULL;
	assert_int_equal(ku_journal_open(f->jpath, &f->journal, &dropped),
	    KU_OK);
	assert_int_equal(dropped, 0);
	f->opts.journal = f->journal;
}

/* The same, when the journal may hold a torn last record. */
static void
fx_reopen_journal_any(struct fx *f)
{
	ku_engine_free(f->engine);
	f->engine = NULL;
	ku_journal_close(f->journal);
	f->journal = NULL;
	assert_int_equal(ku_journal_open(f->jpath, &f->journal, NULL), KU_OK);
	f->opts.journal = f->journal;
}

static enum ku_state
jstate(struct fx *f, const char *phase, const char *substep,
    const char *target)
{
	return ku_journal_state(f->journal, phase, substep, target);
}

/* --- phase definitions --- */

static const struct ku_substep_def abc_substeps[] = {
	{ .id = "a", .title = "Step A", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "b", .title = "Step B", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "c", .title = "Step C", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_abc = {
	.id = "1", .title = "Phase one", .substeps = abc_substeps,
	.n_substeps = KU_ARRAY_LEN(abc_substeps),
};

static const struct ku_substep_def x_substeps[] = {
	{ .id = "x", .title = "Step X", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const char *const requires_1[] = { "1" };
static const struct ku_phase_def phase_x = {
	.id = "2", .title = "Phase two", .substeps = x_substeps,
	.n_substeps = KU_ARRAY_LEN(x_substeps),
	.requires = requires_1, .n_requires = 1,
};

static const struct ku_phase_def *const phases_abc_x[] = { &phase_abc,
	&phase_x };

/* A per-node step, a cluster step, a per-machine step; then a phase of
 * one per-machine step. */
static const struct ku_substep_def mixed_substeps[] = {
	{ .id = "a", .title = "Per node", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "sum", .title = "Cluster-wide", .scope = KU_SCOPE_CLUSTER,
	  .run = act_generic },
	{ .id = "m", .title = "Every machine", .scope = KU_SCOPE_MACHINES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_mixed = {
	.id = "1", .title = "Mixed", .substeps = mixed_substeps,
	.n_substeps = KU_ARRAY_LEN(mixed_substeps),
};
static const struct ku_substep_def p_substeps[] = {
	{ .id = "p", .title = "Later", .scope = KU_SCOPE_MACHINES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_p = {
	.id = "2", .title = "Phase two", .substeps = p_substeps,
	.n_substeps = KU_ARRAY_LEN(p_substeps),
	.requires = requires_1, .n_requires = 1,
};
static const struct ku_phase_def *const phases_mixed_p[] = { &phase_mixed,
	&phase_p };

/* --- parallelism --- */

static const struct ku_substep_def gate_substeps[] = {
	{ .id = "gate", .title = "Gate", .scope = KU_SCOPE_NODES,
	  .run = act_gate },
};
static const struct ku_phase_def phase_gate = {
	.id = "1", .title = "Gate", .substeps = gate_substeps,
	.n_substeps = KU_ARRAY_LEN(gate_substeps),
};
static const struct ku_phase_def *const phases_gate[] = { &phase_gate };

static void
check_parallelism(struct fx *f, size_t n_nodes, int parallelism)
{
	fx_start(f, n_nodes, phases_gate, 1);
	f->opts.parallelism = parallelism;
	f->c.gate_p = parallelism;
	f->c.gate_total = (int)n_nodes;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.max_running, parallelism);
	assert_int_equal(calls_in(&f->c, "1", "gate"), (int)n_nodes);
	for (size_t i = 1; i <= n_nodes; i++) {
		char name[16];
		snprintf(name, sizeof name, "node-%zu", i);
		assert_int_equal(calls(&f->c, "1", "gate", name), 1);
		assert_int_equal(jstate(f, "1", "gate", name), KU_STATE_DONE);
	}
}

static void
test_parallelism_bound(void **state)
{
	check_parallelism(*state, 20, 3);
}

static void
test_parallelism_one(void **state)
{
	check_parallelism(*state, 5, 1);
}

/* --- automatic retries --- */

static void
test_retries_then_done(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-1",
		  .fail_times = 2 },
	};
	const struct evrec *end;

	fx_start(f, 3, phases_abc_x, 2);
	f->opts.retries = 2;
	fx_rules(f, rules, 1);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 0);
	assert_int_equal(calls(&f->c, "1", "a", "node-1"), 3);
	assert_int_equal(rec_find(&f->c, "1", "a", "node-1")->last_attempt, 3);
	assert_int_equal(calls(&f->c, "1", "a", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "b", "node-1"), 1);
	assert_int_equal(jstate(f, "1", "a", "node-1"), KU_STATE_DONE);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-1",
	    KU_STATE_RUNNING), 3);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-1",
	    KU_STATE_FAILED), 0);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-1",
	    KU_STATE_DONE), 1);
	assert_int_equal(count_events(&f->c, KU_EV_PAUSED, NULL), 0);
	end = run_end(&f->c);
	assert_int_equal(end->error, KU_OK);
	assert_int_equal(end->n_done, 12);
	assert_int_equal(end->n_total, 12);
}

static void
test_retries_exhausted_asks(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-1",
		  .fail_times = 2 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_RETRY };

	fx_start(f, 3, phases_abc_x, 2);
	f->opts.retries = 1;
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 1);
	assert_string_equal(f->c.pauses[0].phase, "1");
	assert_string_equal(f->c.pauses[0].substep, "a");
	assert_int_equal(f->c.pauses[0].n_failed, 1);
	assert_string_equal(f->c.pauses[0].targets, "node-1");
	assert_non_null(strstr(f->c.pauses[0].messages, "scripted failure 2"));
	/* Two automatic attempts, then one more after the decision. */
	assert_int_equal(calls(&f->c, "1", "a", "node-1"), 3);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-1",
	    KU_STATE_FAILED), 1);
	assert_int_equal(jstate(f, "1", "a", "node-1"), KU_STATE_DONE);
	assert_int_equal(calls(&f->c, "1", "c", "node-1"), 1);
	assert_int_equal(run_end(&f->c)->n_done, 12);
}

/* With a backoff, RUNNING events come in attempt order, the pauses
 * between them at least the backoff (doubled each time). */
static void
test_retry_backoff_order(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-2",
		  .fail_times = 2 },
	};
	const struct evrec *ev[8];
	size_t n = 0;

	fx_start(f, 2, phases_abc_x, 1);
	f->opts.retries = 3;
	f->opts.backoff_ms = 20;
	f->opts.backoff_max_ms = 1000;
	fx_rules(f, rules, 1);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 0);
	for (size_t i = 0; i < f->c.n_evs && n < 8; i++)
		if (ev_match(&f->c.evs[i], KU_EV_TARGET, "1", "a", "node-2"))
			ev[n++] = &f->c.evs[i];
	assert_int_equal(n, 4);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(ev[k]->state, KU_STATE_RUNNING);
		assert_int_equal(ev[k]->attempt, k + 1);
	}
	/* A retry's RUNNING event carries the last failure. */
	assert_int_equal(ev[1]->error, KU_ERR_REMOTE);
	assert_non_null(strstr(ev[1]->message, "scripted failure 1"));
	assert_non_null(strstr(ev[2]->message, "scripted failure 2"));
	assert_int_equal(ev[3]->state, KU_STATE_DONE);
	assert_int_equal(ev[3]->attempt, 3);
	assert_true(ev[1]->mono_ms - ev[0]->mono_ms >= 20);
	assert_true(ev[2]->mono_ms - ev[1]->mono_ms >= 40);
	assert_int_equal(calls(&f->c, "1", "a", "node-1"), 1);
}

static void
test_permanent_not_retried(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-2",
		  .fail_times = -1, .rc = KU_ERR_NOT_IMPLEMENTED },
		{ .phase = "1", .substep = "b", .target = "node-3",
		  .fail_times = -1, .rc = KU_ERR_HOSTKEY },
	};
	static const enum ku_decision script[] = { KU_DECIDE_SKIP,
		KU_DECIDE_SKIP };

	fx_start(f, 3, phases_abc_x, 1);
	f->opts.retries = 3;
	fx_rules(f, rules, 2);
	fx_script(f, 2, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls(&f->c, "1", "a", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "b", "node-3"), 1);
	assert_int_equal(f->c.n_decide, 2);
	assert_string_equal(f->c.pauses[0].substep, "a");
	assert_string_equal(f->c.pauses[0].targets, "node-2");
	assert_string_equal(f->c.pauses[1].substep, "b");
	assert_string_equal(f->c.pauses[1].targets, "node-3");
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-2",
	    KU_STATE_RUNNING), 1);

	assert_true(ku_rc_is_permanent(KU_ERR_NOT_IMPLEMENTED));
	assert_true(ku_rc_is_permanent(KU_ERR_HOSTKEY));
	assert_true(ku_rc_is_permanent(KU_ERR_INVALID));
	assert_false(ku_rc_is_permanent(KU_ERR_REMOTE));
	assert_false(ku_rc_is_permanent(KU_ERR_TIMEOUT));
	assert_false(ku_rc_is_permanent(KU_ERR_CONNECT));
}

/* --- a substep with no action --- */

static const struct ku_substep_def todo_substeps[] = {
	{ .id = "todo", .title = "Frobnicate the widgets",
	  .scope = KU_SCOPE_CLUSTER },
	{ .id = "after", .title = "After", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_todo = {
	.id = "1", .title = "Unfinished", .substeps = todo_substeps,
	.n_substeps = KU_ARRAY_LEN(todo_substeps),
};
static const struct ku_phase_def *const phases_todo[] = { &phase_todo,
	&phase_x };

static void
check_todo_failed(struct fx *f)
{
	const struct evrec *failed = NULL;

	for (size_t i = 0; i < f->c.n_evs; i++)
		if (ev_match(&f->c.evs[i], KU_EV_TARGET, "1", "todo",
		    "cluster") && f->c.evs[i].state == KU_STATE_FAILED)
			failed = &f->c.evs[i];
	assert_non_null(failed);
	assert_int_equal(failed->error, KU_ERR_NOT_IMPLEMENTED);
	assert_non_null(strstr(failed->message, "Frobnicate the widgets"));
	assert_int_equal(count_target_events(&f->c, "1", "todo", "cluster",
	    KU_STATE_DONE), 0);
	/* Permanent: asked at once, one attempt only. */
	assert_int_equal(count_target_events(&f->c, "1", "todo", "cluster",
	    KU_STATE_RUNNING), 1);
	assert_int_equal(f->c.n_decide, 1);
	assert_non_null(strstr(f->c.pauses[0].messages,
	    "Frobnicate the widgets"));
	assert_int_not_equal(jstate(f, "1", "todo", "cluster"), KU_STATE_DONE);
}

static void
test_no_action_abort(void **state)
{
	struct fx *f = *state;
	static const enum ku_decision script[] = { KU_DECIDE_ABORT };
	const struct ku_strv *failed;

	fx_start(f, 2, phases_todo, 2);
	f->opts.retries = 2;
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_ERR_ABORTED);
	check_todo_failed(f);
	assert_int_equal(jstate(f, "1", "todo", "cluster"), KU_STATE_FAILED);
	assert_int_equal(calls_in(&f->c, "1", "after"), 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	failed = ku_engine_failed(f->engine);
	assert_int_equal(failed->n, 1);
	assert_string_equal(failed->v[0], "1/todo on cluster");
	assert_int_equal(run_end(&f->c)->n_failed, 1);
	assert_int_equal(run_end(&f->c)->n_done, 0);
}

static void
test_no_action_skip(void **state)
{
	struct fx *f = *state;
	static const enum ku_decision script[] = { KU_DECIDE_SKIP };

	fx_start(f, 2, phases_todo, 2);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	check_todo_failed(f);
	assert_int_equal(jstate(f, "1", "todo", "cluster"), KU_STATE_SKIPPED);
	assert_int_equal(ku_engine_skipped(f->engine)->n, 1);
	assert_string_equal(ku_engine_skipped(f->engine)->v[0],
	    "1/todo on cluster");
	assert_int_equal(run_end(&f->c)->n_skipped, 1);
}

/* --- decisions --- */

static void
test_skip(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-2",
		  .fail_times = -1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_SKIP };
	const struct ku_strv *skipped;
	const struct evrec *end;

	fx_start(f, 3, phases_abc_x, 2);
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 1);
	assert_string_equal(f->c.pauses[0].targets, "node-2");
	/* Later substeps of the skipped target ran. */
	assert_int_equal(calls(&f->c, "1", "a", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "b", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-2"), 1);
	assert_int_equal(calls(&f->c, "2", "x", "node-2"), 1);
	skipped = ku_engine_skipped(f->engine);
	assert_int_equal(skipped->n, 1);
	assert_string_equal(skipped->v[0], "1/a on node-2");
	assert_int_equal(ku_engine_failed(f->engine)->n, 0);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-2",
	    KU_STATE_SKIPPED), 1);
	end = run_end(&f->c);
	assert_int_equal(end->error, KU_OK);
	assert_int_equal(end->n_total, 12);
	assert_int_equal(end->n_done, 11);
	assert_int_equal(end->n_skipped, 1);
	assert_int_equal(end->n_failed, 0);

	assert_int_equal(jstate(f, "1", "a", "node-2"), KU_STATE_SKIPPED);
	assert_int_equal(jstate(f, "1", "b", "node-2"), KU_STATE_DONE);
	assert_true(ku_journal_phase_done(f->journal, "1"));
	fx_reopen_journal(f);
	assert_int_equal(jstate(f, "1", "a", "node-2"), KU_STATE_SKIPPED);
	assert_int_equal(jstate(f, "1", "a", "node-1"), KU_STATE_DONE);
	assert_int_equal(jstate(f, "2", "x", "node-3"), KU_STATE_DONE);
}

static void
test_retry_only_failed(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-2",
		  .fail_times = 1 },
		{ .phase = "1", .substep = "a", .target = "node-3",
		  .fail_times = 1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_RETRY };

	fx_start(f, 3, phases_abc_x, 1);
	fx_rules(f, rules, 2);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 1);
	assert_int_equal(f->c.pauses[0].n_failed, 2);
	assert_true(strcmp(f->c.pauses[0].targets, "node-2,node-3") == 0 ||
	    strcmp(f->c.pauses[0].targets, "node-3,node-2") == 0);
	assert_int_equal(calls(&f->c, "1", "a", "node-1"), 1);
	assert_int_equal(calls(&f->c, "1", "a", "node-2"), 2);
	assert_int_equal(calls(&f->c, "1", "a", "node-3"), 2);
	assert_int_equal(calls(&f->c, "1", "b", "node-1"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-3"), 1);
	/* The retried target starts again at attempt 1. */
	assert_int_equal(rec_find(&f->c, "1", "a", "node-2")->last_attempt, 1);
	assert_int_equal(jstate(f, "1", "a", "node-2"), KU_STATE_DONE);
	assert_int_equal(run_end(&f->c)->n_done, 9);
}

static void
test_abort(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "b", .target = "node-1",
		  .fail_times = -1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_ABORT };
	const struct evrec *end;

	fx_start(f, 3, phases_abc_x, 2);
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_ERR_ABORTED);
	assert_int_equal(f->c.n_decide, 1);
	assert_int_equal(calls(&f->c, "1", "b", "node-1"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-1"), 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(count_events(&f->c, KU_EV_PHASE_START, "2"), 0);
	assert_int_equal(ku_engine_failed(f->engine)->n, 1);
	assert_string_equal(ku_engine_failed(f->engine)->v[0],
	    "1/b on node-1");
	end = run_end(&f->c);
	assert_int_equal(end->error, KU_ERR_ABORTED);
	assert_int_equal(end->n_failed, 1);
	assert_int_equal(jstate(f, "1", "b", "node-1"), KU_STATE_FAILED);
	assert_false(ku_journal_phase_done(f->journal, "1"));
	assert_int_equal(jstate(f, "2", "x", "node-2"), KU_STATE_PENDING);
}

/* node-1 fails substep a; while decide() is pending, node-2 and node-3
 * go through b and c. */
static const struct ku_substep_def indep_substeps[] = {
	{ .id = "a", .title = "A", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "b", .title = "B", .scope = KU_SCOPE_NODES,
	  .run = act_after_decide },
	{ .id = "c", .title = "C", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_indep = {
	.id = "1", .title = "Independent nodes", .substeps = indep_substeps,
	.n_substeps = KU_ARRAY_LEN(indep_substeps),
};
static const struct ku_phase_def *const phases_indep[] = { &phase_indep };

static bool
target_done_event(const struct tctx *c, const char *substep,
    const char *target)
{
	return count_target_events(c, "1", substep, target,
	    KU_STATE_DONE) > 0;
}

/* Called with c->mu held. */
static enum ku_decision
decide_after_others(struct tctx *c, const struct ku_pause *pause)
{
	struct timespec dl = tl_deadline_ms(WAIT_MS);

	(void)pause;
	while (!(target_done_event(c, "b", "node-2") &&
	    target_done_event(c, "c", "node-2") &&
	    target_done_event(c, "b", "node-3") &&
	    target_done_event(c, "c", "node-3"))) {
		if (!tl_cond_wait_until(&c->cv, &c->mu, &dl)) {
			c->timed_out = true;
			return KU_DECIDE_ABORT;
		}
	}
	c->others_done_in_decide = true;
	return KU_DECIDE_SKIP;
}

static void
test_no_node_held_up(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-1",
		  .fail_times = -1 },
	};

	fx_start(f, 3, phases_indep, 1);
	fx_rules(f, rules, 1);
	f->c.decide_hook = decide_after_others;
	assert_int_equal(fx_run(f), KU_OK);
	assert_true(f->c.others_done_in_decide);
	assert_int_equal(f->c.n_decide, 1);
	assert_string_equal(f->c.pauses[0].targets, "node-1");
	assert_int_equal(calls(&f->c, "1", "c", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-3"), 1);
	/* After the skip, node-1 goes on too. */
	assert_int_equal(calls(&f->c, "1", "b", "node-1"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-1"), 1);
	assert_string_equal(ku_engine_skipped(f->engine)->v[0],
	    "1/a on node-1");
}

/* --- dependencies and barriers --- */

static unsigned long
end_of(const struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	const struct callrec *r = rec_find(c, phase, substep, target);
	assert_non_null(r);
	return r->last_end;
}

static unsigned long
start_of(const struct tctx *c, const char *phase, const char *substep,
    const char *target)
{
	const struct callrec *r = rec_find(c, phase, substep, target);
	assert_non_null(r);
	return r->first_start;
}

static void
test_cluster_step_and_barrier(void **state)
{
	struct fx *f = *state;
	/* The slow ones: a step or a phase that did not wait would start
	 * before they end. */
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-3",
		  .sleep_ms = 60 },
		{ .phase = "1", .substep = "m", .target = "node-2",
		  .sleep_ms = 60 },
	};
	static const char *const machines[] = { "master", "node-1",
		"node-2", "node-3" };
	unsigned long sum_start, sum_end, last_p1 = 0, first_p2 = ~0UL;

	fx_start(f, 3, phases_mixed_p, 2);
	f->opts.parallelism = 8;
	fx_rules(f, rules, 2);
	assert_int_equal(fx_run(f), KU_OK);

	sum_start = start_of(&f->c, "1", "sum", "cluster");
	sum_end = end_of(&f->c, "1", "sum", "cluster");
	for (int i = 1; i <= 3; i++) {
		char n[16];
		snprintf(n, sizeof n, "node-%d", i);
		if (end_of(&f->c, "1", "a", n) >= sum_start)
			fail_msg("the cluster step started before %s "
			    "finished the step before it", n);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(machines); i++) {
		unsigned long e = end_of(&f->c, "1", "m", machines[i]);
		if (start_of(&f->c, "1", "m", machines[i]) <= sum_end)
			fail_msg("%s started step m before the cluster step "
			    "ended", machines[i]);
		if (e > last_p1)
			last_p1 = e;
		if (start_of(&f->c, "2", "p", machines[i]) < first_p2)
			first_p2 = start_of(&f->c, "2", "p", machines[i]);
	}
	if (first_p2 <= last_p1)
		fail_msg("phase 2 started before phase 1 ended");
	/* Phase events bracket their targets. */
	{
		const struct evrec *end1 = NULL;
		for (size_t i = 0; i < f->c.n_evs; i++)
			if (ev_match(&f->c.evs[i], KU_EV_PHASE_END, "1", NULL,
			    NULL))
				end1 = &f->c.evs[i];
		assert_non_null(end1);
		assert_int_equal(end1->state, KU_STATE_DONE);
		assert_true(end1->seq < first_p2);
	}
}

/* A skipped target also lets the barrier pass, but only once skipped. */
static void
test_barrier_after_skip(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "m", .target = "node-2",
		  .fail_times = -1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_SKIP };
	unsigned long skipped_seq = 0, first_p2 = ~0UL;
	static const char *const machines[] = { "master", "node-1",
		"node-2", "node-3" };

	fx_start(f, 3, phases_mixed_p, 2);
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	for (size_t i = 0; i < f->c.n_evs; i++)
		if (ev_match(&f->c.evs[i], KU_EV_TARGET, "1", "m", "node-2") &&
		    f->c.evs[i].state == KU_STATE_SKIPPED)
			skipped_seq = f->c.evs[i].seq;
	assert_true(skipped_seq > 0);
	for (size_t i = 0; i < KU_ARRAY_LEN(machines); i++) {
		unsigned long s = start_of(&f->c, "2", "p", machines[i]);
		if (s < first_p2)
			first_p2 = s;
	}
	if (first_p2 <= skipped_seq)
		fail_msg("phase 2 started before the failed target of phase "
		    "1 was skipped");
	assert_int_equal(calls(&f->c, "2", "p", "node-2"), 1);
}

/* --- resume --- */

static void
test_resume(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "b", .target = "node-2",
		  .fail_times = -1 },
	};
	static const enum ku_decision abort_script[] = { KU_DECIDE_ABORT };
	static const char *const nodes[] = { "node-1", "node-2", "node-3" };
	int c1[3];

	/* Run 1: node-2 fails b; the operator aborts. */
	fx_start(f, 3, phases_abc_x, 2);
	fx_rules(f, rules, 1);
	fx_script(f, 1, abort_script);
	assert_int_equal(fx_run(f), KU_ERR_ABORTED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(calls(&f->c, "1", "a", nodes[i]), 1);
		c1[i] = calls(&f->c, "1", "c", nodes[i]);
	}
	assert_int_equal(c1[1], 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(jstate(f, "1", "b", "node-2"), KU_STATE_FAILED);

	/* Run 2, as a new process would: the journal opened again, resume
	 * on; node-2's b now works. */
	fx_reopen_journal(f);
	assert_int_equal(ku_journal_runs(f->journal), 1);
	ctx_clear(&f->c);
	f->opts.resume = true;
	assert_int_equal(fx_run(f), KU_OK);
	for (int i = 0; i < 3; i++) {
		/* Done before: not run again. */
		assert_int_equal(calls(&f->c, "1", "a", nodes[i]), 0);
		/* Each node's c ran exactly once over both runs. */
		assert_int_equal(c1[i] + calls(&f->c, "1", "c", nodes[i]), 1);
		assert_int_equal(calls(&f->c, "2", "x", nodes[i]), 1);
		/* Finished targets are reported, without running. */
		assert_int_equal(count_target_events(&f->c, "1", "a", nodes[i],
		    KU_STATE_DONE), 1);
		assert_int_equal(count_target_events(&f->c, "1", "a", nodes[i],
		    KU_STATE_RUNNING), 0);
	}
	assert_int_equal(calls(&f->c, "1", "b", "node-1"), 0);
	assert_int_equal(calls(&f->c, "1", "b", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "b", "node-3"), 0);
	assert_int_equal(run_end(&f->c)->n_done, 12);
	assert_int_equal(run_end(&f->c)->n_total, 12);
	assert_true(ku_journal_phase_done(f->journal, "1"));
	assert_true(ku_journal_phase_done(f->journal, "2"));

	/* Run 3 without resume: everything runs again. */
	fx_reopen_journal(f);
	assert_int_equal(ku_journal_runs(f->journal), 2);
	ctx_clear(&f->c);
	f->opts.resume = false;
	assert_int_equal(fx_run(f), KU_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(calls(&f->c, "1", "a", nodes[i]), 1);
		assert_int_equal(calls(&f->c, "1", "b", nodes[i]), 1);
		assert_int_equal(calls(&f->c, "1", "c", nodes[i]), 1);
		assert_int_equal(calls(&f->c, "2", "x", nodes[i]), 1);
	}
	assert_int_equal(ku_journal_runs(f->journal), 3);
}

/* A run without --resume does its phases again, so on a --resume after
 * it, what an older run finished does not count for a substep that run
 * did not reach: node-2's c, done in run 1, waited in run 2 behind a b
 * that failed (b might have changed what c checks), and runs in run 3;
 * so does phase 2, done in run 1, never started in run 2. */
static void
test_fresh_run_forgets(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "b", .target = "node-2",
		  .fail_times = -1 },
	};
	static const enum ku_decision abort_script[] = { KU_DECIDE_ABORT };

	/* Run 1: everything done. */
	fx_start(f, 3, phases_abc_x, 2);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(jstate(f, "1", "c", "node-2"), KU_STATE_DONE);
	assert_true(ku_journal_phase_done(f->journal, "2"));

	/* Run 2, without resume: node-2's b fails; the operator aborts. */
	fx_reopen_journal(f);
	ctx_clear(&f->c);
	fx_rules(f, rules, 1);
	fx_script(f, 1, abort_script);
	assert_int_equal(fx_run(f), KU_ERR_ABORTED);
	assert_int_equal(calls(&f->c, "1", "c", "node-2"), 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(jstate(f, "1", "c", "node-2"), KU_STATE_PENDING);
	assert_false(ku_journal_phase_done(f->journal, "2"));

	/* Run 3, resumed: b works now, and c follows it. */
	fx_reopen_journal(f);
	ctx_clear(&f->c);
	f->opts.resume = true;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls(&f->c, "1", "b", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "c", "node-2"), 1);
	assert_int_equal(calls(&f->c, "1", "a", "node-2"), 0);
	assert_true(ku_journal_phase_done(f->journal, "1"));
	for (int i = 1; i <= 3; i++) {
		char node[16];

		snprintf(node, sizeof node, "node-%d", i);
		assert_int_equal(calls(&f->c, "2", "x", node), 1);
	}
	assert_true(ku_journal_phase_done(f->journal, "2"));
}

/* A target skipped in an earlier run stays skipped on --resume. */
static void
test_resume_keeps_skipped(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-1",
		  .fail_times = -1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_SKIP };

	fx_start(f, 2, phases_abc_x, 1);
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	fx_reopen_journal(f);
	ctx_clear(&f->c);
	f->opts.resume = true;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", NULL), 0);
	assert_int_equal(f->c.n_decide, 0);
	assert_int_equal(ku_engine_skipped(f->engine)->n, 1);
	assert_string_equal(ku_engine_skipped(f->engine)->v[0],
	    "1/a on node-1");
}

/* --- selection and prerequisites --- */

static void
test_prerequisite_missing(void **state)
{
	struct fx *f = *state;
	static const char *const only2[] = { "2" };
	const struct evrec *end;

	fx_start(f, 2, phases_abc_x, 2);
	f->opts.only = only2;
	f->opts.n_only = 1;
	assert_int_equal(fx_run(f), KU_ERR_PREREQ);
	end = run_end(&f->c);
	assert_int_equal(end->error, KU_ERR_PREREQ);
	assert_non_null(strstr(end->message, "phase 2"));
	assert_non_null(strstr(end->message, "phase 1"));
	assert_int_equal(f->c.n_recs, 0);
	assert_int_equal(count_events(&f->c, KU_EV_TARGET, NULL), 0);
	assert_int_equal(count_events(&f->c, KU_EV_PHASE_START, NULL), 0);
	assert_int_equal(ku_journal_runs(f->journal), 0);
}

static void
test_phase_selection(void **state)
{
	struct fx *f = *state;
	static const char *const only1[] = { "1" };
	static const char *const only2[] = { "2" };
	static const char *const both[] = { "2", "1" };

	/* Both selected: the prerequisite runs now. */
	fx_start(f, 2, phases_abc_x, 2);
	f->opts.only = both;
	f->opts.n_only = 2;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", NULL), 6);
	assert_int_equal(calls_in(&f->c, "2", NULL), 2);

	/* A fresh state directory: phase 1 alone. */
	ku_engine_free(f->engine);
	f->engine = NULL;
	ku_journal_close(f->journal);
	f->journal = NULL;
	assert_int_equal(unlink(f->jpath), 0);
	assert_int_equal(ku_journal_open(f->jpath, &f->journal, NULL), KU_OK);
	ctx_clear(&f->c);
	f->opts.only = only1;
	f->opts.n_only = 1;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", NULL), 6);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(count_events(&f->c, KU_EV_PHASE_START, "2"), 0);
	assert_int_equal(run_end(&f->c)->n_total, 6);
	assert_true(ku_journal_phase_done(f->journal, "1"));

	/* Then phase 2 alone: its prerequisite is done in the journal. */
	fx_reopen_journal(f);
	ctx_clear(&f->c);
	f->opts.only = only2;
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", NULL), 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 2);
	assert_int_equal(count_events(&f->c, KU_EV_PHASE_START, "1"), 0);
	assert_int_equal(run_end(&f->c)->n_total, 2);
}

/* --- cancel --- */

static const struct ku_substep_def block_substeps[] = {
	{ .id = "block", .title = "Block", .scope = KU_SCOPE_NODES,
	  .run = act_block },
	{ .id = "after", .title = "After", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_block = {
	.id = "1", .title = "Blocking", .substeps = block_substeps,
	.n_substeps = KU_ARRAY_LEN(block_substeps),
};
static const struct ku_phase_def *const phases_block[] = { &phase_block,
	&phase_x };

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct timespec dl = tl_deadline_ms(WAIT_MS);
	struct runner r;
	bool started = true;
	ku_rc rc;

	fx_start(f, 5, phases_block, 2);
	f->opts.parallelism = 3;
	f->opts.retries = 2;
	fx_new_engine(f);
	runner_start(&r, f->engine);

	/* Once three actions are running, cancel from this thread. */
	pthread_mutex_lock(&f->c.mu);
	while (f->c.block_running < 3)
		if (!tl_cond_wait_until(&f->c.cv, &f->c.mu, &dl)) {
			started = false;
			break;
		}
	pthread_mutex_unlock(&f->c.mu);
	ku_engine_cancel(f->engine);
	pthread_mutex_lock(&f->c.mu);
	f->c.cancel_called = true;
	pthread_cond_broadcast(&f->c.cv);
	pthread_mutex_unlock(&f->c.mu);
	rc = runner_wait(&r, WAIT_MS);

	assert_true(started);
	assert_false(f->c.timed_out);
	assert_int_equal(rc, KU_ERR_INTERRUPTED);
	assert_int_equal(run_end(&f->c)->error, KU_ERR_INTERRUPTED);
	/* Three ran (no retry once cancelled); the other two never
	 * started; nothing after them. */
	assert_int_equal(calls_in(&f->c, "1", "block"), 3);
	for (size_t i = 0; i < f->c.n_recs; i++)
		if (strcmp(f->c.recs[i].substep, "block") == 0) {
			assert_int_equal(f->c.recs[i].calls, 1);
			assert_true(f->c.recs[i].saw_cancel);
		}
	assert_int_equal(calls_in(&f->c, "1", "after"), 0);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(f->c.n_decide, 0);
	assert_int_equal(run_end(&f->c)->n_done, 0);
	/* Nothing unfinished is journaled as done (nor failed). */
	fx_reopen_journal(f);
	for (int i = 1; i <= 5; i++) {
		char n[16];
		snprintf(n, sizeof n, "node-%d", i);
		assert_int_equal(jstate(f, "1", "block", n), KU_STATE_PENDING);
		assert_int_equal(count_target_events(&f->c, "1", "block", n,
		    KU_STATE_DONE), 0);
		assert_int_equal(count_target_events(&f->c, "1", "block", n,
		    KU_STATE_FAILED), 0);
	}
	assert_false(ku_journal_phase_done(f->journal, "1"));
}

/* Cancelled before it starts: nothing runs. */
static void
test_cancel_before_run(void **state)
{
	struct fx *f = *state;
	struct runner r;

	fx_start(f, 2, phases_abc_x, 2);
	fx_new_engine(f);
	ku_engine_cancel(f->engine);
	runner_start(&r, f->engine);
	assert_int_equal(runner_wait(&r, WAIT_MS), KU_ERR_INTERRUPTED);
	assert_int_equal(f->c.n_recs, 0);
	assert_int_equal(run_end(&f->c)->error, KU_ERR_INTERRUPTED);
}

/* --- empty steps --- */

static const struct ku_substep_def sparse_substeps[] = {
	{ .id = "n1", .title = "Nodes 1", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "c1", .title = "Cluster", .scope = KU_SCOPE_CLUSTER,
	  .run = act_generic },
	{ .id = "n2", .title = "Nodes 2", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
	{ .id = "m", .title = "Master", .scope = KU_SCOPE_MASTER,
	  .run = act_generic },
	{ .id = "all", .title = "Machines", .scope = KU_SCOPE_MACHINES,
	  .run = act_generic },
	{ .id = "n3", .title = "Nodes 3", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_sparse = {
	.id = "1", .title = "Sparse", .substeps = sparse_substeps,
	.n_substeps = KU_ARRAY_LEN(sparse_substeps),
};
static const struct ku_substep_def only_nodes_substeps[] = {
	{ .id = "n", .title = "Nodes only", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_only_nodes = {
	.id = "2", .title = "Nodes only", .substeps = only_nodes_substeps,
	.n_substeps = KU_ARRAY_LEN(only_nodes_substeps),
};
static const struct ku_phase_def phase_empty = {
	.id = "3", .title = "No substeps",
};
static const struct ku_phase_def *const phases_sparse[] = { &phase_sparse,
	&phase_only_nodes, &phase_empty };

static void
test_zero_nodes(void **state)
{
	struct fx *f = *state;
	const struct evrec *end;

	fx_start(f, 0, phases_sparse, 3);
	assert_int_equal(f->spec->node_count, 0);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", "n1"), 0);
	assert_int_equal(calls(&f->c, "1", "c1", "cluster"), 1);
	assert_int_equal(calls(&f->c, "1", "m", "master"), 1);
	assert_int_equal(calls(&f->c, "1", "all", "master"), 1);
	assert_int_equal(calls_in(&f->c, "2", NULL), 0);
	assert_int_equal(count_events(&f->c, KU_EV_PHASE_END, NULL), 3);
	end = run_end(&f->c);
	assert_int_equal(end->n_total, 3);
	assert_int_equal(end->n_done, 3);
	assert_true(ku_journal_phase_done(f->journal, "2"));
	assert_true(ku_journal_phase_done(f->journal, "3"));
}

/* With nodes, the same plan: per-node steps around empty-free ones keep
 * their order per target. */
static void
test_sparse_with_nodes(void **state)
{
	struct fx *f = *state;

	fx_start(f, 2, phases_sparse, 3);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(calls_in(&f->c, "1", NULL), 2 + 1 + 2 + 1 + 3 + 2);
	for (int i = 1; i <= 2; i++) {
		char n[16];
		snprintf(n, sizeof n, "node-%d", i);
		assert_true(end_of(&f->c, "1", "n1", n) <
		    start_of(&f->c, "1", "c1", "cluster"));
		assert_true(end_of(&f->c, "1", "c1", "cluster") <
		    start_of(&f->c, "1", "n2", n));
		assert_true(end_of(&f->c, "1", "all", n) <
		    start_of(&f->c, "1", "n3", n));
	}
	/* The master step waits for every node of the step before. */
	assert_true(end_of(&f->c, "1", "n2", "node-1") <
	    start_of(&f->c, "1", "m", "master"));
	assert_true(end_of(&f->c, "1", "n2", "node-2") <
	    start_of(&f->c, "1", "m", "master"));
	assert_int_equal(run_end(&f->c)->n_total, 11 + 2);
}

/* --- events --- */

static void
test_events(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-2",
		  .fail_times = 1 },
		{ .phase = "1", .substep = "m", .target = "node-3",
		  .fail_times = -1 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_RETRY,
		KU_DECIDE_SKIP };
	const struct evrec *end;
	size_t n_targets = 0;

	fx_start(f, 3, phases_mixed_p, 2);
	fx_rules(f, rules, 2);
	fx_script(f, 2, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_true(f->c.n_evs > 2);
	assert_int_equal(f->c.evs[0].type, KU_EV_RUN_START);
	assert_int_equal(count_events(&f->c, KU_EV_RUN_START, NULL), 1);
	assert_int_equal(count_events(&f->c, KU_EV_RUN_END, NULL), 1);

	/* Each target of each step: RUNNING first; the last state done or
	 * skipped; a failure followed by a retry's RUNNING or a skip. */
	for (size_t p = 0; p < f->plan->n_phases; p++) {
		const struct ku_plan_phase *ph = &f->plan->phases[p];
		unsigned long ph_start = 0, ph_end = 0;

		for (size_t i = 0; i < f->c.n_evs; i++) {
			if (ev_match(&f->c.evs[i], KU_EV_PHASE_START,
			    ph->def->id, NULL, NULL))
				ph_start = f->c.evs[i].seq;
			if (ev_match(&f->c.evs[i], KU_EV_PHASE_END,
			    ph->def->id, NULL, NULL))
				ph_end = f->c.evs[i].seq;
		}
		assert_true(ph_start > 0 && ph_end > ph_start);
		for (size_t s = 0; s < ph->n_steps; s++) {
			const struct ku_step *st = &ph->steps[s];
			for (size_t t = 0; t < st->n_targets; t++) {
				const char *name = st->targets[t].name;
				const struct evrec *prev = NULL;
				size_t n = 0;

				n_targets++;
				for (size_t i = 0; i < f->c.n_evs; i++) {
					const struct evrec *e = &f->c.evs[i];
					if (!ev_match(e, KU_EV_TARGET,
					    ph->def->id, st->def->id, name))
						continue;
					assert_true(e->seq > ph_start &&
					    e->seq < ph_end);
					if (n++ == 0) {
						assert_int_equal(e->state,
						    KU_STATE_RUNNING);
						assert_int_equal(e->attempt,
						    1);
					} else if (prev->state ==
					    KU_STATE_FAILED) {
						assert_true(e->state ==
						    KU_STATE_SKIPPED ||
						    e->state ==
						    KU_STATE_PENDING);
					} else if (prev->state ==
					    KU_STATE_PENDING) {
						assert_int_equal(e->state,
						    KU_STATE_RUNNING);
					} else {
						assert_int_equal(prev->state,
						    KU_STATE_RUNNING);
					}
					prev = e;
				}
				if (prev == NULL)
					fail_msg("no event for %s/%s on %s",
					    ph->def->id, st->def->id, name);
				assert_true(prev->state == KU_STATE_DONE ||
				    prev->state == KU_STATE_SKIPPED);
			}
		}
	}
	assert_int_equal(n_targets, ku_plan_n_targets(f->plan));
	assert_int_equal(n_targets, 3 + 1 + 4 + 4);

	assert_int_equal(count_events(&f->c, KU_EV_PAUSED, NULL), 2);
	assert_int_equal(count_events(&f->c, KU_EV_DECIDED, NULL), 2);
	{
		size_t k = 0;
		static const char *const want[] = { "retry", "skip" };
		for (size_t i = 0; i < f->c.n_evs; i++)
			if (f->c.evs[i].type == KU_EV_DECIDED)
				assert_string_equal(f->c.evs[i].message,
				    want[k++]);
	}
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-2",
	    KU_STATE_RUNNING), 2);
	assert_int_equal(count_target_events(&f->c, "1", "a", "node-2",
	    KU_STATE_FAILED), 1);

	end = run_end(&f->c);
	assert_int_equal(end->error, KU_OK);
	assert_int_equal(end->n_total, 12);
	assert_int_equal(end->n_done, 11);
	assert_int_equal(end->n_skipped, 1);
	assert_int_equal(end->n_failed, 0);
}

/* --- abort while another target waits to retry --- */

/* node-1 fails for good, but only once node-2 has failed substep b once
 * (and so waits out its backoff before retrying). */
static ku_rc
act_fail_after_b(struct ku_task *t)
{
	struct tctx *c = ku_task_user(t);
	struct timespec dl = tl_deadline_ms(WAIT_MS);
	const struct callrec *r;

	if (strcmp(ku_task_target(t), "node-1") != 0)
		return act_generic(t);
	pthread_mutex_lock(&c->mu);
	while ((r = rec_find(c, "1", "b", "node-2")) == NULL ||
	    r->last_end == 0) {
		if (!tl_cond_wait_until(&c->cv, &c->mu, &dl)) {
			c->timed_out = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return ku_task_fail(t, KU_ERR_HOSTKEY, "node-1: host key changed");
}

static const struct ku_substep_def backoff_substeps[] = {
	{ .id = "a", .title = "A", .scope = KU_SCOPE_NODES,
	  .run = act_fail_after_b },
	{ .id = "b", .title = "B", .scope = KU_SCOPE_NODES,
	  .run = act_generic },
};
static const struct ku_phase_def phase_backoff = {
	.id = "1", .title = "Backoff", .substeps = backoff_substeps,
	.n_substeps = KU_ARRAY_LEN(backoff_substeps),
};
static const struct ku_phase_def *const phases_backoff[] = {
	&phase_backoff };

/* Sends the engine's log to a FIFO whose read end the test holds, so
 * that a decide hook can wait for a line without polling a file. */
static void
fx_log_to_fifo(struct fx *f)
{
	char *fifo = ku_path_join(f->dir, "log.fifo");

	assert_int_equal(mkfifo(fifo, 0600), 0);
	f->c.log_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(f->c.log_fd >= 0);
	assert_int_equal(ku_log_open(fifo, &f->log), KU_OK);
	f->opts.log = f->log;
	free(fifo);
}

/* Called with c->mu held; releases it while it reads, since engine
 * threads need it to report events. */
static enum ku_decision
decide_abort_once_node2_waits(struct tctx *c, const struct ku_pause *pause)
{
	/* Written under the engine's lock just before node-2's pause
	 * starts: once it is out, node-2 is waiting on its backoff. */
	static const char want[] = "[node-2] attempt 1 failed, retrying";
	uint64_t deadline = ku_now_ms() + (uint64_t)WAIT_MS;
	struct ku_buf text;
	bool seen = false;

	(void)pause;
	ku_buf_init(&text, 0);
	pthread_mutex_unlock(&c->mu);
	while (!seen && ku_now_ms() < deadline) {
		struct pollfd pfd = { .fd = c->log_fd, .events = POLLIN };
		char chunk[4096];
		ssize_t n;

		if (poll(&pfd, 1, (int)(deadline - ku_now_ms())) <= 0)
			continue;
		n = read(c->log_fd, chunk, sizeof chunk);
		if (n > 0) {
			ku_buf_add(&text, chunk, (size_t)n);
			seen = strstr(text.data, want) != NULL;
		}
	}
	ku_buf_free(&text);
	pthread_mutex_lock(&c->mu);
	c->saw_log_line = seen;
	if (!seen)
		c->timed_out = true;
	return KU_DECIDE_ABORT;
}

/* The operator aborts while node-2 waits 10 s before its next attempt:
 * the run stops now, not when that pause ends. */
static void
test_abort_during_backoff(void **state)
{
	struct fx *f = *state;
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "b", .target = "node-2",
		  .fail_times = -1 },
	};
	uint64_t start, took;

	fx_start(f, 3, phases_backoff, 1);
	fx_log_to_fifo(f);
	f->opts.retries = 5;
	f->opts.backoff_ms = 10000;
	f->opts.backoff_max_ms = 10000;
	fx_rules(f, rules, 1);
	f->c.decide_hook = decide_abort_once_node2_waits;
	start = ku_now_ms();
	assert_int_equal(fx_run(f), KU_ERR_ABORTED);
	took = ku_now_ms() - start;
	assert_true(f->c.saw_log_line);
	assert_int_equal(f->c.n_decide, 1);
	assert_string_equal(f->c.pauses[0].targets, "node-1");
	assert_int_equal(calls(&f->c, "1", "b", "node-2"), 1);
	if (took >= 5000)
		fail_msg("abort took %llu ms: it waited for node-2's retry "
		    "pause (10 s) to end", (unsigned long long)took);
}

/* --- the journal cannot be written --- */

/* In a child process (the file size limit is process-wide): the journal
 * may grow by only a little, so that a record fails to be written. Exit
 * status 0 when the engine stopped with KU_ERR_JOURNAL, else what went
 * wrong. */
static int
journal_full_child(void *arg)
{
	struct fx *f = arg;
	struct ku_engine *e;
	struct stat st;
	struct rlimit rl;
	ku_rc rc;
	int ret = 0;

	alarm(TL_DEADLINE_S);   /* no hang: SIGALRM ends the child */
	signal(SIGXFSZ, SIG_IGN);
	if (stat(f->jpath, &st) != 0)
		return 2;
	/* Room for the run-start marker and one state record (about 190
	 * bytes): the second record fails, so no target gets as far as
	 * substep c. */
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + 200;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 3;
	e = ku_engine_new(f->plan, &f->opts, &f->fe);
	rc = ku_engine_run(e);
	if (rc != KU_ERR_JOURNAL)
		ret = 100 + (int)rc;
	else if (calls_in(&f->c, "2", NULL) != 0)
		ret = 4;   /* the next phase started anyway */
	else if (calls_in(&f->c, "1", "c") != 0)
		ret = 5;   /* work went on after the journal failed */
	ku_engine_free(e);
	return ret;
}

static void
test_journal_write_failure(void **state)
{
	struct fx *f = *state;
	int status;

	fx_start(f, 3, phases_abc_x, 2);
	status = tl_in_child(journal_full_child, f);
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
		fail_msg("ku_engine_run returned %s, want %s",
		    ku_error_id((ku_rc)(WEXITSTATUS(status) - 100)),
		    ku_error_id(KU_ERR_JOURNAL));
	tl_assert_child_ok(status, "engine with a journal that fills up");
	/* What the child left opens, a torn last record dropped. */
	fx_reopen_journal_any(f);
	assert_false(ku_journal_phase_done(f->journal, "1"));
	assert_int_equal(jstate(f, "2", "x", "node-1"), KU_STATE_PENDING);
}

/* --- a failure message too long for one journal record --- */

static void
test_long_failure_message(void **state)
{
	struct fx *f = *state;
	/* What a failing remote command's captured stderr can amount to. */
	static const struct rule rules[] = {
		{ .phase = "1", .substep = "a", .target = "node-1",
		  .fail_times = -1, .message_len = 100 * 1024 },
	};
	static const enum ku_decision script[] = { KU_DECIDE_SKIP };

	fx_start(f, 2, phases_abc_x, 1);
	fx_rules(f, rules, 1);
	fx_script(f, 1, script);
	assert_int_equal(fx_run(f), KU_OK);
	assert_int_equal(f->c.n_decide, 1);
	assert_int_equal(jstate(f, "1", "a", "node-1"), KU_STATE_SKIPPED);
	assert_int_equal(calls(&f->c, "1", "c", "node-2"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_parallelism_bound),
		T(test_parallelism_one),
		T(test_retries_then_done),
		T(test_retries_exhausted_asks),
		T(test_retry_backoff_order),
		T(test_permanent_not_retried),
		T(test_no_action_abort),
		T(test_no_action_skip),
		T(test_skip),
		T(test_retry_only_failed),
		T(test_abort),
		T(test_no_node_held_up),
		T(test_cluster_step_and_barrier),
		T(test_barrier_after_skip),
		T(test_resume),
		T(test_resume_keeps_skipped),
		T(test_fresh_run_forgets),
		T(test_prerequisite_missing),
		T(test_phase_selection),
		T(test_cancel),
		T(test_cancel_before_run),
		T(test_zero_nodes),
		T(test_sparse_with_nodes),
		T(test_events),
		T(test_abort_during_backoff),
		T(test_journal_write_failure),
		T(test_long_failure_message),
#undef T
	};

	tl_watchdog(600);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
