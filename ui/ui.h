/* The wizard's toolkit on ncursesw: the terminal, colours by meaning, keys
 * as actions, the event loop, and the widgets. Nothing here knows about
 * Kubernetes; the screens in screens/ are built only from this.
 *
 * Threads: every function here is for the UI thread, except ku_ui_wake(),
 * which any thread (or a signal handler) may call.
 */
#ifndef KU_UI_H
#define KU_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "util.h"

/* --- terminal (term.c) --- */

/* The smallest screen the wizard lays out; below it a message says so. */
#define KU_UI_MIN_COLS 80
#define KU_UI_MIN_ROWS 24

/* Colours named by meaning: name, foreground, monochrome attributes. */
#define KU_UI_THEME(X)                                          \
	X(KU_C_NORMAL,   -1,            A_NORMAL)               \
	X(KU_C_TITLE,    COLOR_CYAN,    A_BOLD)                 \
	X(KU_C_BAR,      COLOR_BLUE,    A_REVERSE)              \
	X(KU_C_KEY,      COLOR_YELLOW,  A_BOLD)                 \
	X(KU_C_SELECTED, COLOR_CYAN,    A_REVERSE)              \
	X(KU_C_FIELD,    -1,            A_UNDERLINE)            \
	X(KU_C_FOCUS,    COLOR_YELLOW,  A_REVERSE)              \
	X(KU_C_ERROR,    COLOR_RED,     A_BOLD)                 \
	X(KU_C_WARN,     COLOR_YELLOW,  A_BOLD)                 \
	X(KU_C_DONE,     COLOR_GREEN,   A_NORMAL)               \
	X(KU_C_RUNNING,  COLOR_CYAN,    A_BOLD)                 \
	X(KU_C_FAILED,   COLOR_RED,     A_BOLD)                 \
	X(KU_C_SKIPPED,  COLOR_MAGENTA, A_DIM)                  \
	X(KU_C_DIM,      -1,            A_DIM)                  \
	X(KU_C_MATCH,    COLOR_YELLOW,  A_REVERSE)

enum ku_ui_color {
#define KU_X(sym, fg, mono) sym,
	KU_UI_THEME(KU_X)
#undef KU_X
	KU_C__COUNT
};

/* Glyphs with an ASCII twin for terminals without UTF-8. */
enum ku_ui_glyph {
	KU_G_DONE, KU_G_FAILED, KU_G_SKIPPED, KU_G_WAITING, KU_G_ARROW,
	KU_G_CHECKED, KU_G_UNCHECKED, KU_G_RADIO_ON, KU_G_RADIO_OFF,
	KU_G__COUNT
};

/* Sets up the terminal: locale-aware curses, colours when the terminal has
 * them and NO_COLOR is unset, ASCII when the locale is not UTF-8 (or
 * KUBEUP_ASCII is set), stderr to errlog_path while curses runs (created
 * 0600; NULL: /dev/null), fatal signals restore the terminal before they
 * kill. Returns false with *err when there is no usable terminal. */
bool ku_ui_init(const char *errlog_path, char **err);
/* Restores the terminal and stderr. Safe to call twice; called at exit. */
void ku_ui_end(void);
bool ku_ui_ascii(void);
bool ku_ui_colors(void);
unsigned ku_ui_attr(enum ku_ui_color c);
const char *ku_ui_glyph(enum ku_ui_glyph g);
/* The spinner's frame for a count that ticks while it animates. */
const char *ku_ui_spinner(unsigned tick);

/* --- drawing helpers (draw.c) --- */

/* Display columns of a UTF-8 string (invalid bytes count one). */
int ku_ui_width(const char *s);
/* Writes s at (y, x), at most w columns, from column `skip` of s; returns
 * the columns written. */
int ku_ui_put(int y, int x, int w, int skip, const char *s);
/* Like ku_ui_put, then pads with blanks to w. */
void ku_ui_put_pad(int y, int x, int w, const char *s);
void ku_ui_printf(int y, int x, int w, const char *fmt, ...) KU_PRINTF(4, 5);
void ku_ui_hline(int y, int x, int w);
void ku_ui_box(int y, int x, int h, int w);
void ku_ui_fill(int y, int x, int h, int w);
/* Splits s into lines of at most w columns at blanks; returns the count
 * and the lines (caller frees with ku_strv_free). */
