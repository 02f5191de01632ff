/* The terminal: set-up and tear-down in one place, colours, glyphs, and
 * the event loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "i18n.h"
#include "ui.h"

static struct {
	bool active;
	bool ascii;
	bool colors;
	int saved_stderr;
	bool have_termios;
	struct termios termios;
	/* What a fatal signal writes: precomputed, since a handler may only
	 * call async-signal-safe functions. */
	char restore[256];
	size_t restore_len;
	int wake_pipe[2];
	int watch_fd;
	pthread_t sig_thread;
	bool sig_thread_started;
	volatile sig_atomic_t pending[NSIG];
} ku_term = { .saved_stderr = -1, .wake_pipe = { -1, -1 }, .watch_fd = -1 };

static const short ku_theme_fg[] = {
#define KU_X(sym, fg, mono) fg,
	KU_UI_THEME(KU_X)
#undef KU_X
};
static const unsigned ku_theme_mono[] = {
#define KU_X(sym, fg, mono) mono,
	KU_UI_THEME(KU_X)
#undef KU_X
};

static const char *const ku_glyph_utf8[KU_G__COUNT] = {
	[KU_G_DONE] = "\xe2\x9c\x93",        /* ✓ */
	[KU_G_FAILED] = "\xe2\x9c\x97",      /* ✗ */
	[KU_G_SKIPPED] = "\xc2\xbb",         /* » */
	[KU_G_WAITING] = "\xc2\xb7",         /* · */
	[KU_G_ARROW] = "\xe2\x96\xb6",       /* ▶ */
	[KU_G_CHECKED] = "[x]",
	[KU_G_UNCHECKED] = "[ ]",
	[KU_G_RADIO_ON] = "(*)",
	[KU_G_RADIO_OFF] = "( )",
};
static const char *const ku_glyph_ascii[KU_G__COUNT] = {
	[KU_G_DONE] = "+",
	[KU_G_FAILED] = "X",
	[KU_G_SKIPPED] = ">",
	[KU_G_WAITING] = ".",
	[KU_G_ARROW] = ">",
	[KU_G_CHECKED] = "[x]",
	[KU_G_UNCHECKED] = "[ ]",
	[KU_G_RADIO_ON] = "(*)",
	[KU_G_RADIO_OFF] = "( )",
};
static const char *const ku_spin_utf8[] = {
	"\xe2\xa0\x8b", "\xe2\xa0\x99", "\xe2\xa0\xb9", "\xe2\xa0\xb8",
	"\xe2\xa0\xbc", "\xe2\xa0\xb4", "\xe2\xa0\xa6", "\xe2\xa0\xa7",
	"\xe2\xa0\x87", "\xe2\xa0\x8f",
};
static const char *const ku_spin_ascii[] = { "|", "/", "-", "\\" };

bool
ku_ui_ascii(void)
{
	return ku_term.ascii;
}

bool
ku_ui_colors(void)
{
	return ku_term.colors;
}

unsigned
ku_ui_attr(enum ku_ui_color c)
{
	if (c >= KU_C__COUNT)
		c = KU_C_NORMAL;
	if (!ku_term.colors)
		return ku_theme_mono[c];
	switch (c) {
	case KU_C_NORMAL:
		return A_NORMAL;
	case KU_C_BAR: case KU_C_SELECTED: case KU_C_FOCUS: case KU_C_MATCH:
		return (unsigned)COLOR_PAIR(c) | A_REVERSE;
	case KU_C_FIELD:
		return (unsigned)COLOR_PAIR(c) | A_UNDERLINE;
	case KU_C_DIM:
		return A_DIM;
	case KU_C_TITLE: case KU_C_KEY: case KU_C_ERROR: case KU_C_WARN:
	case KU_C_RUNNING: case KU_C_FAILED:
		return (unsigned)COLOR_PAIR(c) | A_BOLD;
	default:
		return (unsigned)COLOR_PAIR(c);
	}
}

const char *
ku_ui_glyph(enum ku_ui_glyph g)
{
	return (ku_term.ascii ? ku_glyph_ascii : ku_glyph_utf8)[g];
}

const char *
ku_ui_spinner(unsigned tick)
{
	if (ku_term.ascii)
		return ku_spin_ascii[tick % KU_ARRAY_LEN(ku_spin_ascii)];
	return ku_spin_utf8[tick % KU_ARRAY_LEN(ku_spin_utf8)];
}

unsigned
ku_ui_ticks(void)
{
	return (unsigned)(ku_now_ms() / 100);
}

static void
ku_restore_add(const char *cap)
{
	char *s = tigetstr((char *)cap);
	size_t len;

	if (s == NULL || s == (char *)-1)
		return;
	len = strlen(s);
	if (ku_term.restore_len + len < sizeof ku_term.restore) {
		memcpy(ku_term.restore + ku_term.restore_len, s, len);
		ku_term.restore_len += len;
	}
}

