/* Phase 2: Generate certificates, on the operator's machine, into the state
 * directory (pki.c does the work; see pki.h for the layout). No machine is
 * touched. */
#include "config.h"

#include <stdlib.h>

#include "i18n.h"
#include "phases/phases.h"
#include "pki.h"
#include "provider.h"

typedef ku_rc (*ku_pki_step_fn)(struct ku_pki *pki,
    struct ku_pki_report *rep, char **err);

/* The run's PKI context (run.c makes one, so that algorithms are fetched
 * and CAs loaded once per run); a context of its own when there is none. */
static ku_rc
ku_certs_step(struct ku_task *task, ku_pki_step_fn fn)
{
	const struct ku_deploy *d = ku_task_deploy(task);
	struct ku_pki *shared = d ? d->pki : NULL;
	struct ku_pki *pki = shared ? shared :
	    ku_pki_new(ku_task_spec(task), ku_task_state_dir(task));
	const struct ku_machine *m = ku_task_machine(task);
	struct ku_pki_report rep = { 0 };
	char *err = NULL;
	ku_rc rc;

	if (ku_task_cancelled(task))
		rc = KU_ERR_INTERRUPTED;
	else if (m)
		rc = ku_pki_machine(pki, m, &rep, &err);
	else
		rc = fn(pki, &rep, &err);
	for (size_t i = 0; i < rep.warnings.n; i++)
		ku_task_log(task, KU_LOG_WARN, "%s", rep.warnings.v[i]);
	for (size_t i = 0; i < rep.written.n; i++)
		ku_task_log(task, KU_LOG_DEBUG, "wrote %s", rep.written.v[i]);
	ku_task_log(task, KU_LOG_INFO, "%zu files written, %zu warnings",
	    rep.written.n, rep.warnings.n);
	if (rc != KU_OK && rc != KU_ERR_INTERRUPTED)
		rc = ku_task_fail(task, rc, "%s", err ? err : ku_strerror(rc));
	ku_pki_report_free(&rep);
	free(err);
	if (shared == NULL)
		ku_pki_free(pki);
	return rc;
}

static ku_rc
ku_certs_cas(struct ku_task *task)
{
	return ku_certs_step(task, ku_pki_cas);
}

static ku_rc
ku_certs_control_plane(struct ku_task *task)
{
	return ku_certs_step(task, ku_pki_control_plane);
}

static ku_rc
ku_certs_service_account(struct ku_task *task)
{
	return ku_certs_step(task, ku_pki_service_account);
}

/* Per machine: ku_certs_step calls ku_pki_machine for the task's
 * machine. */
static ku_rc
ku_certs_kubelet(struct ku_task *task)
{
	return ku_certs_step(task, NULL);
}

static ku_rc
ku_certs_encryption(struct ku_task *task)
{
	return ku_certs_step(task, ku_pki_encryption_config);
}

static ku_rc
ku_certs_kubeconfigs(struct ku_task *task)
{
	return ku_certs_step(task, ku_pki_kubeconfigs);
}

static ku_rc
ku_certs_check(struct ku_task *task)
{
	const struct ku_deploy *d = ku_task_deploy(task);
	struct ku_pki *shared = d ? d->pki : NULL;
	struct ku_pki *pki = shared ? shared :
	    ku_pki_new(ku_task_spec(task), ku_task_state_dir(task));
	struct ku_strv problems = { 0 };
	ku_rc rc = ku_pki_check(pki, &problems);

	for (size_t i = 0; i < problems.n; i++)
		ku_task_log(task, KU_LOG_ERROR, "%s", problems.v[i]);
	if (problems.n == 1)
		rc = ku_task_fail(task, KU_ERR_CHECK, "%s", problems.v[0]);
	else if (problems.n > 1)
		rc = ku_task_fail(task, KU_ERR_CHECK, ngettext("%s; and %zu "
		    "more problem, listed in the log", "%s; and %zu more "
		    "problems, listed in the log", problems.n - 1),
		    problems.v[0], problems.n - 1);
	ku_strv_free(&problems);
	if (shared == NULL)
		ku_pki_free(pki);
	return rc;
}

static const struct ku_substep_def ku_certs_substeps[] = {
	{
		.id = "cas",
		.title = N_("Create the cluster, etcd and front-proxy CAs"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_cas,
	},
	{
		.id = "control-plane-certs",
		.title = N_("Create the control plane certificates"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_control_plane,
	},
	{
		.id = "service-account-key",
		.title = N_("Create the service account key pair"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_service_account,
	},
	{
		/* The kubelet's kubeconfig too: it holds the same client
		 * pair, and each machine's work stays its own. */
		.id = "kubelet-certs",
		.title = N_("Create the kubelet client and serving certificates"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_certs_kubelet,
	},
	{
		.id = "encryption-key",
		.title = N_("Create the key that encrypts Secrets at rest"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_encryption,
	},
	{
		.id = "kubeconfigs",
		.title = N_("Write the kubeconfigs"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_kubeconfigs,
	},
	{
		.id = "check-chains",
		.title = N_("Every chain, name and usage verifies"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_certs_check,
		.exit_check = true,
	},
};

const struct ku_phase_def ku_phase_certs = {
	.id = "2",
	.title = N_("Generate certificates"),
	.substeps = ku_certs_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_certs_substeps),
};
