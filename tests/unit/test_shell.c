/* Unit tests of src/shell.c: quoting round-trips through real shells, the
 * script builder, and the checks of host names and remote paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "shell.h"
#include "util.h"

/* Runs `shell -c cmd` and returns its standard output (caller frees);
 * fails the test unless it exits 0. */
static char *
run_shell(const char *shell, const char *cmd, size_t *outlen)
{
	int pfd[2], status = 0;
	pid_t pid;
	struct ku_buf out;
	char chunk[4096];
	ssize_t n;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(shell, shell, "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	ku_buf_init(&out, 0);
	while ((n = read(pfd[0], chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		ku_buf_add(&out, chunk, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s -c %s: exit status %d", shell, cmd,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	*outlen = out.len;
	return ku_buf_steal(&out);
}

/* Strings a remote command line must carry as they are. */
static const char *const hostile[] = {
	"",
	" ",
	"plain",
	"$(reboot)",
	"`reboot`",
	";rm -rf /",
	"; rm -rf / #",
	"&& echo pwned",
	"| cat /etc/shadow",
	"> /tmp/x",
	"<(x)",
	"'",
	"''",
	"it's",
	"'\\''",
	"\"",
	"\"$HOME\"",
	"\\",
	"\\\\",
	"\\'",
	"a\\\nb",
	"\n",
	"line one\nline two\n",
	"\r\n",
	"\t",
	"$HOME",
	"${IFS}",
	"$((1+1))",
	"$0 $1 $@ $* $# $? $$ $!",
	"*",
	"?",
	"[a-z]*",
	"~",
	"~root",
	"#not a comment",
	"-n",
	"--",
	"-e \\n",
	"%s%n%d",
	"!",
	"!!",
	"a=b",
	"if",
	"{",
	"}",
	"é ü 日本語 🚀",
	"\x01\x02\x1b[31m\x7f",
	"\xff\xfe not utf-8 \xc3",
};

static void
test_quote_known_values(void **state)
{
	char *q;

	(void)state;
	q = ku_sh_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = ku_sh_quote("abc");
	assert_string_equal(q, "'abc'");
	free(q);
	q = ku_sh_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = ku_sh_quote("'");
	assert_string_equal(q, "''\\'''");
	free(q);
	q = ku_sh_quote("$(x)\n");
	assert_string_equal(q, "'$(x)\n'");
	free(q);
}

/* Every hostile string survives `printf %s QUOTED` through every POSIX
 * shell on this machine, byte for byte. */
static void
test_quote_round_trip(void **state)
{
	static const char *const shells[] = { "/bin/sh", "/bin/dash",
	    "/bin/bash", "/bin/busybox" };
	int tried = 0;

	(void)state;
	for (size_t s = 0; s < KU_ARRAY_LEN(shells); s++) {
		if (access(shells[s], X_OK) != 0)
			continue;
		if (strcmp(shells[s], "/bin/busybox") == 0)
			continue;   /* busybox needs "busybox sh" */
		tried++;
		for (size_t i = 0; i < KU_ARRAY_LEN(hostile); i++) {
			char *q = ku_sh_quote(hostile[i]);
			char *cmd = xasprintf("printf %%s %s", q);
			size_t len = 0;
			char *out = run_shell(shells[s], cmd, &len);

			if (len != strlen(hostile[i]) ||
			    memcmp(out, hostile[i], len) != 0)
				fail_msg("%s: [%s] came back as [%s]",
				    shells[s], hostile[i], out);
			free(out);
			free(cmd);
			free(q);
		}
	}
	assert_true(tried >= 1);
}

/* A long run of quotes and backslashes (the worst case for the quoting's
 * size) still round-trips. */
static void
test_quote_long(void **state)
{
	struct ku_buf b;
	char *q, *cmd, *out;
	size_t len = 0;

	(void)state;
	ku_buf_init(&b, 0);
	for (int i = 0; i < 5000; i++)
		ku_buf_adds(&b, i % 3 ? "'" : "\\$(x)`");
	q = ku_sh_quote(b.data);
	cmd = xasprintf("printf %%s %s", q);
	out = run_shell("/bin/sh", cmd, &len);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.data, len);
	free(out);
	free(cmd);
	free(q);
	ku_buf_free(&b);
}

/* ku_script_cmd quotes every word, argv0 included: several hostile words
 * on one line arrive as separate arguments. */
static void
test_script_cmd(void **state)
{
	struct ku_buf b;
	char *out;
	size_t len = 0;

	(void)state;
	ku_buf_init(&b, 0);
	ku_script_raw(&b, "set -e\n");
	ku_script_cmd(&b, "printf", "[%s]", "$(reboot)", "a b", "it's",
	    "x\ny", "", NULL);
	ku_script_cmd(&b, "printf", "%s", ";echo injected", NULL);
	assert_string_equal(b.data,
	    "set -e\n"
	    "'printf' '[%s]' '$(reboot)' 'a b' 'it'\\''s' 'x\ny' ''\n"
	    "'printf' '%s' ';echo injected'\n");
	out = run_shell("/bin/sh", b.data, &len);
	assert_string_equal(out,
	    "[$(reboot)][a b][it's][x\ny][];echo injected");
	free(out);

	/* The array form gives the same line. */
	{
		const char *const argv[] = { "printf", "%s", "a'b" };
		ku_buf_reset(&b);
		ku_script_cmdv(&b, argv, KU_ARRAY_LEN(argv));
		assert_string_equal(b.data, "'printf' '%s' 'a'\\''b'\n");
	}

	/* A word inside fixed text. */
	ku_buf_reset(&b);
	ku_script_raw(&b, "d=");
	ku_script_word(&b, "/tmp/$(x) y");
	ku_script_raw(&b, "\nprintf %s \"$d\"\n");
	out = run_shell("/bin/sh", b.data, &len);
	assert_string_equal(out, "/tmp/$(x) y");
	free(out);
	ku_buf_free(&b);
}

static void
test_valid_hostname(void **state)
{
	static const char *const good[] = {
		"a", "node-1", "master", "n0", "0n", "a.b.c",
		"node-1.example.com",
		"xn--bcher-kva.example",
		/* 63 characters: the longest label */
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0",
	};
	static const char *const bad[] = {
		"", "-a", "a-", "A", "Node-1", "node_1", "a..b", ".a", "a.",
		"a b", "é", "a;b", "$(x)", "a\n", "node-1.", "-", ".",
		/* 64 characters */
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01",
	};
	char long_ok[254], long_bad[255];

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(good); i++)
		if (!ku_valid_hostname(good[i]))
			fail_msg("refused a good host name: [%s]", good[i]);
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++)
		if (ku_valid_hostname(bad[i]))
			fail_msg("accepted a bad host name: [%s]", bad[i]);
	assert_false(ku_valid_hostname(NULL));

	/* 253 characters in labels of 1 ("a.a.a...") is the longest. */
	for (size_t i = 0; i < 253; i++)
		long_ok[i] = i % 2 ? '.' : 'a';
	long_ok[253] = '\0';
	assert_true(ku_valid_hostname(long_ok));
	memcpy(long_bad, long_ok, 253);
	long_bad[253] = 'a';   /* "...a.aa": 254 characters */
	long_bad[254] = '\0';
	assert_false(ku_valid_hostname(long_bad));

	assert_true(ku_valid_dns_label("node-1"));
	assert_false(ku_valid_dns_label("node-1.example"));
	assert_false(ku_valid_dns_label(""));
	assert_false(ku_valid_dns_label(NULL));
}

static void
test_valid_remote_path(void **state)
{
	static const char *const good[] = {
		"/etc/kubernetes/pki/ca.crt", "/a", "/a b/c'd", "/tmp/$(reboot)",
		"/x/é日本", "/.hidden", "/a/..b", "/a/b..", "/a/...", "/a/.b/c",
		"/tmp/;rm -rf ~", "/tmp/`id`", "/tmp/\"q\"", "/tmp/back\\slash",
	};
	static const char *const bad[] = {
		"", "relative", "./a", "a/b", "/", "/a/../b", "/..", "/a/..",
		"/a/.", "/./a", "/a//b", "//a", "/a/", "/a\nb", "/a\rb", "/a\tb",
		"/a\x7f", "/a\x1b[0m", "~/a",
	};
	char *p;

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(good); i++)
		if (!ku_valid_remote_path(good[i]))
			fail_msg("refused a good path: [%s]", good[i]);
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++)
		if (ku_valid_remote_path(bad[i]))
			fail_msg("accepted a bad path: [%s]", bad[i]);
	assert_false(ku_valid_remote_path(NULL));

	p = xmalloc(4097);
	memset(p, 'a', 4096);
	p[0] = '/';
	p[4095] = '\0';   /* 4095 bytes */
	assert_true(ku_valid_remote_path(p));
	p[4095] = 'a';
	p[4096] = '\0';   /* 4096 bytes */
	assert_false(ku_valid_remote_path(p));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_known_values),
		cmocka_unit_test(test_quote_round_trip),
		cmocka_unit_test(test_quote_long),
		cmocka_unit_test(test_script_cmd),
		cmocka_unit_test(test_valid_hostname),
		cmocka_unit_test(test_valid_remote_path),
	};

	tl_watchdog(120);
	return cmocka_run_group_tests_name("shell", tests, NULL, NULL);
}
