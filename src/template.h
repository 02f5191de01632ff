/* A small, strict template renderer for the files kubeup places.
 *
 * Syntax. Everything outside {{ }} is copied as is. A tag starts with "{{",
 * ends with "}}" on the same line, and is one of:
 *
 *   {{ name }}            the value of a string variable, escaped (see below)
 *   {{ name | plain }}    the value, unescaped but checked (see below)
 *   {{#if name}} ... {{else}} ... {{/if}}
 *                         true when the variable is a true boolean, a
 *                         non-empty string or a non-empty list; {{else}} is
 *                         optional
 *   {{#each list}} ... {{/each}}
 *                         the body once per item, in order
 *   {{ . }}               inside #each over strings: the item
 *   {{ .field }}          inside #each over records: one of its fields
 *                         (also in {{#if .field}})
 *
 * Names are [a-z0-9_]+. Blocks nest (up to 16 deep). A block tag alone on
 * its line (only blanks around it) takes the whole line with it, so
 * templates can put {{#if}} on lines of their own without leaving blank
 * lines behind. A template cannot contain a literal "{{".
 *
 * Escaping: the rule is "values go inside double quotes".
 *   - {{ name }} is only allowed where the template has opened a
 *     double-quoted string on the same line: an odd number of '"' (not
 *     counting \") before the tag, as in  image: "{{ image_etcd }}"  or
 *     - "--service-cluster-ip-range={{ service_cidr }}". Anything else is
 *     refused when the template is parsed. The value is escaped for a
 *     double-quoted string in the common subset of YAML, JSON and TOML:
 *     \" \\ \n \t \r \b \f, \uXXXX for every other control character,
 *     DEL, C1 controls, U+2028/U+2029, U+FEFF and U+FFFE/U+FFFF; other
 *     UTF-8 is kept; a value that is not valid UTF-8 is refused. So a value
 *     with quotes, newlines, colons, "{{" or "---" stays one scalar on one
 *     line (values are never parsed as templates).
 *   - {{ name | plain }} is for places that are not quoted strings (a
 *     systemd unit, a Corefile, a number). The value must be non-empty and
 *     made only of A-Z a-z 0-9 . _ - : / @ + = , which can neither end a
 *     token nor start a comment, a quote, a line or a document; anything
 *     else is refused at render time.
 *
 * Errors (KU_ERR_TEMPLATE) name the template and the line:
 * "templates/manifests/etcd.yaml:12: unknown variable \"etc_image\"".
 * Every variable named anywhere in the template must exist, also in a
 * branch that is not taken; the fields of list items are checked as the
 * items are rendered.
 * Output depends only on the template and the variables.
 */
#ifndef KU_TEMPLATE_H
#define KU_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

/* --- variables --- */

struct ku_tvars;
struct ku_trecord;

/* A new, empty set. Names not found in it are looked up in parent (may be
 * NULL), which is borrowed and must outlive it. */
struct ku_tvars *ku_tvars_new(const struct ku_tvars *parent);
void ku_tvars_free(struct ku_tvars *vars);

/* Each setter replaces any earlier value of that name, whatever its kind.
 * Strings are copied. */
void ku_tvars_set(struct ku_tvars *vars, const char *name, const char *value);
void ku_tvars_setf(struct ku_tvars *vars, const char *name, const char *fmt,
    ...) KU_PRINTF(3, 4);
void ku_tvars_set_bool(struct ku_tvars *vars, const char *name, bool value);
/* An empty list (so that {{#each name}} renders nothing). */
void ku_tvars_set_list(struct ku_tvars *vars, const char *name);
/* Appends to the list name (made an empty list first if it is not one). */
void ku_tvars_list_add(struct ku_tvars *vars, const char *list,
    const char *item);
/* Appends an empty record; the returned handle lives as long as vars. */
struct ku_trecord *ku_tvars_list_add_record(struct ku_tvars *vars,
    const char *list);
void ku_trecord_set(struct ku_trecord *rec, const char *field,
    const char *value);
void ku_trecord_set_bool(struct ku_trecord *rec, const char *field,
    bool value);

/* --- rendering --- */

/* Renders text (len bytes) with vars and appends the result to out.
 * source names the template in messages ("templates/kubelet/config.yaml").
 * On failure nothing is appended, *err (caller frees) says where and why. */
ku_rc ku_template_render(const char *source, const char *text, size_t len,
    const struct ku_tvars *vars, struct ku_buf *out, char **err);

/* --- the templates --- */

/* The templates compiled into the program (src/templates-embedded.c,
 * generated from templates/ by build-aux/embed-templates.awk). */
struct ku_embedded_template {
	const char *name;   /* "manifests/etcd.yaml": relative to templates/ */
	const char *data;   /* len bytes, NUL-terminated as well */
	size_t len;
};

extern const struct ku_embedded_template ku_embedded_templates[];
extern const size_t ku_n_embedded_templates;

/* NULL when there is no such template. */
const struct ku_embedded_template *ku_template_embedded(const char *name);

/* Largest template file read from a --templates folder. */
#define KU_TEMPLATE_MAX_BYTES (4 * 1024 * 1024)

/* The text of template name ("addons/coredns.yaml"): templates_dir/name
 * when templates_dir is not NULL and holds that file, else the embedded
 * one. Appends it to text and sets *source (caller frees) to the name to
 * use in messages: the file's path, or "templates/<name>". */
ku_rc ku_template_load(const char *templates_dir, const char *name,
    struct ku_buf *text, char **source, char **err);

#endif