/* Fatal signals: put the terminal back, then die of the signal. */
static void
ku_fatal_handler(int sig)
{
	if (ku_term.active) {
		if (ku_term.have_termios)
			tcsetattr(STDIN_FILENO, TCSANOW, &ku_term.termios);
		if (write(STDOUT_FILENO, ku_term.restore,
		    ku_term.restore_len) < 0)
			(void)0;
		if (ku_term.saved_stderr >= 0)
			dup2(ku_term.saved_stderr, STDERR_FILENO);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* SIGINT, SIGTERM, SIGHUP and SIGWINCH are blocked in every thread and
 * taken here; the loop learns of them through the wake pipe. */
static void *
ku_sig_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)
			return NULL;
		if (sig > 0 && sig < NSIG)
			ku_term.pending[sig] = 1;
		ku_ui_wake();
	}
}

static sigset_t ku_sigset;

static void
ku_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

bool
ku_ui_init(const char *errlog_path, char **err)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	const char *codeset = nl_langinfo(CODESET);
	const char *nc = getenv("NO_COLOR");
	const char *ascii = getenv("KUBEUP_ASCII");
	struct sigaction sa;
	int fd;

	*err = NULL;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*err = xstrdup(_("the wizard needs a terminal; without one use "
		    "--batch FILE"));
		return false;
	}
	if (pipe(ku_term.wake_pipe) != 0) {
		*err = xasprintf("pipe: %s", strerror(errno));
		return false;
	}
	ku_set_nonblock(ku_term.wake_pipe[0]);
	ku_set_nonblock(ku_term.wake_pipe[1]);
	ku_term.have_termios = tcgetattr(STDIN_FILENO, &ku_term.termios) == 0;

	/* Signals first, so that every thread made later blocks them. */
	sigemptyset(&ku_sigset);
	sigaddset(&ku_sigset, SIGINT);
	sigaddset(&ku_sigset, SIGTERM);
	sigaddset(&ku_sigset, SIGHUP);
	sigaddset(&ku_sigset, SIGWINCH);
	sigaddset(&ku_sigset, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &ku_sigset, NULL);
	if (pthread_create(&ku_term.sig_thread, NULL, ku_sig_thread,
	    &ku_sigset) == 0)
		ku_term.sig_thread_started = true;

	ku_term.ascii = (ascii && *ascii) || codeset == NULL ||
	    (strcmp(codeset, "UTF-8") != 0 && strcmp(codeset, "utf8") != 0);

	/* Nothing of libssh2 or libcurl, nor any other stray message, may
	 * land on the screen. */
	fflush(stderr);
	ku_term.saved_stderr = dup(STDERR_FILENO);
	fd = errlog_path ? open(errlog_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0600) : -1;
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}

	if (getenv("ESCDELAY") == NULL)
		set_escdelay(25);
	if (newterm(NULL, stdout, stdin) == NULL) {
		ku_ui_end();
		*err = xasprintf(_("cannot use the terminal \"%s\"; set TERM "
		    "or use --batch FILE"), getenv("TERM") ? getenv("TERM") :
		    "");
		return false;
	}
	ku_term.active = true;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	meta(stdscr, TRUE);

	ku_term.colors = has_colors() && (nc == NULL || nc[0] == '\0');
	if (ku_term.colors && start_color() == OK) {
		use_default_colors();
		for (int c = 1; c < KU_C__COUNT; c++)
			init_pair((short)c, ku_theme_fg[c], -1);
	} else {
		ku_term.colors = false;
	}

	ku_restore_add("sgr0");
	ku_restore_add("cnorm");
	ku_restore_add("rmkx");
	ku_restore_add("rmcup");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ku_fatal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < KU_ARRAY_LEN(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
	atexit(ku_ui_end);
	return true;
}

void
ku_ui_end(void)
{
	if (ku_term.active) {
		ku_term.active = false;
		curs_set(1);
		endwin();
		fflush(stdout);
	}
	if (ku_term.saved_stderr >= 0) {
		dup2(ku_term.saved_stderr, STDERR_FILENO);
		close(ku_term.saved_stderr);
		ku_term.saved_stderr = -1;
	}
	if (ku_term.sig_thread_started) {
		ku_term.sig_thread_started = false;
		pthread_kill(ku_term.sig_thread, SIGUSR2);
		pthread_join(ku_term.sig_thread, NULL);
	}
}

void
ku_ui_wake(void)
{
	int saved = errno;
	if (ku_term.wake_pipe[1] >= 0 &&
	    write(ku_term.wake_pipe[1], "w", 1) < 0)
		(void)0;   /* full: the loop wakes anyway */
	errno = saved;
}

void
ku_ui_watch(int fd)
{
	ku_term.watch_fd = fd;
}

static void
ku_ui_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
}

static const struct ku_dialog *
ku_ui_question(const struct ku_ui_app *app)
{
	const struct ku_dialog *d = app->question ? app->question(app->ud) :
	    NULL;

	return d && d->open ? d : NULL;
}

/* Below the minimum size: what is wrong, and the open question (if any)
 * in plain lines, its buttons with their keys; the lines that do not fit
 * are cut at the bottom. */
