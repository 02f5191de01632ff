/* Tests of the template renderer (template.c) and of the files rendered
 * for a spec (render.c). */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <yaml.h>

#include "render.h"
#include "spec.h"
#include "template.h"
#include "util.h"

/* --- helpers --- */

/* Renders text with vars; returns the output (caller frees) or NULL with
 * *err set. */
static char *
render(const char *text, const struct ku_tvars *vars, char **err)
{
	struct ku_buf out;
	ku_rc rc;

	ku_buf_init(&out, 0);
	ku_buf_adds(&out, "");
	rc = ku_template_render("t.yaml", text, strlen(text), vars, &out, err);
	if (rc) {
		assert_int_equal(rc, KU_ERR_TEMPLATE);
		assert_non_null(*err);
		/* Nothing is appended on failure. */
		assert_int_equal(out.len, 0);
		ku_buf_free(&out);
		return NULL;
	}
	assert_null(*err);
	return ku_buf_steal(&out);
}

static void
expect_render(const char *text, const struct ku_tvars *vars,
    const char *expected)
{
	char *err = NULL;
	char *got = render(text, vars, &err);

	if (got == NULL)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(got, expected);
	free(got);
}

/* Expects an error whose message contains want. */
static void
expect_error(const char *text, const struct ku_tvars *vars, const char *want)
{
	char *err = NULL;
	char *got = render(text, vars, &err);

	if (got != NULL)
		fail_msg("expected an error with \"%s\", got output \"%s\"",
		    want, got);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	free(err);
}

/* libyaml: loads every document of data; returns how many, or -1 (and
 * prints why) when the text is not YAML. */
static int
yaml_count_documents(const char *name, const char *data, size_t len)
{
	yaml_parser_t parser;
	int n = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t doc;
		bool empty;

		if (!yaml_parser_load(&parser, &doc)) {
			print_error("%s: YAML error: %s at line %zu\n", name,
			    parser.problem ? parser.problem : "?",
			    parser.problem_mark.line + 1);
			yaml_parser_delete(&parser);
			return -1;
		}
		empty = yaml_document_get_root_node(&doc) == NULL;
		yaml_document_delete(&doc);
		if (empty)
			break;
		n++;
	}
	yaml_parser_delete(&parser);
	return n;
}

static yaml_node_t *
ymap_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *
yscalar(yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

static yaml_node_t *
yseq_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    seq->data.sequence.items.start + i >= seq->data.sequence.items.top)
		return NULL;
	return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Loads into doc the document of data whose kind and metadata.name are
 * those given (name NULL: any); false when there is none. */
static bool
yaml_find(const char *data, size_t len, const char *kind, const char *name,
    yaml_document_t *doc)
{
	yaml_parser_t parser;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, doc))
			break;
		root = yaml_document_get_root_node(doc);
		if (root == NULL) {
			yaml_document_delete(doc);
			break;
		}
		if (ku_streq(yscalar(ymap_get(doc, root, "kind")), kind) &&
		    (name == NULL || ku_streq(yscalar(ymap_get(doc,
		    ymap_get(doc, root, "metadata"), "name")), name))) {
			yaml_parser_delete(&parser);
			return true;
		}
		yaml_document_delete(doc);
	}
	yaml_parser_delete(&parser);
	return false;
}

/* A value in a one-document YAML text, by a path of mapping keys. Caller
 * frees. */
static char *
yaml_value(const char *data, const char *const *path, size_t n)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *node;
	char *value = NULL;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    strlen(data));
	if (yaml_parser_load(&parser, &doc)) {
		node = yaml_document_get_root_node(&doc);
		for (size_t i = 0; i < n; i++)
			node = ymap_get(&doc, node, path[i]);
		if (yscalar(node))
			value = xstrdup(yscalar(node));
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return value;
}

static bool
is_yaml_path(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && strcmp(path + n - 5, ".yaml") == 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
make_tempdir(void)
{
	char *dir = xstrdup("/tmp/kubeup-test-template.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
write_text(const char *path, const char *text)
{
	char *dir = ku_dirname(path);
	assert_int_equal(ku_mkdir_p(dir, 0755), KU_OK);
	assert_int_equal(ku_write_file_atomic(path, text, strlen(text), 0644),
	    KU_OK);
	free(dir);
}

/* --- a spec --- */

static void
set_machine(struct ku_machine *m, const char *name, const char *address)
{
	free(m->name);
	free(m->address);
	m->name = xstrdup(name);
	m->address = xstrdup(address);
}

static struct ku_spec *
make_spec(enum ku_net_plugin plugin, bool addons)
{
	struct ku_spec *spec = ku_spec_new();

	free(spec->name);
	spec->name = xstrdup("demo");
	set_machine(&spec->master, "master", "192.0.2.10");
	spec->n_nodes = 2;
	spec->node_count = 2;
	spec->nodes = xcalloc(2, sizeof *spec->nodes);
	set_machine(&spec->nodes[0], "node-1", "192.0.2.11");
	set_machine(&spec->nodes[1], "node-2", "192.0.2.12");
	spec->plugin = plugin;
	spec->addon_dns = addons;
	spec->addon_dashboard = addons;
	spec->addon_metrics_server = addons;
	return spec;
}

static const struct ku_rendered_file *
need_file(const struct ku_render_set *set, const char *target,
    const char *path)
{
	const struct ku_rendered_file *f = ku_render_find(set, target, path);
	if (f == NULL)
		fail_msg("no file %s for %s", path, target);
	return f;
}

static void
render_spec(const struct ku_spec *spec, const char *templates_dir,
    struct ku_render_set *set)
{
	char *err = NULL;
	ku_rc rc = ku_render_all(spec, templates_dir, set, &err);

	if (rc)
		fail_msg("ku_render_all: %s", err ? err : "?");
	assert_null(err);
}

/* Every YAML file parses, with at least one document. */
static void
check_all_yaml(const struct ku_render_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct ku_rendered_file *f = &set->v[i];
		int docs;

		assert_int_equal(f->mode, 0644);
		assert_int_equal(strlen(f->content), f->len);
		if (!is_yaml_path(f->path))
			continue;
		docs = yaml_count_documents(f->path, f->content, f->len);
		if (docs < 1)
			fail_msg("%s for %s: %d YAML documents", f->path,
			    f->target, docs);
	}
}

/* --- template constructs --- */

static void
test_variables(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);

	(void)state;
	ku_tvars_set(vars, "name", "etcd");
	ku_tvars_setf(vars, "port", "%d", 2379);
	expect_render("a: \"{{ name }}\"\nb: \"{{name}}:{{ port }}\"\n", vars,
	    "a: \"etcd\"\nb: \"etcd:2379\"\n");
	expect_render("port: {{ port | plain }}\n", vars, "port: 2379\n");
	expect_render("no tags at all\n", vars, "no tags at all\n");
	expect_render("", vars, "");
	/* A later value replaces an earlier one, whatever its kind. */
	ku_tvars_set_bool(vars, "name", true);
	ku_tvars_set(vars, "name", "apiserver");
	expect_render("\"{{ name }}\"", vars, "\"apiserver\"");
	/* Inside a quoted string, after an escaped quote. */
	expect_render("x: \"say \\\"{{ name }}\\\"\"\n", vars,
	    "x: \"say \\\"apiserver\\\"\"\n");
	ku_tvars_free(vars);
}

static void
test_quoting_rule(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);

	(void)state;
	ku_tvars_set(vars, "name", "x");
	expect_error("a: 1\nb: {{ name }}\n", vars,
	    "t.yaml:2: {{ name }} must be inside a double-quoted string");
	/* Two quotes before it: the string is closed again. */
	expect_error("b: \"x\" {{ name }}\n", vars, "t.yaml:1:");
	/* A single-quoted YAML string is not a place for a value. */
	expect_error("b: '{{ name }}'\n", vars, "double-quoted");
	/* An escaped quote does not open a string; an escaped backslash
	 * before a quote does not escape it. */
	expect_error("b: \\\"{{ name }}\n", vars, "double-quoted");
	expect_error("b: \"a\\\\\" {{ name }}\n", vars, "double-quoted");
	expect_render("b: \"a\\\\\" \"{{ name }}\"", vars,
	    "b: \"a\\\\\" \"x\"");
	ku_tvars_free(vars);
}

