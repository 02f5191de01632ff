/* The install: the engine in a thread of its own, its events copied into a
 * queue for the UI thread; the live checklist, the log (read from the
 * run's file as it grows, woken by inotify), the decision on a failed
 * substep, and the screens after the run: aborted and done. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <curses.h>

#include "answers.h"
#include "i18n.h"
#include "plan.h"
#include "pki.h"
#include "shell.h"
#include "wizard.h"

enum { DLG_DECIDE = 10, DLG_RUN_ERROR = 11 };

/* --- the queue --- */

void
wz_msg_free(struct wz_msg *m)
{
	if (m == NULL)
		return;
	free(m->phase);
	free(m->substep);
	free(m->target);
	free(m->message);
	free(m->fingerprint);
	free(m);
}

void
wz_post(struct wz *w, struct wz_msg *m)
{
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = m;
	else
		w->head = m;
	w->tail = m;
	pthread_mutex_unlock(&w->lock);
	ku_ui_wake();
}

static char *
wz_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Called under the engine's lock: copy, queue, wake. Nothing more. */
static void
wz_fe_event(void *ud, const struct ku_event *ev)
{
	struct wz *w = ud;
	struct wz_msg *m = xcalloc(1, sizeof *m);

	m->kind = WM_EVENT;
	m->type = ev->type;
	m->phase = wz_dup(ev->phase);
	m->substep = wz_dup(ev->substep);
	m->target = wz_dup(ev->target);
	m->message = wz_dup(ev->message);
	m->state = ev->state;
	m->attempt = ev->attempt;
	m->error = ev->error;
	wz_post(w, m);
}

/* The engine's thread waits here while the operator decides. */
static enum ku_decision
wz_fe_decide(void *ud, const struct ku_pause *pause)
{
	struct wz *w = ud;
	struct wz_msg *m;
	int d;

	pthread_mutex_lock(&w->lock);
	if (w->abandon) {
		pthread_mutex_unlock(&w->lock);
		return KU_DECIDE_ABORT;
	}
	m = xcalloc(1, sizeof *m);
	w->decision = -1;
	free(w->pause_phase);
	free(w->pause_step);
	w->pause_phase = xstrdup(pause->phase);
	w->pause_step = xstrdup(pause->substep);
	ku_strv_free(&w->pause_targets);
	ku_strv_free(&w->pause_messages);
	for (size_t i = 0; i < pause->n_failed; i++) {
		ku_strv_push(&w->pause_targets, pause->targets[i]);
		ku_strv_push(&w->pause_messages, pause->messages[i]);
	}
	w->deciding = true;
	pthread_mutex_unlock(&w->lock);

	m->kind = WM_PAUSE;
	wz_post(w, m);

	pthread_mutex_lock(&w->lock);
	while (w->decision < 0 && !w->abandon)
		pthread_cond_wait(&w->cond, &w->lock);
	d = w->decision < 0 ? (int)KU_DECIDE_ABORT : w->decision;
	w->deciding = false;
	pthread_mutex_unlock(&w->lock);
	return (enum ku_decision)d;
}

