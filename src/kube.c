/* A client of the Kubernetes API (see kube.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "http.h"
#include "i18n.h"
#include "kube.h"
#include "util.h"
#include "yamldoc.h"

#define KU_KUBE_MAX_BODY       (64u << 20)   /* a response's limit */
#define KU_KUBE_MAX_CONFIG     (1u << 20)    /* a kubeconfig's */
#define KU_KUBE_CONNECT_MS     10000
#define KU_KUBE_REQUEST_MS     60000
#define KU_KUBE_ATTEMPTS       4             /* transient failures */
#define KU_KUBE_FIELD_MANAGER  "kubeup"
/* How long a kind may take to appear in discovery (a CRD applied a moment
 * before its first object). */
#define KU_KUBE_DISCOVERY_WAIT_S 30

struct ku_gv {
	char *gv;                 /* "v1", "apps/v1" */
	json_object *resources;   /* the APIResourceList's resources */
};

struct ku_kube {
	char *server;             /* "https://10.0.0.1:6443", no trailing / */
	char *user;               /* the kubeconfig's user name */
	struct ku_buf ca, cert, key;
	char *token;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	struct ku_gv *gvs;
	size_t n_gvs;
	ku_kube_cancel_fn cancel;
	void *cancel_arg;
	ku_kube_log_fn log;
	void *log_arg;
	CURLcode last_cc;         /* of the last request */
	bool last_look;           /* a wait's last call of its condition */
	/* connections through the caller (ku_kube_set_dialer) */
	struct ku_kube_dialer dialer;
	char *dial_host;          /* NULL: libcurl connects */
	int dial_port;
	ku_rc dial_rc;            /* the last open's, and its message */
	char *dial_err;
	struct curl_slist *connect_to;   /* every host: 127.0.0.1, no DNS */
	struct ku_kube_tunnel { curl_socket_t fd; void *conn; } *tunnels;
	size_t n_tunnels;
};

static bool
ku_kube_cancelled(struct ku_kube *k)
{
	return k->cancel && k->cancel(k->cancel_arg);
}

static void
ku_kube_logf(struct ku_kube *k, enum ku_log_level level, const char *fmt,
    ...) KU_PRINTF(3, 4);

static void
ku_kube_logf(struct ku_kube *k, enum ku_log_level level, const char *fmt,
    ...)
{
	va_list ap;
	char *msg;

	if (k->log == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	k->log(k->log_arg, level, msg);
	free(msg);
}

/* --- the kubeconfig --- */

/* base64 (with or without line breaks) into out. */
static bool
ku_base64_decode(const char *s, struct ku_buf *out)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	size_t n = strlen(s);
	unsigned char *buf = xmalloc(n / 4 * 3 + 4);
	int len = 0, fin = 0;
	bool ok;

	if (ctx == NULL) {
		free(buf);
		return false;
	}
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, buf, &len, (const unsigned char *)s,
	    (int)n) >= 0 && EVP_DecodeFinal(ctx, buf + len, &fin) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (ok)
		ku_buf_add(out, buf, (size_t)(len + fin));
	free(buf);
	return ok && len + fin > 0;
}

/* The entry named name in a kubeconfig's list (clusters, users,
 * contexts), its inner object under field. */
static json_object *
ku_kc_find(json_object *cfg, const char *list, const char *name,
    const char *field)
{
	json_object *arr = ku_json_get(cfg, list);
	size_t n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return NULL;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (ku_streq(ku_json_str(e, "name"), name))
			return ku_json_get(e, field);
	}
	return NULL;
}

/* field-data (base64) or field (a file, relative to the kubeconfig's
 * folder) into out; false with *err when neither works. */
static bool
ku_kc_material(json_object *o, const char *field, const char *dir,
    const char *path, bool required, struct ku_buf *out, char **err)
{
	char *data_key = xasprintf("%s-data", field);
	const char *data = ku_json_str(o, data_key);
	const char *file = ku_json_str(o, field);
	bool ok = true;

	if (data != NULL) {
		if (!ku_base64_decode(data, out)) {
			*err = xasprintf(_("%s: %s is not valid base64"),
			    path, data_key);
			ok = false;
		}
	} else if (file != NULL) {
		char *p = ku_path_expand(file, dir);

		if (ku_read_file(p, KU_KUBE_MAX_CONFIG, out) != KU_OK) {
			*err = xasprintf(_("%s: %s %s cannot be read: %s"),
			    path, field, p, strerror(errno));
			ok = false;
		}
		free(p);
	} else if (required) {
		*err = xasprintf(_("%s: neither %s nor %s is set"), path,
		    data_key, field);
		ok = false;
	}
	free(data_key);
	return ok;
}

