/* The toolkit's logic that needs no terminal: display widths, wrapping,
 * text field editing, and the pager's filter, search, follow and bound. */
#include "config.h"

#include <locale.h>

#include "testlib.h"
#include "ui.h"

static struct ku_key
key_char(wint_t ch)
{
	struct ku_key k = { .act = KU_A_CHAR, .ch = ch };
	return k;
}

static struct ku_key
key_act(enum ku_act act)
{
	struct ku_key k = { .act = act };
	return k;
}

static void
test_width(void **state)
{
	assert_int_equal(ku_ui_width(""), 0);
	assert_int_equal(ku_ui_width("abc"), 3);
	assert_int_equal(ku_ui_width("Schl\xc3\xbcssel"), 9);      /* ü */
	assert_int_equal(ku_ui_width("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* 日本 */
	/* a bad byte counts one column, and nothing is read past the end */
	assert_int_equal(ku_ui_width("a\xff" "b"), 3);
	assert_int_equal(ku_ui_width("\xe2\x9c"), 2);
}

static void
test_wrap(void **state)
{
	struct ku_strv v = { 0 };

	assert_int_equal(ku_ui_wrap("one two three four", 9, &v), 3);
	assert_string_equal(v.v[0], "one two");
	assert_string_equal(v.v[1], "three");
	assert_string_equal(v.v[2], "four");
	ku_strv_free(&v);
	/* a word longer than the width is cut, never lost */
	assert_int_equal(ku_ui_wrap("abcdefghij", 4, &v), 3);
	assert_string_equal(v.v[2], "ij");
	ku_strv_free(&v);
	/* newlines end lines */
	assert_int_equal(ku_ui_wrap("a\nb\n\nc", 10, &v), 4);
	assert_string_equal(v.v[2], "");
	ku_strv_free(&v);
	/* wide characters by columns */
	assert_int_equal(ku_ui_wrap("\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 4,
	    &v), 2);
	ku_strv_free(&v);
	/* width below one still ends */
	assert_true(ku_ui_wrap("abc", 0, &v) == 3);
	ku_strv_free(&v);
}

static void
test_field(void **state)
{
	struct ku_field f = { 0 };
	struct ku_key k;

	ku_field_set(&f, "10.0.0.1");
	k = key_act(KU_A_BACKSPACE);
	assert_true(ku_field_key(&f, &k, k.act));
	assert_string_equal(f.text, "10.0.0.");
	k = key_char('9');
	ku_field_key(&f, &k, k.act);
	assert_string_equal(f.text, "10.0.0.9");
	k = key_act(KU_A_HOME);
	ku_field_key(&f, &k, k.act);
	k = key_act(KU_A_DELETE);
	ku_field_key(&f, &k, k.act);
	assert_string_equal(f.text, "0.0.0.9");
	/* UTF-8: one character, several bytes, one backspace */
	ku_field_set(&f, "");
	k = key_char(0xfc);   /* ü */
	ku_field_key(&f, &k, k.act);
	assert_string_equal(f.text, "\xc3\xbc");
	k = key_act(KU_A_LEFT);
	ku_field_key(&f, &k, k.act);
	assert_int_equal(f.cursor, 0);
	k = key_act(KU_A_END);
	ku_field_key(&f, &k, k.act);
	k = key_act(KU_A_BACKSPACE);
	ku_field_key(&f, &k, k.act);
	assert_string_equal(f.text, "");
	/* the bound holds */
	f.max_len = 3;
	for (int i = 0; i < 10; i++) {
		k = key_char('x');
		ku_field_key(&f, &k, k.act);
	}
	assert_string_equal(f.text, "xxx");
	/* control characters are not text */
	k = key_char(7);
	k.act = KU_A_NONE;
	assert_false(ku_field_key(&f, &k, k.act));
	ku_field_free(&f);
}

static bool
keep_tag(void *ud, const struct ku_pager_line *l)
{
	return l->tag == *(uint32_t *)ud;
}

static void
test_pager(void **state)
{
	struct ku_pager p;
	struct ku_key k;
	uint32_t want = 2;
	char line[64];

	ku_pager_init(&p);
	p.rows = 5;
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "line %d", i);
		ku_pager_add(&p, line, strlen(line), i == 7 ? KU_L_ERROR :
		    i == 8 ? KU_L_WARN : KU_L_PLAIN, (uint32_t)(i % 3));
	}
	/* following: the end is in view */
	assert_true(p.follow);
	assert_int_equal(p.top, 15);
	/* scrolling up stops following; new lines then keep the view */
	k = key_act(KU_A_UP);
	ku_pager_key(&p, &k, k.act);
	assert_false(p.follow);
	ku_pager_add(&p, "more", 4, KU_L_PLAIN, 0);
	assert_int_equal(p.top, 14);
	/* End follows again */
	k = key_act(KU_A_END);
	ku_pager_key(&p, &k, k.act);
	assert_true(p.follow);
	assert_int_equal(p.top, 16);
	/* errors and warnings only */
	k = key_act(KU_A_FILTER);
	ku_pager_key(&p, &k, k.act);
	assert_int_equal(p.n_shown, 2);
	ku_pager_key(&p, &k, k.act);
	assert_int_equal(p.n_shown, 21);
	/* the caller's selection */
	p.keep = keep_tag;
	p.keep_ud = &want;
	ku_pager_refilter(&p);
	assert_int_equal(p.n_shown, 6);   /* 2, 5, 8, 11, 14, 17 */
	p.keep = NULL;
	ku_pager_refilter(&p);
	/* search: n forward, N back, from the top line */
	p.follow = false;
	p.top = 0;
	free(p.search);
	p.search = xstrdup("LINE 1");   /* case does not matter */
	k = key_act(KU_A_SEARCH_NEXT);
	ku_pager_key(&p, &k, k.act);
	assert_string_equal(p.v[p.shown[p.top]].text, "line 1");
	ku_pager_key(&p, &k, k.act);
	assert_string_equal(p.v[p.shown[p.top]].text, "line 10");
	k = key_act(KU_A_SEARCH_PREV);
	ku_pager_key(&p, &k, k.act);
	assert_string_equal(p.v[p.shown[p.top]].text, "line 1");
	free(p.search);
	p.search = xstrdup("nowhere");
	ku_pager_key(&p, &k, k.act);
	assert_non_null(p.status);
	assert_non_null(strstr(p.status, "nowhere"));
	ku_pager_free(&p);
}

