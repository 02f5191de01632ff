/* The template renderer: parse a template into a tree of nodes, check it,
 * then walk it with the variables. The rules are in template.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "template.h"
#include "util.h"

#define KU_TPL_MAX_DEPTH 16

/* --- variables --- */

enum ku_tval_kind { KU_TV_STRING, KU_TV_BOOL, KU_TV_LIST };

struct ku_tfield {
	char *name;
	enum ku_tval_kind kind;     /* KU_TV_STRING or KU_TV_BOOL */
	char *str;
	bool b;
};

/* One item of a list: a string (str set) or a record (str NULL). */
struct ku_trecord {
	char *str;
	struct ku_tfield *fields;
	size_t n_fields;
};

struct ku_tvar {
	char *name;
	enum ku_tval_kind kind;
	char *str;
	bool b;
	struct ku_trecord **items;
	size_t n_items;
};

struct ku_tvars {
	const struct ku_tvars *parent;
	struct ku_tvar *v;
	size_t n;
};

struct ku_tvars *
ku_tvars_new(const struct ku_tvars *parent)
{
	struct ku_tvars *vars = xcalloc(1, sizeof *vars);
	vars->parent = parent;
	return vars;
}

static void
ku_trecord_free(struct ku_trecord *rec)
{
	if (rec == NULL)
		return;
	for (size_t i = 0; i < rec->n_fields; i++) {
		free(rec->fields[i].name);
		free(rec->fields[i].str);
	}
	free(rec->fields);
	free(rec->str);
	free(rec);
}

static void
ku_tvar_clear(struct ku_tvar *var)
{
	free(var->str);
	var->str = NULL;
	var->b = false;
	for (size_t i = 0; i < var->n_items; i++)
		ku_trecord_free(var->items[i]);
	free(var->items);
	var->items = NULL;
	var->n_items = 0;
}

void
ku_tvars_free(struct ku_tvars *vars)
{
	if (vars == NULL)
		return;
	for (size_t i = 0; i < vars->n; i++) {
		ku_tvar_clear(&vars->v[i]);
		free(vars->v[i].name);
	}
	free(vars->v);
	free(vars);
}

static struct ku_tvar *
ku_tvars_find_own(const struct ku_tvars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strcmp(vars->v[i].name, name) == 0)
			return &vars->v[i];
	return NULL;
}

/* The variable name in vars itself, emptied and given kind. */
static struct ku_tvar *
ku_tvars_slot(struct ku_tvars *vars, const char *name, enum ku_tval_kind kind)
{
	struct ku_tvar *var = ku_tvars_find_own(vars, name);

	if (var == NULL) {
		vars->v = xreallocarray(vars->v, vars->n + 1, sizeof *vars->v);
		var = &vars->v[vars->n++];
		memset(var, 0, sizeof *var);
		var->name = xstrdup(name);
	} else
		ku_tvar_clear(var);
	var->kind = kind;
	return var;
}

void
ku_tvars_set(struct ku_tvars *vars, const char *name, const char *value)
{
	/* Copy first: value may be the old value of the same variable. */
	char *copy = xstrdup(value);
	ku_tvars_slot(vars, name, KU_TV_STRING)->str = copy;
}

void
ku_tvars_setf(struct ku_tvars *vars, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *value;

	va_start(ap, fmt);
	value = xvasprintf(fmt, ap);
	va_end(ap);
	ku_tvars_slot(vars, name, KU_TV_STRING)->str = value;
}

void
ku_tvars_set_bool(struct ku_tvars *vars, const char *name, bool value)
{
	ku_tvars_slot(vars, name, KU_TV_BOOL)->b = value;
}

void
ku_tvars_set_list(struct ku_tvars *vars, const char *name)
{
	ku_tvars_slot(vars, name, KU_TV_LIST);
}

static struct ku_trecord *
ku_tvars_append(struct ku_tvars *vars, const char *list)
{
	struct ku_tvar *var = ku_tvars_find_own(vars, list);
	struct ku_trecord *rec;

	if (var == NULL || var->kind != KU_TV_LIST)
		var = ku_tvars_slot(vars, list, KU_TV_LIST);
	rec = xcalloc(1, sizeof *rec);
	var->items = xreallocarray(var->items, var->n_items + 1,
	    sizeof *var->items);
	var->items[var->n_items++] = rec;
	return rec;
}