static void
wz_answer(struct wz *w, enum ku_decision d)
{
	pthread_mutex_lock(&w->lock);
	if (w->deciding && w->decision < 0) {
		w->decision = (int)d;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	w->decision_dialog = false;
}

static void *
wz_engine_thread(void *arg)
{
	struct wz *w = arg;
	struct ku_frontend fe = {
		.event = wz_fe_event, .decide = wz_fe_decide, .ud = w,
	};
	struct wz_msg *m = xcalloc(1, sizeof *m);

	m->kind = WM_END;
	m->rc = ku_run_execute(w->run, &fe, &w->skipped, &w->failed);
	wz_post(w, m);
	return NULL;
}

/* --- the model: phases, substeps, targets, from the plan --- */

static void
wz_model_build(struct wz *w)
{
	struct ku_plan *plan = ku_plan_build(w->spec);

	w->n_phases = plan->n_phases;
	w->phases = xcalloc(plan->n_phases, sizeof *w->phases);
	for (size_t p = 0; p < plan->n_phases; p++) {
		const struct ku_plan_phase *pp = &plan->phases[p];
		struct wz_phase *ph = &w->phases[p];
		ph->id = xstrdup(pp->def->id);
		ph->title = pp->def->title;
		ph->n_steps = pp->n_steps;
		ph->steps = xcalloc(pp->n_steps ? pp->n_steps : 1,
		    sizeof *ph->steps);
		for (size_t s = 0; s < pp->n_steps; s++) {
			const struct ku_step *ps = &pp->steps[s];
			struct wz_step *st = &ph->steps[s];
			st->id = xstrdup(ps->def->id);
			st->title = ps->def->title;
			st->scope = ps->def->scope;
			st->n_targets = ps->n_targets;
			st->targets = xcalloc(ps->n_targets ? ps->n_targets : 1,
			    sizeof *st->targets);
			for (size_t t = 0; t < ps->n_targets; t++)
				st->targets[t].name =
				    xstrdup(ps->targets[t].name);
		}
	}
	ku_plan_free(plan);
}

static void
wz_model_free(struct wz *w)
{
	for (size_t p = 0; p < w->n_phases; p++) {
		struct wz_phase *ph = &w->phases[p];
		for (size_t s = 0; s < ph->n_steps; s++) {
			struct wz_step *st = &ph->steps[s];
			for (size_t t = 0; t < st->n_targets; t++) {
				free(st->targets[t].name);
				free(st->targets[t].message);
			}
			free(st->targets);
			free(st->id);
		}
		free(ph->steps);
		free(ph->id);
	}
	free(w->phases);
	w->phases = NULL;
	w->n_phases = 0;
}

static struct wz_phase *
wz_find_phase(struct wz *w, const char *id, size_t *pi)
{
	for (size_t p = 0; id && p < w->n_phases; p++)
		if (strcmp(w->phases[p].id, id) == 0) {
			if (pi)
				*pi = p;
			return &w->phases[p];
		}
	return NULL;
}

static struct wz_step *
wz_find_step(struct wz_phase *ph, const char *id, size_t *si)
{
	for (size_t s = 0; ph && id && s < ph->n_steps; s++)
		if (strcmp(ph->steps[s].id, id) == 0) {
			if (si)
				*si = s;
			return &ph->steps[s];
		}
	return NULL;
}

static struct wz_target *
wz_find_target(struct wz_step *st, const char *name, size_t *ti)
{
	for (size_t t = 0; st && name && t < st->n_targets; t++)
		if (strcmp(st->targets[t].name, name) == 0) {
			if (ti)
				*ti = t;
			return &st->targets[t];
		}
	return NULL;
}

struct wz_counts { size_t waiting, running, done, failed, skipped, n; };

static struct wz_counts
wz_step_counts(const struct wz_step *st)
{
	struct wz_counts c = { .n = st->n_targets };
	for (size_t t = 0; t < st->n_targets; t++)
		switch (st->targets[t].state) {
		case KU_STATE_RUNNING: c.running++; break;
		case KU_STATE_DONE: c.done++; break;
		case KU_STATE_FAILED: c.failed++; break;
		case KU_STATE_SKIPPED: c.skipped++; break;
		default: c.waiting++; break;
		}
	return c;
}

static enum ku_state
wz_step_state(const struct wz_step *st)
{
	struct wz_counts c = wz_step_counts(st);
	if (c.failed)
		return KU_STATE_FAILED;
	if (c.running)
		return KU_STATE_RUNNING;
	if (c.n && c.done + c.skipped == c.n)
		return c.skipped ? KU_STATE_SKIPPED : KU_STATE_DONE;
	if (c.done + c.skipped > 0)
		return KU_STATE_RUNNING;
	return KU_STATE_PENDING;
}

/* --- the log file --- */

static uint32_t
wz_tag(struct wz *w, const char *line)
{
	/* "TIME LEVEL [phase] [substep] [target] message" */
	char ph[16], st[64], tg[256];
	const char *b = strchr(line, '[');
	size_t pi = 0xff, si = 0xff, ti = 0xffff;
	struct wz_phase *p;
	struct wz_step *s;

	if (b == NULL || sscanf(b, "[%15[^]]] [%63[^]]] [%255[^]]]", ph, st,
	    tg) != 3)
		return 0xffffffffu;
	p = wz_find_phase(w, ph, &pi);
	s = wz_find_step(p, st, &si);
	wz_find_target(s, tg, &ti);
	return (uint32_t)((pi & 0xff) << 24 | (si & 0xff) << 16 | (ti & 0xffff));
}

static void
wz_log_line(struct wz *w, const char *line, size_t len)
{
	enum ku_line_level lv = KU_L_PLAIN;
	char *copy = xstrndup(line, len);

	if (len > 25 && strncmp(copy + 25, "error", 5) == 0)
		lv = KU_L_ERROR;
	else if (len > 25 && strncmp(copy + 25, "warn", 4) == 0)
		lv = KU_L_WARN;
	ku_pager_add(&w->pager, copy, len, lv, wz_tag(w, copy));
	free(copy);
}

int
wz_log_readable(struct wz *w)
{
	char buf[65536], ev[4096];
	ssize_t n;
	bool any = false;

	if (w->inotify_fd >= 0)
		while (read(w->inotify_fd, ev, sizeof ev) > 0)
			;
	if (w->log_fd < 0)
		return 0;
	while ((n = read(w->log_fd, buf, sizeof buf)) > 0) {
		ku_buf_add(&w->log_partial, buf, (size_t)n);
		any = true;
	}
	if (!any)
		return 0;
	{
		char *s = w->log_partial.data, *nl;
		size_t used = 0;
		while ((nl = memchr(s + used, '\n', w->log_partial.len -
		    used))) {
			wz_log_line(w, s + used, (size_t)(nl - (s + used)));
			used = (size_t)(nl - s) + 1;
		}
		memmove(s, s + used, w->log_partial.len - used);
		w->log_partial.len -= used;
		s[w->log_partial.len] = '\0';
	}
	return KU_UI_REDRAW;
}

static bool
wz_keep_line(void *ud, const struct ku_pager_line *l)
{
	struct wz *w = ud;

	switch (w->log_scope) {
	case WL_ALL:
		return true;
	case WL_STEP:
		return (l->tag & 0xffff0000u) == w->log_tag_step;
	case WL_TARGET:
		if ((l->tag & 0xffff0000u) != w->log_tag_step)
			return false;
		/* the target's name is in the line itself */
		return w->log_target && strstr(l->text, w->log_target);
	}
	return true;
}

void
wz_log_scope(struct wz *w, int scope, size_t phase, size_t step,
    const char *target)
{
	w->log_scope = scope;
	w->log_tag_step = (uint32_t)((phase & 0xff) << 24 | (step & 0xff) << 16);
	free(w->log_target);
	w->log_target = target ? xasprintf("] [%s] ", target) : NULL;
	if (target != w->log_target_name) {
		free(w->log_target_name);
		w->log_target_name = target ? xstrdup(target) : NULL;
	}
	w->pager.keep = wz_keep_line;
	w->pager.keep_ud = w;
	w->pager.follow = true;
	ku_pager_refilter(&w->pager);
}

/* --- starting and stopping --- */

void
wz_install_start(struct wz *w)
{
	struct ku_run_opts ro = {
		.state_dir = w->resume && w->resume_dir ? w->resume_dir :
		    w->opts.state_dir,
		.templates_dir = w->opts.templates,
		.resume = w->resume,
	};
	char *err = NULL;
	ku_rc rc;

	rc = ku_run_open(w->spec, &ro, &w->run, &err);
	if (rc != KU_OK) {
		ku_dialog_open(&w->dialog, DLG_RUN_ERROR, _("Cannot start"),
		    err ? err : ku_strerror(rc));
		ku_dialog_button(&w->dialog, _("Close"), 0);
		free(err);
		w->run = NULL;
		return;
	}
	wz_model_build(w);
	w->log_fd = open(ku_run_log_path(w->run), O_RDONLY | O_CLOEXEC |
	    O_NONBLOCK);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd >= 0 && inotify_add_watch(w->inotify_fd,
	    ku_run_log_path(w->run), IN_MODIFY) < 0) {
		close(w->inotify_fd);
		w->inotify_fd = -1;
	}
	if (w->inotify_fd >= 0)
		ku_ui_watch(w->inotify_fd);
	wz_log_scope(w, WL_STEP, 0, 0, NULL);
	wz_form_free(&w->form);
	w->screen = WZ_INSTALL;
	w->run_start_ms = ku_now_ms();
	w->sel_phase = w->sel_step = 0;
	w->sel_follow = true;
	if (pthread_create(&w->engine_thread, NULL, wz_engine_thread, w) != 0) {
		ku_dialog_open(&w->dialog, DLG_RUN_ERROR, _("Cannot start"),
		    _("cannot start a thread"));
		ku_dialog_button(&w->dialog, _("Close"), 0);
		return;
	}
	w->running = true;
}

