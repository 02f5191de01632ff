/* The ssh provider: machines that exist already, reached over SSH.
 *
 * Phase 1 (connect, host keys, the node conformance check, the container
 * runtime, kubelet and kubectl) and the SSH transport are not written yet:
 * every substep and every transport call fails loudly as not implemented,
 * naming what it would have done. */
#include "config.h"

#include "engine.h"
#include "i18n.h"
#include "provider.h"

static ku_rc
ku_ssh_exec(struct ku_task *task, const struct ku_machine *m,
    const char *script, struct ku_exec_result *res)
{
	return ku_task_fail(task, KU_ERR_NOT_IMPLEMENTED,
	    _("%s (%s): running a command over SSH is not implemented yet"),
	    m->name, m->address);
}

static ku_rc
ku_ssh_upload(struct ku_task *task, const struct ku_machine *m,
    const char *local_path, const char *remote_path, mode_t mode)
{
	return ku_task_fail(task, KU_ERR_NOT_IMPLEMENTED,
	    _("%s (%s): upload %s: SSH uploads are not implemented yet"),
	    m->name, m->address, remote_path);
}

static const struct ku_substep_def ku_ssh_provision_substeps[] = {
	{
		.id = "fetch-binaries",
		.title = N_("Download kubelet and kubectl (checksums verified)"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "connect",
		.title = N_("Connect and verify host keys"),
		.scope = KU_SCOPE_MACHINES,
	},
	{
		.id = "conformance",
		.title = N_("Check the node specification"),
		.scope = KU_SCOPE_MACHINES,
	},
	{
		.id = "runtime",
		.title = N_("Install the container runtime and prerequisites"),
		.scope = KU_SCOPE_MACHINES,
	},
	{
		.id = "upload-binaries",
		.title = N_("Upload kubelet and kubectl"),
		.scope = KU_SCOPE_MACHINES,
	},
	{
		.id = "check-container",
		.title = N_("Run a test container"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
	},
	{
		.id = "check-reach",
		.title = N_("Reach every other machine"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
	},
};

static const struct ku_phase_def ku_ssh_provision = {
	.id = "1",
	.title = N_("Provision machines"),
	.substeps = ku_ssh_provision_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_ssh_provision_substeps),
};

const struct ku_provider ku_provider_ssh = {
	.name = "ssh",
	.provision = &ku_ssh_provision,
	.exec = ku_ssh_exec,
	.upload = ku_ssh_upload,
};
