/* Phase 3: Deploy the master. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* Files and kubelet on the master; then, through the API (cluster.c),
 * the admins' binding and the phase's exit checks. */
static const struct ku_substep_def ku_master_substeps[] = {
	{
		.id = "copy-certs",
		.title = N_("Copy the certificates"),
		.scope = KU_SCOPE_MASTER,
		.run = ku_place_master_certs,
	},
	{
		.id = "static-pods",
		.title = N_("Place the static pod manifests"),
		.scope = KU_SCOPE_MASTER,
		.run = ku_place_static_pods,
	},
	{
		.id = "kubelet",
		.title = N_("Install the kubelet configuration and service"),
		.scope = KU_SCOPE_MASTER,
		.run = ku_place_kubelet,
	},
	{
		.id = "start-kubelet",
		.title = N_("Start the kubelet"),
		.scope = KU_SCOPE_MASTER,
		.run = ku_start_kubelet,
	},
	{
		.id = "admin-binding",
		.title = N_("Bind the admins' group to cluster-admin"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_api_admin_binding,
	},
	{
		.id = "check-api",
		.title = N_("Create, list and delete a pod"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.run = ku_api_check_pod,
	},
	{
		.id = "check-workload",
		.title = N_("A Deployment and a ReplicationController get their pods"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.run = ku_api_check_workload,
	},
	{
		.id = "check-components",
		.title = N_("Scheduler and controller-manager are healthy"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.run = ku_api_check_components,
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
