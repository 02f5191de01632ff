/* Small things every module needs: memory, bounded buffers, files, time. */
#ifndef KU_UTIL_H
#define KU_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define KU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* A macro's value as a string literal. */
#define KU_STR_(x) #x
#define KU_STR(x) KU_STR_(x)
#define KU_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation that cannot fail: on exhaustion kubeup says so and exits (the
 * journal is consistent at every record, so a later --resume continues). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) KU_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) KU_PRINTF(1, 0);

/* A growable byte buffer with an optional maximum (0: unbounded). Past the
 * maximum, bytes are dropped and `truncated` is set; data stays
 * NUL-terminated. */
struct ku_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool truncated;
};

void ku_buf_init(struct ku_buf *b, size_t max);
void ku_buf_free(struct ku_buf *b);
void ku_buf_reset(struct ku_buf *b);
void ku_buf_add(struct ku_buf *b, const void *data, size_t len);
void ku_buf_adds(struct ku_buf *b, const char *s);
void ku_buf_addc(struct ku_buf *b, char c);
void ku_buf_printf(struct ku_buf *b, const char *fmt, ...) KU_PRINTF(2, 3);
/* Hands the contents to the caller (never NULL) and empties the buffer. */
char *ku_buf_steal(struct ku_buf *b);

/* A growable list of owned strings. */
struct ku_strv {
	char **v;
	size_t n;
	size_t cap;
};
void ku_strv_push(struct ku_strv *sv, const char *s);
void ku_strv_push_owned(struct ku_strv *sv, char *s);
void ku_strv_free(struct ku_strv *sv);
bool ku_strv_contains(const struct ku_strv *sv, const char *s);

/* Files. Paths in messages are the caller's; functions set errno. */
ku_rc ku_mkdir_p(const char *path, mode_t mode);
/* Reads a whole file, refusing one larger than max bytes (KU_ERR_INVALID,
 * errno EFBIG). */
ku_rc ku_read_file(const char *path, size_t max, struct ku_buf *out);
/* Writes path so that a reader sees the old or the new contents and never a
 * mix, also across a crash: temp file, fsync, rename, fsync of the folder. */
ku_rc ku_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode);
ku_rc ku_fsync_dir(const char *dir);
bool ku_path_exists(const char *path);
/* Removes a folder and everything in it (not following links). */
ku_rc ku_remove_tree(const char *path);
bool ku_is_regular_file(const char *path);
/* "~/x" with $HOME; a relative path joined to base_dir (may be NULL). */
char *ku_path_expand(const char *path, const char *base_dir);
char *ku_path_join(const char *a, const char *b);
char *ku_dirname(const char *path);

/* Time. */
uint64_t ku_now_ms(void);          /* monotonic */
uint64_t ku_wall_ms(void);         /* since the epoch */
void ku_format_duration(uint64_t ms, char *out, size_t outlen);
void ku_format_time(uint64_t wall_ms, char *out, size_t outlen);

/* Strings. */
bool ku_streq(const char *a, const char *b);   /* NULL-safe */
bool ku_str_has_prefix(const char *s, const char *prefix);
char *ku_strjoin(const char *const *v, size_t n, const char *sep);
/* The last non-empty line of s, without trailing blanks (a log's tail
 * ends with the reason), or NULL when s is NULL or has none. Caller
 * frees. */
char *ku_str_last_line(const char *s);

/* Addresses. An address range (CIDR), its network address with the host
 * bits cleared. */
struct ku_cidr {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char net[16];      /* the network address, host bits zero */
	int prefix;
};

/* AF_INET or AF_INET6 for an address literal, 0 for anything else. */
int ku_ip_family(const char *s);
bool ku_cidr_parse(const char *s, struct ku_cidr *out);
/* The n-th address of the range (0 is the network address itself) as
 * text; false when the range holds fewer than n + 1 addresses. */
bool ku_cidr_nth(const struct ku_cidr *c, unsigned n, char *out,
    size_t outlen);

/* SHA-256 of a memory block as 64 lowercase hex digits (out: 65 bytes). */
void ku_sha256_hex(const void *data, size_t len, char out[65]);
/* The same of a file's contents; KU_ERR_IO (errno set) when unreadable. */
ku_rc ku_sha256_file(const char *path, char out[65]);
/* Writes all of data to fd, going on after EINTR. */
ku_rc ku_write_all(int fd, const void *data, size_t len);

#endif
