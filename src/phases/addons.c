/* Phase 6: Add add-ons. */
#include "config.h"

#include "i18n.h"
#include "phases/phases.h"

static bool
addon_dashboard_enabled(const struct ku_spec *spec)
{
	return spec->addon_dashboard;
}

static bool
addon_dns_enabled(const struct ku_spec *spec)
{
	return spec->addon_dns;
}

static bool
addon_metrics_server_enabled(const struct ku_spec *spec)
{
	return spec->addon_metrics_server;
}

/* No substep has an action yet: the engine fails each one loudly as not
 * implemented, naming it, until the issue that brings it fills .run. */
static const struct ku_substep_def ku_addons_substeps[] = {
	{
		.id = "dns",
		.title = N_("Deploy CoreDNS"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_dns_enabled,
	},
	{
		.id = "dashboard",
		.title = N_("Deploy the dashboard"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_dashboard_enabled,
	},
	{
		.id = "metrics-server",
		.title = N_("Deploy metrics-server"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_metrics_server_enabled,
	},
	{
		.id = "check-addons",
		.title = N_("Every add-on is ready"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
	},
	{
		.id = "check-dns",
		.title = N_("DNS resolves kubernetes.default from a pod"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.enabled = addon_dns_enabled,
	},
};

static const char *const ku_addons_requires[] = { "5" };

const struct ku_phase_def ku_phase_addons = {
	.id = "6",
	.title = N_("Add add-ons"),
	.substeps = ku_addons_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_addons_substeps),
	.requires = ku_addons_requires,
	.n_requires = KU_ARRAY_LEN(ku_addons_requires),
};