void
wz_install_stop(struct wz *w)
{
	if (!w->running)
		return;
	w->stopping = true;
	pthread_mutex_lock(&w->lock);
	w->abandon = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	ku_run_cancel(w->run);
	wz_answer(w, KU_DECIDE_ABORT);
	if (w->dialog.open && w->dialog.id == DLG_DECIDE)
		ku_dialog_close(&w->dialog);
}

bool
wz_install_animating(const struct wz *w)
{
	return w->running && !w->deciding;
}

void
wz_install_cleanup(struct wz *w)
{
	struct wz_msg *m;

	if (w->running) {
		wz_install_stop(w);
		pthread_join(w->engine_thread, NULL);
		w->running = false;
	}
	while ((m = w->head)) {
		w->head = m->next;
		if (m->kind == WM_END)
			w->run_rc = m->rc;
		wz_msg_free(m);
	}
	w->tail = NULL;
	ku_ui_watch(-1);
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	if (w->log_fd >= 0)
		close(w->log_fd);
	w->inotify_fd = w->log_fd = -1;
	wz_model_free(w);
	ku_strv_free(&w->skipped);
	ku_strv_free(&w->failed);
	ku_strv_free(&w->pause_targets);
	ku_strv_free(&w->pause_messages);
	free(w->pause_phase);
	free(w->pause_step);
	free(w->log_target);
	free(w->log_target_name);
	w->pause_phase = w->pause_step = w->log_target = NULL;
	w->log_target_name = NULL;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

/* --- events into the model --- */

static void
wz_select(struct wz *w, size_t p, size_t s)
{
	if (w->sel_phase == p && w->sel_step == s)
		return;
	w->sel_phase = p;
	w->sel_step = s;
	if (w->screen == WZ_INSTALL)
		wz_log_scope(w, WL_STEP, p, s, NULL);
}

static void
wz_apply_event(struct wz *w, const struct wz_msg *m)
{
	size_t pi = 0, si = 0;
	struct wz_phase *ph = wz_find_phase(w, m->phase, &pi);
	struct wz_step *st = wz_find_step(ph, m->substep, &si);
	struct wz_target *t = wz_find_target(st, m->target, NULL);

	switch (m->type) {
	case KU_EV_PHASE_START:
		if (ph) {
			ph->state = KU_STATE_RUNNING;
			ph->start_ms = ku_now_ms();
			ph->end_ms = 0;
		}
		break;
	case KU_EV_PHASE_END:
		if (ph) {
			ph->state = m->state;
			ph->end_ms = ku_now_ms();
		}
		break;
	case KU_EV_TARGET:
		if (t == NULL)
			break;
		t->state = m->state;
		t->attempt = m->attempt;
		if (m->state == KU_STATE_FAILED) {
			free(t->message);
			t->message = wz_dup(m->message ? m->message :
			    ku_strerror(m->error));
		}
		if (m->state == KU_STATE_RUNNING && st->start_ms == 0)
			st->start_ms = ku_now_ms();
		/* the log viewer keeps the substep it was opened on: its
		 * header and its t/a keys name that one */
		if (m->state == KU_STATE_RUNNING && w->sel_follow &&
		    w->screen != WZ_LOG)
			wz_select(w, pi, si);
		if (wz_step_state(st) == KU_STATE_DONE ||
		    wz_step_state(st) == KU_STATE_SKIPPED)
			st->end_ms = ku_now_ms();
		break;
	default:
		break;
	}
}

static void
wz_open_decision(struct wz *w)
{
	struct ku_buf b;
	size_t pi = 0, si = 0;
	struct wz_phase *ph;

	pthread_mutex_lock(&w->lock);
	ph = wz_find_phase(w, w->pause_phase, &pi);
	wz_find_step(ph, w->pause_step, &si);
	ku_buf_init(&b, 0);
	ku_buf_printf(&b, ngettext("%s/%s still fails on %zu target:",
	    "%s/%s still fails on %zu targets:", w->pause_targets.n),
	    w->pause_phase, w->pause_step, w->pause_targets.n);
	ku_buf_adds(&b, "\n");
	for (size_t i = 0; i < w->pause_targets.n && i < 8; i++)
		ku_buf_printf(&b, "%s: %s\n", w->pause_targets.v[i],
		    w->pause_messages.v[i]);
	if (w->pause_targets.n > 8)
		ku_buf_printf(&b, _("... and %zu more (see the log)\n"),
		    w->pause_targets.n - 8);
	pthread_mutex_unlock(&w->lock);
	ku_buf_adds(&b, _("Retry runs it again on the failed machines; skip "
	    "goes on without it (the cluster may be incomplete); abort stops "
	    "the install, keeping what is done."));
	wz_select(w, pi, si);
	w->sel_follow = false;
	ku_dialog_open(&w->dialog, DLG_DECIDE, _("A substep failed"), b.data);
	ku_dialog_button(&w->dialog, _("Retry"), 'r');
	ku_dialog_button(&w->dialog, _("Skip"), 's');
	ku_dialog_button(&w->dialog, _("Abort"), 'a');
	ku_dialog_button(&w->dialog, _("View log"), 'l');
	w->decision_dialog = true;
	ku_buf_free(&b);
}

static void
wz_run_ended(struct wz *w, ku_rc rc)
{
	pthread_join(w->engine_thread, NULL);
	w->running = false;
	w->run_rc = rc;
	w->run_end_ms = ku_now_ms();
	wz_log_readable(w);
	if (w->dialog.open && w->dialog.id == DLG_DECIDE)
		ku_dialog_close(&w->dialog);
	if (rc != KU_OK) {
		/* the answers again, next to the journal that failed */
		char *path = ku_path_join(ku_run_state_dir(w->run),
		    "answers.conf");
		(void)ku_answers_write(w->spec, path);
		free(path);
	}
	if (w->quit) {
		w->exit_status = 3;
		return;
	}
	if (w->screen == WZ_LOG)
		w->back_from_log = rc == KU_OK ? WZ_DONE : WZ_ABORTED;
	else
		w->screen = rc == KU_OK ? WZ_DONE : WZ_ABORTED;
	if (w->screen == WZ_ABORTED || w->screen == WZ_DONE)
		wz_log_scope(w, WL_ALL, 0, 0, NULL);
}

int
wz_drain(struct wz *w)
{
	struct wz_msg *m;
	int flags = 0;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		m = w->head;
		if (m) {
			w->head = m->next;
			if (w->head == NULL)
				w->tail = NULL;
		}
		pthread_mutex_unlock(&w->lock);
		if (m == NULL)
			break;
		flags |= KU_UI_REDRAW;
		switch (m->kind) {
		case WM_EVENT:
			wz_apply_event(w, m);
			break;
		case WM_PAUSE:
			if (w->stopping)
				wz_answer(w, KU_DECIDE_ABORT);
			else if (w->screen != WZ_LOG && !w->dialog.open)
				/* never over another question (Stop's 's' is
				 * the decision's Skip): the screen says a
				 * decision waits, Enter opens it */
				wz_open_decision(w);
			break;
		case WM_END:
			wz_run_ended(w, m->rc);
			if (w->quit)
				flags |= KU_UI_QUIT;
			break;
		case WM_CHECK:
			wz_checks_message(w, m);
			break;
		}
		wz_msg_free(m);
	}
	if (w->log_fd >= 0)
		flags |= wz_log_readable(w);
	return flags;
}

