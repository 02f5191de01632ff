/* A provider brings machines into being (phase 1) and carries commands and
 * files to them. One table entry each: ssh now; gce and aws later. */
#ifndef KU_PROVIDER_H
#define KU_PROVIDER_H

#include <sys/types.h>

#include "plan.h"
#include "spec.h"

struct ku_exec_result {
	int exit_status;
	struct ku_buf out;   /* bounded */
	struct ku_buf err;   /* bounded */
};

struct ku_provider {
	const char *name;
	/* Phase 1 for this provider. */
	const struct ku_phase_def *provision;
	/* Runs a script on a machine (privileged when the spec says sudo). */
	ku_rc (*exec)(struct ku_task *task, const struct ku_machine *m,
	    const char *script, struct ku_exec_result *res);
	/* Places a local file on a machine with a mode (owner root). */
	ku_rc (*upload)(struct ku_task *task, const struct ku_machine *m,
	    const char *local_path, const char *remote_path, mode_t mode);
};

const struct ku_provider *ku_provider_get(enum ku_provider_type type);

/* For actions: run a script on, or place a file on, the task's machine
 * through the spec's provider. Failures are recorded with ku_task_fail. */
ku_rc ku_task_exec(struct ku_task *task, const char *script,
    struct ku_exec_result *res);
ku_rc ku_task_upload(struct ku_task *task, const char *local_path,
    const char *remote_path, mode_t mode);
void ku_exec_result_init(struct ku_exec_result *res);
void ku_exec_result_free(struct ku_exec_result *res);

extern const struct ku_provider ku_provider_ssh;

#endif
