/* answers.conf: reading, every check, writing, and the spec's own
 * functions (dup, diff, validate, machines by index).
 *
 * Each test reads text as "answers.conf" from a private folder that is
 * also $HOME (so ~/ and relative paths land there), and compares every
 * problem reported, formatted as the operator sees them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "answers.h"
#include "shell.h"
#include "spec.h"
#include "util.h"
#include "versions.h"

struct env {
	char *dir;     /* also $HOME */
};

/* --- the private folder --- */

static char *
in_dir(const struct env *e, const char *name)
{
	return ku_path_join(e->dir, name);
}

static void
put_file(const struct env *e, const char *name, const char *text,
    mode_t mode)
{
	char *path = in_dir(e, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(path);
}

static int
env_setup(void **state)
{
	struct env *e = xcalloc(1, sizeof *e);

	e->dir = tl_mkdtemp("test-answers");
	setenv("HOME", e->dir, 1);
	unsetenv("XDG_CACHE_HOME");
	put_file(e, "id_ed25519", "not really a key\n", 0600);
	{
		char *ssh = in_dir(e, ".ssh");
		if (mkdir(ssh, 0700) != 0)
			return -1;
		free(ssh);
	}
	put_file(e, ".ssh/known_hosts", "", 0600);
	*state = e;
	return 0;
}

static int
env_teardown(void **state)
{
	struct env *e = *state;

	tl_rmtree(e->dir);
	free(e->dir);
	free(e);
	return 0;
}

/* --- reading and comparing --- */

static char *
format_all(const struct ku_diags *d)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	for (size_t i = 0; i < d->n; i++) {
		char *line = ku_diag_format(&d->v[i]);
		ku_buf_printf(&b, "%s%s", i ? "\n" : "", line);
		free(line);
	}
	return ku_buf_steal(&b);
}

/* Every problem of text, one per line ("" when none); *out gets the spec
 * when there is one. */
static char *
problems_of(const struct env *e, const char *text, size_t len,
    struct ku_spec **out)
{
	struct ku_diags d = { 0 };
	struct ku_spec *spec = NULL;
	ku_rc rc = ku_answers_read_mem("answers.conf", text, len, e->dir,
	    &spec, &d);
	char *all = format_all(&d);

	if (rc == KU_OK) {
		assert_non_null(spec);
		assert_int_equal(d.n, 0);
	} else {
		assert_int_equal(rc, KU_ERR_ANSWERS);
		assert_null(spec);
		assert_true(d.n > 0);
	}
	if (out)
		*out = spec;
	else
		ku_spec_free(spec);
	ku_diags_free(&d);
	return all;
}

static void
check_problems(const struct env *e, const char *text, const char *expected)
{
	char *all = problems_of(e, text, strlen(text), NULL);
	assert_string_equal(all, expected);
	free(all);
}

static struct ku_spec *
read_ok(const struct env *e, const char *text)
{
	struct ku_spec *spec = NULL;
	char *all = problems_of(e, text, strlen(text), &spec);

	assert_string_equal(all, "");
	free(all);
	return spec;
}

/* The diff of two specs as "key key ...", "" when equal. */
static char *
diff_of(const struct ku_spec *a, const struct ku_spec *b)
{
	struct ku_strv keys = { 0 };
	char *s;

	ku_spec_diff(a, b, &keys);
	s = ku_strjoin((const char *const *)keys.v, keys.n, " ");
	ku_strv_free(&keys);
	return s;
}

static void
check_equal(const struct ku_spec *a, const struct ku_spec *b)
{
	char *d = diff_of(a, b);
	assert_string_equal(d, "");
	free(d);
}

/* format -> read -> the same spec. */
static void
check_round_trip(const struct env *e, const struct ku_spec *spec)
{
	struct ku_buf text;
	struct ku_spec *again;

	ku_buf_init(&text, 0);
	ku_answers_format(spec, &text);
	again = read_ok(e, text.data);
	check_equal(spec, again);
	ku_spec_free(again);
	ku_buf_free(&text);
}

#define MASTER_LINE \
	"machines = { master = { name = \"master\"; address = \"192.0.2.10\"; }; };\n"

/* --- the example and the defaults --- */

static void
test_example_reads_cleanly(void **state)
{
	struct env *e = *state;
	struct ku_buf text;
	struct ku_diags d = { 0 };
	struct ku_spec *spec = NULL;
	char *path = in_dir(e, "answers.conf");
	char *key = in_dir(e, "id_ed25519");

	ku_buf_init(&text, 0);
	assert_int_equal(ku_read_file(SRCDIR "/examples/answers.conf", 0,
	    &text), KU_OK);
	put_file(e, "answers.conf", text.data, 0600);
	ku_buf_free(&text);

	assert_int_equal(ku_answers_read(path, &spec, &d), KU_OK);
	assert_int_equal(d.n, 0);
	assert_string_equal(spec->name, "demo");
	assert_string_equal(spec->version, ku_version_default());
	assert_int_equal(spec->node_count, 2);
	assert_int_equal(spec->n_nodes, 2);
	assert_string_equal(spec->ssh.key_file, key);
	assert_int_equal(spec->ssh.host_key_policy, KU_HOSTKEY_ACCEPT_NEW);
	assert_string_equal(spec->master.address, "192.0.2.10");
	assert_string_equal(spec->master.key_file, key);
	assert_int_equal(spec->master.line, 66);
	assert_string_equal(spec->nodes[1].user, "admin");
	assert_true(spec->nodes[1].sudo);
	assert_string_equal(spec->nodes[0].user, "root");
	assert_false(spec->nodes[0].sudo);
	assert_int_equal(spec->plugin, KU_NET_FLANNEL);
	assert_string_equal(spec->source, path);
	ku_spec_free(spec);
	free(path);
	free(key);
}

static void
test_defaults(void **state)
{
	struct env *e = *state;
	struct ku_spec *spec = ku_spec_new();
	struct ku_spec *read;
	char *kh = in_dir(e, ".ssh/known_hosts");
	char *cache = in_dir(e, ".cache/kubeup");
	char *d;

	assert_string_equal(spec->name, "kubeup");
	assert_string_equal(spec->version, ku_version_default());
	assert_false(spec->allow_unsupported_version);
	assert_string_equal(spec->pod_cidr, "10.244.0.0/16");
	assert_string_equal(spec->service_cidr, "10.96.0.0/12");
	assert_string_equal(spec->dns_domain, "cluster.local");
	assert_int_equal(spec->api_sans.n, 0);
	assert_int_equal(spec->node_count, 0);
	assert_int_equal(spec->provider, KU_PROVIDER_SSH);
	assert_string_equal(spec->ssh.user, "root");
	assert_int_equal(spec->ssh.port, 22);
	assert_null(spec->ssh.key_file);
	assert_false(spec->ssh.sudo);
	assert_null(spec->ssh.sudo_password_file);
	assert_null(spec->ssh.sudo_password_env);
	assert_string_equal(spec->ssh.known_hosts, kh);
	assert_int_equal(spec->ssh.host_key_policy, KU_HOSTKEY_STRICT);
	assert_int_equal(spec->ssh.connect_timeout, 10);
	assert_int_equal(spec->ssh.command_timeout, 600);
	assert_int_equal(spec->ssh.keepalive, 15);
	assert_null(spec->ssh.jump);
	assert_null(spec->master.name);
	assert_int_equal(spec->n_nodes, 0);
	assert_int_equal(spec->plugin, KU_NET_FLANNEL);
	assert_null(spec->custom_manifest);
	assert_true(spec->addon_dns && spec->addon_dashboard &&
	    spec->addon_metrics_server);
	assert_int_equal(spec->runtime, KU_RUNTIME_CONTAINERD);
	assert_string_equal(spec->registry, "registry.k8s.io");
	assert_null(spec->registry_ca_file);
	assert_string_equal(spec->download_base_url,
	    "https://dl.k8s.io/release");
	assert_null(spec->download_ca_file);
	assert_string_equal(spec->download_cache_dir, cache);
	assert_int_equal(spec->key_type, KU_KEY_ECDSA_P256);
	assert_int_equal(spec->parallelism, 32);
	assert_int_equal(spec->retries, 2);
	assert_int_equal(spec->retry_backoff_ms, 2000);
	assert_int_equal(spec->retry_backoff_max_ms, 30000);
	assert_int_equal(spec->on_failure, KU_ON_FAILURE_ABORT);
	assert_null(spec->source);

	/* A file with only a master: every other key its default. */
	read = read_ok(e, MASTER_LINE);
	d = diff_of(spec, read);
	assert_string_equal(d, "machines.master.name machines.master.address "
	    "machines.master.user");
	free(d);
	ku_spec_free(read);

	/* $XDG_CACHE_HOME, when absolute, holds the cache. */
	setenv("XDG_CACHE_HOME", "/var/cache/someone", 1);
	ku_spec_free(spec);
	spec = ku_spec_new();
	assert_string_equal(spec->download_cache_dir,
	    "/var/cache/someone/kubeup");
	setenv("XDG_CACHE_HOME", "relative/ignored", 1);
	ku_spec_free(spec);
	spec = ku_spec_new();
	assert_string_equal(spec->download_cache_dir, cache);
	unsetenv("XDG_CACHE_HOME");

	ku_spec_free(spec);
	ku_spec_free(NULL);
	free(kh);
	free(cache);
}

static void
test_node_count_defaults_to_the_list(void **state)
{
	struct ku_spec *spec = read_ok(*state,
	    "machines = {\n"
	    "  master = { name = \"master\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = ( { name = \"a\"; address = \"192.0.2.11\"; },\n"
	    "            { name = \"b\"; address = \"192.0.2.12\"; } );\n"
	    "};\n");

	assert_int_equal(spec->node_count, 2);
	assert_int_equal(ku_spec_n_machines(spec), 3);
	assert_ptr_equal(ku_spec_machine(spec, 0), &spec->master);
	assert_ptr_equal(ku_spec_machine(spec, 2), &spec->nodes[1]);
	assert_null(ku_spec_machine(spec, 3));
	assert_int_equal(spec->nodes[0].line, 3);
	assert_int_equal(spec->nodes[1].line, 4);
	ku_spec_free(spec);
}

