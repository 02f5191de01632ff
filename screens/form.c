/* The input screens' fields, validated as they are left with the answers
 * reader's own checks (ku_spec_validate), so both front ends say the same. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "i18n.h"
#include "wizard.h"

struct wz_item *
wz_form_add(struct wz_form *f, enum wz_item_kind kind, const char *label,
    const char *key)
{
	struct wz_item *it;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
	}
	it = &f->v[f->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->label = xstrdup(label ? label : "");
	it->key = key ? xstrdup(key) : NULL;
	it->ref = -1;
	return it;
}

struct wz_item *
wz_form_text(struct wz_form *f, const char *label, const char *key,
    const char *value)
{
	struct wz_item *it = wz_form_add(f, WI_TEXT, label, key);
	ku_field_set(&it->field, value);
	return it;
}

void
wz_form_free(struct wz_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].label);
		free(f->v[i].key);
		free(f->v[i].error);
		ku_field_free(&f->v[i].field);
	}
	free(f->v);
	memset(f, 0, sizeof *f);
}

struct wz_item *
wz_form_find(struct wz_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (ku_streq(f->v[i].key, key))
			return &f->v[i];
	return NULL;
}

static bool
wz_focusable(const struct wz_item *it)
{
	return it->kind != WI_LABEL;
}

/* Rows an item takes: one, and one more for its error. */
static int
wz_item_rows(const struct wz_item *it)
{
	return it->error ? 2 : 1;
}

void
wz_form_draw(struct wz_form *f, int y, int h)
{
	int label_w = 0, row = 0, x = 2, fx, fw;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].kind == WI_TEXT || f->v[i].kind == WI_CHOICE) {
			int lw = ku_ui_width(f->v[i].label);
			if (lw > label_w)
				label_w = lw;
		}
	if (label_w > COLS / 2 - 4)
		label_w = COLS / 2 - 4;
	fx = x + label_w + 2;
	fw = COLS - fx - 2;

	/* keep the focus in view */
	if (f->focus < f->top)
		f->top = f->focus;
	for (;;) {
		int need = 0;
		for (size_t i = f->top; i <= f->focus && i < f->n; i++)
			need += wz_item_rows(&f->v[i]);
		if (need <= h || f->top >= f->focus)
			break;
		f->top++;
	}
	curs_set(0);
	if (f->top > 0) {
		attrset(ku_ui_attr(KU_C_DIM));
		ku_ui_put(y - 1 < 0 ? 0 : y - 1, COLS - 12, 10, 0,
		    _("(more)"));
	}
	for (size_t i = f->top; i < f->n && row < h; i++) {
		struct wz_item *it = &f->v[i];
		bool focus = i == f->focus;
		int yy = y + row;

		attrset(A_NORMAL);
		switch (it->kind) {
		case WI_LABEL:
			attrset(ku_ui_attr(KU_C_TITLE));
			ku_ui_put(yy, x, COLS - 4, 0, it->label);
			break;
		case WI_TEXT:
			attrset(focus ? A_BOLD : A_NORMAL);
			ku_ui_put(yy, x, label_w, 0, it->label);
			attrset(A_NORMAL);
			break;
		case WI_CHOICE:
			attrset(focus ? A_BOLD : A_NORMAL);
			ku_ui_put(yy, x, label_w, 0, it->label);
			attrset(ku_ui_attr(focus ? KU_C_FOCUS : KU_C_FIELD));
			ku_ui_printf(yy, fx, fw, "< %s >",
			    it->n_choices ? it->choices[it->choice] : "");
			break;
		case WI_TOGGLE:
			attrset(focus ? ku_ui_attr(KU_C_FOCUS) : A_NORMAL);
			ku_ui_printf(yy, x, COLS - 4, "%s %s",
			    ku_ui_glyph(it->on ? KU_G_CHECKED :
			    KU_G_UNCHECKED), it->label);
			break;
		case WI_BUTTON:
			attrset(focus ? ku_ui_attr(KU_C_SELECTED) : A_BOLD);
			ku_ui_printf(yy, x, COLS - 4, "< %s >", it->label);
			break;
		}
		attrset(A_NORMAL);
		row++;
		if (it->error && row < h) {
			struct ku_strv parts = { 0 };
			attrset(ku_ui_attr(KU_C_ERROR));
			ku_ui_wrap(it->error, COLS - x - 4, &parts);
			ku_ui_put(y + row, x + 2, COLS - x - 4, 0,
			    parts.n ? parts.v[0] : "");
			ku_strv_free(&parts);
			attrset(A_NORMAL);
			row++;
		}
		if (it->kind == WI_TEXT)   /* last: it places the cursor */
			ku_field_draw(&it->field, yy, fx, fw, focus);
	}
	if (f->n && row >= h && f->top + 1 < f->n) {
		attrset(ku_ui_attr(KU_C_DIM));
		ku_ui_put(y + h, COLS - 12, 10, 0, _("(more)"));
		attrset(A_NORMAL);
	}
	if (f->focus < f->n && f->v[f->focus].kind == WI_TEXT) {
		/* the cursor stays where the focused field put it */
		struct wz_item *it = &f->v[f->focus];
		int yy = y;
		for (size_t i = f->top; i < f->focus; i++)
			yy += wz_item_rows(&f->v[i]);
		ku_field_draw(&it->field, yy, fx, fw, true);
	}
}

