/* Phase 5: Add daemons. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* kube-proxy through the API; its check runs on every machine. */
static const struct ku_substep_def ku_daemons_substeps[] = {
	{
		.id = "kube-proxy",
		.title = N_("Create the kube-proxy DaemonSet"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_api_apply_kube_proxy,
	},
	{
		.id = "check-service",
		.title = N_("A Service answers on every node"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
		.run = ku_api_check_service,
	},
};

static const char *const ku_daemons_requires[] = { "4.2" };

const struct ku_phase_def ku_phase_daemons = {
	.id = "5",
	.title = N_("Add daemons"),
	.substeps = ku_daemons_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_daemons_substeps),
	.requires = ku_daemons_requires,
	.n_requires = KU_ARRAY_LEN(ku_daemons_requires),
};