int wz_decide_dialog_key(struct wz *w, int r);

int
wz_decide_dialog_key(struct wz *w, int r)
{
	if (w->dialog.id == DLG_RUN_ERROR) {
		ku_dialog_close(&w->dialog);
		return KU_UI_REDRAW;
	}
	switch (r) {
	case 0:
		ku_dialog_close(&w->dialog);
		wz_answer(w, KU_DECIDE_RETRY);
		w->sel_follow = true;
		break;
	case 1:
		ku_dialog_close(&w->dialog);
		wz_answer(w, KU_DECIDE_SKIP);
		w->sel_follow = true;
		break;
	case 2:
		ku_dialog_close(&w->dialog);
		wz_answer(w, KU_DECIDE_ABORT);
		break;
	case 3: {
		/* the log of the failed substep; back here afterwards */
		size_t pi = 0, si = 0;
		struct wz_phase *ph = wz_find_phase(w, w->pause_phase, &pi);
		wz_find_step(ph, w->pause_step, &si);
		ku_dialog_close(&w->dialog);
		wz_log_scope(w, w->pause_targets.n == 1 ? WL_TARGET : WL_STEP,
		    pi, si, w->pause_targets.n == 1 ?
		    w->pause_targets.v[0] : NULL);
		w->back_from_log = WZ_INSTALL;
		w->screen = WZ_LOG;
		break;
	}
	default:
		/* Esc: the question stays; it can be reopened with Enter */
		ku_dialog_close(&w->dialog);
		break;
	}
	return KU_UI_REDRAW;
}

/* --- the install screen --- */

static const struct ku_binding wz_install_keys[] = {
	{ 0, KEY_F(1), KU_A_HELP, "F1", N_("help") },
	{ 0, 0, KU_A_NONE, "Up/Down", N_("select") },
	{ 'l', 0, KU_A_VIEW_LOG, "l", N_("log") },
	{ '\r', 0, KU_A_ENTER, "Enter", N_("decide") },
	{ 'q', KEY_F(10), KU_A_QUIT, "q", N_("stop") },
};

static const char *
wz_state_label(enum ku_state s)
{
	switch (s) {
	case KU_STATE_RUNNING: return _("running");
	case KU_STATE_DONE: return _("done");
	case KU_STATE_FAILED: return _("failed");
	case KU_STATE_SKIPPED: return _("skipped");
	default: return _("waiting");
	}
}

static void
wz_glyph(enum ku_state s, int y, int x)
{
	unsigned attr;
	const char *g;

	switch (s) {
	case KU_STATE_RUNNING:
		attr = ku_ui_attr(KU_C_RUNNING);
		g = ku_ui_spinner(ku_ui_ticks());
		break;
	case KU_STATE_DONE:
		attr = ku_ui_attr(KU_C_DONE);
		g = ku_ui_glyph(KU_G_DONE);
		break;
	case KU_STATE_FAILED:
		attr = ku_ui_attr(KU_C_FAILED);
		g = ku_ui_glyph(KU_G_FAILED);
		break;
	case KU_STATE_SKIPPED:
		attr = ku_ui_attr(KU_C_SKIPPED);
		g = ku_ui_glyph(KU_G_SKIPPED);
		break;
	default:
		attr = ku_ui_attr(KU_C_DIM);
		g = ku_ui_glyph(KU_G_WAITING);
		break;
	}
	attrset(attr);
	ku_ui_put(y, x, 2, 0, g);
	attrset(A_NORMAL);
}