static ku_rc
ku_kube_load(struct ku_kube *k, const char *path, char **err)
{
	struct ku_buf raw;
	struct ku_yaml_docs docs = { 0 };
	json_object *cfg, *ctx, *cluster, *user;
	const char *current, *cname, *uname, *server;
	char *dir = ku_dirname(path);
	ku_rc rc = KU_ERR_INVALID;

	ku_buf_init(&raw, KU_KUBE_MAX_CONFIG);
	if (ku_read_file(path, KU_KUBE_MAX_CONFIG, &raw) != KU_OK) {
		*err = xasprintf(_("kubeconfig %s cannot be read: %s"), path,
		    strerror(errno));
		rc = KU_ERR_IO;
		goto out;
	}
	if (ku_yaml_parse(raw.data, raw.len, path, &docs, err) != KU_OK)
		goto out;
	if (docs.n != 1 ||
	    !json_object_is_type(docs.v[0].obj, json_type_object)) {
		*err = xasprintf(_("%s: not a kubeconfig (one mapping "
		    "expected)"), path);
		goto out;
	}
	cfg = docs.v[0].obj;
	current = ku_json_str(cfg, "current-context");
	ctx = current ? ku_kc_find(cfg, "contexts", current, "context") :
	    NULL;
	if (ctx == NULL) {
		*err = xasprintf(_("%s: current-context \"%s\" names no "
		    "context"), path, current ? current : "");
		goto out;
	}
	cname = ku_json_str(ctx, "cluster");
	uname = ku_json_str(ctx, "user");
	cluster = cname ? ku_kc_find(cfg, "clusters", cname, "cluster") :
	    NULL;
	user = uname ? ku_kc_find(cfg, "users", uname, "user") : NULL;
	if (cluster == NULL || user == NULL) {
		*err = xasprintf(_("%s: context \"%s\" names a %s that is "
		    "not there"), path, current, cluster ? "user" :
		    "cluster");
		goto out;
	}
	server = ku_json_str(cluster, "server");
	if (server == NULL || !ku_str_has_prefix(server, "https://")) {
		*err = xasprintf(_("%s: the cluster's server must be an "
		    "https:// URL, not \"%s\""), path, server ? server : "");
		goto out;
	}
	if (json_object_get_boolean(ku_json_get(cluster,
	    "insecure-skip-tls-verify"))) {
		*err = xasprintf(_("%s: insecure-skip-tls-verify is set; "
		    "kubeup only talks to an apiserver it can verify"), path);
		goto out;
	}
	k->server = xstrdup(server);
	while (strlen(k->server) > 8 &&
	    k->server[strlen(k->server) - 1] == '/')
		k->server[strlen(k->server) - 1] = '\0';
	k->user = xstrdup(uname);
	if (!ku_kc_material(cluster, "certificate-authority", dir, path,
	    true, &k->ca, err) ||
	    !ku_kc_material(user, "client-certificate", dir, path, false,
	    &k->cert, err) ||
	    !ku_kc_material(user, "client-key", dir, path, false, &k->key,
	    err))
		goto out;
	if (ku_json_str(user, "token"))
		k->token = xstrdup(ku_json_str(user, "token"));
	if ((k->cert.len == 0) != (k->key.len == 0) ||
	    (k->cert.len == 0 && k->token == NULL)) {
		*err = xasprintf(_("%s: user \"%s\" needs a client "
		    "certificate and its key, or a token"), path, uname);
		goto out;
	}
	rc = KU_OK;
out:
	ku_yaml_docs_free(&docs);
	ku_buf_free(&raw);
	free(dir);
	return rc;
}

ku_rc
ku_kube_open(const char *kubeconfig, struct ku_kube **out, char **err)
{
	struct ku_kube *k = xcalloc(1, sizeof *k);
	char *e = NULL;
	ku_rc rc;

	*out = NULL;
	ku_buf_init(&k->ca, KU_KUBE_MAX_CONFIG);
	ku_buf_init(&k->cert, KU_KUBE_MAX_CONFIG);
	ku_buf_init(&k->key, KU_KUBE_MAX_CONFIG);
	rc = ku_kube_load(k, kubeconfig, &e);
	if (rc == KU_OK) {
		ku_http_global_init();
		k->curl = curl_easy_init();
		if (k->curl == NULL) {
			e = xstrdup(_("libcurl could not make a handle"));
			rc = KU_ERR_NOMEM;
		}
	}
	if (rc != KU_OK) {
		if (err)
			*err = e;
		else
			free(e);
		ku_kube_close(k);
		return rc;
	}
	*out = k;
	return KU_OK;
}

void
ku_kube_close(struct ku_kube *k)
{
	if (k == NULL)
		return;
	/* closes its connections: through the dialer's callbacks too */
	if (k->curl)
		curl_easy_cleanup(k->curl);
	for (size_t i = 0; i < k->n_tunnels; i++) {
		close(k->tunnels[i].fd);
		k->dialer.close(k->dialer.arg, k->tunnels[i].conn);
	}
	free(k->tunnels);
	free(k->dial_host);
	free(k->dial_err);
	curl_slist_free_all(k->connect_to);
	for (size_t i = 0; i < k->n_gvs; i++) {
		free(k->gvs[i].gv);
		json_object_put(k->gvs[i].resources);
	}
	free(k->gvs);
	free(k->server);
	free(k->user);
	ku_buf_free(&k->ca);
	ku_buf_free(&k->cert);
	if (k->key.data)
		OPENSSL_cleanse(k->key.data, k->key.len);
	ku_buf_free(&k->key);
	if (k->token) {
		OPENSSL_cleanse(k->token, strlen(k->token));
		free(k->token);
	}
	free(k);
}

void
ku_kube_set_cancel(struct ku_kube *k, ku_kube_cancel_fn fn, void *arg)
{
	k->cancel = fn;
	k->cancel_arg = arg;
}

void
ku_kube_set_log(struct ku_kube *k, ku_kube_log_fn fn, void *arg)
{
	k->log = fn;
	k->log_arg = arg;
}

void
ku_kube_set_dialer(struct ku_kube *k, const struct ku_kube_dialer *d)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	free(k->dial_host);
	k->dial_host = NULL;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, k->server, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_PORT, &port,
	    CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t len = strlen(host);

		/* an IPv6 literal comes in brackets */
		k->dial_host = host[0] == '[' && len > 2 ?
		    xstrndup(host + 1, len - 2) : xstrdup(host);
		k->dial_port = atoi(port);
		k->dialer = *d;
		if (k->connect_to == NULL)
			k->connect_to = curl_slist_append(NULL,
			    "::127.0.0.1:");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* A TCP socket bound to 127.0.0.1, any port (listening: backlog 4). */
