/* Unit tests of src/http.c against real servers on 127.0.0.1:
 *
 * - Debian's nginx (NGINX_PATH), HTTPS with a CA and a certificate for
 *   127.0.0.1 made here with OPENSSL_PATH, serving files at the release
 *   paths with their .sha256 files, started in the foreground for the
 *   whole group, its pid, logs and temp files in a mkdtemp folder; its
 *   access log tells which requests arrived (and with which Range);
 * - a small TLS server in a thread of this process for what nginx cannot
 *   do on demand: a truncated body, a stall, 500 then 200, a server that
 *   ignores Range, redirects, an oversized body. It records every request.
 *
 * When a test fails, its teardown prints nginx's error log, the requests
 * both servers saw, and kubeup's log.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http.h"
#include "log.h"
#include "testlib.h"
#include "util.h"
#include "versions.h"

#define V "1.20.2"                   /* unpinned: the test-only release */
#define REL "/v" V "/bin/linux/amd64/"

/* --- files the servers hold --- */

struct file {
	const char *uri;        /* under nginx's root */
	size_t len;
	unsigned seed;
	unsigned char *data;
	char sum[65];
};

static struct file kubelet = { .uri = REL "kubelet", .len = 3 * 1048576 + 17,
	.seed = 1 };
static struct file kubectl = { .uri = REL "kubectl", .len = 1048576 + 3,
	.seed = 2 };
static struct file badsum = { .uri = REL "badsum", .len = 65536, .seed = 3 };
static struct file kubelet_arm = { .uri = "/v" V "/bin/linux/arm64/kubelet",
	.len = 200000, .seed = 4 };
/* Served with a correct .sha256, but kubeup pins another digest. */
static struct file fake_135 = { .uri = "/v1.35.0/bin/linux/amd64/kubelet",
	.len = 131072, .seed = 5 };
/* What the fault server sends for every file. */
static struct file fault_file = { .uri = "(fault)", .len = 262144 + 5,
	.seed = 6 };

static void
file_make(struct file *f)
{
	uint32_t x = f->seed * 2654435761u + 1;

	f->data = xmalloc(f->len);
	for (size_t i = 0; i < f->len; i++) {
		x = x * 1664525u + 1013904223u;
		f->data[i] = (unsigned char)(x >> 24);
	}
	ku_sha256_hex(f->data, f->len, f->sum);
}

static void
spit(const char *path, const void *data, size_t len)
{
	char *dir = ku_dirname(path);

	assert_int_equal(ku_mkdir_p(dir, 0755), KU_OK);
	free(dir);
	assert_int_equal(ku_write_file_atomic(path, data, len, 0644), KU_OK);
}

static char *
slurp(const char *path, size_t *len)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	if (ku_read_file(path, 0, &b) != KU_OK) {
		ku_buf_free(&b);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return ku_buf_steal(&b);
}

/* --- the fault server --- */

struct fault_req {
	char path[200];
	char range[64];         /* "" when none */
};

struct fault {
	SSL_CTX *ctx;
	int lfd;
	int port;
	int stop[2];
	pthread_t th;
	bool running;
	pthread_mutex_t mu;
	struct fault_req reqs[256];
	size_t n;
};

struct env {
	bool ready;
	char *dir;
	char *ca;               /* the CA nginx's and the fault server's cert */
	char *other_ca;         /* a CA that signed nothing here */
	char *not_pem;
	char *crt;
	char *key;
	char *prefix;           /* nginx's -p */
	char *conf;
	char *error_log;
	char *access_log;
	char *www;
	pid_t nginx;
	int port;
	char *base;             /* https://127.0.0.1:port */
	struct fault fault;
	char *fault_base;
	int marker;
};

static struct env E;