static void
test_plain_filter(void **state)
{
	static const char *const bad[] = {
		"", "a b", "x\ny", "#c", "a\"b", "a'b", "{x}", "a\\b", "$x",
		"%h", "a;b", "é", "[::1]", "a\tb",
	};
	struct ku_tvars *vars = ku_tvars_new(NULL);

	(void)state;
	ku_tvars_set(vars, "v", "node-1.example_2:6443/x@y+z=w,v");
	expect_render("--x={{ v | plain }}", vars,
	    "--x=node-1.example_2:6443/x@y+z=w,v");
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		ku_tvars_set(vars, "v", bad[i]);
		expect_error("x\n--x={{ v | plain }}\n", vars,
		    "t.yaml:2: the value of \"v\" cannot be used unquoted");
	}
	expect_error("{{ v | raw }}", vars, "unknown filter \"raw\"");
	expect_error("{{ v | }}", vars, "unknown filter");
	ku_tvars_free(vars);
}

static void
test_if_else(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	const char *tpl =
	    "a:\n"
	    "{{#if c}}\n"
	    "  yes: 1\n"
	    "{{else}}\n"
	    "  no: 1\n"
	    "{{/if}}\n"
	    "b: 2\n";

	(void)state;
	ku_tvars_set_bool(vars, "c", true);
	expect_render(tpl, vars, "a:\n  yes: 1\nb: 2\n");
	ku_tvars_set_bool(vars, "c", false);
	expect_render(tpl, vars, "a:\n  no: 1\nb: 2\n");
	ku_tvars_set(vars, "c", "x");
	expect_render(tpl, vars, "a:\n  yes: 1\nb: 2\n");
	ku_tvars_set(vars, "c", "");
	expect_render(tpl, vars, "a:\n  no: 1\nb: 2\n");
	ku_tvars_set_list(vars, "c");
	expect_render(tpl, vars, "a:\n  no: 1\nb: 2\n");
	ku_tvars_list_add(vars, "c", "item");
	expect_render(tpl, vars, "a:\n  yes: 1\nb: 2\n");

	/* Inline: nothing around the tags is taken away; else is optional. */
	ku_tvars_set_bool(vars, "c", true);
	expect_render("[{{#if c}}on{{/if}}]", vars, "[on]");
	expect_render("[{{#if c}}on{{else}}off{{/if}}] ", vars, "[on] ");
	ku_tvars_set_bool(vars, "c", false);
	expect_render("[{{#if c}}on{{/if}}]", vars, "[]");
	expect_render("[{{#if c}}on{{else}}off{{/if}}]", vars, "[off]");
	/* Blanks around a lone block tag go with its line; last line too. */
	expect_render("x\n  {{#if c}}  \ny\n  {{/if}}\t", vars, "x\n");
	ku_tvars_free(vars);
}

static void
test_each_strings(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	const char *tpl =
	    "dns:\n"
	    "{{#each ips}}\n"
	    "  - \"{{ . }}\"\n"
	    "{{/each}}\n"
	    "end: 1\n";

	(void)state;
	ku_tvars_set_list(vars, "ips");
	expect_render(tpl, vars, "dns:\nend: 1\n");
	ku_tvars_list_add(vars, "ips", "10.96.0.10");
	ku_tvars_list_add(vars, "ips", "fd00::a");
	expect_render(tpl, vars,
	    "dns:\n  - \"10.96.0.10\"\n  - \"fd00::a\"\nend: 1\n");
	expect_render("{{#each ips}}<{{ . | plain }}>{{/each}}", vars,
	    "<10.96.0.10><fd00::a>");
	ku_tvars_free(vars);
}

static void
test_each_records(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	struct ku_trecord *r;
	const char *tpl =
	    "{{#each crds}}\n"
	    "- name: \"{{ .plural }}.{{ .group }}\"\n"
	    "{{#if .namespaced}}\n"
	    "  scope: Namespaced\n"
	    "{{else}}\n"
	    "  scope: Cluster\n"
	    "{{/if}}\n"
	    "{{/each}}\n";

	(void)state;
	r = ku_tvars_list_add_record(vars, "crds");
	ku_trecord_set(r, "plural", "ippools");
	ku_trecord_set(r, "group", "crd.projectcalico.org");
	ku_trecord_set_bool(r, "namespaced", false);
	r = ku_tvars_list_add_record(vars, "crds");
	ku_trecord_set(r, "plural", "networksets");
	ku_trecord_set(r, "group", "x");
	ku_trecord_set(r, "group", "crd.projectcalico.org");
	ku_trecord_set_bool(r, "namespaced", true);
	expect_render(tpl, vars,
	    "- name: \"ippools.crd.projectcalico.org\"\n"
	    "  scope: Cluster\n"
	    "- name: \"networksets.crd.projectcalico.org\"\n"
	    "  scope: Namespaced\n");
	expect_error("{{#each crds}}\n\"{{ .nope }}\"\n{{/each}}\n", vars,
	    "t.yaml:2: unknown field \"nope\"");
	expect_error("{{#each crds}}\n\"{{ . }}\"\n{{/each}}\n", vars,
	    "t.yaml:2: the item is a record");
	expect_error("{{#each crds}}\"{{ .namespaced }}\"{{/each}}", vars,
	    "is a boolean");
	ku_tvars_free(vars);
}

static void
test_nested(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	struct ku_tvars *child;
	struct ku_trecord *r;

	(void)state;
	ku_tvars_list_add(vars, "outer", "a");
	ku_tvars_list_add(vars, "outer", "b");
	ku_tvars_list_add(vars, "inner", "1");
	ku_tvars_list_add(vars, "inner", "2");
	ku_tvars_set_bool(vars, "on", true);
	ku_tvars_set(vars, "x", "X");
	expect_render(
	    "{{#each outer}}{{ . | plain }}[{{#each inner}}{{ . | plain }}"
	    "{{#if on}}{{ x | plain }}{{/if}}{{/each}}]{{/each}}", vars,
	    "a[1X2X]b[1X2X]");
	expect_render(
	    "{{#if on}}\n{{#each outer}}\n{{#if on}}\n- \"{{ . }}\"\n"
	    "{{/if}}\n{{/each}}\n{{/if}}\n", vars, "- \"a\"\n- \"b\"\n");
	/* Strings inside records: the innermost item is ".". */
	r = ku_tvars_list_add_record(vars, "recs");
	ku_trecord_set(r, "n", "r1");
	expect_render("{{#each recs}}{{ .n | plain }}:{{#each inner}}"
	    "{{ . | plain }}{{/each}};{{/each}}", vars, "r1:12;");
	expect_error("{{#each recs}}{{#each inner}}"
	    "\"{{ .n }}\"{{/each}}{{/each}}", vars, "the item is a string");

	/* A child set sees its parent's names and may hide them. */
	child = ku_tvars_new(vars);
	ku_tvars_set(child, "x", "child");
	expect_render("\"{{ x }}\" {{#each outer}}{{ . | plain }}{{/each}}",
	    child, "\"child\" ab");
	expect_render("\"{{ x }}\"", vars, "\"X\"");
	ku_tvars_free(child);
	ku_tvars_free(vars);
}

