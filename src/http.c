/* Downloads of release binaries on libcurl: verified while they arrive,
 * cached, continued after an interruption. See http.h for the contract.
 *
 * Nothing of libcurl leaves this file: CURLcode and HTTP statuses are
 * turned into kubeup's codes and a message in xfer_fail().
 *
 * The pieces, from the outside in:
 *   ku_http_fetch()   validates, finds the expected digest, then under the
 *                     .part file's lock: cache check, .sha256, download,
 *                     verification, rename into place;
 *   xfer_run()        one URL with retries, pauses and the overall deadline;
 *   xfer_attempt()    one curl_easy_perform();
 *   the callbacks     write (hash + write to disk), header (Content-Range),
 *                     progress (rate-limited, may abort), SSL context
 *                     (adds the extra CAs to the connection's store).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http.h"
#include "i18n.h"
#include "log.h"
#include "util.h"
#include "versions.h"

#define KU_HTTP_MAX_REDIRS 5
#define KU_HTTP_SUM_MAX 4096          /* bytes of a .sha256 file */
#define KU_HTTP_MAX_RETRIES 20
#define KU_HTTP_LOCK_TRIES 16         /* a .part renamed under us, again */

/* --- global setup --- */

static pthread_once_t ku_http_once = PTHREAD_ONCE_INIT;
static CURLcode ku_http_init_rc = CURLE_FAILED_INIT;
static bool ku_http_openssl;          /* libcurl's TLS is OpenSSL */

static void
ku_http_init_once(void)
{
	const curl_version_info_data *vi;

	ku_http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ku_http_init_rc != CURLE_OK)
		return;
	vi = curl_version_info(CURLVERSION_NOW);
	ku_http_openssl = vi != NULL && vi->ssl_version != NULL &&
	    strncmp(vi->ssl_version, "OpenSSL/", 8) == 0;
}

void
ku_http_global_init(void)
{
	pthread_once(&ku_http_once, ku_http_init_once);
}

/* --- options --- */

void
ku_http_opts_init(struct ku_http_opts *o)
{
	memset(o, 0, sizeof *o);
	o->base_url = KU_HTTP_DEFAULT_BASE_URL;
	o->connect_timeout_ms = 15000;
	o->low_speed_limit = 1024;
	o->low_speed_time_s = 30;
	o->total_timeout_ms = 30 * 60 * 1000;
	o->max_size = KU_HTTP_DEFAULT_MAX_SIZE;
	o->retries = 4;
	o->backoff_ms = 500;
	o->backoff_max_ms = 8000;
	o->progress_interval_ms = 250;
}

void
ku_http_opts_from_spec(struct ku_http_opts *o, const struct ku_spec *spec)
{
	ku_http_opts_init(o);
	if (spec->download_base_url != NULL)
		o->base_url = spec->download_base_url;
	o->ca_file = spec->download_ca_file;
	o->cache_dir = spec->download_cache_dir;
}

/* Defaults for what the caller left at zero. */
static void
opts_normalize(struct ku_http_opts *o)
{
	struct ku_http_opts d;

	ku_http_opts_init(&d);
	if (o->connect_timeout_ms <= 0)
		o->connect_timeout_ms = d.connect_timeout_ms;
	if (o->low_speed_limit <= 0)
		o->low_speed_limit = d.low_speed_limit;
	if (o->low_speed_time_s <= 0)
		o->low_speed_time_s = d.low_speed_time_s;
	if (o->total_timeout_ms <= 0)
		o->total_timeout_ms = d.total_timeout_ms;
	if (o->max_size == 0)
		o->max_size = d.max_size;
	if (o->retries < 0)
		o->retries = 0;
	if (o->retries > KU_HTTP_MAX_RETRIES)
		o->retries = KU_HTTP_MAX_RETRIES;
	if (o->backoff_ms <= 0)
		o->backoff_ms = d.backoff_ms;
	if (o->backoff_max_ms < o->backoff_ms)
		o->backoff_max_ms = o->backoff_ms;
	if (o->progress_interval_ms <= 0)
		o->progress_interval_ms = d.progress_interval_ms;
}

/* --- small helpers --- */

void
ku_http_result_free(struct ku_http_result *res)
{
	if (res == NULL)
		return;
	free(res->path);
	free(res->warning);
	res->path = NULL;
	res->warning = NULL;
}

char *
ku_http_release_url(const char *base_url, const char *version,
    const char *arch, const char *name)
{
	size_t n = strlen(base_url);

	if (n > 0 && base_url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/v%s/bin/linux/%s/%s", (int)n, base_url, version,
	    arch, name);
}

/* A hex digest, possibly followed by white space and a file name (the
 * format of sha256sum and of dl.k8s.io's .sha256 files). */
static bool
parse_digest(const char *s, size_t len, char out[65])
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (len - i < 64)
		return false;
	for (size_t k = 0; k < 64; k++) {
		unsigned char c = (unsigned char)s[i + k];
		if (!isxdigit(c))
			return false;
		out[k] = (char)tolower(c);
	}
	out[64] = '\0';
	i += 64;
	return i == len || isspace((unsigned char)s[i]);
}