bool
wz_form_check(struct wz *w, struct wz_form *f, struct wz_item *only)
{
	struct ku_diags diags = { 0 };
	bool ok = true;

	if (!wz_screens[w->screen].leave)
		return true;
	/* leave() copies the fields into the spec and may flag fields of
	 * its own (a port that is not a number) */
	for (size_t i = 0; i < f->n; i++)
		if (only == NULL || &f->v[i] == only) {
			free(f->v[i].error);
			f->v[i].error = NULL;
		}
	wz_screens[w->screen].leave(w);
	ku_spec_validate(w->spec, &diags);
	for (size_t d = 0; d < diags.n; d++) {
		struct wz_item *it = wz_form_find(f, diags.v[d].key);
		if (it == NULL || (only && it != only) || it->error)
			continue;
		it->error = xasprintf("%s: %s", diags.v[d].key,
		    diags.v[d].message);
	}
	ku_diags_free(&diags);
	for (size_t i = 0; i < f->n; i++)
		if ((only == NULL || &f->v[i] == only) && f->v[i].error)
			ok = false;
	return ok;
}

static void
wz_form_move(struct wz_form *f, int dir)
{
	size_t i = f->focus;

	for (;;) {
		if (dir > 0 && i + 1 >= f->n)
			return;
		if (dir < 0 && i == 0)
			return;
		i = dir > 0 ? i + 1 : i - 1;
		if (wz_focusable(&f->v[i])) {
			f->focus = i;
			return;
		}
	}
}

int
wz_form_key(struct wz *w, struct wz_form *f, const struct ku_key *k,
    int *action)
{
	struct wz_item *it;
	enum ku_act act = k->act;

	*action = -1;
	if (f->n == 0)
		return 0;
	if (!wz_focusable(&f->v[f->focus]))
		wz_form_move(f, 1);
	it = &f->v[f->focus];

	switch (act) {
	case KU_A_UP:
	case KU_A_PREV_FIELD:
		/* going back never traps: the problem stays shown */
		if (it->kind == WI_TEXT)
			wz_form_check(w, f, it);
		wz_form_move(f, -1);
		return KU_UI_REDRAW;
	case KU_A_DOWN:
	case KU_A_NEXT_FIELD:
		if (!wz_form_check(w, f, it))
			return KU_UI_REDRAW;
		wz_form_move(f, 1);
		return KU_UI_REDRAW;
	case KU_A_PGDN:
		for (int i = 0; i < 10; i++)
			if (wz_form_check(w, f, &f->v[f->focus]))
				wz_form_move(f, 1);
		return KU_UI_REDRAW;
	case KU_A_PGUP:
		for (int i = 0; i < 10; i++)
			wz_form_move(f, -1);
		return KU_UI_REDRAW;
	case KU_A_ENTER:
		if (it->kind == WI_BUTTON) {
			*action = it->action;
			return KU_UI_REDRAW;
		}
		if (!wz_form_check(w, f, it))
			return KU_UI_REDRAW;
		wz_form_move(f, 1);
		return KU_UI_REDRAW;
	default:
		break;
	}
	switch (it->kind) {
	case WI_TEXT:
		if (ku_field_key(&it->field, k, act)) {
			free(it->error);
			it->error = NULL;
			return KU_UI_REDRAW;
		}
		return 0;
	case WI_CHOICE:
		if (it->n_choices == 0)
			return 0;
		if (act == KU_A_LEFT)
			it->choice = (it->choice + it->n_choices - 1) %
			    it->n_choices;
		else if (act == KU_A_RIGHT || (act == KU_A_CHAR && k->ch == ' '))
			it->choice = (it->choice + 1) % it->n_choices;
		else
			return 0;
		wz_form_check(w, f, it);
		return KU_UI_REDRAW;
	case WI_TOGGLE:
		if (act == KU_A_CHAR && k->ch == ' ') {
			it->on = !it->on;
			wz_form_check(w, f, it);
			return KU_UI_REDRAW;
		}
		return 0;
	default:
		return 0;
	}
}