static ssize_t
tls_write_all(SSL *ssl, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		int n = SSL_write(ssl, p, len > 16384 ? 16384 : (int)len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
tls_printf(SSL *ssl, const char *fmt, ...) KU_PRINTF(2, 3);

static void
tls_printf(SSL *ssl, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	(void)tls_write_all(ssl, s, strlen(s));
	free(s);
}

/* Waits until the client goes away (or the server stops), at most 20 s. */
static void
fault_wait_close(struct fault *s, SSL *ssl, int fd)
{
	uint64_t end = ku_now_ms() + 20000;
	char buf[256];

	while (ku_now_ms() < end) {
		struct pollfd p[2] = { { fd, POLLIN, 0 },
			{ s->stop[0], POLLIN, 0 } };
		if (poll(p, 2, 200) < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			return;
		if (p[0].revents) {
			if (SSL_read(ssl, buf, sizeof buf) <= 0)
				return;
		}
	}
}

/* Sleeps ms unless the server stops; false when it does. */
static bool
fault_nap(struct fault *s, int ms)
{
	struct pollfd p = { s->stop[0], POLLIN, 0 };

	return poll(&p, 1, ms) == 0;
}

static void
fault_redirect(SSL *ssl, const char *scheme, const char *path)
{
	tls_printf(ssl, "HTTP/1.1 302 Found\r\nLocation: %s://127.0.0.1:%d"
	    "%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", scheme,
	    E.port, path);
}

/* The files the fault server has a .sha256 for. */
static bool
fault_known(const char *name)
{
	static const char *const names[] = { "trunc", "norange", "flaky",
		"stall", "trickle", "huge", "hugestream" };

	for (size_t i = 0; i < KU_ARRAY_LEN(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* One request: what it gets depends on the file's name and on how many
 * times that path was asked for since the test began. */
static void
fault_serve(struct fault *s, int fd)
{
	const unsigned char *data = fault_file.data;
	size_t len = fault_file.len;
	char req[8192];
	size_t got = 0;
	char path[200] = "";
	char rangebuf[64] = "";
	unsigned long long from = 0;
	bool has_range = false;
	size_t seen = 0;
	const char *name, *h;
	char base[200];
	bool sum;
	bool clean = true;
	SSL *ssl = SSL_new(s->ctx);
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		goto out;
	while (got < sizeof req - 1) {
		int n = SSL_read(ssl, req + got, (int)(sizeof req - 1 - got));
		if (n <= 0)
			goto out;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (sscanf(req, "GET %199s", path) != 1)
		goto out;
	for (h = req; (h = strchr(h, '\n')) != NULL; h++)
		if (strncasecmp(h + 1, "Range: bytes=", 13) == 0) {
			has_range = sscanf(h + 14, "%llu-", &from) == 1;
			snprintf(rangebuf, sizeof rangebuf, "bytes=%llu-",
			    from);
		}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->reqs[i].path, path) == 0)
			seen++;
	if (s->n < KU_ARRAY_LEN(s->reqs)) {
		snprintf(s->reqs[s->n].path, sizeof s->reqs[s->n].path, "%s",
		    path);
		snprintf(s->reqs[s->n].range, sizeof s->reqs[s->n].range,
		    "%s", rangebuf);
		s->n++;
	}
	pthread_mutex_unlock(&s->mu);

	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	snprintf(base, sizeof base, "%s", name);
	sum = strlen(base) > 7 &&
	    strcmp(base + strlen(base) - 7, ".sha256") == 0;
	if (sum)
		base[strlen(base) - 7] = '\0';

	if (strcmp(base, "tohttp") == 0 || strcmp(base, "tohttps") == 0) {
		fault_redirect(ssl, strcmp(base, "tohttp") == 0 ? "http" :
		    "https", sum ? REL "kubectl.sha256" : REL "kubectl");
	} else if (strcmp(base, "loop") == 0) {
		tls_printf(ssl, "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n", path);
	} else if (sum && strcmp(base, "longsum") == 0) {
		/* 66 hex digits: not a SHA-256. */
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%sff  %s\n",
		    strlen(fault_file.sum) + 5 + strlen(base), fault_file.sum,
		    base);
	} else if (sum && fault_known(base)) {
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s  %s\n",
		    strlen(fault_file.sum) + 3 + strlen(base), fault_file.sum,
		    base);
	} else if (strcmp(base, "trunc") == 0) {
		if (!has_range || from >= len) {
			/* Half, a clean TLS close: curl sees a short body. */
			tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: "
			    "%zu\r\nAccept-Ranges: bytes\r\nConnection: close"
			    "\r\n\r\n", len);
			(void)tls_write_all(ssl, data, len / 2);
		} else {
			tls_printf(ssl, "HTTP/1.1 206 Partial Content\r\n"
			    "Content-Range: bytes %llu-%zu/%zu\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    from, len - 1, len, len - (size_t)from);
			(void)tls_write_all(ssl, data + from, len - from);
		}
	} else if (strcmp(base, "norange") == 0) {
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", len);
		if (seen == 0) {
			/* A third, then the connection just drops. */
			(void)tls_write_all(ssl, data, len / 3);
			clean = false;
		} else {
			(void)tls_write_all(ssl, data, len);
		}
	} else if (strcmp(base, "flaky") == 0) {
		if (seen < 2)
			tls_printf(ssl, "HTTP/1.1 500 Internal Server Error\r\n"
			    "Content-Length: 5\r\nConnection: close\r\n\r\n"
			    "oops\n");
		else {
			tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: "
			    "%zu\r\nConnection: close\r\n\r\n", len);
			(void)tls_write_all(ssl, data, len);
		}
	} else if (strcmp(base, "stall") == 0) {
		fault_wait_close(s, ssl, fd);
		clean = false;
	} else if (strcmp(base, "trickle") == 0) {
		/* 2.5 kB/s: above the low-speed limit, never finishing. */
		uint64_t end = ku_now_ms() + 20000;
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
		    "Connection: close\r\n\r\n", 10 * 1048576);
		for (size_t off = 0; ku_now_ms() < end; off += 256) {
			if (tls_write_all(ssl, data + off % (len - 256),
			    256) != 0 || !fault_nap(s, 100))
				break;
		}
		clean = false;
	} else if (strcmp(base, "huge") == 0) {
		/* The length says too much; a little of the body, then
		 * nothing: only a refusal on the headers ends this early. */
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
		    "Connection: close\r\n\r\n", 2 * 1048576);
		(void)tls_write_all(ssl, data, 65536);
		fault_wait_close(s, ssl, fd);
		clean = false;
	} else if (strcmp(base, "hugestream") == 0) {
		/* No length: the size shows only while it arrives. */
		tls_printf(ssl, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		for (int i = 0; i < 8; i++)
			if (tls_write_all(ssl, data, 262144) != 0)
				break;
	} else {
		tls_printf(ssl, "HTTP/1.1 404 Not Found\r\nContent-Length: 0"
		    "\r\nConnection: close\r\n\r\n");
	}
	if (clean)
		(void)SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
}

static void *
fault_main(void *arg)
{
	struct fault *s = arg;

	for (;;) {
		struct pollfd p[2] = { { s->lfd, POLLIN, 0 },
			{ s->stop[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		fault_serve(s, fd);
		close(fd);
	}
	return NULL;
}

static void
fault_reset(struct fault *s)
{
	pthread_mutex_lock(&s->mu);
	s->n = 0;
	pthread_mutex_unlock(&s->mu);
}

/* How many requests for path; the Range of the i-th one into range. */
static int
fault_count(struct fault *s, const char *path, int i, char *range,
    size_t rangelen)
{
	int n = 0;

	pthread_mutex_lock(&s->mu);
	for (size_t k = 0; k < s->n; k++) {
		if (strcmp(s->reqs[k].path, path) != 0)
			continue;
		if (n == i && range != NULL)
			snprintf(range, rangelen, "%s", s->reqs[k].range);
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static int
listen_local(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0 ||
	    listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static bool
fault_start(struct fault *s)
{
	memset(s, 0, sizeof *s);
	s->lfd = -1;
	s->stop[0] = s->stop[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (s->ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(s->ctx, E.crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(s->ctx, E.key, SSL_FILETYPE_PEM) != 1)
		return false;
	s->lfd = listen_local(&s->port);
	if (s->lfd < 0 || pipe(s->stop) != 0)
		return false;
	if (pthread_create(&s->th, NULL, fault_main, s) != 0)
		return false;
	s->running = true;
	return true;
}

static void
fault_stop(struct fault *s)
{
	if (s->running) {
		(void)write(s->stop[1], "x", 1);
		pthread_join(s->th, NULL);
		s->running = false;
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop[0] >= 0) {
		close(s->stop[0]);
		close(s->stop[1]);
	}
	SSL_CTX_free(s->ctx);
	s->ctx = NULL;
	pthread_mutex_destroy(&s->mu);
}

/* --- outside programs --- */

/* Runs argv (no shell), its output appended to <dir>/commands.log. */
static int
run(const char *const argv[])
{
	char *log = ku_path_join(E.dir, "commands.log");
	int status = -1;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	free(log);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void
dump_file(const char *what, const char *path, size_t from)
{
	size_t len = 0;
	char *s = slurp(path, &len);
	char *line, *save = NULL;

	fprintf(stderr, "# --- %s (%s) ---\n", what, path);
	if (s == NULL) {
		fprintf(stderr, "#   (unreadable)\n");
		return;
	}
	if (from > len)
		from = len;
	for (line = strtok_r(s + from, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "#   %s\n", line);
	free(s);
}

static bool
make_pki(void)
{
	char *pki = ku_path_join(E.dir, "pki");
	char *cnf = ku_path_join(pki, "openssl.cnf");
	char *ca_key = ku_path_join(pki, "ca.key");
	char *other_key = ku_path_join(pki, "other.key");
	char *csr = ku_path_join(pki, "server.csr");
	static const char conf[] =
	    "[req]\n"
	    "distinguished_name = dn\n"
	    "prompt = no\n"
	    "[dn]\n"
	    "CN = kubeup test\n"
	    "[ca_ext]\n"
	    "basicConstraints = critical,CA:TRUE\n"
	    "keyUsage = critical,keyCertSign,cRLSign\n"
	    "subjectKeyIdentifier = hash\n"
	    "[srv_ext]\n"
	    "basicConstraints = critical,CA:FALSE\n"
	    "keyUsage = critical,digitalSignature\n"
	    "extendedKeyUsage = serverAuth\n"
	    "subjectAltName = IP:127.0.0.1\n"
	    "subjectKeyIdentifier = hash\n"
	    "authorityKeyIdentifier = keyid\n";
	bool ok = false;

	E.ca = ku_path_join(pki, "ca.crt");
	E.other_ca = ku_path_join(pki, "other.crt");
	E.crt = ku_path_join(pki, "server.crt");
	E.key = ku_path_join(pki, "server.key");
	E.not_pem = ku_path_join(pki, "not-pem.crt");
	spit(cnf, conf, sizeof conf - 1);
	spit(E.not_pem, "hello\n", 6);
	{
		const char *ca[] = { OPENSSL_PATH, "req", "-config", cnf,
			"-x509",
			"-new", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
			ca_key, "-out", E.ca, "-days", "2", "-extensions",
			"ca_ext", "-subj", "/CN=kubeup test CA", NULL };
		const char *other[] = { OPENSSL_PATH, "req", "-config", cnf,
			"-x509",
			"-new", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
			other_key, "-out", E.other_ca, "-days", "2",
			"-extensions", "ca_ext", "-subj",
			"/CN=kubeup other CA", NULL };
		const char *req[] = { OPENSSL_PATH, "req", "-config", cnf,
			"-new",
			"-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
			E.key, "-out", csr, "-subj", "/CN=127.0.0.1", NULL };
		const char *sign[] = { OPENSSL_PATH, "x509", "-req", "-in", csr,
			"-CA", E.ca, "-CAkey", ca_key, "-set_serial", "2",
			"-days", "2", "-out", E.crt, "-extfile", cnf,
			"-extensions", "srv_ext", NULL };
		ok = run(ca) == 0 && run(other) == 0 && run(req) == 0 &&
		    run(sign) == 0;
	}
	if (!ok) {
		char *log = ku_path_join(E.dir, "commands.log");
		dump_file("openssl", log, 0);
		free(log);
	}
	free(pki);
	free(cnf);
	free(ca_key);
	free(other_key);
	free(csr);
	return ok;
}

static void
make_www(void)
{
	struct file *files[] = { &kubelet, &kubectl, &badsum, &kubelet_arm,
		&fake_135 };

	E.www = ku_path_join(E.dir, "www");
	for (size_t i = 0; i < KU_ARRAY_LEN(files); i++) {
		struct file *f = files[i];
		char *path = xasprintf("%s%s", E.www, f->uri);
		char *sumpath = xasprintf("%s.sha256", path);
		const char *name = strrchr(f->uri, '/') + 1;
		char *line;

		spit(path, f->data, f->len);
		if (f == &badsum)   /* the digest of other bytes */
			line = xasprintf("%s  %s\n", kubectl.sum, name);
		else if (f == &kubectl)   /* just the digest, as dl.k8s.io */
			line = xstrdup(f->sum);
		else
			line = xasprintf("%s  %s\n", f->sum, name);
		spit(sumpath, line, strlen(line));
		free(line);
		free(path);
		free(sumpath);
	}
}

static void
nginx_stop(void)
{
	uint64_t end;
	int status;

	if (E.nginx <= 0)
		return;
	kill(E.nginx, SIGTERM);
	end = ku_now_ms() + 10000;
	for (long wait = 5;; wait = wait < 200 ? wait * 2 : wait) {
		pid_t r = waitpid(E.nginx, &status, WNOHANG);
		if (r == E.nginx || (r < 0 && errno == ECHILD))
			break;
		if (ku_now_ms() > end) {
			kill(E.nginx, SIGKILL);
			(void)waitpid(E.nginx, &status, 0);
			break;
		}
		tl_sleep_ms(wait);
	}
	E.nginx = 0;
}

/* Starts nginx in the foreground on a free port; polls the port. */
static bool
nginx_start(void)
{
	struct ku_buf c;
	char *tmp = ku_path_join(E.prefix, "tmp");

	ku_buf_init(&c, 0);
	for (int tries = 0; tries < 3; tries++) {
		int probe = listen_local(&E.port);
		uint64_t end;
		pid_t pid;

		if (probe < 0)
			break;
		close(probe);
		ku_buf_reset(&c);
		ku_buf_printf(&c,
		    "master_process off;\n"
		    "pid %s/nginx.pid;\n"
		    "error_log %s info;\n"
		    "events { worker_connections 64; }\n"
		    "http {\n"
		    "  log_format t '$request_method $uri $status $http_range "
		    "$body_bytes_sent';\n"
		    "  access_log %s t;\n"
		    "  client_body_temp_path %s/body;\n"
		    "  proxy_temp_path %s/proxy;\n"
		    "  fastcgi_temp_path %s/fastcgi;\n"
		    "  uwsgi_temp_path %s/uwsgi;\n"
		    "  scgi_temp_path %s/scgi;\n"
		    "  types { }\n"
		    "  default_type application/octet-stream;\n"
		    "  log_not_found off;\n"
		    "  keepalive_timeout 5s;\n"
		    "  server {\n"
		    "    listen 127.0.0.1:%d ssl;\n"
		    "    ssl_certificate %s;\n"
		    "    ssl_certificate_key %s;\n"
		    "    root %s;\n"
		    "    location /slow/ { alias %s/; limit_rate 2m; }\n"
		    "  }\n"
		    "}\n",
		    E.prefix, E.error_log, E.access_log, tmp, tmp, tmp, tmp,
		    tmp, E.port, E.crt, E.key, E.www, E.www);
		spit(E.conf, c.data, c.len);
		assert_int_equal(ku_mkdir_p(tmp, 0700), KU_OK);

		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			int fd = open(E.error_log, O_WRONLY | O_CREAT |
			    O_APPEND, 0600);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execl(NGINX_PATH, "nginx", "-p", E.prefix, "-c", E.conf,
			    "-e", E.error_log, "-g", "daemon off;",
			    (char *)NULL);
			_exit(127);
		}
		if (pid < 0)
			break;
		E.nginx = pid;
		end = ku_now_ms() + TL_DEADLINE_S * 1000;
		for (long wait = 5; ku_now_ms() < end;
		    wait = wait < 200 ? wait * 2 : wait) {
			int status;
			if (tl_port_open(E.port)) {
				ku_buf_free(&c);
				free(tmp);
				return true;
			}
			if (waitpid(pid, &status, WNOHANG) == pid) {
				E.nginx = 0;
				break;
			}
			tl_sleep_ms(wait);
		}
		dump_file("nginx error log", E.error_log, 0);
		nginx_stop();
	}
	ku_buf_free(&c);
	free(tmp);
	return false;
}

static int
group_setup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof E);
	file_make(&kubelet);
	file_make(&kubectl);
	file_make(&badsum);
	file_make(&kubelet_arm);
	file_make(&fake_135);
	file_make(&fault_file);
	E.dir = tl_mkdtemp("http");
	E.prefix = ku_path_join(E.dir, "nginx");
	E.conf = ku_path_join(E.prefix, "nginx.conf");
	E.error_log = ku_path_join(E.prefix, "error.log");
	E.access_log = ku_path_join(E.prefix, "access.log");
	if (NGINX_PATH[0] == '\0' || access(NGINX_PATH, X_OK) != 0 ||
	    OPENSSL_PATH[0] == '\0' || access(OPENSSL_PATH, X_OK) != 0) {
		fprintf(stderr, "# nginx (%s) or openssl (%s) missing: "
		    "apt-get install nginx openssl\n", NGINX_PATH,
		    OPENSSL_PATH);
		return 0;
	}
	make_www();
	if (!make_pki() || !nginx_start() || !fault_start(&E.fault))
		return 0;
	E.base = xasprintf("https://127.0.0.1:%d", E.port);
	E.fault_base = xasprintf("https://127.0.0.1:%d", E.fault.port);
	E.ready = true;
	return 0;
}

static int
group_teardown(void **state)
{
	struct file *files[] = { &kubelet, &kubectl, &badsum, &kubelet_arm,
		&fake_135, &fault_file };

	(void)state;
	nginx_stop();
	if (E.fault.ctx != NULL || E.fault.running)
		fault_stop(&E.fault);
	tl_rmtree(E.dir);
	for (size_t i = 0; i < KU_ARRAY_LEN(files); i++) {
		free(files[i]->data);
		files[i]->data = NULL;
	}
	free(E.dir);
	free(E.ca);
	free(E.other_ca);
	free(E.not_pem);
	free(E.crt);
	free(E.key);
	free(E.prefix);
	free(E.conf);
	free(E.error_log);
	free(E.access_log);
	free(E.www);
	free(E.base);
	free(E.fault_base);
	return 0;
}

/* --- per test --- */

struct fx {
	char *tmp;
	char *cache;            /* not there yet: ku_http_fetch makes it */
	char *logpath;
	struct ku_log *log;
	struct ku_http_opts o;
	struct ku_http_result res;
	char *err;
	size_t access_from;     /* nginx's access log before this test */
	size_t error_from;      /* and its error log */
	bool began;             /* begin() ran: the servers' logs are ours */
	bool passed;
};

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Lines of nginx's access log since the test began with this URI (and
 * this status, unless NULL); the Range of the i-th into range. */
static int
nginx_count(struct fx *f, const char *uri, const char *status, int i,
    char *range, size_t rangelen)
{
	size_t len = 0;
	char *s = slurp(E.access_log, &len);
	char *line, *save = NULL;
	int n = 0;

	if (s == NULL)
		return 0;
	for (line = strtok_r(s + (f->access_from < len ? f->access_from :
	    len), "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char method[16], u[256], st[8], rg[64];
		if (sscanf(line, "%15s %255s %7s %63s", method, u, st,
		    rg) != 4 || strcmp(u, uri) != 0 ||
		    (status != NULL && strcmp(st, status) != 0))
			continue;
		if (n == i && range != NULL)
			snprintf(range, rangelen, "%s", rg);
		n++;
	}
	free(s);
	return n;
}

/* Makes one more request and waits until nginx logged it: every earlier
 * request is in the access log then (one process, requests in order). */
static void
nginx_sync(struct fx *f)
{
	struct ku_http_opts o;
	struct ku_http_result r;
	struct ku_http_request q = { .version = V, .arch = "amd64" };
	char name[32], uri[128];
	char *err = NULL;
	uint64_t end;
	size_t from = f->access_from;

	snprintf(name, sizeof name, "marker-%d", ++E.marker);
	snprintf(uri, sizeof uri, REL "%s.sha256", name);
	q.name = name;
	ku_http_opts_init(&o);
	o.base_url = E.base;
	o.ca_file = E.ca;
	o.cache_dir = f->cache;
	o.retries = 0;
	assert_int_equal(ku_http_fetch(&o, &q, &r, &err), KU_ERR_INVALID);
	ku_http_result_free(&r);
	free(err);
	f->access_from = 0;
	end = ku_now_ms() + TL_DEADLINE_S * 1000;
	for (long wait = 2; nginx_count(f, uri, "404", 0, NULL, 0) == 0;
	    wait = wait < 100 ? wait * 2 : wait) {
		if (ku_now_ms() > end)
			fail_msg("nginx never logged %s", uri);
		tl_sleep_ms(wait);
	}
	f->access_from = from;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	f->tmp = tl_mkdtemp("http-test");
	f->cache = xasprintf("%s/cache/kubeup", f->tmp);
	f->logpath = ku_path_join(f->tmp, "kubeup.log");
	assert_int_equal(ku_log_open(f->logpath, &f->log), KU_OK);
	ku_http_opts_init(&f->o);
	f->o.base_url = E.base;
	f->o.ca_file = E.ca;
	f->o.cache_dir = f->cache;
	f->o.retries = 2;
	f->o.backoff_ms = 20;
	f->o.backoff_max_ms = 100;
	f->o.low_speed_time_s = 5;
	f->o.total_timeout_ms = TL_DEADLINE_S * 1000;
	f->o.log = f->log;
	*state = f;
	return 0;
}

/* The start of a test that uses the servers. Not in setup(): a failure
 * there would skip teardown() and leave the folder behind. */
static void
begin(struct fx *f)
{
	if (!E.ready)
		fail_msg("the test servers did not start (see above)");
	fault_reset(&E.fault);
	/* What the test before asked for is in the access log by now. */
	nginx_sync(f);
	f->access_from = (size_t)size_of(E.access_log);
	f->error_from = (size_t)size_of(E.error_log);
	f->began = true;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (!f->passed && f->began) {
		fprintf(stderr, "# test failed; err: %s\n",
		    f->err ? f->err : "(none)");
		dump_file("nginx error log, this test", E.error_log,
		    f->error_from);
		dump_file("nginx access log, this test", E.access_log,
		    f->access_from);
		pthread_mutex_lock(&E.fault.mu);
		fprintf(stderr, "# --- fault server requests ---\n");
		for (size_t i = 0; i < E.fault.n; i++)
			fprintf(stderr, "#   GET %s %s\n", E.fault.reqs[i].path,
			    E.fault.reqs[i].range);
		pthread_mutex_unlock(&E.fault.mu);
		ku_log_close(f->log);
		f->log = NULL;
		dump_file("kubeup log", f->logpath, 0);
	}
	ku_log_close(f->log);
	ku_http_result_free(&f->res);
	free(f->err);
	tl_rmtree(f->tmp);
	free(f->tmp);
	free(f->cache);
	free(f->logpath);
	free(f);
	return 0;
}

static ku_rc
fetch(struct fx *f, const char *version, const char *arch, const char *name,
    const char *sha256)
{
	struct ku_http_request q = { .version = version, .arch = arch,
		.name = name, .sha256 = sha256 };

	ku_http_result_free(&f->res);
	free(f->err);
	f->err = NULL;
	return ku_http_fetch(&f->o, &q, &f->res, &f->err);
}

static char *
cache_path(struct fx *f, const char *version, const char *arch,
    const char *name)
{
	return xasprintf("%s/%s/%s/%s", f->cache, version, arch, name);
}

/* The cached file holds exactly want's bytes. */
static void
assert_cached(struct fx *f, const char *arch, const char *name,
    const struct file *want)
{
	char *path = cache_path(f, V, arch, name);
	char *part = xasprintf("%s.part", path);
	size_t len = 0;
	char *data = slurp(path, &len);

	assert_non_null(data);
	assert_int_equal(len, want->len);
	assert_memory_equal(data, want->data, want->len);
	assert_false(ku_path_exists(part));
	assert_non_null(f->res.path);
	assert_string_equal(f->res.path, path);
	assert_string_equal(f->res.sha256, want->sum);
	assert_int_equal(f->res.size, want->len);
	free(data);
	free(part);
	free(path);
}

/* No file at all under the cache folder (folders may stay). */
static int
count_files_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F)
		fprintf(stderr, "# left in the cache: %s\n", path);
	return flag == FTW_F ? 1 : 0;
}

static void
assert_cache_empty(struct fx *f)
{
	if (!ku_path_exists(f->cache))
		return;
	assert_int_equal(nftw(f->cache, count_files_cb, 16, FTW_PHYS), 0);
}

static bool
log_contains(struct fx *f, const char *needle)
{
	char *s = slurp(f->logpath, NULL);
	bool found = s != NULL && strstr(s, needle) != NULL;

	free(s);
	return found;
}

/* --- tests: no server --- */

static void
test_pins(void **state)
{
	struct fx *f = *state;
	const struct ku_version *v135 = ku_version_find("1.35.0");
	const struct ku_version *v120 = ku_version_find("1.20.2");
	const char *bins[] = { "kubelet", "kubectl" };
	const char *arches[] = { "amd64", "arm64" };
	char *url;

	assert_non_null(v135);
	assert_non_null(v120);
	for (size_t a = 0; a < 2; a++)
		for (size_t b = 0; b < 2; b++) {
			const char *p = ku_version_pin(v135, arches[a],
			    bins[b]);
			assert_non_null(p);
			assert_int_equal(strlen(p), 64);
			assert_int_equal(strspn(p, "0123456789abcdef"), 64);
		}
	assert_string_equal(ku_version_pin(v135, "amd64", "kubelet"),
	    "2f4ed7778681649b81244426c29c5d98df60ccabf83d561d69e61c1cbb943ddf");
	assert_string_equal(ku_version_pin(v135, "arm64", "kubectl"),
	    "58f82f9fe796c375c5c4b8439850b0f3f4d401a52434052f2df46035a8789e25");
	assert_null(ku_version_pin(v120, "amd64", "kubelet"));
	assert_null(ku_version_pin(v135, "s390x", "kubelet"));
	assert_null(ku_version_pin(v135, "amd64", "kube-proxy"));
	assert_null(ku_version_pin(NULL, "amd64", "kubelet"));

	url = ku_http_release_url("https://dl.k8s.io/release/", "1.35.0",
	    "arm64", "kubectl");
	assert_string_equal(url,
	    "https://dl.k8s.io/release/v1.35.0/bin/linux/arm64/kubectl");
	free(url);
	f->passed = true;
}

static void
test_sha256_file(void **state)
{
	struct fx *f = *state;
	char *path = ku_path_join(f->tmp, "abc");
	char out[65];

	spit(path, "abc", 3);
	assert_int_equal(ku_sha256_file(path, out), KU_OK);
	assert_string_equal(out,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	spit(path, "", 0);
	assert_int_equal(ku_sha256_file(path, out), KU_OK);
	assert_string_equal(out,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(path);
	path = ku_path_join(f->tmp, "missing");
	assert_int_equal(ku_sha256_file(path, out), KU_ERR_IO);
	assert_int_equal(errno, ENOENT);
	free(path);
	f->passed = true;
}

/* Nothing is asked of any server for a request that cannot be right. */
static void
test_invalid_requests(void **state)
{
	struct fx *f = *state;
	struct ku_http_opts saved = f->o;

	begin(f);
	assert_int_equal(fetch(f, "v1.20.2", "amd64", "kubelet", NULL),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "v1.20.2"));
	assert_int_equal(fetch(f, V, "../amd64", "kubelet", NULL),
	    KU_ERR_INVALID);
	assert_int_equal(fetch(f, V, "amd64", "a/b", NULL), KU_ERR_INVALID);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", "12ab"),
	    KU_ERR_INVALID);
	f->o.cache_dir = NULL;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL),
	    KU_ERR_INVALID);
	f->o = saved;
	f->o.ca_file = E.not_pem;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, E.not_pem));
	f->o = saved;
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, NULL, 0), 0);
	assert_int_equal(nginx_count(f, REL "kubelet.sha256", NULL, 0, NULL,
	    0), 0);
	assert_cache_empty(f);
	f->passed = true;
}

