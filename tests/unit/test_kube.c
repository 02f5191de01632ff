/* Unit tests of src/yamldoc.c (YAML documents into json-c, with their own
 * text) and of what src/kube.c decides before any request: reading a
 * kubeconfig, refusing one that would weaken TLS, readiness words. The
 * requests themselves run against the real apiserver in
 * tests/sim/cluster.test. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "kube.h"
#include "util.h"
#include "yamldoc.h"

static void
test_yaml_documents(void **state)
{
	static const char text[] =
	    "# a comment before anything\n"
	    "apiVersion: v1\n"
	    "kind: ConfigMap\n"
	    "metadata:\n"
	    "  name: one\n"
	    "data:\n"
	    "  doc: |\n"
	    "    --- this is no marker: it is indented\n"
	    "---\n"
	    "# only a comment: no document\n"
	    "---\n"
	    "kind: Service\n"
	    "spec:\n"
	    "  ports: [{port: 53, name: \"53\"}]\n"
	    "  flag: true\n"
	    "  quoted: \"true\"\n"
	    "  nothing: ~\n"
	    "  ratio: 0.5\n"
	    "  hex: 0x1f\n"
	    "  word: 1.2.3\n"
	    "...\n"
	    "--- {kind: Last}\n";
	struct ku_yaml_docs docs;
	char *err = NULL;
	json_object *ports;

	(void)state;
	assert_int_equal(ku_yaml_parse(text, strlen(text), "t.yaml", &docs,
	    &err), KU_OK);
	assert_null(err);
	assert_int_equal(docs.n, 3);
	assert_string_equal(ku_json_str(docs.v[0].obj, "metadata.name"),
	    "one");
	assert_non_null(strstr(ku_json_str(docs.v[0].obj, "data.doc"),
	    "--- this is no marker"));
	assert_int_equal(docs.v[0].line, 1);
	assert_true(ku_str_has_prefix(docs.v[0].text, "# a comment"));
	assert_int_equal(docs.v[1].line, 11);
	assert_true(ku_str_has_prefix(docs.v[1].text, "---\nkind: Service"));
	ports = ku_json_get(docs.v[1].obj, "spec.ports");
	assert_true(json_object_is_type(ports, json_type_array));
	assert_int_equal(ku_json_int(json_object_array_get_idx(ports, 0),
	    "port", -1), 53);
	assert_string_equal(ku_json_str(json_object_array_get_idx(ports, 0),
	    "name"), "53");
	assert_true(json_object_is_type(ku_json_get(docs.v[1].obj,
	    "spec.flag"), json_type_boolean));
	assert_string_equal(ku_json_str(docs.v[1].obj, "spec.quoted"),
	    "true");
	assert_true(json_object_object_get_ex(ku_json_get(docs.v[1].obj,
	    "spec"), "nothing", NULL));
	assert_null(ku_json_get(docs.v[1].obj, "spec.nothing"));
	assert_true(json_object_is_type(ku_json_get(docs.v[1].obj,
	    "spec.ratio"), json_type_double));
	assert_int_equal(ku_json_int(docs.v[1].obj, "spec.hex", -1), 31);
	assert_string_equal(ku_json_str(docs.v[1].obj, "spec.word"), "1.2.3");
	assert_string_equal(ku_json_str(docs.v[2].obj, "kind"), "Last");
	assert_int_equal(docs.v[2].line, 22);
	ku_yaml_docs_free(&docs);
}

/* Each bad text is refused with its origin, line and a reason. */
static void
test_yaml_refusals(void **state)
{
	static const struct {
		const char *text;
		const char *where;
		const char *why;
	} bad[] = {
		{ "a: 1\nb: [1, 2\n", "x.yaml:", "" },
		{ "a: &x 1\nb: *x\n", "x.yaml:1:", "aliases" },
		{ "a: 1\na: 2\n", "x.yaml:2:", "twice" },
		{ "ok: 1\n---\nb:\n  c: 1\n  c: 2\n", "x.yaml:5:", "twice" },
		{ "? [a]\n: 1\n", "x.yaml:1:", "key" },
	};

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		struct ku_yaml_docs docs;
		char *err = NULL;

		assert_int_equal(ku_yaml_parse(bad[i].text,
		    strlen(bad[i].text), "x.yaml", &docs, &err),
		    KU_ERR_INVALID);
		assert_non_null(err);
		if (!ku_str_has_prefix(err, bad[i].where) ||
		    !strstr(err, bad[i].why))
			fail_msg("case %zu: \"%s\" lacks \"%s\"...\"%s\"", i,
			    err, bad[i].where, bad[i].why);
		assert_int_equal(docs.n, 0);
		free(err);
	}
	{
		/* Deep nesting stops at a limit, not at the stack's end. */
		struct ku_buf b;
		struct ku_yaml_docs docs;
		char *err = NULL;

		ku_buf_init(&b, 0);
		for (int i = 0; i < 1000; i++)
			ku_buf_adds(&b, "[");
		assert_int_equal(ku_yaml_parse(b.data, b.len, "deep.yaml",
		    &docs, &err), KU_ERR_INVALID);
		assert_non_null(strstr(err, "deep"));
		free(err);
		ku_buf_free(&b);
	}
}

