/* Unit tests of src/util.c (and ku_version_parse from src/versions.c). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util.h"
#include "versions.h"

/* --- ku_buf --- */

static void
test_buf_unbounded(void **state)
{
	struct ku_buf b;
	char *s;

	(void)state;
	ku_buf_init(&b, 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	for (int i = 0; i < 10000; i++)
		ku_buf_addc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_false(b.truncated);
	assert_int_equal(b.data[10000], '\0');
	assert_int_equal(b.data[0], 'a');
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	assert_true(b.cap > b.len);

	ku_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	ku_buf_printf(&b, "%s-%d", "x", 42);
	ku_buf_adds(&b, "/y");
	assert_string_equal(b.data, "x-42/y");
	assert_int_equal(b.len, 6);

	s = ku_buf_steal(&b);
	assert_string_equal(s, "x-42/y");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	/* Stealing an empty buffer still gives a string. */
	s = ku_buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	ku_buf_free(&b);
	ku_buf_free(&b);   /* twice: harmless */
}

static void
test_buf_bounded(void **state)
{
	struct ku_buf b;

	(void)state;
	ku_buf_init(&b, 10);
	ku_buf_adds(&b, "abcdefgh");
	assert_int_equal(b.len, 8);
	assert_false(b.truncated);
	ku_buf_adds(&b, "ijkl");
	assert_int_equal(b.len, 10);
	assert_true(b.truncated);
	assert_string_equal(b.data, "abcdefghij");
	assert_int_equal(b.data[10], '\0');

	/* Full: nothing more goes in, and it stays terminated. */
	ku_buf_addc(&b, 'z');
	ku_buf_printf(&b, "%d", 12345);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "abcdefghij");
	assert_int_equal(strlen(b.data), 10);

	/* Exactly the maximum is not a truncation. */
	ku_buf_reset(&b);
	assert_false(b.truncated);
	assert_int_equal(b.len, 0);
	ku_buf_add(&b, "0123456789", 10);
	assert_false(b.truncated);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	ku_buf_free(&b);

	/* A single large add is cut at the maximum. */
	ku_buf_init(&b, 1000);
	{
		char big[5000];
		memset(big, 'q', sizeof big);
		ku_buf_add(&b, big, sizeof big);
	}
	assert_int_equal(b.len, 1000);
	assert_true(b.truncated);
	assert_int_equal(strlen(b.data), 1000);
	ku_buf_free(&b);

	/* Binary data with NUL bytes is kept as bytes. */
	ku_buf_init(&b, 0);
	ku_buf_add(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	ku_buf_free(&b);
}

/* --- ku_strv --- */

static void
test_strv(void **state)
{
	struct ku_strv sv = { 0 };
	char name[32];

	(void)state;
	assert_false(ku_strv_contains(&sv, "x"));
	ku_strv_push(&sv, "alpha");
	ku_strv_push_owned(&sv, xstrdup("beta"));
	snprintf(name, sizeof name, "gamma");
	ku_strv_push(&sv, name);
	name[0] = 'X';   /* pushed strings are copies */
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "alpha");
	assert_string_equal(sv.v[1], "beta");
	assert_string_equal(sv.v[2], "gamma");
	assert_null(sv.v[3]);   /* NULL-terminated */
	assert_true(ku_strv_contains(&sv, "beta"));
	assert_false(ku_strv_contains(&sv, "Xamma"));
	assert_false(ku_strv_contains(&sv, "bet"));

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "item-%d", i);
		ku_strv_push(&sv, name);
	}
	assert_int_equal(sv.n, 103);
	assert_string_equal(sv.v[102], "item-99");
	assert_null(sv.v[103]);
	assert_true(ku_strv_contains(&sv, "item-50"));

	ku_strv_free(&sv);
	assert_null(sv.v);
	assert_int_equal(sv.n, 0);
	ku_strv_free(&sv);
}

/* --- paths --- */

