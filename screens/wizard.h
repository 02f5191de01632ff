/* The wizard: screens built from ui/ and the engine's events.
 *
 * Each screen is one entry of a table (screens.c) with init, draw and key
 * functions. The UI thread only draws and reads keys: the engine runs in a
 * thread of its own and its events are copied into a queue (install.c);
 * connection checks run in threads too (check.c).
 */
#ifndef KU_WIZARD_H
#define KU_WIZARD_H

#include <pthread.h>
#include <stdbool.h>

#include "events.h"
#include "plan.h"
#include "run.h"
#include "spec.h"
#include "ui.h"

/* What main.c passes. */
struct ku_wizard_opts {
	const char *answers;      /* prefill from this answers.conf, or NULL */
	const char *state_dir;    /* --state-dir, or NULL */
	const char *templates;    /* --templates, or NULL */
};

/* Opens the wizard; returns kubeup's exit status (0 installed, 1 failed,
 * 2 usage, 3 interrupted or quit). */
int ku_wizard_main(const struct ku_wizard_opts *opts);

enum wz_screen_id {
	WZ_WELCOME, WZ_PROVIDER, WZ_CLUSTER, WZ_MACHINES, WZ_NETWORK,
	WZ_ADDONS, WZ_REVIEW, WZ_INSTALL, WZ_LOG, WZ_ABORTED, WZ_DONE,
	WZ__COUNT
};

struct wz;
struct wz_job;

struct wz_screen {
	const char *title;        /* N_() */
	const char *help;         /* N_() */
	void (*init)(struct wz *w);
	void (*draw)(struct wz *w);
	int (*key)(struct wz *w, const struct ku_key *k);
	/* Copies the screen's fields into the spec; false when one is wrong
	 * (the screen shows which). NULL: nothing to keep. */
	bool (*leave)(struct wz *w);
	const struct ku_binding *keys;
	size_t n_keys;
};

extern const struct wz_screen wz_screens[WZ__COUNT];

/* --- forms (form.c): the input screens' fields --- */

enum wz_item_kind { WI_TEXT, WI_CHOICE, WI_TOGGLE, WI_BUTTON, WI_LABEL };

struct wz_item {
	enum wz_item_kind kind;
	char *label;               /* translated */
	char *key;                 /* the answers key its problems name */
	struct ku_field field;     /* WI_TEXT */
	const char *const *choices;/* WI_CHOICE, translated */
	size_t n_choices;
	size_t choice;
	bool on;                   /* WI_TOGGLE */
	int action;                /* WI_BUTTON: given to the screen */
	char *error;               /* the reader's message, or NULL */
	int ref;                   /* the screen's: which machine */
};

struct wz_form {
	struct wz_item *v;
	size_t n, cap;
	size_t focus;
	size_t top;
};

struct wz_item *wz_form_add(struct wz_form *f, enum wz_item_kind kind,
    const char *label, const char *key);
struct wz_item *wz_form_text(struct wz_form *f, const char *label,
    const char *key, const char *value);
void wz_form_free(struct wz_form *f);
/* Draws the form in rows y .. y+h-1. */
void wz_form_draw(struct wz_form *f, int y, int h);
/* Keys: returns KU_UI_* flags; *action is set when a button is pressed. */
int wz_form_key(struct wz *w, struct wz_form *f, const struct ku_key *k,
    int *action);
/* Validates the spec and puts the problems on the items whose key they
 * name; with `only`, only on that item. True when none. */
bool wz_form_check(struct wz *w, struct wz_form *f, struct wz_item *only);
struct wz_item *wz_form_find(struct wz_form *f, const char *key);

/* --- the engine's side (install.c) --- */

struct wz_target {
	char *name;
	enum ku_state state;
	int attempt;
	char *message;             /* the last failure */
};

struct wz_step {
	char *id;
	const char *title;         /* untranslated, static */
	enum ku_scope scope;
	struct wz_target *targets;
	size_t n_targets;
	uint64_t start_ms, end_ms;
};

struct wz_phase {
	char *id;
	const char *title;
	struct wz_step *steps;
	size_t n_steps;
	enum ku_state state;
	uint64_t start_ms, end_ms;  /* monotonic; 0: not yet */
};

/* A message from another thread to the UI thread. */
struct wz_msg;