/* A kubeconfig in dir; returns its path (caller frees). */
static char *
write_kubeconfig(const char *dir, const char *name, const char *text)
{
	char *path = ku_path_join(dir, name);

	assert_int_equal(ku_write_file_atomic(path, text, strlen(text), 0600),
	    KU_OK);
	return path;
}

#define KC_HEAD \
	"apiVersion: v1\nkind: Config\ncurrent-context: c\n" \
	"contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
/* "-----BEGIN X-----\n" in base64: any bytes do for reading. */
#define KC_B64 "LS0tLS1CRUdJTiBYLS0tLS0K"

static void
test_kubeconfig(void **state)
{
	static const struct {
		const char *text;
		const char *why;   /* NULL: accepted */
	} cases[] = {
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'https://10.0.0.1:6443/', certificate-authority-data: "
		  KC_B64 "}\nusers:\n- name: u\n  user: "
		  "{client-certificate-data: " KC_B64 ", client-key-data: "
		  KC_B64 "}\n", NULL },
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'https://10.0.0.1:6443', certificate-authority-data: "
		  KC_B64 ", insecure-skip-tls-verify: true}\nusers:\n"
		  "- name: u\n  user: {token: abc}\n",
		  "insecure-skip-tls-verify" },
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'http://10.0.0.1:8080', certificate-authority-data: "
		  KC_B64 "}\nusers:\n- name: u\n  user: {token: abc}\n",
		  "https://" },
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'https://10.0.0.1:6443'}\nusers:\n- name: u\n  user: "
		  "{token: abc}\n", "certificate-authority" },
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'https://10.0.0.1:6443', certificate-authority-data: "
		  KC_B64 "}\nusers:\n- name: u\n  user: "
		  "{client-certificate-data: " KC_B64 "}\n", "key" },
		{ KC_HEAD "clusters:\n- name: other\n  cluster: {server: "
		  "'https://10.0.0.1:6443'}\nusers: []\n", "not there" },
		{ "current-context: nope\ncontexts: []\n", "names no context" },
		{ KC_HEAD "clusters:\n- name: k\n  cluster: {server: "
		  "'https://10.0.0.1:6443', certificate-authority-data: "
		  "'%%%'}\nusers:\n- name: u\n  user: {token: abc}\n",
		  "base64" },
	};
	char *dir = tl_mkdtemp("kubeconfig");

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(cases); i++) {
		char *path = write_kubeconfig(dir, "k.conf", cases[i].text);
		struct ku_kube *k = NULL;
		char *err = NULL;
		ku_rc rc = ku_kube_open(path, &k, &err);

		if (cases[i].why == NULL) {
			assert_int_equal(rc, KU_OK);
			assert_string_equal(ku_kube_server(k),
			    "https://10.0.0.1:6443");
			assert_string_equal(ku_kube_user(k), "u");
		} else {
			assert_int_not_equal(rc, KU_OK);
			assert_null(k);
			if (err == NULL || !strstr(err, cases[i].why) ||
			    !strstr(err, path))
				fail_msg("case %zu: \"%s\" lacks \"%s\" or the "
				    "path", i, err ? err : "(none)",
				    cases[i].why);
		}
		free(err);
		ku_kube_close(k);
		free(path);
	}
	tl_rmtree(dir);
	free(dir);
}