static bool
valid_token(const char *s, const char *extra)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && strchr(extra, *p) == NULL)
			return false;
	return true;
}

static void
pause_ms(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- extra CAs --- */

static void
cas_free(STACK_OF(X509) *cas)
{
	if (cas != NULL)
		sk_X509_pop_free(cas, X509_free);
}

/* Every certificate of a PEM file. */
static ku_rc
cas_load(const char *path, STACK_OF(X509) **out, char **msg)
{
	STACK_OF(X509) *cas = NULL;
	BIO *bio;
	X509 *x;

	*out = NULL;
	bio = BIO_new_file(path, "r");
	if (bio == NULL) {
		int e = errno;
		ERR_clear_error();
		*msg = xasprintf(_("CA file %s: %s"), path, strerror(e));
		return KU_ERR_INVALID;
	}
	cas = sk_X509_new_null();
	if (cas == NULL) {
		BIO_free(bio);
		return KU_ERR_NOMEM;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(cas, x) <= 0) {
			X509_free(x);
			break;
		}
	}
	/* The end of the file reads as an error ("no start line"). */
	ERR_clear_error();
	BIO_free(bio);
	if (sk_X509_num(cas) == 0) {
		cas_free(cas);
		*msg = xasprintf(_("CA file %s holds no PEM certificate"),
		    path);
		return KU_ERR_INVALID;
	}
	*out = cas;
	return KU_OK;
}

/* libcurl calls this for every new TLS connection, before it loads the
 * system bundle into the same store (CA cache disabled, see http.h). */
static CURLcode
sslctx_add_cas(CURL *curl, void *sslctx, void *arg)
{
	STACK_OF(X509) *cas = arg;
	X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);

	(void)curl;
	if (store == NULL)
		return CURLE_SSL_CERTPROBLEM;
	for (int i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
			/* OpenSSL 3 accepts duplicates: this is real. */
			ERR_clear_error();
			return CURLE_SSL_CERTPROBLEM;
		}
	return CURLE_OK;
}

/* --- one fetch --- */

struct fetch {
	struct ku_http_opts o;             /* normalized copy */
	const struct ku_http_request *req;
	CURL *curl;
	STACK_OF(X509) *cas;
	char *url;                         /* the binary */
	char *sum_url;                     /* its .sha256 */
	char *dir;                         /* <cache>/<version>/<arch> */
	char *path;                        /* dir/<name> */
	char *part;                        /* path.part */
	char *sidecar;                     /* path.sha256 */
	char pin[65];                      /* expected digest when pinned */
	bool pinned;
	const char *pin_source;            /* "kubeup's pin", ... */
	uint64_t deadline;                 /* ku_now_ms() */
	int lock_fd;                       /* the locked .part, or -1 */
	char errbuf[CURL_ERROR_SIZE];
};

/* One URL, retried. The body goes to fd (hashed) or to mem. */
struct xfer {
	struct fetch *f;
	const char *url;
	int fd;
	struct ku_buf *mem;
	EVP_MD_CTX *md;
	uint64_t max;
	uint64_t have;          /* bytes on disk and hashed (or in mem) */
	uint64_t base;          /* where this response's body starts */
	int attempts;
	bool resumed;           /* a 206 continued earlier bytes */
	bool too_big;
	bool reset_used;        /* the one start-over not counted as a try */
	/* per attempt */
	bool body_started;
	bool content_range;
	uint64_t cr_first;
	bool want_reset;        /* the bytes so far are unusable */
	ku_rc cb_rc;            /* a callback's failure */
	char *cb_msg;
	/* progress */
	bool progress;
	bool reported;
	uint64_t last_ms;
	uint64_t last_done;
	uint64_t last_total;
	uint64_t total;
};

static void
cb_fail(struct xfer *x, ku_rc rc, char *msg)
{
	if (x->cb_rc == KU_OK) {
		x->cb_rc = rc;
		free(x->cb_msg);
		x->cb_msg = msg;
	} else {
		free(msg);
	}
}

/* Forgets the bytes so far: the next attempt starts at 0. */
static ku_rc
xfer_reset(struct xfer *x)
{
	x->have = 0;
	x->base = 0;
	if (x->mem != NULL) {
		ku_buf_reset(x->mem);
		return KU_OK;
	}
	if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0)
		return KU_ERR_IO;
	if (EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1)
		return KU_ERR_NOMEM;
	return KU_OK;
}

/* Reports progress, at most every progress_interval_ms unless final.
 * false: the caller asked to stop. */
static bool
xfer_report(struct xfer *x, bool final)
{
	const struct ku_http_opts *o = &x->f->o;
	uint64_t now;

	if (!x->progress)
		return true;
	if (!final && !x->reported && x->have == 0)
		return true;
	if (x->reported && x->have == x->last_done &&
	    (!final || x->total == x->last_total))
		return true;
	now = ku_now_ms();
	if (!final && x->reported &&
	    now - x->last_ms < (uint64_t)o->progress_interval_ms)
		return true;
	x->reported = true;
	x->last_ms = now;
	x->last_done = x->have;
	x->last_total = x->total;
	return o->progress(o->progress_arg, x->f->req->name, x->have, x->total);
}