void
ku_tvars_list_add(struct ku_tvars *vars, const char *list, const char *item)
{
	char *copy = xstrdup(item);
	ku_tvars_append(vars, list)->str = copy;
}

struct ku_trecord *
ku_tvars_list_add_record(struct ku_tvars *vars, const char *list)
{
	return ku_tvars_append(vars, list);
}

static struct ku_tfield *
ku_trecord_slot(struct ku_trecord *rec, const char *field)
{
	struct ku_tfield *f;

	for (size_t i = 0; i < rec->n_fields; i++)
		if (strcmp(rec->fields[i].name, field) == 0) {
			free(rec->fields[i].str);
			rec->fields[i].str = NULL;
			return &rec->fields[i];
		}
	rec->fields = xreallocarray(rec->fields, rec->n_fields + 1,
	    sizeof *rec->fields);
	f = &rec->fields[rec->n_fields++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(field);
	return f;
}

void
ku_trecord_set(struct ku_trecord *rec, const char *field, const char *value)
{
	char *copy = xstrdup(value);
	struct ku_tfield *f = ku_trecord_slot(rec, field);

	f->kind = KU_TV_STRING;
	f->str = copy;
}

void
ku_trecord_set_bool(struct ku_trecord *rec, const char *field, bool value)
{
	struct ku_tfield *f = ku_trecord_slot(rec, field);

	f->kind = KU_TV_BOOL;
	f->b = value;
}

/* --- the parsed template --- */

enum ku_tnode_kind { KU_TN_TEXT, KU_TN_VAR, KU_TN_IF, KU_TN_EACH };
enum ku_tfilter { KU_TF_QUOTED, KU_TF_PLAIN };

struct ku_tnode;

struct ku_tnodes {
	struct ku_tnode *v;
	size_t n;
	size_t cap;
};

struct ku_tnode {
	enum ku_tnode_kind kind;
	int line;
	const char *text;           /* KU_TN_TEXT: a slice of the template */
	size_t len;
	char *name;                 /* "x", "." or ".x" */
	enum ku_tfilter filter;     /* KU_TN_VAR */
	struct ku_tnodes body;      /* #if: then; #each: the body */
	struct ku_tnodes alt;       /* #if: else */
};

static void
ku_tnodes_free(struct ku_tnodes *nodes)
{
	for (size_t i = 0; i < nodes->n; i++) {
		free(nodes->v[i].name);
		ku_tnodes_free(&nodes->v[i].body);
		ku_tnodes_free(&nodes->v[i].alt);
	}
	free(nodes->v);
	memset(nodes, 0, sizeof *nodes);
}

static struct ku_tnode *
ku_tnodes_push(struct ku_tnodes *nodes, enum ku_tnode_kind kind, int line)
{
	struct ku_tnode *node;

	if (nodes->n == nodes->cap) {
		nodes->cap = nodes->cap ? nodes->cap * 2 : 8;
		nodes->v = xreallocarray(nodes->v, nodes->cap,
		    sizeof *nodes->v);
	}
	node = &nodes->v[nodes->n++];
	memset(node, 0, sizeof *node);
	node->kind = kind;
	node->line = line;
	return node;
}

/* --- parsing --- */

enum ku_ttag {
	KU_TT_VAR,
	KU_TT_IF,
	KU_TT_EACH,
	KU_TT_ELSE,
	KU_TT_END_IF,
	KU_TT_END_EACH,
	KU_TT_EOF,
};

struct ku_tparser {
	const char *source;
	const char *text;
	size_t len;
	size_t pos;
	int line;                   /* of pos */
	char *err;
};

/* The tag the parser stopped at, for the caller to check. */
struct ku_tstop {
	enum ku_ttag tag;
	int line;
};

static ku_rc KU_PRINTF(3, 4)
ku_tparse_fail(struct ku_tparser *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(p->err);
	p->err = xasprintf("%s:%d: %s", p->source, line, msg);
	free(msg);
	return KU_ERR_TEMPLATE;
}

static bool
ku_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool
ku_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the name at s (at most n bytes): [a-z0-9_]+, or "." or
 * "." followed by one when dot_ok. 0 when there is none. */
static size_t
ku_scan_name(const char *s, size_t n, bool dot_ok)
{
	size_t i = 0;

	if (dot_ok && n > 0 && s[0] == '.') {
		i = 1;
		if (i == n || !ku_is_name_char(s[i]))
			return 1;
	}
	while (i < n && ku_is_name_char(s[i]))
		i++;
	return i;
}

static bool
ku_word_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Whether a double-quoted string is open at text[at], counting the '"'
 * between the start of that line and at; one after an odd number of
 * backslashes (\" but not \\") is escaped and does not count. */
static bool
ku_inside_quotes(const char *text, size_t line_start, size_t at)
{
	bool open = false;

	for (size_t i = line_start; i < at; i++) {
		size_t bs = 0;

		if (text[i] != '"')
			continue;
		while (i - bs > line_start && text[i - bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			open = !open;
	}
	return open;
}

/* Parses the tag whose "{{" is at p->pos. On success sets *tag, *name
 * (for VAR, IF, EACH; caller frees), *filter, and moves p->pos past the
 * tag, or past its whole line when a block tag stands alone on it.
 * *cut is where the text before the tag ends (its line start when the
 * line is taken away). */
static ku_rc
ku_tparse_tag(struct ku_tparser *p, enum ku_ttag *tag, char **name,
    enum ku_tfilter *filter, size_t *cut)
{
	const char *text = p->text;
	size_t open = p->pos, start = open + 2, close, line_start, end;
	const char *s;
	size_t n, k;
	bool block;

	*name = NULL;
	*filter = KU_TF_QUOTED;
	*cut = open;

	for (close = start; close + 1 < p->len; close++) {
		if (text[close] == '\n')
			break;
		if (text[close] == '}' && text[close + 1] == '}')
			break;
	}
	if (close + 1 >= p->len || text[close] == '\n')
		return ku_tparse_fail(p, p->line,
		    _("\"{{\" without \"}}\" on the same line"));

	/* The tag's words, blanks trimmed. */
	s = text + start;
	n = close - start;
	while (n > 0 && ku_is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && ku_is_blank(s[n - 1]))
		n--;

	if (n > 0 && (s[0] == '#' || s[0] == '/')) {
		bool opening = s[0] == '#';
		size_t w = ku_scan_name(s + 1, n - 1, false);

		if (ku_word_is(s + 1, w, "if"))
			*tag = opening ? KU_TT_IF : KU_TT_END_IF;
		else if (ku_word_is(s + 1, w, "each"))
			*tag = opening ? KU_TT_EACH : KU_TT_END_EACH;
		else
			return ku_tparse_fail(p, p->line,
			    _("unknown tag \"{{%.*s}}\" (allowed: #if, #each, else, /if, /each)"),
			    (int)n, s);
		s += 1 + w;
		n -= 1 + w;
		if (opening) {
			if (n == 0 || !ku_is_blank(*s))
				return ku_tparse_fail(p, p->line,
				    _("{{#%s}} needs a variable name"),
				    *tag == KU_TT_IF ? "if" : "each");
			while (n > 0 && ku_is_blank(*s)) {
				s++;
				n--;
			}
			k = ku_scan_name(s, n, *tag == KU_TT_IF);
			if (k == 0 || k != n || (k == 1 && s[0] == '.'))
				return ku_tparse_fail(p, p->line,
				    _("bad variable name in {{#%s %.*s}}"),
				    *tag == KU_TT_IF ? "if" : "each", (int)n,
				    s);
			*name = xstrndup(s, k);
		} else if (n != 0)
			return ku_tparse_fail(p, p->line,
			    _("nothing may follow {{/%s}}"),
			    *tag == KU_TT_END_IF ? "if" : "each");
	} else if (ku_word_is(s, n, "else")) {
		*tag = KU_TT_ELSE;
	} else {
		*tag = KU_TT_VAR;
		k = ku_scan_name(s, n, true);
		if (k == 0)
			return ku_tparse_fail(p, p->line,
			    _("bad tag \"{{%.*s}}\""), (int)(close - start),
			    text + start);
		*name = xstrndup(s, k);
		s += k;
		n -= k;
		while (n > 0 && ku_is_blank(*s)) {
			s++;
			n--;
		}
		if (n > 0 && *s == '|') {
			s++;
			n--;
			while (n > 0 && ku_is_blank(*s)) {
				s++;
				n--;
			}
			if (ku_word_is(s, n, "plain"))
				*filter = KU_TF_PLAIN;
			else {
				free(*name);
				*name = NULL;
				return ku_tparse_fail(p, p->line,
				    _("unknown filter \"%.*s\" (allowed: plain)"),
				    (int)n, s);
			}
		} else if (n > 0) {
			free(*name);
			*name = NULL;
			return ku_tparse_fail(p, p->line,
			    _("bad tag \"{{%.*s}}\""), (int)(close - start),
			    text + start);
		}
	}

	line_start = open;
	while (line_start > 0 && text[line_start - 1] != '\n')
		line_start--;
	end = close + 2;

	if (*tag == KU_TT_VAR) {
		if (*filter == KU_TF_QUOTED &&
		    !ku_inside_quotes(text, line_start, open)) {
			ku_rc rc = ku_tparse_fail(p, p->line,
			    _("{{ %s }} must be inside a double-quoted string (or written {{ %s | plain }})"),
			    *name, *name);
			free(*name);
			*name = NULL;
			return rc;
		}
		p->pos = end;
		return KU_OK;
	}

	/* A block tag alone on its line takes the line with it. */
	block = true;
	for (size_t i = line_start; i < open; i++)
		if (!ku_is_blank(text[i]))
			block = false;
	k = end;
	while (k < p->len && ku_is_blank(text[k]))
		k++;
	if (k < p->len && text[k] != '\n')
		block = false;
	if (block) {
		*cut = line_start;
		if (k < p->len) {
			k++;
			p->line++;
		}
		end = k;
	}
	p->pos = end;
	return KU_OK;
}

static int
ku_count_lines(const char *s, size_t n)
{
	int lines = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n')
			lines++;
	return lines;
}

static const char *
ku_ttag_text(enum ku_ttag tag)
{
	switch (tag) {
	case KU_TT_ELSE:
		return "{{else}}";
	case KU_TT_END_IF:
		return "{{/if}}";
	case KU_TT_END_EACH:
		return "{{/each}}";
	default:
		return "";
	}
}

/* Parses nodes into out until the end of the template or a tag that ends
 * a block ({{else}}, {{/if}}, {{/each}}), which *stop reports. */
static ku_rc
ku_tparse_nodes(struct ku_tparser *p, struct ku_tnodes *out, int depth,
    struct ku_tstop *stop)
{
	ku_rc rc;

	for (;;) {
		const char *open = NULL;
		size_t text_end, cut;
		enum ku_ttag tag = KU_TT_EOF;
		enum ku_tfilter filter;
		char *name;
		int tag_line;

		if (p->pos < p->len)
			open = memmem(p->text + p->pos, p->len - p->pos,
			    "{{", 2);
		text_end = open ? (size_t)(open - p->text) : p->len;
		tag_line = p->line + ku_count_lines(p->text + p->pos,
		    text_end - p->pos);

		if (open == NULL) {
			if (text_end > p->pos) {
				struct ku_tnode *t = ku_tnodes_push(out,
				    KU_TN_TEXT, p->line);
				t->text = p->text + p->pos;
				t->len = text_end - p->pos;
			}
			p->pos = p->len;
			p->line = tag_line;
			stop->tag = KU_TT_EOF;
			stop->line = tag_line;
			return KU_OK;
		}

		{
			size_t text_start = p->pos;
			int text_line = p->line;

			p->pos = text_end;
			p->line = tag_line;
			rc = ku_tparse_tag(p, &tag, &name, &filter, &cut);
			if (rc)
				return rc;
			if (cut > text_start) {
				struct ku_tnode *t = ku_tnodes_push(out,
				    KU_TN_TEXT, text_line);
				t->text = p->text + text_start;
				t->len = cut - text_start;
			}
		}

		switch (tag) {
		case KU_TT_VAR: {
			struct ku_tnode *v = ku_tnodes_push(out, KU_TN_VAR,
			    tag_line);
			v->name = name;
			v->filter = filter;
			break;
		}
		case KU_TT_IF:
		case KU_TT_EACH: {
			struct ku_tnode *b;
			struct ku_tnodes body = { 0 }, alt = { 0 };
			struct ku_tstop inner;
			const char *kw = tag == KU_TT_IF ? "if" : "each";

			if (depth >= KU_TPL_MAX_DEPTH) {
				rc = ku_tparse_fail(p, tag_line,
				    _("blocks nested deeper than %d"),
				    KU_TPL_MAX_DEPTH);
				free(name);
				return rc;
			}
			rc = ku_tparse_nodes(p, &body, depth + 1, &inner);
			if (rc == KU_OK && tag == KU_TT_IF &&
			    inner.tag == KU_TT_ELSE)
				rc = ku_tparse_nodes(p, &alt, depth + 1,
				    &inner);
			if (rc == KU_OK && inner.tag == KU_TT_EOF)
				rc = ku_tparse_fail(p, tag_line,
				    _("unclosed {{#%s %s}}"), kw, name);
			else if (rc == KU_OK &&
			    inner.tag != (tag == KU_TT_IF ? KU_TT_END_IF :
			    KU_TT_END_EACH))
				rc = ku_tparse_fail(p, inner.line,
				    _("%s does not belong to {{#%s %s}} opened on line %d"),
				    ku_ttag_text(inner.tag), kw, name,
				    tag_line);
			if (rc) {
				ku_tnodes_free(&body);
				ku_tnodes_free(&alt);
				free(name);
				return rc;
			}
			b = ku_tnodes_push(out,
			    tag == KU_TT_IF ? KU_TN_IF : KU_TN_EACH, tag_line);
			b->name = name;
			b->body = body;
			b->alt = alt;
			break;
		}
		case KU_TT_ELSE:
		case KU_TT_END_IF:
		case KU_TT_END_EACH:
			stop->tag = tag;
			stop->line = tag_line;
			return KU_OK;
		case KU_TT_EOF:
			break;
		}
	}
}

/* --- rendering --- */

struct ku_tctx {
	const char *source;
	const struct ku_tvars *vars;
	const struct ku_trecord *items[KU_TPL_MAX_DEPTH];
	size_t n_items;
	char *err;
};

/* What a name resolves to. */
struct ku_tvalue {
	enum ku_tval_kind kind;
	const char *str;
	bool b;
	const struct ku_tvar *list;
};

static ku_rc KU_PRINTF(3, 4)
ku_trender_fail(struct ku_tctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(c->err);
	c->err = xasprintf("%s:%d: %s", c->source, line, msg);
	free(msg);
	return KU_ERR_TEMPLATE;
}

static ku_rc
ku_tresolve(struct ku_tctx *c, const struct ku_tnode *node,
    struct ku_tvalue *val)
{
	const char *name = node->name;

	memset(val, 0, sizeof *val);
	if (name[0] == '.') {
		const struct ku_trecord *item;

		if (c->n_items == 0)
			return ku_trender_fail(c, node->line,
			    _("\"%s\" outside {{#each}}"), name);
		item = c->items[c->n_items - 1];
		if (name[1] == '\0') {
			if (item->str == NULL)
				return ku_trender_fail(c, node->line,
				    _("the item is a record: use {{ .field }}, not {{ . }}"));
			val->kind = KU_TV_STRING;
			val->str = item->str;
			return KU_OK;
		}
		if (item->str != NULL)
			return ku_trender_fail(c, node->line,
			    _("the item is a string: use {{ . }}, not {{ %s }}"),
			    name);
		for (size_t i = 0; i < item->n_fields; i++)
			if (strcmp(item->fields[i].name, name + 1) == 0) {
				val->kind = item->fields[i].kind;
				val->str = item->fields[i].str;
				val->b = item->fields[i].b;
				return KU_OK;
			}
		return ku_trender_fail(c, node->line,
		    _("unknown field \"%s\""), name + 1);
	}
	for (const struct ku_tvars *v = c->vars; v != NULL; v = v->parent) {
		const struct ku_tvar *var = ku_tvars_find_own(v, name);
		if (var == NULL)
			continue;
		val->kind = var->kind;
		val->str = var->str;
		val->b = var->b;
		val->list = var;
		return KU_OK;
	}
	return ku_trender_fail(c, node->line, _("unknown variable \"%s\""),
	    name);
}

/* The next UTF-8 sequence at s: its code point and length, or 0 when it
 * is not well-formed (overlong, surrogate, beyond U+10FFFF, cut short). */
static size_t
ku_utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Appends s escaped for a double-quoted YAML/JSON/TOML string. False
 * when s is not valid UTF-8. */
static bool
ku_escape_quoted(struct ku_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		size_t n = ku_utf8_next(p, &cp);

		if (n == 0)
			return false;
		switch (cp) {
		case '"':
			ku_buf_adds(b, "\\\"");
			break;
		case '\\':
			ku_buf_adds(b, "\\\\");
			break;
		case '\n':
			ku_buf_adds(b, "\\n");
			break;
		case '\t':
			ku_buf_adds(b, "\\t");
			break;
		case '\r':
			ku_buf_adds(b, "\\r");
			break;
		case '\b':
			ku_buf_adds(b, "\\b");
			break;
		case '\f':
			ku_buf_adds(b, "\\f");
			break;
		default:
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			    cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
			    cp == 0xfffe || cp == 0xffff)
				ku_buf_printf(b, "\\u%04X", (unsigned)cp);
			else
				ku_buf_add(b, p, n);
			break;
		}
		p += n;
	}
	return true;
}

static bool
ku_is_plain(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		char ch = *s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (strchr("._-:/@+=,", ch) == NULL)
			return false;
	}
	return true;
}

