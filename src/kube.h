/* A client of the Kubernetes API on libcurl and json-c.
 *
 * It connects with a kubeconfig's current context: the apiserver's URL,
 * the cluster's CA (the only one it trusts: the system's store is never
 * consulted, and there is no switch to skip verification) and the user's
 * client certificate and key. Bodies are JSON (json-c); objects from
 * manifests are applied with server-side apply (PATCH with
 * application/apply-patch+yaml, field manager "kubeup", conflicts forced:
 * kubeup owns the fields of its own manifests), so applying the same
 * document twice changes nothing.
 *
 * Resource paths come from the API's discovery documents (/api/v1,
 * /apis/<group>/<version>), read once per group and version, again when a
 * kind is not found (a CRD applied a moment ago).
 *
 * Errors name the verb, the object and the API's own message (its Status
 * object), with the HTTP status:
 *   KU_ERR_CONNECT  no connection, TLS refused (a certificate the CA did
 *                   not sign, a name it is not valid for), HTTP 5xx;
 *   KU_ERR_TIMEOUT  a request or a wait ran out of time (a wait says what
 *                   it waited for and what it saw last);
 *   KU_ERR_AUTH     401 or 403;
 *   KU_ERR_INVALID  a bad kubeconfig or manifest, other 4xx;
 *   KU_ERR_INTERRUPTED  the cancel callback asked to stop.
 * Nothing secret is logged: requests are logged by verb and path only.
 *
 * A client is used by one thread at a time; make one per task.
 */
#ifndef KU_KUBE_H
#define KU_KUBE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"
#include "log.h"

struct ku_kube;

/* Called between requests and while one is under way: true stops. */
typedef bool (*ku_kube_cancel_fn)(void *arg);
/* Gets each request ("GET /api/v1/nodes 200") for the log. */
typedef void (*ku_kube_log_fn)(void *arg, enum ku_log_level level,
    const char *msg);

/* Reads the kubeconfig at path (its current context). */
ku_rc ku_kube_open(const char *kubeconfig, struct ku_kube **out, char **err);
void ku_kube_close(struct ku_kube *k);
void ku_kube_set_cancel(struct ku_kube *k, ku_kube_cancel_fn fn, void *arg);
void ku_kube_set_log(struct ku_kube *k, ku_kube_log_fn fn, void *arg);
/* Connections carried by the caller, for an apiserver that kubeup's
 * machine reaches only through another (a jump host). For each
 * connection, open gets the URL's host and port and a listening socket on
 * 127.0.0.1 (its own, whatever happens); once it returns, libcurl
 * connects to that socket from 127.0.0.1 port client_port, and open's
 * tunnel carries that connection to host:port. *conn goes to close once
 * libcurl closed its socket. open's failure (rc and message) stands in
 * for libcurl's; KU_ERR_CONNECT and KU_ERR_TIMEOUT are retried (and
 * waited out) as a refused connection is, any other rc ends the request.
 * TLS is unchanged: the URL's host is verified. */
struct ku_kube_dialer {
	ku_rc (*open)(void *arg, const char *host, int port, int listen_fd,
	    int client_port, void **conn, char **err);
	void (*close)(void *arg, void *conn);
	void *arg;
};
void ku_kube_set_dialer(struct ku_kube *k, const struct ku_kube_dialer *d);

/* The apiserver's URL and the user the kubeconfig names. */
const char *ku_kube_server(const struct ku_kube *k);
const char *ku_kube_user(const struct ku_kube *k);

/* One request. path starts with '/' (query included). body may be NULL;
 * content_type then too. *status gets the HTTP status (0 when none
 * came); *out (may be NULL) the parsed JSON body, or NULL when the body
 * was empty or not JSON. Returns KU_OK whenever a response came, whatever
 * its status: callers judge the status (ku_kube_status_error() words it). */
ku_rc ku_kube_request(struct ku_kube *k, const char *method,
    const char *path, const char *content_type, const char *body,
    size_t body_len, long *status, json_object **out, char **err);