/* --- tests: nginx --- */

static void
test_unpinned_uses_server_sum(void **state)
{
	struct fx *f = *state;
	char *dir;
	struct stat st;

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL), KU_OK);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_false(f->res.pinned);
	assert_false(f->res.from_cache);
	assert_int_equal(f->res.attempts, 1);
	assert_non_null(f->res.warning);
	assert_non_null(strstr(f->res.warning, "kubelet.sha256"));
	assert_non_null(strstr(f->res.warning, "no pinned checksum"));
	assert_true(log_contains(f, "no pinned checksum"));
	/* The cache folder is private. */
	assert_int_equal(stat(f->cache, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	dir = xasprintf("%s/%s/amd64", f->cache, V);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);

	/* A .sha256 holding only the digest works as well. */
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_cached(f, "amd64", "kubectl", &kubectl);
	assert_non_null(f->res.warning);

	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, "200", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, REL "kubelet.sha256", "200", 0, NULL,
	    0), 1);
	f->passed = true;
}

/* A pin wins over the server's word: badsum's .sha256 is wrong, the
 * caller's pin right; the .sha256 is not even asked for. */
static void
test_pinned_no_warning(void **state)
{
	struct fx *f = *state;

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "badsum", badsum.sum), KU_OK);
	assert_cached(f, "amd64", "badsum", &badsum);
	assert_true(f->res.pinned);
	assert_null(f->res.warning);
	assert_false(log_contains(f, "no pinned checksum"));
	nginx_sync(f);
	assert_int_equal(nginx_count(f, badsum.uri, "200", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, REL "badsum.sha256", NULL, 0, NULL,
	    0), 0);
	/* Upper-case hex is the same digest. */
	{
		char upper[65];
		for (int i = 0; i < 65; i++)
			upper[i] = (char)toupper((unsigned char)badsum.sum[i]);
		assert_int_equal(fetch(f, V, "amd64", "badsum", upper), KU_OK);
		assert_true(f->res.from_cache);
	}
	f->passed = true;
}

