/* The operator's decisions: everything an install needs, validated once.
 *
 * answers.c reads and writes it as answers.conf; the wizard fills the same
 * struct and validates it with ku_spec_validate(), so both front ends give
 * the same messages. Strings are owned by the spec.
 */
#ifndef KU_SPEC_H
#define KU_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

enum ku_provider_type { KU_PROVIDER_SSH };
enum ku_net_plugin { KU_NET_FLANNEL, KU_NET_CALICO, KU_NET_CUSTOM };
enum ku_hostkey_policy { KU_HOSTKEY_STRICT, KU_HOSTKEY_ACCEPT_NEW };
enum ku_runtime { KU_RUNTIME_CONTAINERD };
/* Who manages the pods' cgroups: systemd on machines that run it. */
enum ku_cgroup_driver { KU_CGROUP_SYSTEMD, KU_CGROUP_CGROUPFS };
enum ku_on_failure { KU_ON_FAILURE_ABORT, KU_ON_FAILURE_SKIP };
enum ku_key_type {
	KU_KEY_ECDSA_P256,
	KU_KEY_RSA_2048,
	KU_KEY_RSA_3072,
	KU_KEY_RSA_4096
};

/* One machine reached over SSH. user, port, key_file and sudo start as the
 * provider's defaults and may be overridden per machine. */
struct ku_machine {
	char *name;       /* DNS-1123 label; the Node's name, in certificates */
	char *address;    /* IPv4 or IPv6 literal */
	char *user;
	int port;
	char *key_file;   /* absolute once read; NULL: ssh-agent only */
	bool sudo;        /* run privileged commands through sudo */
	int line;         /* where it was declared in answers.conf, 0 if not */
};

struct ku_jump_host {
	char *address;
	int port;
	char *user;
	char *key_file;
};

struct ku_ssh {
	char *user;                 /* default "root" */
	int port;                   /* default 22 */
	char *key_file;             /* default NULL: ssh-agent */
	bool sudo;                  /* default false */
	char *sudo_password_file;   /* batch: read once, never logged */
	char *sudo_password_env;    /* batch: name of an environment variable */
	/* The wizard's, typed in: held in memory only (no answers key, so
	 * never written, compared or logged), wiped when freed. It comes
	 * before the file and the variable. */
	char *sudo_password;
	char *known_hosts;          /* default ~/.ssh/known_hosts */
	enum ku_hostkey_policy host_key_policy; /* default strict */
	int connect_timeout;        /* seconds, default 10 */
	int command_timeout;        /* seconds, default 600 */
	int keepalive;              /* seconds, default 15 */
	struct ku_jump_host *jump;  /* NULL: direct */
};

struct ku_spec {
	/* cluster */
	char *name;                 /* DNS-1123 label, default "kubeup" */
	char *version;              /* "1.35.0" */
	bool allow_unsupported_version;
	char *pod_cidr;             /* default 10.244.0.0/16 */
	char *service_cidr;         /* default 10.96.0.0/12 */
	char *dns_domain;           /* default cluster.local */
	struct ku_strv api_sans;    /* extra SANs for the apiserver */
	int node_count;

	/* provider */
	enum ku_provider_type provider;
	struct ku_ssh ssh;

	/* machines (ssh provider) */
	struct ku_machine master;
	struct ku_machine *nodes;
	size_t n_nodes;

	/* network */
	enum ku_net_plugin plugin;
	char *custom_manifest;      /* plugin custom: absolute path */

	/* add-ons */
	bool addon_dns;
	bool addon_dashboard;
	bool addon_metrics_server;

	enum ku_runtime runtime;
	enum ku_cgroup_driver cgroup_driver; /* default systemd */

	/* images */
	char *registry;             /* default registry.k8s.io */
	char *registry_ca_file;

	/* downloads */
	char *download_base_url;    /* default https://dl.k8s.io/release */
	char *download_ca_file;
	char *download_cache_dir;   /* default $XDG_CACHE_HOME/kubeup */

	/* pki */
	enum ku_key_type key_type;

	/* engine */
	int parallelism;            /* default 32, 1..1024 */
	int retries;                /* automatic retries of a failed target, default 2 */
	int retry_backoff_ms;       /* first pause, doubled each time, default 2000 */
	int retry_backoff_max_ms;   /* cap, default 30000 */
	enum ku_on_failure on_failure; /* batch, when a substep still fails */
	int wait_timeout;           /* seconds the cluster may take to reach a
	                               state (apiserver up, Node Ready, a
	                               workload ready), default 300 */

	/* Where the spec came from (the answers file's path), or NULL. */
	char *source;
};

/* One problem found in answers. line is 0 when not from a file. */
struct ku_diag {
	char *file;
	int line;
	char *key;      /* "network.plugin" */
	char *message;  /* translated; names what is allowed */
};

struct ku_diags {
	struct ku_diag *v;
	size_t n;
	size_t cap;
};

void ku_diags_add(struct ku_diags *d, const char *file, int line,
    const char *key, const char *fmt, ...) KU_PRINTF(5, 6);
void ku_diags_free(struct ku_diags *d);
/* "answers.conf:14: network.plugin: ..." (file and line left out when
 * unknown). Caller frees. */
char *ku_diag_format(const struct ku_diag *d);

/* A spec holding every default; machines empty. */
struct ku_spec *ku_spec_new(void);
void ku_spec_free(struct ku_spec *spec);
struct ku_spec *ku_spec_dup(const struct ku_spec *spec);
/* Replaces the typed-in sudo password (NULL or "": none), wiping the old
 * one. */
void ku_spec_set_sudo_password(struct ku_spec *spec, const char *pw);
/* The sudo password (caller frees, and should wipe): the one typed in,
 * else the environment variable's, else the file's first line; NULL
 * when none is named. An unset variable or unreadable file is an error
 * naming its key. */
ku_rc ku_spec_sudo_password(const struct ku_spec *spec, char **out,
    char **err);

/* Every semantic check (the same ones reading applies after parsing).
 * Returns KU_OK or KU_ERR_ANSWERS with every problem in diags. */
ku_rc ku_spec_validate(const struct ku_spec *spec, struct ku_diags *diags);

/* The keys (dotted, as in answers.conf: "machines.nodes[1].address") whose
 * values differ between a and b. */
void ku_spec_diff(const struct ku_spec *a, const struct ku_spec *b,
    struct ku_strv *keys);

/* Machines by index: 0 is the master, 1..n_nodes the nodes. */
size_t ku_spec_n_machines(const struct ku_spec *spec);
const struct ku_machine *ku_spec_machine(const struct ku_spec *spec, size_t i);

/* With a jump host: the ssh command (quoted for a POSIX shell) that
 * forwards 127.0.0.1:6443 on the operator's machine to the apiserver
 * through it, for kubectl where only the jump host is reachable; NULL
 * without one. The caller frees it. */
char *ku_spec_api_forward(const struct ku_spec *spec);

const char *ku_net_plugin_name(enum ku_net_plugin p);
const char *ku_provider_name(enum ku_provider_type p);
const char *ku_key_type_name(enum ku_key_type k);

#endif
