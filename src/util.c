#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "i18n.h"
#include "util.h"

static void
ku_oom(size_t n)
{
	/* Nothing sensible can be allocated any more; say so plainly. */
	fprintf(stderr, "kubeup: out of memory (%zu bytes)\n", n);
	_exit(70);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		ku_oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		ku_oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		ku_oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		ku_oom(SIZE_MAX);
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		ku_oom(strlen(fmt));
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* --- buffers --- */

void
ku_buf_init(struct ku_buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void
ku_buf_free(struct ku_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
}

void
ku_buf_reset(struct ku_buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->data)
		b->data[0] = '\0';
}

void
ku_buf_add(struct ku_buf *b, const void *data, size_t len)
{
	if (b->max && b->len + len > b->max) {
		len = b->max > b->len ? b->max - b->len : 0;
		b->truncated = true;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
ku_buf_adds(struct ku_buf *b, const char *s)
{
	ku_buf_add(b, s, strlen(s));
}

void
ku_buf_addc(struct ku_buf *b, char c)
{
	ku_buf_add(b, &c, 1);
}

void
ku_buf_printf(struct ku_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	ku_buf_adds(b, s);
	free(s);
}

char *
ku_buf_steal(struct ku_buf *b)
{
	char *s = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
	return s;
}

/* --- string lists --- */

void
ku_strv_push_owned(struct ku_strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xreallocarray(sv->v, sv->cap + 1, sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
ku_strv_push(struct ku_strv *sv, const char *s)
{
	ku_strv_push_owned(sv, xstrdup(s));
}

void
ku_strv_free(struct ku_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool
ku_strv_contains(const struct ku_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* --- files --- */

ku_rc
ku_mkdir_p(const char *path, mode_t mode)
{
	char *p;
	ku_rc rc = KU_OK;

	if (path[0] == '\0') {
		errno = ENOENT;
		return KU_ERR_IO;
	}
	p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) != 0 && errno != EEXIST) {
				rc = KU_ERR_IO;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (rc == KU_OK) {
		struct stat st;
		if (stat(path, &st) != 0)
			rc = KU_ERR_IO;
		else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = KU_ERR_IO;
		}
	}
	free(p);
	return rc;
}

ku_rc
ku_read_file(const char *path, size_t max, struct ku_buf *out)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t total = 0;

	if (fd < 0)
		return KU_ERR_IO;
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return KU_ERR_IO;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (max && total > max) {
			close(fd);
			errno = EFBIG;
			return KU_ERR_INVALID;
		}
		ku_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return KU_OK;
}

ku_rc
ku_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;
	if (fd < 0)
		return KU_ERR_IO;
	r = fsync(fd);
	close(fd);
	return r == 0 ? KU_OK : KU_ERR_IO;
}

ku_rc
ku_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return KU_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return KU_OK;
}

ku_rc
ku_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	char *dir = ku_dirname(path);
	ku_rc rc = KU_ERR_IO;
	int saved;
	int fd = mkstemp(tmp);

	if (fd < 0)
		goto out;
	if (fchmod(fd, mode) != 0 || ku_write_all(fd, data, len) != KU_OK ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto out;
	}
	rc = ku_fsync_dir(dir);
out:
	free(tmp);
	free(dir);
	return rc;
}

static int
ku_remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

ku_rc
ku_remove_tree(const char *path)
{
	if (!ku_path_exists(path))
		return KU_OK;
	return nftw(path, ku_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ?
	    KU_OK : KU_ERR_IO;
}

bool
ku_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool
ku_is_regular_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *
ku_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (la == 0)
		return xstrdup(b);
	if (a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *
ku_path_expand(const char *path, const char *base_dir)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] == '\0')
			home = "/";
		return xasprintf("%s%s", home, path + 1);
	}
	if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
		return xstrdup(path);
	return ku_path_join(base_dir, path);
}

char *
ku_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* --- time --- */

uint64_t
ku_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ku_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
ku_format_duration(uint64_t ms, char *out, size_t outlen)
{
	if (ms < 1000)
		snprintf(out, outlen, "%ums", (unsigned)ms);
	else if (ms < 60000)
		snprintf(out, outlen, "%u.%us", (unsigned)(ms / 1000),
		    (unsigned)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(out, outlen, "%um%02us", (unsigned)(ms / 60000),
		    (unsigned)(ms / 1000 % 60));
	else
		snprintf(out, outlen, "%uh%02um", (unsigned)(ms / 3600000),
		    (unsigned)(ms / 60000 % 60));
}

void
ku_format_time(uint64_t wall_ms, char *out, size_t outlen)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03uZ", base, (unsigned)(wall_ms % 1000));
}

/* --- strings --- */

bool
ku_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
ku_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *
ku_strjoin(const char *const *v, size_t n, const char *sep)
{
	struct ku_buf b;
	ku_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ku_buf_adds(&b, sep);
		ku_buf_adds(&b, v[i]);
	}
	return ku_buf_steal(&b);
}

/* --- addresses --- */

int
ku_ip_family(const char *s)
{
	unsigned char buf[16];

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return AF_INET6;
	return 0;
}

bool
ku_cidr_parse(const char *s, struct ku_cidr *out)
{
	const char *slash;
	char addr[INET6_ADDRSTRLEN + 1];
	char *end;
	long prefix;
	size_t bytes;

	memset(out, 0, sizeof *out);
	if (s == NULL || (slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof addr)
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	out->family = ku_ip_family(addr);
	if (out->family == 0 || inet_pton(out->family, addr, out->net) != 1)
		return false;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	bytes = out->family == AF_INET ? 4 : 16;
	if (errno || end == slash + 1 || *end != '\0' || prefix < 0 ||
	    prefix > (long)(bytes * 8))
		return false;
	out->prefix = (int)prefix;
	for (size_t i = 0; i < bytes; i++) {
		long keep = prefix - (long)(i * 8);
		if (keep <= 0)
			out->net[i] = 0;
		else if (keep < 8)
			out->net[i] &= (unsigned char)(0xff << (8 - keep));
	}
	return true;
}

bool
ku_cidr_nth(const struct ku_cidr *c, unsigned n, char *out, size_t outlen)
{
	unsigned char a[16];
	size_t bytes = c->family == AF_INET ? 4 : 16;
	int host_bits = (int)(bytes * 8) - c->prefix;
	unsigned carry = n;

	if (host_bits < 32 && (uint64_t)n >= ((uint64_t)1 << host_bits))
		return false;
	memcpy(a, c->net, sizeof a);
	for (size_t i = bytes; i-- > 0 && carry; ) {
		unsigned sum = a[i] + (carry & 0xff);
		a[i] = (unsigned char)sum;
		carry = (carry >> 8) + (sum >> 8);
	}
	return inet_ntop(c->family, a, out, (socklen_t)outlen) != NULL;
}

/* --- digests --- */

void
ku_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	for (unsigned i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * (mdlen < 32 ? mdlen : 32)] = '\0';
}

ku_rc
ku_sha256_file(const char *path, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *chunk = NULL;
	EVP_MD_CTX *ctx = NULL;
	ku_rc rc = KU_ERR_IO;
	int saved = 0;
	int fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return KU_ERR_IO;
	chunk = xmalloc(65536);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		saved = ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
			saved = ENOMEM;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		saved = ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	rc = KU_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	close(fd);
	if (rc != KU_OK)
		errno = saved;
	return rc;
}

char *
ku_str_last_line(const char *s)
{
	const char *end, *start;

	if (s == NULL)
		return NULL;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	return end > start ? xstrndup(start, (size_t)(end - start)) : NULL;
}