static int
ku_kube_loopback(bool listening, struct sockaddr_in *a)
{
	socklen_t len = sizeof *a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) != 0 ||
	    (listening && listen(fd, 4) != 0) ||
	    getsockname(fd, (struct sockaddr *)a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* libcurl asks for its connection's socket. libcurl connects by itself
 * (7.88 ignores CURL_SOCKOPT_ALREADY_CONNECTED), so it gets a socket
 * bound to 127.0.0.1 and the address of a listener of the dialer's
 * tunnel, which accepts that one connection and carries it. */
static curl_socket_t
ku_kube_opensocket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct ku_kube *k = arg;
	struct sockaddr_in la, ca;
	void *conn = NULL;
	int lfd, fd;

	if (purpose != CURLSOCKTYPE_IPCXN || addr->family != AF_INET ||
	    addr->addrlen < sizeof la)
		return CURL_SOCKET_BAD;
	free(k->dial_err);
	k->dial_err = NULL;
	lfd = ku_kube_loopback(true, &la);
	fd = lfd < 0 ? -1 : ku_kube_loopback(false, &ca);
	if (fd < 0) {
		k->dial_rc = KU_ERR_IO;
		k->dial_err = xasprintf(_("a local socket for the tunnel: %s"),
		    strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return CURL_SOCKET_BAD;
	}
	k->dial_rc = k->dialer.open(k->dialer.arg, k->dial_host, k->dial_port,
	    lfd, ntohs(ca.sin_port), &conn, &k->dial_err);
	if (k->dial_rc != KU_OK) {
		close(fd);
		return CURL_SOCKET_BAD;
	}
	memcpy(&addr->addr, &la, sizeof la);
	addr->addrlen = sizeof la;
	k->tunnels = xreallocarray(k->tunnels, k->n_tunnels + 1,
	    sizeof *k->tunnels);
	k->tunnels[k->n_tunnels++] = (struct ku_kube_tunnel){ fd, conn };
	return fd;
}

static int
ku_kube_closesocket(void *arg, curl_socket_t fd)
{
	struct ku_kube *k = arg;

	close(fd);
	for (size_t i = 0; i < k->n_tunnels; i++) {
		if (k->tunnels[i].fd != fd)
			continue;
		k->dialer.close(k->dialer.arg, k->tunnels[i].conn);
		k->tunnels[i] = k->tunnels[--k->n_tunnels];
		break;
	}
	return 0;
}

const char *
ku_kube_server(const struct ku_kube *k)
{
	return k->server;
}

const char *
ku_kube_user(const struct ku_kube *k)
{
	return k->user;
}

/* --- requests --- */

static size_t
ku_kube_write(char *data, size_t size, size_t n, void *arg)
{
	struct ku_buf *b = arg;

	ku_buf_add(b, data, size * n);
	return b->truncated ? 0 : size * n;
}

static int
ku_kube_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return ku_kube_cancelled(arg) ? 1 : 0;
}

/* Sleeps ms, waking to look at the cancel callback. */
static bool
ku_kube_pause(struct ku_kube *k, int ms)
{
	while (ms > 0) {
		int step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };

		if (ku_kube_cancelled(k))
			return false;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !ku_kube_cancelled(k);
}

#define KU_SET(opt, val) \
	do { if (curl_easy_setopt(c, opt, val) != CURLE_OK) goto setopt; } \
	while (0)

static CURLcode
ku_kube_perform(struct ku_kube *k, const char *method, const char *url,
    const char *content_type, const char *body, size_t body_len,
    struct ku_buf *resp, long *status)
{
	CURL *c = k->curl;
	struct curl_slist *h = NULL;
	struct curl_blob ca = { k->ca.data, k->ca.len, CURL_BLOB_COPY };
	struct curl_blob cert = { k->cert.data, k->cert.len, CURL_BLOB_COPY };
	struct curl_blob key = { k->key.data, k->key.len, CURL_BLOB_COPY };
	CURLcode cc;

	curl_easy_reset(c);   /* keeps the connection and the TLS session */
	k->errbuf[0] = '\0';
	k->dial_rc = KU_OK;
	free(k->dial_err);
	k->dial_err = NULL;
	h = curl_slist_append(h, "Accept: application/json");
	if (content_type) {
		char *ct = xasprintf("Content-Type: %s", content_type);

		h = curl_slist_append(h, ct);
		free(ct);
	}
	if (k->token) {
		char *auth = xasprintf("Authorization: Bearer %s", k->token);

		h = curl_slist_append(h, auth);
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	KU_SET(CURLOPT_URL, url);
	KU_SET(CURLOPT_ERRORBUFFER, k->errbuf);
	KU_SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	KU_SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	KU_SET(CURLOPT_PROTOCOLS_STR, "https");
#else
	KU_SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	KU_SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Trust the cluster's CA and nothing else. */
	KU_SET(CURLOPT_CAINFO, NULL);
	KU_SET(CURLOPT_CAPATH, NULL);
	KU_SET(CURLOPT_CAINFO_BLOB, &ca);
	KU_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	KU_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (k->cert.len) {
		KU_SET(CURLOPT_SSLCERTTYPE, "PEM");
		KU_SET(CURLOPT_SSLCERT_BLOB, &cert);
		KU_SET(CURLOPT_SSLKEYTYPE, "PEM");
		KU_SET(CURLOPT_SSLKEY_BLOB, &key);
	}
	if (k->dial_host != NULL) {
		KU_SET(CURLOPT_CONNECT_TO, k->connect_to);
		KU_SET(CURLOPT_OPENSOCKETFUNCTION, ku_kube_opensocket);
		KU_SET(CURLOPT_OPENSOCKETDATA, k);
		KU_SET(CURLOPT_CLOSESOCKETFUNCTION, ku_kube_closesocket);
		KU_SET(CURLOPT_CLOSESOCKETDATA, k);
	}
	KU_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)KU_KUBE_CONNECT_MS);
	KU_SET(CURLOPT_TIMEOUT_MS, (long)KU_KUBE_REQUEST_MS);
	KU_SET(CURLOPT_HTTPHEADER, h);
	KU_SET(CURLOPT_WRITEFUNCTION, ku_kube_write);
	KU_SET(CURLOPT_WRITEDATA, resp);
	KU_SET(CURLOPT_NOPROGRESS, 0L);
	KU_SET(CURLOPT_XFERINFOFUNCTION, ku_kube_progress);
	KU_SET(CURLOPT_XFERINFODATA, k);
	if (strcmp(method, "GET") != 0)
		KU_SET(CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		KU_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		KU_SET(CURLOPT_POSTFIELDS, body);
	}
	cc = curl_easy_perform(c);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	return cc;
setopt:
	curl_slist_free_all(h);
	snprintf(k->errbuf, sizeof k->errbuf, "%s",
	    _("libcurl refused an option (is it built with OpenSSL?)"));
	return CURLE_FAILED_INIT;
}

static bool
ku_kube_transient(CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_RECV_ERROR ||
		    cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
		    cc == CURLE_PARTIAL_FILE;
	return status == 429 || status == 502 || status == 503 ||
	    status == 504;
}

