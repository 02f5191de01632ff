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

/* The SHA-256 digests (64 lowercase hex digits) of one architecture's
 * release binaries, as served under dl.k8s.io/release/v<version>/bin/linux/
 * <arch>/. NULL: not pinned (the download is then checked against the
 * server's .sha256 only, with a warning). */
struct ku_version_pins {
	const char *arch;      /* "amd64"; NULL ends the list */
	const char *kubelet;
	const char *kubectl;
};

#define KU_VERSION_MAX_ARCHES 4

struct ku_version {
	const char *version;   /* "1.35.0" */
	bool test_only;        /* refused without allow_unsupported_version */
	const char *note;      /* why it is test-only, or NULL */
	struct ku_version_pins pins[KU_VERSION_MAX_ARCHES];
};

/* The release a new spec gets. */
const char *ku_version_default(void);
/* NULL when the release is not in the table. */
const struct ku_version *ku_version_find(const char *version);
/* The pinned SHA-256 of binary ("kubelet", "kubectl") for arch ("amd64",
 * "arm64") of release v, or NULL when kubeup pins none. v may be NULL. */
const char *ku_version_pin(const struct ku_version *v, const char *arch,
    const char *binary);
/* MAJOR.MINOR.PATCH, digits only, no leading "v", no leading zeros. */
bool ku_version_parse(const char *s, int *major, int *minor, int *patch);

#endif