/* The first body byte (or the end of an empty body): the status decides
 * what the bytes on disk are worth. */
static bool
xfer_begin_body(struct xfer *x)
{
	long code = 0;

	x->body_started = true;
	curl_easy_getinfo(x->f->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 206 && x->have > 0 && x->content_range &&
	    x->cr_first == x->have) {
		x->base = x->have;
		x->resumed = true;
		return true;
	}
	if (code == 200) {
		if (x->have > 0) {
			ku_log(x->f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
			    "%s: the server ignored the range request (200, "
			    "not 206): reading it from the start", x->url);
			if (xfer_reset(x) != KU_OK) {
				cb_fail(x, KU_ERR_IO, xasprintf("%s: %s",
				    x->f->part, strerror(errno)));
				return false;
			}
		}
		x->base = 0;
		return true;
	}
	if (code == 206) {
		x->want_reset = true;
		cb_fail(x, KU_ERR_CONNECT, xasprintf(_("%s: the server sent "
		    "a part (HTTP 206) that does not continue the %" PRIu64
		    " bytes already here"), x->url, x->have));
		return false;
	}
	cb_fail(x, KU_ERR_CONNECT, xasprintf(_("%s: unexpected HTTP status "
	    "%ld"), x->url, code));
	return false;
}

static size_t
xfer_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	if (!x->body_started && !xfer_begin_body(x))
		return 0;
	if (len > x->max || x->have > x->max - len) {
		x->too_big = true;
		cb_fail(x, KU_ERR_INVALID, xasprintf(_("%s: larger than the "
		    "%" PRIu64 " bytes allowed"), x->url, x->max));
		return 0;
	}
	if (x->mem != NULL) {
		ku_buf_add(x->mem, ptr, len);
	} else {
		if (ku_write_all(x->fd, ptr, len) != KU_OK) {
			cb_fail(x, KU_ERR_IO, xasprintf("%s: %s",
			    x->f->part, strerror(errno)));
			return 0;
		}
		if (EVP_DigestUpdate(x->md, ptr, len) != 1) {
			cb_fail(x, KU_ERR_NOMEM, xasprintf("%s: SHA-256 failed",
			    x->url));
			return 0;
		}
	}
	x->have += len;
	return len;
}

/* Headers of every response, redirects included: the status line starts a
 * new one. Only Content-Range matters. */
static size_t
xfer_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nitems;
	char line[256];
	unsigned long long first;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		x->content_range = false;
		return len;
	}
	if (len < 14 || len >= sizeof line ||
	    strncasecmp(buf, "Content-Range:", 14) != 0)
		return len;
	memcpy(line, buf, len);
	line[len] = '\0';
	if (sscanf(line + 14, " bytes %llu-", &first) == 1) {
		x->content_range = true;
		x->cr_first = first;
	}
	return len;
}

static int
xfer_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	x->total = x->body_started && dltotal > 0 ?
	    x->base + (uint64_t)dltotal : 0;
	if (!xfer_report(x, false)) {
		cb_fail(x, KU_ERR_ABORTED, xasprintf(_("%s: stopped"),
		    x->url));
		return 1;
	}
	return 0;
}

/* Turns a failed attempt into kubeup's code and a message; *transient
 * when another attempt may succeed. */