/* The request failed because the dialer could not connect. */
static bool
ku_kube_dial_failed(const struct ku_kube *k, CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT && k->dial_host != NULL &&
	    k->dial_rc != KU_OK && k->dial_err != NULL;
}

/* A request whose answer's bytes go to resp (initialised by the caller). */
static ku_rc
ku_kube_request_buf(struct ku_kube *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    long *status, struct ku_buf *resp, char **err)
{
	char *url = xasprintf("%s%s", k->server, path);
	CURLcode cc = CURLE_OK;
	ku_rc rc = KU_OK;

	*status = 0;
	for (int attempt = 1; attempt <= KU_KUBE_ATTEMPTS; attempt++) {
		if (ku_kube_cancelled(k)) {
			rc = KU_ERR_INTERRUPTED;
			break;
		}
		ku_buf_reset(resp);
		cc = ku_kube_perform(k, method, url, content_type, body,
		    body_len, resp, status);
		k->last_cc = cc;
		if (cc == CURLE_OK)
			ku_kube_logf(k, KU_LOG_DEBUG, "%s %s %ld", method,
			    path, *status);
		else
			ku_kube_logf(k, KU_LOG_DEBUG, "%s %s: %s", method,
			    path, ku_kube_dial_failed(k, cc) ? k->dial_err :
			    curl_easy_strerror(cc));
		if (ku_kube_dial_failed(k, cc) &&
		    k->dial_rc != KU_ERR_CONNECT &&
		    k->dial_rc != KU_ERR_TIMEOUT)
			break;
		if (!ku_kube_transient(cc, *status) ||
		    attempt == KU_KUBE_ATTEMPTS)
			break;
		if (!ku_kube_pause(k, 250 << (attempt - 1))) {
			rc = KU_ERR_INTERRUPTED;
			break;
		}
	}
	if (rc == KU_OK && cc == CURLE_ABORTED_BY_CALLBACK)
		rc = KU_ERR_INTERRUPTED;
	if (rc == KU_ERR_INTERRUPTED) {
		if (err)
			*err = xasprintf(_("%s %s: interrupted"), method, path);
	} else if (ku_kube_dial_failed(k, cc)) {
		rc = k->dial_rc;
		if (err)
			*err = xasprintf(_("%s %s%s: %s"), method, k->server,
			    path, k->dial_err);
	} else if (cc != CURLE_OK) {
		/* A certificate that fails verification is not a server
		 * that is restarting: no wait makes it pass. */
		rc = cc == CURLE_OPERATION_TIMEDOUT ? KU_ERR_TIMEOUT :
		    resp->truncated ? KU_ERR_INVALID :
		    cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ? KU_ERR_TLS :
		    KU_ERR_CONNECT;
		if (err)
			*err = xasprintf(_("%s %s%s: %s"), method, k->server,
			    path, resp->truncated ? _("the answer is too "
			    "large") : k->errbuf[0] ? k->errbuf :
			    curl_easy_strerror(cc));
	}
	free(url);
	return rc;
}

ku_rc
ku_kube_request(struct ku_kube *k, const char *method, const char *path,
    const char *content_type, const char *body, size_t body_len,
    long *status, json_object **out, char **err)
{
	struct ku_buf resp;
	ku_rc rc;

	if (out)
		*out = NULL;
	ku_buf_init(&resp, KU_KUBE_MAX_BODY);
	rc = ku_kube_request_buf(k, method, path, content_type, body,
	    body_len, status, &resp, err);
	if (rc == KU_OK && out && resp.len) {
		json_tokener *tok = json_tokener_new();

		*out = json_tokener_parse_ex(tok, resp.data, (int)resp.len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(*out);
			*out = NULL;
		}
		json_tokener_free(tok);
	}
	ku_buf_free(&resp);
	return rc;
}

ku_rc
ku_kube_get_text(struct ku_kube *k, const char *path, size_t max,
    char **text, char **err)
{
	struct ku_buf resp;
	long status;
	ku_rc rc;

	*text = NULL;
	ku_buf_init(&resp, max);
	rc = ku_kube_request_buf(k, "GET", path, NULL, NULL, 0, &status,
	    &resp, err);
	if (rc == KU_OK && status != 200) {
		json_object *body = json_tokener_parse(resp.data);
		char *what = xasprintf("GET %s", path);

		rc = ku_kube_status_error(status, body, what, err);
		json_object_put(body);
		free(what);
	}
	if (rc == KU_OK)
		*text = ku_buf_steal(&resp);
	ku_buf_free(&resp);
	return rc;
}

ku_rc
ku_kube_status_error(long status, json_object *body, const char *what,
    char **err)
{
	const char *msg = ku_json_str(body, "message");
	ku_rc rc;

	if (status == 401 || status == 403)
		rc = KU_ERR_AUTH;
	else if (status >= 500 || status == 0)
		rc = KU_ERR_CONNECT;
	else
		rc = KU_ERR_INVALID;
	if (err)
		*err = xasprintf(_("%s: %s (HTTP %ld)"), what,
		    msg ? msg : status == 401 ? _("not authenticated") :
		    _("no message"), status);
	return rc;
}

ku_rc
ku_kube_get(struct ku_kube *k, const char *path, json_object **out,
    char **err)
{
	long status;
	json_object *body = NULL;
	ku_rc rc = ku_kube_request(k, "GET", path, NULL, NULL, 0, &status,
	    &body, err);

	*out = NULL;
	if (rc != KU_OK)
		return rc;
	if (status == 404) {
		json_object_put(body);
		return KU_OK;
	}
	if (status != 200 || body == NULL) {
		char *what = xasprintf("GET %s", path);

		rc = body == NULL && status == 200 ?
		    (err ? (*err = xasprintf(_("%s: the answer is not JSON"),
		    what), KU_ERR_INVALID) : KU_ERR_INVALID) :
		    ku_kube_status_error(status, body, what, err);
		free(what);
		json_object_put(body);
		return rc;
	}
	*out = body;
	return KU_OK;
}