static const char *
wz_scope_noun(enum ku_scope s)
{
	switch (s) {
	case KU_SCOPE_NODES: return _("nodes");
	case KU_SCOPE_MACHINES: return _("machines");
	default: return NULL;
	}
}

/* The checklist's rows: phases and their substeps. */
struct wz_row { size_t p; long s; };

static size_t
wz_rows(struct wz *w, struct wz_row *out, size_t max)
{
	size_t n = 0;
	for (size_t p = 0; p < w->n_phases; p++) {
		if (n < max)
			out[n] = (struct wz_row){ p, -1 };
		n++;
		for (size_t s = 0; s < w->phases[p].n_steps; s++) {
			if (n < max)
				out[n] = (struct wz_row){ p, (long)s };
			n++;
		}
	}
	return n;
}

static void
wz_install_draw(struct wz *w)
{
	struct wz_row rows[512];
	size_t n = wz_rows(w, rows, KU_ARRAY_LEN(rows)), sel = 0;
	int list_h = (LINES - 4) / 2, y0 = 2, pane_y;
	uint64_t now = ku_now_ms();
	char dur[32], *t;

	if (n > KU_ARRAY_LEN(rows))
		n = KU_ARRAY_LEN(rows);
	ku_format_duration((w->running ? now : w->run_end_ms) -
	    w->run_start_ms, dur, sizeof dur);
	t = xasprintf(_("Installing cluster \"%s\" - %s"), w->spec->name,
	    dur);
	wz_title(w, t);
	free(t);
	if (w->run)
		ku_ui_printf(1, 1, COLS - 2, _("state directory %s"),
		    ku_run_state_dir(w->run));
	for (size_t i = 0; i < n; i++)
		if (rows[i].p == w->sel_phase && rows[i].s == (long)w->sel_step)
			sel = i;
	if ((int)sel < w->list_top + 1)
		w->list_top = (int)sel - 1 < 0 ? 0 : (int)sel - 1;
	if ((int)sel >= w->list_top + list_h - 1)
		w->list_top = (int)sel - list_h + 2;
	if (w->list_top > (int)n - list_h)
		w->list_top = (int)n - list_h < 0 ? 0 : (int)n - list_h;

	for (int r = 0; r < list_h && w->list_top + r < (int)n; r++) {
		struct wz_row *row = &rows[w->list_top + r];
		struct wz_phase *ph = &w->phases[row->p];
		int y = y0 + r;

		if (row->s < 0) {
			char right[96] = "";
			ku_format_duration((ph->end_ms ? ph->end_ms : now) -
			    ph->start_ms, dur, sizeof dur);
			if (ph->start_ms && ph->state == KU_STATE_RUNNING) {
				/* the estimate: targets finished so far */
				size_t done = 0, all = 0;
				for (size_t s = 0; s < ph->n_steps; s++) {
					struct wz_counts c =
					    wz_step_counts(&ph->steps[s]);
					done += c.done + c.skipped;
					all += c.n;
				}
				if (done > 0 && all > done) {
					char left[32];
					uint64_t el = now - ph->start_ms;
					ku_format_duration(el * (all - done) /
					    done, left, sizeof left);
					snprintf(right, sizeof right,
					    _("%s, about %s left"), dur, left);
				} else {
					snprintf(right, sizeof right, "%s",
					    dur);
				}
			} else if (ph->start_ms) {
				snprintf(right, sizeof right, "%s", dur);
			}
			wz_glyph(ph->state, y, 1);
			attrset(A_BOLD);
			ku_ui_printf(y, 3, COLS - 30, _("Phase %s: %s"),
			    ph->id, _(ph->title));
			attrset(A_NORMAL);
			ku_ui_put(y, COLS - 1 - ku_ui_width(right),
			    ku_ui_width(right), 0, right);
			continue;
		} else {
			struct wz_step *st = &ph->steps[row->s];
			struct wz_counts c = wz_step_counts(st);
			enum ku_state s = wz_step_state(st);
			const char *noun = wz_scope_noun(st->scope);
			char right[96];
			bool is_sel = w->list_top + r == (int)sel;

			if (noun)
				snprintf(right, sizeof right, "%s %zu/%zu%s",
				    noun, c.done + c.skipped, c.n,
				    c.failed ? "!" : "");
			else
				snprintf(right, sizeof right, "%s",
				    wz_state_label(s));
			if (is_sel) {
				attrset(ku_ui_attr(KU_C_SELECTED));
				mvhline(y, 0, ' ', COLS);
			}
			ku_ui_put(y, 3, 2, 0, is_sel ?
			    ku_ui_glyph(KU_G_ARROW) : " ");
			if (!is_sel)
				wz_glyph(s, y, 5);
			else
				ku_ui_put(y, 5, 2, 0, s == KU_STATE_RUNNING ?
				    ku_ui_spinner(ku_ui_ticks()) :
				    s == KU_STATE_DONE ?
				    ku_ui_glyph(KU_G_DONE) : s ==
				    KU_STATE_FAILED ? ku_ui_glyph(KU_G_FAILED) :
				    s == KU_STATE_SKIPPED ?
				    ku_ui_glyph(KU_G_SKIPPED) :
				    ku_ui_glyph(KU_G_WAITING));
			if (is_sel)
				attrset(ku_ui_attr(KU_C_SELECTED));
			ku_ui_printf(y, 7, COLS - 30, "%s: %s", st->id,
			    _(st->title));
			if (s == KU_STATE_FAILED && !is_sel)
				attrset(ku_ui_attr(KU_C_FAILED));
			ku_ui_put(y, COLS - 1 - ku_ui_width(right),
			    ku_ui_width(right), 0, right);
			attrset(A_NORMAL);
		}
	}

	/* the selected substep's log, live */
	pane_y = y0 + list_h;
	ku_ui_hline(pane_y, 0, COLS);
	if (w->sel_phase < w->n_phases &&
	    w->sel_step < w->phases[w->sel_phase].n_steps) {
		struct wz_step *st = &w->phases[w->sel_phase].steps[w->sel_step];
		ku_ui_printf(pane_y, 2, COLS - 4, _(" log of %s/%s "),
		    w->phases[w->sel_phase].id, st->id);
	}
	ku_pager_draw(&w->pager, pane_y + 1, 0, LINES - pane_y - 3, COLS);
	if (w->deciding && !w->dialog.open) {
		attrset(ku_ui_attr(KU_C_FAILED));
		mvhline(LINES - 2, 0, ' ', COLS);
		ku_ui_put(LINES - 2, 1, COLS - 2, 0, _("A substep failed: "
		    "press Enter to retry, skip or abort"));
		attrset(A_NORMAL);
	} else if (w->stopping) {
		attrset(ku_ui_attr(KU_C_WARN));
		mvhline(LINES - 2, 0, ' ', COLS);
		ku_ui_put(LINES - 2, 1, COLS - 2, 0, _("Stopping: waiting "
		    "for the work under way to end..."));
		attrset(A_NORMAL);
	}
	ku_ui_footer(wz_install_keys, KU_ARRAY_LEN(wz_install_keys));
}

