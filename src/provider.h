/* A provider brings machines into being (phase 1) and carries commands and
 * files to them. One table entry each: ssh now; gce and aws later. */
#ifndef KU_PROVIDER_H
#define KU_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "spec.h"

struct ku_exec_result {
	int exit_status;
	struct ku_buf out;   /* bounded */
	struct ku_buf err;   /* bounded */
};

struct ku_log;
struct ku_render_set;

/* What a run gives its provider. */
struct ku_provider_env {
	struct ku_log *log;
	const char *state_dir;
	bool purge;                  /* down: remove installed packages too */
};

struct ku_pki;

/* What a run gives the phases' actions (ku_task_deploy()). */
struct ku_deploy {
	const struct ku_spec *spec;
	const char *state_dir;
	const struct ku_render_set *files;
	struct ku_pki *pki;          /* phase 2's context (pki.h) */
};

struct ku_provider {
	const char *name;
	/* Phase 1 for this provider. */
	const struct ku_phase_def *provision;
	/* Per-run state (sessions, facts), made before the engine starts and
	 * freed after; the actions reach it with ku_task_provider_state().
	 * Nothing connects here: connections are the substeps' work. */
	ku_rc (*open)(const struct ku_spec *spec,
	    const struct ku_provider_env *env, void **state, char **err);
	void (*close)(void *state);
	/* Runs a script on a machine (privileged when the spec says sudo). */
	ku_rc (*exec)(struct ku_task *task, const struct ku_machine *m,
	    const char *script, struct ku_exec_result *res);
	/* Places a local file, or len bytes of memory, on a machine with a
	 * mode (owner root). A file the machine has already, byte for byte,
	 * is not sent again; *changed (may be NULL) says whether it was. */
	ku_rc (*upload)(struct ku_task *task, const struct ku_machine *m,
	    const char *local_path, const char *remote_path, mode_t mode,
	    bool *changed);
	ku_rc (*place)(struct ku_task *task, const struct ku_machine *m,
	    const void *data, size_t len, const char *remote_path,
	    mode_t mode, bool *changed);
	/* For the API phases, when kubeup's machine does not reach the
	 * machines directly (routed true: through the jump host): a tunnel
	 * to a service of the machines (the apiserver's address and port)
	 * made the way the machines are reached, carrying the connection
	 * from 127.0.0.1 port client_port that listen_fd accepts (see
	 * struct ku_kube_dialer). *conn goes to hangup once the client's
	 * socket is closed. NULL routed, or false: connect directly. */
	bool (*routed)(const struct ku_spec *spec);
	ku_rc (*dial)(void *state, const char *address, int port,
	    int listen_fd, int client_port, void **conn, char **err);
	void (*hangup)(void *state, void *conn);
	/* The phase that undoes on the machines what an install did (kubeup
	 * down), run by the same engine. */
	const struct ku_phase_def *teardown;
};

const struct ku_provider *ku_provider_get(enum ku_provider_type type);

/* For actions: run a script on, or place a file on, the task's machine
 * through the spec's provider. Failures are recorded with ku_task_fail. */
ku_rc ku_task_exec(struct ku_task *task, const char *script,
    struct ku_exec_result *res);
ku_rc ku_task_upload(struct ku_task *task, const char *local_path,
    const char *remote_path, mode_t mode, bool *changed);
ku_rc ku_task_place(struct ku_task *task, const void *data, size_t len,
    const char *remote_path, mode_t mode, bool *changed);
/* Places the file rendered for the task's machine at path (as listed in
 * render.c); fails naming it when nothing was rendered there. */
ku_rc ku_task_place_rendered(struct ku_task *task, const char *path,
    bool *changed);
/* The run's context for the phases' actions. */
const struct ku_deploy *ku_task_deploy(const struct ku_task *task);
void ku_exec_result_init(struct ku_exec_result *res);
void ku_exec_result_free(struct ku_exec_result *res);

extern const struct ku_provider ku_provider_ssh;

#endif