static ku_rc
xfer_fail(struct xfer *x, CURLcode cc, long code, bool *transient,
    char **msg)
{
	const char *why = x->f->errbuf[0] ? x->f->errbuf :
	    curl_easy_strerror(cc);

	*transient = false;
	switch (cc) {
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->cb_rc != KU_OK) {
			*transient = x->want_reset;
			*msg = x->cb_msg;
			x->cb_msg = NULL;
			return x->cb_rc;
		}
		*msg = xasprintf("%s: %s", x->url, why);
		return KU_ERR_IO;
	case CURLE_OPERATION_TIMEDOUT:
		*transient = true;
		*msg = xasprintf(_("%s: timed out: %s"), x->url, why);
		return KU_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		*transient = true;
		*msg = xasprintf("%s: %s", x->url, why);
		return KU_ERR_CONNECT;
	case CURLE_PEER_FAILED_VERIFICATION:
		*msg = xasprintf(_("%s: the server's TLS certificate is not "
		    "trusted (%s); if the server uses a private CA, give it "
		    "with downloads.ca_file"), x->url, why);
		return KU_ERR_CONNECT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		*msg = xasprintf(_("%s: refused to follow a redirect to a URL "
		    "that is not https:// (%s)"), x->url, why);
		return KU_ERR_INVALID;
	case CURLE_TOO_MANY_REDIRECTS:
		*msg = xasprintf(_("%s: more than %d redirects (%s)"), x->url,
		    KU_HTTP_MAX_REDIRS, why);
		return KU_ERR_CONNECT;
	case CURLE_FILESIZE_EXCEEDED:
		x->too_big = true;
		*msg = xasprintf(_("%s: larger than the %" PRIu64 " bytes "
		    "allowed"), x->url, x->max);
		return KU_ERR_INVALID;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		*msg = xasprintf(_("%s: the trusted CAs cannot be loaded: %s"),
		    x->url, why);
		return KU_ERR_INVALID;
	case CURLE_OUT_OF_MEMORY:
		*msg = xasprintf("%s: %s", x->url, why);
		return KU_ERR_NOMEM;
	case CURLE_RANGE_ERROR:
		x->want_reset = true;
		*transient = true;
		*msg = xasprintf("%s: %s", x->url, why);
		return KU_ERR_CONNECT;
	case CURLE_HTTP_RETURNED_ERROR:
		if (code == 416) {
			/* Our .part is not a prefix of this file. */
			x->want_reset = true;
			*transient = true;
			*msg = xasprintf(_("%s: HTTP 416, the partial file is "
			    "not a part of this file: starting over"),
			    x->url);
			return KU_ERR_CONNECT;
		}
		if (code >= 500 || code == 408 || code == 429) {
			*transient = true;
			*msg = xasprintf(_("%s: HTTP %ld from the server (%s)"),
			    x->url, code, why);
			return KU_ERR_CONNECT;
		}
		*msg = xasprintf(_("%s: HTTP %ld (%s)"), x->url, code, why);
		return KU_ERR_INVALID;
	default:
		if (code > 0)
			*msg = xasprintf(_("%s: %s (HTTP %ld)"), x->url, why,
			    code);
		else
			*msg = xasprintf("%s: %s", x->url, why);
		return KU_ERR_CONNECT;
	}
}

static ku_rc
xfer_attempt(struct xfer *x, bool *transient, char **msg)
{
	struct fetch *f = x->f;
	CURL *c = f->curl;
	uint64_t now = ku_now_ms();
	char range[32];
	CURLcode cc;
	long code = 0;

	*transient = false;
	if (now >= f->deadline) {
		*msg = xasprintf(_("%s: the time limit of %d ms passed"),
		    x->url, f->o.total_timeout_ms);
		return KU_ERR_TIMEOUT;
	}
	x->body_started = false;
	x->content_range = false;
	x->want_reset = false;
	x->cb_rc = KU_OK;
	free(x->cb_msg);
	x->cb_msg = NULL;
	x->total = 0;
	f->errbuf[0] = '\0';
	/* A small file in memory is always read whole. */
	if (x->mem != NULL)
		(void)xfer_reset(x);

	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(f->deadline - now));
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	if (x->have > 0) {
		snprintf(range, sizeof range, "%" PRIu64 "-", x->have);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	} else {
		curl_easy_setopt(c, CURLOPT_RANGE, (char *)NULL);
	}
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		/* An empty body never reached the write callback. */
		if (!x->body_started && !xfer_begin_body(x)) {
			*transient = x->want_reset;
			*msg = x->cb_msg;
			x->cb_msg = NULL;
			return x->cb_rc;
		}
		return KU_OK;
	}
	return xfer_fail(x, cc, code, transient, msg);
}

/* The URL, retried on transient failures with doubling pauses, within the
 * fetch's deadline. */
static ku_rc
xfer_run(struct xfer *x, char **msg)
{
	const struct ku_http_opts *o = &x->f->o;
	uint64_t backoff = (uint64_t)o->backoff_ms;
	int tries_free = 0;
	ku_rc rc;

	for (;;) {
		bool transient = false;
		char *m = NULL;
		uint64_t now;

		x->attempts++;
		rc = xfer_attempt(x, &transient, &m);
		if (rc == KU_OK) {
			free(m);
			return KU_OK;
		}
		if (x->want_reset) {
			if (xfer_reset(x) != KU_OK) {
				*msg = xasprintf("%s: %s", x->f->part,
				    strerror(errno));
				free(m);
				return KU_ERR_IO;
			}
			/* A stale .part costs no try (once: a server that
			 * keeps doing it uses up the tries as usual). */
			if (transient && !x->reset_used) {
				x->reset_used = true;
				tries_free = 1;
			}
		}
		now = ku_now_ms();
		if (!transient || x->attempts - tries_free > o->retries ||
		    now >= x->f->deadline) {
			if (x->attempts > 1) {
				*msg = xasprintf(_("%s (after %d attempts)"), m,
				    x->attempts);
				free(m);
			} else {
				*msg = m;
			}
			return rc;
		}
		if (backoff > x->f->deadline - now)
			backoff = x->f->deadline - now;
		ku_log(o->log, KU_LOG_WARN, NULL, NULL, NULL,
		    "%s; attempt %d of %d, next in %" PRIu64 " ms", m,
		    x->attempts, o->retries + 1, backoff);
		free(m);
		pause_ms(backoff);
		backoff *= 2;
		if (backoff > (uint64_t)o->backoff_max_ms)
			backoff = (uint64_t)o->backoff_max_ms;
	}
}