static int
wz_install_key(struct wz *w, const struct ku_key *k)
{
	enum ku_act act = ku_ui_action(k, wz_install_keys,
	    KU_ARRAY_LEN(wz_install_keys));
	struct wz_row rows[512];
	size_t n = wz_rows(w, rows, KU_ARRAY_LEN(rows)), sel = 0;

	if (n > KU_ARRAY_LEN(rows))
		n = KU_ARRAY_LEN(rows);
	for (size_t i = 0; i < n; i++)
		if (rows[i].p == w->sel_phase && rows[i].s == (long)w->sel_step)
			sel = i;
	switch (act) {
	case KU_A_UP:
	case KU_A_DOWN:
	case KU_A_PGUP:
	case KU_A_PGDN:
	case KU_A_HOME:
	case KU_A_END: {
		long i = (long)sel;
		int dir = act == KU_A_UP || act == KU_A_PGUP ||
		    act == KU_A_HOME ? -1 : 1;
		int steps = act == KU_A_UP || act == KU_A_DOWN ? 1 :
		    act == KU_A_PGUP || act == KU_A_PGDN ? 10 : 10000;
		long last = (long)sel;
		while (steps-- > 0) {
			i += dir;
			while (i >= 0 && i < (long)n && rows[i].s < 0)
				i += dir;
			if (i < 0 || i >= (long)n)
				break;
			last = i;
		}
		wz_select(w, rows[last].p, (size_t)rows[last].s);
		w->sel_follow = false;
		return KU_UI_REDRAW;
	}
	case KU_A_VIEW_LOG:
		wz_log_scope(w, WL_STEP, w->sel_phase, w->sel_step, NULL);
		w->back_from_log = WZ_INSTALL;
		w->screen = WZ_LOG;
		return KU_UI_REDRAW;
	case KU_A_ENTER:
		if (w->deciding && !w->dialog.open)
			wz_open_decision(w);
		return KU_UI_REDRAW;
	case KU_A_QUIT:
		wz_ask_quit(w);
		return KU_UI_REDRAW;
	default:
		return 0;
	}
}

const struct wz_screen wz_install_screen = {
	.title = N_("Install"),
	.help = N_("Each phase and substep with its state: waiting, running "
	    "(spinner), done, failed or skipped; \"nodes 3/5\" counts the "
	    "machines finished. The selection follows the running substep "
	    "until you move it; the selected substep's log runs below. When "
	    "a substep fails you choose: retry, skip or abort. q stops the "
	    "install; it can be resumed."),
	.draw = wz_install_draw,
	.key = wz_install_key,
};

/* --- the log viewer --- */

static const struct ku_binding wz_log_keys[] = {
	{ 0, KEY_F(1), KU_A_HELP, "F1", N_("help") },
	{ 27, 0, KU_A_BACK, "Esc", N_("back") },
	{ '/', 0, KU_A_SEARCH, "/", N_("search") },
	{ 'n', 0, KU_A_SEARCH_NEXT, "n/N", N_("next/prev") },
	{ 'N', 0, KU_A_SEARCH_PREV, NULL, NULL },
	{ 'e', 0, KU_A_FILTER, "e", N_("errors") },
	{ 'w', 0, KU_A_WRAP, "w", N_("wrap") },
	{ 'a', 0, KU_A_SCOPE, "a", N_("all/substep") },
	{ 't', 0, KU_A_NEXT_SCREEN, "t", N_("machine") },
	{ 'q', 0, KU_A_BACK, NULL, NULL },
};