ku_rc
ku_kube_delete(struct ku_kube *k, const char *path, char **err)
{
	long status;
	json_object *body = NULL;
	ku_rc rc = ku_kube_request(k, "DELETE", path, NULL, NULL, 0, &status,
	    &body, err);

	if (rc == KU_OK && status != 200 && status != 202 && status != 404) {
		char *what = xasprintf("DELETE %s", path);

		rc = ku_kube_status_error(status, body, what, err);
		free(what);
	}
	json_object_put(body);
	return rc;
}

/* --- discovery --- */

static ku_rc
ku_kube_discover(struct ku_kube *k, const char *gv, json_object **res,
    char **err)
{
	char *path = strchr(gv, '/') ? xasprintf("/apis/%s", gv) :
	    xasprintf("/api/%s", gv);
	json_object *list = NULL;
	ku_rc rc = ku_kube_get(k, path, &list, err);
	size_t i;

	free(path);
	*res = NULL;
	if (rc != KU_OK)
		return rc;
	for (i = 0; i < k->n_gvs && strcmp(k->gvs[i].gv, gv) != 0; i++)
		;
	if (i == k->n_gvs) {
		k->gvs = xreallocarray(k->gvs, k->n_gvs + 1, sizeof *k->gvs);
		k->gvs[i].gv = xstrdup(gv);
		k->gvs[i].resources = NULL;
		k->n_gvs++;
	}
	json_object_put(k->gvs[i].resources);
	k->gvs[i].resources = list ?
	    json_object_get(ku_json_get(list, "resources")) : NULL;
	json_object_put(list);
	*res = k->gvs[i].resources;
	return KU_OK;
}

static json_object *
ku_kube_find_kind(json_object *resources, const char *kind)
{
	size_t n;

	if (resources == NULL ||
	    !json_object_is_type(resources, json_type_array))
		return NULL;
	n = json_object_array_length(resources);
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(resources, i);
		const char *name = ku_json_str(r, "name");

		if (name && !strchr(name, '/') &&
		    ku_streq(ku_json_str(r, "kind"), kind))
			return r;
	}
	return NULL;
}

char *
ku_kube_escape(const char *s)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			ku_buf_addc(&b, (char)c);
		else
			ku_buf_printf(&b, "%%%02X", c);
	}
	return ku_buf_steal(&b);
}

/* A name or namespace goes into a path: DNS-1123 subdomains only (with
 * ':' for the RBAC names kubeadm uses). */
static bool
ku_kube_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '.' || *s == ':'))
			return false;
	return true;
}

ku_rc
ku_kube_path(struct ku_kube *k, const char *api_version, const char *kind,
    const char *ns, const char *name, char **path, char **err)
{
	json_object *res = NULL, *r = NULL;
	uint64_t deadline = ku_now_ms() + KU_KUBE_DISCOVERY_WAIT_S * 1000;
	const char *plural;
	bool namespaced;
	ku_rc rc;

	*path = NULL;
	if ((ns && !ku_kube_valid_name(ns)) ||
	    (name && !ku_kube_valid_name(name)) ||
	    strstr(api_version, "..") || strchr(api_version, '?') ||
	    strchr(api_version, '#')) {
		if (err)
			*err = xasprintf(_("%s %s/%s: not a valid name"), kind,
			    ns ? ns : "", name ? name : "");
		return KU_ERR_INVALID;
	}
	for (size_t i = 0; i < k->n_gvs && r == NULL; i++)
		if (strcmp(k->gvs[i].gv, api_version) == 0)
			r = ku_kube_find_kind(k->gvs[i].resources, kind);
	while (r == NULL) {
		rc = ku_kube_discover(k, api_version, &res, err);
		if (rc != KU_OK)
			return rc;
		r = ku_kube_find_kind(res, kind);
		if (r != NULL)
			break;
		if (ku_now_ms() >= deadline || !ku_kube_pause(k, 1000)) {
			if (ku_kube_cancelled(k)) {
				if (err)
					*err = xasprintf(_("%s: interrupted"),
					    kind);
				return KU_ERR_INTERRUPTED;
			}
			if (err)
				*err = xasprintf(_("the API has no kind %s in "
				    "%s (after %ds; is the CRD that defines "
				    "it applied?)"), kind, api_version,
				    KU_KUBE_DISCOVERY_WAIT_S);
			return KU_ERR_INVALID;
		}
	}
	plural = ku_json_str(r, "name");
	namespaced = json_object_get_boolean(ku_json_get(r, "namespaced"));
	if (!namespaced && ns != NULL) {
		if (err)
			*err = xasprintf(_("%s %s is cluster-wide but names "
			    "namespace %s"), kind, name ? name : "", ns);
		return KU_ERR_INVALID;
	}
	*path = xasprintf("/%s/%s%s%s/%s%s%s",
	    strchr(api_version, '/') ? "apis" : "api", api_version,
	    namespaced ? "/namespaces/" : "",
	    namespaced ? (ns ? ns : "default") : "", plural,
	    name ? "/" : "", name ? name : "");
	return KU_OK;
}

/* --- apply --- */

/* Whether an apply failed because the server cannot apply that kind:
 * it refuses the patch type (415), says it has no field manager for it,
 * or its handler panicked (the HTTP/2 stream is reset). */
static bool
ku_kube_no_apply(struct ku_kube *k, ku_rc rc, long status,
    json_object *body)
{
	const char *msg = ku_json_str(body, "message");

	if (rc == KU_ERR_CONNECT)
		return k->last_cc == CURLE_HTTP2_STREAM;
	return rc == KU_OK && (status == 415 || (status == 500 && msg &&
	    strstr(msg, "FieldManager")));
}

/* Creates obj (POST to its collection) or replaces it (PUT with the
 * resourceVersion of before) as JSON. */
static ku_rc
ku_kube_replace(struct ku_kube *k, json_object *obj, const char *path,
    json_object *before, long *status, json_object **after, char **err)
{
	json_object *copy = NULL, *meta;
	const char *body;
	char *url;
	ku_rc rc;

	if (json_object_deep_copy(obj, &copy, NULL) != 0) {
		if (err)
			*err = xstrdup(_("out of memory"));
		return KU_ERR_NOMEM;
	}
	meta = ku_json_get(copy, "metadata");
	if (before && meta && ku_json_str(before, "metadata.resourceVersion"))
		json_object_object_add(meta, "resourceVersion",
		    json_object_new_string(ku_json_str(before,
		    "metadata.resourceVersion")));
	body = json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	url = before ? xstrdup(path) : ku_dirname(path);
	rc = ku_kube_request(k, before ? "PUT" : "POST", url,
	    "application/json", body, strlen(body), status, after, err);
	free(url);
	json_object_put(copy);
	return rc;
}