/* The handle for the whole fetch: everything that does not change between
 * the .sha256 and the binary, or between attempts. */
static ku_rc
fetch_curl_setup(struct fetch *f, char **msg)
{
	CURL *c = curl_easy_init();
	CURLcode cc = CURLE_OK;

	if (c == NULL) {
		*msg = xstrdup(_("libcurl cannot make a handle"));
		return KU_ERR_NOMEM;
	}
	f->curl = c;
#define SET(opt, val) do {                                         \
	if (cc == CURLE_OK)                                        \
		cc = curl_easy_setopt(c, opt, val);                \
} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, f->errbuf);
	SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)KU_HTTP_MAX_REDIRS);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)f->o.connect_timeout_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)f->o.low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, (long)f->o.low_speed_time_s);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_WRITEFUNCTION, xfer_write_cb);
	SET(CURLOPT_HEADERFUNCTION, xfer_header_cb);
	SET(CURLOPT_XFERINFOFUNCTION, xfer_progress_cb);
	SET(CURLOPT_NOPROGRESS, 0L);
	if (cc != CURLE_OK) {
		*msg = xasprintf(_("libcurl refused an option: %s"),
		    curl_easy_strerror(cc));
		return KU_ERR_INVALID;
	}
	if (f->cas != NULL) {
		if (!ku_http_openssl) {
			*msg = xstrdup(_("downloads.ca_file needs libcurl "
			    "built with OpenSSL (libcurl4-openssl-dev)"));
			return KU_ERR_INVALID;
		}
#if LIBCURL_VERSION_NUM >= 0x075700
		/* A cached store would replace the one the callback adds to. */
		SET(CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
		SET(CURLOPT_SSL_CTX_FUNCTION, sslctx_add_cas);
		SET(CURLOPT_SSL_CTX_DATA, f->cas);
		if (cc != CURLE_OK) {
			*msg = xasprintf(_("downloads.ca_file cannot be used "
			    "with this libcurl: %s"), curl_easy_strerror(cc));
			return KU_ERR_INVALID;
		}
	}
#undef SET
	return KU_OK;
}

/* The sidecar's line naming the .sha256 an unpinned file was checked
 * against: a file accepted on one server's word is not taken on
 * another's. */
#define KU_HTTP_CHECKED "checked-against "

/* The digest the cached file must have: the pin, or (unpinned) the one it
 * was accepted with, kept in the sidecar, when it came from this server's
 * .sha256 (*elsewhere set when it came from another's). false: none. */
static bool
fetch_cached_expect(struct fetch *f, char out[65], bool *elsewhere)
{
	struct ku_buf b;
	char *line;
	bool ok;

	*elsewhere = false;
	if (f->pinned) {
		memcpy(out, f->pin, 65);
		return true;
	}
	line = xasprintf("\n" KU_HTTP_CHECKED "%s\n", f->sum_url);
	ku_buf_init(&b, 0);
	ok = ku_read_file(f->sidecar, KU_HTTP_SUM_MAX + strlen(line), &b) ==
	    KU_OK && parse_digest(b.data ? b.data : "", b.len, out);
	if (ok && strstr(b.data, line) == NULL) {
		*elsewhere = true;
		ok = false;
	}
	ku_buf_free(&b);
	free(line);
	return ok;
}

/* Whether the cache holds the verified file; fills res on a hit. With the
 * lock held, a damaged file is removed. */
static ku_rc
fetch_cache_check(struct fetch *f, bool locked, struct ku_http_result *res,
    bool *hit, char **msg)
{
	char want[65], got[65];
	struct stat st;
	bool elsewhere;

	*hit = false;
	if (lstat(f->path, &st) != 0) {
		if (errno == ENOENT)
			return KU_OK;
		*msg = xasprintf(_("cache %s: %s"), f->path, strerror(errno));
		return KU_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		*msg = xasprintf(_("cache %s is not a regular file"), f->path);
		return KU_ERR_IO;
	}
	if (ku_sha256_file(f->path, got) != KU_OK) {
		if (errno == ENOENT)    /* removed by a download just now */
			return KU_OK;
		*msg = xasprintf(_("cache %s: %s"), f->path, strerror(errno));
		return KU_ERR_IO;
	}
	if (fetch_cached_expect(f, want, &elsewhere) &&
	    strcmp(want, got) == 0) {
		*hit = true;
		res->path = xstrdup(f->path);
		memcpy(res->sha256, got, 65);
		res->size = (uint64_t)st.st_size;
		res->from_cache = true;
		ku_log(f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
		    "%s: in the cache, sha256 %s", f->path, got);
		return KU_OK;
	}
	if (!locked)
		return KU_OK;
	if (elsewhere)
		ku_log(f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
		    "%s: cached after a check against another server's "
		    ".sha256: fetching it from this one", f->path);
	else
		ku_log(f->o.log, KU_LOG_WARN, NULL, NULL, NULL,
		    "%s: cached file damaged or unverifiable (sha256 %s): "
		    "fetching it again", f->path, got);
	if ((unlink(f->path) != 0 && errno != ENOENT) ||
	    (unlink(f->sidecar) != 0 && errno != ENOENT)) {
		*msg = xasprintf(_("cache %s: %s"), f->path, strerror(errno));
		return KU_ERR_IO;
	}
	return KU_OK;
}

