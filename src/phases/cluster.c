/* The substeps that work through the cluster's API (src/kube.c): the
 * admins' binding, the manifests of phases 4.2 to 6, and the exit checks
 * of phases 3 to 6.
 *
 * kubeup talks to the apiserver from the operator's machine with the
 * admin kubeconfig of the state directory (the super-admin one only to
 * make the admin binding). A check makes its own objects, named
 * kubeup-check-* in the default namespace and labelled
 * app.kubernetes.io/managed-by=kubeup, and removes them when it passed;
 * the pods that prove the network (one per machine, serving their own
 * name over HTTP) stay until the end of phase 6, which removes them.
 * A failed check leaves its objects for the operator to look at; the
 * next attempt starts by replacing them. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "kube.h"
#include "phases/phases.h"
#include "provider.h"
#include "render.h"
#include "shell.h"
#include "util.h"
#include "yamldoc.h"

/* How long each wait may take, in seconds: engine.wait_timeout (default
 * 300) for what may take long (the apiserver's start, a Node Ready, an
 * image pulled), and for the rest at most these. */
#define KU_WAIT_RBAC        60   /* a binding takes effect */
#define KU_WAIT_GONE        90   /* a deleted object is gone */
#define KU_WAIT_LEADER      90   /* a component renews its lease */
#define KU_WAIT_REACH       90   /* a pod or Service answers a machine */
#define KU_STEADY_MS      5000   /* a daemon's pod stays ready this long */
#define KU_WAIT_API        ku_wait_long(t)
#define KU_WAIT_POD        ku_wait_long(t)
#define KU_WAIT_MIRROR     ku_wait_long(t)
#define KU_WAIT_NODE       ku_wait_long(t)
#define KU_WAIT_READY      ku_wait_long(t)

#define KU_CHECK_LABEL     "kubeup.io/check"
#define KU_CHECK_PORT      8080
#define KU_CHECK_SERVICE   "kubeup-check"

static int
ku_wait_long(struct ku_task *t)
{
	return ku_task_spec(t)->wait_timeout;
}

/* --- the client for a task --- */

static bool
ku_task_kube_cancel(void *arg)
{
	return ku_task_cancelled(arg);
}

static void
ku_task_kube_log(void *arg, enum ku_log_level level, const char *msg)
{
	ku_task_log(arg, level, "%s", msg);
}

/* A client for the kubeconfig STATE/kubeconfig/<which>.conf. */
static ku_rc
ku_task_kube(struct ku_task *t, const char *which, struct ku_kube **k)
{
	const struct ku_spec *spec = ku_task_spec(t);
	char *rel = xasprintf("kubeconfig/%s.conf", which);
	char *path = ku_path_join(ku_task_state_dir(t), rel);
	char *err = NULL;
	ku_rc rc = KU_OK;

	free(rel);
	if (!ku_path_exists(path))
		rc = ku_task_fail(t, KU_ERR_PREREQ, _("%s is missing: run "
		    "phase 2 (kubeup --batch ANSWERS --phases 2) to make it"),
		    path);
	else if ((rc = ku_kube_open(path, k, &err)) != KU_OK)
		rc = ku_task_fail(t, rc, "%s", err);
	else {
		const struct ku_provider *p = ku_provider_get(spec->provider);

		ku_kube_set_cancel(*k, ku_task_kube_cancel, t);
		ku_kube_set_log(*k, ku_task_kube_log, t);
		/* the apiserver as the machines are reached */
		if (p->routed != NULL && p->routed(spec)) {
			struct ku_kube_dialer d = { p->dial, p->hangup,
			    ku_task_provider_state(t) };
			ku_kube_set_dialer(*k, &d);
		}
	}
	free(err);
	free(path);
	return rc;
}

/* Fails the task with err (freed). */
static ku_rc
ku_fail_err(struct ku_task *t, ku_rc rc, char *err)
{
	rc = ku_task_fail(t, rc, "%s", err ? err : _("no reason given"));
	free(err);
	return rc;
}

/* A JSON string literal for s; caller frees. */
static char *
ku_jstr(const char *s)
{
	json_object *o = json_object_new_string(s);
	char *r = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return r;
}

/* Applies one object given as JSON text (JSON is YAML). */
static ku_rc
ku_apply_json(struct ku_task *t, struct ku_kube *k, const char *json)
{
	json_object *obj = json_tokener_parse(json);
	enum ku_apply_result res;
	char *err = NULL;
	ku_rc rc;

	if (obj == NULL)
		return ku_task_fail(t, KU_ERR_INVALID, "kubeup made an "
		    "object that is not JSON: %s", json);
	rc = ku_kube_apply(k, obj, json, strlen(json), &res, &err);
	json_object_put(obj);
	return rc == KU_OK ? KU_OK : ku_fail_err(t, rc, err);
}

/* Applies the manifest rendered at path (under "cluster"). */
static ku_rc
ku_apply_rendered(struct ku_task *t, struct ku_kube *k, const char *path)
{
	const struct ku_rendered_file *f = ku_render_find(
	    ku_task_deploy(t)->files, "cluster", path);
	struct ku_apply_counts c;
	char *err = NULL;
	ku_rc rc;

	if (f == NULL)
		return ku_task_fail(t, KU_ERR_TEMPLATE, _("nothing was "
		    "rendered for %s"), path);
	rc = ku_kube_apply_manifest(k, f->content, f->len, path, &c, &err);
	if (rc != KU_OK)
		return ku_fail_err(t, rc, err);
	ku_task_log(t, KU_LOG_INFO, _("%s: %zu created, %zu changed, %zu "
	    "unchanged"), path, c.created, c.changed, c.unchanged);
	return KU_OK;
}

/* --- waiting for objects --- */

enum ku_want {
	KU_WANT_READY,
	KU_WANT_GONE,         /* a 404 */
	KU_WANT_EXISTS,
};

struct ku_obj_wait {
	const char *path;
	enum ku_want want;
	const char *pods;     /* a label selector whose pods to describe */
};

/* Appends to *seen the latest warning event about the object p (as
 * "; last warning: FailedMount: ..."), when there is one. */
static void
ku_last_warning(struct ku_kube *k, json_object *p, char **seen)
{
	const char *ns = ku_json_str(p, "metadata.namespace");
	const char *uid = ku_json_str(p, "metadata.uid");
	json_object *list = NULL, *items, *best = NULL;
	const char *best_at = "";
	char *e_ns, *e_uid, *path;
	size_t n;

	if (ns == NULL || uid == NULL)
		return;
	e_ns = ku_kube_escape(ns);
	e_uid = ku_kube_escape(uid);
	path = xasprintf("/api/v1/namespaces/%s/events?fieldSelector="
	    "involvedObject.uid%%3D%s", e_ns, e_uid);
	free(e_ns);
	free(e_uid);
	if (ku_kube_get(k, path, &list, NULL) != KU_OK || list == NULL) {
		free(path);
		return;
	}
	free(path);
	items = ku_json_get(list, "items");
	n = ku_json_len(items);
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(items, i);
		const char *at = ku_json_str(ev, "lastTimestamp");

		if (at == NULL)
			at = ku_json_str(ev, "eventTime");
		if (at == NULL)
			at = ku_json_str(ev, "metadata.creationTimestamp");
		/* RFC 3339 times in UTC compare as strings. */
		if (!ku_streq(ku_json_str(ev, "type"), "Warning") ||
		    at == NULL || strcmp(at, best_at) < 0)
			continue;
		best = ev;
		best_at = at;
	}
	if (best != NULL) {
		const char *reason = ku_json_str(best, "reason");
		const char *msg = ku_json_str(best, "message");
		char *s = xasprintf(_("%s; last warning: %s%s%.300s"), *seen,
		    reason ? reason : "", msg ? ": " : "", msg ? msg : "");

		free(*seen);
		*seen = s;
	}
	json_object_put(list);
}