size_t ku_ui_wrap(const char *s, int w, struct ku_strv *out);

/* --- keys (keys.c) --- */

/* What a key means. Screens handle actions, not key codes. */
enum ku_act {
	KU_A_NONE,
	KU_A_UP, KU_A_DOWN, KU_A_LEFT, KU_A_RIGHT, KU_A_PGUP, KU_A_PGDN,
	KU_A_HOME, KU_A_END, KU_A_NEXT_FIELD, KU_A_PREV_FIELD, KU_A_ENTER,
	KU_A_BACK, KU_A_HELP, KU_A_QUIT, KU_A_TOGGLE, KU_A_BACKSPACE,
	KU_A_DELETE, KU_A_CHAR, KU_A_REDRAW,
	/* letters, meaningful where a screen binds them */
	KU_A_SEARCH, KU_A_SEARCH_NEXT, KU_A_SEARCH_PREV, KU_A_FILTER,
	KU_A_WRAP, KU_A_FOLLOW, KU_A_RETRY, KU_A_SKIP, KU_A_ABORT,
	KU_A_VIEW_LOG, KU_A_CHECK, KU_A_SAVE, KU_A_ACCEPT, KU_A_REFUSE,
	KU_A_NEXT_SCREEN, KU_A_YES, KU_A_NO, KU_A_SCOPE,
};

struct ku_key {
	enum ku_act act;   /* from the navigation table */
	wint_t ch;         /* the character typed, or 0 */
	int code;          /* the curses key code, or 0 */
};

/* A screen's own letter keys, and the footer's text for them. */
struct ku_binding {
	wint_t ch;           /* a character, or 0 */
	int code;            /* a curses key code (KEY_F(2)), or 0 */
	enum ku_act act;
	const char *key;     /* the footer's name of the key: "F1", "r" */
	const char *label;   /* N_("help") */
};

/* Reads one pending key without blocking; false when none. */
bool ku_ui_read_key(struct ku_key *k);
/* The action of k under a screen's bindings (n may be 0), falling back
 * to the navigation table. Printable characters that no binding takes are
 * KU_A_CHAR. */
enum ku_act ku_ui_action(const struct ku_key *k, const struct ku_binding *b,
    size_t n);
/* Draws the footer: the bindings' keys and labels, translated. */
void ku_ui_footer(const struct ku_binding *b, size_t n);

/* --- the loop (term.c) --- */

enum {
	KU_UI_REDRAW = 1,
	KU_UI_QUIT = 2,
};

struct ku_dialog;

struct ku_ui_app {
	/* Keys, one at a time: returns KU_UI_* flags. */
	int (*key)(void *ud, const struct ku_key *k);
	/* After ku_ui_wake(): drain whatever was queued. Returns flags. */
	int (*wake)(void *ud);
	/* A watched descriptor is readable. Returns flags. */
	int (*fd_ready)(void *ud, int fd);
	/* Draws the whole screen (after erase()). */
	void (*draw)(void *ud);
	/* A signal asked kubeup to stop (SIGINT, SIGTERM, SIGHUP). */
	int (*stop)(void *ud, int sig);
	/* > 0: redraw every so many ms while it returns so (a spinner);
	 * 0: sleep until a key or a wake. */
	int (*tick_ms)(void *ud);
	/* The screen's dialog (asked only while open), or NULL. A
	 * terminal below the minimum size shows it in plain lines and passes
	 * the keys on, so that it can still be answered. */
	const struct ku_dialog *(*question)(void *ud);
	void *ud;
};

/* Runs until a handler returns KU_UI_QUIT. Idle it sleeps in poll(). */
void ku_ui_run(const struct ku_ui_app *app);
/* Wakes the loop: async-signal-safe, any thread. */
void ku_ui_wake(void);
/* Watches fd (readable) while the loop runs; -1 removes it. One at most. */
void ku_ui_watch(int fd);
/* A clock for the spinner (tenths of seconds). */
unsigned ku_ui_ticks(void);
/* Below KU_UI_MIN_COLS x KU_UI_MIN_ROWS. */
bool ku_ui_too_small(void);