static bool
ku_tvalue_true(const struct ku_tvalue *val)
{
	switch (val->kind) {
	case KU_TV_BOOL:
		return val->b;
	case KU_TV_STRING:
		return val->str[0] != '\0';
	case KU_TV_LIST:
		return val->list->n_items > 0;
	}
	return false;
}

static ku_rc ku_trender_nodes(struct ku_tctx *c, const struct ku_tnodes *nodes,
    struct ku_buf *out);

/* Every variable the template names, in every branch, must exist: a typo
 * in a branch this spec does not take is still a typo. (Fields of list
 * items are checked as they are rendered.) */
static ku_rc
ku_tcheck_names(struct ku_tctx *c, const struct ku_tnodes *nodes)
{
	ku_rc rc = KU_OK;

	for (size_t i = 0; i < nodes->n && rc == KU_OK; i++) {
		const struct ku_tnode *node = &nodes->v[i];
		const struct ku_tvars *v;

		if (node->kind == KU_TN_TEXT)
			continue;
		if (node->name[0] != '.') {
			for (v = c->vars; v != NULL; v = v->parent)
				if (ku_tvars_find_own(v, node->name) != NULL)
					break;
			if (v == NULL)
				return ku_trender_fail(c, node->line,
				    _("unknown variable \"%s\""), node->name);
		}
		rc = ku_tcheck_names(c, &node->body);
		if (rc == KU_OK)
			rc = ku_tcheck_names(c, &node->alt);
	}
	return rc;
}

