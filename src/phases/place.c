/* What phases 3 and 4.1 place on a machine: its certificates and
 * kubeconfigs from the state directory (made in phase 2), the rendered
 * static pod manifests and kubelet files, and the kubelet started as a
 * service. The paths are those of a kubeadm-built cluster; an unchanged
 * file is not sent again. The super-admin credentials and the CAs' keys
 * other than the cluster CA's (which the controller-manager signs with)
 * never leave the state directory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "phases/phases.h"
#include "provider.h"
#include "shell.h"
#include "util.h"

/* One file from the state directory: its path there (with "%s" for the
 * machine's name, at most once) and on the machine. */
struct ku_copy {
	const char *local;
	const char *remote;
	mode_t mode;
};

#define KU_CERT(name) \
	{ "pki/" name ".crt", "/etc/kubernetes/pki/" name ".crt", 0644 }, \
	{ "pki/" name ".key", "/etc/kubernetes/pki/" name ".key", 0600 }

/* Every machine's: the CA its kubelet trusts, its serving certificate and
 * its kubeconfig (with its client certificate embedded). */
static const struct ku_copy ku_machine_files[] = {
	{ "pki/ca.crt", "/etc/kubernetes/pki/ca.crt", 0644 },
	{ "pki/nodes/%s/kubelet.crt", "/var/lib/kubelet/pki/kubelet.crt", 0644 },
	{ "pki/nodes/%s/kubelet.key", "/var/lib/kubelet/pki/kubelet.key", 0600 },
	{ "kubeconfig/kubelet/%s.conf", "/etc/kubernetes/kubelet.conf", 0600 },
};

/* The control plane's, on the master only. */
static const struct ku_copy ku_master_files[] = {
	{ "pki/ca.key", "/etc/kubernetes/pki/ca.key", 0600 },
	KU_CERT("apiserver"),
	KU_CERT("apiserver-kubelet-client"),
	KU_CERT("apiserver-etcd-client"),
	{ "pki/front-proxy-ca.crt", "/etc/kubernetes/pki/front-proxy-ca.crt",
	  0644 },
	KU_CERT("front-proxy-client"),
	{ "pki/sa.key", "/etc/kubernetes/pki/sa.key", 0600 },
	{ "pki/sa.pub", "/etc/kubernetes/pki/sa.pub", 0644 },
	{ "pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/ca.crt", 0644 },
	KU_CERT("etcd/server"),
	KU_CERT("etcd/peer"),
	KU_CERT("etcd/healthcheck-client"),
	{ "pki/encryption-config.yaml",
	  "/etc/kubernetes/encryption-config.yaml", 0600 },
	{ "kubeconfig/controller-manager.conf",
	  "/etc/kubernetes/controller-manager.conf", 0600 },
	{ "kubeconfig/scheduler.conf", "/etc/kubernetes/scheduler.conf",
	  0600 },
};

/* The rendered files of the master's static pods. */
static const char *const ku_static_pod_files[] = {
	"/etc/kubernetes/audit-policy.yaml",
	"/etc/kubernetes/manifests/etcd.yaml",
	"/etc/kubernetes/manifests/kube-apiserver.yaml",
	"/etc/kubernetes/manifests/kube-controller-manager.yaml",
	"/etc/kubernetes/manifests/kube-scheduler.yaml",
};

static ku_rc
ku_copy_files(struct ku_task *t, const struct ku_copy *files, size_t n)
{
	const struct ku_deploy *d = ku_task_deploy(t);
	const char *name = ku_task_target(t);
	size_t sent = 0;

	for (size_t i = 0; i < n; i++) {
		const char *at = strstr(files[i].local, "%s");
		char *rel = at ? xasprintf("%.*s%s%s",
		    (int)(at - files[i].local), files[i].local, name, at + 2) :
		    xstrdup(files[i].local);
		char *local = ku_path_join(d->state_dir, rel);
		bool changed = false;
		ku_rc rc;

		if (!ku_path_exists(local)) {
			rc = ku_task_fail(t, KU_ERR_IO, _("%s is missing: run "
			    "phase 2 (kubeup --batch ANSWERS --phases 2) to "
			    "make it"), local);
			free(local);
			free(rel);
			return rc;
		}
		rc = ku_task_upload(t, local, files[i].remote, files[i].mode,
		    &changed);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, "%s: %s", files[i].remote,
			    changed ? "placed" : "unchanged");
		sent += changed;
		free(local);
		free(rel);
		if (rc != KU_OK)
			return rc;
	}
	ku_task_log(t, KU_LOG_INFO, ngettext("%zu file placed, the others "
	    "unchanged", "%zu files placed, the others unchanged", sent),
	    sent);
	return KU_OK;
}