/* The readiness of obj as ku_kube_readiness gives it; in a wait's last
 * look (k not NULL), with its latest warning event when it is not
 * ready. */
static void
ku_obj_state(struct ku_kube *k, json_object *obj, bool *ready, char **seen)
{
	ku_kube_readiness(obj, ready, seen);
	if (!*ready && k != NULL && ku_kube_last_look(k))
		ku_last_warning(k, obj, seen);
}

/* The same for a pod that is an item of a list (which names no kind). */
static void
ku_pod_state(struct ku_kube *k, json_object *p, bool *ready, char **seen)
{
	if (!json_object_object_get_ex(p, "kind", NULL))
		json_object_object_add(p, "kind",
		    json_object_new_string("Pod"));
	ku_obj_state(k, p, ready, seen);
}

/* Adds the state of the pods a selector picks to *seen. */
static void
ku_describe_pods(struct ku_kube *k, const char *selector, char **seen)
{
	char *sel = ku_kube_escape(selector);
	char *path = xasprintf("/api/v1/pods?labelSelector=%s", sel);
	json_object *list = NULL, *items;
	struct ku_buf b;
	size_t n;

	free(sel);
	if (ku_kube_get(k, path, &list, NULL) != KU_OK || list == NULL) {
		free(path);
		return;
	}
	free(path);
	ku_buf_init(&b, 4096);
	ku_buf_adds(&b, *seen ? *seen : "");
	items = ku_json_get(list, "items");
	n = ku_json_len(items);
	if (n == 0)
		ku_buf_adds(&b, _("; no pods"));
	for (size_t i = 0; i < n && i < 5; i++) {
		json_object *p = json_object_array_get_idx(items, i);
		bool ready;
		char *s;

		ku_pod_state(k, p, &ready, &s);
		ku_buf_printf(&b, "; pod %s: %s",
		    ku_json_str(p, "metadata.name"), s);
		free(s);
	}
	json_object_put(list);
	free(*seen);
	*seen = ku_buf_steal(&b);
}

static ku_rc
ku_obj_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	struct ku_obj_wait *w = arg;
	json_object *obj = NULL;
	ku_rc rc = ku_kube_get(k, w->path, &obj, err);
	bool ready = false;

	if (rc != KU_OK)
		return rc;
	free(*seen);
	if (obj == NULL) {
		*met = w->want == KU_WANT_GONE;
		*seen = xstrdup(_("not there"));
		return KU_OK;
	}
	ku_obj_state(k, obj, &ready, seen);
	*met = w->want == KU_WANT_EXISTS ||
	    (w->want == KU_WANT_READY && ready);
	if (w->want == KU_WANT_GONE) {
		char *s = xasprintf(_("still there (%s)"), *seen);

		free(*seen);
		*seen = s;
	}
	json_object_put(obj);
	if (!*met && w->pods)
		ku_describe_pods(k, w->pods, seen);
	return KU_OK;
}

/* Waits for the object at path to be ready, gone or there. what names
 * it; pods (may be NULL) selects the pods whose state a timeout
 * describes. */
static ku_rc
ku_wait_obj(struct ku_task *t, struct ku_kube *k, const char *what,
    const char *path, enum ku_want want, const char *pods, int timeout_s)
{
	struct ku_obj_wait w = { .path = path, .want = want, .pods = pods };
	char *err = NULL;
	char *title = xasprintf(want == KU_WANT_GONE ? _("%s to be gone") :
	    want == KU_WANT_EXISTS ? _("%s to be there") :
	    _("%s to be ready"), what);
	ku_rc rc = ku_kube_wait(k, title, timeout_s, 1000, ku_obj_cond, &w,
	    &err);

	free(title);
	return rc == KU_OK ? KU_OK : ku_fail_err(t, rc, err);
}

/* Deletes an object (a 404 is fine) and waits until it is gone. */
static ku_rc
ku_delete_wait(struct ku_task *t, struct ku_kube *k, const char *what,
    const char *path, const char *query)
{
	char *del = xasprintf("%s%s", path, query ? query : "");
	char *err = NULL;
	ku_rc rc = ku_kube_delete(k, del, &err);

	free(del);
	if (rc != KU_OK)
		return ku_fail_err(t, rc, err);
	return ku_wait_obj(t, k, what, path, KU_WANT_GONE, NULL,
	    KU_WAIT_GONE < ku_wait_long(t) ? KU_WAIT_GONE : ku_wait_long(t));
}

/* Waits for every workload (Deployment, DaemonSet, StatefulSet) a
 * rendered manifest holds. */
static ku_rc
ku_wait_manifest(struct ku_task *t, struct ku_kube *k, const char *file)
{
	const struct ku_rendered_file *f = ku_render_find(
	    ku_task_deploy(t)->files, "cluster", file);
	struct ku_yaml_docs docs;
	char *err = NULL;
	size_t waited = 0;
	ku_rc rc;

	if (f == NULL)
		return ku_task_fail(t, KU_ERR_TEMPLATE, _("nothing was "
		    "rendered for %s"), file);
	rc = ku_yaml_parse(f->content, f->len, file, &docs, &err);
	if (rc != KU_OK)
		return ku_fail_err(t, rc, err);
	for (size_t i = 0; i < docs.n && rc == KU_OK; i++) {
		json_object *o = docs.v[i].obj;
		const char *kind = ku_json_str(o, "kind");
		const char *name = ku_json_str(o, "metadata.name");
		const char *ns = ku_json_str(o, "metadata.namespace");
		json_object *labels = ku_json_get(o,
		    "spec.selector.matchLabels");
		char *path = NULL, *what, *sel = NULL;

		if (!ku_streq(kind, "Deployment") &&
		    !ku_streq(kind, "DaemonSet") &&
		    !ku_streq(kind, "StatefulSet"))
			continue;
		rc = ku_kube_path(k, ku_json_str(o, "apiVersion"), kind, ns,
		    name, &path, &err);
		if (rc != KU_OK) {
			rc = ku_fail_err(t, rc, err);
			break;
		}
		if (labels && json_object_is_type(labels, json_type_object)) {
			struct ku_buf b;

			ku_buf_init(&b, 1024);
			json_object_object_foreach(labels, key, val) {
				ku_buf_printf(&b, "%s%s=%s", b.len ? "," : "",
				    key, json_object_get_string(val));
			}
			sel = ku_buf_steal(&b);
		}
		what = xasprintf("%s %s/%s", kind, ns ? ns : "default", name);
		rc = ku_wait_obj(t, k, what, path, KU_WANT_READY, sel,
		    KU_WAIT_READY);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, _("%s is ready"), what);
		waited++;
		free(what);
		free(sel);
		free(path);
	}
	ku_yaml_docs_free(&docs);
	if (rc == KU_OK && waited == 0)
		ku_task_log(t, KU_LOG_INFO, _("%s: no workload to wait for"),
		    file);
	return rc;
}

/* --- phase 3 --- */

static ku_rc
ku_readyz_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	long status;
	json_object *body = NULL;
	ku_rc rc = ku_kube_request(k, "GET", "/readyz", NULL, NULL, 0,
	    &status, &body, err);

	(void)arg;
	json_object_put(body);
	if (rc != KU_OK)
		return rc;
	*met = status == 200;
	free(*seen);
	*seen = xasprintf(_("HTTP %ld from /readyz"), status);
	return KU_OK;
}

static ku_rc
ku_admin_works_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	long status;
	json_object *body = NULL;
	ku_rc rc = ku_kube_request(k, "GET", "/api/v1/namespaces/kube-system",
	    NULL, NULL, 0, &status, &body, err);

	(void)arg;
	if (rc == KU_OK) {
		*met = status == 200;
		free(*seen);
		*seen = xasprintf("HTTP %ld: %s", status,
		    ku_json_str(body, "message") ? ku_json_str(body,
		    "message") : "");
	}
	json_object_put(body);
	return rc;
}