static void
test_readiness(void **state)
{
	static const struct {
		const char *json;
		bool ready;
		const char *seen;
	} cases[] = {
		{ "{\"kind\":\"Deployment\",\"metadata\":{\"generation\":2},"
		  "\"spec\":{\"replicas\":2},\"status\":{\"observedGeneration\":"
		  "2,\"replicas\":2,\"readyReplicas\":2,\"updatedReplicas\":2,"
		  "\"availableReplicas\":2}}", true, "2/2 ready" },
		{ "{\"kind\":\"Deployment\",\"metadata\":{\"generation\":3},"
		  "\"spec\":{\"replicas\":2},\"status\":{\"observedGeneration\":"
		  "2,\"replicas\":2,\"readyReplicas\":2,\"updatedReplicas\":2,"
		  "\"availableReplicas\":2}}", false, "not yet seen" },
		{ "{\"kind\":\"DaemonSet\",\"metadata\":{\"generation\":1},"
		  "\"status\":{}}", false, "0/0 ready" },
		{ "{\"kind\":\"DaemonSet\",\"metadata\":{\"generation\":1},"
		  "\"status\":{\"observedGeneration\":1,"
		  "\"desiredNumberScheduled\":4,\"numberReady\":3,"
		  "\"updatedNumberScheduled\":4}}", false, "3/4 ready" },
		{ "{\"kind\":\"Node\",\"status\":{\"conditions\":[{\"type\":"
		  "\"Ready\",\"status\":\"False\",\"message\":\"cni config "
		  "uninitialized\"}]}}", false, "NotReady: cni config" },
		{ "{\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"node-1\"},"
		  "\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{"
		  "\"name\":\"web\",\"state\":{\"waiting\":{\"reason\":"
		  "\"ErrImagePull\",\"message\":\"not found\"}}}]}}", false,
		  "Pending on node-1; container web: ErrImagePull: not found" },
		{ "{\"kind\":\"Pod\",\"status\":{\"phase\":\"Running\","
		  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		  true, "Running" },
		{ "{\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"m\"},"
		  "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{"
		  "\"name\":\"flannel\",\"state\":{\"waiting\":{\"reason\":"
		  "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{"
		  "\"exitCode\":1,\"message\":\"I1 started\\npodCIDR outside\\n\"}}}]}}", false,
		  "Running on m; container flannel: CrashLoopBackOff; it last "
		  "exited with status 1: podCIDR outside" },
		{ "{\"kind\":\"ConfigMap\"}", true, "exists" },
	};

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(cases); i++) {
		json_object *o = json_tokener_parse(cases[i].json);
		bool ready;
		char *seen;

		assert_non_null(o);
		ku_kube_readiness(o, &ready, &seen);
		if (ready != cases[i].ready || !strstr(seen, cases[i].seen))
			fail_msg("case %zu: ready %d, \"%s\"", i, ready, seen);
		free(seen);
		json_object_put(o);
	}
}

/* How a container ended: its status, and its message's last line only. */
static void
test_exit_text(void **state)
{
	static const struct { const char *json, *want; } cases[] = {
		{ "{\"exitCode\":137}", "status 137" },
		{ "{\"exitCode\":1,\"message\":\"a\\nb failed\\n\\n\"}",
		  "status 1: b failed" },
		{ "{}", "status -1" },
	};

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(cases); i++) {
		json_object *o = json_tokener_parse(cases[i].json);
		char *t = ku_kube_exit_text(o);

		assert_non_null(o);
		if (strcmp(t, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", not \"%s\"", i, t,
			    cases[i].want);
		free(t);
		json_object_put(o);
	}
}