/* Opens and locks <name>.part, waiting (polled, with a deadline) while
 * another download of the same file holds it. A .part renamed into place
 * or removed by that download while we waited is opened again. */
static ku_rc
fetch_lock(struct fetch *f, char **msg)
{
	for (int tries = 0; tries < KU_HTTP_LOCK_TRIES; tries++) {
		uint64_t wait = 10;
		struct stat a, b;
		int fd = open(f->part, O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0600);

		if (fd < 0) {
			*msg = xasprintf(_("cache %s: %s"), f->part,
			    strerror(errno));
			return KU_ERR_IO;
		}
		while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			uint64_t now = ku_now_ms();
			if (errno != EWOULDBLOCK && errno != EINTR) {
				*msg = xasprintf(_("cache %s: lock: %s"),
				    f->part, strerror(errno));
				close(fd);
				return KU_ERR_IO;
			}
			if (now >= f->deadline) {
				*msg = xasprintf(_("cache %s: another download "
				    "of this file is still running"), f->part);
				close(fd);
				return KU_ERR_TIMEOUT;
			}
			if (wait > f->deadline - now)
				wait = f->deadline - now;
			pause_ms(wait);
			if (wait < 200)
				wait *= 2;
		}
		if (fstat(fd, &a) == 0 && stat(f->part, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			f->lock_fd = fd;
			return KU_OK;
		}
		close(fd);
	}
	*msg = xasprintf(_("cache %s: the partial file keeps changing"),
	    f->part);
	return KU_ERR_IO;
}

/* Drops the lock; an empty .part (nothing downloaded) goes too. */
static void
fetch_unlock(struct fetch *f)
{
	struct stat st;

	if (f->lock_fd < 0)
		return;
	if (fstat(f->lock_fd, &st) == 0 && st.st_size == 0)
		(void)unlink(f->part);
	close(f->lock_fd);
	f->lock_fd = -1;
}

/* The server's .sha256, for a file kubeup has no pin for. */
static ku_rc
fetch_server_digest(struct fetch *f, char out[65], char **msg)
{
	struct ku_buf b;
	struct xfer x;
	ku_rc rc;

	ku_buf_init(&b, 0);
	memset(&x, 0, sizeof x);
	x.f = f;
	x.url = f->sum_url;
	x.fd = -1;
	x.mem = &b;
	x.max = KU_HTTP_SUM_MAX;
	rc = xfer_run(&x, msg);
	free(x.cb_msg);
	if (rc == KU_OK && !parse_digest(b.data ? b.data : "", b.len, out)) {
		*msg = xasprintf(_("%s: not a SHA-256 digest (expected 64 hex "
		    "digits)"), f->sum_url);
		rc = KU_ERR_CHECKSUM;
	}
	ku_buf_free(&b);
	return rc;
}

/* Hashes the bytes a .part already holds, so that a continued transfer's
 * digest covers the whole file. */
static ku_rc
xfer_take_part(struct xfer *x)
{
	char *chunk;
	struct stat st;
	uint64_t off = 0;
	ku_rc rc = KU_OK;

	if (fstat(x->fd, &st) != 0)
		return KU_ERR_IO;
	if ((uint64_t)st.st_size > x->max)
		return xfer_reset(x);
	if (lseek(x->fd, 0, SEEK_SET) != 0)
		return KU_ERR_IO;
	chunk = xmalloc(65536);
	while (off < (uint64_t)st.st_size) {
		ssize_t n = read(x->fd, chunk, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = KU_ERR_IO;
			break;
		}
		if (EVP_DigestUpdate(x->md, chunk, (size_t)n) != 1) {
			rc = KU_ERR_NOMEM;
			break;
		}
		off += (uint64_t)n;
	}
	free(chunk);
	if (rc != KU_OK)
		return rc;
	/* Whatever a concurrent writer added is beyond what was hashed. */
	if (ftruncate(x->fd, (off_t)off) != 0 ||
	    lseek(x->fd, (off_t)off, SEEK_SET) != (off_t)off)
		return KU_ERR_IO;
	x->have = off;
	return KU_OK;
}

static ku_rc
fetch_place(struct fetch *f, const char *digest, char **msg)
{
	char *line = f->pinned ? xasprintf("%s  %s\n", digest, f->req->name) :
	    xasprintf("%s  %s\n" KU_HTTP_CHECKED "%s\n", digest, f->req->name,
	    f->sum_url);
	ku_rc rc = KU_OK;

	if (fchmod(f->lock_fd, 0755) != 0 || fsync(f->lock_fd) != 0 ||
	    ku_write_file_atomic(f->sidecar, line, strlen(line), 0600) !=
	    KU_OK || rename(f->part, f->path) != 0 ||
	    ku_fsync_dir(f->dir) != KU_OK) {
		*msg = xasprintf(_("cache %s: %s"), f->path, strerror(errno));
		rc = KU_ERR_IO;
	}
	free(line);
	return rc;
}