static ku_rc
ku_trender_var(struct ku_tctx *c, const struct ku_tnode *node,
    struct ku_buf *out)
{
	struct ku_tvalue val;
	ku_rc rc = ku_tresolve(c, node, &val);

	if (rc)
		return rc;
	if (val.kind != KU_TV_STRING)
		return ku_trender_fail(c, node->line,
		    val.kind == KU_TV_BOOL ?
		    _("\"%s\" is a boolean: use it in {{#if}}") :
		    _("\"%s\" is a list: use it in {{#each}}"), node->name);
	if (node->filter == KU_TF_PLAIN) {
		if (!ku_is_plain(val.str))
			return ku_trender_fail(c, node->line,
			    _("the value of \"%s\" cannot be used unquoted: it must be non-empty and hold only letters, digits and . _ - : / @ + = ,"),
			    node->name);
		ku_buf_adds(out, val.str);
		return KU_OK;
	}
	if (!ku_escape_quoted(out, val.str))
		return ku_trender_fail(c, node->line,
		    _("the value of \"%s\" is not valid UTF-8"), node->name);
	return KU_OK;
}

static ku_rc
ku_trender_nodes(struct ku_tctx *c, const struct ku_tnodes *nodes,
    struct ku_buf *out)
{
	ku_rc rc = KU_OK;