ku_rc
ku_kube_apply(struct ku_kube *k, json_object *obj, const char *text,
    size_t len, enum ku_apply_result *result, char **err)
{
	const char *av = ku_json_str(obj, "apiVersion");
	const char *kind = ku_json_str(obj, "kind");
	const char *name = ku_json_str(obj, "metadata.name");
	const char *ns = ku_json_str(obj, "metadata.namespace");
	json_object *before = NULL, *after = NULL;
	char *path = NULL, *url = NULL, *what;
	long status;
	ku_rc rc;

	if (av == NULL || kind == NULL || name == NULL) {
		if (err)
			*err = xstrdup(_("an object needs apiVersion, kind "
			    "and metadata.name"));
		return KU_ERR_INVALID;
	}
	what = xasprintf("apply %s %s%s%s", kind, ns ? ns : "", ns ? "/" :
	    "", name);
	rc = ku_kube_path(k, av, kind, ns, name, &path, err);
	if (rc == KU_OK)
		rc = ku_kube_get(k, path, &before, err);
	if (rc == KU_OK) {
		url = xasprintf("%s?fieldManager=%s&force=true", path,
		    KU_KUBE_FIELD_MANAGER);
		rc = ku_kube_request(k, "PATCH", url,
		    "application/apply-patch+yaml", text, len, &status, &after,
		    err);
		/* Another client created it between the two requests: an
		 * apply now updates it. */
		if (rc == KU_OK && status == 409 && before == NULL) {
			json_object_put(after);
			after = NULL;
			rc = ku_kube_request(k, "PATCH", url,
			    "application/apply-patch+yaml", text, len, &status,
			    &after, err);
		}
	}
	if (ku_kube_no_apply(k, rc, status, after)) {
		/* This server cannot apply this kind (1.20's aggregator
		 * panics on it): create or replace it instead. */
		ku_kube_logf(k, KU_LOG_WARN, _("%s: the apiserver cannot "
		    "apply it server-side; %s it instead"), what, before ?
		    _("replacing") : _("creating"));
		if (err) {
			free(*err);
			*err = NULL;
		}
		json_object_put(after);
		after = NULL;
		rc = ku_kube_replace(k, obj, path, before, &status, &after,
		    err);
	}
	if (rc == KU_OK && status != 200 && status != 201)
		rc = ku_kube_status_error(status, after, what, err);
	if (rc == KU_OK) {
		if (before == NULL)
			*result = KU_APPLY_CREATED;
		else if (ku_streq(ku_json_str(before,
		    "metadata.resourceVersion"),
		    ku_json_str(after, "metadata.resourceVersion")))
			*result = KU_APPLY_UNCHANGED;
		else
			*result = KU_APPLY_CHANGED;
	} else if (err && *err && !ku_str_has_prefix(*err, what)) {
		char *e = xasprintf("%s: %s", what, *err);

		free(*err);
		*err = e;
	}
	json_object_put(before);
	json_object_put(after);
	free(url);
	free(path);
	free(what);
	return rc;
}

bool
ku_kube_template_reads(json_object *tmpl, bool secret, const char *name)
{
	static const char *const lists[] = {
		"spec.initContainers", "spec.containers",
	};
	const char *vol_key = secret ? "secret.secretName" : "configMap.name";
	const char *src_key = secret ? "secret.name" : "configMap.name";
	const char *from_key = secret ? "secretRef.name" : "configMapRef.name";
	const char *ref_key = secret ? "valueFrom.secretKeyRef.name" :
	    "valueFrom.configMapKeyRef.name";
	json_object *vols = ku_json_get(tmpl, "spec.volumes");

	for (size_t i = 0; i < ku_json_len(vols); i++) {
		json_object *v = json_object_array_get_idx(vols, i);
		json_object *srcs = ku_json_get(v, "projected.sources");

		if (ku_streq(ku_json_str(v, vol_key), name))
			return true;
		for (size_t j = 0; j < ku_json_len(srcs); j++)
			if (ku_streq(ku_json_str(json_object_array_get_idx(
			    srcs, j), src_key), name))
				return true;
	}
	for (size_t l = 0; l < KU_ARRAY_LEN(lists); l++) {
		json_object *cs = ku_json_get(tmpl, lists[l]);

		for (size_t i = 0; i < ku_json_len(cs); i++) {
			json_object *c = json_object_array_get_idx(cs, i);
			json_object *ef = ku_json_get(c, "envFrom");
			json_object *env = ku_json_get(c, "env");

			for (size_t j = 0; j < ku_json_len(ef); j++)
				if (ku_streq(ku_json_str(json_object_array_get_idx(
				    ef, j), from_key), name))
					return true;
			for (size_t j = 0; j < ku_json_len(env); j++)
				if (ku_streq(ku_json_str(json_object_array_get_idx(
				    env, j), ref_key), name))
					return true;
		}
	}
	return false;
}

/* Restarts the pods of workload obj as kubectl rollout restart does: a
 * new annotation on its pod template. It is written under a field manager
 * of its own, so that kubeup's next apply (which does not name it)
 * leaves it, and its pods, alone. */