static void
test_mismatch_refused(void **state)
{
	struct fx *f = *state;

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "badsum", NULL),
	    KU_ERR_CHECKSUM);
	assert_non_null(strstr(f->err, kubectl.sum));   /* expected */
	assert_non_null(strstr(f->err, badsum.sum));    /* got */
	assert_non_null(strstr(f->err, badsum.uri));
	assert_null(f->res.path);
	assert_cache_empty(f);

	/* A wrong pin from the caller: the same. */
	assert_int_equal(fetch(f, V, "amd64", "kubectl", badsum.sum),
	    KU_ERR_CHECKSUM);
	assert_non_null(strstr(f->err, badsum.sum));
	assert_non_null(strstr(f->err, kubectl.sum));
	assert_cache_empty(f);
	f->passed = true;
}

/* 1.35.0 is pinned in kubeup's table: a file that matches the server's
 * .sha256 but not the pin is refused, and the .sha256 never asked for. */
static void
test_table_pin_refuses(void **state)
{
	struct fx *f = *state;
	const char *pin = ku_version_pin(ku_version_find("1.35.0"), "amd64",
	    "kubelet");

	begin(f);
	assert_non_null(pin);
	assert_int_equal(fetch(f, "1.35.0", "amd64", "kubelet", NULL),
	    KU_ERR_CHECKSUM);
	assert_non_null(strstr(f->err, pin));
	assert_non_null(strstr(f->err, fake_135.sum));
	assert_non_null(strstr(f->err, "kubeup's pin"));
	assert_cache_empty(f);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, fake_135.uri, "200", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, "/v1.35.0/bin/linux/amd64/kubelet"
	    ".sha256", NULL, 0, NULL, 0), 0);
	f->passed = true;
}