/* The download itself, into the locked .part, verified against expect. */
static ku_rc
fetch_download(struct fetch *f, const char *expect, const char *source,
    struct ku_http_result *res, char **msg)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char got[65];
	bool fresh_try = false;
	struct xfer x;
	ku_rc rc;

	memset(&x, 0, sizeof x);
	x.f = f;
	x.url = f->url;
	x.fd = f->lock_fd;
	x.max = f->o.max_size;
	x.progress = f->o.progress != NULL;
	x.md = EVP_MD_CTX_new();
	if (x.md == NULL || EVP_DigestInit_ex(x.md, EVP_sha256(), NULL) != 1) {
		rc = KU_ERR_NOMEM;
		*msg = xasprintf("%s: SHA-256 unavailable", f->url);
		goto out;
	}
again:
	rc = xfer_take_part(&x);
	if (rc != KU_OK) {
		*msg = xasprintf(_("cache %s: %s"), f->part, strerror(errno));
		goto out;
	}
	if (x.have > 0)
		ku_log(f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
		    "%s: continuing %s from byte %" PRIu64, f->url, f->part,
		    x.have);
	else
		ku_log(f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
		    "%s: downloading into %s", f->url, f->part);
	rc = xfer_run(&x, msg);
	if (rc != KU_OK) {
		if (x.too_big)
			(void)ftruncate(f->lock_fd, 0);
		goto out;
	}
	if (EVP_DigestFinal_ex(x.md, md, &mdlen) != 1 || mdlen != 32) {
		rc = KU_ERR_NOMEM;
		*msg = xasprintf("%s: SHA-256 failed", f->url);
		goto out;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	if (strcmp(got, expect) != 0) {
		if (x.resumed && !fresh_try) {
			/* The earlier bytes may come from another file. */
			ku_log(f->o.log, KU_LOG_WARN, NULL, NULL, NULL,
			    "%s: continued download does not match (sha256 "
			    "%s, expected %s): downloading it whole", f->url,
			    got, expect);
			fresh_try = true;
			x.resumed = false;
			if (xfer_reset(&x) != KU_OK) {
				rc = KU_ERR_IO;
				*msg = xasprintf(_("cache %s: %s"), f->part,
				    strerror(errno));
				goto out;
			}
			goto again;
		}
		(void)ftruncate(f->lock_fd, 0);
		rc = KU_ERR_CHECKSUM;
		*msg = xasprintf(_("%s: checksum mismatch: expected sha256 %s "
		    "(%s), got %s; the file was not kept"), f->url, expect,
		    source, got);
		goto out;
	}
	rc = fetch_place(f, got, msg);
	if (rc != KU_OK)
		goto out;
	res->path = xstrdup(f->path);
	memcpy(res->sha256, got, 65);
	res->size = x.have;
	res->resumed = x.resumed;
	x.total = x.have;
	(void)xfer_report(&x, true);
	ku_log(f->o.log, KU_LOG_INFO, NULL, NULL, NULL,
	    "%s: %" PRIu64 " bytes, sha256 %s (%s), in %s", f->url, x.have,
	    got, source, f->path);
out:
	res->attempts += x.attempts;
	EVP_MD_CTX_free(x.md);
	free(x.cb_msg);
	return rc;
}

static ku_rc
fetch_validate(struct fetch *f, char **msg)
{
	const struct ku_http_request *r = f->req;
	const char *u = f->o.base_url;
	int major, minor, patch;

	if (u == NULL || *u == '\0') {
		*msg = xstrdup(_("no download URL given"));
		return KU_ERR_INVALID;
	}
	if (strncasecmp(u, "http://", 7) == 0) {
		*msg = xasprintf(_("%s: plain http is refused, downloads are "
		    "always made over verified TLS: use https://"), u);
		return KU_ERR_INVALID;
	}
	if (strncasecmp(u, "https://", 8) != 0 || u[8] == '\0' ||
	    u[8] == '/') {
		*msg = xasprintf(_("%s is not an https:// URL"), u);
		return KU_ERR_INVALID;
	}
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*msg = xasprintf(_("%s: the URL holds a space or a "
			    "control character"), u);
			return KU_ERR_INVALID;
		}
	if (f->o.cache_dir == NULL || *f->o.cache_dir == '\0') {
		*msg = xstrdup(_("no download cache folder given"));
		return KU_ERR_INVALID;
	}
	if (r->version == NULL ||
	    !ku_version_parse(r->version, &major, &minor, &patch)) {
		*msg = xasprintf(_("%s is not a release (MAJOR.MINOR.PATCH)"),
		    r->version ? r->version : "(null)");
		return KU_ERR_INVALID;
	}
	if (!valid_token(r->arch, "_")) {
		*msg = xasprintf(_("%s is not an architecture (amd64, arm64)"),
		    r->arch ? r->arch : "(null)");
		return KU_ERR_INVALID;
	}
	if (!valid_token(r->name, "-")) {
		*msg = xasprintf(_("%s is not a binary's name"),
		    r->name ? r->name : "(null)");
		return KU_ERR_INVALID;
	}
	if (r->sha256 != NULL &&
	    !parse_digest(r->sha256, strlen(r->sha256), f->pin)) {
		*msg = xasprintf(_("%s is not a SHA-256 digest"), r->sha256);
		return KU_ERR_INVALID;
	}
	return KU_OK;
}