/* The error for a response with a failing status: "<what>: <the API's
 * message> (HTTP <status>)", and the code for it. */
ku_rc ku_kube_status_error(long status, json_object *body, const char *what,
    char **err);

/* GET path; a 404 is KU_OK with *out NULL. */
ku_rc ku_kube_get(struct ku_kube *k, const char *path, json_object **out,
    char **err);
/* GET path as text (a pod's log), at most max bytes (the rest is
 * dropped); any status but 200 is an error. */
ku_rc ku_kube_get_text(struct ku_kube *k, const char *path, size_t max,
    char **text, char **err);
/* DELETE path (query may carry propagationPolicy, gracePeriodSeconds);
 * a 404 is KU_OK. */
ku_rc ku_kube_delete(struct ku_kube *k, const char *path, char **err);

/* The path of an object: "/apis/apps/v1/namespaces/kube-system/
 * daemonsets/kube-proxy"; name NULL gives the collection. A namespaced
 * kind without a namespace goes to "default"; a cluster-wide kind with
 * one is refused. */
ku_rc ku_kube_path(struct ku_kube *k, const char *api_version,
    const char *kind, const char *ns, const char *name, char **path,
    char **err);

/* Whether a pod template (a workload's spec.template) reads the ConfigMap
 * (secret false) or Secret called name: as a volume (projected ones
 * included), through envFrom, or through an env valueFrom. A manifest's
 * apply restarts the workloads that read a ConfigMap or Secret it
 * changed. */
bool ku_kube_template_reads(json_object *tmpl, bool secret,
    const char *name);

enum ku_apply_result {
	KU_APPLY_CREATED,
	KU_APPLY_CHANGED,
	KU_APPLY_UNCHANGED,
};

/* Applies one object. obj is what the document says (for its identity);
 * text is the document sent. *result says what happened. */
ku_rc ku_kube_apply(struct ku_kube *k, json_object *obj, const char *text,
    size_t len, enum ku_apply_result *result, char **err);

struct ku_apply_counts {
	size_t created, changed, unchanged;
};

/* Applies every document of a manifest, in order. origin names it in
 * errors. Stops at the first failure. Then restarts (kubectl rollout
 * restart's way) each unchanged DaemonSet, Deployment or StatefulSet of
 * the manifest that reads a ConfigMap or Secret the apply changed. */
ku_rc ku_kube_apply_manifest(struct ku_kube *k, const char *data,
    size_t len, const char *origin, struct ku_apply_counts *counts,
    char **err);

/* Waiting. cond is called at once and then about every interval_ms until
 * it returns true, fails, or timeout_s passes. It sets *seen (owned;
 * replaced each call) to what it saw, for the timeout's message:
 * "<what>: not after <timeout>s; last seen: <seen>". */
typedef ku_rc (*ku_kube_cond_fn)(struct ku_kube *k, void *arg, bool *met,
    char **seen, char **err);
ku_rc ku_kube_wait(struct ku_kube *k, const char *what, int timeout_s,
    int interval_ms, ku_kube_cond_fn cond, void *arg, char **err);

/* True in the condition's last call, once the time is up: the moment to
 * fetch what explains a wait (events), too costly on every poll. */
bool ku_kube_last_look(const struct ku_kube *k);

/* A readiness word for a workload object (Deployment, DaemonSet,
 * ReplicationController, ReplicaSet, StatefulSet, Pod, Node) as the
 * API reports it: *ready is true when it is; *seen describes it
 * ("2/3 ready", "Pending: ContainerCreating"). Other kinds are ready by
 * existing. */
void ku_kube_readiness(json_object *obj, bool *ready, char **seen);

/* How a container ended, from its state.terminated or
 * lastState.terminated object: "status N", and the last line of its
 * termination message (at most 300 bytes) when it left one. A crash
 * loop's cause is in the last run. */
char *ku_kube_exit_text(json_object *terminated);

/* Percent-encodes s for a URL's query. Caller frees. */
char *ku_kube_escape(const char *s);

#endif