static void
test_cache_hit(void **state)
{
	struct fx *f = *state;

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL), KU_OK);
	assert_false(f->res.from_cache);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL), KU_OK);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_true(f->res.from_cache);
	assert_int_equal(f->res.attempts, 0);
	assert_non_null(f->res.warning);      /* still only the server's word */
	assert_int_equal(fetch(f, V, "amd64", "badsum", badsum.sum), KU_OK);
	assert_int_equal(fetch(f, V, "amd64", "badsum", badsum.sum), KU_OK);
	assert_true(f->res.from_cache);
	assert_null(f->res.warning);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, REL "kubelet.sha256", NULL, 0, NULL,
	    0), 1);
	assert_int_equal(nginx_count(f, badsum.uri, NULL, 0, NULL, 0), 1);
	f->passed = true;
}

/* An unpinned file accepted on one server's .sha256 is fetched again from
 * another server, which may serve other bytes for the same release; a
 * pinned one is the pin's wherever it came from. */
static void
test_cache_other_server(void **state)
{
	struct fx *f = *state;
	char *slow = xasprintf("%s/slow", E.base);

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_true(f->res.from_cache);
	f->o.base_url = slow;
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_false(f->res.from_cache);
	assert_non_null(f->res.warning);
	assert_cached(f, "amd64", "kubectl", &kubectl);
	assert_true(log_contains(f, "another server's .sha256"));
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_true(f->res.from_cache);
	f->o.base_url = E.base;
	assert_int_equal(fetch(f, V, "amd64", "kubectl", kubectl.sum), KU_OK);
	assert_true(f->res.from_cache);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubectl.uri, "200", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, "/slow" REL "kubectl", "200", 0, NULL,
	    0), 1);
	free(slow);
	f->passed = true;
}

