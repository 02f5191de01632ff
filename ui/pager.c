/* The pager: a log viewer widget. Lines are kept with a level and a
 * caller's tag; the view is the lines that pass the caller's selection and
 * the errors-and-warnings filter. Follow mode keeps the end in view only
 * while the view is at the bottom: scrolling up stops it, End resumes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "i18n.h"
#include "ui.h"

const struct ku_binding ku_pager_bindings[] = {
	{ '/', 0, KU_A_SEARCH, "/", N_("search") },
	{ 'n', 0, KU_A_SEARCH_NEXT, "n/N", N_("next/previous") },
	{ 'N', 0, KU_A_SEARCH_PREV, NULL, NULL },
	{ 'e', 0, KU_A_FILTER, "e", N_("errors only") },
	{ 'w', 0, KU_A_WRAP, "w", N_("wrap") },
	{ 'f', 0, KU_A_FOLLOW, "End", N_("follow") },
};
const size_t ku_pager_n_bindings = KU_ARRAY_LEN(ku_pager_bindings);

void
ku_pager_init(struct ku_pager *p)
{
	memset(p, 0, sizeof *p);
	p->follow = true;
	p->wrap = true;
}

void
ku_pager_clear(struct ku_pager *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	p->n = 0;
	p->n_shown = 0;
	p->top = 0;
}

void
ku_pager_free(struct ku_pager *p)
{
	ku_pager_clear(p);
	free(p->v);
	free(p->shown);
	free(p->search);
	free(p->status);
	ku_field_free(&p->query);
	memset(p, 0, sizeof *p);
}

static bool
ku_pager_passes(struct ku_pager *p, const struct ku_pager_line *l)
{
	if (p->errors_only && l->level == KU_L_PLAIN)
		return false;
	return p->keep == NULL || p->keep(p->keep_ud, l);
}

static void
ku_pager_show(struct ku_pager *p, size_t i)
{
	if (p->n_shown == p->cap_shown) {
		p->cap_shown = p->cap_shown ? p->cap_shown * 2 : 256;
		p->shown = xreallocarray(p->shown, p->cap_shown,
		    sizeof *p->shown);
	}
	p->shown[p->n_shown++] = i;
}

static size_t
ku_pager_rows(const struct ku_pager *p)
{
	return p->rows > 0 ? (size_t)p->rows : 10;
}

/* The top that shows the last lines; wrapped lines take several rows. */
static void
ku_pager_to_end(struct ku_pager *p)
{
	size_t rows = ku_pager_rows(p), used = 0, i = p->n_shown;

	if (!p->wrap || p->cols <= 0) {
		p->top = p->n_shown > rows ? p->n_shown - rows : 0;
		return;
	}
	while (i > 0) {
		struct ku_strv parts = { 0 };
		size_t n = ku_ui_wrap(p->v[p->shown[i - 1]].text, p->cols,
		    &parts);
		ku_strv_free(&parts);
		if (used + (n ? n : 1) > rows)
			break;
		used += n ? n : 1;
		i--;
	}
	/* a last line taller than the pane: its start, not nothing */
	p->top = i == p->n_shown && i > 0 ? i - 1 : i;
}

void
ku_pager_add(struct ku_pager *p, const char *text, size_t len,
    enum ku_line_level level, uint32_t tag)
{
	size_t max = p->max_lines ? p->max_lines : 200000;

	if (p->n == max) {
		/* Drop the oldest tenth at once, not one line a time. */
		size_t drop = max / 10;
		for (size_t i = 0; i < drop; i++)
			free(p->v[i].text);
		memmove(p->v, p->v + drop, (p->n - drop) * sizeof *p->v);
		p->n -= drop;
		/* the line at the top keeps its place: refilter reads it
		 * from shown[top], renumbered like the lines */
		if (p->top < p->n_shown)
			p->shown[p->top] = p->shown[p->top] >= drop ?
			    p->shown[p->top] - drop : 0;
		ku_pager_refilter(p);
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
	}
	p->v[p->n] = (struct ku_pager_line){
		.text = xstrndup(text, len), .level = (unsigned char)level,
		.tag = tag,
	};
	if (ku_pager_passes(p, &p->v[p->n]))
		ku_pager_show(p, p->n);
	p->n++;
	if (p->follow)
		ku_pager_to_end(p);
}

void
ku_pager_refilter(struct ku_pager *p)
{
	size_t keep_line = p->top < p->n_shown ? p->shown[p->top] : 0;

	p->n_shown = 0;
	p->top = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (!ku_pager_passes(p, &p->v[i]))
			continue;
		if (p->shown && i <= keep_line)
			p->top = p->n_shown;
		ku_pager_show(p, i);
	}
	if (p->follow)
		ku_pager_to_end(p);
}

static bool
ku_pager_at_end(const struct ku_pager *p)
{
	return p->top + ku_pager_rows(p) >= p->n_shown;
}

static void
ku_pager_status(struct ku_pager *p, char *msg)
{
	free(p->status);
	p->status = msg;
}

/* Searches from the line after (or before) the top; case-insensitive for
 * ASCII. */
