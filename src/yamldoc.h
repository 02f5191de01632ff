/* Reading YAML (libyaml) into json-c objects.
 *
 * kubeup reads two kinds of YAML: kubeconfigs, and the manifests it applies
 * to the cluster (rendered templates, or an operator's own file). For a
 * manifest it needs each document twice: as an object, to learn what it is
 * (apiVersion, kind, metadata), and as the document's own text, which is
 * what goes to the apiserver (server-side apply takes YAML), so that the
 * server, not kubeup, decides what each scalar means.
 *
 * Scalars become JSON values by YAML 1.2's core schema when they are plain
 * (unquoted, untagged): null, true/false, integers, floats; everything else
 * is a string. Anchors and aliases are refused (no manifest needs them, and
 * they are how "billion laughs" documents grow). Nesting is limited.
 */
#ifndef KU_YAMLDOC_H
#define KU_YAMLDOC_H

#include <stddef.h>

#include <json-c/json.h>

#include "error.h"

struct ku_yaml_doc {
	json_object *obj;    /* owned; never NULL (empty documents are left out) */
	char *text;          /* the document's own text, NUL-terminated */
	size_t len;
	int line;            /* where it starts in the input, 1-based */
};

struct ku_yaml_docs {
	struct ku_yaml_doc *v;
	size_t n;
};

/* Every non-empty document of data. origin names the input in errors
 * ("network/flannel.yaml"); *err (caller frees) then reads
 * "<origin>:<line>:<column>: <problem>". */
ku_rc ku_yaml_parse(const char *data, size_t len, const char *origin,
    struct ku_yaml_docs *out, char **err);
void ku_yaml_docs_free(struct ku_yaml_docs *docs);

/* The string at a dotted path of plain keys ("metadata.name"), or NULL
 * when any part is missing or the value is not a string. Borrowed. */
const char *ku_json_str(json_object *obj, const char *path);
/* The object at a dotted path, or NULL. Borrowed. */
json_object *ku_json_get(json_object *obj, const char *path);
/* The integer at a dotted path; def when missing or not a number. */
int64_t ku_json_int(json_object *obj, const char *path, int64_t def);
/* The length of an array; 0 for NULL or anything else. */
size_t ku_json_len(json_object *arr);

#endif