static void
wz_log_draw(struct wz *w)
{
	char *t;
	const char *scope;

	switch (w->log_scope) {
	case WL_ALL:
		scope = _("the whole run");
		break;
	case WL_TARGET:
		scope = _("one substep on one machine");
		break;
	default:
		scope = _("one substep");
		break;
	}
	t = xasprintf(_("Log: %s"), scope);
	wz_title(w, t);
	free(t);
	if (w->run) {
		char *s = NULL;
		if (w->log_scope != WL_ALL && w->sel_phase < w->n_phases &&
		    w->sel_step < w->phases[w->sel_phase].n_steps)
			s = xasprintf("%s/%s%s%s  %s", w->phases[w->sel_phase].id,
			    w->phases[w->sel_phase].steps[w->sel_step].id,
			    w->log_scope == WL_TARGET ? " " : "",
			    w->log_scope == WL_TARGET && w->log_target_name ?
			    w->log_target_name : "",
			    ku_run_log_path(w->run));
		else
			s = xstrdup(ku_run_log_path(w->run));
		ku_ui_put(1, 1, COLS - 2, 0, s);
		free(s);
	}
	ku_pager_draw(&w->pager, 2, 0, LINES - 3, COLS);
	ku_ui_footer(wz_log_keys, KU_ARRAY_LEN(wz_log_keys));
}

static int
wz_log_key(struct wz *w, const struct ku_key *k)
{
	enum ku_act act;

	if (w->pager.searching) {
		ku_pager_key(&w->pager, k, k->act);
		return KU_UI_REDRAW;
	}
	act = ku_ui_action(k, wz_log_keys, KU_ARRAY_LEN(wz_log_keys));
	if (act == KU_A_BACK) {
		w->screen = w->back_from_log;
		if (w->screen == WZ_INSTALL)
			wz_log_scope(w, WL_STEP, w->sel_phase, w->sel_step,
			    NULL);
		if (w->screen == WZ_INSTALL && w->deciding &&
		    w->decision < 0 && !w->dialog.open)
			wz_open_decision(w);
		return KU_UI_REDRAW;
	}
	if (act == KU_A_SCOPE) {
		wz_log_scope(w, w->log_scope == WL_ALL ? WL_STEP : WL_ALL,
		    w->sel_phase, w->sel_step, NULL);
		return KU_UI_REDRAW;
	}
	if (act == KU_A_NEXT_SCREEN && w->sel_phase < w->n_phases &&
	    w->sel_step < w->phases[w->sel_phase].n_steps) {
		/* one machine of the substep, the next at each press */
		struct wz_step *st = &w->phases[w->sel_phase].steps[w->sel_step];
		size_t next = 0;
		if (w->log_scope == WL_TARGET && w->log_target_name)
			for (size_t i = 0; i < st->n_targets; i++)
				if (strcmp(st->targets[i].name,
				    w->log_target_name) == 0)
					next = i + 1;
		if (next >= st->n_targets) {
			free(w->log_target_name);
			w->log_target_name = NULL;
			wz_log_scope(w, WL_STEP, w->sel_phase, w->sel_step,
			    NULL);
		} else {
			free(w->log_target_name);
			w->log_target_name = xstrdup(st->targets[next].name);
			wz_log_scope(w, WL_TARGET, w->sel_phase, w->sel_step,
			    w->log_target_name);
		}
		return KU_UI_REDRAW;
	}
	return ku_pager_key(&w->pager, k, act) ? KU_UI_REDRAW : 0;
}

const struct wz_screen wz_log_screen = {
	.title = N_("Log"),
	.help = N_("Up/Down, PgUp/PgDn, Home/End scroll; the view follows "
	    "new lines while it is at the bottom (End). / searches, n and N "
	    "go to the next and previous match. e shows only errors and "
	    "warnings; w switches wrapping (Left/Right scroll sideways "
	    "without it); a switches between the whole run and the "
	    "substep; t shows one machine of the substep, the next at each "
	    "press."),
	.draw = wz_log_draw,
	.key = wz_log_key,
};

/* --- after the run --- */

static const struct ku_binding wz_end_keys[] = {
	{ 0, KEY_F(1), KU_A_HELP, "F1", N_("help") },
	{ 'l', 0, KU_A_VIEW_LOG, "l", N_("log") },
	{ 'q', KEY_F(10), KU_A_QUIT, "q", N_("quit") },
};

static int
wz_end_key(struct wz *w, const struct ku_key *k)
{
	enum ku_act act = ku_ui_action(k, wz_end_keys,
	    KU_ARRAY_LEN(wz_end_keys));

	if (act == KU_A_VIEW_LOG) {
		w->back_from_log = w->screen;
		wz_log_scope(w, WL_ALL, 0, 0, NULL);
		w->screen = WZ_LOG;
		return KU_UI_REDRAW;
	}
	if (act == KU_A_QUIT || act == KU_A_ENTER) {
		w->exit_status = w->screen == WZ_DONE ? 0 : 1;
		return KU_UI_QUIT;
	}
	return 0;
}

static int
wz_list(int y, const char *head, const struct ku_strv *items, int max)
{
	int n = 0;

	if (items->n == 0)
		return 0;
	attrset(A_BOLD);
	ku_ui_put(y, 2, COLS - 4, 0, head);
	attrset(A_NORMAL);
	for (size_t i = 0; i < items->n && n < max; i++, n++)
		ku_ui_printf(y + 1 + n, 4, COLS - 6, "%s", items->v[i]);
	if (items->n > (size_t)max)
		ku_ui_printf(y + 1 + n++, 4, COLS - 6, _("... and %zu more"),
		    items->n - (size_t)max);
	return n + 2;
}

