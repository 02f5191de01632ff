/* YAML to json-c, document by document (see yaml.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "i18n.h"
#include "util.h"
#include "yamldoc.h"

#define KU_YAML_MAX_DEPTH 64

/* --- scalars --- */

static bool
ku_all_in(const char *s, const char *set)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

/* The core schema's reading of a plain scalar. */
static json_object *
ku_yaml_plain(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const trues[] = { "true", "True", "TRUE" };
	static const char *const falses[] = { "false", "False", "FALSE" };
	const char *digits = s + (*s == '-' || *s == '+');
	char *end;

	for (size_t i = 0; i < KU_ARRAY_LEN(nulls); i++)
		if (strcmp(s, nulls[i]) == 0)
			return NULL;
	for (size_t i = 0; i < KU_ARRAY_LEN(trues); i++)
		if (strcmp(s, trues[i]) == 0)
			return json_object_new_boolean(1);
	for (size_t i = 0; i < KU_ARRAY_LEN(falses); i++)
		if (strcmp(s, falses[i]) == 0)
			return json_object_new_boolean(0);
	if (ku_all_in(digits, "0123456789") ||
	    (s[0] == '0' && s[1] == 'o' && ku_all_in(s + 2, "01234567")) ||
	    (s[0] == '0' && s[1] == 'x' &&
	     ku_all_in(s + 2, "0123456789abcdefABCDEF"))) {
		int base = s[0] == '0' && (s[1] == 'o' || s[1] == 'x') ?
		    (s[1] == 'o' ? 8 : 16) : 10;
		const char *from = base == 10 ? s : s + 2;
		long long v;

		errno = 0;
		v = strtoll(from, &end, base);
		if (errno == 0 && *end == '\0')
			return json_object_new_int64(v);
		return json_object_new_string(s);   /* too large: as written */
	}
	if (strpbrk(digits, "0123456789") &&
	    ku_all_in(digits, "0123456789.eE+-") && *digits != 'e' &&
	    *digits != 'E') {
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0')
			return json_object_new_double(d);
	}
	return json_object_new_string(s);
}

static json_object *
ku_yaml_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag != NULL) {
		if (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0)
			return json_object_new_string_len(v,
			    (int)ev->data.scalar.length);
		return ku_yaml_plain(v);
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_object_new_string_len(v,
		    (int)ev->data.scalar.length);
	return ku_yaml_plain(v);
}

/* --- one document --- */

struct ku_frame {
	json_object *obj;
	char *key;           /* a mapping's key waiting for its value */
};

struct ku_doc_parser {
	const char *origin;
	int first_line;      /* of the chunk in the whole input */
	struct ku_frame stack[KU_YAML_MAX_DEPTH];
	int depth;
	json_object *root;
	bool have_root;
	char *err;
};

static void
ku_doc_fail(struct ku_doc_parser *p, const yaml_mark_t *m, const char *what)
{
	if (p->err == NULL)
		p->err = xasprintf("%s:%zu:%zu: %s", p->origin,
		    (size_t)p->first_line + m->line, m->column + 1, what);
}

/* Adds v (owned, may be NULL for null) where the document is now. */
static bool
ku_doc_add(struct ku_doc_parser *p, json_object *v, const yaml_mark_t *m)
{
	struct ku_frame *f;

	if (p->depth == 0) {
		if (p->have_root) {
			json_object_put(v);
			ku_doc_fail(p, m, _("more than one value at the top"));
			return false;
		}
		p->root = v;
		p->have_root = true;
		return true;
	}
	f = &p->stack[p->depth - 1];
	if (json_object_is_type(f->obj, json_type_array)) {
		json_object_array_add(f->obj, v);
		return true;
	}
	if (f->key == NULL) {
		json_object_put(v);
		ku_doc_fail(p, m, _("a mapping's key must be a plain value"));
		return false;
	}
	if (json_object_object_get_ex(f->obj, f->key, NULL)) {
		char *msg = xasprintf(_("key \"%s\" appears twice"), f->key);

		json_object_put(v);
		ku_doc_fail(p, m, msg);
		free(msg);
		return false;
	}
	json_object_object_add(f->obj, f->key, v);
	free(f->key);
	f->key = NULL;
	return true;
}

static bool
ku_doc_event(struct ku_doc_parser *p, const yaml_event_t *ev)
{
	struct ku_frame *top = p->depth ? &p->stack[p->depth - 1] : NULL;
	bool want_key = top && json_object_is_type(top->obj,
	    json_type_object) && top->key == NULL;
	json_object *c;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		ku_doc_fail(p, &ev->start_mark,
		    _("anchors and aliases are not accepted"));
		return false;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor) {
			ku_doc_fail(p, &ev->start_mark,
			    _("anchors and aliases are not accepted"));
			return false;
		}
		if (want_key) {
			top->key = xstrndup((const char *)ev->data.scalar.value,
			    ev->data.scalar.length);
			return true;
		}
		return ku_doc_add(p, ku_yaml_scalar(ev), &ev->start_mark);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((ev->type == YAML_SEQUENCE_START_EVENT ?
		    ev->data.sequence_start.anchor :
		    ev->data.mapping_start.anchor) != NULL) {
			ku_doc_fail(p, &ev->start_mark,
			    _("anchors and aliases are not accepted"));
			return false;
		}
		if (want_key) {
			ku_doc_fail(p, &ev->start_mark,
			    _("a mapping's key must be a plain value"));
			return false;
		}
		if (p->depth == KU_YAML_MAX_DEPTH) {
			ku_doc_fail(p, &ev->start_mark,
			    _("nested too deeply"));
			return false;
		}
		c = ev->type == YAML_SEQUENCE_START_EVENT ?
		    json_object_new_array() : json_object_new_object();
		if (!ku_doc_add(p, json_object_get(c), &ev->start_mark)) {
			json_object_put(c);
			return false;
		}
		p->stack[p->depth].obj = c;
		p->stack[p->depth].key = NULL;
		p->depth++;
		return true;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		p->depth--;
		json_object_put(p->stack[p->depth].obj);
		free(p->stack[p->depth].key);
		return true;
	default:
		return true;
	}
}