static void
test_unknown_variable(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	struct ku_buf out;
	char *err = NULL;
	const char *tpl =
	    "apiVersion: v1\n"
	    "kind: Pod\n"
	    "spec:\n"
	    "  containers:\n"
	    "    - name: etcd\n"
	    "{{#if on}}\n"
	    "      image: \"{{ image_etcd }}\"\n"
	    "{{/if}}\n"
	    "      command:\n"
	    "        - etcd\n"
	    "        - \"{{ etc_image }}\"\n"
	    "{{#if nope}}\n"
	    "        - \"{{ never_rendered }}\"\n"
	    "{{/if}}\n";
	ku_rc rc;

	(void)state;
	ku_tvars_set(vars, "image_etcd", "registry.k8s.io/etcd:3.6.6-0");
	ku_tvars_set_bool(vars, "on", true);
	ku_tvars_set_bool(vars, "nope", false);
	ku_buf_init(&out, 0);
	rc = ku_template_render("templates/manifests/etcd.yaml", tpl,
	    strlen(tpl), vars, &out, &err);
	assert_int_equal(rc, KU_ERR_TEMPLATE);
	assert_string_equal(err,
	    "templates/manifests/etcd.yaml:11: unknown variable \"etc_image\"");
	assert_int_equal(out.len, 0);
	free(err);
	ku_buf_free(&out);

	expect_error("x\n{{#if missing}}\n{{/if}}\n", vars,
	    "t.yaml:2: unknown variable \"missing\"");
	expect_error("{{#each missing}}{{/each}}", vars,
	    "t.yaml:1: unknown variable \"missing\"");
	/* Also in a branch that is not taken, or a list that is empty. */
	ku_tvars_set_bool(vars, "nope", false);
	expect_error("{{#if nope}}\n\"{{ anything }}\"\n{{/if}}", vars,
	    "t.yaml:2: unknown variable \"anything\"");
	expect_error("{{#if on}}{{else}}\n\n{{#if typo}}{{/if}}{{/if}}", vars,
	    "t.yaml:3: unknown variable \"typo\"");
	ku_tvars_set_list(vars, "empty");
	expect_error("{{#each empty}}\"{{ missing }}\"{{/each}}", vars,
	    "t.yaml:1: unknown variable \"missing\"");
	/* Fields are checked against the items themselves. */
	expect_render("{{#each empty}}\"{{ .anything }}\"{{/each}}", vars, "");
	expect_error("\"{{ Bad }}\"", vars, "bad tag");
	ku_tvars_free(vars);
}

static void
test_type_errors(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);

	(void)state;
	ku_tvars_set_bool(vars, "b", true);
	ku_tvars_set(vars, "s", "str");
	ku_tvars_set_list(vars, "l");
	expect_error("\"{{ b }}\"", vars, "\"b\" is a boolean");
	expect_error("\"{{ l }}\"", vars, "\"l\" is a list");
	expect_error("{{#each s}}{{/each}}", vars, "\"s\" is not a list");
	expect_error("{{#each b}}{{/each}}", vars, "\"b\" is not a list");
	expect_error("\"{{ . }}\"", vars, "\".\" outside {{#each}}");
	expect_error("{{#if .x}}{{/if}}", vars, "\".x\" outside {{#each}}");
	ku_tvars_free(vars);
}

static void
test_malformed(void **state)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	struct ku_buf deep;

	(void)state;
	ku_tvars_set_bool(vars, "a", true);
	ku_tvars_set_list(vars, "l");
	expect_error("x\ny\n{{#if a}}\nbody\n", vars,
	    "t.yaml:3: unclosed {{#if a}}");
	expect_error("{{#each l}}\n{{#if a}}\n{{/if}}\n", vars,
	    "t.yaml:1: unclosed {{#each l}}");
	expect_error("{{#if a}}\n{{#each l}}\n{{/if}}\n", vars,
	    "t.yaml:3: {{/if}} does not belong to {{#each l}} opened on line 2");
	expect_error("{{#each l}}{{else}}{{/each}}", vars,
	    "{{else}} does not belong to {{#each l}}");
	expect_error("{{#if a}}1{{else}}2{{else}}3{{/if}}", vars,
	    "{{else}} does not belong to {{#if a}}");
	expect_error("a\n{{/if}}\n", vars, "t.yaml:2: {{/if}} without an opening tag");
	expect_error("{{/each}}", vars, "{{/each}} without an opening tag");
	expect_error("{{else}}", vars, "{{else}} without an opening tag");
	expect_error("a\nb: \"{{ a\n}}\"", vars,
	    "t.yaml:2: \"{{\" without \"}}\" on the same line");
	expect_error("{{", vars, "without \"}}\"");
	expect_error("{{#unless a}}{{/unless}}", vars, "unknown tag");
	expect_error("{{#if}}{{/if}}", vars, "{{#if}} needs a variable name");
	expect_error("{{#if a b}}{{/if}}", vars, "bad variable name");
	expect_error("{{#each .x}}{{/each}}", vars, "bad variable name");
	expect_error("{{#if a}}{{/if a}}", vars, "nothing may follow {{/if}}");
	expect_error("\"{{ a b }}\"", vars, "bad tag");
	expect_error("\"{{ }}\"", vars, "bad tag");

	ku_buf_init(&deep, 0);
	for (int i = 0; i < 17; i++)
		ku_buf_adds(&deep, "{{#if a}}");
	for (int i = 0; i < 17; i++)
		ku_buf_adds(&deep, "{{/if}}");
	expect_error(deep.data, vars, "nested deeper than 16");
	ku_buf_free(&deep);
	ku_tvars_free(vars);
}