static void
ku_ui_paint_small(const struct ku_ui_app *app)
{
	const struct ku_dialog *d = ku_ui_question(app);
	struct ku_strv wrapped = { 0 };
	int width = COLS > 2 ? COLS - 2 : 1, top;
	char *msg = xasprintf(_("The terminal is %dx%d; the installer needs "
	    "at least %dx%d. Make it larger (q quits)."), COLS, LINES,
	    KU_UI_MIN_COLS, KU_UI_MIN_ROWS);

	ku_ui_wrap(msg, width, &wrapped);
	free(msg);
	if (d) {
		struct ku_buf b;
		ku_buf_init(&b, 0);
		ku_buf_printf(&b, "\n%s: %s\n", d->title, d->text);
		for (size_t i = 0; i < d->n_buttons; i++) {
			char hot[8] = "";
			if (d->hot[i] && d->hot[i] < 128)
				snprintf(hot, sizeof hot, " (%c)",
				    (char)d->hot[i]);
			ku_buf_printf(&b, "%s%s%s%s%s", i ? "  " : "",
			    i == d->sel ? "[" : "<", d->labels[i], hot,
			    i == d->sel ? "]" : ">");
		}
		ku_ui_wrap(b.data, width, &wrapped);
		ku_buf_free(&b);
	}
	top = LINES / 2 - 1 - (d ? (int)wrapped.n / 2 : 0);
	if (top + (int)wrapped.n > LINES)
		top = LINES - (int)wrapped.n;
	if (top < 0)
		top = 0;
	for (size_t i = 0; i < wrapped.n && top + (int)i < LINES; i++)
		ku_ui_put(top + (int)i, 1, COLS - 2, 0, wrapped.v[i]);
	ku_strv_free(&wrapped);
}

static void
ku_ui_paint(const struct ku_ui_app *app)
{
	erase();
	if (ku_ui_too_small())
		ku_ui_paint_small(app);
	else
		app->draw(app->ud);
	wnoutrefresh(stdscr);
	doupdate();
}

bool
ku_ui_too_small(void)
{
	return LINES < KU_UI_MIN_ROWS || COLS < KU_UI_MIN_COLS;
}

void
ku_ui_run(const struct ku_ui_app *app)
{
	struct pollfd pfd[3];
	int flags = KU_UI_REDRAW;

	for (;;) {
		int n, timeout, tick;
		char drain[256];

		if (flags & KU_UI_QUIT)
			return;
		if (flags & KU_UI_REDRAW)
			ku_ui_paint(app);
		flags = 0;

		tick = app->tick_ms ? app->tick_ms(app->ud) : 0;
		timeout = tick > 0 ? tick : -1;
		pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ku_term.wake_pipe[0],
		    .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = ku_term.watch_fd,
		    .events = POLLIN };
		n = poll(pfd, ku_term.watch_fd >= 0 ? 3 : 2, timeout);
		if (n < 0 && errno != EINTR)
			return;
		if (n == 0) {   /* the spinner's tick */
			flags |= KU_UI_REDRAW;
			continue;
		}
		if (n < 0)
			continue;
		if (pfd[1].revents) {
			while (read(ku_term.wake_pipe[0], drain, sizeof drain) > 0)
				;
			if (ku_term.pending[SIGWINCH]) {
				ku_term.pending[SIGWINCH] = 0;
				ku_ui_resize();
				flags |= KU_UI_REDRAW;
			}
			for (int sig = 1; sig < NSIG; sig++) {
				if (sig == SIGWINCH || !ku_term.pending[sig])
					continue;
				ku_term.pending[sig] = 0;
				if (app->stop)
					flags |= app->stop(app->ud, sig);
			}
			if (app->wake)
				flags |= app->wake(app->ud);
		}
		if (ku_term.watch_fd >= 0 && pfd[2].revents && app->fd_ready)
			flags |= app->fd_ready(app->ud, ku_term.watch_fd);
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			if (app->stop)
				flags |= app->stop(app->ud, SIGHUP);
			if (!(flags & KU_UI_QUIT))
				return;
		}
		if (pfd[0].revents & POLLIN) {
			struct ku_key k;
			while (!(flags & KU_UI_QUIT) && ku_ui_read_key(&k)) {
				if (k.code == KEY_RESIZE) {
					flags |= KU_UI_REDRAW;
					continue;
				}
				/* too small: q or Ctrl-C asks as they do
				 * on a normal screen, and the question's
				 * own keys answer it; nothing else acts on
				 * a screen the operator cannot see */
				if (ku_ui_too_small() && k.ch == 3) {
					if (app->stop)
						flags |= app->stop(app->ud,
						    SIGINT);
					continue;
				}
				if (ku_ui_too_small() &&
				    !ku_ui_question(app)) {
					if (k.ch == 'q' && app->stop)
						flags |= app->stop(app->ud,
						    SIGINT);
					continue;
				}
				flags |= app->key(app->ud, &k);
			}
		}
	}
}