/* --- malformed files --- */

static void
test_syntax_error(void **state)
{
	check_problems(*state,
	    "cluster = {\n"
	    "  name = \"demo\";\n"
	    "  version = ;\n"
	    "};\n",
	    "answers.conf:3: syntax error");
	/* A string where none can be: the same report (and libconfig 1.5's
	 * leak on this input avoided, which valgrind checks). */
	check_problems(*state,
	    "cluster = {\n"
	    "  name = \"demo\" \"x\";\n"
	    "  version = \"1.35.0\" 5 \"x\";\n"
	    "};\n",
	    "answers.conf:3: syntax error");
	check_problems(*state, "\"cluster\" = 1;\n",
	    "answers.conf:1: syntax error");
	check_problems(*state, "a = 1;\nb = { c = 1, \"d\" = 2; };\n",
	    "answers.conf:2: syntax error");
	check_problems(*state, "cluster = { name = \"a\"; name = \"b\"; };\n",
	    "answers.conf:1: duplicate setting name");
}

static void
test_include_refused(void **state)
{
	check_problems(*state,
	    "cluster = {\n"
	    "  name = \"demo\";\n"
	    "};\n"
	    "  @include \"/etc/kubeup/more.conf\"\n",
	    "answers.conf:4: @include is not allowed: an answers file stands "
	    "alone");
	/* Also where libconfig would not take it: no guessing. */
	check_problems(*state, "# x\n/*\n@include \"x\"\n*/\n",
	    "answers.conf:3: @include is not allowed: an answers file stands "
	    "alone");
	check_problems(*state, "cluster = { @include \"x\" };\n",
	    "answers.conf:1: @include is not allowed: an answers file stands "
	    "alone");
}

static void
test_binary_refused(void **state)
{
	static const char nul[] = "cluster = {\n  name = \"de\0mo\";\n};\n";
	static const char ctl[] = "cluster = {\n\n\n  name = \"\x1b[2J\";\n};\n";
	char *all = problems_of(*state, nul, sizeof nul - 1, NULL);

	assert_string_equal(all, "answers.conf:2: contains a NUL byte: an "
	    "answers file is text, this looks binary");
	free(all);
	all = problems_of(*state, ctl, sizeof ctl - 1, NULL);
	assert_string_equal(all, "answers.conf:4: contains the control "
	    "character 0x1b: an answers file is text, this looks binary");
	free(all);
}

static void
test_large_file_refused(void **state)
{
	struct env *e = *state;
	size_t len = 10 * 1024 * 1024;
	char *big = xmalloc(len + 1);
	char *path = in_dir(e, "big.conf");
	char *expected;
	struct ku_diags d = { 0 };
	struct ku_spec *spec = NULL;
	char *all;

	memset(big, '#', len);
	big[len] = '\0';
	all = problems_of(e, big, len, NULL);
	assert_string_equal(all, "answers.conf: is larger than 1048576 bytes, "
	    "the most an answers file may hold");
	free(all);

	put_file(e, "big.conf", big, 0600);
	assert_int_equal(ku_answers_read(path, &spec, &d), KU_ERR_ANSWERS);
	assert_null(spec);
	all = format_all(&d);
	expected = xasprintf("%s: is larger than 1048576 bytes, the most an "
	    "answers file may hold", path);
	assert_string_equal(all, expected);
	free(all);
	free(expected);
	ku_diags_free(&d);
	unlink(path);
	free(path);
	free(big);
}

static void
test_unreadable_file(void **state)
{
	struct env *e = *state;
	char *path = in_dir(e, "absent.conf");
	char *expected = xasprintf("%s: cannot be read: %s", path,
	    strerror(ENOENT));
	struct ku_diags d = { 0 };
	struct ku_spec *spec = NULL;
	char *all;

	assert_int_equal(ku_answers_read(path, &spec, &d), KU_ERR_IO);
	assert_null(spec);
	all = format_all(&d);
	assert_string_equal(all, expected);
	free(all);
	free(expected);
	free(path);
	ku_diags_free(&d);
}

static char *
nested(const char *open, const char *close, size_t depth)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	ku_buf_adds(&b, "deep = ");
	for (size_t i = 0; i < depth; i++)
		ku_buf_adds(&b, open);
	for (size_t i = 0; i < depth; i++)
		ku_buf_adds(&b, close);
	ku_buf_adds(&b, ";\n");
	return ku_buf_steal(&b);
}

static void
test_deep_nesting_refused(void **state)
{
	static const struct {
		const char *open, *close;
	} shapes[] = {
		{ "{a=", "1;}" },
		{ "(", ")" },
		{ "[", "]" },
		{ "({b=[", "]})" },
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(shapes); i++) {
		char *text = nested(shapes[i].open, shapes[i].close, 100000);
		assert_true(strlen(text) < KU_ANSWERS_MAX_BYTES);
		check_problems(*state, text,
		    "answers.conf:1: nested more than 16 levels deep");
		free(text);
	}
	/* Brackets in strings and comments are not nesting. */
	{
		char *text = xasprintf("# %s\n/* %s */\n// %s\n%s"
		    "cluster = { api_sans = [ \"%s\" ]; };\n",
		    "{{{{{{{{{{{{{{{{{{{{", "((((((((((((((((((((",
		    "[[[[[[[[[[[[[[[[[[[[", MASTER_LINE, "{{{{{{{{{{{{{{{{{{{{");
		check_problems(*state, text, "answers.conf:5: "
		    "cluster.api_sans[0]: \"{{{{{{{{{{{{{{{{{{{{\" is neither a "
		    "DNS name (lowercase letters, digits, '-' and '.') nor an IP "
		    "address");
		free(text);
	}
	/* 16 levels are still read (and the unknown key reported). */
	{
		char *text = nested("(", ")", 16);
		check_problems(*state, text, "answers.conf:1: deep: unknown key; "
		    "the top level allows: cluster, provider, machines, "
		    "network, addons, runtime, images, downloads, pki, engine\n"
		    "answers.conf: machines.master: missing: the ssh provider "
		    "needs master = { name = \"...\"; address = \"...\"; }");
		free(text);
	}
}

/* libconfig 1.5 needs time quadratic in the settings of one group. */
static void
test_too_many_settings(void **state)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	ku_buf_adds(&b, "cluster = {\n");
	for (int i = 0; i < 1025; i++)
		ku_buf_printf(&b, "  k%d = %d;\n", i, i);
	ku_buf_adds(&b, "};\n");
	check_problems(*state, b.data,
	    "answers.conf:1026: more than 1024 settings in one group");
	/* Lists hold any number of values (and nodes are counted later). */
	ku_buf_reset(&b);
	ku_buf_adds(&b, MASTER_LINE "extra = (");
	for (int i = 0; i < 5000; i++)
		ku_buf_printf(&b, "%s{ a = 1; }", i ? ", " : "");
	ku_buf_adds(&b, ");\n");
	check_problems(*state, b.data, "answers.conf:2: extra: unknown key; "
	    "the top level allows: cluster, provider, machines, network, "
	    "addons, runtime, images, downloads, pki, engine");
	ku_buf_free(&b);
}

/* --- keys and types --- */

static void
test_unknown_keys(void **state)
{
	check_problems(*state,
	    "colour = \"blue\";\n"
	    "cluster = { nmae = \"demo\"; };\n"
	    "provider = { ssh = { jump_host = { address = \"192.0.2.1\"; "
	    "via = 1; }; }; };\n"
	    "machines = {\n"
	    "  master = { name = \"master\"; address = \"192.0.2.10\"; "
	    "hostname = \"m\"; };\n"
	    "  nodes = ( { name = \"n\"; address = \"192.0.2.11\"; ip = 1; } );\n"
	    "  spare = ();\n"
	    "};\n",
	    "answers.conf:1: colour: unknown key; the top level allows: "
	    "cluster, provider, machines, network, addons, runtime, images, "
	    "downloads, pki, engine\n"
	    "answers.conf:2: cluster.nmae: unknown key; cluster allows: name, "
	    "version, allow_unsupported_version, pod_cidr, service_cidr, "
	    "dns_domain, api_sans, node_count\n"
	    "answers.conf:3: provider.ssh.jump_host.via: unknown key; "
	    "provider.ssh.jump_host allows: address, port, user, key\n"
	    "answers.conf:5: machines.master.hostname: unknown key; "
	    "machines.master allows: name, address, user, port, key, sudo\n"
	    "answers.conf:6: machines.nodes[0].ip: unknown key; "
	    "machines.nodes[0] allows: name, address, user, port, key, sudo\n"
	    "answers.conf:7: machines.spare: unknown key; machines allows: "
	    "master, nodes");
}

static void
test_wrong_types(void **state)
{
	check_problems(*state,
	    "cluster = {\n"
	    "  name = 42;\n"
	    "  node_count = \"2\";\n"
	    "  allow_unsupported_version = \"yes\";\n"
	    "  api_sans = \"lb.example.com\";\n"
	    "};\n"
	    "provider = { ssh = { port = 22.0; }; };\n"
	    "network = \"flannel\";\n"
	    "pki = { key_type = 1; };\n"
	    "machines = { master = { name = \"master\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = { name = \"n\"; }; };\n"
	    "engine = { retries = [ 1 ]; };\n",
	    "answers.conf:2: cluster.name: must be a string\n"
	    "answers.conf:3: cluster.node_count: must be an integer from 0 to "
	    "1000\n"
	    "answers.conf:4: cluster.allow_unsupported_version: must be true or "
	    "false\n"
	    "answers.conf:5: cluster.api_sans: must be an array of strings, "
	    "e.g. [ \"lb.example.com\", \"192.0.2.100\" ]\n"
	    "answers.conf:7: provider.ssh.port: must be an integer from 1 to "
	    "65535\n"
	    "answers.conf:8: network: must be a group: network = { ... }\n"
	    "answers.conf:9: pki.key_type: must be a string, one of: "
	    "ecdsa-p256, rsa-2048, rsa-3072, rsa-4096\n"
	    "answers.conf:11: machines.nodes: must be a list of machines: "
	    "( { name = \"...\"; address = \"...\"; }, ... )\n"
	    "answers.conf:12: engine.retries: must be an integer from 0 to 100");
	check_problems(*state,
	    MASTER_LINE
	    "cluster = { api_sans = ( \"a.example.com\", 5 ); };\n"
	    "machines2 = 0;\n",
	    "answers.conf:2: cluster.api_sans[1]: must be a string\n"
	    "answers.conf:3: machines2: unknown key; the top level allows: "
	    "cluster, provider, machines, network, addons, runtime, images, "
	    "downloads, pki, engine");
	check_problems(*state,
	    "machines = { master = \"192.0.2.10\"; nodes = ( 1 ); };\n",
	    "answers.conf:1: machines.master: must be a group: { name = "
	    "\"...\"; address = \"...\"; }\n"
	    "answers.conf:1: machines.nodes[0]: must be a group: { name = "
	    "\"...\"; address = \"...\"; }");
}