/* --- widgets (widgets.c, pager.c) --- */

/* A one-line text field. */
struct ku_field {
	char *text;          /* UTF-8, owned */
	size_t cursor;       /* byte offset */
	size_t scroll;       /* first byte shown */
	size_t max_len;      /* bytes; 0: 4096 */
	bool secret;         /* shown as stars */
};

void ku_field_set(struct ku_field *f, const char *text);
void ku_field_free(struct ku_field *f);
/* Editing keys; true when the key was taken. */
bool ku_field_key(struct ku_field *f, const struct ku_key *k,
    enum ku_act act);
void ku_field_draw(struct ku_field *f, int y, int x, int w, bool focus);

/* A list to choose one item from (radio) or several (checklist). */
struct ku_list {
	const char *const *items;   /* translated by the caller */
	size_t n;
	size_t sel;                 /* the cursor */
	size_t top;
	bool multi;
	bool *checked;              /* multi: n flags, owned by the caller */
	size_t chosen;              /* !multi: the chosen item */
};

bool ku_list_key(struct ku_list *l, enum ku_act act, int rows);
void ku_list_draw(struct ku_list *l, int y, int x, int h, int w, bool focus);

/* A modal dialog: a title, text, and labels chosen with the arrows,
 * Enter, or a button's hot key. */
struct ku_dialog {
	bool open;
	char *title;
	char *text;
	const char *labels[5];     /* translated */
	wint_t hot[5];              /* hot keys, 0: none */
	size_t n_buttons;
	size_t sel;
	int id;                     /* the caller's tag */
	int scroll;                 /* first text line shown */
};

void ku_dialog_open(struct ku_dialog *d, int id, const char *title,
    const char *text);
void ku_dialog_button(struct ku_dialog *d, const char *label, wint_t hot);
void ku_dialog_close(struct ku_dialog *d);
/* -1: still open (or the key did nothing); -2: Esc; else the button. */
int ku_dialog_key(struct ku_dialog *d, const struct ku_key *k,
    enum ku_act act);
void ku_dialog_draw(struct ku_dialog *d);

/* The pager: lines with a level, search, follow, filter, wrap. */
enum ku_line_level { KU_L_PLAIN, KU_L_WARN, KU_L_ERROR };

struct ku_pager_line {
	char *text;
	unsigned char level;
	unsigned char pad[3];
	uint32_t tag;        /* the caller's: which phase/substep/target */
};

struct ku_pager {
	struct ku_pager_line *v;
	size_t n, cap;
	size_t max_lines;    /* oldest dropped past it; 0: 200000 */
	/* the view */
	size_t *shown;       /* indexes of the lines that pass the filter */
	size_t n_shown, cap_shown;
	size_t top;          /* first shown line (index into shown) */
	int hscroll;
	bool follow;         /* keep the end in view while at the bottom */
	bool wrap;
	bool errors_only;
	/* selection of lines by the caller; NULL: all */
	bool (*keep)(void *ud, const struct ku_pager_line *l);
	void *keep_ud;
	char *search;        /* the last search, or NULL */
	bool searching;      /* the search prompt is open */
	struct ku_field query;
	char *status;        /* "not found: ..." */
	int rows;            /* of the last draw */
	int cols;
};

void ku_pager_init(struct ku_pager *p);
void ku_pager_free(struct ku_pager *p);
void ku_pager_clear(struct ku_pager *p);
void ku_pager_add(struct ku_pager *p, const char *text, size_t len,
    enum ku_line_level level, uint32_t tag);
/* Rebuilds the filtered view (after changing keep or errors_only). */
void ku_pager_refilter(struct ku_pager *p);
/* true when the key was taken. */
bool ku_pager_key(struct ku_pager *p, const struct ku_key *k,
    enum ku_act act);
void ku_pager_draw(struct ku_pager *p, int y, int x, int h, int w);
/* The pager's own keys, for the footer. */
extern const struct ku_binding ku_pager_bindings[];
extern const size_t ku_pager_n_bindings;

#endif