ku_rc
ku_api_admin_binding(struct ku_task *t)
{
	static const char binding[] =
	    "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
	    "\"kind\":\"ClusterRoleBinding\","
	    "\"metadata\":{\"name\":\"kubeadm:cluster-admins\"},"
	    "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
	    "\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"},"
	    "\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\","
	    "\"kind\":\"Group\",\"name\":\"kubeadm:cluster-admins\"}]}";
	struct ku_kube *sa = NULL, *admin = NULL;
	char *err = NULL;
	ku_rc rc = ku_task_kube(t, "super-admin", &sa);

	if (rc != KU_OK)
		return rc;
	rc = ku_kube_wait(sa, _("the apiserver to answer /readyz"),
	    KU_WAIT_API, 2000, ku_readyz_cond, NULL, &err);
	if (rc != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK)
		rc = ku_apply_json(t, sa, binding);
	if (rc == KU_OK)
		rc = ku_task_kube(t, "admin", &admin);
	if (rc == KU_OK) {
		rc = ku_kube_wait(admin, _("the admin kubeconfig to be "
		    "allowed"), KU_WAIT_RBAC, 1000, ku_admin_works_cond, NULL,
		    &err);
		if (rc != KU_OK)
			rc = ku_fail_err(t, rc, err);
		else
			ku_task_log(t, KU_LOG_INFO, _("group "
			    "kubeadm:cluster-admins is bound to "
			    "cluster-admin; the admin kubeconfig works"));
	}
	ku_kube_close(admin);
	ku_kube_close(sa);
	return rc;
}

/* The labels and tolerations of every check object. */
#define KU_CHECK_META(name, check) \
	"\"metadata\":{\"name\":\"" name "\",\"namespace\":\"default\"," \
	"\"labels\":{\"app.kubernetes.io/managed-by\":\"kubeup\"," \
	"\"" KU_CHECK_LABEL "\":\"" check "\"}}"

ku_rc
ku_api_check_pod(struct ku_task *t)
{
	const char *path = "/api/v1/namespaces/default/pods/kubeup-check-api";
	char *image = ku_render_image(ku_task_spec(t), "pause");
	char *jimage = ku_jstr(image);
	char *pod = xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    KU_CHECK_META("kubeup-check-api", "api") ","
	    "\"spec\":{\"containers\":[{\"name\":\"pause\",\"image\":%s}],"
	    "\"terminationGracePeriodSeconds\":0,"
	    "\"tolerations\":[{\"operator\":\"Exists\"}]}}", jimage);
	struct ku_kube *k = NULL;
	json_object *list = NULL;
	char *err = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	/* A pod is refused until the controller-manager has made the
	 * namespace's default ServiceAccount. */
	if (rc == KU_OK)
		rc = ku_wait_obj(t, k, "ServiceAccount default/default",
		    "/api/v1/namespaces/default/serviceaccounts/default",
		    KU_WANT_EXISTS, NULL, KU_WAIT_API);
	if (rc == KU_OK)
		rc = ku_delete_wait(t, k, "pod default/kubeup-check-api", path,
		    "?gracePeriodSeconds=0");
	if (rc == KU_OK)
		rc = ku_apply_json(t, k, pod);
	if (rc == KU_OK) {
		ku_task_log(t, KU_LOG_INFO, _("created pod "
		    "default/kubeup-check-api"));
		rc = ku_kube_get(k, "/api/v1/namespaces/default/pods?"
		    "labelSelector=" KU_CHECK_LABEL "%3Dapi", &list, &err);
		if (rc != KU_OK)
			rc = ku_fail_err(t, rc, err);
	}
	if (rc == KU_OK) {
		json_object *items = ku_json_get(list, "items");
		bool listed = false;

		for (size_t i = 0; i < ku_json_len(items); i++)
			listed |= ku_streq(ku_json_str(
			    json_object_array_get_idx(items, i),
			    "metadata.name"), "kubeup-check-api");
		if (!listed)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("the pod "
			    "default/kubeup-check-api was created but the "
			    "list of pods does not show it"));
		else
			ku_task_log(t, KU_LOG_INFO, _("listed it"));
	}
	if (rc == KU_OK)
		rc = ku_delete_wait(t, k, "pod default/kubeup-check-api",
		    path, "?gracePeriodSeconds=0");
	if (rc == KU_OK)
		ku_task_log(t, KU_LOG_INFO, _("deleted it"));
	json_object_put(list);
	ku_kube_close(k);
	free(pod);
	free(jimage);
	free(image);
	return rc;
}

ku_rc
ku_api_check_workload(struct ku_task *t)
{
	/* Pods on the host's network run before any network plugin, and
	 * tolerate the master's taint and a NotReady node. */
	static const char *const names[] = { "Deployment",
	    "ReplicationController" };
	char *image = ku_render_image(ku_task_spec(t), "pause");
	char *jimage = ku_jstr(image);
	char *podspec = xasprintf("\"spec\":{\"hostNetwork\":true,"
	    "\"terminationGracePeriodSeconds\":0,"
	    "\"tolerations\":[{\"operator\":\"Exists\"}],"
	    "\"containers\":[{\"name\":\"pause\",\"image\":%s}]}", jimage);
	char *objs[2];
	const char *paths[2] = {
		"/apis/apps/v1/namespaces/default/deployments/"
		    "kubeup-check-deployment",
		"/api/v1/namespaces/default/replicationcontrollers/"
		    "kubeup-check-rc",
	};
	const char *sels[2] = { KU_CHECK_LABEL "=deployment",
	    KU_CHECK_LABEL "=rc" };
	struct ku_kube *k = NULL;
	ku_rc rc;

	objs[0] = xasprintf("{\"apiVersion\":\"apps/v1\",\"kind\":"
	    "\"Deployment\"," KU_CHECK_META("kubeup-check-deployment",
	    "deployment") ",\"spec\":{\"replicas\":1,\"selector\":"
	    "{\"matchLabels\":{\"" KU_CHECK_LABEL "\":\"deployment\"}},"
	    "\"template\":{\"metadata\":{\"labels\":{\"" KU_CHECK_LABEL
	    "\":\"deployment\"}},%s}}}", podspec);
	objs[1] = xasprintf("{\"apiVersion\":\"v1\",\"kind\":"
	    "\"ReplicationController\"," KU_CHECK_META("kubeup-check-rc",
	    "rc") ",\"spec\":{\"replicas\":1,\"selector\":"
	    "{\"" KU_CHECK_LABEL "\":\"rc\"},"
	    "\"template\":{\"metadata\":{\"labels\":{\"" KU_CHECK_LABEL
	    "\":\"rc\"}},%s}}}", podspec);
	rc = ku_task_kube(t, "admin", &k);
	for (size_t i = 0; i < 2 && rc == KU_OK; i++)
		rc = ku_apply_json(t, k, objs[i]);
	for (size_t i = 0; i < 2 && rc == KU_OK; i++) {
		char *what = xasprintf("%s default/%s", names[i],
		    strrchr(paths[i], '/') + 1);

		rc = ku_wait_obj(t, k, what, paths[i], KU_WANT_READY,
		    sels[i], KU_WAIT_POD);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, _("%s has its pod, "
			    "running"), what);
		free(what);
	}
	for (size_t i = 0; i < 2 && rc == KU_OK; i++) {
		char *what = xasprintf("%s default/%s", names[i],
		    strrchr(paths[i], '/') + 1);

		rc = ku_delete_wait(t, k, what, paths[i],
		    "?propagationPolicy=Foreground");
		free(what);
	}
	ku_kube_close(k);
	free(objs[0]);
	free(objs[1]);
	free(podspec);
	free(jimage);
	free(image);
	return rc;
}