static void
wz_aborted_draw(struct wz *w)
{
	const char *dir = w->run ? ku_run_state_dir(w->run) : "";
	int y = 2;
	char *s;

	wz_title(w, _("The install did not finish"));
	attrset(ku_ui_attr(KU_C_FAILED));
	s = xasprintf(_("Stopped: %s."), ku_strerror(w->run_rc));
	ku_ui_put(y++, 2, COLS - 4, 0, s);
	free(s);
	attrset(A_NORMAL);
	y++;
	{
		/* every failed target with its reason, from the events */
		struct ku_strv what = { 0 };
		for (size_t p = 0; p < w->n_phases; p++)
			for (size_t st = 0; st < w->phases[p].n_steps; st++) {
				struct wz_step *x = &w->phases[p].steps[st];
				for (size_t t = 0; t < x->n_targets; t++)
					if (x->targets[t].state ==
					    KU_STATE_FAILED)
						ku_strv_push_owned(&what,
						    xasprintf("%s/%s %s: %s",
						    w->phases[p].id, x->id,
						    x->targets[t].name,
						    x->targets[t].message ?
						    x->targets[t].message :
						    ""));
			}
		y += wz_list(y, _("What failed, and where:"), what.n ? &what :
		    &w->failed, LINES / 3);
		ku_strv_free(&what);
	}
	y += wz_list(y, _("Skipped:"), &w->skipped, 4);
	ku_ui_printf(y++, 2, COLS - 4, _("Log: %s"),
	    w->run ? ku_run_log_path(w->run) : "");
	y++;
	ku_ui_put(y++, 2, COLS - 4, 0, _("After fixing the cause, resume "
	    "with:"));
	attrset(A_BOLD);
	ku_ui_printf(y++, 4, COLS - 6, "kubeup --batch %s/answers.conf "
	    "--resume --state-dir %s", dir, dir);
	attrset(A_NORMAL);
	ku_ui_put(y++, 2, COLS - 4, 0, _("or run kubeup again and choose "
	    "Resume."));
	ku_ui_footer(wz_end_keys, KU_ARRAY_LEN(wz_end_keys));
}

const struct wz_screen wz_aborted_screen = {
	.title = N_("The install did not finish"),
	.help = N_("What failed is listed with the machine; the log has "
	    "the details (l). Everything that finished is recorded in the "
	    "journal: resuming does only what is left."),
	.draw = wz_aborted_draw,
	.key = wz_end_key,
};

/* A command in bold, wrapped rather than cut, so that all of it can be
 * read off the screen; below *y, moved on. */
static void
wz_command(int *y, const char *cmd)
{
	struct ku_strv parts = { 0 };

	ku_ui_wrap(cmd, COLS - 6, &parts);
	attrset(A_BOLD);
	for (size_t i = 0; i < parts.n && *y < LINES - 2; i++)
		ku_ui_put((*y)++, 4, COLS - 6, 0, parts.v[i]);
	attrset(A_NORMAL);
	ku_strv_free(&parts);
}

static void
wz_done_draw(struct wz *w)
{
	const char *dir = w->run ? ku_run_state_dir(w->run) : "";
	int y = 2;
	char dur[32], *cmd, *conf, *q;

	wz_title(w, _("Done"));
	ku_format_duration(w->run_end_ms - w->run_start_ms, dur, sizeof dur);
	attrset(ku_ui_attr(KU_C_DONE));
	ku_ui_printf(y++, 2, COLS - 4, _("Cluster \"%s\" is installed, in "
	    "%s."), w->spec->name, dur);
	attrset(A_NORMAL);
	y++;
	ku_ui_printf(y++, 2, COLS - 4,
	    _("Admin kubeconfig: %s/kubeconfig/admin.conf"), dir);
	ku_ui_put(y++, 2, COLS - 4, 0, _("Try:"));
	conf = xasprintf("%s/kubeconfig/admin.conf", dir);
	q = ku_sh_quote(conf);
	cmd = xasprintf("kubectl --kubeconfig %s get nodes", q);
	wz_command(&y, cmd);
	free(cmd);
	if (w->spec->ssh.jump != NULL) {
		ku_ui_printf(y++, 2, COLS - 4, _("Where only the jump host %s "
		    "is reachable, forward the apiserver's port first:"),
		    w->spec->ssh.jump->address);
		cmd = ku_spec_api_forward(w->spec);
		wz_command(&y, cmd);
		free(cmd);
		ku_ui_put(y++, 2, COLS - 4, 0, _("then:"));
		cmd = xasprintf("kubectl --kubeconfig %s --server "
		    "https://127.0.0.1:%d get nodes", q, KU_PKI_API_PORT);
		wz_command(&y, cmd);
		free(cmd);
	}
	free(q);
	free(conf);
	y++;
	if (w->skipped.n) {
		/* every skipped substep, by name; the machines when only some
		 * of its targets were skipped */
		struct ku_buf b;
		struct ku_strv parts = { 0 };
		ku_buf_init(&b, 0);
		for (size_t p = 0; p < w->n_phases; p++)
			for (size_t i = 0; i < w->phases[p].n_steps; i++) {
				struct wz_step *st = &w->phases[p].steps[i];
				struct wz_counts c = wz_step_counts(st);
				if (c.skipped == 0)
					continue;
				ku_buf_printf(&b, "%s%s/%s", b.len ? ", " : "",
				    w->phases[p].id, st->id);
				if (c.skipped < c.n) {
					ku_buf_adds(&b, " (");
					for (size_t t = 0, k = 0; t < st->n_targets;
					    t++)
						if (st->targets[t].state ==
						    KU_STATE_SKIPPED)
							ku_buf_printf(&b, "%s%s",
							    k++ ? " " : "",
							    st->targets[t].name);
					ku_buf_adds(&b, ")");
				}
			}
		attrset(ku_ui_attr(KU_C_WARN));
		ku_ui_put(y++, 2, COLS - 4, 0, _("These substeps were skipped: "
		    "the cluster may be incomplete."));
		attrset(A_NORMAL);
		ku_ui_wrap(b.data ? b.data : "", COLS - 6, &parts);
		for (size_t i = 0; i < parts.n && y < LINES - 2; i++)
			ku_ui_put(y++, 4, COLS - 6, 0, parts.v[i]);
		ku_strv_free(&parts);
		ku_buf_free(&b);
	}
	ku_ui_footer(wz_end_keys, KU_ARRAY_LEN(wz_end_keys));
}

const struct wz_screen wz_done_screen = {
	.title = N_("Done"),
	.help = N_("The admin kubeconfig gives full access to the cluster: "
	    "keep it safe."),
	.draw = wz_done_draw,
	.key = wz_end_key,
};