static void
test_bad_enum(void **state)
{
	/* The issue's own example. */
	check_problems(*state,
	    "cluster = {\n"
	    "  name = \"demo\";\n"
	    "  node_count = 0;\n"
	    "};\n"
	    "\n"
	    "provider = {\n"
	    "  type = \"ssh\";\n"
	    "};\n"
	    "\n"
	    MASTER_LINE
	    "\n"
	    "# The network.\n"
	    "network = {\n"
	    "  plugin = \"flanel\";\n"
	    "};\n",
	    "answers.conf:14: network.plugin: \"flanel\" is not one of: "
	    "flannel, calico, custom");
	check_problems(*state,
	    MASTER_LINE
	    "runtime = { type = \"docker\"; };\n"
	    "pki = { key_type = \"rsa-1024\"; };\n"
	    "engine = { on_failure = \"retry\"; };\n",
	    "answers.conf:2: runtime.type: \"docker\" is not one of: "
	    "containerd\n"
	    "answers.conf:3: pki.key_type: \"rsa-1024\" is not one of: "
	    "ecdsa-p256, rsa-2048, rsa-3072, rsa-4096\n"
	    "answers.conf:4: engine.on_failure: \"retry\" is not one of: "
	    "abort, skip");
}

static void
test_provider_type(void **state)
{
	check_problems(*state, MASTER_LINE "provider = { type = \"gce\"; };\n",
	    "answers.conf:2: provider.type: \"gce\" is not one of: ssh (gce "
	    "and aws are not available yet)");
	check_problems(*state, MASTER_LINE "provider = { type = \"aws\"; };\n",
	    "answers.conf:2: provider.type: \"aws\" is not one of: ssh (gce "
	    "and aws are not available yet)");
}

/* --- cluster --- */

static void
test_cluster_name(void **state)
{
	static const char *const bad[] = {
		"Demo", "demo_1", "-demo", "demo-", "", "de mo", "demo.local",
		"a123456789012345678901234567890123456789012345678901234567890123",
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(MASTER_LINE
		    "cluster = { name = \"%s\"; };\n", bad[i]);
		char *expected = xasprintf("answers.conf:2: cluster.name: \"%s\" "
		    "is not a DNS-1123 label: use 1 to 63 lowercase letters, "
		    "digits and '-', starting and ending with a letter or digit",
		    bad[i]);
		check_problems(*state, text, expected);
		free(text);
		free(expected);
	}
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "cluster = { name = \"a1-b2\"; };\n"));
}

static void
test_version_format(void **state)
{
	static const char *const bad[] = {
		"v1.35.0", "1.35", "1.35.0.1", "01.35.0", "1.35.x", "latest",
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(MASTER_LINE
		    "cluster = { version = \"%s\"; };\n", bad[i]);
		char *expected = xasprintf("answers.conf:2: cluster.version: "
		    "\"%s\" is not a release: write MAJOR.MINOR.PATCH, e.g. %s",
		    bad[i], ku_version_default());
		check_problems(*state, text, expected);
		free(text);
		free(expected);
	}
}

static void
test_version_test_only(void **state)
{
	struct ku_spec *spec;

	check_problems(*state, MASTER_LINE
	    "cluster = {\n"
	    "  version = \"1.20.2\";\n"
	    "};\n",
	    "answers.conf:3: cluster.version: 1.20.2 is a test-only release "
	    "(the release the simulated test machines run): set "
	    "cluster.allow_unsupported_version = true to use it");
	spec = read_ok(*state, MASTER_LINE
	    "cluster = { version = \"1.20.2\"; allow_unsupported_version = "
	    "true; };\n");
	assert_string_equal(spec->version, "1.20.2");
	ku_spec_free(spec);
}

static void
test_version_old_and_new(void **state)
{
	struct ku_spec *spec;

	check_problems(*state, MASTER_LINE
	    "cluster = { version = \"1.34.9\"; };\n",
	    "answers.conf:2: cluster.version: 1.34.9 is older than 1.35, the "
	    "oldest release kubeup supports");
	check_problems(*state, MASTER_LINE
	    "cluster = { version = \"0.99.0\"; };\n",
	    "answers.conf:2: cluster.version: 0.99.0 is older than 1.35, the "
	    "oldest release kubeup supports");
	/* Unknown and newer: accepted, generated as for the newest known. */
	spec = read_ok(*state, MASTER_LINE
	    "cluster = { version = \"1.36.2\"; };\n");
	ku_spec_free(spec);
	spec = read_ok(*state, MASTER_LINE
	    "cluster = { version = \"2.0.0\"; };\n");
	ku_spec_free(spec);
}

static void
test_cidr_syntax(void **state)
{
	static const char *const bad[] = {
		"10.244.0.0", "10.244.0.0/33", "10.244.0/16", "fd00::/129",
		"10.244.0.0/016", "10.244.0.0/ 16", "/16", "cluster",
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(MASTER_LINE
		    "cluster = { pod_cidr = \"%s\"; };\n", bad[i]);
		char *expected = xasprintf("answers.conf:2: cluster.pod_cidr: "
		    "\"%s\" is not a CIDR: write an IPv4 or IPv6 network and its "
		    "prefix length, e.g. 10.244.0.0/16", bad[i]);
		check_problems(*state, text, expected);
		free(text);
		free(expected);
	}
}

static void
test_cidr_host_bits(void **state)
{
	check_problems(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"10.244.1.0/16\";\n"
	    "  service_cidr = \"fd00:10:96::1/112\"; };\n",
	    "answers.conf:2: cluster.pod_cidr: \"10.244.1.0/16\" has host bits "
	    "set: the network is 10.244.0.0/16\n"
	    "answers.conf:3: cluster.service_cidr: \"fd00:10:96::1/112\" has "
	    "host bits set: the network is fd00:10:96::/112");
}

static void
test_cidr_overlap(void **state)
{
	check_problems(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"10.0.0.0/8\";\n"
	    "  service_cidr = \"10.96.0.0/12\"; };\n",
	    "answers.conf:3: cluster.service_cidr: 10.96.0.0/12 overlaps "
	    "cluster.pod_cidr (10.0.0.0/8)");
	check_problems(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"fd00:10::/64\";\n"
	    "  service_cidr = \"fd00::/16\"; };\n",
	    "answers.conf:3: cluster.service_cidr: fd00::/16 overlaps "
	    "cluster.pod_cidr (fd00:10::/64)");
	check_problems(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"10.244.0.0/16\";\n"
	    "  service_cidr = \"fd00:10:96::/112\"; };\n",
	    "answers.conf:3: cluster.service_cidr: fd00:10:96::/112 and "
	    "cluster.pod_cidr (10.244.0.0/16) must both be IPv4 or both IPv6");
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"10.244.0.0/16\";\n"
	    "  service_cidr = \"10.245.0.0/16\"; };\n"));
}

static void
test_service_cidr_too_small(void **state)
{
	check_problems(*state, MASTER_LINE
	    "cluster = { service_cidr = \"10.96.0.0/29\"; };\n",
	    "answers.conf:2: cluster.service_cidr: 10.96.0.0/29 is too small: "
	    "the DNS service uses its 10th address; use a prefix of /28 or "
	    "shorter");
	check_problems(*state, MASTER_LINE
	    "cluster = { pod_cidr = \"fd00:244::/64\";\n"
	    "  service_cidr = \"fd00:96::/125\"; };\n",
	    "answers.conf:3: cluster.service_cidr: fd00:96::/125 is too small: "
	    "the DNS service uses its 10th address; use a prefix of /124 or "
	    "shorter");
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "cluster = { service_cidr = \"10.96.0.0/28\"; };\n"));
}

static void
test_cidr_contains_machine(void **state)
{
	check_problems(*state,
	    "machines = { master = { name = \"master\"; address = \"10.96.0.1\"; };\n"
	    "  nodes = ( { name = \"n\"; address = \"10.244.9.9\"; } ); };\n"
	    "cluster = {\n"
	    "  pod_cidr = \"10.244.0.0/16\";\n"
	    "  service_cidr = \"10.96.0.0/12\";\n"
	    "};\n",
	    "answers.conf:4: cluster.pod_cidr: 10.244.0.0/16 contains the "
	    "address of machines.nodes[0] (10.244.9.9)\n"
	    "answers.conf:5: cluster.service_cidr: 10.96.0.0/12 contains the "
	    "address of machines.master (10.96.0.1)");
	/* The default range, not in the file: no line to show. */
	check_problems(*state,
	    "\n"
	    "machines = { master = { name = \"master\"; address = \"10.244.0.5\"; }; };\n",
	    "answers.conf: cluster.pod_cidr: 10.244.0.0/16 contains the "
	    "address of machines.master (10.244.0.5)");
}

static void
test_dns_domain(void **state)
{
	check_problems(*state, MASTER_LINE
	    "cluster = { dns_domain = \"cluster..local\"; };\n",
	    "answers.conf:2: cluster.dns_domain: \"cluster..local\" is not a DNS "
	    "name: use labels of lowercase letters, digits and '-', separated "
	    "by dots");
	check_problems(*state, MASTER_LINE
	    "cluster = { dns_domain = \"Cluster.Local\"; };\n",
	    "answers.conf:2: cluster.dns_domain: \"Cluster.Local\" is not a DNS "
	    "name: use labels of lowercase letters, digits and '-', separated "
	    "by dots");
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "cluster = { dns_domain = \"k8s.example.com\"; };\n"));
}