static void
test_cache_corrupt_refetched(void **state)
{
	struct fx *f = *state;
	char *path = cache_path(f, V, "amd64", "kubectl");
	int fd;

	begin(f);
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	/* One flipped byte in the middle. */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 4096), 1);
	close(fd);
	if (kubectl.data[4096] == 0xff)
		fail_msg("the test flipped nothing");
	assert_int_equal(fetch(f, V, "amd64", "kubectl", NULL), KU_OK);
	assert_false(f->res.from_cache);
	assert_cached(f, "amd64", "kubectl", &kubectl);
	/* Truncated to nothing: the same. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(fetch(f, V, "amd64", "kubectl", kubectl.sum), KU_OK);
	assert_false(f->res.from_cache);
	assert_cached(f, "amd64", "kubectl", &kubectl);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubectl.uri, "200", 0, NULL, 0), 3);
	/* Damaged, and the server has nothing now: the damaged file is
	 * gone all the same. */
	assert_int_equal(truncate(path, 10), 0);
	f->o.base_url = E.fault_base;     /* 404 for kubectl */
	assert_int_equal(fetch(f, V, "amd64", "kubectl", kubectl.sum),
	    KU_ERR_INVALID);
	assert_cache_empty(f);
	free(path);
	f->passed = true;
}

static void
test_tls_unknown_ca(void **state)
{
	struct fx *f = *state;

	begin(f);
	/* The system's CAs only. */
	f->o.ca_file = NULL;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(f->err, "certificate"));
	assert_non_null(strstr(f->err, E.base));
	assert_int_equal(f->res.attempts, 1);     /* not retried */
	/* Another CA. */
	f->o.ca_file = E.other_ca;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(f->err, "certificate"));
	assert_cache_empty(f);
	/* The right one, to show the failure was the CA. */
	f->o.ca_file = E.ca;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum), KU_OK);
	nginx_sync(f);
	/* No request got through the refused handshakes. */
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, NULL, 0), 1);
	f->passed = true;
}

static void
test_http_refused(void **state)
{
	struct fx *f = *state;
	char *plain = xasprintf("http://127.0.0.1:%d", E.port);

	begin(f);
	f->o.base_url = plain;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "https://"));
	assert_non_null(strstr(f->err, "plain http"));
	assert_non_null(strstr(f->err, plain));
	f->o.base_url = "HTTP://127.0.0.1";
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_INVALID);
	f->o.base_url = "ftp://127.0.0.1/x";
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_INVALID);
	f->o.base_url = "https:///nohost";
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_INVALID);
	f->o.base_url = E.base;
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, NULL, 0), 0);
	assert_cache_empty(f);
	free(plain);
	f->passed = true;
}

/* A progress callback that records every call. */
struct prog {
	int n;
	uint64_t done[512];
	uint64_t total[512];
	uint64_t ms[512];
	int stop_at;            /* > 0: return false on that call */
	bool bad_name;
};

static bool
prog_cb(void *arg, const char *name, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	if (strcmp(name, "kubelet") != 0)
		p->bad_name = true;
	if (p->n < 512) {
		p->done[p->n] = done;
		p->total[p->n] = total;
		p->ms[p->n] = ku_now_ms();
	}
	p->n++;
	return p->stop_at == 0 || p->n < p->stop_at;
}

static void
test_progress(void **state)
{
	struct fx *f = *state;
	struct prog *p = xcalloc(1, sizeof *p);
	char *slow = xasprintf("%s/slow", E.base);
	uint64_t t0 = ku_now_ms(), elapsed;

	begin(f);
	f->o.base_url = slow;   /* 2 MB/s: about 1.6 s for 3 MiB */
	f->o.progress = prog_cb;
	f->o.progress_arg = p;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum), KU_OK);
	elapsed = ku_now_ms() - t0;
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_false(p->bad_name);
	if (p->n < 3)
		fail_msg("only %d progress calls in %llu ms", p->n,
		    (unsigned long long)elapsed);
	assert_true(p->n <= 512);
	for (int i = 1; i < p->n; i++) {
		if (p->done[i] <= p->done[i - 1])
			fail_msg("call %d: %llu after %llu", i,
			    (unsigned long long)p->done[i],
			    (unsigned long long)p->done[i - 1]);
		assert_true(p->done[i] <= kubelet.len);
		/* Rate-limited, except the final call. */
		if (i < p->n - 1 && p->ms[i] - p->ms[i - 1] < 240)
			fail_msg("calls %d and %d %llu ms apart", i - 1, i,
			    (unsigned long long)(p->ms[i] - p->ms[i - 1]));
	}
	assert_int_equal(p->done[p->n - 1], kubelet.len);
	assert_int_equal(p->total[p->n - 1], kubelet.len);
	assert_int_equal(p->total[p->n / 2], kubelet.len);
	assert_true((uint64_t)p->n <= elapsed / 240 + 2);
	free(slow);
	free(p);
	f->passed = true;
}

/* Stopped by the callback, the .part stays and the next call continues
 * it with a Range request. */