static void
test_path_expand(void **state)
{
	char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *p;

	(void)state;
	setenv("HOME", "/home/op", 1);

	p = ku_path_expand("~/.ssh/id_ed25519", NULL);
	assert_string_equal(p, "/home/op/.ssh/id_ed25519");
	free(p);
	p = ku_path_expand("~/x", "/base");
	assert_string_equal(p, "/home/op/x");
	free(p);
	p = ku_path_expand("~", NULL);
	assert_string_equal(p, "/home/op");
	free(p);
	/* "~user" is not this user's home: a plain relative name. */
	p = ku_path_expand("~other/x", "/base");
	assert_string_equal(p, "/base/~other/x");
	free(p);

	p = ku_path_expand("keys/id", "/etc/kubeup");
	assert_string_equal(p, "/etc/kubeup/keys/id");
	free(p);
	p = ku_path_expand("keys/id", "/etc/kubeup/");
	assert_string_equal(p, "/etc/kubeup/keys/id");
	free(p);
	p = ku_path_expand("keys/id", NULL);
	assert_string_equal(p, "keys/id");
	free(p);
	p = ku_path_expand("keys/id", "");
	assert_string_equal(p, "keys/id");
	free(p);

	p = ku_path_expand("/abs/file", "/etc/kubeup");
	assert_string_equal(p, "/abs/file");
	free(p);

	if (old) {
		setenv("HOME", old, 1);
		free(old);
	} else {
		unsetenv("HOME");
	}
}

static void
test_path_join_dirname(void **state)
{
	char *p;

	(void)state;
	p = ku_path_join("/a", "b");
	assert_string_equal(p, "/a/b");
	free(p);
	p = ku_path_join("/a/", "b");
	assert_string_equal(p, "/a/b");
	free(p);
	p = ku_path_join("", "b");
	assert_string_equal(p, "b");
	free(p);

	p = ku_dirname("/a/b/c.txt");
	assert_string_equal(p, "/a/b");
	free(p);
	p = ku_dirname("a/b");
	assert_string_equal(p, "a");
	free(p);
	p = ku_dirname("file");
	assert_string_equal(p, ".");
	free(p);
	p = ku_dirname("/file");
	assert_string_equal(p, "/");
	free(p);
	p = ku_dirname("/");
	assert_string_equal(p, "/");
	free(p);
}

/* --- files --- */

/* Names in dir other than "." and "..", as one "a,b" string (sorted by the
 * caller's expectations: at most a couple of entries). */
static int
count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (prefix == NULL || ku_str_has_prefix(de->d_name, prefix))
			n++;
	}
	closedir(d);
	return n;
}

static void
test_write_file_atomic(void **state)
{
	char *dir = tl_mkdtemp("util");
	char *path = ku_path_join(dir, "config.yaml");
	struct ku_buf b;
	struct stat st;
	mode_t old_umask = umask(077);   /* the mode is the caller's, not umask's */

	(void)state;
	assert_int_equal(ku_write_file_atomic(path, "first\n", 6, 0640), KU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "first\n");
	ku_buf_free(&b);
	assert_int_equal(count_entries(dir, NULL), 1);

	/* Replaces an existing file, with the new mode. */
	assert_int_equal(ku_write_file_atomic(path, "second, longer\n", 15,
	    0600), KU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_string_equal(b.data, "second, longer\n");
	ku_buf_free(&b);
	/* No temp file left behind. */
	assert_int_equal(count_entries(dir, NULL), 1);
	assert_int_equal(count_entries(dir, "config.yaml.tmp"), 0);

	/* Empty contents. */
	assert_int_equal(ku_write_file_atomic(path, "", 0, 0644), KU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* A folder that does not exist: an error, nothing created. */
	{
		char *bad = ku_path_join(dir, "missing/file");
		assert_int_equal(ku_write_file_atomic(bad, "x", 1, 0600),
		    KU_ERR_IO);
		assert_false(ku_path_exists(bad));
		free(bad);
	}
	assert_int_equal(count_entries(dir, NULL), 1);

	umask(old_umask);
	free(path);
	tl_rmtree(dir);
	free(dir);
}

static void
test_read_file_max(void **state)
{
	char *dir = tl_mkdtemp("util");
	char *path = ku_path_join(dir, "data");
	char *bigpath = ku_path_join(dir, "big");
	char data[100];
	char *big;
	struct ku_buf b;

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)('0' + i % 10);
	assert_int_equal(ku_write_file_atomic(path, data, sizeof data, 0600),
	    KU_OK);

	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 100, &b), KU_OK);
	assert_int_equal(b.len, 100);
	assert_memory_equal(b.data, data, 100);
	assert_int_equal(b.data[100], '\0');
	ku_buf_free(&b);

	ku_buf_init(&b, 0);
	errno = 0;
	assert_int_equal(ku_read_file(path, 99, &b), KU_ERR_INVALID);
	assert_int_equal(errno, EFBIG);
	ku_buf_free(&b);

	/* max 0: no limit; a file larger than one read chunk. */
	big = xmalloc(300000);
	for (size_t i = 0; i < 300000; i++)
		big[i] = (char)(i * 7);
	assert_int_equal(ku_write_file_atomic(bigpath, big, 300000, 0600),
	    KU_OK);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(bigpath, 0, &b), KU_OK);
	assert_int_equal(b.len, 300000);
	assert_memory_equal(b.data, big, 300000);
	ku_buf_free(&b);
	ku_buf_init(&b, 0);
	errno = 0;
	assert_int_equal(ku_read_file(bigpath, 200000, &b), KU_ERR_INVALID);
	assert_int_equal(errno, EFBIG);
	ku_buf_free(&b);
	free(big);

	/* A missing file. */
	{
		char *missing = ku_path_join(dir, "nope");
		ku_buf_init(&b, 0);
		errno = 0;
		assert_int_equal(ku_read_file(missing, 0, &b), KU_ERR_IO);
		assert_int_equal(errno, ENOENT);
		ku_buf_free(&b);
		free(missing);
	}

	free(path);
	free(bigpath);
	tl_rmtree(dir);
	free(dir);
}