static ku_rc
ku_kube_restart(struct ku_kube *k, json_object *obj, const char *why,
    char **err)
{
	char *path = NULL, *url, *body, stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	json_object *out = NULL;
	long status = 0;
	ku_rc rc = ku_kube_path(k, ku_json_str(obj, "apiVersion"),
	    ku_json_str(obj, "kind"), ku_json_str(obj, "metadata.namespace"),
	    ku_json_str(obj, "metadata.name"), &path, err);

	if (rc != KU_OK)
		return rc;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = xasprintf("{\"spec\":{\"template\":{\"metadata\":{"
	    "\"annotations\":{\"kubeup.io/restarted-at\":\"%s\"}}}}}",
	    stamp);
	url = xasprintf("%s?fieldManager=%s-restart", path,
	    KU_KUBE_FIELD_MANAGER);
	rc = ku_kube_request(k, "PATCH", url, "application/merge-patch+json",
	    body, strlen(body), &status, &out, err);
	if (rc == KU_OK && status != 200) {
		char *what = xasprintf(_("restart %s %s"),
		    ku_json_str(obj, "kind"), ku_json_str(obj,
		    "metadata.name"));

		rc = ku_kube_status_error(status, out, what, err);
		free(what);
	}
	if (rc == KU_OK)
		ku_kube_logf(k, KU_LOG_INFO, _("%s %s: restarted: it reads %s, "
		    "which changed"), ku_json_str(obj, "kind"),
		    ku_json_str(obj, "metadata.name"), why);
	json_object_put(out);
	free(url);
	free(body);
	free(path);
	return rc;
}

/* After a manifest's ConfigMaps or Secrets changed, the workloads of the
 * same manifest that read them, and did not change themselves, are
 * restarted: their programs read such files once, at start (flannel's
 * net-conf.json, kube-proxy's configuration), and a Deployment or
 * DaemonSet left alone would go on with the old ones. */
static ku_rc
ku_kube_restart_readers(struct ku_kube *k, const struct ku_yaml_docs *docs,
    const enum ku_apply_result *res, const char *origin, char **err)
{
	ku_rc rc = KU_OK;

	for (size_t w = 0; w < docs->n && rc == KU_OK; w++) {
		json_object *o = docs->v[w].obj;
		const char *kind = ku_json_str(o, "kind");
		json_object *tmpl = ku_json_get(o, "spec.template");

		if (res[w] != KU_APPLY_UNCHANGED || tmpl == NULL ||
		    !(ku_streq(kind, "DaemonSet") ||
		    ku_streq(kind, "Deployment") ||
		    ku_streq(kind, "StatefulSet")))
			continue;
		for (size_t c = 0; c < docs->n; c++) {
			json_object *cfg = docs->v[c].obj;
			const char *ck = ku_json_str(cfg, "kind");
			bool secret = ku_streq(ck, "Secret");
			char *why, *e = NULL;

			if (res[c] != KU_APPLY_CHANGED || !(secret ||
			    ku_streq(ck, "ConfigMap")) ||
			    !ku_streq(ku_json_str(cfg, "metadata.namespace"),
			    ku_json_str(o, "metadata.namespace")) ||
			    !ku_kube_template_reads(tmpl, secret,
			    ku_json_str(cfg, "metadata.name")))
				continue;
			why = xasprintf("%s %s", ck, ku_json_str(cfg,
			    "metadata.name"));
			rc = ku_kube_restart(k, o, why, &e);
			free(why);
			if (rc != KU_OK && err)
				*err = xasprintf("%s:%d: %s", origin,
				    docs->v[w].line, e);
			free(e);
			break;
		}
	}
	return rc;
}

ku_rc
ku_kube_apply_manifest(struct ku_kube *k, const char *data, size_t len,
    const char *origin, struct ku_apply_counts *counts, char **err)
{
	struct ku_yaml_docs docs;
	enum ku_apply_result *results;
	ku_rc rc = ku_yaml_parse(data, len, origin, &docs, err);

	memset(counts, 0, sizeof *counts);
	if (rc != KU_OK)
		return rc;
	results = xcalloc(docs.n ? docs.n : 1, sizeof *results);
	for (size_t i = 0; i < docs.n && rc == KU_OK; i++) {
		enum ku_apply_result res;
		char *e = NULL;

		rc = ku_kube_apply(k, docs.v[i].obj, docs.v[i].text,
		    docs.v[i].len, &res, &e);
		if (rc != KU_OK) {
			if (err)
				*err = xasprintf("%s:%d: %s", origin,
				    docs.v[i].line, e);
			free(e);
			break;
		}
		ku_kube_logf(k, KU_LOG_INFO, "%s:%d: %s %s: %s", origin,
		    docs.v[i].line, ku_json_str(docs.v[i].obj, "kind"),
		    ku_json_str(docs.v[i].obj, "metadata.name"),
		    res == KU_APPLY_CREATED ? "created" :
		    res == KU_APPLY_CHANGED ? "changed" : "unchanged");
		results[i] = res;
		if (res == KU_APPLY_CREATED)
			counts->created++;
		else if (res == KU_APPLY_CHANGED)
			counts->changed++;
		else
			counts->unchanged++;
	}
	if (rc == KU_OK)
		rc = ku_kube_restart_readers(k, &docs, results, origin, err);
	free(results);
	ku_yaml_docs_free(&docs);
	return rc;
}

/* --- waiting --- */

ku_rc
ku_kube_wait(struct ku_kube *k, const char *what, int timeout_s,
    int interval_ms, ku_kube_cond_fn cond, void *arg, char **err)
{
	uint64_t deadline = ku_now_ms() + (uint64_t)timeout_s * 1000;
	char *seen = NULL;
	ku_rc rc;

	k->last_look = false;
	for (;;) {
		bool met = false;
		char *e = NULL;

		rc = cond(k, arg, &met, &seen, &e);
		if (rc == KU_OK && met)
			break;
		if (rc != KU_OK && rc != KU_ERR_CONNECT &&
		    rc != KU_ERR_TIMEOUT) {
			/* Only a lost connection is worth waiting out. */
			if (err)
				*err = xasprintf("%s: %s", what, e ? e : "");
			free(e);
			break;
		}
		if (rc != KU_OK) {
			free(seen);
			seen = e;
			e = NULL;
		}
		free(e);
		if (ku_now_ms() >= deadline && !k->last_look) {
			/* Once more, allowed to fetch what explains the wait
			 * (a pod's events), which would cost too much on
			 * every poll. */
			k->last_look = true;
			continue;
		}
		if (ku_now_ms() >= deadline) {
			rc = KU_ERR_TIMEOUT;
			if (err)
				*err = xasprintf(_("%s: not after %ds; last "
				    "seen: %s"), what, timeout_s,
				    seen ? seen : _("nothing"));
			break;
		}
		if (!ku_kube_pause(k, interval_ms)) {
			rc = KU_ERR_INTERRUPTED;
			if (err)
				*err = xasprintf(_("%s: interrupted"), what);
			break;
		}
	}
	free(seen);
	k->last_look = false;
	return rc;
}