static void
test_api_sans(void **state)
{
	struct ku_spec *spec;

	check_problems(*state, MASTER_LINE
	    "cluster = { api_sans = [\n"
	    "  \"lb.example.com\",\n"
	    "  \"10.0.0.300\",\n"
	    "  \"lb;reboot\" ]; };\n",
	    "answers.conf:4: cluster.api_sans[1]: \"10.0.0.300\" is neither a "
	    "DNS name (lowercase letters, digits, '-' and '.') nor an IP "
	    "address\n"
	    "answers.conf:5: cluster.api_sans[2]: \"lb;reboot\" is neither a DNS "
	    "name (lowercase letters, digits, '-' and '.') nor an IP address");
	spec = read_ok(*state, MASTER_LINE
	    "cluster = { api_sans = [ \"lb.example.com\", \"192.0.2.100\", "
	    "\"2001:db8::1\", \"*.apps.example.com\" ]; };\n");
	assert_int_equal(spec->api_sans.n, 4);
	assert_string_equal(spec->api_sans.v[3], "*.apps.example.com");
	ku_spec_free(spec);
}

static void
test_too_many_nodes(void **state)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	ku_buf_adds(&b, "machines = {\n"
	    "  master = { name = \"m\"; address = \"10.0.0.1\"; };\n"
	    "  nodes = (\n");
	for (int i = 0; i < 1001; i++)
		ku_buf_printf(&b, "%s    { name = \"n%d\"; address = \"10.1.%d.%d\"; }",
		    i ? ",\n" : "", i, i / 256, i % 256);
	ku_buf_adds(&b, "\n  );\n};\n");
	check_problems(*state, b.data, "answers.conf:3: machines.nodes: lists "
	    "1001 machines: at most 1000 are supported");
	ku_buf_free(&b);
}

static void
test_node_count_range(void **state)
{
	check_problems(*state, MASTER_LINE
	    "cluster = { node_count = 1001; };\n",
	    "answers.conf:2: cluster.node_count: must be an integer from 0 to "
	    "1000, not 1001");
	check_problems(*state, MASTER_LINE
	    "cluster = { node_count = -1; };\n",
	    "answers.conf:2: cluster.node_count: must be an integer from 0 to "
	    "1000, not -1");
}

static void
test_node_count_mismatch(void **state)
{
	check_problems(*state,
	    "cluster = {\n"
	    "  node_count = 3;\n"
	    "};\n"
	    "machines = { master = { name = \"master\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = ( { name = \"a\"; address = \"192.0.2.11\"; },\n"
	    "            { name = \"b\"; address = \"192.0.2.12\"; } ); };\n",
	    "answers.conf:2: cluster.node_count: node_count is 3 but "
	    "machines.nodes lists 2 machines");
	check_problems(*state,
	    "cluster = { node_count = 2; };\n"
	    "machines = { master = { name = \"master\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = ( { name = \"a\"; address = \"192.0.2.11\"; } ); };\n",
	    "answers.conf:1: cluster.node_count: node_count is 2 but "
	    "machines.nodes lists 1 machine");
}

/* --- machines --- */

static void
test_machine_name(void **state)
{
	check_problems(*state,
	    "machines = {\n"
	    "  master = { name = \"Master\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = (\n"
	    "    { name = \"node;rm -rf /\"; address = \"192.0.2.11\"; },\n"
	    "    { name = \"$(reboot)\"; address = \"192.0.2.12\"; }\n"
	    "  );\n"
	    "};\n",
	    "answers.conf:2: machines.master.name: \"Master\" is not a DNS-1123 "
	    "label: use 1 to 63 lowercase letters, digits and '-', starting "
	    "and ending with a letter or digit\n"
	    "answers.conf:4: machines.nodes[0].name: \"node;rm -rf /\" is not a "
	    "DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', "
	    "starting and ending with a letter or digit\n"
	    "answers.conf:5: machines.nodes[1].name: \"$(reboot)\" is not a "
	    "DNS-1123 label: use 1 to 63 lowercase letters, digits and '-', "
	    "starting and ending with a letter or digit");
}

static void
test_machine_name_duplicate(void **state)
{
	check_problems(*state,
	    "machines = {\n"
	    "  master = { name = \"m\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = (\n"
	    "    { name = \"n\"; address = \"192.0.2.11\"; },\n"
	    "    { name = \"n\"; address = \"192.0.2.12\"; },\n"
	    "    { name = \"m\"; address = \"192.0.2.13\"; }\n"
	    "  );\n"
	    "};\n",
	    "answers.conf:5: machines.nodes[1].name: \"n\" is already the name "
	    "of machines.nodes[0]\n"
	    "answers.conf:6: machines.nodes[2].name: \"m\" is already the name "
	    "of machines.master");
}

static void
test_machine_address(void **state)
{
	check_problems(*state,
	    "machines = {\n"
	    "  master = { name = \"m\"; address = \"master.example.com\"; };\n"
	    "  nodes = (\n"
	    "    { name = \"a\"; address = \"192.0.2.256\"; },\n"
	    "    { name = \"b\"; address = \"192.0.2.12; reboot\"; },\n"
	    "    { name = \"c\"; address = \"fe80::1%eth0\"; },\n"
	    "    { name = \"d\"; address = \"2001:db8::12\"; }\n"
	    "  );\n"
	    "};\n",
	    "answers.conf:2: machines.master.address: \"master.example.com\" is "
	    "not an IPv4 or IPv6 address\n"
	    "answers.conf:4: machines.nodes[0].address: \"192.0.2.256\" is not "
	    "an IPv4 or IPv6 address\n"
	    "answers.conf:5: machines.nodes[1].address: \"192.0.2.12; reboot\" "
	    "is not an IPv4 or IPv6 address\n"
	    "answers.conf:6: machines.nodes[2].address: \"fe80::1%eth0\" is not "
	    "an IPv4 or IPv6 address");
}

static void
test_machine_address_duplicate(void **state)
{
	check_problems(*state,
	    "machines = {\n"
	    "  master = { name = \"m\"; address = \"2001:db8::10\"; };\n"
	    "  nodes = (\n"
	    "    { name = \"a\"; address = \"2001:db8:0:0::10\"; },\n"
	    "    { name = \"b\"; address = \"192.0.2.12\"; },\n"
	    "    { name = \"c\"; address = \"192.0.2.12\"; }\n"
	    "  );\n"
	    "};\n",
	    "answers.conf:4: machines.nodes[0].address: \"2001:db8:0:0::10\" is "
	    "already the address of machines.master\n"
	    "answers.conf:6: machines.nodes[2].address: \"192.0.2.12\" is "
	    "already the address of machines.nodes[1]");
}

static void
test_machine_missing(void **state)
{
	check_problems(*state,
	    "machines = {\n"
	    "  master = { name = \"m\"; };\n"
	    "  nodes = (\n"
	    "    { address = \"192.0.2.11\"; },\n"
	    "    { }\n"
	    "  );\n"
	    "};\n",
	    "answers.conf:2: machines.master.address: missing: every machine "
	    "needs a name and an address\n"
	    "answers.conf:4: machines.nodes[0].name: missing: every machine "
	    "needs a name and an address\n"
	    "answers.conf:5: machines.nodes[1].name: missing: every machine "
	    "needs a name and an address\n"
	    "answers.conf:5: machines.nodes[1].address: missing: every machine "
	    "needs a name and an address");
	check_problems(*state, "cluster = { name = \"demo\"; };\n",
	    "answers.conf: machines.master: missing: the ssh provider needs "
	    "master = { name = \"...\"; address = \"...\"; }");
	check_problems(*state, "machines = { nodes = (); };\n",
	    "answers.conf:1: machines.master: missing: the ssh provider needs "
	    "master = { name = \"...\"; address = \"...\"; }");
}

static void
test_ports(void **state)
{
	check_problems(*state,
	    "provider = { ssh = { port = 0; }; };\n"
	    "machines = {\n"
	    "  master = { name = \"m\"; address = \"192.0.2.10\"; port = 65536; };\n"
	    "  nodes = ( { name = \"a\"; address = \"192.0.2.11\"; port = -22; } );\n"
	    "};\n",
	    "answers.conf:1: provider.ssh.port: must be an integer from 1 to "
	    "65535, not 0\n"
	    "answers.conf:3: machines.master.port: must be an integer from 1 "
	    "to 65535, not 65536\n"
	    "answers.conf:4: machines.nodes[0].port: must be an integer from 1 "
	    "to 65535, not -22");
}

/* libconfig 1.5 reads 4294967318 as 22: such literals are refused. */
static void
test_integer_wrapped(void **state)
{
	check_problems(*state,
	    "provider = { ssh = {\n"
	    "  port = 4294967318;\n"
	    "  connect_timeout = 0x10000000a;\n"
	    "  keepalive =\n"
	    "    99999999999999999999;\n"
	    "  command_timeout = 4294967896L;\n"
	    "}; };\n"
	    MASTER_LINE,
	    "answers.conf:2: provider.ssh.port: must be an integer from 1 to "
	    "65535, not 4294967318\n"
	    "answers.conf:3: provider.ssh.connect_timeout: must be an integer "
	    "from 1 to 3600, not 0x10000000a\n"
	    "answers.conf:4: provider.ssh.keepalive: must be an integer from 1 "
	    "to 3600, not 99999999999999999999\n"
	    "answers.conf:6: provider.ssh.command_timeout: must be an integer "
	    "from 1 to 86400, not 4294967896L");
}