static ku_rc
fetch_prepare(struct fetch *f, char **msg)
{
	const struct ku_http_request *r = f->req;
	const char *pin;
	ku_rc rc;

	rc = fetch_validate(f, msg);
	if (rc != KU_OK)
		return rc;
	if (r->sha256 != NULL) {
		f->pinned = true;
		f->pin_source = _("the caller's pin");
	} else if ((pin = ku_version_pin(ku_version_find(r->version), r->arch,
	    r->name)) != NULL && parse_digest(pin, strlen(pin), f->pin)) {
		f->pinned = true;
		f->pin_source = _("kubeup's pin");
	}
	f->url = ku_http_release_url(f->o.base_url, r->version, r->arch,
	    r->name);
	f->sum_url = xasprintf("%s.sha256", f->url);
	f->dir = xasprintf("%s/%s/%s", f->o.cache_dir, r->version, r->arch);
	f->path = xasprintf("%s/%s", f->dir, r->name);
	f->part = xasprintf("%s.part", f->path);
	f->sidecar = xasprintf("%s.sha256", f->path);
	if (f->o.ca_file != NULL) {
		rc = cas_load(f->o.ca_file, &f->cas, msg);
		if (rc != KU_OK)
			return rc;
	}
	if (ku_mkdir_p(f->dir, 0700) != KU_OK) {
		*msg = xasprintf(_("cache folder %s: %s"), f->dir,
		    strerror(errno));
		return KU_ERR_IO;
	}
	return fetch_curl_setup(f, msg);
}

static char *
unpinned_warning(const struct ku_http_request *r)
{
	return xasprintf(_("%s %s (linux/%s): kubeup has no pinned checksum "
	    "for it; it was checked against the server's %s.sha256 only, "
	    "which catches a damaged download but not a tampered one"),
	    r->name, r->version, r->arch, r->name);
}

ku_rc
ku_http_fetch(const struct ku_http_opts *opts,
    const struct ku_http_request *req, struct ku_http_result *res,
    char **err)
{
	struct fetch f;
	char *msg = NULL;
	char server[65];
	bool hit = false;
	ku_rc rc;

	memset(res, 0, sizeof *res);
	if (err != NULL)
		*err = NULL;
	memset(&f, 0, sizeof f);
	f.lock_fd = -1;
	f.req = req;
	f.o = *opts;
	opts_normalize(&f.o);
	f.deadline = ku_now_ms() + (uint64_t)f.o.total_timeout_ms;

	ku_http_global_init();
	if (ku_http_init_rc != CURLE_OK) {
		msg = xasprintf(_("libcurl cannot start: %s"),
		    curl_easy_strerror(ku_http_init_rc));
		rc = KU_ERR_IO;
		goto out;
	}
	rc = fetch_prepare(&f, &msg);
	if (rc != KU_OK)
		goto out;

	/* A hit needs no lock: files are only ever renamed into place. */
	rc = fetch_cache_check(&f, false, res, &hit, &msg);
	if (rc != KU_OK || hit)
		goto out;
	rc = fetch_lock(&f, &msg);
	if (rc != KU_OK)
		goto out;
	/* Another download may have placed it while we waited. */
	rc = fetch_cache_check(&f, true, res, &hit, &msg);
	if (rc != KU_OK || hit)
		goto out;
	if (!f.pinned) {
		rc = fetch_server_digest(&f, server, &msg);
		if (rc != KU_OK)
			goto out;
	}
	rc = fetch_download(&f, f.pinned ? f.pin : server,
	    f.pinned ? f.pin_source : _("the server's .sha256"), res, &msg);
out:
	fetch_unlock(&f);
	if (rc == KU_OK) {
		res->pinned = f.pinned;
		if (!f.pinned) {
			res->warning = unpinned_warning(req);
			ku_log(f.o.log, KU_LOG_WARN, NULL, NULL, NULL, "%s",
			    res->warning);
		}
	} else {
		ku_http_result_free(res);
		ku_log(f.o.log, KU_LOG_ERROR, NULL, NULL, NULL, "%s",
		    msg ? msg : ku_strerror(rc));
		if (err != NULL) {
			*err = msg;
			msg = NULL;
		}
	}
	free(msg);
	if (f.curl != NULL)
		curl_easy_cleanup(f.curl);
	cas_free(f.cas);
	free(f.url);
	free(f.sum_url);
	free(f.dir);
	free(f.path);
	free(f.part);
	free(f.sidecar);
	return rc;
}
