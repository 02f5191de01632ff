/* Phase 3: Deploy the master. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* No substep has an action yet: the engine fails each one loudly as not
 * implemented, naming it, until the issue that brings it fills .run. */
static const struct ku_substep_def ku_master_substeps[] = {
	{
		.id = "copy-certs",
		.title = N_("Copy the certificates"),
		.scope = KU_SCOPE_MASTER,
	},
	{
		.id = "static-pods",
		.title = N_("Place the static pod manifests"),
		.scope = KU_SCOPE_MASTER,
	},
	{
		.id = "kubelet",
		.title = N_("Install the kubelet configuration and service"),
		.scope = KU_SCOPE_MASTER,
	},
	{
		.id = "start-kubelet",
		.title = N_("Start the kubelet"),
		.scope = KU_SCOPE_MASTER,
	},
	{
		.id = "admin-binding",
		.title = N_("Bind the admins' group to cluster-admin"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "check-api",
		.title = N_("Create, list and delete a pod"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
	},
	{
		.id = "check-workload",
		.title = N_("A Deployment and a ReplicationController get their pods"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
	},
	{
		.id = "check-components",
		.title = N_("Scheduler and controller-manager are healthy"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
	},
};

static const char *const ku_master_requires[] = { "1", "2" };

const struct ku_phase_def ku_phase_master = {
	.id = "3",
	.title = N_("Deploy the master"),
	.substeps = ku_master_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_master_substeps),
	.requires = ku_master_requires,
	.n_requires = KU_ARRAY_LEN(ku_master_requires),
};