/* Hostile values stay inside their scalar: YAML, JSON. */
static void
test_escaping(void **state)
{
	static const char *const values[] = {
		"plain",
		"quote \" and 'single'",
		"back\\slash \\n not a newline",
		"line\nbreak\r\n",
		"key: value, [flow] {map} # not a comment",
		"{{ not_a_tag }} {{#if x}}",
		"\n---\nkind: Secret\n...\n",
		"tab\there, bell\a, escape\033, nul-free \x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x80\xa8 ls \xe2\x80\xa9 ps \xc2\x85 nel \xef\xbb\xbf bom",
		"\xf0\x9f\x9a\x80 rocket",
		"",
	};
	struct ku_tvars *vars = ku_tvars_new(NULL);

	(void)state;
	for (size_t i = 0; i < KU_ARRAY_LEN(values); i++) {
		char *err = NULL, *yaml, *json_text, *got;
		static const char *const path[] = { "k" };
		json_object *obj, *k;

		ku_tvars_set(vars, "v", values[i]);
		yaml = render("k: \"{{ v }}\"\nother: \"x{{ v }}x\"\n", vars,
		    &err);
		if (yaml == NULL)
			fail_msg("value %zu: %s", i, err);
		/* Still two lines: no newline got through. */
		{
			int lines = 0;
			for (const char *c = yaml; *c; c++)
				lines += *c == '\n';
			assert_int_equal(lines, 2);
		}
		assert_int_equal(yaml_count_documents("escaping", yaml,
		    strlen(yaml)), 1);
		got = yaml_value(yaml, path, 1);
		assert_non_null(got);
		assert_string_equal(got, values[i]);
		free(got);
		free(yaml);

		json_text = render("{\"k\": \"{{ v }}\", \"n\": 1}", vars, &err);
		assert_non_null(json_text);
		obj = json_tokener_parse(json_text);
		if (obj == NULL)
			fail_msg("value %zu: not JSON: %s", i, json_text);
		assert_true(json_object_object_get_ex(obj, "k", &k));
		assert_string_equal(json_object_get_string(k), values[i]);
		assert_int_equal(json_object_object_length(obj), 2);
		json_object_put(obj);
		free(json_text);
	}

	/* Not UTF-8: refused rather than passed on. */
	ku_tvars_set(vars, "v", "bad \xff byte");
	expect_error("k: \"{{ v }}\"", vars, "is not valid UTF-8");
	ku_tvars_set(vars, "v", "overlong \xc0\xaf");
	expect_error("k: \"{{ v }}\"", vars, "is not valid UTF-8");
	ku_tvars_set(vars, "v", "surrogate \xed\xa0\x80");
	expect_error("k: \"{{ v }}\"", vars, "is not valid UTF-8");
	ku_tvars_set(vars, "v", "cut \xe2\x80");
	expect_error("k: \"{{ v }}\"", vars, "is not valid UTF-8");
	/* The exact escapes. */
	ku_tvars_set(vars, "v", "\"\\\n\t\x01\xe2\x80\xa8");
	expect_render("\"{{ v }}\"", vars, "\"\\\"\\\\\\n\\t\\u0001\\u2028\"");
	ku_tvars_free(vars);
}

/* --- the embedded templates --- */

static void
test_embedded_templates(void **state)
{
	static const char *const names[] = {
		"addons/coredns.yaml", "addons/dashboard.yaml",
		"addons/metrics-server.yaml", "containerd/config.toml",
		"daemons/kube-proxy.yaml", "kubelet/config.yaml",
		"kubelet/kubelet.service", "manifests/audit-policy.yaml",
		"manifests/etcd.yaml",
		"manifests/kube-apiserver.yaml",
		"manifests/kube-controller-manager.yaml",
		"manifests/kube-scheduler.yaml", "network/calico.yaml",
		"network/flannel.yaml",
	};

	(void)state;
	assert_int_equal(ku_n_embedded_templates, KU_ARRAY_LEN(names));
	for (size_t i = 0; i < KU_ARRAY_LEN(names); i++) {
		const struct ku_embedded_template *t =
		    ku_template_embedded(names[i]);
		char *path = xasprintf("%s/templates/%s", SRCDIR, names[i]);
		struct ku_buf file;

		if (t == NULL)
			fail_msg("%s is not embedded", names[i]);
		assert_string_equal(t->name, names[i]);
		ku_buf_init(&file, 0);
		assert_int_equal(ku_read_file(path, 0, &file), KU_OK);
		/* Byte for byte, NUL-terminated as well. */
		assert_int_equal(t->len, file.len);
		assert_memory_equal(t->data, file.data, file.len);
		assert_int_equal(t->data[t->len], '\0');
		ku_buf_free(&file);
		free(path);
	}
	assert_null(ku_template_embedded("templates/addons/coredns.yaml"));
	assert_null(ku_template_embedded("nope.yaml"));
}

/* --- rendering a spec --- */

static void
check_common(const struct ku_spec *spec, const struct ku_render_set *set)
{
	const char *machines[] = { "master", "node-1", "node-2" };
	const struct ku_rendered_file *f;
	yaml_document_t doc;
	yaml_node_t *root, *cmd;
	char *v;
	bool found;

	check_all_yaml(set);

	/* Per machine: kubelet config, unit, containerd. */
	for (size_t i = 0; i < KU_ARRAY_LEN(machines); i++) {
		const char *addr = i == 0 ? "192.0.2.10" :
		    i == 1 ? "192.0.2.11" : "192.0.2.12";
		char *want;
		yaml_node_t *dns;

		f = need_file(set, machines[i], "/var/lib/kubelet/config.yaml");
		assert_true(yaml_find(f->content, f->len,
		    "KubeletConfiguration", NULL, &doc));
		root = yaml_document_get_root_node(&doc);
		dns = ymap_get(&doc, root, "clusterDNS");
		assert_string_equal(yscalar(yseq_item(&doc, dns, 0)),
		    "10.96.0.10");
		assert_null(yseq_item(&doc, dns, 1));
		assert_string_equal(yscalar(ymap_get(&doc, root,
		    "clusterDomain")), "cluster.local");
		assert_string_equal(yscalar(ymap_get(&doc, root,
		    "cgroupDriver")), "systemd");
		assert_string_equal(yscalar(ymap_get(&doc, root,
		    "staticPodPath")), "/etc/kubernetes/manifests");
		assert_string_equal(yscalar(ymap_get(&doc, root,
		    "tlsCertFile")), "/var/lib/kubelet/pki/kubelet.crt");
		assert_string_equal(yscalar(ymap_get(&doc, ymap_get(&doc,
		    ymap_get(&doc, root, "authentication"), "anonymous"),
		    "enabled")), "false");
		/* Only the master keeps ordinary pods away. */
		assert_int_equal(ymap_get(&doc, root, "registerWithTaints") !=
		    NULL, i == 0);
		yaml_document_delete(&doc);

		f = need_file(set, machines[i],
		    "/etc/systemd/system/kubelet.service");
		want = xasprintf("--node-ip=%s --hostname-override=%s\n", addr,
		    machines[i]);
		assert_non_null(strstr(f->content, want));
		assert_non_null(strstr(f->content,
		    "ExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf "));
		free(want);

		f = need_file(set, machines[i], "/etc/containerd/config.toml");
		assert_non_null(strstr(f->content, "SystemdCgroup = true"));
		assert_non_null(strstr(f->content, "version = 2\n"));

		/* Static pods only on the master. */
		assert_int_equal(ku_render_find(set, machines[i],
		    "/etc/kubernetes/manifests/etcd.yaml") != NULL, i == 0);
	}

	/* The apiserver has the service CIDR and the certificates. */
	f = need_file(set, "master",
	    "/etc/kubernetes/manifests/kube-apiserver.yaml");
	assert_int_equal(yaml_count_documents("apiserver", f->content, f->len),
	    1);
	assert_true(yaml_find(f->content, f->len, "Pod", "kube-apiserver",
	    &doc));
	root = yaml_document_get_root_node(&doc);
	cmd = ymap_get(&doc, yseq_item(&doc, ymap_get(&doc, ymap_get(&doc,
	    root, "spec"), "containers"), 0), "command");
	found = false;
	for (size_t i = 0; yseq_item(&doc, cmd, i); i++)
		if (ku_streq(yscalar(yseq_item(&doc, cmd, i)),
		    "--service-cluster-ip-range=10.96.0.0/12"))
			found = true;
	assert_true(found);
	assert_string_equal(yscalar(ymap_get(&doc, ymap_get(&doc, root,
	    "spec"), "priorityClassName")), "system-node-critical");
	assert_string_equal(yscalar(ymap_get(&doc, ymap_get(&doc, root,
	    "spec"), "hostNetwork")), "true");
	yaml_document_delete(&doc);
	assert_non_null(strstr(f->content,
	    "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt"));
	assert_non_null(strstr(f->content,
	    "--encryption-provider-config=/etc/kubernetes/encryption-config.yaml"));
	assert_non_null(strstr(f->content, "image: \"registry.k8s.io/kube-apiserver:v1.35.0\""));

	f = need_file(set, "master",
	    "/etc/kubernetes/manifests/kube-controller-manager.yaml");
	assert_non_null(strstr(f->content, "- \"--cluster-cidr=10.244.0.0/16\""));
	assert_non_null(strstr(f->content, "- --allocate-node-cidrs=true"));
	assert_non_null(strstr(f->content, "- \"--node-cidr-mask-size=24\""));
	need_file(set, "master", "/etc/kubernetes/manifests/kube-scheduler.yaml");

	/* kube-proxy's configuration has the pod CIDR. */
	f = need_file(set, "cluster", "daemons/kube-proxy.yaml");
	assert_true(yaml_find(f->content, f->len, "ConfigMap", "kube-proxy",
	    &doc));
	{
		static const char *const cidr[] = { "clusterCIDR" };
		static const char *const mode[] = { "mode" };
		const char *conf = yscalar(ymap_get(&doc, ymap_get(&doc,
		    yaml_document_get_root_node(&doc), "data"), "config.conf"));
		const char *kubeconfig = yscalar(ymap_get(&doc, ymap_get(&doc,
		    yaml_document_get_root_node(&doc), "data"),
		    "kubeconfig.conf"));

		assert_non_null(conf);
		v = yaml_value(conf, cidr, 1);
		assert_string_equal(v, spec->pod_cidr);
		free(v);
		v = yaml_value(conf, mode, 1);
		assert_string_equal(v, "iptables");
		free(v);
		assert_non_null(kubeconfig);
		assert_non_null(strstr(kubeconfig,
		    "server: \"https://192.0.2.10:6443\""));
		assert_int_equal(yaml_count_documents("kubeconfig", kubeconfig,
		    strlen(kubeconfig)), 1);
	}
	yaml_document_delete(&doc);
	assert_true(yaml_find(f->content, f->len, "ClusterRoleBinding", NULL,
	    &doc));
	assert_string_equal(yscalar(ymap_get(&doc, ymap_get(&doc,
	    yaml_document_get_root_node(&doc), "roleRef"), "name")),
	    "system:node-proxier");
	yaml_document_delete(&doc);
}

