/* Widgets: a text field, a choice list or checklist, a modal dialog. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <curses.h>

#include "i18n.h"
#include "ui.h"

/* --- text field --- */

void
ku_field_set(struct ku_field *f, const char *text)
{
	if (f->text && f->secret)
		explicit_bzero(f->text, strlen(f->text));
	free(f->text);
	f->text = xstrdup(text ? text : "");
	f->cursor = strlen(f->text);
	f->scroll = 0;
}

void
ku_field_free(struct ku_field *f)
{
	if (f->text && f->secret)
		explicit_bzero(f->text, strlen(f->text));
	free(f->text);
	f->text = NULL;
}

/* The start of the character before byte offset i. */
static size_t
ku_prev_char(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static size_t
ku_next_char(const char *s, size_t i)
{
	if (s[i] == '\0')
		return i;
	i++;
	while (s[i] && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

bool
ku_field_key(struct ku_field *f, const struct ku_key *k, enum ku_act act)
{
	size_t len, max = f->max_len ? f->max_len : 4096;
	char buf[MB_LEN_MAX + 1];
	mbstate_t st;
	size_t n;

	if (f->text == NULL)
		ku_field_set(f, "");
	len = strlen(f->text);
	switch (act) {
	case KU_A_LEFT:
		f->cursor = ku_prev_char(f->text, f->cursor);
		return true;
	case KU_A_RIGHT:
		f->cursor = ku_next_char(f->text, f->cursor);
		return true;
	case KU_A_HOME:
		f->cursor = 0;
		return true;
	case KU_A_END:
		f->cursor = len;
		return true;
	case KU_A_BACKSPACE:
		if (f->cursor > 0) {
			size_t p = ku_prev_char(f->text, f->cursor);
			memmove(f->text + p, f->text + f->cursor,
			    len - f->cursor + 1);
			/* what moved down leaves its old tail past the NUL */
			if (f->secret)
				explicit_bzero(f->text + len + 1 -
				    (f->cursor - p), f->cursor - p);
			f->cursor = p;
		}
		return true;
	case KU_A_DELETE:
		if (f->cursor < len) {
			size_t nx = ku_next_char(f->text, f->cursor);
			memmove(f->text + f->cursor, f->text + nx,
			    len - nx + 1);
			if (f->secret)
				explicit_bzero(f->text + len + 1 -
				    (nx - f->cursor), nx - f->cursor);
		}
		return true;
	default:
		break;
	}
	if (k->code || k->ch < 32 || k->ch == 127)
		return false;
	memset(&st, 0, sizeof st);
	n = wcrtomb(buf, (wchar_t)k->ch, &st);
	if (n == (size_t)-1 || len + n > max)
		return true;   /* taken, and refused */
	if (f->secret) {
		/* a copy, so that the old buffer can be wiped */
		char *t = xmalloc(len + n + 1);

		memcpy(t, f->text, len + 1);
		explicit_bzero(f->text, len);
		free(f->text);
		f->text = t;
	} else {
		f->text = xrealloc(f->text, len + n + 1);
	}
	memmove(f->text + f->cursor + n, f->text + f->cursor,
	    len - f->cursor + 1);
	memcpy(f->text + f->cursor, buf, n);
	f->cursor += n;
	return true;
}

void
ku_field_draw(struct ku_field *f, int y, int x, int w, bool focus)
{
	const char *text = f->text ? f->text : "";
	char *shown = NULL;
	int before;

	if (w < 2)
		return;
	if (f->secret) {
		size_t n = 0;
		for (const char *p = text; *p; p = text + ku_next_char(text,
		    (size_t)(p - text)))
			n++;
		shown = xmalloc(n + 1);
		memset(shown, '*', n);
		shown[n] = '\0';
	}
	/* keep the cursor in view */
	if (f->cursor < f->scroll)
		f->scroll = f->cursor;
	for (;;) {
		char *head = xstrndup(text + f->scroll, f->cursor - f->scroll);
		before = ku_ui_width(head);
		free(head);
		if (before < w - 1 || f->scroll >= f->cursor)
			break;
		f->scroll = ku_next_char(text, f->scroll);
	}
	attrset(ku_ui_attr(focus ? KU_C_FOCUS : KU_C_FIELD));
	mvhline(y, x, ' ', w);
	if (shown) {
		/* one star per character: the scroll counts characters */
		size_t skip = 0;
		for (size_t i = 0; i < f->scroll; i = ku_next_char(text, i))
			skip++;
		ku_ui_put(y, x, w, 0, shown + skip);
	} else
		ku_ui_put(y, x, w, 0, text + f->scroll);
	attrset(A_NORMAL);
	if (focus) {
		move(y, x + before);
		curs_set(1);
	}
	free(shown);
}

/* --- list --- */

bool
ku_list_key(struct ku_list *l, enum ku_act act, int rows)
{
	if (l->n == 0)
		return false;
	switch (act) {
	case KU_A_UP:
		if (l->sel == 0)
			return false;
		l->sel--;
		return true;
	case KU_A_DOWN:
		if (l->sel + 1 >= l->n)
			return false;
		l->sel++;
		return true;
	case KU_A_PGUP:
		l->sel = l->sel > (size_t)rows ? l->sel - (size_t)rows : 0;
		return true;
	case KU_A_PGDN:
		l->sel = l->sel + (size_t)rows < l->n ? l->sel + (size_t)rows :
		    l->n - 1;
		return true;
	case KU_A_HOME:
		l->sel = 0;
		return true;
	case KU_A_END:
		l->sel = l->n - 1;
		return true;
	case KU_A_TOGGLE:
		if (l->multi)
			l->checked[l->sel] = !l->checked[l->sel];
		else
			l->chosen = l->sel;
		return true;
	default:
		return false;
	}
}

void
ku_list_draw(struct ku_list *l, int y, int x, int h, int w, bool focus)
{
	if (h <= 0)
		return;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + (size_t)h)
		l->top = l->sel - (size_t)h + 1;
	for (int i = 0; i < h && l->top + (size_t)i < l->n; i++) {
		size_t it = l->top + (size_t)i;
		bool on = l->multi ? l->checked[it] : l->chosen == it;
		const char *mark = ku_ui_glyph(l->multi ?
		    (on ? KU_G_CHECKED : KU_G_UNCHECKED) :
		    (on ? KU_G_RADIO_ON : KU_G_RADIO_OFF));

		attrset(focus && it == l->sel ? ku_ui_attr(KU_C_SELECTED) :
		    A_NORMAL);
		mvhline(y + i, x, ' ', w);
		ku_ui_put(y + i, x + 1, 4, 0, mark);
		ku_ui_put(y + i, x + 5, w - 6, 0, l->items[it]);
		attrset(A_NORMAL);
	}
}

/* --- dialog --- */

void
ku_dialog_open(struct ku_dialog *d, int id, const char *title,
    const char *text)
{
	ku_dialog_close(d);
	d->open = true;
	d->id = id;
	d->title = xstrdup(title ? title : "");
	d->text = xstrdup(text ? text : "");
	d->n_buttons = 0;
	d->sel = 0;
	d->scroll = 0;
}

void
ku_dialog_button(struct ku_dialog *d, const char *label, wint_t hot)
{
	if (d->n_buttons < KU_ARRAY_LEN(d->labels)) {
		d->hot[d->n_buttons] = hot;
		d->labels[d->n_buttons++] = label;
	}
}

void
ku_dialog_close(struct ku_dialog *d)
{
	free(d->title);
	free(d->text);
	d->title = d->text = NULL;
	d->open = false;
}

int
ku_dialog_key(struct ku_dialog *d, const struct ku_key *k, enum ku_act act)
{
	for (size_t i = 0; i < d->n_buttons; i++)
		if (d->hot[i] && !k->code && (k->ch == d->hot[i] ||
		    (k->ch < 128 && d->hot[i] < 128 &&
		    (k->ch | 0x20) == (d->hot[i] | 0x20))))
			return (int)i;
	switch (act) {
	case KU_A_LEFT:
	case KU_A_PREV_FIELD:
		if (d->sel > 0)
			d->sel--;
		return -1;
	case KU_A_RIGHT:
	case KU_A_NEXT_FIELD:
		if (d->sel + 1 < d->n_buttons)
			d->sel++;
		return -1;
	case KU_A_UP:
		if (d->scroll > 0)
			d->scroll--;
		return -1;
	case KU_A_DOWN:
		d->scroll++;
		return -1;
	case KU_A_ENTER:
		return d->n_buttons ? (int)d->sel : -2;
	case KU_A_BACK:
		return -2;
	default:
		return -1;
	}
}

void
ku_dialog_draw(struct ku_dialog *d)
{
	struct ku_strv wrapped = { 0 };
	int w = COLS - 8 > 72 ? 72 : COLS - 8;
	int h, y, x, bx, text_h;

	if (!d->open)
		return;
	ku_ui_wrap(d->text, w - 4, &wrapped);
	text_h = (int)wrapped.n;
	if (text_h > LINES - 8)
		text_h = LINES - 8;
	if (d->scroll > (int)wrapped.n - text_h)
		d->scroll = (int)wrapped.n - text_h;
	if (d->scroll < 0)
		d->scroll = 0;
	h = text_h + 5;
	y = (LINES - h) / 2;
	x = (COLS - w) / 2;
	attrset(A_NORMAL);
	ku_ui_fill(y, x, h, w);
	ku_ui_box(y, x, h, w);
	attrset(ku_ui_attr(KU_C_TITLE));
	ku_ui_printf(y, x + 2, w - 4, " %s ", d->title);
	attrset(A_NORMAL);
	for (int i = 0; i < text_h; i++)
		ku_ui_put(y + 1 + i, x + 2, w - 4, 0,
		    wrapped.v[d->scroll + i]);
	if ((int)wrapped.n > text_h) {
		attrset(ku_ui_attr(KU_C_DIM));
		ku_ui_put(y + h - 3, x + w - 12, 10, 0,
		    d->scroll + text_h < (int)wrapped.n ? _("(more)") : "");
		attrset(A_NORMAL);
	}
	bx = x + 2;
	for (size_t i = 0; i < d->n_buttons; i++) {
		char *b = xasprintf("< %s >", d->labels[i]);
		attrset(i == d->sel ? ku_ui_attr(KU_C_SELECTED) : A_BOLD);
		bx += ku_ui_put(y + h - 2, bx, x + w - bx - 1, 0, b) + 2;
		attrset(A_NORMAL);
		free(b);
	}
	ku_strv_free(&wrapped);
}