struct wz_check {                  /* one machine's connection check */
	char *name;
	char *address;
	int port;
	enum { WC_WAITING, WC_RUNNING, WC_OK, WC_UNKNOWN_KEY, WC_FAILED,
	    WC_REFUSED } state;
	char *message;
	char *fingerprint;         /* of an unknown host key */
};

struct wz {
	struct ku_wizard_opts opts;
	struct ku_spec *spec;      /* the answers being edited */
	enum wz_screen_id screen;
	enum wz_screen_id back_from_log;
	struct wz_form form;       /* the current input screen's */
	struct ku_dialog dialog;
	bool help_open;
	char *status;              /* a one-line message at the bottom */
	bool status_error;
	int exit_status;
	bool quit;

	/* welcome */
	char *resume_dir;          /* an unfinished install found there */
	bool resume;

	/* review */
	int review_top;
	struct ku_strv review_lines;

	/* machines: connection checks, one thread (job) each */
	struct wz_job *jobs;
	size_t n_jobs;
	struct wz_check *checks;
	size_t n_checks;
	size_t checks_running;
	bool checks_shown;

	/* install */
	struct ku_run *run;
	bool running;              /* the engine thread runs */
	bool stopping;             /* the operator asked to stop */
	/* under lock: the run is being stopped, so any decision the engine
	 * asks for from now on is abort, answered at once (the screen may
	 * be gone) */
	bool abandon;
	pthread_t engine_thread;
	ku_rc run_rc;
	struct ku_strv skipped, failed;
	struct wz_phase *phases;
	size_t n_phases;
	size_t sel_phase, sel_step;
	bool sel_follow;           /* the selection follows the running step */
	int list_top;
	uint64_t run_start_ms, run_end_ms;
	/* a pending decision */
	bool deciding;
	char *pause_phase, *pause_step;
	struct ku_strv pause_targets, pause_messages;
	int decision;              /* -1 until answered */
	bool decision_dialog;      /* the dialog is showing it */

	/* the log, read from the run's file as it grows */
	struct ku_pager pager;
	int log_fd, inotify_fd;
	struct ku_buf log_partial;
	/* the log viewer's scope */
	enum { WL_ALL, WL_STEP, WL_TARGET } log_scope;
	uint32_t log_tag_step;     /* phase << 24 | step << 16 */
	char *log_target;          /* "] [node-1] ", matched in lines */
	char *log_target_name;

	/* the queue from other threads */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wz_msg *head, *tail;
};

/* screens.c */
void wz_go(struct wz *w, enum wz_screen_id s);
void wz_status(struct wz *w, bool error, const char *fmt, ...)
    KU_PRINTF(3, 4);
void wz_title(struct wz *w, const char *title);
void wz_draw_status(struct wz *w);
void wz_ask_quit(struct wz *w);
/* The machine list for the spec's node count: names, inherited values. */
void wz_spec_resize_nodes(struct ku_spec *spec, int n);

/* install.c */
void wz_install_start(struct wz *w);
int wz_drain(struct wz *w);
int wz_log_readable(struct wz *w);
void wz_install_stop(struct wz *w);
void wz_install_cleanup(struct wz *w);
bool wz_install_animating(const struct wz *w);
/* "phase 1 / connect": the tag of a log line; 0xffff: none. */
void wz_log_scope(struct wz *w, int scope, size_t phase, size_t step,
    const char *target);
extern const struct wz_screen wz_install_screen, wz_log_screen,
    wz_aborted_screen, wz_done_screen;

/* check.c */
void wz_checks_start(struct wz *w);
void wz_checks_accept(struct wz *w, size_t i);
void wz_checks_free(struct wz *w);
void wz_checks_message(struct wz *w, struct wz_msg *m);

/* the queue */
enum wz_msg_kind { WM_EVENT, WM_PAUSE, WM_END, WM_CHECK };
struct wz_msg {
	enum wz_msg_kind kind;
	struct wz_msg *next;
	/* WM_EVENT */
	enum ku_event_type type;
	char *phase, *substep, *target, *message;
	enum ku_state state;
	int attempt;
	ku_rc error;
	/* WM_END */
	ku_rc rc;
	/* WM_CHECK */
	size_t index;
	int check_state;
	char *fingerprint;
};
void wz_post(struct wz *w, struct wz_msg *m);
void wz_msg_free(struct wz_msg *m);

#endif