	for (size_t i = 0; i < nodes->n && rc == KU_OK; i++) {
		const struct ku_tnode *node = &nodes->v[i];
		struct ku_tvalue val;

		switch (node->kind) {
		case KU_TN_TEXT:
			ku_buf_add(out, node->text, node->len);
			break;
		case KU_TN_VAR:
			rc = ku_trender_var(c, node, out);
			break;
		case KU_TN_IF:
			rc = ku_tresolve(c, node, &val);
			if (rc)
				break;
			rc = ku_trender_nodes(c, ku_tvalue_true(&val) ?
			    &node->body : &node->alt, out);
			break;
		case KU_TN_EACH:
			rc = ku_tresolve(c, node, &val);
			if (rc)
				break;
			if (val.kind != KU_TV_LIST) {
				rc = ku_trender_fail(c, node->line,
				    _("\"%s\" is not a list"), node->name);
				break;
			}
			/* The parser bounds nesting, so items has room. */
			for (size_t j = 0; j < val.list->n_items && rc == KU_OK;
			    j++) {
				c->items[c->n_items++] = val.list->items[j];
				rc = ku_trender_nodes(c, &node->body, out);
				c->n_items--;
			}
			break;
		}
	}
	return rc;
}

ku_rc
ku_template_render(const char *source, const char *text, size_t len,
    const struct ku_tvars *vars, struct ku_buf *out, char **err)
{
	struct ku_tparser p = {
		.source = source,
		.text = text,
		.len = len,
		.line = 1,
	};
	struct ku_tctx c = { .source = source, .vars = vars };
	struct ku_tnodes nodes = { 0 };
	struct ku_tstop stop;
	struct ku_buf tmp;
	ku_rc rc;

	ku_buf_init(&tmp, 0);
	*err = NULL;
	rc = ku_tparse_nodes(&p, &nodes, 0, &stop);
	if (rc) {
		*err = p.err;
		p.err = NULL;
		goto out;
	}
	if (stop.tag != KU_TT_EOF) {
		rc = ku_tparse_fail(&p, stop.line, _("%s without an opening tag"),
		    ku_ttag_text(stop.tag));
		*err = p.err;
		p.err = NULL;
		goto out;
	}
	rc = ku_tcheck_names(&c, &nodes);
	if (rc == KU_OK)
		rc = ku_trender_nodes(&c, &nodes, &tmp);
	if (rc) {
		*err = c.err;
		c.err = NULL;
		goto out;
	}
	ku_buf_add(out, tmp.data ? tmp.data : "", tmp.len);
out:
	free(p.err);
	free(c.err);
	ku_tnodes_free(&nodes);
	ku_buf_free(&tmp);
	return rc;
}