/* A component is alive and leading when its leader-election record is
 * renewed while kubeup watches: a Lease (or, for releases that still use
 * them, an Endpoints object's leader annotation) whose renewTime moves. */
struct ku_leader_wait {
	const char *name;
	char *first;          /* renewTime when first seen */
};

static char *
ku_leader_renew(struct ku_kube *k, const char *name, char **err, ku_rc *rc)
{
	char *path = xasprintf("/apis/coordination.k8s.io/v1/namespaces/"
	    "kube-system/leases/%s", name);
	json_object *o = NULL;
	char *renew = NULL;

	*rc = ku_kube_get(k, path, &o, err);
	free(path);
	if (*rc == KU_OK && o && ku_json_str(o, "spec.renewTime"))
		renew = xstrdup(ku_json_str(o, "spec.renewTime"));
	json_object_put(o);
	if (*rc != KU_OK || renew)
		return renew;
	path = xasprintf("/api/v1/namespaces/kube-system/endpoints/%s", name);
	*rc = ku_kube_get(k, path, &o, err);
	free(path);
	if (*rc == KU_OK && o) {
		json_object *ann = ku_json_get(o, "metadata.annotations");
		const char *rec = ku_json_str(ann,
		    "control-plane.alpha.kubernetes.io/leader");
		json_object *r = rec ? json_tokener_parse(rec) : NULL;

		if (ku_json_str(r, "renewTime"))
			renew = xstrdup(ku_json_str(r, "renewTime"));
		json_object_put(r);
	}
	json_object_put(o);
	return renew;
}

static ku_rc
ku_leader_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	struct ku_leader_wait *w = arg;
	ku_rc rc;
	char *renew = ku_leader_renew(k, w->name, err, &rc);

	if (rc != KU_OK)
		return rc;
	free(*seen);
	if (renew == NULL) {
		*seen = xstrdup(_("no leader election record (Lease)"));
	} else if (w->first == NULL) {
		w->first = renew;
		renew = NULL;
		*seen = xasprintf(_("renewed at %s, not since"), w->first);
	} else {
		*met = strcmp(renew, w->first) != 0;
		*seen = xasprintf(_("renewed at %s, not since"), w->first);
	}
	free(renew);
	return KU_OK;
}

ku_rc
ku_api_check_components(struct ku_task *t)
{
	static const char *const comps[] = { "kube-scheduler",
	    "kube-controller-manager" };
	struct ku_kube *k = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	for (size_t i = 0; i < KU_ARRAY_LEN(comps) && rc == KU_OK; i++) {
		struct ku_leader_wait w = { .name = comps[i] };
		char *err = NULL;
		char *what = xasprintf(_("%s to renew its leadership"),
		    comps[i]);
		char *mirror = xasprintf("/api/v1/namespaces/kube-system/"
		    "pods/%s-%s", comps[i], ku_task_spec(t)->master.name);
		char *mwhat = xasprintf(_("%s's pod on %s"), comps[i],
		    ku_task_spec(t)->master.name);

		rc = ku_kube_wait(k, what, KU_WAIT_LEADER, 1000,
		    ku_leader_cond, &w, &err);
		if (rc != KU_OK)
			rc = ku_fail_err(t, rc, err);
		if (rc == KU_OK)
			rc = ku_wait_obj(t, k, mwhat, mirror, KU_WANT_READY,
			    NULL, KU_WAIT_MIRROR);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, _("%s is healthy: it "
			    "renews its lease and its pod is ready"),
			    comps[i]);
		free(w.first);
		free(mwhat);
		free(mirror);
		free(what);
	}
	ku_kube_close(k);
	return rc;
}

/* --- phase 4.1 --- */

/* Waits for the task's machine's Node to be there (KU_WANT_EXISTS) or
 * Ready. */
static ku_rc
ku_wait_node(struct ku_task *t, struct ku_kube *k, enum ku_want want)
{
	char *path = xasprintf("/api/v1/nodes/%s", ku_task_target(t));
	char *what = xasprintf(_("Node %s"), ku_task_target(t));
	ku_rc rc = ku_wait_obj(t, k, what, path, want, NULL,
	    want == KU_WANT_EXISTS ? KU_WAIT_NODE : KU_WAIT_READY);

	if (rc == KU_OK)
		ku_task_log(t, KU_LOG_INFO, want == KU_WANT_EXISTS ?
		    _("%s is registered") : _("%s is Ready"), what);
	free(what);
	free(path);
	return rc;
}

/* Registered is enough here: a Node is NotReady until the network. The
 * master's Node then gets the role labels kubeadm gives a control plane
 * node (a kubelet may not set labels under node-role.kubernetes.io
 * itself), so that kubectl shows its role; applied, never created: the
 * Node is there. */
ku_rc
ku_api_check_registered(struct ku_task *t)
{
	const struct ku_spec *spec = ku_task_spec(t);
	struct ku_kube *k = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	if (rc == KU_OK)
		rc = ku_wait_node(t, k, KU_WANT_EXISTS);
	if (rc == KU_OK && ku_streq(ku_task_target(t), spec->master.name)) {
		char *jname = ku_jstr(spec->master.name);
		char *node = xasprintf("{\"apiVersion\":\"v1\",\"kind\":"
		    "\"Node\",\"metadata\":{\"name\":%s,\"labels\":{"
		    "\"node-role.kubernetes.io/control-plane\":\"\","
		    "\"node-role.kubernetes.io/master\":\"\"}}}", jname);

		rc = ku_apply_json(t, k, node);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, _("Node %s is labelled as "
			    "the control plane"), spec->master.name);
		free(node);
		free(jname);
	}
	ku_kube_close(k);
	return rc;
}

/* Applies the manifest rendered at file with the admin kubeconfig. */
static ku_rc
ku_apply_file(struct ku_task *t, const char *file)
{
	struct ku_kube *k = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	if (rc == KU_OK)
		rc = ku_apply_rendered(t, k, file);
	ku_kube_close(k);
	return rc;
}

/* --- a DaemonSet's pod on one machine --- */

/* Whether obj's metadata.ownerReferences name an owner of that kind and
 * name. */
static bool
ku_owned_by(json_object *obj, const char *kind, const char *name)
{
	json_object *refs = ku_json_get(obj, "metadata.ownerReferences");
	size_t n = ku_json_len(refs);

	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(refs, i);

		if (ku_streq(ku_json_str(r, "kind"), kind) &&
		    ku_streq(ku_json_str(r, "name"), name))
			return true;
	}
	return false;
}

struct ku_ds_pod {
	const char *ns, *name;   /* the DaemonSet */
	const char *selector;    /* its pods' labels, "k=v,k2=v2" */
	const char *node;
	/* the pod last seen ready: which, its restarts, since when */
	char *uid;
	int64_t restarts;
	uint64_t since;
	/* the current revision's hash, read for this DaemonSet generation:
	 * one request less on every later poll */
	char *hash;
	int64_t hash_gen;
};

/* The sum of the restart counts of a pod's containers. */
static int64_t
ku_pod_restarts(json_object *pod)
{
	json_object *cs = ku_json_get(pod, "status.containerStatuses");
	size_t n = ku_json_len(cs);
	int64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += ku_json_int(json_object_array_get_idx(cs, i),
		    "restartCount", 0);
	return sum;
}

/* "; container C last exited with status N: <its message's last line>"
 * for the first container of pod p that has restarted, or "". A pod
 * that is ready between two crashes says why it crashed. */
static char *
ku_pod_last_exit(json_object *p)
{
	json_object *cs = ku_json_get(p, "status.containerStatuses");
	size_t n = ku_json_len(cs);

	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		json_object *last = ku_json_get(c, "lastState.terminated");
		char *t, *r;

		if (last == NULL || ku_json_int(c, "restartCount", 0) == 0)
			continue;
		t = ku_kube_exit_text(last);
		r = xasprintf(_("; container %s last exited with %s"),
		    ku_json_str(c, "name"), t);
		free(t);
		return r;
	}
	return xstrdup("");
}