static void
ku_pager_find(struct ku_pager *p, bool forward)
{
	size_t n = p->n_shown;

	if (p->search == NULL || *p->search == '\0' || n == 0)
		return;
	for (size_t k = 1; k <= n; k++) {
		size_t i = forward ? (p->top + k) % n : (p->top + n - k) % n;
		if (strcasestr(p->v[p->shown[i]].text, p->search)) {
			p->top = i;
			p->follow = false;
			ku_pager_status(p, NULL);
			return;
		}
	}
	ku_pager_status(p, xasprintf(_("not found: %s"), p->search));
}

bool
ku_pager_key(struct ku_pager *p, const struct ku_key *k, enum ku_act act)
{
	size_t rows = ku_pager_rows(p);

	if (p->searching) {
		if (act == KU_A_ENTER) {
			p->searching = false;
			curs_set(0);
			free(p->search);
			p->search = xstrdup(p->query.text ? p->query.text : "");
			ku_pager_find(p, true);
		} else if (act == KU_A_BACK) {
			p->searching = false;
			curs_set(0);
		} else {
			ku_field_key(&p->query, k, act);
		}
		return true;
	}
	switch (act) {
	case KU_A_UP:
		if (p->top > 0)
			p->top--;
		p->follow = false;
		return true;
	case KU_A_DOWN:
		if (!ku_pager_at_end(p))
			p->top++;
		if (ku_pager_at_end(p))
			p->follow = true;   /* back at the bottom */
		return true;
	case KU_A_PGUP:
		p->top = p->top > rows ? p->top - rows : 0;
		p->follow = false;
		return true;
	case KU_A_PGDN:
		p->top += rows;
		if (p->top + rows > p->n_shown)
			ku_pager_to_end(p);
		return true;
	case KU_A_HOME:
		p->top = 0;
		p->follow = false;
		return true;
	case KU_A_END:
	case KU_A_FOLLOW:
		p->follow = true;
		ku_pager_to_end(p);
		return true;
	case KU_A_LEFT:
		if (!p->wrap && p->hscroll > 0)
			p->hscroll -= p->hscroll >= 20 ? 20 : p->hscroll;
		return true;
	case KU_A_RIGHT:
		if (!p->wrap)
			p->hscroll += 20;
		return true;
	case KU_A_SEARCH:
		p->searching = true;
		ku_field_set(&p->query, "");
		return true;
	case KU_A_SEARCH_NEXT:
		ku_pager_find(p, true);
		return true;
	case KU_A_SEARCH_PREV:
		ku_pager_find(p, false);
		return true;
	case KU_A_FILTER:
		p->errors_only = !p->errors_only;
		ku_pager_refilter(p);
		return true;
	case KU_A_WRAP:
		p->wrap = !p->wrap;
		p->hscroll = 0;
		return true;
	default:
		return false;
	}
}

void
ku_pager_draw(struct ku_pager *p, int y, int x, int h, int w)
{
	int row = 0, text_h = h - 1;
	size_t i;

	if (h < 2 || w < 10)
		return;
	p->rows = text_h;
	p->cols = w;
	if (p->follow)
		ku_pager_to_end(p);
	if (p->top > p->n_shown)
		p->top = p->n_shown;
	for (i = p->top; i < p->n_shown && row < text_h; i++) {
		const struct ku_pager_line *l = &p->v[p->shown[i]];
		unsigned attr = l->level == KU_L_ERROR ? ku_ui_attr(KU_C_ERROR) :
		    l->level == KU_L_WARN ? ku_ui_attr(KU_C_WARN) : (unsigned)A_NORMAL;
		bool match = p->search && *p->search &&
		    strcasestr(l->text, p->search);

		if (match)
			attr = ku_ui_attr(KU_C_MATCH);
		attrset(attr);
		if (!p->wrap) {
			ku_ui_put(y + row++, x, w, p->hscroll, l->text);
		} else {
			struct ku_strv parts = { 0 };
			ku_ui_wrap(l->text, w, &parts);
			if (parts.n == 0)
				row++;
			for (size_t j = 0; j < parts.n && row < text_h; j++)
				ku_ui_put(y + row++, x, w, 0, parts.v[j]);
			ku_strv_free(&parts);
		}
		attrset(A_NORMAL);
	}
	/* the status line */
	attrset(ku_ui_attr(KU_C_DIM));
	mvhline(y + text_h, x, ' ', w);
	if (p->searching) {
		attrset(A_NORMAL);
		mvaddstr(y + text_h, x, "/");
		ku_field_draw(&p->query, y + text_h, x + 1, w - 1, true);
	} else {
		char *s = xasprintf(_("lines %zu-%zu of %zu%s%s%s%s"),
		    p->n_shown ? p->top + 1 : 0,
		    i < p->n_shown ? i : p->n_shown, p->n_shown,
		    p->follow ? _(", following") : "",
		    p->errors_only ? _(", errors and warnings only") : "",
		    p->wrap ? "" : _(", not wrapped"),
		    p->status ? "" : "");
		ku_ui_put(y + text_h, x, w, 0, s);
		if (p->status) {
			attrset(ku_ui_attr(KU_C_WARN));
			ku_ui_put(y + text_h, x + ku_ui_width(s) + 2,
			    w - ku_ui_width(s) - 2, 0, p->status);
		}
		free(s);
	}
	attrset(A_NORMAL);
}
