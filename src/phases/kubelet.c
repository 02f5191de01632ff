/* Phase 4.1: Deploy nodes: kubelet. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* Each node on its own: files, kubelet, and its Node in the API. */
static const struct ku_substep_def ku_kubelet_substeps[] = {
	{
		.id = "copy-certs",
		.title = N_("Copy the node's certificates"),
		.scope = KU_SCOPE_NODES,
		.run = ku_place_machine_certs,
	},
	{
		.id = "kubelet",
		.title = N_("Install the kubelet configuration and service"),
		.scope = KU_SCOPE_NODES,
		.run = ku_place_kubelet,
	},
	{
		.id = "start-kubelet",
		.title = N_("Start the kubelet"),
		.scope = KU_SCOPE_NODES,
		.run = ku_start_kubelet,
	},
	{
		.id = "check-registered",
		.title = N_("Every node is registered"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
		.run = ku_api_check_registered,
	},
};

static const char *const ku_kubelet_requires[] = { "3" };

const struct ku_phase_def ku_phase_kubelet = {
	.id = "4.1",
	.title = N_("Deploy nodes: kubelet"),
	.substeps = ku_kubelet_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_kubelet_substeps),
	.requires = ku_kubelet_requires,
	.n_requires = KU_ARRAY_LEN(ku_kubelet_requires),
};