static void
check_addons(const struct ku_render_set *set, bool on)
{
	const struct ku_rendered_file *f;
	yaml_document_t doc;

	assert_int_equal(ku_render_find(set, "cluster", "addons/dashboard.yaml") !=
	    NULL, on);
	assert_int_equal(ku_render_find(set, "cluster",
	    "addons/metrics-server.yaml") != NULL, on);
	f = ku_render_find(set, "cluster", "addons/coredns.yaml");
	assert_int_equal(f != NULL, on);
	if (!on)
		return;
	/* The DNS Service sits at the 10th address of the service CIDR. */
	assert_true(yaml_find(f->content, f->len, "Service", "kube-dns",
	    &doc));
	assert_string_equal(yscalar(ymap_get(&doc, ymap_get(&doc,
	    yaml_document_get_root_node(&doc), "spec"), "clusterIP")),
	    "10.96.0.10");
	yaml_document_delete(&doc);
	assert_true(yaml_find(f->content, f->len, "ConfigMap", "coredns",
	    &doc));
	assert_non_null(strstr(yscalar(ymap_get(&doc, ymap_get(&doc,
	    yaml_document_get_root_node(&doc), "data"), "Corefile")),
	    "kubernetes cluster.local in-addr.arpa ip6.arpa {"));
	yaml_document_delete(&doc);

	f = need_file(set, "cluster", "addons/metrics-server.yaml");
	assert_non_null(strstr(f->content,
	    "--kubelet-preferred-address-types=InternalIP\n"));
	assert_non_null(strstr(f->content, "--secure-port=10250\n"));
	assert_true(yaml_find(f->content, f->len, "APIService", NULL, &doc));
	yaml_document_delete(&doc);
	f = need_file(set, "cluster", "addons/dashboard.yaml");
	assert_true(yaml_find(f->content, f->len, "Deployment",
	    "kubernetes-dashboard", &doc));
	yaml_document_delete(&doc);
}

static void
test_render_plugins(void **state)
{
	static const enum ku_net_plugin plugins[] = {
		KU_NET_FLANNEL, KU_NET_CALICO, KU_NET_CUSTOM,
	};
	static const char *const custom =
	    "# the operator's CNI, copied as it is: {{ not_a_variable }}\n"
	    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my-cni\n";
	char *dir = make_tempdir();
	char *manifest = xasprintf("%s/cni.yaml", dir);

	(void)state;
	write_text(manifest, custom);
	for (size_t p = 0; p < KU_ARRAY_LEN(plugins); p++) {
		for (int addons = 0; addons <= 1; addons++) {
			struct ku_spec *spec = make_spec(plugins[p], addons);
			struct ku_render_set set = { 0 };
			const struct ku_rendered_file *f;
			/* per machine 3, master 5 (4 static pods and the
			 * audit policy), the plugin, kube-proxy, add-ons */
			size_t want = 3 * 3 + 5 + 1 + 1 + (addons ? 3 : 0);

			spec->custom_manifest = xstrdup(manifest);
			render_spec(spec, NULL, &set);
			assert_int_equal(set.n, want);
			check_common(spec, &set);
			check_addons(&set, addons);

			assert_int_equal(ku_render_find(&set, "cluster",
			    "network/flannel.yaml") != NULL,
			    plugins[p] == KU_NET_FLANNEL);
			assert_int_equal(ku_render_find(&set, "cluster",
			    "network/calico.yaml") != NULL,
			    plugins[p] == KU_NET_CALICO);
			assert_int_equal(ku_render_find(&set, "cluster",
			    "network/custom.yaml") != NULL,
			    plugins[p] == KU_NET_CUSTOM);
			if (plugins[p] == KU_NET_FLANNEL) {
				yaml_document_t doc;
				const char *conf;
				json_object *obj, *be, *type;

				f = need_file(&set, "cluster",
				    "network/flannel.yaml");
				assert_true(yaml_find(f->content, f->len,
				    "ConfigMap", "kube-flannel-cfg", &doc));
				conf = yscalar(ymap_get(&doc, ymap_get(&doc,
				    yaml_document_get_root_node(&doc), "data"),
				    "net-conf.json"));
				assert_non_null(conf);
				obj = json_tokener_parse(conf);
				assert_non_null(obj);
				assert_true(json_object_object_get_ex(obj,
				    "Network", &type));
				assert_string_equal(json_object_get_string(type),
				    "10.244.0.0/16");
				assert_true(json_object_object_get_ex(obj,
				    "Backend", &be));
				assert_true(json_object_object_get_ex(be,
				    "Type", &type));
				assert_string_equal(json_object_get_string(type),
				    "vxlan");
				json_object_put(obj);
				yaml_document_delete(&doc);
				assert_true(yaml_find(f->content, f->len,
				    "DaemonSet", "kube-flannel-ds", &doc));
				yaml_document_delete(&doc);
				assert_non_null(strstr(f->content,
				    "image: \"ghcr.io/flannel-io/flannel:v0.27.4\""));
			}
			if (plugins[p] == KU_NET_CALICO) {
				yaml_document_t doc;

				f = need_file(&set, "cluster",
				    "network/calico.yaml");
				assert_non_null(strstr(f->content,
				    "- name: CALICO_IPV4POOL_CIDR\n"
				    "              value: \"10.244.0.0/16\"\n"));
				assert_true(yaml_find(f->content, f->len,
				    "DaemonSet", "calico-node", &doc));
				yaml_document_delete(&doc);
				assert_true(yaml_find(f->content, f->len,
				    "CustomResourceDefinition",
				    "ippools.crd.projectcalico.org", &doc));
				yaml_document_delete(&doc);
				assert_true(yaml_find(f->content, f->len,
				    "CustomResourceDefinition",
				    "adminnetworkpolicies.policy.networking.k8s.io",
				    &doc));
				assert_non_null(ymap_get(&doc, ymap_get(&doc,
				    ymap_get(&doc,
				    yaml_document_get_root_node(&doc),
				    "metadata"), "annotations"),
				    "api-approved.kubernetes.io"));
				yaml_document_delete(&doc);
				assert_int_equal(yaml_count_documents("calico",
				    f->content, f->len), 24 + 12);
			}
			if (plugins[p] == KU_NET_CUSTOM) {
				f = need_file(&set, "cluster",
				    "network/custom.yaml");
				assert_int_equal(f->len, strlen(custom));
				assert_memory_equal(f->content, custom, f->len);
				assert_string_equal(f->template, manifest);
			}
			ku_render_set_free(&set);
			ku_spec_free(spec);
		}
	}
	rm_rf(dir);
	free(manifest);
	free(dir);
}