/* The hash of DaemonSet ds's current template: the controller-revision-hash
 * of its ControllerRevision with the highest revision (its pods carry the
 * same label). Going back to an earlier template reuses that template's
 * revision, so the hash, not the pods' pod-template-generation, tells
 * which pods run the current one. NULL when there is none yet. */
static char *
ku_ds_current_hash(struct ku_kube *k, const struct ku_ds_pod *w,
    char **err, ku_rc *rc)
{
	char *e_ns = ku_kube_escape(w->ns), *e_sel = ku_kube_escape(w->selector);
	char *path = xasprintf("/apis/apps/v1/namespaces/%s/controllerrevisions"
	    "?labelSelector=%s", e_ns, e_sel);
	json_object *list = NULL, *items;
	const char *hash = NULL;
	int64_t best = -1;
	char *r = NULL;
	size_t n;

	*rc = ku_kube_get(k, path, &list, err);
	free(e_ns);
	free(e_sel);
	free(path);
	items = ku_json_get(list, "items");
	n = ku_json_len(items);
	for (size_t i = 0; i < n; i++) {
		json_object *cr = json_object_array_get_idx(items, i);
		int64_t rev = ku_json_int(cr, "revision", -1);

		if (ku_owned_by(cr, "DaemonSet", w->name) && rev > best) {
			best = rev;
			hash = ku_json_str(cr,
			    "metadata.labels.controller-revision-hash");
		}
	}
	if (hash != NULL)
		r = xstrdup(hash);
	json_object_put(list);
	return r;
}

/* Met when the DaemonSet's pod on the node runs its current template and
 * has stayed ready, without a restart, for KU_STEADY_MS: an update rolls
 * node by node, so an old pod proves nothing about the new template; and
 * a daemon without a readiness probe is ready for the moment between its
 * start and its crash, so one look proves nothing either. The selector
 * narrows the list; the pod's owner decides. */
static ku_rc
ku_ds_pod_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	struct ku_ds_pod *w = arg;
	char *e_ns = ku_kube_escape(w->ns), *e_name = ku_kube_escape(w->name);
	char *e_sel = ku_kube_escape(w->selector);
	char *e_node = ku_kube_escape(w->node);
	char *ds_path = xasprintf("/apis/apps/v1/namespaces/%s/daemonsets/%s",
	    e_ns, e_name);
	char *path = xasprintf("/api/v1/namespaces/%s/pods?labelSelector=%s"
	    "&fieldSelector=spec.nodeName%%3D%s", e_ns, e_sel, e_node);
	json_object *ds = NULL, *list = NULL, *items;
	const char *hash = NULL;
	size_t n;
	ku_rc rc = ku_kube_get(k, ds_path, &ds, err);
	int64_t gen = ku_json_int(ds, "metadata.generation", 0);

	if (rc == KU_OK && ds != NULL && ku_json_int(ds,
	    "status.observedGeneration", -1) >= gen) {
		if (w->hash == NULL || w->hash_gen != gen) {
			free(w->hash);
			w->hash = ku_ds_current_hash(k, w, err, &rc);
			w->hash_gen = gen;
		}
		hash = w->hash;
	}
	if (rc == KU_OK)
		rc = ku_kube_get(k, path, &list, err);
	free(e_ns);
	free(e_name);
	free(e_sel);
	free(e_node);
	free(ds_path);
	free(path);
	free(*seen);
	*seen = NULL;
	if (rc != KU_OK || ds == NULL || hash == NULL) {
		if (rc == KU_OK)
			*seen = ds == NULL ? xasprintf(_("no DaemonSet %s/%s"),
			    w->ns, w->name) : xasprintf(_("DaemonSet %s/%s: "
			    "its change is not yet seen"), w->ns, w->name);
		json_object_put(ds);
		json_object_put(list);
		return rc;
	}
	items = ku_json_get(list, "items");
	n = ku_json_len(items);
	for (size_t i = 0; i < n && !*met; i++) {
		json_object *p = json_object_array_get_idx(items, i);
		const char *ph = ku_json_str(p,
		    "metadata.labels.controller-revision-hash");
		const char *uid = ku_json_str(p, "metadata.uid");
		int64_t restarts = ku_pod_restarts(p);
		bool ready, current = ku_streq(ph, hash);

		if (!ku_owned_by(p, "DaemonSet", w->name))
			continue;
		free(*seen);
		ku_pod_state(k, p, &ready, seen);
		if (!ready || !current || uid == NULL) {
			free(w->uid);
			w->uid = NULL;
		} else if (w->uid == NULL || !ku_streq(w->uid, uid) ||
		    w->restarts != restarts) {
			free(w->uid);
			w->uid = xstrdup(uid);
			w->restarts = restarts;
			w->since = ku_now_ms();
		} else if (ku_now_ms() - w->since >= KU_STEADY_MS) {
			*met = true;
		}
		if (ready && current && !*met) {
			char *why = ku_pod_last_exit(p);
			char *s = xasprintf(_("%s, ready for %us of %us%s"),
			    *seen, (unsigned)((ku_now_ms() - w->since) /
			    1000), (unsigned)(KU_STEADY_MS / 1000), why);

			free(why);
			free(*seen);
			*seen = s;
		}
		if (!current) {
			char *s = xasprintf(_("%s, with the DaemonSet's "
			    "revision %s, not %s (rolling out)"), *seen,
			    ph ? ph : "-", hash);

			free(*seen);
			*seen = s;
		}
	}
	if (*seen == NULL)
		*seen = xasprintf(_("no pod of %s/%s on %s"), w->ns, w->name,
		    w->node);
	json_object_put(ds);
	json_object_put(list);
	return KU_OK;
}

/* Waits for the pod of DaemonSet ns/name (its pods labelled selector) on
 * the task's machine to run the current template and stay ready. */
static ku_rc
ku_wait_ds_pod(struct ku_task *t, struct ku_kube *k, const char *ns,
    const char *name, const char *selector)
{
	struct ku_ds_pod w = { .ns = ns, .name = name, .selector = selector,
	    .node = ku_task_target(t) };
	char *what = xasprintf(_("the pod of DaemonSet %s/%s on %s to run "
	    "its current version and stay ready"), ns, name, w.node);
	char *err = NULL;
	ku_rc rc = ku_kube_wait(k, what, KU_WAIT_READY, 1000, ku_ds_pod_cond,
	    &w, &err);

	free(w.uid);
	free(w.hash);
	free(what);
	if (rc != KU_OK)
		return ku_fail_err(t, rc, err);
	ku_task_log(t, KU_LOG_INFO, _("%s/%s runs on %s"), ns, name, w.node);
	return KU_OK;
}

/* --- phase 4.2 --- */

static const char *
ku_plugin_file(const struct ku_spec *spec)
{
	switch (spec->plugin) {
	case KU_NET_FLANNEL:
		return "network/flannel.yaml";
	case KU_NET_CALICO:
		return "network/calico.yaml";
	case KU_NET_CUSTOM:
		return "network/custom.yaml";
	}
	return "network/flannel.yaml";
}

ku_rc
ku_api_apply_network(struct ku_task *t)
{
	return ku_apply_file(t, ku_plugin_file(ku_task_spec(t)));
}

/* A Node can be Ready on an old CNI configuration while the plugin's own
 * pods crash (a wrong pod CIDR): every DaemonSet of the plugin's manifest
 * must run its current version on the machine too. */