ku_rc
ku_place_machine_certs(struct ku_task *t)
{
	return ku_copy_files(t, ku_machine_files,
	    KU_ARRAY_LEN(ku_machine_files));
}

ku_rc
ku_place_master_certs(struct ku_task *t)
{
	ku_rc rc = ku_copy_files(t, ku_master_files,
	    KU_ARRAY_LEN(ku_master_files));

	return rc == KU_OK ? ku_place_machine_certs(t) : rc;
}

/* The kubelet restarts a static pod whose manifest changed, but not one
 * whose certificates or kubeconfig did: the apiserver would go on
 * serving its old certificate for a while, and phase 3's checks prove
 * the old one. So each component's files are digested on the machine,
 * next to the digest of the files it was last (re)started with; when they
 * differ, its running container is stopped (SIGTERM, then SIGKILL after
 * 30 s) and the kubelet starts it again on the new files. A first install
 * has no container yet and records the digests only. A digest is written
 * only after the container it concerns has stopped, so a failed or
 * interrupted restart is done again by the next run. The files are
 * kubeup's own (those copy-certs and this substep place). */
static const char ku_restart_script[] =
	"set -eu\n"
	"export LC_ALL=C\n"
	"mkdir -p /var/lib/kubeup\n"
	"chmod 0700 /var/lib/kubeup\n"
	"P=/etc/kubernetes/pki\n"
	"running() {\n"
	"  ctr -n k8s.io tasks ls 2>/dev/null | awk -v id=\"$1\" "
	    "'$1 == id && $3 == \"RUNNING\" { f = 1 } END { exit !f }'\n"
	"}\n"
	"restart() {\n"
	"  name=$1; shift\n"
	"  want=$(for f in \"$@\"; do printf '%s ' \"$f\"; "
	    "sha256sum < \"$f\" 2>/dev/null || echo none; done | "
	    "sha256sum | cut -d' ' -f1)\n"
	"  have=$(cat \"/var/lib/kubeup/$name.sha256\" 2>/dev/null || true)\n"
	"  [ \"$want\" != \"$have\" ] || return 0\n"
	"  ids=$(ctr -n k8s.io containers ls -q "
	    "\"labels.\\\"io.kubernetes.container.name\\\"==$name\")\n"
	"  for id in $ids; do\n"
	"    running \"$id\" || continue\n"
	"    echo \"$name: its files changed: restarting it (container $id)\"\n"
	"    ctr -n k8s.io tasks kill -s SIGTERM \"$id\"\n"
	"    i=0\n"
	"    while running \"$id\"; do\n"
	"      i=$((i + 1))\n"
	"      if [ $i -eq 60 ]; then\n"
	"        ctr -n k8s.io tasks kill -s SIGKILL \"$id\" || true\n"
	"      elif [ $i -ge 80 ]; then\n"
	"        echo \"$name (container $id) does not stop\" >&2\n"
	"        exit 1\n"
	"      fi\n"
	"      sleep 0.5\n"
	"    done\n"
	"  done\n"
	"  echo \"$want\" > \"/var/lib/kubeup/$name.sha256\"\n"
	"}\n"
	"restart etcd $P/etcd/ca.crt $P/etcd/server.crt $P/etcd/server.key "
	    "$P/etcd/peer.crt $P/etcd/peer.key\n"
	"restart kube-apiserver $P/ca.crt $P/apiserver.crt $P/apiserver.key "
	    "$P/apiserver-kubelet-client.crt $P/apiserver-kubelet-client.key "
	    "$P/apiserver-etcd-client.crt $P/apiserver-etcd-client.key "
	    "$P/front-proxy-ca.crt $P/front-proxy-client.crt "
	    "$P/front-proxy-client.key $P/sa.pub $P/sa.key $P/etcd/ca.crt "
	    "/etc/kubernetes/encryption-config.yaml "
	    "/etc/kubernetes/audit-policy.yaml\n"
	"restart kube-controller-manager /etc/kubernetes/controller-manager.conf "
	    "$P/ca.crt $P/ca.key $P/sa.key $P/front-proxy-ca.crt\n"
	"restart kube-scheduler /etc/kubernetes/scheduler.conf\n";