static void
test_render_registry(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_FLANNEL, true);
	struct ku_render_set set = { 0 };
	const struct ku_rendered_file *f;

	(void)state;
	/* The default registry: no mirror, no CA. */
	render_spec(spec, NULL, &set);
	f = need_file(&set, "node-1", "/etc/containerd/config.toml");
	assert_non_null(strstr(f->content,
	    "sandbox_image = \"registry.k8s.io/pause:3.10.1\"\n"));
	assert_null(strstr(f->content, ".registry.mirrors"));
	assert_null(strstr(f->content, ".registry.configs"));
	assert_null(strstr(f->content, "ca.crt"));
	assert_non_null(strstr(f->content,
	    "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
	    "    config_path = \"/etc/containerd/certs.d\"\n"));
	ku_render_set_free(&set);

	/* A mirror with its CA: every image from it. */
	free(spec->registry);
	spec->registry = xstrdup("mirror.example:5000");
	spec->registry_ca_file = xstrdup("/home/op/mirror-ca.crt");
	render_spec(spec, NULL, &set);
	check_all_yaml(&set);
	f = need_file(&set, "node-2", "/etc/containerd/config.toml");
	assert_non_null(strstr(f->content,
	    "sandbox_image = \"mirror.example:5000/pause:3.10.1\"\n"));
	/* The CA through the CRI registry hosts folder, where the certificate
	 * phase puts it; not through the deprecated tables. */
	assert_non_null(strstr(f->content,
	    "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
	    "    # The certificate of \"mirror.example:5000\" is signed by the operator's CA,\n"
	    "    # placed at \"/etc/containerd/certs.d/mirror.example:5000/ca.crt\".\n"
	    "    config_path = \"/etc/containerd/certs.d\"\n"));
	assert_null(strstr(f->content, ".registry.mirrors"));
	assert_null(strstr(f->content, ".registry.configs"));
	f = need_file(&set, "cluster", "network/flannel.yaml");
	assert_non_null(strstr(f->content,
	    "image: \"mirror.example:5000/flannel-io/flannel:v0.27.4\""));
	f = need_file(&set, "master", "/etc/kubernetes/manifests/etcd.yaml");
	assert_non_null(strstr(f->content,
	    "image: \"mirror.example:5000/etcd:3.6.6-0\""));
	for (size_t i = 0; i < set.n; i++) {
		assert_null(strstr(set.v[i].content, "registry.k8s.io/"));
		assert_null(strstr(set.v[i].content, "ghcr.io"));
		assert_null(strstr(set.v[i].content, "docker.io"));
	}
	ku_render_set_free(&set);

	/* A registry with a path: the CA folder is named after its host. */
	free(spec->registry);
	spec->registry = xstrdup("mirror.example/k8s/");
	render_spec(spec, NULL, &set);
	f = need_file(&set, "master", "/etc/containerd/config.toml");
	assert_non_null(strstr(f->content,
	    "sandbox_image = \"mirror.example/k8s/pause:3.10.1\"\n"));
	assert_non_null(strstr(f->content,
	    "placed at \"/etc/containerd/certs.d/mirror.example/ca.crt\""));
	ku_render_set_free(&set);

	/* Not a host: refused. */
	free(spec->registry);
	spec->registry = xstrdup("../etc/x");
	{
		char *err = NULL;
		assert_int_not_equal(ku_render_all(spec, NULL, &set, &err),
		    KU_OK);
		assert_non_null(strstr(err, "images.registry"));
		free(err);
	}
	ku_render_set_free(&set);
	ku_spec_free(spec);
}

static void
test_render_ipv6_and_addresses(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_FLANNEL, true);
	struct ku_render_set set = { 0 };
	const struct ku_rendered_file *f;
	char *err = NULL;

	(void)state;
	/* A range written with host bits set still counts from its start. */
	free(spec->service_cidr);
	spec->service_cidr = xstrdup("10.96.3.7/12");
	render_spec(spec, NULL, &set);
	f = need_file(&set, "cluster", "addons/coredns.yaml");
	assert_non_null(strstr(f->content, "clusterIP: \"10.96.0.10\""));
	ku_render_set_free(&set);

	free(spec->service_cidr);
	spec->service_cidr = xstrdup("fd00:10:96::/108");
	free(spec->pod_cidr);
	spec->pod_cidr = xstrdup("fd00:10:244::/56");
	set_machine(&spec->master, "master", "2001:db8::10");
	set_machine(&spec->nodes[0], "node-1", "2001:db8::11");
	render_spec(spec, NULL, &set);
	check_all_yaml(&set);
	f = need_file(&set, "cluster", "addons/coredns.yaml");
	assert_non_null(strstr(f->content, "clusterIP: \"fd00:10:96::a\""));
	f = need_file(&set, "master", "/etc/kubernetes/manifests/etcd.yaml");
	assert_non_null(strstr(f->content,
	    "\"--listen-client-urls=https://[::1]:2379,https://[2001:db8::10]:2379\""));
	assert_non_null(strstr(f->content, "host: \"::1\""));
	f = need_file(&set, "master",
	    "/etc/kubernetes/manifests/kube-controller-manager.yaml");
	assert_non_null(strstr(f->content, "\"--node-cidr-mask-size=64\""));
	f = need_file(&set, "cluster", "network/flannel.yaml");
	assert_non_null(strstr(f->content,
	    "\"IPv6Network\": \"fd00:10:244::/56\""));
	assert_null(strstr(f->content, "\"Network\""));
	f = need_file(&set, "cluster", "daemons/kube-proxy.yaml");
	assert_non_null(strstr(f->content,
	    "server: \"https://[2001:db8::10]:6443\""));
	f = need_file(&set, "node-1", "/etc/systemd/system/kubelet.service");
	assert_non_null(strstr(f->content, "--node-ip=2001:db8::11 "));
	ku_render_set_free(&set);

	/* Fewer than 11 addresses: no room for the DNS Service. */
	free(spec->service_cidr);
	spec->service_cidr = xstrdup("10.96.0.0/29");
	assert_int_not_equal(ku_render_all(spec, NULL, &set, &err), KU_OK);
	assert_non_null(strstr(err, "cluster.service_cidr"));
	assert_int_equal(set.n, 0);
	free(err);

	free(spec->service_cidr);
	spec->service_cidr = xstrdup("not-a-cidr");
	assert_int_not_equal(ku_render_all(spec, NULL, &set, &err), KU_OK);
	assert_non_null(strstr(err, "\"not-a-cidr\""));
	free(err);

	/* A small pod CIDR: node ranges shrink to fit every machine. */
	free(spec->service_cidr);
	spec->service_cidr = xstrdup("10.96.0.0/12");
	free(spec->pod_cidr);
	spec->pod_cidr = xstrdup("10.244.0.0/23");
	set_machine(&spec->master, "master", "192.0.2.10");
	set_machine(&spec->nodes[0], "node-1", "192.0.2.11");
	render_spec(spec, NULL, &set);
	f = need_file(&set, "master",
	    "/etc/kubernetes/manifests/kube-controller-manager.yaml");
	assert_non_null(strstr(f->content, "\"--node-cidr-mask-size=25\""));
	ku_render_set_free(&set);
	ku_spec_free(spec);
}

