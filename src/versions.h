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

/* The images whose tags do not follow the cluster's version. */
enum ku_version_image {
	KU_VIMG_ETCD,
	KU_VIMG_PAUSE,
	KU_VIMG_COREDNS,
	KU_VIMG_FLANNEL,
	KU_VIMG_FLANNEL_CNI,
	KU_VIMG_CALICO,
	KU_VIMG_DASHBOARD,
	KU_VIMG_METRICS_SCRAPER,
	KU_VIMG_METRICS_SERVER,
	/* busybox, for the pods of kubeup's own exit checks */
	KU_VIMG_CHECK,
	KU_VIMG__COUNT
};

struct ku_version {
	const char *version;   /* "1.35.0" */
	bool test_only;        /* refused without allow_unsupported_version */
	const char *note;      /* why it is test-only, or NULL */
	struct ku_version_pins pins[KU_VERSION_MAX_ARCHES];
	/* Tags of the images that go with this release (kubeadm's choices
	 * for etcd, pause and CoreDNS; the add-ons' releases of that time). */
	const char *tags[KU_VIMG__COUNT];

	/* What the generated files must do differently for this release.
	 * Each is false for current releases. */
	/* The apiserver's insecure port (8080) and the scheduler's and
	 * controller-manager's plain-HTTP ports listen unless closed with
	 * --insecure-port=0 / --port=0 (both flags gone in current ones). */
	bool close_insecure_ports;
	/* The scheduler serves /healthz only: no /livez or /readyz. */
	bool scheduler_healthz_only;
	/* The kubelet ignores containerRuntimeEndpoint in its configuration
	 * file and needs --container-runtime=remote and
	 * --container-runtime-endpoint on its command line. */
	bool kubelet_runtime_flags;
	/* The kubelet configuration has no registerWithTaints field: the
	 * master's taint goes on the command line (--register-with-taints). */
	bool kubelet_taints_flag;
	/* etcd of this release (3.4) spells the corruption check and the
	 * watch progress interval as --experimental-* flags, and its
	 * metrics port serves /health only (no /livez, /readyz). */
	bool etcd_3_4;
};

/* The entry whose generated files a release gets: its own, or for a
 * release not in the table, the newest known. Never NULL. */
const struct ku_version *ku_version_profile(const char *version);

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