static ku_rc
ku_wait_plugin_pods(struct ku_task *t, struct ku_kube *k)
{
	const char *file = ku_plugin_file(ku_task_spec(t));
	const struct ku_rendered_file *f = ku_render_find(
	    ku_task_deploy(t)->files, "cluster", file);
	struct ku_yaml_docs docs = { NULL, 0 };
	char *err = NULL;
	size_t found = 0;
	ku_rc rc;

	if (f == NULL)
		return ku_task_fail(t, KU_ERR_TEMPLATE, _("nothing was "
		    "rendered for %s"), file);
	rc = ku_yaml_parse(f->content, f->len, file, &docs, &err);
	if (rc != KU_OK)
		return ku_fail_err(t, rc, err);
	for (size_t i = 0; i < docs.n && rc == KU_OK; i++) {
		json_object *o = docs.v[i].obj;
		json_object *ml = ku_json_get(o, "spec.template.metadata.labels");
		const char *ns = ku_json_str(o, "metadata.namespace");
		const char *name = ku_json_str(o, "metadata.name");
		struct ku_buf sel;

		if (!ku_streq(ku_json_str(o, "kind"), "DaemonSet") ||
		    name == NULL)
			continue;
		ku_buf_init(&sel, 0);
		if (ml && json_object_is_type(ml, json_type_object)) {
			json_object_object_foreach(ml, key, val) {
				if (!json_object_is_type(val,
				    json_type_string))
					continue;
				ku_buf_printf(&sel, "%s%s=%s", sel.len ? "," :
				    "", key, json_object_get_string(val));
			}
		}
		if (sel.len == 0)
			rc = ku_task_fail(t, KU_ERR_TEMPLATE, _("%s:%d: "
			    "DaemonSet %s has no labels in "
			    "spec.template.metadata.labels"), file,
			    docs.v[i].line, name);
		else
			rc = ku_wait_ds_pod(t, k, ns ? ns : "default", name,
			    sel.data);
		ku_buf_free(&sel);
		found++;
	}
	ku_yaml_docs_free(&docs);
	if (rc == KU_OK && found == 0)
		ku_task_log(t, KU_LOG_WARN, _("%s has no DaemonSet: no pod of "
		    "the network plugin to wait for"), file);
	return rc;
}

ku_rc
ku_api_check_node_ready(struct ku_task *t)
{
	struct ku_kube *k = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	if (rc == KU_OK)
		rc = ku_wait_node(t, k, KU_WANT_READY);
	if (rc == KU_OK)
		rc = ku_wait_plugin_pods(t, k);
	ku_kube_close(k);
	return rc;
}

/* The machine's test pod: busybox serving the machine's name over HTTP on
 * the pod network, pinned to the machine's Node. */
static ku_rc
ku_ensure_test_pod(struct ku_task *t, struct ku_kube *k, char **ip)
{
	const char *m = ku_task_target(t);
	char *image = ku_render_image(ku_task_spec(t),
	    "e2e-test-images/busybox");
	char *jimage = ku_jstr(image), *jm = ku_jstr(m);
	char *name = xasprintf("kubeup-check-net-%s", m);
	char *jname = ku_jstr(name);
	char *path = xasprintf("/api/v1/namespaces/default/pods/%s", name);
	char *what = xasprintf(_("the test pod on %s"), m);
	char *pod = xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":%s,\"namespace\":\"default\","
	    "\"labels\":{\"app.kubernetes.io/managed-by\":\"kubeup\","
	    "\"" KU_CHECK_LABEL "\":\"net\"}},"
	    "\"spec\":{\"nodeName\":%s,"
	    "\"terminationGracePeriodSeconds\":0,"
	    "\"tolerations\":[{\"operator\":\"Exists\"}],"
	    "\"containers\":[{\"name\":\"web\",\"image\":%s,"
	    "\"command\":[\"sh\",\"-c\",\"mkdir -p /tmp/www && "
	    "echo \\\"$KUBEUP_MACHINE\\\" > /tmp/www/index.html && "
	    "exec httpd -f -p %d -h /tmp/www\"],"
	    "\"env\":[{\"name\":\"KUBEUP_MACHINE\",\"value\":%s}],"
	    "\"ports\":[{\"containerPort\":%d,\"protocol\":\"TCP\"}],"
	    "\"readinessProbe\":{\"tcpSocket\":{\"port\":%d},"
	    "\"periodSeconds\":2}}]}}", jname, jm, jimage, KU_CHECK_PORT, jm,
	    KU_CHECK_PORT, KU_CHECK_PORT);
	json_object *obj = NULL;
	char *err = NULL;
	ku_rc rc;

	/* One left from a failed attempt may sit in an image pull's
	 * back-off or on a node since mended: start it afresh. */
	*ip = NULL;
	rc = ku_kube_get(k, path, &obj, &err);
	if (rc != KU_OK)
		rc = ku_fail_err(t, rc, err);
	else if (obj) {
		bool ready;
		char *seen;

		ku_kube_readiness(obj, &ready, &seen);
		if (!ready) {
			ku_task_log(t, KU_LOG_INFO, _("replacing %s (%s)"),
			    what, seen);
			rc = ku_delete_wait(t, k, what, path,
			    "?gracePeriodSeconds=0");
		}
		free(seen);
		json_object_put(obj);
		obj = NULL;
	}
	if (rc == KU_OK)
		rc = ku_apply_json(t, k, pod);
	if (rc == KU_OK)
		rc = ku_wait_obj(t, k, what, path, KU_WANT_READY, NULL,
		    KU_WAIT_POD);
	if (rc == KU_OK && (rc = ku_kube_get(k, path, &obj, &err)) != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK) {
		const char *addr = ku_json_str(obj, "status.podIP");

		if (addr == NULL || ku_ip_family(addr) == 0)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("%s runs but has "
			    "no pod IP"), what);
		else
			*ip = xstrdup(addr);
	}
	json_object_put(obj);
	free(pod);
	free(what);
	free(path);
	free(jname);
	free(name);
	free(jm);
	free(jimage);
	free(image);
	return rc;
}

ku_rc
ku_api_test_pod(struct ku_task *t)
{
	struct ku_kube *k = NULL;
	char *ip = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	if (rc == KU_OK)
		rc = ku_ensure_test_pod(t, k, &ip);
	if (rc == KU_OK)
		ku_task_log(t, KU_LOG_INFO, _("the test pod on %s runs at %s"),
		    ku_task_target(t), ip);
	free(ip);
	ku_kube_close(k);
	return rc;
}

/* A script that asks each address for the page of a test pod and
 * compares the answer with the name it should be: it prints "ok NAME
 * ADDR" or "FAIL NAME ADDR: what came", tries each for up to
 * KU_WAIT_REACH seconds (routes and rules take a moment to appear), and
 * exits 1 when one fails. want NULL accepts any answer. */
static void
ku_reach_script(struct ku_buf *b)
{
	ku_script_raw_text(b,
	    "set -u\n"
	    "end=$(( $(date +%s) + " KU_STR(KU_WAIT_REACH) " ))\n"
	    "probe() {\n"
	    "  timeout 5 bash -c 'exec 3<>\"/dev/tcp/$0/$1\" || exit 1; "
	    "printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3; tail -n 1 <&3' "
	    "\"$1\" \"$2\" 2>/dev/null | tr -d '\\r'\n"
	    "}\n"
	    "reach() {\n"
	    "  while :; do\n"
	    "    got=$(probe \"$2\" \"$3\")\n"
	    "    if [ -n \"$got\" ] && { [ -z \"$1\" ] || "
	    "[ \"$got\" = \"$1\" ]; }; then\n"
	    "      echo \"ok $got $2\"; return 0\n"
	    "    fi\n"
	    "    if [ \"$(date +%s)\" -ge \"$end\" ]; then\n"
	    "      echo \"FAIL ${1:-any} $2:$3: ${got:-no answer}\"; return 1\n"
	    "    fi\n"
	    "    sleep 1\n"
	    "  done\n"
	    "}\n"
	    "rc=0\n");
}