static void
test_render_deterministic(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_CALICO, true);
	struct ku_render_set a = { 0 }, b = { 0 };

	(void)state;
	render_spec(spec, NULL, &a);
	render_spec(spec, NULL, &b);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.v[i].target, b.v[i].target);
		assert_string_equal(a.v[i].path, b.v[i].path);
		assert_string_equal(a.v[i].template, b.v[i].template);
		assert_int_equal(a.v[i].len, b.v[i].len);
		assert_memory_equal(a.v[i].content, b.v[i].content, a.v[i].len);
	}
	/* The order: each machine (master first), then the cluster. */
	assert_string_equal(a.v[0].target, "master");
	assert_string_equal(a.v[a.n - 1].target, "cluster");
	ku_render_set_free(&a);
	ku_render_set_free(&b);
	ku_spec_free(spec);
}

static void
test_render_override(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_FLANNEL, true);
	struct ku_render_set plain = { 0 }, over = { 0 };
	char *dir = make_tempdir();
	char *path = xasprintf("%s/addons/coredns.yaml", dir);
	char *file = xasprintf("%s/file", dir);
	char *err = NULL, *want;

	(void)state;
	write_text(path, "# mine\nkind: \"Service\"\nip: \"{{ dns_ip }}\"\n");
	render_spec(spec, NULL, &plain);
	render_spec(spec, dir, &over);
	assert_int_equal(plain.n, over.n);
	for (size_t i = 0; i < over.n; i++) {
		if (strcmp(over.v[i].path, "addons/coredns.yaml") == 0) {
			assert_string_equal(over.v[i].content,
			    "# mine\nkind: \"Service\"\nip: \"10.96.0.10\"\n");
			continue;
		}
		/* Every other file is the built-in one. */
		assert_string_equal(over.v[i].content, plain.v[i].content);
	}
	ku_render_set_free(&plain);
	ku_render_set_free(&over);

	/* Errors in an override name its file and line. */
	write_text(path, "a: 1\nb: \"{{ etc_image }}\"\n");
	assert_int_equal(ku_render_all(spec, dir, &over, &err),
	    KU_ERR_TEMPLATE);
	want = xasprintf("%s:2: unknown variable \"etc_image\"", path);
	assert_string_equal(err, want);
	assert_int_equal(over.n, 0);
	free(want);
	free(err);

	/* Not a folder. */
	write_text(file, "x");
	assert_int_not_equal(ku_render_all(spec, file, &over, &err), KU_OK);
	assert_non_null(strstr(err, "not a folder"));
	free(err);
	assert_int_not_equal(ku_render_all(spec, "/nonexistent/kubeup", &over,
	    &err), KU_OK);
	assert_non_null(strstr(err, "/nonexistent/kubeup"));
	free(err);
	assert_int_equal(over.n, 0);

	rm_rf(dir);
	free(file);
	free(path);
	free(dir);
	ku_spec_free(spec);
}

/* Values the spec should never hold still cannot break out. */
static void
test_render_hostile_values(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_FLANNEL, false);
	struct ku_render_set set = { 0 };
	const struct ku_rendered_file *f;
	char *err = NULL;

	(void)state;
	/* Quoted everywhere: stays one scalar. */
	free(spec->service_cidr);
	spec->service_cidr = xstrdup("10.96.0.0/12");
	free(spec->dns_domain);
	spec->dns_domain = xstrdup("x\"\n---\nkind: Secret\n{{ dns_ip }}");
	render_spec(spec, NULL, &set);
	check_all_yaml(&set);
	f = need_file(&set, "master",
	    "/etc/kubernetes/manifests/kube-apiserver.yaml");
	assert_int_equal(yaml_count_documents("apiserver", f->content, f->len),
	    1);
	assert_null(strstr(f->content, "\nkind: Secret"));
	f = need_file(&set, "node-1", "/var/lib/kubelet/config.yaml");
	{
		static const char *const path[] = { "clusterDomain" };
		char *v = yaml_value(f->content, path, 1);
		assert_string_equal(v, spec->dns_domain);
		free(v);
	}
	ku_render_set_free(&set);

	/* Unquoted (the Corefile): refused. */
	spec->addon_dns = true;
	assert_int_equal(ku_render_all(spec, NULL, &set, &err),
	    KU_ERR_TEMPLATE);
	assert_non_null(strstr(err, "templates/addons/coredns.yaml:"));
	assert_non_null(strstr(err, "\"dns_domain\" cannot be used unquoted"));
	assert_int_equal(set.n, 0);
	free(err);

	/* A machine name with a space in the systemd unit: refused. */
	free(spec->dns_domain);
	spec->dns_domain = xstrdup("cluster.local");
	set_machine(&spec->nodes[1], "node 2 --anonymous-auth=true",
	    "192.0.2.12");
	assert_int_equal(ku_render_all(spec, NULL, &set, &err),
	    KU_ERR_TEMPLATE);
	assert_non_null(strstr(err, "templates/kubelet/kubelet.service:"));
	assert_non_null(strstr(err, "\"machine_name\""));
	free(err);
	ku_spec_free(spec);
}

static void
test_render_errors(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_CUSTOM, true);
	struct ku_render_set set = { 0 };
	char *err = NULL;

	(void)state;
	/* custom without a manifest, then with one that is not there. */
	assert_int_not_equal(ku_render_all(spec, NULL, &set, &err), KU_OK);
	assert_non_null(strstr(err, "network.manifest"));
	free(err);
	spec->custom_manifest = xstrdup("/nonexistent/cni.yaml");
	assert_int_equal(ku_render_all(spec, NULL, &set, &err), KU_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/cni.yaml: "));
	assert_int_equal(set.n, 0);
	free(err);

	spec->plugin = KU_NET_FLANNEL;
	free(spec->master.address);
	spec->master.address = xstrdup("master.example");
	assert_int_not_equal(ku_render_all(spec, NULL, &set, &err), KU_OK);
	assert_non_null(strstr(err, "machines.master"));
	free(err);
	assert_int_equal(set.n, 0);
	ku_spec_free(spec);
}

