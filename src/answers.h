/* answers.conf: reading (libconfig syntax, then every semantic check) and
 * writing a spec back so that reading it again gives the same spec. */
#ifndef KU_ANSWERS_H
#define KU_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

#include "spec.h"
#include "util.h"

/* Largest answers file accepted. */
#define KU_ANSWERS_MAX_BYTES (1024 * 1024)

/* Reads and validates path. On success *out is a new spec. On failure
 * returns KU_ERR_ANSWERS (or KU_ERR_IO for an unreadable file) with every
 * problem in diags, each naming file, line and key. Never exits, never
 * crashes on any input. */
ku_rc ku_answers_read(const char *path, struct ku_spec **out,
    struct ku_diags *diags);

/* What the command line overrides (kubeup up --num-nodes=N,
 * --allow-unsupported-version, --on-failure), applied after parsing and
 * before the checks, so that they are checked like the file's own values. */
struct ku_answers_overrides {
	int node_count;                 /* < 0: not overridden */
	bool allow_unsupported_version; /* false: not overridden */
	int on_failure;                 /* < 0: not overridden */
};

ku_rc ku_answers_read_with(const char *path,
    const struct ku_answers_overrides *ov, struct ku_spec **out,
    struct ku_diags *diags);

/* The same from memory. name is used in messages; relative paths in the
 * file are taken from base_dir. */
ku_rc ku_answers_read_mem(const char *name, const char *data, size_t len,
    const char *base_dir, struct ku_spec **out, struct ku_diags *diags);

/* The spec as answers.conf text, every key written. */
void ku_answers_format(const struct ku_spec *spec, struct ku_buf *out);

/* Writes the spec to path atomically, mode 0600. */
ku_rc ku_answers_write(const struct ku_spec *spec, const char *path);

#endif