/* One probe of a reach script: want ("" for any answer) at addr:port. */
static void
ku_reach_line(struct ku_buf *b, const char *want, const char *addr,
    const char *port)
{
	ku_script_raw(b, "reach ");
	ku_script_word(b, want);
	ku_script_raw(b, " ");
	ku_script_word(b, addr);
	ku_script_raw(b, " ");
	ku_script_word(b, port);
	ku_script_raw(b, " || rc=1\n");
}

/* Runs a reach script on the task's machine; a failure quotes its FAIL
 * lines. */
static ku_rc
ku_run_reach(struct ku_task *t, struct ku_buf *script, const char *what,
    char **out)
{
	struct ku_exec_result res;
	ku_rc rc;

	ku_script_raw_text(script, "exit $rc\n");
	ku_exec_result_init(&res);
	rc = ku_task_exec(t, script->data, &res);
	if (rc == KU_OK && res.exit_status != 0) {
		struct ku_buf fails;
		char *line, *save = NULL;

		ku_buf_init(&fails, 4096);
		for (line = res.out.data ? strtok_r(res.out.data, "\n",
		    &save) : NULL; line;
		    line = strtok_r(NULL, "\n", &save))
			if (ku_str_has_prefix(line, "FAIL "))
				ku_buf_printf(&fails, "%s%s", fails.len ?
				    "; " : "", line + 5);
		rc = ku_task_fail(t, KU_ERR_CHECK, _("from %s, %s: %s"),
		    ku_task_target(t), what, fails.len ? fails.data :
		    (res.err.len ? res.err.data : _("the probe failed")));
		ku_buf_free(&fails);
	} else if (rc == KU_OK && out) {
		*out = xstrdup(res.out.data ? res.out.data : "");
	}
	ku_exec_result_free(&res);
	return rc;
}

/* Machine m's test pod among the items of a list (NULL when it is not
 * there). */
static json_object *
ku_test_pod_of(json_object *items, const char *m)
{
	char *name = xasprintf("kubeup-check-net-%s", m);
	json_object *pod = NULL;

	for (size_t j = 0; j < ku_json_len(items) && pod == NULL; j++) {
		json_object *p = json_object_array_get_idx(items, j);
		const char *pn = ku_json_str(p, "metadata.name");

		if (pn && strcmp(pn, name) == 0)
			pod = p;
	}
	free(name);
	return pod;
}

/* Met when the test pod of every machine of the spec is ready. One list
 * a poll, whatever the number of machines: every machine polls this at
 * once, so a get per pod would cost the apiserver machines squared
 * requests a second. */
static ku_rc
ku_test_pods_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	const struct ku_spec *spec = arg;
	json_object *list = NULL, *items;
	struct ku_buf missing;
	ku_rc rc;

	rc = ku_kube_get(k, "/api/v1/namespaces/default/pods?labelSelector="
	    KU_CHECK_LABEL "%3Dnet", &list, err);
	if (rc != KU_OK)
		return rc;
	items = ku_json_get(list, "items");
	ku_buf_init(&missing, 4096);
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		const char *m = ku_spec_machine(spec, i)->name;
		json_object *pod = ku_test_pod_of(items, m);
		bool ready = false;
		char *s = NULL;

		if (pod)
			ku_pod_state(k, pod, &ready, &s);
		if (!ready)
			ku_buf_printf(&missing, "%s%s (%s)", missing.len ?
			    ", " : "", m, s ? s : _("not there"));
		free(s);
	}
	*met = missing.len == 0;
	free(*seen);
	*seen = xasprintf(_("not ready on %s"), missing.len ? missing.data :
	    "-");
	ku_buf_free(&missing);
	json_object_put(list);
	return KU_OK;
}

ku_rc
ku_api_check_pod_network(struct ku_task *t)
{
	const struct ku_spec *spec = ku_task_spec(t);
	struct ku_kube *k = NULL;
	json_object *list = NULL, *items;
	struct ku_buf script, missing;
	char *err = NULL;
	size_t reached = 0;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	/* Every machine's test pod, once they are all ready: the machines
	 * run the test-pod substep at their own pace. A machine whose pod
	 * does not come holds the others up for KU_WAIT_REACH seconds at
	 * most; they then reach the pods there are, and fail naming the
	 * ones they could not try. Passing without them would leave those
	 * pods unchecked from here for good: once its pod comes (a retry
	 * of its test-pod substep), nothing would run this check again. */
	if (rc == KU_OK) {
		rc = ku_kube_wait(k, _("every machine's test pod to be ready"),
		    KU_WAIT_REACH, 1000, ku_test_pods_cond, (void *)spec,
		    &err);
		if (rc == KU_ERR_TIMEOUT) {
			ku_task_log(t, KU_LOG_WARN, "%s", err);
			rc = KU_OK;
		} else if (rc != KU_OK) {
			rc = ku_fail_err(t, rc, err);
			err = NULL;
		}
		free(err);
		err = NULL;
	}
	if (rc == KU_OK && (rc = ku_kube_get(k, "/api/v1/namespaces/default/"
	    "pods?labelSelector=" KU_CHECK_LABEL "%3Dnet", &list, &err)) !=
	    KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc != KU_OK) {
		ku_kube_close(k);
		return rc;
	}
	ku_buf_init(&script, 0);
	ku_buf_init(&missing, 0);
	ku_reach_script(&script);
	items = ku_json_get(list, "items");
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		const char *m = ku_spec_machine(spec, i)->name;
		json_object *p = ku_test_pod_of(items, m);
		const char *ip = NULL;
		char port[16];
		bool ready = false;
		char *seen = NULL;

		if (p) {
			ku_pod_state(NULL, p, &ready, &seen);
			ip = ku_json_str(p, "status.podIP");
		}
		if (!ready || ip == NULL || ku_ip_family(ip) == 0) {
			ku_buf_printf(&missing, "%s%s (%s)", missing.len ?
			    ", " : "", m, seen ? seen : _("not there"));
			free(seen);
			continue;
		}
		free(seen);
		snprintf(port, sizeof port, "%d", KU_CHECK_PORT);
		ku_reach_line(&script, m, ip, port);
		reached++;
	}
	if (reached > 0)
		rc = ku_run_reach(t, &script, _("test pods"), NULL);
	if (rc == KU_OK && reached > 0)
		ku_task_log(t, KU_LOG_INFO, ngettext("%s reaches %zu test pod",
		    "%s reaches %zu test pods", reached), ku_task_target(t),
		    reached);
	if (missing.len > 0) {
		/* after a failed probe, its message stays the substep's */
		if (rc == KU_OK)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("from %s, these "
			    "test pods were not ready, so not reached: %s; "
			    "retry once their machines' test-pod substeps "
			    "pass"), ku_task_target(t), missing.data);
		else
			ku_task_log(t, KU_LOG_ERROR, _("not ready, so not "
			    "reached either: %s"), missing.data);
	}
	ku_buf_free(&missing);
	ku_buf_free(&script);
	json_object_put(list);
	ku_kube_close(k);
	return rc;
}

/* --- phase 5 --- */

ku_rc
ku_api_apply_kube_proxy(struct ku_task *t)
{
	return ku_apply_file(t, "daemons/kube-proxy.yaml");
}