static void
test_write_tree(void **state)
{
	struct ku_spec *spec = make_spec(KU_NET_FLANNEL, true);
	struct ku_render_set set = { 0 };
	char *dir = make_tempdir();
	char *out = xasprintf("%s/out", dir);
	char *err = NULL, *p;
	struct ku_buf file;
	struct stat st;
	const struct ku_rendered_file *f;
	static const char *const bad_paths[] = {
		"../escape.yaml", "/etc/../../escape", "a//b", "a/b/", "",
		"/", "./a", "a/..", "a/./b",
	};
	static const char *const bad_targets[] = {
		"..", ".", "", "a/b", "../x",
	};

	(void)state;
	render_spec(spec, NULL, &set);
	assert_int_equal(ku_render_write_tree(&set, out, &err), KU_OK);
	assert_null(err);
	for (size_t i = 0; i < set.n; i++) {
		f = &set.v[i];
		p = xasprintf("%s/%s/%s", out, f->target,
		    f->path[0] == '/' ? f->path + 1 : f->path);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		ku_buf_init(&file, 0);
		assert_int_equal(ku_read_file(p, 0, &file), KU_OK);
		assert_int_equal(file.len, f->len);
		assert_memory_equal(file.data, f->content, f->len);
		ku_buf_free(&file);
		free(p);
	}
	p = xasprintf("%s/master/etc/kubernetes/manifests/etcd.yaml", out);
	assert_true(ku_is_regular_file(p));
	free(p);
	p = xasprintf("%s/cluster/addons/coredns.yaml", out);
	assert_true(ku_is_regular_file(p));
	free(p);
	/* Writing again replaces the files. */
	assert_int_equal(ku_render_write_tree(&set, out, &err), KU_OK);

	/* Refused: "..", ".", empty components; nothing is written then. */
	rm_rf(out);
	for (size_t i = 0; i < KU_ARRAY_LEN(bad_paths); i++) {
		char *saved = set.v[set.n - 1].path;

		set.v[set.n - 1].path = (char *)bad_paths[i];
		assert_int_not_equal(ku_render_write_tree(&set, out, &err),
		    KU_OK);
		if (err == NULL || strstr(err, "refusing") == NULL)
			fail_msg("path \"%s\" not refused: %s", bad_paths[i],
			    err ? err : "(null)");
		free(err);
		err = NULL;
		set.v[set.n - 1].path = saved;
		assert_false(ku_path_exists(out));
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(bad_targets); i++) {
		char *saved = set.v[0].target;

		set.v[0].target = (char *)bad_targets[i];
		assert_int_not_equal(ku_render_write_tree(&set, out, &err),
		    KU_OK);
		assert_non_null(strstr(err, "refusing"));
		free(err);
		err = NULL;
		set.v[0].target = saved;
		assert_false(ku_path_exists(out));
	}

	/* Errors name the file. */
	write_text(out, "a file where a folder should be");
	assert_int_equal(ku_render_write_tree(&set, out, &err), KU_ERR_IO);
	p = xasprintf("%s/master/var/lib/kubelet: ", out);
	if (strstr(err, p) == NULL)
		fail_msg("error \"%s\" does not name %s", err, p);
	free(p);
	free(err);

	rm_rf(dir);
	free(out);
	free(dir);
	ku_render_set_free(&set);
	ku_render_set_free(&set);   /* a no-op on an emptied set */
	ku_spec_free(spec);
}

/* What the version table changes in the files: 1.20 closes its insecure
 * ports, probes the scheduler's /healthz and gives the kubelet its runtime
 * on the command line; current releases do none of that. The cgroup
 * driver follows runtime.cgroup_driver in containerd and the kubelet. */
static bool
has(const struct ku_render_set *set, const char *target, const char *path,
    const char *text)
{
	return strstr(need_file(set, target, path)->content, text) != NULL;
}

static void
test_render_versions(void **state)
{
	static const char *const api = "/etc/kubernetes/manifests/kube-apiserver.yaml";
	static const char *const sched = "/etc/kubernetes/manifests/kube-scheduler.yaml";
	static const char *const cm = "/etc/kubernetes/manifests/kube-controller-manager.yaml";
	static const char *const unit = "/etc/systemd/system/kubelet.service";
	static const char *const conf = "/var/lib/kubelet/config.yaml";
	static const char *const ctd = "/etc/containerd/config.toml";

	(void)state;
	for (int old = 0; old <= 1; old++) {
		struct ku_spec *spec = make_spec(KU_NET_FLANNEL, true);
		struct ku_render_set set = { 0 };

		if (old) {
			free(spec->version);
			spec->version = xstrdup("1.20.2");
			spec->cgroup_driver = KU_CGROUP_CGROUPFS;
		}
		render_spec(spec, NULL, &set);
		check_all_yaml(&set);
		assert_int_equal(has(&set, "master", api, "--insecure-port=0"), old);
		assert_int_equal(has(&set, "master", sched, "- --port=0"), old);
		assert_int_equal(has(&set, "master", cm, "- --port=0"), old);
		assert_int_equal(has(&set, "master", sched, "path: \"/healthz\""), old);
		assert_int_equal(has(&set, "master", sched, "path: \"/livez\""), !old);
		assert_int_equal(has(&set, "master", sched, "path: \"/readyz\""), !old);
		assert_int_equal(has(&set, "node-1", unit,
		    "--container-runtime=remote --container-runtime-endpoint="
		    "unix:///run/containerd/containerd.sock"), old);
		assert_int_equal(has(&set, "node-1", conf,
		    "\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock"), !old);
		assert_int_equal(has(&set, "node-1", conf,
		    "cgroupDriver: \"cgroupfs\""), old);
		assert_int_equal(has(&set, "node-1", conf,
		    "cgroupDriver: \"systemd\""), !old);
		assert_int_equal(has(&set, "node-2", ctd, "SystemdCgroup = true"), !old);
		assert_int_equal(has(&set, "node-2", ctd, "SystemdCgroup = false"), old);
		/* etcd 3.4 for 1.20: experimental flags, /health */
		{
			static const char *const etcd = "/etc/kubernetes/manifests/etcd.yaml";

			assert_int_equal(has(&set, "master", etcd,
			    "--experimental-initial-corrupt-check=true"), old);
			assert_int_equal(has(&set, "master", etcd,
			    "--feature-gates=InitialCorruptCheck=true"), !old);
			assert_int_equal(has(&set, "master", etcd, "path: \"/health\""), old);
			assert_int_equal(has(&set, "master", etcd, "path: \"/readyz\""), !old);
		}
		/* the master's taint: a field, or for 1.20 a flag */
		assert_int_equal(has(&set, "master", unit,
		    "--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule"), old);
		assert_int_equal(has(&set, "master", conf, "registerWithTaints:"), !old);
		assert_false(has(&set, "node-1", unit, "--register-with-taints"));
		assert_false(has(&set, "node-1", conf, "registerWithTaints:"));
		/* the images of the release */
		assert_true(has(&set, "master", "/etc/kubernetes/manifests/etcd.yaml",
		    old ? "/etcd:3.4.13-0\"" : "/etcd:3.6.6-0\""));
		assert_true(has(&set, "node-2", ctd,
		    old ? "/pause:3.2\"" : "/pause:3.10.1\""));
		assert_true(has(&set, "master", api,
		    old ? "kube-apiserver:v1.20.2\"" : "kube-apiserver:v1.35.0\""));
		ku_render_set_free(&set);
		ku_spec_free(spec);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_quoting_rule),
		cmocka_unit_test(test_plain_filter),
		cmocka_unit_test(test_if_else),
		cmocka_unit_test(test_each_strings),
		cmocka_unit_test(test_each_records),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_unknown_variable),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_embedded_templates),
		cmocka_unit_test(test_render_plugins),
		cmocka_unit_test(test_render_registry),
		cmocka_unit_test(test_render_ipv6_and_addresses),
		cmocka_unit_test(test_render_deterministic),
		cmocka_unit_test(test_render_versions),
		cmocka_unit_test(test_render_override),
		cmocka_unit_test(test_render_hostile_values),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_write_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