static void
test_hostile_users(void **state)
{
	static const char *const bad[] = {
		"node;rm -rf /", "$(reboot)", "`id`", "a b", "-oProxyCommand=x",
		"root\\n", "r|sh", "x>y", "'q'", "",
		"a23456789012345678901234567890123",
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(
		    "provider = { ssh = { user = \"%s\";\n"
		    "  jump_host = { address = \"192.0.2.1\"; user = \"%s\"; }; }; };\n"
		    "machines = { master = { name = \"m\"; address = \"192.0.2.10\";\n"
		    "  user = \"%s\"; }; };\n", bad[i], bad[i], bad[i]);
		/* As the message shows it: a newline escaped. */
		const char *shown = strcmp(bad[i], "root\\n") == 0 ?
		    "root\\x0a" : bad[i];
		char *expected;

		/* provider.ssh.user is reported; the same value, taken by
		 * the jump host and the machine, is not reported again. */
		expected = xasprintf(
		    "answers.conf:1: provider.ssh.user: \"%s\" is not a valid user "
		    "name: use letters, digits, '_', '-' and '.', starting with a "
		    "letter or '_', at most 32 characters", shown);
		check_problems(*state, text, expected);
		free(expected);
		free(text);

		/* Per-machine and jump host users are checked on their own. */
		text = xasprintf(
		    "provider = { ssh = {\n"
		    "  jump_host = { address = \"192.0.2.1\"; user = \"%s\"; }; }; };\n"
		    "machines = { master = { name = \"m\"; address = \"192.0.2.10\";\n"
		    "  user = \"%s\"; }; };\n", bad[i], bad[i]);
		expected = xasprintf(
		    "answers.conf:2: provider.ssh.jump_host.user: \"%s\" is not a "
		    "valid user name: use letters, digits, '_', '-' and '.', "
		    "starting with a letter or '_', at most 32 characters\n"
		    "answers.conf:4: machines.master.user: \"%s\" is not a valid "
		    "user name: use letters, digits, '_', '-' and '.', starting "
		    "with a letter or '_', at most 32 characters",
		    shown, shown);
		check_problems(*state, text, expected);
		free(expected);
		free(text);
	}
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "provider = { ssh = { user = \"ubuntu.admin_2\"; }; };\n"));
}

static void
test_host_key_policy(void **state)
{
	check_problems(*state, MASTER_LINE
	    "provider = { ssh = { host_key_policy = \"no\"; }; };\n",
	    "answers.conf:2: provider.ssh.host_key_policy: \"no\" is not one "
	    "of: strict, accept-new");
}

static void
test_timeouts(void **state)
{
	check_problems(*state, MASTER_LINE
	    "provider = { ssh = {\n"
	    "  connect_timeout = 0;\n"
	    "  command_timeout = 86401;\n"
	    "  keepalive = -1;\n"
	    "}; };\n",
	    "answers.conf:3: provider.ssh.connect_timeout: must be an integer "
	    "from 1 to 3600, not 0\n"
	    "answers.conf:4: provider.ssh.command_timeout: must be an integer "
	    "from 1 to 86400, not 86401\n"
	    "answers.conf:5: provider.ssh.keepalive: must be an integer from 1 "
	    "to 3600, not -1");
}

/* --- files --- */

static void
test_key_files(void **state)
{
	struct env *e = *state;
	char *key = in_dir(e, "id_ed25519");
	char *missing = in_dir(e, "keys/id_rsa");
	char *text, *expected;
	struct ku_spec *spec;

	text = xasprintf(
	    "provider = { ssh = { key = \"keys/id_rsa\";\n"
	    "  jump_host = { address = \"192.0.2.1\"; key = \"%s\"; }; }; };\n"
	    "machines = { master = { name = \"m\"; address = \"192.0.2.10\";\n"
	    "  key = \".ssh\"; }; };\n", e->dir);
	expected = xasprintf(
	    "answers.conf:1: provider.ssh.key: \"%s\" does not exist\n"
	    "answers.conf:2: provider.ssh.jump_host.key: \"%s\" is not a regular "
	    "file\n"
	    "answers.conf:4: machines.master.key: \"%s/.ssh\" is not a regular "
	    "file", missing, e->dir, e->dir);
	check_problems(e, text, expected);
	free(text);
	free(expected);

	/* Relative, ~/ and absolute all end up absolute. */
	text = xasprintf(
	    "provider = { ssh = { key = \"id_ed25519\";\n"
	    "  jump_host = { address = \"192.0.2.1\"; key = \"~/id_ed25519\"; }; }; };\n"
	    "machines = { master = { name = \"m\"; address = \"192.0.2.10\";\n"
	    "  key = \"%s\"; };\n"
	    "  nodes = ( { name = \"n\"; address = \"192.0.2.11\"; key = \"\"; } ); };\n",
	    key);
	spec = read_ok(e, text);
	assert_string_equal(spec->ssh.key_file, key);
	assert_string_equal(spec->ssh.jump->key_file, key);
	assert_string_equal(spec->master.key_file, key);
	assert_null(spec->nodes[0].key_file);
	ku_spec_free(spec);
	free(text);
	free(key);
	free(missing);
}

/* The forward the summary offers when a jump host carried the API: the
 * master's address (IPv6 in brackets), the jump host's port, key and
 * user, every value quoted by the one quoting function. */
static void
test_api_forward(void **state)
{
	struct env *e = *state;
	char *key = in_dir(e, "jump key");
	char *text, *fwd, *qkey, *want;
	struct ku_spec *spec;

	put_file(e, "jump key", "k\n", 0600);
	spec = read_ok(e, MASTER_LINE);
	assert_null(ku_spec_api_forward(spec));
	ku_spec_free(spec);

	spec = read_ok(e,
	    "provider = { ssh = { user = \"admin\"; key = \"\";\n"
	    "  jump_host = { address = \"192.0.2.1\"; }; }; };\n"
	    "machines = { master = { name = \"m\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = ( { name = \"n\"; address = \"192.0.2.11\"; } ); };\n");
	fwd = ku_spec_api_forward(spec);
	assert_string_equal(fwd,
	    "ssh -N -L '127.0.0.1:6443:192.0.2.10:6443' 'admin@192.0.2.1'");
	free(fwd);
	ku_spec_free(spec);

	text = xasprintf(
	    "provider = { ssh = { user = \"admin\";\n"
	    "  jump_host = { address = \"2001:db8::1\"; port = 2222;\n"
	    "    user = \"bastion\"; key = \"%s\"; }; }; };\n"
	    "machines = { master = { name = \"m\"; address = \"2001:db8::10\"; };\n"
	    "  nodes = ( { name = \"n\"; address = \"2001:db8::11\"; } ); };\n",
	    key);
	spec = read_ok(e, text);
	fwd = ku_spec_api_forward(spec);
	qkey = ku_sh_quote(key);
	want = xasprintf("ssh -N -L '127.0.0.1:6443:[2001:db8::10]:6443' "
	    "-p '2222' -i %s 'bastion@2001:db8::1'", qkey);
	assert_string_equal(fwd, want);
	/* the key's path has a blank: quoted */
	assert_non_null(strstr(fwd, "'"));
	free(want);
	free(qkey);
	free(fwd);
	ku_spec_free(spec);
	free(text);
	free(key);
}

static void
test_sudo_password(void **state)
{
	struct env *e = *state;
	char *pass = in_dir(e, "sudo.pass");
	char *expected;
	struct ku_spec *spec;

	put_file(e, "sudo.pass", "secret\n", 0644);
	expected = xasprintf("answers.conf:2: provider.ssh.sudo_password_file: "
	    "\"%s\" can be read by others (mode 0644): make it 0600 (chmod 600)",
	    pass);
	check_problems(e, MASTER_LINE
	    "provider = { ssh = { sudo = true; sudo_password_file = "
	    "\"sudo.pass\"; }; };\n", expected);
	free(expected);

	put_file(e, "sudo.pass", "secret\n", 0600);
	spec = read_ok(e, MASTER_LINE
	    "provider = { ssh = { sudo = true; sudo_password_file = "
	    "\"sudo.pass\"; }; };\n");
	assert_string_equal(spec->ssh.sudo_password_file, pass);
	ku_spec_free(spec);
	put_file(e, "sudo.pass", "secret\n", 0400);
	ku_spec_free(read_ok(e, MASTER_LINE
	    "provider = { ssh = { sudo_password_file = \"sudo.pass\"; }; };\n"));

	check_problems(e, MASTER_LINE
	    "provider = { ssh = { sudo_password_env = \"1PASS\"; }; };\n",
	    "answers.conf:2: provider.ssh.sudo_password_env: \"1PASS\" is not an "
	    "environment variable name: use letters, digits and '_', not "
	    "starting with a digit");
	check_problems(e, MASTER_LINE
	    "provider = { ssh = {\n"
	    "  sudo_password_file = \"sudo.pass\";\n"
	    "  sudo_password_env = \"KUBEUP_SUDO_PASSWORD\";\n"
	    "}; };\n",
	    "answers.conf:4: provider.ssh.sudo_password_env: set "
	    "sudo_password_file or sudo_password_env, not both");
	unlink(pass);
	free(pass);
}

static void
test_known_hosts(void **state)
{
	struct env *e = *state;
	char *text, *expected, *path;

	/* strict: the file must be there. */
	path = in_dir(e, "none/known_hosts");
	expected = xasprintf("answers.conf:2: provider.ssh.known_hosts: \"%s\" "
	    "does not exist: host_key_policy \"strict\" trusts only keys "
	    "already there (add them, or use \"accept-new\")", path);
	check_problems(e, MASTER_LINE
	    "provider = { ssh = { known_hosts = \"none/known_hosts\"; }; };\n",
	    expected);
	free(expected);
	free(path);

	/* accept-new: its folder may be made later, but only under a
	 * folder; nothing is created while reading. */
	ku_spec_free(read_ok(e, MASTER_LINE
	    "provider = { ssh = { host_key_policy = \"accept-new\";\n"
	    "  known_hosts = \"state/ssh/known_hosts\"; }; };\n"));
	path = in_dir(e, "state");
	assert_false(ku_path_exists(path));
	free(path);

	put_file(e, "plain", "x", 0600);
	text = xstrdup(MASTER_LINE
	    "provider = { ssh = { host_key_policy = \"accept-new\";\n"
	    "  known_hosts = \"plain/ssh/known_hosts\"; }; };\n");
	path = in_dir(e, "plain");
	expected = xasprintf("answers.conf:3: provider.ssh.known_hosts: "
	    "\"%s/ssh/known_hosts\" cannot be created: \"%s\" is not a folder "
	    "kubeup may write in", path, path);
	check_problems(e, text, expected);
	free(text);
	free(expected);
	free(path);

	/* A bad policy: known_hosts is not judged against the default. */
	check_problems(e, MASTER_LINE
	    "provider = { ssh = { host_key_policy = \"never\";\n"
	    "  known_hosts = \"none/known_hosts\"; }; };\n",
	    "answers.conf:2: provider.ssh.host_key_policy: \"never\" is not one "
	    "of: strict, accept-new");
}