ku_rc
ku_api_check_service(struct ku_task *t)
{
	static const char service[] = "{\"apiVersion\":\"v1\","
	    "\"kind\":\"Service\"," KU_CHECK_META(KU_CHECK_SERVICE, "service")
	    ",\"spec\":{\"selector\":{\"" KU_CHECK_LABEL "\":\"net\"},"
	    "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":"
	    KU_STR(KU_CHECK_PORT) "}]}}";
	const struct ku_spec *spec = ku_task_spec(t);
	struct ku_kube *k = NULL;
	json_object *svc = NULL;
	struct ku_buf script;
	char *ip = NULL, *err = NULL, *out = NULL;
	const char *cip = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	ku_buf_init(&script, 0);
	if (rc == KU_OK)
		rc = ku_wait_ds_pod(t, k, "kube-system", "kube-proxy",
		    "k8s-app=kube-proxy");
	if (rc == KU_OK)
		rc = ku_ensure_test_pod(t, k, &ip);
	if (rc == KU_OK)
		rc = ku_apply_json(t, k, service);
	if (rc == KU_OK && (rc = ku_kube_get(k, "/api/v1/namespaces/default/"
	    "services/" KU_CHECK_SERVICE, &svc, &err)) != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK) {
		cip = ku_json_str(svc, "spec.clusterIP");
		if (cip == NULL || ku_ip_family(cip) == 0)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("Service "
			    "default/%s has no cluster IP"), KU_CHECK_SERVICE);
	}
	if (rc == KU_OK) {
		ku_reach_script(&script);
		ku_reach_line(&script, "", cip, "80");
		rc = ku_run_reach(t, &script, _("the Service's cluster IP"),
		    &out);
	}
	if (rc == KU_OK) {
		/* "ok <machine> <ip>": the page names a test pod's machine. */
		char who[256] = "";
		bool known = false;

		if (sscanf(out, "ok %255s", who) == 1)
			for (size_t i = 0; i < ku_spec_n_machines(spec); i++)
				known |= ku_streq(who,
				    ku_spec_machine(spec, i)->name);
		if (!known)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("from %s, %s:%d "
			    "answered, but not with a test pod's page: %s"),
			    ku_task_target(t), cip, 80, out);
		else
			ku_task_log(t, KU_LOG_INFO, _("Service %s:80 answers "
			    "on %s (the test pod on %s)"), cip,
			    ku_task_target(t), who);
	}
	free(out);
	ku_buf_free(&script);
	json_object_put(svc);
	free(ip);
	ku_kube_close(k);
	return rc;
}

/* --- phase 6 --- */

ku_rc
ku_api_addon_dns(struct ku_task *t)
{
	return ku_apply_file(t, "addons/coredns.yaml");
}

ku_rc
ku_api_addon_dashboard(struct ku_task *t)
{
	return ku_apply_file(t, "addons/dashboard.yaml");
}

ku_rc
ku_api_addon_metrics_server(struct ku_task *t)
{
	return ku_apply_file(t, "addons/metrics-server.yaml");
}

ku_rc
ku_api_check_addons(struct ku_task *t)
{
	const struct ku_spec *spec = ku_task_spec(t);
	const struct {
		bool on;
		const char *file;
	} addons[] = {
		{ spec->addon_dns, "addons/coredns.yaml" },
		{ spec->addon_dashboard, "addons/dashboard.yaml" },
		{ spec->addon_metrics_server, "addons/metrics-server.yaml" },
	};
	struct ku_kube *k = NULL;
	size_t n = 0;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	for (size_t i = 0; i < KU_ARRAY_LEN(addons) && rc == KU_OK; i++)
		if (addons[i].on) {
			rc = ku_wait_manifest(t, k, addons[i].file);
			n++;
		}
	if (rc == KU_OK && n == 0)
		ku_task_log(t, KU_LOG_INFO, _("no add-on is selected"));
	ku_kube_close(k);
	return rc;
}

static ku_rc
ku_pod_done_cond(struct ku_kube *k, void *arg, bool *met, char **seen,
    char **err)
{
	json_object *pod = NULL;
	ku_rc rc = ku_kube_get(k, arg, &pod, err);
	const char *phase;
	bool ready;

	if (rc != KU_OK)
		return rc;
	free(*seen);
	*seen = NULL;
	phase = ku_json_str(pod, "status.phase");
	*met = ku_streq(phase, "Succeeded") || ku_streq(phase, "Failed");
	if (pod)
		ku_obj_state(k, pod, &ready, seen);
	else
		*seen = xstrdup(_("not there"));
	json_object_put(pod);
	return KU_OK;
}

ku_rc
ku_api_check_dns(struct ku_task *t)
{
	const char *path = "/api/v1/namespaces/default/pods/kubeup-check-dns";
	const struct ku_spec *spec = ku_task_spec(t);
	char *image = ku_render_image(spec, "e2e-test-images/busybox");
	char *fqdn = xasprintf("kubernetes.default.svc.%s", spec->dns_domain);
	char *jimage = ku_jstr(image), *jfqdn = ku_jstr(fqdn);
	char *pod = xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    KU_CHECK_META("kubeup-check-dns", "dns") ","
	    "\"spec\":{\"restartPolicy\":\"Never\","
	    "\"terminationGracePeriodSeconds\":0,"
	    "\"containers\":[{\"name\":\"lookup\",\"image\":%s,"
	    "\"command\":[\"nslookup\",%s]}]}}", jimage, jfqdn);
	struct ku_kube *k = NULL;
	json_object *obj = NULL, *svc = NULL;
	char *err = NULL, *log = NULL, *title;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	title = xasprintf(_("the DNS lookup of %s in pod "
	    "default/kubeup-check-dns to finish"), fqdn);
	if (rc == KU_OK)
		rc = ku_delete_wait(t, k, "pod default/kubeup-check-dns", path,
		    "?gracePeriodSeconds=0");
	if (rc == KU_OK)
		rc = ku_apply_json(t, k, pod);
	if (rc == KU_OK && (rc = ku_kube_wait(k, title, KU_WAIT_POD, 1000,
	    ku_pod_done_cond, (void *)path, &err)) != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK && ((rc = ku_kube_get(k, path, &obj, &err)) != KU_OK ||
	    (rc = ku_kube_get_text(k, "/api/v1/namespaces/default/pods/"
	    "kubeup-check-dns/log?limitBytes=4096", 65536, &log, &err)) !=
	    KU_OK || (rc = ku_kube_get(k, "/api/v1/namespaces/default/"
	    "services/kubernetes", &svc, &err)) != KU_OK))
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK) {
		const char *want = ku_json_str(svc, "spec.clusterIP");

		if (!ku_streq(ku_json_str(obj, "status.phase"), "Succeeded"))
			rc = ku_task_fail(t, KU_ERR_CHECK, _("%s does not "
			    "resolve from a pod: %s"), fqdn, log);
		else if (want == NULL || strstr(log, want) == NULL)
			rc = ku_task_fail(t, KU_ERR_CHECK, _("%s resolves, but "
			    "not to the kubernetes Service's %s: %s"), fqdn,
			    want ? want : "?", log);
		else
			ku_task_log(t, KU_LOG_INFO, _("%s resolves to %s from "
			    "a pod"), fqdn, want);
	}
	if (rc == KU_OK)
		rc = ku_delete_wait(t, k, "pod default/kubeup-check-dns", path,
		    "?gracePeriodSeconds=0");
	json_object_put(svc);
	json_object_put(obj);
	free(log);
	free(title);
	ku_kube_close(k);
	free(pod);
	free(jfqdn);
	free(jimage);
	free(fqdn);
	free(image);
	return rc;
}

ku_rc
ku_api_remove_checks(struct ku_task *t)
{
	struct ku_kube *k = NULL;
	char *err = NULL;
	ku_rc rc = ku_task_kube(t, "admin", &k);

	if (rc == KU_OK && (rc = ku_kube_delete(k, "/api/v1/namespaces/"
	    "default/services/" KU_CHECK_SERVICE, &err)) != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK && (rc = ku_kube_delete(k, "/api/v1/namespaces/"
	    "default/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3D"
	    "kubeup&gracePeriodSeconds=0", &err)) != KU_OK)
		rc = ku_fail_err(t, rc, err);
	if (rc == KU_OK)
		ku_task_log(t, KU_LOG_INFO, _("the check pods and Service are "
		    "removed"));
	ku_kube_close(k);
	return rc;
}
