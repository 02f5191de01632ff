/* The Kubernetes releases kubeup knows, and what differs between them.
 *
 * One small table: a release that is not in it is accepted when it is not
 * older than KU_VERSION_MIN_MINOR (its files are generated as for the newest
 * known release); a test-only release is refused unless the operator asks
 * for it explicitly. Later changes add per-release checksums, flags and
 * probe paths here, never as scattered if-statements.
 */
#ifndef KU_VERSIONS_H
#define KU_VERSIONS_H

#include <stdbool.h>

#define KU_VERSION_MIN_MAJOR 1
#define KU_VERSION_MIN_MINOR 35

struct ku_version {
	const char *version;   /* "1.35.0" */
	bool test_only;        /* refused without allow_unsupported_version */
	const char *note;      /* why it is test-only, or NULL */
};

/* The release a new spec gets. */
const char *ku_version_default(void);
/* NULL when the release is not in the table. */
const struct ku_version *ku_version_find(const char *version);
/* MAJOR.MINOR.PATCH, digits only, no leading "v", no leading zeros. */
bool ku_version_parse(const char *s, int *major, int *minor, int *patch);

#endif
