#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "i18n.h"
#include "util.h"

/* The decision's name as the operator reads it. */
static const char *
ku_decision_label(const char *id)
{
	if (ku_streq(id, "retry"))
		return _("retry");
	if (ku_streq(id, "skip"))
		return _("skip");
	if (ku_streq(id, "abort"))
		return _("abort");
	return id;
}

static void
ku_batch_clock(char *out, size_t len, uint64_t wall_ms)
{
	char full[40];
	ku_format_time(wall_ms, full, sizeof full);
	/* "2026-11-25T13:02:11.123Z" -> "13:02:11" */
	snprintf(out, len, "%.8s", full + 11);
}

static void
ku_batch_human(struct ku_batch *b, const struct ku_event *ev)
{
	char when[16], dur[32];

	ku_batch_clock(when, sizeof when, ev->wall_ms);
	ku_format_duration(ev->duration_ms, dur, sizeof dur);
	switch (ev->type) {
	case KU_EV_RUN_START:
		break;
	case KU_EV_PHASE_START:
		fprintf(b->out, _("[%s] phase %s: %s\n"), when, ev->phase,
		    _(ev->phase_title));
		break;
	case KU_EV_PHASE_END:
		if (ev->state == KU_STATE_DONE)
			fprintf(b->out, _("[%s] phase %s done in %s\n"), when,
			    ev->phase, dur);
		else
			fprintf(b->out, _("[%s] phase %s stopped after %s\n"),
			    when, ev->phase, dur);
		break;
	case KU_EV_TARGET:
		switch (ev->state) {
		case KU_STATE_RUNNING:
			if (ev->attempt > 1)
				fprintf(b->out, _("[%s]   %s/%s %s: retrying "
				    "(attempt %d) after: %s\n"), when,
				    ev->phase, ev->substep, ev->target,
				    ev->attempt, ev->message ? ev->message :
				    ku_strerror(ev->error));
			else
				fprintf(b->out, _("[%s]   %s/%s %s: started\n"),
				    when, ev->phase, ev->substep, ev->target);
			break;
		case KU_STATE_DONE:
			if (ev->message)   /* finished in an earlier run */
				fprintf(b->out, _("[%s]   %s/%s %s: done (%s)\n"),
				    when, ev->phase, ev->substep, ev->target,
				    ev->message);
			else
				fprintf(b->out, _("[%s]   %s/%s %s: done in %s\n"),
				    when, ev->phase, ev->substep, ev->target,
				    dur);
			break;
		case KU_STATE_FAILED:
			fprintf(b->out, _("[%s]   %s/%s %s: FAILED after %s: "
			    "%s\n"), when, ev->phase, ev->substep, ev->target,
			    dur, ev->message ? ev->message :
			    ku_strerror(ev->error));
			break;
		case KU_STATE_SKIPPED:
			fprintf(b->out, _("[%s]   %s/%s %s: skipped%s%s\n"),
			    when, ev->phase, ev->substep, ev->target,
			    ev->message ? ": " : "",
			    ev->message ? ev->message : "");
			break;
		case KU_STATE_PENDING:
			if (ev->error == KU_ERR_INTERRUPTED)
				fprintf(b->out, _("[%s]   %s/%s %s: "
				    "interrupted\n"), when, ev->phase,
				    ev->substep, ev->target);
			break;
		default:
			break;
		}
		break;
	case KU_EV_PAUSED:
		fprintf(b->out, ngettext("[%s] %s/%s still fails on %zu "
		    "target\n", "[%s] %s/%s still fails on %zu targets\n",
		    ev->n_failed), when, ev->phase, ev->substep, ev->n_failed);
		break;
	case KU_EV_DECIDED:
		/* TRANSLATORS: the last %s is "retry", "skip" or "abort",
		   translated. */
		fprintf(b->out, _("[%s] %s/%s: %s (engine.on_failure)\n"), when,
		    ev->phase, ev->substep, ku_decision_label(ev->message));
		break;
	case KU_EV_RUN_END:
		fprintf(b->out, _("[%s] run ended after %s: %zu done, %zu "
		    "failed, %zu skipped of %zu\n"), when, dur, ev->n_done,
		    ev->n_failed, ev->n_skipped, ev->n_total);
		if (ev->message)
			fprintf(b->out, "kubeup: %s\n", ev->message);
		break;
	}
	fflush(b->out);
}

static const char *const ku_event_names[] = {
	[KU_EV_RUN_START] = "run-start",
	[KU_EV_PHASE_START] = "phase-start",
	[KU_EV_PHASE_END] = "phase-end",
	[KU_EV_TARGET] = "target",
	[KU_EV_PAUSED] = "paused",
	[KU_EV_DECIDED] = "decided",
	[KU_EV_RUN_END] = "run-end",
};

static void
ku_json_add_str(struct json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

static void
ku_batch_json(struct ku_batch *b, const struct ku_event *ev)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	ku_format_time(ev->wall_ms, when, sizeof when);
	ku_json_add_str(o, "event", ku_event_names[ev->type]);
	ku_json_add_str(o, "time", when);
	ku_json_add_str(o, "phase", ev->phase);
	ku_json_add_str(o, "substep", ev->substep);
	ku_json_add_str(o, "target", ev->target);
	if (ev->type == KU_EV_TARGET || ev->type == KU_EV_PHASE_END) {
		ku_json_add_str(o, "state", ku_state_name(ev->state));
	}
	if (ev->type == KU_EV_TARGET)
		json_object_object_add(o, "attempt",
		    json_object_new_int(ev->attempt));
	if (ev->type == KU_EV_TARGET || ev->type == KU_EV_PHASE_END ||
	    ev->type == KU_EV_RUN_END)
		json_object_object_add(o, "duration_ms",
		    json_object_new_int64((int64_t)ev->duration_ms));
	if (ev->error != KU_OK)
		ku_json_add_str(o, "error", ku_error_id(ev->error));
	ku_json_add_str(o, "message", ev->message);
	if (ev->type == KU_EV_PAUSED)
		json_object_object_add(o, "failed",
		    json_object_new_int64((int64_t)ev->n_failed));
	if (ev->type == KU_EV_RUN_END) {
		json_object_object_add(o, "done",
		    json_object_new_int64((int64_t)ev->n_done));
		json_object_object_add(o, "failed",
		    json_object_new_int64((int64_t)ev->n_failed));
		json_object_object_add(o, "skipped",
		    json_object_new_int64((int64_t)ev->n_skipped));
		json_object_object_add(o, "total",
		    json_object_new_int64((int64_t)ev->n_total));
	}
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    b->out);
	fputc('\n', b->out);
	fflush(b->out);
	json_object_put(o);
}

static void
ku_batch_event(void *ud, const struct ku_event *ev)
{
	struct ku_batch *b = ud;
	if (b->format == KU_EVENTS_JSON)
		ku_batch_json(b, ev);
	else
		ku_batch_human(b, ev);
}

static enum ku_decision
ku_batch_decide(void *ud, const struct ku_pause *pause)
{
	struct ku_batch *b = ud;
	return b->on_failure == KU_ON_FAILURE_SKIP ? KU_DECIDE_SKIP :
	    KU_DECIDE_ABORT;
}

void
ku_batch_frontend(struct ku_batch *b, struct ku_frontend *fe)
{
	fe->event = ku_batch_event;
	fe->decide = ku_batch_decide;
	fe->ud = b;
}
