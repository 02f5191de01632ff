/* Phase 2: Generate certificates. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

/* No substep has an action yet: the engine fails each one loudly as not
 * implemented, naming it, until the issue that brings it fills .run. */
static const struct ku_substep_def ku_certs_substeps[] = {
	{
		.id = "cas",
		.title = N_("Create the cluster, etcd and front-proxy CAs"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "control-plane-certs",
		.title = N_("Create the control plane certificates"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "service-account-key",
		.title = N_("Create the service account key pair"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "kubelet-certs",
		.title = N_("Create the kubelet client and serving certificates"),
		.scope = KU_SCOPE_MACHINES,
	},
	{
		.id = "encryption-key",
		.title = N_("Create the key that encrypts Secrets at rest"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "kubeconfigs",
		.title = N_("Write the kubeconfigs"),
		.scope = KU_SCOPE_CLUSTER,
	},
	{
		.id = "check-chains",
		.title = N_("Every chain, name and usage verifies"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
	},
};

const struct ku_phase_def ku_phase_certs = {
	.id = "2",
	.title = N_("Generate certificates"),
	.substeps = ku_certs_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_certs_substeps),
};
