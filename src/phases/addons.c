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

/* The test pods of phases 4.2 and 5 go first; then each selected
 * add-on's manifest is applied, and every add-on waited for (cluster.c). */
static const struct ku_substep_def ku_addons_substeps[] = {
	{
		.id = "remove-checks",
		.title = N_("Remove the test pods and Service of phases 4.2 "
		    "and 5"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_api_remove_checks,
	},
	{
		.id = "dns",
		.title = N_("Deploy CoreDNS"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_dns_enabled,
		.run = ku_api_addon_dns,
	},
	{
		.id = "dashboard",
		.title = N_("Deploy the dashboard"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_dashboard_enabled,
		.run = ku_api_addon_dashboard,
	},
	{
		.id = "metrics-server",
		.title = N_("Deploy metrics-server"),
		.scope = KU_SCOPE_CLUSTER,
		.enabled = addon_metrics_server_enabled,
		.run = ku_api_addon_metrics_server,
	},
	{
		.id = "check-addons",
		.title = N_("Every add-on is ready"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.run = ku_api_check_addons,
	},
	{
		.id = "check-dns",
		.title = N_("DNS resolves kubernetes.default from a pod"),
		.scope = KU_SCOPE_CLUSTER,
		.exit_check = true,
		.enabled = addon_dns_enabled,
		.run = ku_api_check_dns,
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