static void
test_network_manifest(void **state)
{
	struct env *e = *state;
	char *cni = in_dir(e, "cni.yaml");
	char *expected;
	struct ku_spec *spec;

	check_problems(e, MASTER_LINE
	    "network = {\n"
	    "  plugin = \"custom\";\n"
	    "};\n",
	    "answers.conf:2: network.manifest: missing: plugin \"custom\" "
	    "needs the manifest to apply");
	expected = xasprintf("answers.conf:3: network.manifest: \"%s\" does "
	    "not exist", cni);
	check_problems(e, MASTER_LINE
	    "network = { plugin = \"custom\";\n"
	    "  manifest = \"cni.yaml\"; };\n", expected);
	free(expected);

	put_file(e, "cni.yaml", "kind: List\n", 0644);
	check_problems(e, MASTER_LINE
	    "network = { plugin = \"calico\";\n"
	    "  manifest = \"cni.yaml\"; };\n",
	    "answers.conf:3: network.manifest: only used with plugin "
	    "\"custom\" (plugin is \"calico\"): leave it out");
	spec = read_ok(e, MASTER_LINE
	    "network = { plugin = \"custom\"; manifest = \"cni.yaml\"; };\n");
	assert_int_equal(spec->plugin, KU_NET_CUSTOM);
	assert_string_equal(spec->custom_manifest, cni);
	ku_spec_free(spec);
	unlink(cni);
	free(cni);
}

static void
test_ca_files_and_cache(void **state)
{
	struct env *e = *state;
	char *ca = in_dir(e, "ca.crt");
	char *plain = in_dir(e, "plain-file");
	char *expected;
	struct ku_spec *spec;

	put_file(e, "plain-file", "x", 0600);
	expected = xasprintf(
	    "answers.conf:2: images.ca_file: \"%s\" does not exist\n"
	    "answers.conf:3: downloads.ca_file: \"%s\" does not exist\n"
	    "answers.conf:4: downloads.cache_dir: \"%s\" is not a folder",
	    ca, ca, plain);
	check_problems(e, MASTER_LINE
	    "images = { ca_file = \"ca.crt\"; };\n"
	    "downloads = { ca_file = \"ca.crt\";\n"
	    "  cache_dir = \"plain-file\"; };\n", expected);
	free(expected);

	put_file(e, "ca.crt", "-----BEGIN CERTIFICATE-----\n", 0644);
	spec = read_ok(e, MASTER_LINE
	    "images = { ca_file = \"ca.crt\"; };\n"
	    "downloads = { ca_file = \"~/ca.crt\"; cache_dir = \"cache/k\"; };\n");
	assert_string_equal(spec->registry_ca_file, ca);
	assert_string_equal(spec->download_ca_file, ca);
	expected = in_dir(e, "cache/k");
	assert_string_equal(spec->download_cache_dir, expected);
	assert_false(ku_path_exists(expected));
	free(expected);
	ku_spec_free(spec);
	unlink(ca);
	unlink(plain);
	free(ca);
	free(plain);
}

static void
test_registry(void **state)
{
	static const char *const good[] = {
		"registry.k8s.io", "mirror.example.com:5000",
		"mirror.example.com:5000/k8s/images", "10.0.0.5:5000",
		"[fd00::5]:5000/k8s", "localhost",
	};
	static const char *const bad[] = {
		"mirror.example.com:0", "mirror.example.com:99999",
		"mirror.example.com/", "mirror..example.com", "mirror example",
		"mirror.example.com/K8S", "mirror.example.com//x", ":5000",
	};

	check_problems(*state, MASTER_LINE
	    "images = { registry = \"https://mirror.example.com/k8s\"; };\n",
	    "answers.conf:2: images.registry: \"https://mirror.example.com/k8s\": "
	    "leave out the scheme (the registry is always reached over TLS): "
	    "write \"mirror.example.com/k8s\"");
	for (size_t i = 0; i < KU_ARRAY_LEN(good); i++) {
		char *text = xasprintf(MASTER_LINE
		    "images = { registry = \"%s\"; };\n", good[i]);
		ku_spec_free(read_ok(*state, text));
		free(text);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		char *text = xasprintf(MASTER_LINE
		    "images = { registry = \"%s\"; };\n", bad[i]);
		char *expected = xasprintf("answers.conf:2: images.registry: "
		    "\"%s\" is not a registry: write host[:port][/path], e.g. "
		    "registry.example.com:5000/k8s", bad[i]);
		check_problems(*state, text, expected);
		free(text);
		free(expected);
	}
}

static void
test_base_url(void **state)
{
	check_problems(*state, MASTER_LINE
	    "downloads = { base_url = \"http://dl.k8s.io/release\"; };\n",
	    "answers.conf:2: downloads.base_url: \"http://dl.k8s.io/release\": "
	    "plain http is refused, downloads are always made over verified "
	    "TLS: use https://");
	check_problems(*state, MASTER_LINE
	    "downloads = { base_url = \"ftp://mirror/k8s\"; };\n",
	    "answers.conf:2: downloads.base_url: \"ftp://mirror/k8s\" is not an "
	    "https:// URL, e.g. https://dl.k8s.io/release");
	check_problems(*state, MASTER_LINE
	    "downloads = { base_url = \"https://mirror/k8s release\"; };\n",
	    "answers.conf:2: downloads.base_url: \"https://mirror/k8s release\" "
	    "is not an https:// URL, e.g. https://dl.k8s.io/release");
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "downloads = { base_url = \"https://10.0.0.5:8443/k8s/release/\"; "
	    "};\n"));
}

/* --- engine --- */

static void
test_engine(void **state)
{
	check_problems(*state, MASTER_LINE
	    "engine = {\n"
	    "  parallelism = 0;\n"
	    "  retries = 101;\n"
	    "  retry_backoff_ms = -5;\n"
	    "  retry_backoff_max_ms = 3600001;\n"
	    "};\n",
	    "answers.conf:3: engine.parallelism: must be an integer from 1 to "
	    "1024, not 0\n"
	    "answers.conf:4: engine.retries: must be an integer from 0 to 100, "
	    "not 101\n"
	    "answers.conf:5: engine.retry_backoff_ms: must be an integer from 0 "
	    "to 3600000, not -5\n"
	    "answers.conf:6: engine.retry_backoff_max_ms: must be an integer "
	    "from 0 to 3600000, not 3600001");
	check_problems(*state, MASTER_LINE
	    "engine = {\n"
	    "  retry_backoff_ms = 5000;\n"
	    "  retry_backoff_max_ms = 1000;\n"
	    "};\n",
	    "answers.conf:4: engine.retry_backoff_max_ms: 1000 is less than "
	    "engine.retry_backoff_ms (5000)");
	/* Not compared with a value already found wrong. */
	check_problems(*state, MASTER_LINE
	    "engine = { retry_backoff_ms = 3600001; };\n",
	    "answers.conf:2: engine.retry_backoff_ms: must be an integer from "
	    "0 to 3600000, not 3600001");
	ku_spec_free(read_ok(*state, MASTER_LINE
	    "engine = { parallelism = 1024; retries = 0; retry_backoff_ms = 0; "
	    "retry_backoff_max_ms = 0; on_failure = \"skip\"; };\n"));
}

static void
test_many_errors_all_reported(void **state)
{
	check_problems(*state,
	    "cluster = {\n"
	    "  name = \"Bad Name\";\n"
	    "  node_count = 2;\n"
	    "};\n"
	    "provider = { ssh = { user = \"$(reboot)\"; port = 0; }; };\n"
	    "machines = {\n"
	    "  master = { name = \"m\"; address = \"192.0.2.10\"; };\n"
	    "  nodes = ( { name = \"m\"; address = \"x\"; } );\n"
	    "};\n"
	    "network = { plugin = \"flanel\"; };\n"
	    "bogus = true;\n",
	    "answers.conf:2: cluster.name: \"Bad Name\" is not a DNS-1123 label: "
	    "use 1 to 63 lowercase letters, digits and '-', starting and ending "
	    "with a letter or digit\n"
	    "answers.conf:3: cluster.node_count: node_count is 2 but "
	    "machines.nodes lists 1 machine\n"
	    "answers.conf:5: provider.ssh.user: \"$(reboot)\" is not a valid user "
	    "name: use letters, digits, '_', '-' and '.', starting with a "
	    "letter or '_', at most 32 characters\n"
	    "answers.conf:5: provider.ssh.port: must be an integer from 1 to "
	    "65535, not 0\n"
	    "answers.conf:8: machines.nodes[0].address: \"x\" is not an IPv4 or "
	    "IPv6 address\n"
	    "answers.conf:8: machines.nodes[0].name: \"m\" is already the name "
	    "of machines.master\n"
	    "answers.conf:10: network.plugin: \"flanel\" is not one of: "
	    "flannel, calico, custom\n"
	    "answers.conf:11: bogus: unknown key; the top level allows: "
	    "cluster, provider, machines, network, addons, runtime, images, "
	    "downloads, pki, engine");
}

/* --- the bad-answers corpus --- */