static void
test_pager_bound(void **state)
{
	struct ku_pager p;

	ku_pager_init(&p);
	p.max_lines = 100;
	for (int i = 0; i < 1000; i++)
		ku_pager_add(&p, "x", 1, KU_L_PLAIN, 0);
	assert_true(p.n <= 100);
	assert_int_equal(p.n_shown, p.n);
	ku_pager_free(&p);

	/* Not following, the line at the top stays there when the oldest
	 * lines are dropped. */
	ku_pager_init(&p);
	p.max_lines = 100;
	p.rows = 5;
	for (int i = 0; i < 100; i++) {
		char line[32];

		snprintf(line, sizeof line, "line %d", i);
		ku_pager_add(&p, line, strlen(line), KU_L_PLAIN, 0);
	}
	p.follow = false;
	p.top = 50;
	ku_pager_add(&p, "one more", 8, KU_L_PLAIN, 0);
	assert_string_equal(p.v[p.shown[p.top]].text, "line 50");
	ku_pager_free(&p);
}

/* Following, a last line that wraps to more rows than the pane has is
 * shown from its start, never an empty pane. */
static void
test_pager_long_line(void **state)
{
	struct ku_pager p;
	char *line = xmalloc(1001);

	(void)state;
	memset(line, 'x', 1000);
	line[1000] = '\0';
	ku_pager_init(&p);
	p.rows = 3;
	p.cols = 40;
	ku_pager_add(&p, "short", 5, KU_L_PLAIN, 0);
	ku_pager_add(&p, line, 1000, KU_L_PLAIN, 0);
	assert_true(p.follow);
	assert_int_equal(p.n_shown, 2);
	assert_int_equal(p.top, 1);
	free(line);
	ku_pager_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_pager),
		cmocka_unit_test(test_pager_bound),
		cmocka_unit_test(test_pager_long_line),
	};

	setlocale(LC_ALL, "C.UTF-8");
	tl_watchdog(60);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("ui", tests, NULL, NULL);
}