ku_rc
ku_place_static_pods(struct ku_task *t)
{
	struct ku_exec_result res;
	ku_rc rc = KU_OK;

	for (size_t i = 0; i < KU_ARRAY_LEN(ku_static_pod_files); i++) {
		rc = ku_task_place_rendered(t, ku_static_pod_files[i], NULL);
		if (rc != KU_OK)
			return rc;
	}
	ku_exec_result_init(&res);
	rc = ku_task_exec(t, ku_restart_script, &res);
	if (rc == KU_OK && res.out.len)
		ku_task_log(t, KU_LOG_INFO, "%s", res.out.data);
	if (rc == KU_OK && res.exit_status != 0)
		rc = ku_task_fail(t, KU_ERR_REMOTE, _("%s: restarting the "
		    "control-plane components whose files changed failed: "
		    "%s"), ku_task_target(t), res.err.len ? res.err.data :
		    _("(no output)"));
	ku_exec_result_free(&res);
	return rc;
}

ku_rc
ku_place_kubelet(struct ku_task *t)
{
	ku_rc rc = ku_task_place_rendered(t, "/var/lib/kubelet/config.yaml",
	    NULL);

	if (rc == KU_OK)
		rc = ku_task_place_rendered(t,
		    "/etc/systemd/system/kubelet.service", NULL);
	return rc;
}

/* Starts the kubelet, or restarts it when a file it reads changed since
 * it last started (their digests are kept on the machine), and marks the
 * machine installed: phase 1's port check then knows that the cluster's
 * own components hold those ports. */
static const char ku_start_kubelet_script[] =
	"set -eu\n"
	"export LC_ALL=C\n"
	"mkdir -p /var/lib/kubeup /var/log/kubernetes/audit\n"
	"chmod 0700 /var/lib/kubeup /var/lib/kubelet/pki\n"
	"want=$(cat /var/lib/kubelet/config.yaml "
	    "/etc/systemd/system/kubelet.service /etc/kubernetes/kubelet.conf "
	    "/var/lib/kubelet/pki/kubelet.crt | sha256sum | cut -d' ' -f1)\n"
	"have=$(cat /var/lib/kubeup/kubelet.sha256 2>/dev/null || true)\n"
	"systemctl daemon-reload\n"
	"systemctl enable kubelet >/dev/null 2>&1 || systemctl enable kubelet\n"
	"if [ \"$want\" != \"$have\" ] || ! systemctl is-active -q kubelet; then\n"
	"  systemctl restart kubelet\n"
	"  echo \"$want\" > /var/lib/kubeup/kubelet.sha256\n"
	"fi\n"
	"touch /var/lib/kubeup/installed\n"
	/* A kubelet that cannot start exits within seconds: look twice. */
	"for i in 1 2 3 4 5 6; do\n"
	"  systemctl is-active -q kubelet || break\n"
	"  sleep 0.5\n"
	"done\n"
	"if ! systemctl is-active -q kubelet; then\n"
	"  echo 'the kubelet does not stay up; its last words:' >&2\n"
	"  journalctl -u kubelet -n 15 --no-pager >&2 || true\n"
	"  exit 1\n"
	"fi\n";

ku_rc
ku_start_kubelet(struct ku_task *t)
{
	struct ku_exec_result res;
	ku_rc rc;

	ku_exec_result_init(&res);
	rc = ku_task_exec(t, ku_start_kubelet_script, &res);
	if (rc == KU_OK && res.exit_status != 0)
		rc = ku_task_fail(t, KU_ERR_REMOTE,
		    _("%s: the kubelet did not start: %s"), ku_task_target(t),
		    res.err.len ? res.err.data : _("(no output)"));
	ku_exec_result_free(&res);
	return rc;
}
