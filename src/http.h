/* Downloads of release binaries on libcurl, verified and cached.
 *
 * kubeup fetches kubelet and kubectl once, on the operator's machine, into a
 * cache folder, and uploads them from there to every machine:
 *
 *   <base_url>/v<version>/bin/linux/<arch>/<name>          the binary
 *   <base_url>/v<version>/bin/linux/<arch>/<name>.sha256   its hex digest
 *   <cache_dir>/<version>/<arch>/<name>                    where it is kept
 *
 * Trust. The bytes are hashed (SHA-256) while they arrive and compared with
 * the checksum kubeup pins in its version table (versions.h). Only for a
 * release or a binary without a pin is the server's .sha256 used; that
 * catches corruption, not tampering, so the result then carries a warning
 * (also logged). A mismatch is KU_ERR_CHECKSUM: the partial file is removed
 * and nothing is placed in the cache.
 *
 * The cache. A file is written to <name>.part and renamed into place only
 * after its checksum matched; the digest it was accepted with is kept next
 * to it in <name>.sha256, with (unpinned) the URL of the .sha256 it was
 * checked against. A cached file is used only after hashing it again (a
 * second install downloads nothing); a damaged one is removed and fetched
 * again, and so is an unpinned one checked against another server's
 * .sha256 (another mirror may serve other bytes for the same release). An interrupted .part is continued with a Range request,
 * its bytes hashed first; a server that answers 200 instead of 206 is read
 * from the start. Downloads of the same file (threads or processes) take
 * turns on an advisory lock of the .part file.
 *
 * The network. Only https:// URLs, redirects only to https:// (at most 5);
 * the server's certificate and name are always verified; there is no switch
 * to turn that off. A connect timeout, a low-speed limit (a stalled
 * transfer fails instead of hanging) and an overall deadline for the whole
 * call, retries included. Transient failures (no connection, timeouts,
 * 5xx, 408, 429, a truncated transfer) are retried with doubling pauses.
 *
 * Extra CA file: its certificates are ADDED to the system's trust store
 * (libcurl's default bundle), not substituted for it: an operator behind a
 * TLS-inspecting proxy or with a private mirror adds one CA and still
 * reaches dl.k8s.io. This goes through CURLOPT_SSL_CTX_FUNCTION (libcurl's
 * OpenSSL backend, checked at run time) with libcurl's CA cache disabled
 * for the handle, because a cached store would otherwise replace the
 * certificates added to the connection's store.
 *
 * Errors are kubeup's codes; with every failure comes *err (caller frees;
 * err may be NULL) naming the URL and what happened, with libcurl's own
 * words and the HTTP status:
 *   KU_ERR_INVALID   a bad request or option: not https, a malformed
 *                    version, arch or name, an unreadable CA file, an HTTP
 *                    4xx (the file is not there), a file past max_size, a
 *                    redirect to something other than https;
 *   KU_ERR_CONNECT   no connection, TLS refused (an untrusted certificate),
 *                    the connection lost, HTTP 5xx, too many redirects;
 *   KU_ERR_TIMEOUT   the connect timeout, the low-speed limit or the
 *                    overall deadline passed;
 *   KU_ERR_CHECKSUM  the bytes do not match: both digests in the message;
 *   KU_ERR_IO        the cache folder cannot be written or read;
 *   KU_ERR_ABORTED   the progress callback asked to stop (the .part file is
 *                    kept and continued next time).
 *
 * Threads: every call has its own libcurl handle; calls may run in
 * parallel from any threads. libcurl's global state is set up once
 * (pthread_once) by the first call.
 */
#ifndef KU_HTTP_H
#define KU_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "spec.h"

/* Called while a file downloads, at most once per progress_interval_ms and
 * once more at the end: bytes of the file on disk so far (a continued
 * transfer counts the bytes it started from; a transfer that has to start
 * over goes back to 0) and the file's size (0 while unknown). Return false
 * to stop the download (KU_ERR_ABORTED). Called on the downloading thread. */
typedef bool (*ku_http_progress_fn)(void *arg, const char *name,
    uint64_t done, uint64_t total);

/* Fill with ku_http_opts_init(), then set what differs. Strings are
 * borrowed for the call. Timeouts and sizes <= 0 mean the default. */
struct ku_http_opts {
	const char *base_url;        /* "https://dl.k8s.io/release" */
	const char *ca_file;         /* PEM, added to the system CAs; or NULL */
	const char *cache_dir;       /* required; created 0700 when missing */
	int connect_timeout_ms;      /* TCP and TLS handshake; default 15000 */
	int low_speed_limit;         /* bytes/s ...; default 1024 */
	int low_speed_time_s;        /* ... slower for this long fails; 30 */
	int total_timeout_ms;        /* the whole call; default 30 min */
	uint64_t max_size;           /* bytes; default 512 MiB */
	int retries;                 /* after the first try, 0..20; default 4 */
	int backoff_ms;              /* first pause, doubled; default 500 */
	int backoff_max_ms;          /* longest pause; default 8000 */
	ku_http_progress_fn progress;  /* may be NULL */
	void *progress_arg;
	int progress_interval_ms;    /* default 250 */
	struct ku_log *log;          /* may be NULL */
};

#define KU_HTTP_DEFAULT_BASE_URL "https://dl.k8s.io/release"
#define KU_HTTP_DEFAULT_MAX_SIZE (512ull * 1024 * 1024)

void ku_http_opts_init(struct ku_http_opts *opts);
/* Takes base_url, ca_file and cache_dir from the spec's downloads section
 * (borrowed: the spec must outlive the opts); the rest as opts_init. */
void ku_http_opts_from_spec(struct ku_http_opts *opts,
    const struct ku_spec *spec);

/* One release binary. */
struct ku_http_request {
	const char *version;   /* "1.35.0": MAJOR.MINOR.PATCH, no "v" */
	const char *arch;      /* "amd64", "arm64": [a-z0-9_]+ */
	const char *name;      /* "kubelet", "kubectl": [a-z0-9-]+ */
	/* The expected digest (64 hex digits), when the caller pins it itself.
	 * NULL: kubeup's pin for version/arch/name (ku_version_pin()), and
	 * only without one the server's .sha256, with a warning. */
	const char *sha256;
};

struct ku_http_result {
	char *path;            /* the verified file in the cache */
	char sha256[65];       /* its digest, lowercase hex */
	uint64_t size;
	bool from_cache;       /* nothing was downloaded */
	bool pinned;           /* checked against a pin, not the server */
	/* Set (and logged) when only the server's .sha256 vouched for the
	 * file; the operator should see it. NULL otherwise. */
	char *warning;
	int attempts;          /* transfers of the file; 0 on a cache hit */
	bool resumed;          /* a transfer continued a .part with Range */
};

/* Frees the members; the struct itself is the caller's. NULL is a no-op. */
void ku_http_result_free(struct ku_http_result *res);

/* Makes sure the verified file is in the cache, downloading it when it is
 * not (or is damaged), and fills *res (zeroed first; free it with
 * ku_http_result_free() whatever the outcome). */
ku_rc ku_http_fetch(const struct ku_http_opts *opts,
    const struct ku_http_request *req, struct ku_http_result *res,
    char **err);

/* "<base>/v<version>/bin/linux/<arch>/<name>" (one trailing '/' of base
 * ignored). Caller frees. No validation: ku_http_fetch() validates. */
char *ku_http_release_url(const char *base_url, const char *version,
    const char *arch, const char *name);


/* libcurl's global setup; ku_http_fetch() calls it. Safe from any thread,
 * any number of times. */
void ku_http_global_init(void);

#endif