/* Parses one chunk (at most one document). *obj is NULL for an empty
 * one. */
static ku_rc
ku_yaml_chunk(const char *data, size_t len, const char *origin,
    int first_line, json_object **obj, char **err)
{
	struct ku_doc_parser p = { .origin = origin, .first_line = first_line };
	yaml_parser_t parser;
	yaml_event_t ev;
	int docs = 0;
	bool done = false;

	*obj = NULL;
	if (!yaml_parser_initialize(&parser))
		return KU_ERR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    len);
	while (!done && p.err == NULL) {
		if (!yaml_parser_parse(&parser, &ev)) {
			char *msg = xasprintf("%s%s%s", parser.problem ?
			    parser.problem : _("malformed YAML"),
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
			ku_doc_fail(&p, &parser.problem_mark, msg);
			free(msg);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			ku_doc_fail(&p, &ev.start_mark,
			    _("a second document without a --- line"));
		else
			ku_doc_event(&p, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (p.depth > 0) {
		p.depth--;
		json_object_put(p.stack[p.depth].obj);
		free(p.stack[p.depth].key);
	}
	if (p.err) {
		json_object_put(p.root);
		if (err)
			*err = p.err;
		else
			free(p.err);
		return KU_ERR_INVALID;
	}
	*obj = p.root;
	return KU_OK;
}

/* --- documents --- */

/* A line that starts a document ("---") or ends one ("..."): the marker
 * alone or followed by white space. YAML forbids such lines inside any
 * scalar, so cutting there is exact. */
static int
ku_marker(const char *line, size_t len)
{
	int kind;

	if (len >= 3 && memcmp(line, "---", 3) == 0)
		kind = 1;
	else if (len >= 3 && memcmp(line, "...", 3) == 0)
		kind = 2;
	else
		return 0;
	if (len == 3 || line[3] == ' ' || line[3] == '\t' ||
	    line[3] == '\n' || line[3] == '\r')
		return kind;
	return 0;
}

static ku_rc
ku_yaml_add_chunk(const char *data, size_t from, size_t to,
    const char *origin, int line, struct ku_yaml_docs *out, char **err)
{
	json_object *obj;
	ku_rc rc = ku_yaml_chunk(data + from, to - from, origin, line, &obj,
	    err);

	if (rc != KU_OK || obj == NULL)
		return rc;
	out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
	out->v[out->n].obj = obj;
	out->v[out->n].text = xstrndup(data + from, to - from);
	out->v[out->n].len = to - from;
	out->v[out->n].line = line;
	out->n++;
	return KU_OK;
}

ku_rc
ku_yaml_parse(const char *data, size_t len, const char *origin,
    struct ku_yaml_docs *out, char **err)
{
	size_t start = 0, pos = 0;
	int line = 1, start_line = 1;
	ku_rc rc = KU_OK;

	out->v = NULL;
	out->n = 0;
	if (memchr(data, '\0', len)) {
		if (err)
			*err = xasprintf(_("%s: a NUL byte: not a YAML text"),
			    origin);
		return KU_ERR_INVALID;
	}
	while (pos < len && rc == KU_OK) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;
		int kind = ku_marker(data + pos, end - pos);

		if (kind == 1 && pos > start) {
			/* "---" begins the next document, with its line. */
			rc = ku_yaml_add_chunk(data, start, pos, origin,
			    start_line, out, err);
			start = pos;
			start_line = line;
		} else if (kind == 2) {
			/* "..." ends this one, with its line. */
			rc = ku_yaml_add_chunk(data, start, end, origin,
			    start_line, out, err);
			start = end;
			start_line = line + 1;
		}
		pos = end;
		line++;
	}
	if (rc == KU_OK && len > start)
		rc = ku_yaml_add_chunk(data, start, len, origin, start_line,
		    out, err);
	if (rc != KU_OK)
		ku_yaml_docs_free(out);
	return rc;
}

void
ku_yaml_docs_free(struct ku_yaml_docs *docs)
{
	for (size_t i = 0; i < docs->n; i++) {
		json_object_put(docs->v[i].obj);
		free(docs->v[i].text);
	}
	free(docs->v);
	docs->v = NULL;
	docs->n = 0;
}

/* --- paths --- */

json_object *
ku_json_get(json_object *obj, const char *path)
{
	char key[128];

	while (obj != NULL && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof key ||
		    !json_object_is_type(obj, json_type_object))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		path += n + (dot != NULL);
	}
	return obj;
}

const char *
ku_json_str(json_object *obj, const char *path)
{
	json_object *v = ku_json_get(obj, path);

	return v && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

int64_t
ku_json_int(json_object *obj, const char *path, int64_t def)
{
	json_object *v = ku_json_get(obj, path);

	return v && json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : def;
}

size_t
ku_json_len(json_object *arr)
{
	return arr != NULL && json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
}