static void
test_abort_then_resume(void **state)
{
	struct fx *f = *state;
	struct prog *p = xcalloc(1, sizeof *p);
	char *slow = xasprintf("%s/slow", E.base);
	char *part = xasprintf("%s/%s/amd64/kubelet.part", f->cache, V);
	char range[64] = "", want[64];
	off_t had;

	begin(f);
	f->o.base_url = slow;
	f->o.progress = prog_cb;
	f->o.progress_arg = p;
	p->stop_at = 2;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum),
	    KU_ERR_ABORTED);
	had = size_of(part);
	assert_true(had > 0);
	assert_true(had < (off_t)kubelet.len);
	f->o.base_url = E.base;
	f->o.progress = NULL;
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum), KU_OK);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_true(f->res.resumed);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, "206", 0, range,
	    sizeof range), 1);
	snprintf(want, sizeof want, "bytes=%lld-", (long long)had);
	assert_string_equal(range, want);
	free(slow);
	free(part);
	free(p);
	f->passed = true;
}

/* A .part left by an earlier run: its bytes are hashed, the rest asked
 * for with Range. */
static void
test_resume_part_on_disk(void **state)
{
	struct fx *f = *state;
	char *part = xasprintf("%s/%s/amd64/kubelet.part", f->cache, V);
	char range[64] = "";

	begin(f);
	spit(part, kubelet.data, 100000);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", NULL), KU_OK);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_true(f->res.resumed);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, range,
	    sizeof range), 1);
	assert_string_equal(range, "bytes=100000-");
	assert_int_equal(nginx_count(f, kubelet.uri, "206", 0, NULL, 0), 1);
	free(part);
	f->passed = true;
}

/* A .part of other bytes: the continued file does not match, so it is
 * fetched whole once more (and accepted). */
static void
test_stale_part_restarted(void **state)
{
	struct fx *f = *state;
	char *part = xasprintf("%s/%s/amd64/kubelet.part", f->cache, V);

	begin(f);
	spit(part, kubectl.data, 100000);
	assert_int_equal(fetch(f, V, "amd64", "kubelet", kubelet.sum), KU_OK);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	assert_false(f->res.resumed);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, "206", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, kubelet.uri, "200", 0, NULL, 0), 1);

	/* A .part longer than the file: 416, then from the start. */
	ku_http_result_free(&f->res);
	{
		char *path = cache_path(f, V, "amd64", "kubectl");
		char *kpart = xasprintf("%s.part", path);
		unsigned char *big = xcalloc(1, kubectl.len + 10);
		spit(kpart, big, kubectl.len + 10);
		f->o.retries = 0;
		assert_int_equal(fetch(f, V, "amd64", "kubectl", kubectl.sum),
		    KU_OK);
		assert_cached(f, "amd64", "kubectl", &kubectl);
		free(big);
		free(kpart);
		free(path);
	}
	free(part);
	f->passed = true;
}

static void
test_redirects(void **state)
{
	struct fx *f = *state;

	begin(f);
	f->o.base_url = E.fault_base;
	/* To plain http: refused, nothing reaches nginx. */
	assert_int_equal(fetch(f, V, "amd64", "tohttp", kubectl.sum),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "https"));
	assert_non_null(strstr(f->err, REL "tohttp"));
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubectl.uri, NULL, 0, NULL, 0), 0);
	/* Endless: bounded. */
	assert_int_equal(fetch(f, V, "amd64", "loop", kubectl.sum),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(f->err, "redirect"));
	assert_int_equal(fault_count(&E.fault, REL "loop", 0, NULL, 0), 6);
	/* To https: followed, the .sha256 too. */
	assert_int_equal(fetch(f, V, "amd64", "tohttps", NULL), KU_OK);
	assert_cached(f, "amd64", "tohttps", &kubectl);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubectl.uri, "200", 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, REL "kubectl.sha256", "200", 0, NULL,
	    0), 1);
	f->passed = true;
}

/* --- tests: the fault server --- */

static void
test_stall_times_out(void **state)
{
	struct fx *f = *state;
	uint64_t t0, elapsed;

	begin(f);
	f->o.base_url = E.fault_base;
	f->o.low_speed_time_s = 1;
	f->o.retries = 1;
	t0 = ku_now_ms();
	assert_int_equal(fetch(f, V, "amd64", "stall", fault_file.sum),
	    KU_ERR_TIMEOUT);
	elapsed = ku_now_ms() - t0;
	assert_non_null(strstr(f->err, REL "stall"));
	assert_non_null(strstr(f->err, "2 attempts"));
	/* Two tries of about a second each; never the 20 s of the test. */
	if (elapsed < 1500 || elapsed > 9000)
		fail_msg("timed out after %llu ms",
		    (unsigned long long)elapsed);
	assert_int_equal(fault_count(&E.fault, REL "stall", 0, NULL, 0), 2);
	f->passed = true;
}

static void
test_total_deadline(void **state)
{
	struct fx *f = *state;
	uint64_t t0, elapsed;

	begin(f);
	f->o.base_url = E.fault_base;
	f->o.total_timeout_ms = 1500;
	f->o.retries = 5;
	t0 = ku_now_ms();
	assert_int_equal(fetch(f, V, "amd64", "trickle", fault_file.sum),
	    KU_ERR_TIMEOUT);
	elapsed = ku_now_ms() - t0;
	if (elapsed < 1400 || elapsed > 5000)
		fail_msg("timed out after %llu ms",
		    (unsigned long long)elapsed);
	assert_non_null(strstr(f->err, REL "trickle"));
	f->passed = true;
}

static void
test_truncated_resumed(void **state)
{
	struct fx *f = *state;
	char range[64] = "x", want[64];

	begin(f);
	f->o.base_url = E.fault_base;
	assert_int_equal(fetch(f, V, "amd64", "trunc", NULL), KU_OK);
	assert_string_equal(f->res.sha256, fault_file.sum);
	assert_int_equal(f->res.size, fault_file.len);
	assert_true(f->res.resumed);
	assert_int_equal(f->res.attempts, 2);
	assert_int_equal(fault_count(&E.fault, REL "trunc", 0, range,
	    sizeof range), 2);
	assert_string_equal(range, "");
	fault_count(&E.fault, REL "trunc", 1, range, sizeof range);
	snprintf(want, sizeof want, "bytes=%zu-", fault_file.len / 2);
	assert_string_equal(range, want);
	assert_true(log_contains(f, "attempt 1 of 3"));

	/* Without retries the truncation is the answer; the half stays in
	 * the .part and the next call continues it. */
	free(f->cache);
	f->cache = xasprintf("%s/cache2", f->tmp);
	f->o.cache_dir = f->cache;
	f->o.retries = 0;
	assert_int_equal(fetch(f, V, "amd64", "trunc", fault_file.sum),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(f->err, REL "trunc"));
	{
		char *part = xasprintf("%s/%s/amd64/trunc.part", f->cache, V);
		assert_int_equal(size_of(part), (off_t)(fault_file.len / 2));
		free(part);
	}
	assert_int_equal(fetch(f, V, "amd64", "trunc", fault_file.sum),
	    KU_OK);
	assert_true(f->res.resumed);
	assert_int_equal(f->res.attempts, 1);
	assert_int_equal(fault_count(&E.fault, REL "trunc", 3, range,
	    sizeof range), 4);
	assert_string_equal(range, want);
	f->passed = true;
}

