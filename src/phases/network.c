/* Phase 4.2: Deploy nodes: networking. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* The plugin's manifest is applied once; every machine is then checked
 * on its own, so one unreachable node fails its own substeps. The pod
 * network check of every other machine then fails too, naming it: their
 * test probes never reached its pod, and a retry, once it is back, runs
 * them again. */
static const struct ku_substep_def ku_network_substeps[] = {
	{
		.id = "apply-network",
		.title = N_("Apply the network plugin"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_api_apply_network,
	},
	{
		.id = "check-ready",
		.title = N_("Every node is Ready"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
		.run = ku_api_check_node_ready,
	},
	{
		.id = "test-pod",
		.title = N_("A test pod runs on every machine"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_api_test_pod,
		.exit_check = true,
	},
	{
		.id = "check-pod-network",
		.title = N_("Pods on every node are reachable from every machine"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
		.run = ku_api_check_pod_network,
	},
};

static const char *const ku_network_requires[] = { "4.1" };

const struct ku_phase_def ku_phase_network = {
	.id = "4.2",
	.title = N_("Deploy nodes: networking"),
	.substeps = ku_network_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_network_substeps),
	.requires = ku_network_requires,
	.n_requires = KU_ARRAY_LEN(ku_network_requires),
};