bool
ku_kube_last_look(const struct ku_kube *k)
{
	return k->last_look;
}

/* The condition of a given type in status.conditions: its status string,
 * reason and message (borrowed), or NULL. */
static const char *
ku_kube_condition(json_object *obj, const char *type, const char **reason,
    const char **message)
{
	json_object *conds = ku_json_get(obj, "status.conditions");
	size_t n;

	*reason = *message = NULL;
	if (conds == NULL || !json_object_is_type(conds, json_type_array))
		return NULL;
	n = json_object_array_length(conds);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (ku_streq(ku_json_str(c, "type"), type)) {
			*reason = ku_json_str(c, "reason");
			*message = ku_json_str(c, "message");
			return ku_json_str(c, "status");
		}
	}
	return NULL;
}

char *
ku_kube_exit_text(json_object *terminated)
{
	char *m = ku_str_last_line(ku_json_str(terminated, "message"));
	char *r = xasprintf(_("status %" PRId64 "%s%.300s"),
	    ku_json_int(terminated, "exitCode", -1), m ? ": " : "",
	    m ? m : "");

	free(m);
	return r;
}

/* Why a pod's containers are not ready: the first waiting or terminated
 * container's reason and message, and a waiting one's last exit. */
static void
ku_kube_pod_why(json_object *pod, struct ku_buf *b)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses",
	};

	for (size_t l = 0; l < KU_ARRAY_LEN(lists); l++) {
		json_object *cs = ku_json_get(pod, lists[l]);
		size_t n = ku_json_len(cs);

		for (size_t i = 0; i < n; i++) {
			json_object *c = json_object_array_get_idx(cs, i);
			const char *st[] = { "state.waiting",
			    "state.terminated" };

			for (size_t s = 0; s < 2; s++) {
				json_object *w = ku_json_get(c, st[s]);
				const char *r = ku_json_str(w, "reason");
				const char *m = ku_json_str(w, "message");

				if (w == NULL || (s == 1 && ku_json_int(w,
				    "exitCode", 0) == 0))
					continue;
				json_object *last = ku_json_get(c,
				    "lastState.terminated");

				ku_buf_printf(b, "; container %s: %s%s%s",
				    ku_json_str(c, "name"), r ? r : "",
				    m ? ": " : "", m ? m : "");
				if (s == 0 && last != NULL) {
					char *t = ku_kube_exit_text(last);
					ku_buf_printf(b, _("; it last exited "
					    "with %s"), t);
					free(t);
				}
				return;
			}
		}
	}
}

void
ku_kube_readiness(json_object *obj, bool *ready, char **seen)
{
	const char *kind = ku_json_str(obj, "kind");
	int64_t gen = ku_json_int(obj, "metadata.generation", 0);
	int64_t observed = ku_json_int(obj, "status.observedGeneration", -1);
	const char *reason, *message, *cs;
	struct ku_buf b;

	ku_buf_init(&b, 4096);
	*ready = true;
	if (ku_streq(kind, "Deployment") || ku_streq(kind, "StatefulSet") ||
	    ku_streq(kind, "ReplicaSet") ||
	    ku_streq(kind, "ReplicationController")) {
		int64_t want = ku_json_int(obj, "spec.replicas", 1);
		int64_t rdy = ku_json_int(obj, "status.readyReplicas", 0);
		int64_t have = ku_json_int(obj, "status.replicas", 0);
		int64_t upd = ku_json_int(obj, "status.updatedReplicas", want);
		int64_t avail = ku_json_int(obj, "status.availableReplicas",
		    rdy);

		*ready = observed >= gen && rdy >= want && avail >= want &&
		    upd >= want && have == want;
		ku_buf_printf(&b, _("%" PRId64 "/%" PRId64 " ready"), rdy,
		    want);
		if (have != want)
			ku_buf_printf(&b, _(", %" PRId64 " pods"), have);
		if (observed < gen)
			ku_buf_adds(&b, _(", change not yet seen"));
	} else if (ku_streq(kind, "DaemonSet")) {
		int64_t want = ku_json_int(obj,
		    "status.desiredNumberScheduled", 0);
		int64_t rdy = ku_json_int(obj, "status.numberReady", 0);
		int64_t upd = ku_json_int(obj, "status.updatedNumberScheduled",
		    0);

		*ready = observed >= gen && observed > 0 && rdy == want &&
		    upd == want;
		ku_buf_printf(&b, _("%" PRId64 "/%" PRId64 " ready"), rdy,
		    want);
		if (observed < gen)
			ku_buf_adds(&b, _(", change not yet seen"));
	} else if (ku_streq(kind, "Pod")) {
		const char *phase = ku_json_str(obj, "status.phase");

		cs = ku_kube_condition(obj, "Ready", &reason, &message);
		*ready = ku_streq(phase, "Succeeded") ||
		    (ku_streq(phase, "Running") && ku_streq(cs, "True"));
		ku_buf_printf(&b, "%s", phase ? phase : _("no status yet"));
		if (ku_json_str(obj, "spec.nodeName"))
			ku_buf_printf(&b, _(" on %s"),
			    ku_json_str(obj, "spec.nodeName"));
		if (!*ready) {
			const char *pr, *pm;

			if (ku_streq(ku_kube_condition(obj, "PodScheduled",
			    &pr, &pm), "False"))
				ku_buf_printf(&b, _("; not scheduled: %s"),
				    pm ? pm : pr ? pr : "");
			ku_kube_pod_why(obj, &b);
		}
	} else if (ku_streq(kind, "Node")) {
		cs = ku_kube_condition(obj, "Ready", &reason, &message);
		*ready = ku_streq(cs, "True");
		ku_buf_printf(&b, "%s", *ready ? "Ready" : "NotReady");
		if (!*ready && (message || reason))
			ku_buf_printf(&b, ": %s", message ? message : reason);
	} else {
		ku_buf_adds(&b, _("exists"));
	}
	*seen = ku_buf_steal(&b);
}