static void
test_corpus(void **state)
{
	struct ku_buf list;
	char *line, *save = NULL;
	size_t checked = 0;
	struct ku_strv listed = { 0 };
	DIR *d;
	struct dirent *de;

	(void)state;
	ku_buf_init(&list, 0);
	assert_int_equal(ku_read_file(SRCDIR "/tests/answers/EXPECTED", 0,
	    &list), KU_OK);
	for (line = strtok_r(list.data, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		char *path;
		struct ku_buf text;
		struct ku_diags diags = { 0 };
		struct ku_spec *spec = NULL;
		char *first;

		if (line[0] == '#' || line[0] == '\0')
			continue;
		assert_non_null(tab);
		*tab = '\0';
		ku_strv_push(&listed, line);
		path = xasprintf("%s/tests/answers/%s", SRCDIR, line);
		ku_buf_init(&text, 0);
		assert_int_equal(ku_read_file(path, 0, &text), KU_OK);
		/* Relative paths resolve in a folder that does not exist. */
		assert_int_equal(ku_answers_read_mem(line, text.data ?
		    text.data : "", text.len, "/kubeup-tests-answers", &spec,
		    &diags), KU_ERR_ANSWERS);
		assert_null(spec);
		assert_true(diags.n >= 1);
		first = ku_diag_format(&diags.v[0]);
		if (strcmp(first, tab + 1) != 0)
			print_error("%s\n  expected: %s\n  got:      %s\n", line,
			    tab + 1, first);
		assert_string_equal(first, tab + 1);
		free(first);
		ku_diags_free(&diags);
		ku_buf_free(&text);
		free(path);
		checked++;
	}
	assert_true(checked >= 50);

	/* Every file of the folder has its expected message. */
	d = opendir(SRCDIR "/tests/answers");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0 &&
		    !ku_strv_contains(&listed, de->d_name))
			fail_msg("%s is not in tests/answers/EXPECTED", de->d_name);
	}
	closedir(d);
	ku_strv_free(&listed);
	ku_buf_free(&list);
}

/* --- writing, round trips, diff, dup --- */

static void
test_round_trip_example(void **state)
{
	struct env *e = *state;
	struct ku_buf text;
	struct ku_spec *spec;

	ku_buf_init(&text, 0);
	assert_int_equal(ku_read_file(SRCDIR "/examples/answers.conf", 0,
	    &text), KU_OK);
	spec = read_ok(e, text.data);
	check_round_trip(e, spec);
	ku_spec_free(spec);
	ku_buf_free(&text);
}

static void
set_machine(struct ku_machine *m, const struct ku_spec *s, const char *name,
    const char *address)
{
	m->name = xstrdup(name);
	m->address = xstrdup(address);
	m->user = xstrdup(s->ssh.user);
	m->port = s->ssh.port;
	m->key_file = s->ssh.key_file ? xstrdup(s->ssh.key_file) : NULL;
	m->sudo = s->ssh.sudo;
}

/* A valid spec using every part of the schema. */
static struct ku_spec *
rich_spec(const struct env *e)
{
	struct ku_spec *s = ku_spec_new();

	s->ssh.key_file = in_dir(e, "id_ed25519");
	s->ssh.user = (free(s->ssh.user), xstrdup("ops"));
	s->ssh.jump = xcalloc(1, sizeof *s->ssh.jump);
	s->ssh.jump->address = xstrdup("2001:db8::1");
	s->ssh.jump->port = 2222;
	s->ssh.jump->user = xstrdup("bastion");
	s->ssh.jump->key_file = NULL;
	ku_strv_push(&s->api_sans, "lb.example.com");
	ku_strv_push(&s->api_sans, "192.0.2.100");
	set_machine(&s->master, s, "master", "192.0.2.10");
	s->n_nodes = 3;
	s->nodes = xcalloc(3, sizeof *s->nodes);
	set_machine(&s->nodes[0], s, "node-1", "192.0.2.11");
	set_machine(&s->nodes[1], s, "node-2", "192.0.2.12");
	set_machine(&s->nodes[2], s, "node-3", "2001:db8::13");
	/* Overrides of every kind, one of them back to ssh-agent. */
	free(s->nodes[1].user);
	s->nodes[1].user = xstrdup("admin");
	s->nodes[1].port = 2200;
	s->nodes[1].sudo = true;
	free(s->nodes[2].key_file);
	s->nodes[2].key_file = NULL;
	s->node_count = 3;
	return s;
}

static void
test_round_trip_everything(void **state)
{
	struct env *e = *state;
	char *cni = in_dir(e, "cni.yaml");
	char *odd = in_dir(e, "we\"ird \\ key\t\xc3\xa9.pem");
	char *pass = in_dir(e, "sudo.pass");
	char *ca = in_dir(e, "ca.crt");

	put_file(e, "cni.yaml", "kind: List\n", 0644);
	put_file(e, "we\"ird \\ key\t\xc3\xa9.pem", "key\n", 0600);
	put_file(e, "sudo.pass", "pw\n", 0600);
	put_file(e, "ca.crt", "ca\n", 0644);

	for (int i = 0; i < 12; i++) {
		struct ku_spec *s = rich_spec(e);
		struct ku_diags d = { 0 };

		s->plugin = (enum ku_net_plugin)(i % 3);
		if (s->plugin == KU_NET_CUSTOM)
			s->custom_manifest = xstrdup(cni);
		s->ssh.host_key_policy = (enum ku_hostkey_policy)(i % 2);
		s->key_type = (enum ku_key_type)(i % 4);
		s->on_failure = (enum ku_on_failure)((i / 2) % 2);
		s->addon_dns = i % 2;
		s->addon_dashboard = (i / 2) % 2;
		s->addon_metrics_server = (i / 4) % 2;
		s->ssh.sudo = i % 3 == 1;
		s->allow_unsupported_version = i % 2;
		if (i % 2) {
			free(s->version);
			s->version = xstrdup("1.20.2");
		}
		if (i == 5) {
			/* Paths that need escaping, and every optional file. */
			free(s->nodes[0].key_file);
			s->nodes[0].key_file = xstrdup(odd);
			s->ssh.sudo_password_file = xstrdup(pass);
			s->registry_ca_file = xstrdup(ca);
			s->download_ca_file = xstrdup(ca);
		}
		if (i == 6) {
			ku_strv_free(&s->api_sans);
			s->ssh.sudo_password_env = xstrdup("KUBEUP_SUDO");
			free(s->ssh.jump->address);
			free(s->ssh.jump->user);
			free(s->ssh.jump);
			s->ssh.jump = NULL;
			free(s->pod_cidr);
			s->pod_cidr = xstrdup("fd00:10:244::/56");
			free(s->service_cidr);
			s->service_cidr = xstrdup("fd00:10:96::/112");
		}
		if (i == 7) {
			for (size_t j = 0; j < s->n_nodes; j++) {
				free(s->nodes[j].name);
				free(s->nodes[j].address);
				free(s->nodes[j].user);
				free(s->nodes[j].key_file);
			}
			free(s->nodes);
			s->nodes = NULL;
			s->n_nodes = 0;
			s->node_count = 0;
		}
		s->parallelism = 1 + i;
		s->retries = i;
		s->retry_backoff_ms = 100 * i;
		s->retry_backoff_max_ms = 1000 * i;
		assert_int_equal(ku_spec_validate(s, &d), KU_OK);
		if (d.n) {
			char *all = format_all(&d);
			fail_msg("%s", all);
		}
		check_round_trip(e, s);
		ku_spec_free(s);
	}
	unlink(cni);
	unlink(odd);
	unlink(pass);
	unlink(ca);
	free(cni);
	free(odd);
	free(pass);
	free(ca);
}

static void
test_write_atomic(void **state)
{
	struct env *e = *state;
	struct ku_spec *s = rich_spec(e);
	struct ku_spec *again = NULL;
	struct ku_diags d = { 0 };
	char *path = in_dir(e, "written.conf");
	struct stat st;

	assert_int_equal(ku_answers_write(s, path), KU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ku_answers_read(path, &again, &d), KU_OK);
	check_equal(s, again);
	assert_string_equal(again->source, path);
	ku_spec_free(again);

	/* Over an existing file, which keeps no other mode. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ku_answers_write(s, path), KU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	unlink(path);
	free(path);
	ku_spec_free(s);
}

static void
test_format_writes_every_key(void **state)
{
	struct env *e = *state;
	struct ku_spec *s = rich_spec(e);
	struct ku_buf text;
	static const char *const keys[] = {
		"name = ", "version = ", "allow_unsupported_version = ",
		"pod_cidr = ", "service_cidr = ", "dns_domain = ", "api_sans = ",
		"node_count = ", "type = \"ssh\"", "user = ", "port = ", "key = ",
		"sudo = ", "sudo_password_file = ", "sudo_password_env = ",
		"known_hosts = ", "host_key_policy = ", "connect_timeout = ",
		"command_timeout = ", "keepalive = ", "jump_host = {",
		"address = \"2001:db8::1\"", "master = {", "nodes = (",
		"plugin = ", "manifest = ", "dns = ", "dashboard = ",
		"metrics_server = ", "type = \"containerd\"", "registry = ",
		"ca_file = ", "base_url = ", "cache_dir = ", "key_type = ",
		"parallelism = ", "retries = ", "retry_backoff_ms = ",
		"retry_backoff_max_ms = ", "on_failure = ",
	};

	ku_buf_init(&text, 0);
	ku_answers_format(s, &text);
	assert_true(text.data[0] == '#');
	for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++)
		if (strstr(text.data, keys[i]) == NULL)
			fail_msg("\"%s\" is not written:\n%s", keys[i], text.data);
	/* Overrides only where they differ from provider.ssh's. */
	assert_non_null(strstr(text.data, "{ name = \"node-1\"; address = "
	    "\"192.0.2.11\"; }"));
	assert_non_null(strstr(text.data, "{ name = \"node-2\"; address = "
	    "\"192.0.2.12\"; user = \"admin\"; port = 2200; sudo = true; }"));
	assert_non_null(strstr(text.data, "{ name = \"node-3\"; address = "
	    "\"2001:db8::13\"; key = \"\"; }"));
	ku_buf_free(&text);
	ku_spec_free(s);
}

/* Changes one field of s; returns the key ku_spec_diff() must name, or
 * NULL past the last field. */
