/* Drawing helpers: text by display columns, lines, boxes, wrapping. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <curses.h>

#include "ui.h"

/* One character of s: its byte length and its columns (invalid bytes and
 * control characters: one byte, one column, shown as '?'). */
static size_t
ku_char(const char *s, int *cols, bool *bad)
{
	mbstate_t st;
	wchar_t wc;
	size_t len;
	int w;

	memset(&st, 0, sizeof st);
	len = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	*bad = false;
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*cols = 1;
		*bad = true;
		return 1;
	}
	w = wcwidth(wc);
	if (w < 0) {
		*cols = 1;
		*bad = true;
		return len;
	}
	*cols = w;
	return len;
}

int
ku_ui_width(const char *s)
{
	int total = 0, cols;
	bool bad;

	while (s && *s) {
		s += ku_char(s, &cols, &bad);
		total += cols;
	}
	return total;
}

int
ku_ui_put(int y, int x, int w, int skip, const char *s)
{
	int col = 0, written = 0, cols;
	bool bad;

	if (s == NULL || w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	move(y, x);
	while (*s) {
		size_t len = ku_char(s, &cols, &bad);
		if (col >= skip) {
			if (written + cols > w)
				break;
			if (bad)
				addch(*s == '\t' ? ' ' : '?');
			else
				addnstr(s, (int)len);
			written += cols;
		} else if (col + cols > skip) {
			/* a wide character cut by the left edge */
			addch(' ');
			written++;
		}
		col += cols;
		s += len;
	}
	return written;
}

void
ku_ui_put_pad(int y, int x, int w, const char *s)
{
	int n = ku_ui_put(y, x, w, 0, s);
	for (; n < w && x + n < COLS; n++)
		mvaddch(y, x + n, ' ');
}

void
ku_ui_printf(int y, int x, int w, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	ku_ui_put(y, x, w, 0, s);
	free(s);
}

/* Lines are drawn with characters, not the terminal's alternate
 * character set: UTF-8 box drawing, or ASCII. A TERM that does not match
 * the terminal (common under tmux and screen, and on serial consoles)
 * then still draws lines, not letters. */
static void
ku_ui_run_of(int y, int x, int n, const char *utf8, char ascii)
{
	if (y < 0 || y >= LINES)
		return;
	for (int i = 0; i < n && x + i < COLS; i++) {
		if (ku_ui_ascii())
			mvaddch(y, x + i, (chtype)ascii);
		else
			mvaddstr(y, x + i, utf8);
	}
}

void
ku_ui_hline(int y, int x, int w)
{
	ku_ui_run_of(y, x, w, "\xe2\x94\x80", '-');
}

void
ku_ui_box(int y, int x, int h, int w)
{
	if (h < 2 || w < 2)
		return;
	ku_ui_run_of(y, x + 1, w - 2, "\xe2\x94\x80", '-');
	ku_ui_run_of(y + h - 1, x + 1, w - 2, "\xe2\x94\x80", '-');
	for (int i = 1; i < h - 1; i++) {
		ku_ui_run_of(y + i, x, 1, "\xe2\x94\x82", '|');
		ku_ui_run_of(y + i, x + w - 1, 1, "\xe2\x94\x82", '|');
	}
	ku_ui_run_of(y, x, 1, "\xe2\x94\x8c", '+');
	ku_ui_run_of(y, x + w - 1, 1, "\xe2\x94\x90", '+');
	ku_ui_run_of(y + h - 1, x, 1, "\xe2\x94\x94", '+');
	ku_ui_run_of(y + h - 1, x + w - 1, 1, "\xe2\x94\x98", '+');
}

void
ku_ui_fill(int y, int x, int h, int w)
{
	for (int i = 0; i < h; i++)
		mvhline(y + i, x, ' ', w);
}

size_t
ku_ui_wrap(const char *s, int w, struct ku_strv *out)
{
	size_t start = out->n;

	if (w < 1)
		w = 1;
	while (s && *s) {
		const char *p = s, *brk = NULL, *nl = strchr(s, '\n');
		int col = 0, cols;
		bool bad;

		while (*p && *p != '\n') {
			size_t len = ku_char(p, &cols, &bad);
			if (col + cols > w)
				break;
			if (*p == ' ')
				brk = p;
			col += cols;
			p += len;
		}
		if (*p && *p != '\n' && brk && brk > s)
			p = brk;
		if (p == s && *p && *p != '\n')   /* one wide character */
			p += ku_char(p, &cols, &bad);
		ku_strv_push_owned(out, xstrndup(s, (size_t)(p - s)));
		s = p;
		if (*s == ' ')
			s++;
		else if (*s == '\n')
			s++;
		(void)nl;
	}
	return out->n - start;
}