static void
test_range_ignored(void **state)
{
	struct fx *f = *state;
	char range[64] = "";

	begin(f);
	f->o.base_url = E.fault_base;
	assert_int_equal(fetch(f, V, "amd64", "norange", fault_file.sum),
	    KU_OK);
	assert_string_equal(f->res.sha256, fault_file.sum);
	assert_false(f->res.resumed);
	assert_int_equal(f->res.attempts, 2);
	assert_int_equal(fault_count(&E.fault, REL "norange", 1, range,
	    sizeof range), 2);
	/* Asked to continue, answered whole: hashed from the start. */
	assert_true(ku_str_has_prefix(range, "bytes="));
	assert_true(log_contains(f, "ignored the range"));
	f->passed = true;
}

static void
test_server_errors_retried(void **state)
{
	struct fx *f = *state;

	begin(f);
	f->o.base_url = E.fault_base;
	f->o.retries = 0;
	assert_int_equal(fetch(f, V, "amd64", "flaky", fault_file.sum),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(f->err, "500"));
	assert_non_null(strstr(f->err, REL "flaky"));
	assert_int_equal(fault_count(&E.fault, REL "flaky", 0, NULL, 0), 1);
	assert_cache_empty(f);
	/* The second 500, then 200. */
	f->o.retries = 3;
	assert_int_equal(fetch(f, V, "amd64", "flaky", fault_file.sum),
	    KU_OK);
	assert_int_equal(f->res.attempts, 2);
	assert_int_equal(fault_count(&E.fault, REL "flaky", 0, NULL, 0), 3);
	assert_string_equal(f->res.sha256, fault_file.sum);
	/* A 404 is not retried. */
	assert_int_equal(fetch(f, V, "amd64", "nosuch", fault_file.sum),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "404"));
	assert_int_equal(fault_count(&E.fault, REL "nosuch", 0, NULL, 0), 1);
	f->passed = true;
}

static void
test_too_big_refused(void **state)
{
	struct fx *f = *state;
	uint64_t t0;

	begin(f);
	f->o.base_url = E.fault_base;
	f->o.max_size = 1048576;
	t0 = ku_now_ms();
	assert_int_equal(fetch(f, V, "amd64", "huge", fault_file.sum),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "1048576"));
	/* Refused on the headers, not after waiting for the body. */
	assert_true(ku_now_ms() - t0 < 3000);
	assert_cache_empty(f);
	assert_int_equal(fetch(f, V, "amd64", "hugestream", fault_file.sum),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "1048576"));
	assert_cache_empty(f);
	f->passed = true;
}

/* A .sha256 that is not one digest is refused, never half-read. */
static void
test_bad_sum_file(void **state)
{
	struct fx *f = *state;

	begin(f);
	f->o.base_url = E.fault_base;
	assert_int_equal(fetch(f, V, "amd64", "longsum", NULL),
	    KU_ERR_CHECKSUM);
	assert_non_null(strstr(f->err, REL "longsum.sha256"));
	assert_int_equal(fault_count(&E.fault, REL "longsum", 0, NULL, 0), 0);
	assert_cache_empty(f);
	/* No .sha256 at all: no download either. */
	assert_int_equal(fetch(f, V, "amd64", "nosuch", NULL),
	    KU_ERR_INVALID);
	assert_non_null(strstr(f->err, "404"));
	assert_int_equal(fault_count(&E.fault, REL "nosuch", 0, NULL, 0), 0);
	assert_cache_empty(f);
	f->passed = true;
}

/* --- tests: threads --- */

struct job {
	struct ku_http_opts o;
	struct ku_http_request q;
	struct ku_http_result res;
	char *err;
	ku_rc rc;
	pthread_t th;
};

static void *
job_run(void *arg)
{
	struct job *j = arg;

	j->rc = ku_http_fetch(&j->o, &j->q, &j->res, &j->err);
	return NULL;
}

static void
test_parallel(void **state)
{
	struct fx *f = *state;
	struct job jobs[4];
	const struct {
		const char *arch, *name;
		const struct file *want;
	} w[] = {
		{ "amd64", "kubelet", &kubelet },
		{ "amd64", "kubectl", &kubectl },
		{ "arm64", "kubelet", &kubelet_arm },
		{ "amd64", "kubelet", &kubelet },   /* the same as the first */
	};

	begin(f);
	memset(jobs, 0, sizeof jobs);
	for (size_t i = 0; i < KU_ARRAY_LEN(jobs); i++) {
		jobs[i].o = f->o;
		jobs[i].q.version = V;
		jobs[i].q.arch = w[i].arch;
		jobs[i].q.name = w[i].name;
		assert_int_equal(pthread_create(&jobs[i].th, NULL, job_run,
		    &jobs[i]), 0);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(jobs); i++)
		pthread_join(jobs[i].th, NULL);
	for (size_t i = 0; i < KU_ARRAY_LEN(jobs); i++) {
		if (jobs[i].rc != KU_OK)
			fail_msg("job %zu: %s", i, jobs[i].err);
		assert_string_equal(jobs[i].res.sha256, w[i].want->sum);
		assert_int_equal(jobs[i].res.size, w[i].want->len);
	}
	/* One of the two kubelet jobs downloaded, the other found it. */
	assert_true(jobs[0].res.from_cache != jobs[3].res.from_cache);
	ku_http_result_free(&f->res);
	f->res = jobs[0].res;
	memset(&jobs[0].res, 0, sizeof jobs[0].res);
	assert_cached(f, "amd64", "kubelet", &kubelet);
	nginx_sync(f);
	assert_int_equal(nginx_count(f, kubelet.uri, NULL, 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, kubectl.uri, NULL, 0, NULL, 0), 1);
	assert_int_equal(nginx_count(f, kubelet_arm.uri, NULL, 0, NULL, 0), 1);
	for (size_t i = 0; i < KU_ARRAY_LEN(jobs); i++) {
		ku_http_result_free(&jobs[i].res);
		free(jobs[i].err);
	}
	f->passed = true;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_pins),
		T(test_sha256_file),
		T(test_invalid_requests),
		T(test_unpinned_uses_server_sum),
		T(test_pinned_no_warning),
		T(test_mismatch_refused),
		T(test_table_pin_refuses),
		T(test_cache_hit),
		T(test_cache_other_server),
	T(test_cache_corrupt_refetched),
		T(test_tls_unknown_ca),
		T(test_http_refused),
		T(test_progress),
		T(test_abort_then_resume),
		T(test_resume_part_on_disk),
		T(test_stale_part_restarted),
		T(test_redirects),
		T(test_stall_times_out),
		T(test_total_deadline),
		T(test_truncated_resumed),
		T(test_range_ignored),
		T(test_server_errors_retried),
		T(test_too_big_refused),
		T(test_bad_sum_file),
		T(test_parallel),
#undef T
	};
	static const char *const proxies[] = { "http_proxy", "https_proxy",
		"HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
		"NO_PROXY" };

	/* Only 127.0.0.1, never through a proxy. */
	for (size_t i = 0; i < KU_ARRAY_LEN(proxies); i++)
		unsetenv(proxies[i]);
	signal(SIGPIPE, SIG_IGN);
	tl_watchdog(900);
	return cmocka_run_group_tests_name("http", tests, group_setup,
	    group_teardown);
}