static const char *
change_field(struct ku_spec *s, int i)
{
#define STR(field, key) \
	free(s->field); s->field = xstrdup("/changed"); return key
	switch (i) {
	case 0: STR(name, "cluster.name");
	case 1: STR(version, "cluster.version");
	case 2: s->allow_unsupported_version ^= 1;
		return "cluster.allow_unsupported_version";
	case 3: STR(pod_cidr, "cluster.pod_cidr");
	case 4: STR(service_cidr, "cluster.service_cidr");
	case 5: STR(dns_domain, "cluster.dns_domain");
	case 6: ku_strv_push(&s->api_sans, "x"); return "cluster.api_sans";
	case 7: s->node_count++; return "cluster.node_count";
	case 8: s->provider = (enum ku_provider_type)1; return "provider.type";
	case 9: STR(ssh.user, "provider.ssh.user");
	case 10: s->ssh.port++; return "provider.ssh.port";
	case 11: STR(ssh.key_file, "provider.ssh.key");
	case 12: s->ssh.sudo ^= 1; return "provider.ssh.sudo";
	case 13: STR(ssh.sudo_password_file, "provider.ssh.sudo_password_file");
	case 14: STR(ssh.sudo_password_env, "provider.ssh.sudo_password_env");
	case 15: STR(ssh.known_hosts, "provider.ssh.known_hosts");
	case 16: s->ssh.host_key_policy ^= 1;
		return "provider.ssh.host_key_policy";
	case 17: s->ssh.connect_timeout++; return "provider.ssh.connect_timeout";
	case 18: s->ssh.command_timeout++; return "provider.ssh.command_timeout";
	case 19: s->ssh.keepalive++; return "provider.ssh.keepalive";
	case 20: STR(ssh.jump->address, "provider.ssh.jump_host.address");
	case 21: s->ssh.jump->port++; return "provider.ssh.jump_host.port";
	case 22: STR(ssh.jump->user, "provider.ssh.jump_host.user");
	case 23: STR(ssh.jump->key_file, "provider.ssh.jump_host.key");
	case 24: STR(master.name, "machines.master.name");
	case 25: STR(master.address, "machines.master.address");
	case 26: STR(master.user, "machines.master.user");
	case 27: s->master.port++; return "machines.master.port";
	case 28: STR(master.key_file, "machines.master.key");
	case 29: s->master.sudo ^= 1; return "machines.master.sudo";
	case 30: STR(nodes[1].name, "machines.nodes[1].name");
	case 31: STR(nodes[1].address, "machines.nodes[1].address");
	case 32: STR(nodes[1].user, "machines.nodes[1].user");
	case 33: s->nodes[1].port++; return "machines.nodes[1].port";
	case 34: STR(nodes[1].key_file, "machines.nodes[1].key");
	case 35: s->nodes[1].sudo ^= 1; return "machines.nodes[1].sudo";
	case 36: s->plugin = KU_NET_CALICO; return "network.plugin";
	case 37: STR(custom_manifest, "network.manifest");
	case 38: s->addon_dns ^= 1; return "addons.dns";
	case 39: s->addon_dashboard ^= 1; return "addons.dashboard";
	case 40: s->addon_metrics_server ^= 1; return "addons.metrics_server";
	case 41: s->runtime = (enum ku_runtime)1; return "runtime.type";
	case 42: STR(registry, "images.registry");
	case 43: STR(registry_ca_file, "images.ca_file");
	case 44: STR(download_base_url, "downloads.base_url");
	case 45: STR(download_ca_file, "downloads.ca_file");
	case 46: STR(download_cache_dir, "downloads.cache_dir");
	case 47: s->key_type = KU_KEY_RSA_4096; return "pki.key_type";
	case 48: s->parallelism++; return "engine.parallelism";
	case 49: s->retries++; return "engine.retries";
	case 50: s->retry_backoff_ms++; return "engine.retry_backoff_ms";
	case 51: s->retry_backoff_max_ms++; return "engine.retry_backoff_max_ms";
	case 52: s->on_failure = KU_ON_FAILURE_SKIP; return "engine.on_failure";
	case 53: {
		struct ku_jump_host *j = s->ssh.jump;
		free(j->address);
		free(j->user);
		free(j->key_file);
		free(j);
		s->ssh.jump = NULL;
		return "provider.ssh.jump_host";
	}
	case 54:
		free(s->nodes[2].name);
		free(s->nodes[2].address);
		free(s->nodes[2].user);
		free(s->nodes[2].key_file);
		s->n_nodes = 2;
		return "machines.nodes";
	default:
		return NULL;
	}
#undef STR
}

static void
test_diff_names_every_field(void **state)
{
	struct env *e = *state;
	struct ku_spec *base = rich_spec(e);
	struct ku_spec *copy;
	char *d;
	int n = 0;

	/* ku_spec_dup: equal, and sharing nothing (valgrind sees frees). */
	copy = ku_spec_dup(base);
	check_equal(base, copy);
	d = diff_of(base, base);
	assert_string_equal(d, "");
	free(d);
	ku_spec_free(copy);
	assert_null(ku_spec_dup(NULL));

	for (;; n++) {
		const char *want;
		copy = ku_spec_dup(base);
		want = change_field(copy, n);
		if (want == NULL) {
			ku_spec_free(copy);
			break;
		}
		d = diff_of(base, copy);
		assert_string_equal(d, want);
		free(d);
		d = diff_of(copy, base);
		assert_string_equal(d, want);
		free(d);
		ku_spec_free(copy);
	}
	assert_int_equal(n, 55);
	ku_spec_free(base);
}

static void
test_validate_hand_built(void **state)
{
	struct env *e = *state;
	struct ku_spec *s = rich_spec(e);
	struct ku_diags d = { 0 };
	char *all;

	assert_int_equal(ku_spec_validate(s, &d), KU_OK);
	assert_int_equal(d.n, 0);

	/* The wizard's mistakes: no file, no line, the key named. */
	free(s->name);
	s->name = xstrdup("My Cluster");
	s->node_count = 4;
	s->plugin = KU_NET_CUSTOM;
	s->parallelism = 0;
	free(s->nodes[0].user);
	s->nodes[0].user = xstrdup("a;b");
	free(s->ssh.known_hosts);
	s->ssh.known_hosts = NULL;
	s->key_type = (enum ku_key_type)9;
	assert_int_equal(ku_spec_validate(s, &d), KU_ERR_ANSWERS);
	all = format_all(&d);
	assert_string_equal(all,
	    "cluster.name: \"My Cluster\" is not a DNS-1123 label: use 1 to 63 "
	    "lowercase letters, digits and '-', starting and ending with a "
	    "letter or digit\n"
	    "provider.ssh.known_hosts: must be set\n"
	    "pki.key_type: 9 is not one of: ecdsa-p256, rsa-2048, rsa-3072, "
	    "rsa-4096\n"
	    "engine.parallelism: must be an integer from 1 to 1024, not 0\n"
	    "machines.nodes[0].user: \"a;b\" is not a valid user name: use "
	    "letters, digits, '_', '-' and '.', starting with a letter or '_', "
	    "at most 32 characters\n"
	    "cluster.node_count: node_count is 4 but machines.nodes lists 3 "
	    "machines\n"
	    "network.manifest: missing: plugin \"custom\" needs the manifest to "
	    "apply");
	assert_null(d.v[0].file);
	assert_int_equal(d.v[0].line, 0);
	free(all);
	ku_diags_free(&d);
	ku_diags_free(&d);
	ku_spec_free(s);
}

static void
test_names_and_diags(void **state)
{
	struct ku_diags d = { 0 };
	char *s;

	(void)state;
	assert_string_equal(ku_net_plugin_name(KU_NET_FLANNEL), "flannel");
	assert_string_equal(ku_net_plugin_name(KU_NET_CALICO), "calico");
	assert_string_equal(ku_net_plugin_name(KU_NET_CUSTOM), "custom");
	assert_string_equal(ku_provider_name(KU_PROVIDER_SSH), "ssh");
	assert_string_equal(ku_key_type_name(KU_KEY_ECDSA_P256), "ecdsa-p256");
	assert_string_equal(ku_key_type_name(KU_KEY_RSA_2048), "rsa-2048");
	assert_string_equal(ku_key_type_name(KU_KEY_RSA_3072), "rsa-3072");
	assert_string_equal(ku_key_type_name(KU_KEY_RSA_4096), "rsa-4096");

	ku_diags_add(&d, "answers.conf", 14, "network.plugin", "%s is %d",
	    "x", 1);
	ku_diags_add(&d, "answers.conf", 0, "a.b", "m");
	ku_diags_add(&d, NULL, 0, "a.b", "m");
	ku_diags_add(&d, "f", 0, "", "only %s", "message");
	ku_diags_add(&d, NULL, 3, NULL, "m");
	s = format_all(&d);
	assert_string_equal(s, "answers.conf:14: network.plugin: x is 1\n"
	    "answers.conf: a.b: m\n"
	    "a.b: m\n"
	    "f: only message\n"
	    "m");
	free(s);
	ku_diags_free(&d);
	ku_diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_reads_cleanly),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_node_count_defaults_to_the_list),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_include_refused),
		cmocka_unit_test(test_binary_refused),
		cmocka_unit_test(test_large_file_refused),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_too_many_settings),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_provider_type),
		cmocka_unit_test(test_cluster_name),
		cmocka_unit_test(test_version_format),
		cmocka_unit_test(test_version_test_only),
		cmocka_unit_test(test_version_old_and_new),
		cmocka_unit_test(test_cidr_syntax),
		cmocka_unit_test(test_cidr_host_bits),
		cmocka_unit_test(test_cidr_overlap),
		cmocka_unit_test(test_service_cidr_too_small),
		cmocka_unit_test(test_cidr_contains_machine),
		cmocka_unit_test(test_dns_domain),
		cmocka_unit_test(test_api_sans),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_node_count_range),
		cmocka_unit_test(test_node_count_mismatch),
		cmocka_unit_test(test_machine_name),
		cmocka_unit_test(test_machine_name_duplicate),
		cmocka_unit_test(test_machine_address),
		cmocka_unit_test(test_machine_address_duplicate),
		cmocka_unit_test(test_machine_missing),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_integer_wrapped),
		cmocka_unit_test(test_hostile_users),
		cmocka_unit_test(test_host_key_policy),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_sudo_password),
		cmocka_unit_test(test_known_hosts),
		cmocka_unit_test(test_network_manifest),
		cmocka_unit_test(test_ca_files_and_cache),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_many_errors_all_reported),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_round_trip_example),
		cmocka_unit_test(test_round_trip_everything),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_format_writes_every_key),
		cmocka_unit_test(test_diff_names_every_field),
		cmocka_unit_test(test_validate_hand_built),
		cmocka_unit_test(test_names_and_diags),
		cmocka_unit_test(test_api_forward),
	};

	return cmocka_run_group_tests_name("answers", tests, env_setup,
	    env_teardown);
}
