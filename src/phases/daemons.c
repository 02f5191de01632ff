/* Phase 5: Add daemons. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* No substep has an action yet: the engine fails each one loudly as not
 * implemented, naming it, until the issue that brings it fills .run. */
static const struct ku_substep_def ku_daemons_substeps[] = {
	{
		.id = "kube-proxy",
		.title = N_("Create the kube-proxy DaemonSet"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "check-service",
		.title = N_("A Service answers on every node"),
		.scope = KU_SCOPE_MACHINES,
		.exit_check = true,
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