/* --- the templates --- */

const struct ku_embedded_template *
ku_template_embedded(const char *name)
{
	for (size_t i = 0; i < ku_n_embedded_templates; i++)
		if (strcmp(ku_embedded_templates[i].name, name) == 0)
			return &ku_embedded_templates[i];
	return NULL;
}

ku_rc
ku_template_load(const char *templates_dir, const char *name,
    struct ku_buf *text, char **source, char **err)
{
	const struct ku_embedded_template *t;
	struct ku_buf file;
	char *path = NULL;
	ku_rc rc = KU_OK;

	*source = NULL;
	*err = NULL;
	ku_buf_init(&file, 0);
	if (templates_dir != NULL) {
		path = ku_path_join(templates_dir, name);
		rc = ku_read_file(path, KU_TEMPLATE_MAX_BYTES, &file);
		if (rc == KU_OK) {
			ku_buf_add(text, file.data ? file.data : "", file.len);
			*source = path;
			path = NULL;
			goto out;
		}
		if (errno != ENOENT) {
			if (errno == EFBIG)
				*err = xasprintf(_("%s: larger than %d bytes"),
				    path, KU_TEMPLATE_MAX_BYTES);
			else
				*err = xasprintf("%s: %s", path,
				    strerror(errno));
			rc = KU_ERR_TEMPLATE;
			goto out;
		}
		rc = KU_OK;
	}
	t = ku_template_embedded(name);
	if (t == NULL) {
		*err = xasprintf(_("no template \"%s\""), name);
		rc = KU_ERR_TEMPLATE;
		goto out;
	}
	ku_buf_add(text, t->data, t->len);
	*source = xasprintf("templates/%s", name);
out:
	free(path);
	ku_buf_free(&file);
	return rc;
}