static void
test_mkdir_p(void **state)
{
	char *dir = tl_mkdtemp("util");
	char *deep = ku_path_join(dir, "a/b/c/d");
	char *trail = ku_path_join(dir, "x/y/");
	char *file = ku_path_join(dir, "plain");
	char *under_file = ku_path_join(dir, "plain/sub");
	struct stat st;
	mode_t old_umask = umask(022);

	(void)state;
	assert_int_equal(ku_mkdir_p(deep, 0700), KU_OK);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Again: already there is fine. */
	assert_int_equal(ku_mkdir_p(deep, 0700), KU_OK);

	assert_int_equal(ku_mkdir_p(trail, 0755), KU_OK);
	assert_int_equal(stat(trail, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	/* A file where a folder should be. */
	assert_int_equal(ku_write_file_atomic(file, "x", 1, 0600), KU_OK);
	errno = 0;
	assert_int_equal(ku_mkdir_p(file, 0700), KU_ERR_IO);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(ku_mkdir_p(under_file, 0700), KU_ERR_IO);
	assert_false(ku_path_exists(under_file));

	umask(old_umask);
	free(deep);
	free(trail);
	free(file);
	free(under_file);
	tl_rmtree(dir);
	free(dir);
}

/* An empty path names no folder: an error, and no byte outside the
 * string is read or written (ASan and valgrind watch this one). */
static int
mkdir_p_empty_child(void *arg)
{
	(void)arg;
	return ku_mkdir_p("", 0700) == KU_ERR_IO ? 0 : 3;
}

static void
test_mkdir_p_empty(void **state)
{
	(void)state;
	/* In a child: a stray write past the string could corrupt the
	 * heap of this process. */
	tl_assert_child_ok(tl_in_child(mkdir_p_empty_child, NULL),
	    "ku_mkdir_p(\"\")");
}

/* --- time, strings, hashes, versions --- */

static void
check_duration(uint64_t ms, const char *want)
{
	char out[32];

	memset(out, 'Z', sizeof out);
	ku_format_duration(ms, out, sizeof out);
	assert_string_equal(out, want);
}

static void
test_format_duration(void **state)
{
	char small[4];

	(void)state;
	check_duration(0, "0ms");
	check_duration(7, "7ms");
	check_duration(999, "999ms");
	check_duration(1000, "1.0s");
	check_duration(1500, "1.5s");
	check_duration(1999, "1.9s");
	check_duration(59999, "59.9s");
	check_duration(60000, "1m00s");
	check_duration(61000, "1m01s");
	check_duration(754000, "12m34s");
	check_duration(3599999, "59m59s");
	check_duration(3600000, "1h00m");
	check_duration(3661000, "1h01m");
	check_duration(90000000, "25h00m");

	/* A short buffer is cut, still terminated. */
	ku_format_duration(123456, small, sizeof small);
	assert_int_equal(strlen(small), 3);
	assert_string_equal(small, "2m0");
}

static void
test_sha256(void **state)
{
	char hex[65];

	(void)state;
	ku_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ku_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	ku_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	assert_int_equal(strlen(hex), 64);
}

static void
test_strings(void **state)
{
	const char *parts[] = { "1", "2", "4.1" };
	char *s;

	(void)state;
	assert_true(ku_streq(NULL, NULL));
	assert_false(ku_streq("a", NULL));
	assert_false(ku_streq(NULL, "a"));
	assert_true(ku_streq("abc", "abc"));
	assert_false(ku_streq("abc", "abd"));
	assert_true(ku_str_has_prefix("node-1", "node-"));
	assert_true(ku_str_has_prefix("node-1", ""));
	assert_false(ku_str_has_prefix("node", "node-"));

	s = ku_strjoin(parts, 3, ",");
	assert_string_equal(s, "1,2,4.1");
	free(s);
	s = ku_strjoin(parts, 0, ",");
	assert_string_equal(s, "");
	free(s);
	s = xasprintf("%s=%d", "n", 5);
	assert_string_equal(s, "n=5");
	free(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
}

static void
test_format_time(void **state)
{
	char out[64];

	(void)state;
	ku_format_time(0, out, sizeof out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	ku_format_time(1700000000123ULL, out, sizeof out);
	assert_string_equal(out, "2023-11-14T22:13:20.123Z");
	assert_true(ku_now_ms() > 0);
	assert_true(ku_wall_ms() > 1700000000000ULL);
}

static void
test_last_line(void **state)
{
	static const struct {
		const char *in, *want;   /* want NULL: none */
	} cases[] = {
		{ "one", "one" },
		{ "I0 start\nE1 fatal: podCIDR outside\n\n", "E1 fatal: podCIDR outside" },
		{ "a\r\nb \t\n", "b" },
		{ "", NULL },
		{ "\n \n", NULL },
	};

	(void)state;
	assert_null(ku_str_last_line(NULL));
	for (size_t i = 0; i < KU_ARRAY_LEN(cases); i++) {
		char *got = ku_str_last_line(cases[i].in);

		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void
test_version_parse(void **state)
{
	int ma = -1, mi = -1, pa = -1;
	static const char *const bad[] = {
		"v1.35.0", "1.35", "01.2.3", "1.02.3", "1.2.03", "1.2.3.4",
		"", "1", "1.", "1.2.", ".1.2", "1..2", "1.2.3 ", " 1.2.3",
		"1.2.3-rc.1", "1.2.x", "a.b.c", "-1.2.3", "1.2.3\n",
		"9999999.0.0",
	};

	(void)state;
	assert_true(ku_version_parse("1.35.0", &ma, &mi, &pa));
	assert_int_equal(ma, 1);
	assert_int_equal(mi, 35);
	assert_int_equal(pa, 0);
	assert_true(ku_version_parse("1.20.2", &ma, &mi, &pa));
	assert_int_equal(mi, 20);
	assert_int_equal(pa, 2);
	assert_true(ku_version_parse("0.0.0", &ma, &mi, &pa));
	assert_int_equal(ma, 0);
	assert_true(ku_version_parse("10.100.1000", &ma, &mi, &pa));
	assert_int_equal(ma, 10);
	assert_int_equal(mi, 100);
	assert_int_equal(pa, 1000);

	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		if (ku_version_parse(bad[i], &ma, &mi, &pa))
			fail_msg("ku_version_parse accepted \"%s\"", bad[i]);
	}
	assert_non_null(ku_version_find(ku_version_default()));
	assert_null(ku_version_find("1.2.3"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_unbounded),
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_path_expand),
		cmocka_unit_test(test_path_join_dirname),
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_read_file_max),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_mkdir_p_empty),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_last_line),
	};

	tl_watchdog(120);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