/* A condition that is never met and counts its calls, and those made
 * as the wait's last look. */
struct wait_probe {
	int calls, last_looks;
};

static ku_rc
never_cond(struct ku_kube *k, void *arg, bool *met, char **seen, char **err)
{
	struct wait_probe *pr = arg;

	(void)err;
	pr->calls++;
	if (ku_kube_last_look(k))
		pr->last_looks++;
	*met = false;
	free(*seen);
	*seen = xasprintf("call %d%s", pr->calls,
	    ku_kube_last_look(k) ? " (last look)" : "");
	return KU_OK;
}

static void
test_wait_last_look(void **state)
{
	char *dir = tl_mkdtemp("wait");
	char *path = write_kubeconfig(dir, "k.conf", KC_HEAD "clusters:\n"
	    "- name: k\n  cluster: {server: 'https://10.0.0.1:6443', "
	    "certificate-authority-data: " KC_B64 "}\nusers:\n- name: u\n"
	    "  user: {token: abc}\n");
	struct wait_probe pr = { 0, 0 };
	struct ku_kube *k = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(ku_kube_open(path, &k, &err), KU_OK);
	/* A wait of 0 s: one call, then exactly one last look, whose
	 * description is the one the timeout reports. */
	assert_int_equal(ku_kube_wait(k, "the probe", 0, 10, never_cond, &pr,
	    &err), KU_ERR_TIMEOUT);
	assert_int_equal(pr.calls, 2);
	assert_int_equal(pr.last_looks, 1);
	assert_false(ku_kube_last_look(k));
	assert_non_null(strstr(err, "the probe: not after 0s"));
	assert_non_null(strstr(err, "call 2 (last look)"));
	free(err);
	ku_kube_close(k);
	free(path);
	tl_rmtree(dir);
	free(dir);
}

static void
test_template_reads(void **state)
{
	json_object *t = json_tokener_parse("{\"spec\":{"
	    "\"volumes\":[{\"name\":\"cfg\",\"configMap\":{\"name\":"
	    "\"kube-flannel-cfg\"}},{\"name\":\"p\",\"projected\":{"
	    "\"sources\":[{\"secret\":{\"name\":\"proj\"}}]}},"
	    "{\"name\":\"s\",\"secret\":{\"secretName\":\"tls\"}}],"
	    "\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{"
	    "\"configMapRef\":{\"name\":\"init-env\"}}]}],"
	    "\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"X\","
	    "\"valueFrom\":{\"secretKeyRef\":{\"name\":\"pw\","
	    "\"key\":\"k\"}}}]}]}}");

	(void)state;
	assert_non_null(t);
	assert_true(ku_kube_template_reads(t, false, "kube-flannel-cfg"));
	assert_true(ku_kube_template_reads(t, false, "init-env"));
	assert_true(ku_kube_template_reads(t, true, "tls"));
	assert_true(ku_kube_template_reads(t, true, "proj"));
	assert_true(ku_kube_template_reads(t, true, "pw"));
	/* a Secret is not a ConfigMap of the same name, and the reverse */
	assert_false(ku_kube_template_reads(t, true, "kube-flannel-cfg"));
	assert_false(ku_kube_template_reads(t, false, "pw"));
	assert_false(ku_kube_template_reads(t, false, "other"));
	json_object_put(t);
}

static void
test_escape(void **state)
{
	char *s = ku_kube_escape("kubeup.io/check=net,a b");

	(void)state;
	assert_string_equal(s, "kubeup.io%2Fcheck%3Dnet%2Ca%20b");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_documents),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_exit_text),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_wait_last_look),
		cmocka_unit_test(test_template_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
