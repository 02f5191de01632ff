/* answers.conf: every key, read, checked, written and compared from one
 * table (keys[] below: dotted key, type, spec field, range or spellings,
 * check function, the key its cross-checks depend on, help text).
 *
 * Reading runs in three steps, none of which can crash on any input:
 *
 *  1. a pre-scan of the raw bytes that mirrors libconfig 1.5's lexer
 *     (strings, the three kinds of comments, numbers). It refuses binary
 *     data, @include, nesting deeper than KU_MAX_DEPTH and groups of more
 *     than KU_MAX_MEMBERS settings before libconfig sees the file; it finds
 *     the integers libconfig 1.5 would silently wrap to 32 bits, and the
 *     first string where the grammar takes none (libconfig 1.5 leaks it);
 *  2. libconfig parses; the tree is walked against the table: unknown keys
 *     and wrong types are reported, every setting's dotted key and line go
 *     into a side table, and values go into a spec;
 *  3. the checks of ku_spec_validate() run on that spec, naming dotted keys
 *     only, as they do for the wizard; each problem gets its line from the
 *     side table (the key's own, else its nearest enclosing group's).
 *     Problems about a value already reported are dropped, and so are
 *     comparisons with a key found wrong (a backoff cap compared with an
 *     out-of-range first pause).
 *
 * Every problem is reported, sorted by line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "answers.h"
#include "i18n.h"
#include "spec.h"
#include "util.h"
#include "versions.h"

/* Deeper than anything answers.conf needs (3), far below what could hurt
 * libconfig's recursive parser and destructor. */
#define KU_MAX_DEPTH 16
/* cluster.node_count's upper bound, and so the longest nodes list read. */
#define KU_MAX_NODES 1000
/* Settings in one group. answers.conf's largest group has 14; libconfig
 * 1.5 takes time quadratic in this (65000 keys: half a minute). */
#define KU_MAX_MEMBERS 1024

/* --- spellings --- */

static const char *const provider_names[] = {
	[KU_PROVIDER_SSH] = "ssh", NULL
};
static const char *const plugin_names[] = {
	[KU_NET_FLANNEL] = "flannel",
	[KU_NET_CALICO] = "calico",
	[KU_NET_CUSTOM] = "custom",
	NULL
};
static const char *const hostkey_names[] = {
	[KU_HOSTKEY_STRICT] = "strict",
	[KU_HOSTKEY_ACCEPT_NEW] = "accept-new",
	NULL
};
static const char *const runtime_names[] = {
	[KU_RUNTIME_CONTAINERD] = "containerd", NULL
};
static const char *const cgroup_driver_names[] = {
	[KU_CGROUP_SYSTEMD] = "systemd",
	[KU_CGROUP_CGROUPFS] = "cgroupfs",
	NULL
};
static const char *const on_failure_names[] = {
	[KU_ON_FAILURE_ABORT] = "abort",
	[KU_ON_FAILURE_SKIP] = "skip",
	NULL
};
static const char *const key_type_names[] = {
	[KU_KEY_ECDSA_P256] = "ecdsa-p256",
	[KU_KEY_RSA_2048] = "rsa-2048",
	[KU_KEY_RSA_3072] = "rsa-3072",
	[KU_KEY_RSA_4096] = "rsa-4096",
	NULL
};

/* Enumerations are read and written through an int. */
_Static_assert(sizeof(enum ku_net_plugin) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ku_key_type) == sizeof(int), "enum size");

static size_t
names_count(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

static const char *
name_of(const char *const *names, int v)
{
	if (v < 0 || (size_t)v >= names_count(names))
		return "?";
	return names[v];
}

const char *
ku_net_plugin_name(enum ku_net_plugin p)
{
	return name_of(plugin_names, (int)p);
}

const char *
ku_provider_name(enum ku_provider_type p)
{
	return name_of(provider_names, (int)p);
}

const char *
ku_key_type_name(enum ku_key_type k)
{
	return name_of(key_type_names, (int)k);
}

/* --- values in messages --- */

/* A value quoted for a message: escaped, and cut when long, so that a
 * hostile or binary value cannot garble the operator's terminal. */
struct qbuf {
	char s[128];
};

static const char *
quote(struct qbuf *q, const char *v)
{
	size_t o = 0;

	if (v == NULL)
		v = "";
	q->s[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (o > sizeof q->s - 10) {
			memcpy(q->s + o, "...", 3);
			o += 3;
			break;
		}
		if (*p == '"' || *p == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			q->s[o++] = '\\';
			q->s[o++] = 'x';
			q->s[o++] = hex[*p >> 4];
			q->s[o++] = hex[*p & 15];
		} else {
			q->s[o++] = (char)*p;
		}
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	return q->s;
}

/* --- the checks ku_spec_validate() applies --- */

struct check {
	const struct ku_spec *spec;
	struct ku_diags *diags;    /* a value's own problems */
	struct ku_diags *cross;    /* problems found comparing it with the
	                            * key it depends on (struct key.depends) */
};

static void problem(struct check *c, const char *key, const char *fmt, ...)
    KU_PRINTF(3, 4);
static void cross_problem(struct check *c, const char *key, const char *fmt,
    ...) KU_PRINTF(3, 4);

static void
problem(struct check *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_diags_add(c->diags, NULL, 0, key, "%s", msg);
	free(msg);
}

static void
cross_problem(struct check *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_diags_add(c->cross, NULL, 0, key, "%s", msg);
	free(msg);
}

/* A string key's own check; key is the dotted name for messages. */
typedef void check_fn(struct check *c, const char *key, const char *v);

static bool
is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool
is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* RFC 1123 label as Kubernetes uses it: [a-z0-9]([-a-z0-9]*[a-z0-9])?,
 * at most 63 characters. */
static bool
dns_label_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* Dot-separated labels, at most 253 characters; the last one not all
 * digits (RFC 3696), so that 10.0.0.300 is no name. */
static bool
dns_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (!dns_label_ok(s, n))
			return false;
		if (dot == NULL)
			return strspn(s, "0123456789") != n;
		s = dot + 1;
	}
}

static int
ip_family(const char *s, unsigned char out[16])
{
	unsigned char tmp[16];

	if (out == NULL)
		out = tmp;
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

static void
check_label(struct check *c, const char *key, const char *v)
{
	struct qbuf q;

	if (!dns_label_ok(v, strlen(v)))
		problem(c, key, _("%s is not a DNS-1123 label: use 1 to 63 "
		    "lowercase letters, digits and '-', starting and ending "
		    "with a letter or digit"), quote(&q, v));
}

static void
check_version(struct check *c, const char *key, const char *v)
{
	const struct ku_version *known;
	int major, minor, patch;
	struct qbuf q;

	if (!ku_version_parse(v, &major, &minor, &patch)) {
		problem(c, key, _("%s is not a release: write MAJOR.MINOR.PATCH, "
		    "e.g. %s"), quote(&q, v), ku_version_default());
		return;
	}
	known = ku_version_find(v);
	if (known) {
		if (known->test_only && !c->spec->allow_unsupported_version)
			cross_problem(c, key, _("%s is a test-only release (%s): set "
			    "cluster.allow_unsupported_version = true to use it"),
			    v, known->note ? known->note : "");
		return;
	}
	if (major < KU_VERSION_MIN_MAJOR || (major == KU_VERSION_MIN_MAJOR &&
	    minor < KU_VERSION_MIN_MINOR))
		problem(c, key, _("%s is older than %d.%d, the oldest release "
		    "kubeup supports"), v, KU_VERSION_MIN_MAJOR,
		    KU_VERSION_MIN_MINOR);
}

struct cidr {
	int family;
	unsigned char addr[16];
	int prefix;
	int bits;        /* 32 or 128 */
};

static bool
parse_cidr(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	char host[64];
	size_t n;
	int prefix = 0;

	if (slash == NULL || (n = (size_t)(slash - s)) == 0 ||
	    n >= sizeof host)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	out->family = ip_family(host, out->addr);
	if (out->family == 0)
		return false;
	out->bits = out->family == AF_INET ? 32 : 128;
	slash++;
	if (!is_digit(slash[0]) || (slash[0] == '0' && slash[1]) ||
	    strlen(slash) > 3)
		return false;
	for (const char *p = slash; *p; p++) {
		if (!is_digit(*p))
			return false;
		prefix = prefix * 10 + (*p - '0');
	}
	if (prefix > out->bits)
		return false;
	out->prefix = prefix;
	return true;
}

/* Whether bit i (from the most significant) of a is set. */
static int
bit_at(const unsigned char *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	for (int i = 0; i < bits; i++)
		if (bit_at(a, i) != bit_at(b, i))
			return false;
	return true;
}

static bool
host_bits_zero(const struct cidr *c)
{
	for (int i = c->prefix; i < c->bits; i++)
		if (bit_at(c->addr, i))
			return false;
	return true;
}

static void
cidr_format(const struct cidr *c, bool masked, char *out, size_t outlen)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];

	memcpy(a, c->addr, sizeof a);
	if (masked)
		for (int i = c->prefix; i < c->bits; i++)
			a[i / 8] &= (unsigned char)~(1u << (7 - i % 8));
	if (inet_ntop(c->family, a, text, sizeof text) == NULL)
		text[0] = '\0';
	snprintf(out, outlen, "%s/%d", text, c->prefix);
}

static void
check_cidr(struct check *c, const char *key, const char *v)
{
	struct cidr r;
	struct qbuf q;
	char net[INET6_ADDRSTRLEN + 8];

	if (!parse_cidr(v, &r)) {
		problem(c, key, _("%s is not a CIDR: write an IPv4 or IPv6 network "
		    "and its prefix length, e.g. 10.244.0.0/16"), quote(&q, v));
		return;
	}
	if (!host_bits_zero(&r)) {
		cidr_format(&r, true, net, sizeof net);
		problem(c, key, _("%s has host bits set: the network is %s"),
		    quote(&q, v), net);
	}
}

static void
check_dns_domain(struct check *c, const char *key, const char *v)
{
	struct qbuf q;

	if (!dns_name_ok(v))
		problem(c, key, _("%s is not a DNS name: use labels of lowercase "
		    "letters, digits and '-', separated by dots"), quote(&q, v));
}

static void
check_san(struct check *c, const char *key, const char *v)
{
	const char *name = ku_str_has_prefix(v, "*.") ? v + 2 : v;
	struct qbuf q;

	if (ip_family(v, NULL) == 0 && !dns_name_ok(name))
		problem(c, key, _("%s is neither a DNS name (lowercase letters, "
		    "digits, '-' and '.') nor an IP address"), quote(&q, v));
}

/* POSIX portable user names, as useradd takes them; nothing a shell would
 * read as syntax. */
static void
check_user(struct check *c, const char *key, const char *v)
{
	size_t len = strlen(v);
	bool ok = len > 0 && len <= 32 && (is_alpha(v[0]) || v[0] == '_');
	struct qbuf q;

	for (size_t i = 1; ok && i < len; i++)
		ok = is_alpha(v[i]) || is_digit(v[i]) || v[i] == '_' ||
		    v[i] == '-' || v[i] == '.';
	if (!ok)
		problem(c, key, _("%s is not a valid user name: use letters, "
		    "digits, '_', '-' and '.', starting with a letter or '_', "
		    "at most 32 characters"), quote(&q, v));
}

static void
check_address(struct check *c, const char *key, const char *v)
{
	struct qbuf q;

	if (ip_family(v, NULL) == 0)
		problem(c, key, _("%s is not an IPv4 or IPv6 address"),
		    quote(&q, v));
}

/* An existing, readable regular file; fills st. */
static bool
file_ok(struct check *c, const char *key, const char *v, struct stat *st)
{
	struct qbuf q;

	if (v[0] == '\0') {
		problem(c, key, "%s", _("must name a file"));
		return false;
	}
	if (stat(v, st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			problem(c, key, _("%s does not exist"), quote(&q, v));
		else
			problem(c, key, _("%s cannot be read: %s"), quote(&q, v),
			    strerror(errno));
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		problem(c, key, _("%s is not a regular file"), quote(&q, v));
		return false;
	}
	if (access(v, R_OK) != 0) {
		problem(c, key, _("%s cannot be read: %s"), quote(&q, v),
		    strerror(errno));
		return false;
	}
	return true;
}

static void
check_file(struct check *c, const char *key, const char *v)
{
	struct stat st;
	(void)file_ok(c, key, v, &st);
}

static void
check_secret_file(struct check *c, const char *key, const char *v)
{
	struct stat st;
	struct qbuf q;

	if (file_ok(c, key, v, &st) && (st.st_mode & 077) != 0)
		problem(c, key, _("%s can be read by others (mode %04o): make it "
		    "0600 (chmod 600)"), quote(&q, v),
		    (unsigned)(st.st_mode & 07777));
}

static void
check_env_name(struct check *c, const char *key, const char *v)
{
	bool ok = v[0] && (is_alpha(v[0]) || v[0] == '_') && strlen(v) <= 255;
	struct qbuf q;

	for (size_t i = 1; ok && v[i]; i++)
		ok = is_alpha(v[i]) || is_digit(v[i]) || v[i] == '_';
	if (!ok)
		problem(c, key, _("%s is not an environment variable name: use "
		    "letters, digits and '_', not starting with a digit"),
		    quote(&q, v));
}

/* A folder that exists or could be made: its nearest existing ancestor is
 * a folder we may write in. Nothing is created here. */
static void
check_creatable(struct check *c, const char *key, const char *path)
{
	char *p = ku_dirname(path);
	struct stat st;
	struct qbuf q1, q2;

	for (;;) {
		char *up;
		if (stat(p, &st) == 0)
			break;
		up = ku_dirname(p);
		if (strcmp(up, p) == 0) {
			free(up);
			break;
		}
		free(p);
		p = up;
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(p, W_OK | X_OK) != 0)
		problem(c, key, _("%s cannot be created: %s is not a folder "
		    "kubeup may write in"), quote(&q1, path), quote(&q2, p));
	free(p);
}

static void
check_known_hosts(struct check *c, const char *key, const char *v)
{
	struct stat st;
	struct qbuf q;

	if (v[0] == '\0') {
		problem(c, key, "%s", _("must name a file"));
		return;
	}
	if (c->spec->ssh.host_key_policy == KU_HOSTKEY_STRICT) {
		if (stat(v, &st) != 0 && errno == ENOENT)
			cross_problem(c, key, _("%s does not exist: host_key_policy "
			    "\"strict\" trusts only keys already there (add them, "
			    "or use \"accept-new\")"), quote(&q, v));
		else
			check_file(c, key, v);
		return;
	}
	if (stat(v, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			problem(c, key, _("%s is not a regular file"),
			    quote(&q, v));
		return;
	}
	check_creatable(c, key, v);
}

static void
check_folder(struct check *c, const char *key, const char *v)
{
	struct stat st;
	struct qbuf q;

	if (v[0] == '\0') {
		problem(c, key, "%s", _("must name a folder"));
		return;
	}
	if (stat(v, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			problem(c, key, _("%s is not a folder"), quote(&q, v));
		return;
	}
	check_creatable(c, key, v);
}

/* host[:port]: a DNS name (any case) or an IPv4 literal, or [IPv6].
 * Returns the length used, 0 when there is no valid host. */
static size_t
host_port_len(const char *s)
{
	size_t i = 0;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		char v6[INET6_ADDRSTRLEN];
		unsigned char a[16];
		size_t n;
		if (end == NULL || (n = (size_t)(end - s - 1)) == 0 ||
		    n >= sizeof v6)
			return 0;
		memcpy(v6, s + 1, n);
		v6[n] = '\0';
		if (inet_pton(AF_INET6, v6, a) != 1)
			return 0;
		i = n + 2;
	} else {
		char host[254];
		size_t n = strcspn(s, ":/");
		if (n == 0 || n >= sizeof host)
			return 0;
		for (size_t k = 0; k < n; k++)
			host[k] = (s[k] >= 'A' && s[k] <= 'Z') ?
			    (char)(s[k] - 'A' + 'a') : s[k];
		host[n] = '\0';
		if (!dns_name_ok(host) && ip_family(host, NULL) != AF_INET)
			return 0;
		i = n;
	}
	if (s[i] == ':') {
		long port = 0;
		size_t k = i + 1;
		while (is_digit(s[k]) && k - i <= 5)
			port = port * 10 + (s[k++] - '0');
		if (k == i + 1 || k - i > 6 || port < 1 || port > 65535 ||
		    s[i + 1] == '0')
			return 0;
		i = k;
	}
	return i;
}

static void
check_registry(struct check *c, const char *key, const char *v)
{
	const char *scheme = strstr(v, "://");
	size_t n;
	bool ok;
	struct qbuf q1, q2;

	if (scheme) {
		problem(c, key, _("%s: leave out the scheme (the registry is "
		    "always reached over TLS): write %s"), quote(&q1, v),
		    quote(&q2, scheme + 3));
		return;
	}
	n = host_port_len(v);
	ok = n > 0;
	if (ok && v[n] == '/') {
		/* /path: segments of [a-z0-9._-], none empty. */
		const char *p = v + n;
		while (ok && *p == '/') {
			size_t seg = strspn(p + 1,
			    "abcdefghijklmnopqrstuvwxyz0123456789._-");
			ok = seg > 0;
			p += 1 + seg;
		}
		ok = ok && *p == '\0';
	} else if (ok) {
		ok = v[n] == '\0';
	}
	if (!ok)
		problem(c, key, _("%s is not a registry: write host[:port][/path], "
		    "e.g. registry.example.com:5000/k8s"), quote(&q1, v));
}

static void
check_https_url(struct check *c, const char *key, const char *v)
{
	static const char bad[] = "\"'<>\\^`{|}";
	const char *rest;
	size_t n;
	struct qbuf q;

	if (ku_str_has_prefix(v, "http://")) {
		problem(c, key, _("%s: plain http is refused, downloads are always "
		    "made over verified TLS: use https://"), quote(&q, v));
		return;
	}
	if (!ku_str_has_prefix(v, "https://") ||
	    (n = host_port_len(v + 8)) == 0) {
		problem(c, key, _("%s is not an https:// URL, e.g. %s"),
		    quote(&q, v), "https://dl.k8s.io/release");
		return;
	}
	rest = v + 8 + n;
	if (*rest != '\0' && *rest != '/')
		goto bad_url;
	for (const char *p = rest; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr(bad, *p))
			goto bad_url;
	return;
bad_url:
	problem(c, key, _("%s is not an https:// URL, e.g. %s"), quote(&q, v),
	    "https://dl.k8s.io/release");
}

/* --- the table of keys --- */

enum key_type {
	KT_GROUP,
	KT_STRING,      /* char * */
	KT_PATH,        /* char *: ~/ and relative paths made absolute */
	KT_INT,         /* int, from min to max */
	KT_BOOL,        /* bool */
	KT_ENUM,        /* an enum, spelled by names */
	KT_STRV,        /* struct ku_strv: an array of strings */
	KT_MASTER,      /* struct ku_machine */
	KT_NODES,       /* spec->nodes, spec->n_nodes: a list of machines */
};

/* Which struct off is counted in. */
enum key_base {
	KB_SPEC,        /* struct ku_spec */
	KB_JUMP,        /* struct ku_jump_host */
	KB_MACHINE,     /* struct ku_machine */
};

struct key {
	const char *path;          /* dotted; for machine keys, the name */
	enum key_type type;
	enum key_base base;
	size_t off;
	int min, max;              /* KT_INT */
	const char *const *names;  /* KT_ENUM */
	const char *names_note;    /* KT_ENUM: said with "is not one of" */
	bool optional;             /* KT_STRING, KT_PATH: "" means none (NULL);
	                            * KT_GROUP: may be left out */
	bool required;             /* machine keys: no default */
	bool deferred;             /* read after its siblings, whose values
	                            * are its defaults */
	const char *inherit;       /* machine and jump keys: the provider.ssh
	                            * key giving the default */
	const char *depends;       /* a key whose value this one's checks
	                            * use: when that one is wrong, this one
	                            * is not checked either */
	check_fn *check;           /* KT_STRING, KT_PATH, KT_STRV elements */
	const char *help;          /* written above the key, N_() */
};

#define SPEC(f) .base = KB_SPEC, .off = offsetof(struct ku_spec, f)
#define JUMP(f) .base = KB_JUMP, .off = offsetof(struct ku_jump_host, f)
#define MACH(f) .base = KB_MACHINE, .off = offsetof(struct ku_machine, f)

/* In the order answers.conf is written. A group comes before its keys. */
static const struct key keys[] = {
	{ .path = "cluster", .type = KT_GROUP },
	{ .path = "cluster.name", .type = KT_STRING, SPEC(name),
	  .check = check_label,
	  .help = N_("A DNS-1123 label: names the state directory and the "
	      "kubeconfig's cluster.") },
	{ .path = "cluster.version", .type = KT_STRING, SPEC(version),
	  .check = check_version,
	  .depends = "cluster.allow_unsupported_version",
	  .help = N_("Kubernetes release, MAJOR.MINOR.PATCH.") },
	{ .path = "cluster.allow_unsupported_version", .type = KT_BOOL,
	  SPEC(allow_unsupported_version),
	  .help = N_("Accept a test-only release.") },
	{ .path = "cluster.pod_cidr", .type = KT_STRING, SPEC(pod_cidr),
	  .check = check_cidr,
	  .help = N_("Pod and Service address ranges: not overlapping, no "
	      "machine inside.") },
	{ .path = "cluster.service_cidr", .type = KT_STRING, SPEC(service_cidr),
	  .check = check_cidr, .depends = "cluster.pod_cidr" },
	{ .path = "cluster.dns_domain", .type = KT_STRING, SPEC(dns_domain),
	  .check = check_dns_domain },
	{ .path = "cluster.api_sans", .type = KT_STRV, SPEC(api_sans),
	  .check = check_san,
	  .help = N_("Extra names and addresses for the apiserver's "
	      "certificate.") },
	{ .path = "cluster.node_count", .type = KT_INT, SPEC(node_count),
	  .min = 0, .max = KU_MAX_NODES, .depends = "machines.nodes",
	  .help = N_("Worker nodes; machines.nodes lists exactly this many.") },

	{ .path = "provider", .type = KT_GROUP },
	{ .path = "provider.type", .type = KT_ENUM, SPEC(provider),
	  .names = provider_names,
	  .names_note = N_("gce and aws are not available yet") },
	{ .path = "provider.ssh", .type = KT_GROUP },
	{ .path = "provider.ssh.user", .type = KT_STRING, SPEC(ssh.user),
	  .check = check_user },
	{ .path = "provider.ssh.port", .type = KT_INT, SPEC(ssh.port),
	  .min = 1, .max = 65535 },
	{ .path = "provider.ssh.key", .type = KT_PATH, SPEC(ssh.key_file),
	  .optional = true, .check = check_file,
	  .help = N_("Private key; \"\": ssh-agent only.") },
	{ .path = "provider.ssh.sudo", .type = KT_BOOL, SPEC(ssh.sudo),
	  .help = N_("Run privileged commands through sudo.") },
	{ .path = "provider.ssh.sudo_password_file", .type = KT_PATH,
	  SPEC(ssh.sudo_password_file), .optional = true,
	  .check = check_secret_file,
	  .help = N_("sudo's password, from a file (mode 0600) or an "
	      "environment variable;\n\"\": none.") },
	{ .path = "provider.ssh.sudo_password_env", .type = KT_STRING,
	  SPEC(ssh.sudo_password_env), .optional = true,
	  .check = check_env_name },
	{ .path = "provider.ssh.known_hosts", .type = KT_PATH,
	  SPEC(ssh.known_hosts), .check = check_known_hosts,
	  .depends = "provider.ssh.host_key_policy" },
	{ .path = "provider.ssh.host_key_policy", .type = KT_ENUM,
	  SPEC(ssh.host_key_policy), .names = hostkey_names,
	  .help = N_("\"strict\": only keys already in known_hosts; "
	      "\"accept-new\": unknown keys\nare recorded, changed keys "
	      "refused.") },
	{ .path = "provider.ssh.connect_timeout", .type = KT_INT,
	  SPEC(ssh.connect_timeout), .min = 1, .max = 3600,
	  .help = N_("Seconds.") },
	{ .path = "provider.ssh.command_timeout", .type = KT_INT,
	  SPEC(ssh.command_timeout), .min = 1, .max = 86400 },
	{ .path = "provider.ssh.keepalive", .type = KT_INT,
	  SPEC(ssh.keepalive), .min = 1, .max = 3600 },
	{ .path = "provider.ssh.jump_host", .type = KT_GROUP,
	  .optional = true, .deferred = true,
	  .help = N_("A bastion for machines that are not directly "
	      "reachable.") },
	{ .path = "provider.ssh.jump_host.address", .type = KT_STRING,
	  JUMP(address), .required = true, .check = check_address },
	{ .path = "provider.ssh.jump_host.port", .type = KT_INT, JUMP(port),
	  .min = 1, .max = 65535 },
	{ .path = "provider.ssh.jump_host.user", .type = KT_STRING, JUMP(user),
	  .inherit = "provider.ssh.user", .check = check_user },
	{ .path = "provider.ssh.jump_host.key", .type = KT_PATH,
	  JUMP(key_file), .optional = true, .inherit = "provider.ssh.key",
	  .check = check_file },

	{ .path = "machines", .type = KT_GROUP, .deferred = true,
	  .help = N_("Each machine: name (a DNS-1123 label) and address "
	      "(IPv4 or IPv6), and\noptionally user, port, key and sudo "
	      "overriding provider.ssh's.") },
	{ .path = "machines.master", .type = KT_MASTER, SPEC(master) },
	{ .path = "machines.nodes", .type = KT_NODES },

	{ .path = "network", .type = KT_GROUP },
	{ .path = "network.plugin", .type = KT_ENUM, SPEC(plugin),
	  .names = plugin_names },
	{ .path = "network.manifest", .type = KT_PATH, SPEC(custom_manifest),
	  .optional = true, .check = check_file, .depends = "network.plugin",
	  .help = N_("The CNI manifest when plugin is \"custom\"; \"\" "
	      "otherwise.") },

	{ .path = "addons", .type = KT_GROUP },
	{ .path = "addons.dns", .type = KT_BOOL, SPEC(addon_dns) },
	{ .path = "addons.dashboard", .type = KT_BOOL, SPEC(addon_dashboard) },
	{ .path = "addons.metrics_server", .type = KT_BOOL,
	  SPEC(addon_metrics_server) },

	{ .path = "runtime", .type = KT_GROUP },
	{ .path = "runtime.type", .type = KT_ENUM, SPEC(runtime),
	  .names = runtime_names },
	{ .path = "runtime.cgroup_driver", .type = KT_ENUM,
	  SPEC(cgroup_driver), .names = cgroup_driver_names,
	  .help = N_("Who manages the containers' cgroups: \"systemd\" "
	      "(machines that run systemd, the usual case) or \"cgroupfs\".") },

	{ .path = "images", .type = KT_GROUP },
	{ .path = "images.registry", .type = KT_STRING, SPEC(registry),
	  .check = check_registry,
	  .help = N_("Where images are pulled from: host[:port][/path].") },
	{ .path = "images.ca_file", .type = KT_PATH, SPEC(registry_ca_file),
	  .optional = true, .check = check_file,
	  .help = N_("A CA the registry's certificate chains to; \"\": "
	      "none.") },

	{ .path = "downloads", .type = KT_GROUP },
	{ .path = "downloads.base_url", .type = KT_STRING,
	  SPEC(download_base_url), .check = check_https_url,
	  .help = N_("Where kubelet and kubectl come from; TLS is always "
	      "verified.") },
	{ .path = "downloads.ca_file", .type = KT_PATH, SPEC(download_ca_file),
	  .optional = true, .check = check_file,
	  .help = N_("A CA to trust in addition to the system's; \"\": "
	      "none.") },
	{ .path = "downloads.cache_dir", .type = KT_PATH,
	  SPEC(download_cache_dir), .check = check_folder },

	{ .path = "pki", .type = KT_GROUP },
	{ .path = "pki.key_type", .type = KT_ENUM, SPEC(key_type),
	  .names = key_type_names },

	{ .path = "engine", .type = KT_GROUP },
	{ .path = "engine.parallelism", .type = KT_INT, SPEC(parallelism),
	  .min = 1, .max = 1024, .help = N_("Machines worked on at once.") },
	{ .path = "engine.retries", .type = KT_INT, SPEC(retries),
	  .min = 0, .max = 100,
	  .help = N_("Automatic retries of a failed target; the pause starts "
	      "at\nretry_backoff_ms and doubles up to "
	      "retry_backoff_max_ms.") },
	{ .path = "engine.retry_backoff_ms", .type = KT_INT,
	  SPEC(retry_backoff_ms), .min = 0, .max = 3600000 },
	{ .path = "engine.retry_backoff_max_ms", .type = KT_INT,
	  SPEC(retry_backoff_max_ms), .min = 0, .max = 3600000,
	  .depends = "engine.retry_backoff_ms" },
	{ .path = "engine.on_failure", .type = KT_ENUM, SPEC(on_failure),
	  .names = on_failure_names,
	  .help = N_("What --batch does when a substep still fails.") },
	{ .path = "engine.wait_timeout", .type = KT_INT, SPEC(wait_timeout),
	  .min = 5, .max = 86400,
	  .help = N_("Seconds the cluster may take to reach a state: the "
	      "apiserver\nanswering, a Node Ready, an add-on ready.") },
};

/* The keys of one machine, under machines.master and machines.nodes[i]. */
static const struct key machine_keys[] = {
	{ .path = "name", .type = KT_STRING, MACH(name), .required = true,
	  .check = check_label },
	{ .path = "address", .type = KT_STRING, MACH(address),
	  .required = true, .check = check_address },
	{ .path = "user", .type = KT_STRING, MACH(user),
	  .inherit = "provider.ssh.user", .check = check_user },
	{ .path = "port", .type = KT_INT, MACH(port), .min = 1, .max = 65535,
	  .inherit = "provider.ssh.port" },
	{ .path = "key", .type = KT_PATH, MACH(key_file), .optional = true,
	  .inherit = "provider.ssh.key", .check = check_file },
	{ .path = "sudo", .type = KT_BOOL, MACH(sudo),
	  .inherit = "provider.ssh.sudo" },
};

static const struct key *
find_key(const char *path)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static const struct key *
find_machine_key(const char *name)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(machine_keys); i++)
		if (strcmp(machine_keys[i].path, name) == 0)
			return &machine_keys[i];
	return NULL;
}

static const char *
key_name(const struct key *k)
{
	const char *dot = strrchr(k->path, '.');
	return dot ? dot + 1 : k->path;
}

/* Whether k is a direct member of the group at gpath ("" for the top). */
static bool
key_in_group(const struct key *k, const char *gpath)
{
	const char *dot = strrchr(k->path, '.');
	size_t n = dot ? (size_t)(dot - k->path) : 0;

	return strlen(gpath) == n && strncmp(k->path, gpath, n) == 0;
}

static void *
field(const struct key *k, const void *base)
{
	return (char *)base + k->off;
}

/* The object k's offset counts in, or NULL (no jump host). */
static const void *
key_base(const struct key *k, const struct ku_spec *spec)
{
	return k->base == KB_JUMP ? (const void *)spec->ssh.jump : spec;
}

/* Whether the inherited value equals the provider's. */
static bool
same_as_inherited(const struct key *k, const void *base,
    const struct ku_spec *spec)
{
	const struct key *from = find_key(k->inherit);
	const void *a = field(k, base), *b = field(from, spec);

	switch (k->type) {
	case KT_STRING:
	case KT_PATH:
		return ku_streq(*(char *const *)a, *(char *const *)b);
	case KT_INT:
		return *(const int *)a == *(const int *)b;
	case KT_BOOL:
		return *(const bool *)a == *(const bool *)b;
	default:
		return false;
	}
}

/* --- ku_spec_validate --- */

static void
check_value(struct check *c, const struct key *k, const char *key,
    const void *base)
{
	const void *p = field(k, base);

	switch (k->type) {
	case KT_INT: {
		int v = *(const int *)p;
		if (v < k->min || v > k->max)
			problem(c, key, _("must be an integer from %d to %d, not "
			    "%d"), k->min, k->max, v);
		break;
	}
	case KT_ENUM: {
		int v = *(const int *)p;
		if (v < 0 || (size_t)v >= names_count(k->names)) {
			char *all = ku_strjoin(k->names, names_count(k->names),
			    ", ");
			problem(c, key, _("%d is not one of: %s"), v, all);
			free(all);
		}
		break;
	}
	case KT_STRING:
	case KT_PATH: {
		const char *v = *(char *const *)p;
		if (v == NULL || (v[0] == '\0' && k->optional)) {
			if (!k->optional && !k->required)
				problem(c, key, "%s", _("must be set"));
			else if (k->required)
				problem(c, key, "%s", _("missing: it has no "
				    "default"));
			break;
		}
		if (k->check)
			k->check(c, key, v);
		break;
	}
	case KT_STRV: {
		const struct ku_strv *sv = p;
		for (size_t i = 0; i < sv->n; i++) {
			char *ek = xasprintf("%s[%zu]", key, i);
			if (sv->v[i] == NULL)
				problem(c, ek, "%s", _("must be a string"));
			else if (k->check)
				k->check(c, ek, sv->v[i]);
			free(ek);
		}
		break;
	}
	case KT_BOOL:
	case KT_GROUP:
	case KT_MASTER:
	case KT_NODES:
		break;
	}
}

static void
check_machine(struct check *c, const struct ku_machine *m,
    const char *prefix)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(machine_keys); i++) {
		const struct key *k = &machine_keys[i];
		char *key;

		/* A value taken from provider.ssh is checked there. */
		if (k->inherit && same_as_inherited(k, m, c->spec))
			continue;
		key = xasprintf("%s.%s", prefix, k->path);
		if (k->required && *(char *const *)field(k, m) == NULL)
			problem(c, key, "%s", _("missing: every machine needs a "
			    "name and an address"));
		else
			check_value(c, k, key, m);
		free(key);
	}
}

static char *
machine_key(size_t i)
{
	return i == 0 ? xstrdup("machines.master") :
	    xasprintf("machines.nodes[%zu]", i - 1);
}

static void
check_machines(struct check *c)
{
	const struct ku_spec *s = c->spec;
	size_t n = ku_spec_n_machines(s);

	if (s->master.name == NULL && s->master.address == NULL) {
		problem(c, "machines.master", "%s", _("missing: the ssh provider "
		    "needs master = { name = \"...\"; address = \"...\"; }"));
	} else {
		check_machine(c, &s->master, "machines.master");
	}
	if (s->n_nodes > KU_MAX_NODES) {
		problem(c, "machines.nodes", _("lists %zu machines: at most %d "
		    "are supported"), s->n_nodes, KU_MAX_NODES);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		char *prefix = machine_key(i);
		check_machine(c, ku_spec_machine(s, i), prefix);
		free(prefix);
	}

	/* Names and addresses name one machine each. */
	for (size_t i = 1; i < n; i++) {
		const struct ku_machine *m = ku_spec_machine(s, i);
		unsigned char a[16];
		int fa = m->address ? ip_family(m->address, a) : 0;
		bool name_done = m->name == NULL, addr_done = fa == 0;

		for (size_t j = 0; j < i && !(name_done && addr_done); j++) {
			const struct ku_machine *o = ku_spec_machine(s, j);
			unsigned char b[16];
			char *prefix, *key, *other;
			struct qbuf q;

			if (!name_done && ku_streq(m->name, o->name)) {
				prefix = machine_key(i);
				key = xasprintf("%s.name", prefix);
				other = machine_key(j);
				problem(c, key, _("%s is already the name of %s"),
				    quote(&q, m->name), other);
				free(prefix);
				free(key);
				free(other);
				name_done = true;
			}
			if (!addr_done && o->address &&
			    ip_family(o->address, b) == fa &&
			    memcmp(a, b, sizeof a) == 0) {
				prefix = machine_key(i);
				key = xasprintf("%s.address", prefix);
				other = machine_key(j);
				problem(c, key, _("%s is already the address of %s"),
				    quote(&q, m->address), other);
				free(prefix);
				free(key);
				free(other);
				addr_done = true;
			}
		}
	}
}

static bool
cidr_contains(const struct cidr *r, const char *address)
{
	unsigned char a[16];
	int family = address ? ip_family(address, a) : 0;

	return family == r->family && prefix_equal(r->addr, a, r->prefix);
}

static void
check_ranges(struct check *c)
{
	const struct ku_spec *s = c->spec;
	struct cidr pod, svc;
	bool pod_ok = s->pod_cidr && parse_cidr(s->pod_cidr, &pod);
	bool svc_ok = s->service_cidr && parse_cidr(s->service_cidr, &svc);
	const char *cidr_keys[2] = { "cluster.pod_cidr", "cluster.service_cidr" };
	const struct cidr *cidrs[2] = { &pod, &svc };
	bool ok[2] = { pod_ok, svc_ok };

	if (svc_ok && svc.bits - svc.prefix < 4) {
		/* The DNS Service takes the range's 10th address. */
		problem(c, "cluster.service_cidr", _("%s is too small: the DNS "
		    "service uses its 10th address; use a prefix of /%d or "
		    "shorter"), s->service_cidr, svc.bits - 4);
	}
	if (pod_ok && svc_ok) {
		int shorter = pod.prefix < svc.prefix ? pod.prefix : svc.prefix;
		if (pod.family != svc.family)
			cross_problem(c, "cluster.service_cidr", _("%s and "
			    "cluster.pod_cidr (%s) must both be IPv4 or both "
			    "IPv6"), s->service_cidr, s->pod_cidr);
		else if (prefix_equal(pod.addr, svc.addr, shorter))
			cross_problem(c, "cluster.service_cidr", _("%s overlaps "
			    "cluster.pod_cidr (%s)"), s->service_cidr,
			    s->pod_cidr);
	}
	for (size_t r = 0; r < 2; r++) {
		if (!ok[r])
			continue;
		for (size_t i = 0; i < ku_spec_n_machines(s) &&
		    i <= KU_MAX_NODES; i++) {
			const struct ku_machine *m = ku_spec_machine(s, i);
			char *who;
			if (!cidr_contains(cidrs[r], m->address))
				continue;
			who = machine_key(i);
			problem(c, cidr_keys[r], _("%s contains the address of "
			    "%s (%s)"), r == 0 ? s->pod_cidr : s->service_cidr,
			    who, m->address);
			free(who);
		}
	}
}

static void
check_cross(struct check *c)
{
	const struct ku_spec *s = c->spec;

	check_ranges(c);
	if (s->node_count >= 0 && s->node_count <= KU_MAX_NODES &&
	    (size_t)s->node_count != s->n_nodes)
		cross_problem(c, "cluster.node_count", ngettext(
		    "node_count is %d but machines.nodes lists %zu machine",
		    "node_count is %d but machines.nodes lists %zu machines",
		    s->n_nodes), s->node_count, s->n_nodes);
	if (s->plugin == KU_NET_CUSTOM && (s->custom_manifest == NULL ||
	    s->custom_manifest[0] == '\0'))
		cross_problem(c, "network.manifest", "%s", _("missing: plugin "
		    "\"custom\" needs the manifest to apply"));
	else if (s->plugin != KU_NET_CUSTOM && s->custom_manifest &&
	    s->custom_manifest[0])
		cross_problem(c, "network.manifest", _("only used with plugin "
		    "\"custom\" (plugin is \"%s\"): leave it out"),
		    ku_net_plugin_name(s->plugin));
	if (s->ssh.sudo_password_file && s->ssh.sudo_password_file[0] &&
	    s->ssh.sudo_password_env && s->ssh.sudo_password_env[0])
		problem(c, "provider.ssh.sudo_password_env", "%s", _("set "
		    "sudo_password_file or sudo_password_env, not both"));
	if (s->retry_backoff_max_ms < s->retry_backoff_ms)
		cross_problem(c, "engine.retry_backoff_max_ms", _("%d is less than "
		    "engine.retry_backoff_ms (%d)"), s->retry_backoff_max_ms,
		    s->retry_backoff_ms);
}

/* Every check of ku_spec_validate(); cross may be diags. */
static void
spec_check(const struct ku_spec *spec, struct ku_diags *diags,
    struct ku_diags *cross)
{
	struct check c = { .spec = spec, .diags = diags, .cross = cross };

	for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		const void *base = key_base(k, spec);

		if (base == NULL)
			continue;
		if (k->base == KB_JUMP && k->inherit &&
		    same_as_inherited(k, base, spec))
			continue;
		if (k->required && *(char *const *)field(k, base) == NULL)
			problem(&c, k->path, "%s", _("missing: it has no "
			    "default"));
		else
			check_value(&c, k, k->path, base);
	}
	check_machines(&c);
	check_cross(&c);
}

ku_rc
ku_spec_validate(const struct ku_spec *spec, struct ku_diags *diags)
{
	size_t before = diags->n;

	spec_check(spec, diags, diags);
	return diags->n > before ? KU_ERR_ANSWERS : KU_OK;
}

/* --- ku_spec_diff --- */

static bool
values_equal(const struct key *k, const void *a, const void *b)
{
	const void *pa = field(k, a), *pb = field(k, b);

	switch (k->type) {
	case KT_STRING:
	case KT_PATH:
		return ku_streq(*(char *const *)pa, *(char *const *)pb);
	case KT_INT:
	case KT_ENUM:
		return *(const int *)pa == *(const int *)pb;
	case KT_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case KT_STRV: {
		const struct ku_strv *x = pa, *y = pb;
		if (x->n != y->n)
			return false;
		for (size_t i = 0; i < x->n; i++)
			if (!ku_streq(x->v[i], y->v[i]))
				return false;
		return true;
	}
	default:
		return true;
	}
}

static void
diff_machine(const struct ku_machine *a, const struct ku_machine *b,
    const char *prefix, struct ku_strv *out)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(machine_keys); i++)
		if (!values_equal(&machine_keys[i], a, b))
			ku_strv_push_owned(out, xasprintf("%s.%s", prefix,
			    machine_keys[i].path));
}

void
ku_spec_diff(const struct ku_spec *a, const struct ku_spec *b,
    struct ku_strv *out)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		const void *ba = key_base(k, a), *bb = key_base(k, b);

		if (k->type == KT_GROUP && k->optional) {
			/* provider.ssh.jump_host: there in one only. */
			if ((a->ssh.jump == NULL) != (b->ssh.jump == NULL))
				ku_strv_push(out, k->path);
			continue;
		}
		if (k->type == KT_MASTER) {
			diff_machine(&a->master, &b->master, k->path, out);
			continue;
		}
		if (k->type == KT_NODES) {
			size_t n = a->n_nodes < b->n_nodes ? a->n_nodes :
			    b->n_nodes;
			if (a->n_nodes != b->n_nodes)
				ku_strv_push(out, k->path);
			for (size_t j = 0; j < n; j++) {
				char *prefix = machine_key(j + 1);
				diff_machine(&a->nodes[j], &b->nodes[j], prefix,
				    out);
				free(prefix);
			}
			continue;
		}
		if (ba == NULL || bb == NULL)
			continue;
		if (!values_equal(k, ba, bb))
			ku_strv_push(out, k->path);
	}
}

/* --- pre-scan: what libconfig must never see --- */

/* An integer literal libconfig 1.5 would wrap or saturate: its place
 * among all integer literals, in the order they appear. */
struct wrapped_int {
	size_t index;
	int line;
	char text[40];
};

struct prescan {
	/* The first string where libconfig's grammar takes none: libconfig
	 * 1.5 leaks a string token it meets at a syntax error (fixed in
	 * 1.7.3), so libconfig is shown something else there. */
	bool misplaced_string;
	size_t misplaced_at;
	size_t n_ints;                 /* integer literals seen */
	struct wrapped_int *wrapped;
	size_t n_wrapped;
	size_t cap_wrapped;
};

static char
at(const char *s, size_t n, size_t i)
{
	return i < n ? s[i] : '\0';
}

static bool
is_xdigit_char(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

static size_t
skip_digits(const char *s, size_t n, size_t i)
{
	while (is_digit(at(s, n, i)))
		i++;
	return i;
}

/* An exponent [eE][-+]?[0-9]+ at i: its end, or i. */
static size_t
exponent_end(const char *s, size_t n, size_t i)
{
	size_t k = i + 1;

	if (at(s, n, i) != 'e' && at(s, n, i) != 'E')
		return i;
	if (at(s, n, k) == '+' || at(s, n, k) == '-')
		k++;
	if (!is_digit(at(s, n, k)))
		return i;
	return skip_digits(s, n, k);
}

enum num_kind { NUM_NONE, NUM_FLOAT, NUM_INT, NUM_INT64, NUM_HEX, NUM_HEX64 };

/* The token libconfig's scanner takes at s[0] (which is one of -+.0-9):
 * flex picks the longest match, the first rule on a tie. */
static size_t
number_token(const char *s, size_t n, enum num_kind *kind)
{
	size_t sign = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	size_t dig = skip_digits(s, n, sign);
	size_t best = 0, len;

	*kind = NUM_NONE;
	/* float: [-+]?[0-9]*\.[0-9]*(exp)? | [-+]?[0-9]+(\.[0-9]*)?exp */
	if (at(s, n, dig) == '.') {
		len = exponent_end(s, n, skip_digits(s, n, dig + 1));
		if (len > best) {
			best = len;
			*kind = NUM_FLOAT;
		}
	}
	if (dig > sign) {
		size_t m = dig;
		if (at(s, n, m) == '.')
			m = skip_digits(s, n, m + 1);
		len = exponent_end(s, n, m);
		if (len > m && len > best) {
			best = len;
			*kind = NUM_FLOAT;
		}
		if (dig > best) {
			best = dig;
			*kind = NUM_INT;
		}
		if (at(s, n, dig) == 'L') {
			len = dig + 1 + (at(s, n, dig + 1) == 'L');
			if (len > best) {
				best = len;
				*kind = NUM_INT64;
			}
		}
	}
	if (s[0] == '0' && (at(s, n, 1) == 'x' || at(s, n, 1) == 'X') &&
	    is_xdigit_char(at(s, n, 2))) {
		size_t h = 2;
		while (is_xdigit_char(at(s, n, h)))
			h++;
		if (h > best) {
			best = h;
			*kind = NUM_HEX;
		}
		if (at(s, n, h) == 'L') {
			len = h + 1 + (at(s, n, h + 1) == 'L');
			if (len > best) {
				best = len;
				*kind = NUM_HEX64;
			}
		}
	}
	return best;
}

/* Whether the literal's value lies outside int: libconfig 1.5 then keeps
 * some other number. */
static bool
int_wraps(const char *s, size_t len, enum num_kind kind)
{
	char buf[64];
	size_t digits = len;

	while (digits > 0 && s[digits - 1] == 'L')
		digits--;
	if (digits >= sizeof buf)
		return true;
	memcpy(buf, s, digits);
	buf[digits] = '\0';
	errno = 0;
	if (kind == NUM_HEX || kind == NUM_HEX64) {
		unsigned long long v = strtoull(buf, NULL, 16);
		return errno != 0 || v > INT_MAX;
	} else {
		long long v = strtoll(buf, NULL, 10);
		return errno != 0 || v < INT_MIN || v > INT_MAX;
	}
}

static bool
name_start(char ch)
{
	return is_alpha(ch) || ch == '*';
}

static bool
name_char(char ch)
{
	return is_alpha(ch) || is_digit(ch) || ch == '*' || ch == '-' ||
	    ch == '_';
}

/* Remembers the integer literal s, the ps->n_ints-th, as one libconfig
 * would wrap. */
static void
note_wrapped(struct prescan *ps, const char *s, size_t len, int line)
{
	struct wrapped_int *w;

	if (ps->n_wrapped == ps->cap_wrapped) {
		ps->cap_wrapped = ps->cap_wrapped ? ps->cap_wrapped * 2 : 8;
		ps->wrapped = xreallocarray(ps->wrapped, ps->cap_wrapped,
		    sizeof *ps->wrapped);
	}
	w = &ps->wrapped[ps->n_wrapped++];
	w->index = ps->n_ints;
	w->line = line;
	if (len < sizeof w->text) {
		memcpy(w->text, s, len);
		w->text[len] = '\0';
	} else {
		memcpy(w->text, s, sizeof w->text - 4);
		memcpy(w->text + sizeof w->text - 4, "...", 4);
	}
}

struct reader;
static void read_problem(struct reader *r, int line, const char *key,
    const char *fmt, ...) KU_PRINTF(4, 5);

/* Returns false, having said why, when libconfig must not see the text. */
static bool
prescan(struct reader *r, const char *s, size_t n, struct prescan *ps);

/* --- reading --- */

/* Every setting met: its dotted key and line. */
struct seen {
	char *key;
	int line;
};

struct wrapped_setting {
	uintptr_t setting;
	const char *text;
};

struct reader {
	const char *file;          /* for messages, may be NULL */
	char *base_dir;            /* absolute */
	struct ku_spec *spec;
	struct ku_diags diags;     /* this read's problems, sorted at the end */
	struct seen *seen;
	size_t n_seen, cap_seen;
	struct ku_strv bad;        /* keys already reported */
	/* Settings holding a wrapped integer literal, sorted. */
	struct wrapped_setting *wrapped;
	size_t n_wrapped;
};

static void
read_problem(struct reader *r, int line, const char *key, const char *fmt,
    ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_diags_add(&r->diags, r->file, line, key, "%s", msg);
	free(msg);
}

static bool
prescan(struct reader *r, const char *s, size_t n, struct prescan *ps)
{
	enum { LEX_INITIAL, LEX_COMMENT, LEX_STRING } st = LEX_INITIAL;
	static const char include[] = "@include";
	char open[KU_MAX_DEPTH + 1];   /* the brackets we are in */
	unsigned members[KU_MAX_DEPTH + 1] = { 0 };   /* settings so far in
	                                               * each group open */
	int line = 1, depth = 0;
	/* Whether libconfig's grammar takes a string here: after = or :,
	 * ( or [, a comma in a list or array, or another string. */
	bool string_ok = false;
	size_t i;

	/* Text only: a NUL would cut the file short unseen. */
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n')
			line++;
		if (ch == 0) {
			read_problem(r, line, NULL, "%s", _("contains a NUL byte: "
			    "an answers file is text, this looks binary"));
			return false;
		}
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' &&
		    ch != '\f') || ch == 0x7f) {
			read_problem(r, line, NULL, _("contains the control "
			    "character 0x%02x: an answers file is text, this "
			    "looks binary"), ch);
			return false;
		}
	}

	line = 1;
	i = 0;
	while (i < n) {
		char ch = s[i];

		/* libconfig takes `@include "` at a line's start; refuse it
		 * there whatever the state. */
		if (i == 0 || s[i - 1] == '\n') {
			size_t k = i;
			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			if (n - k >= sizeof include - 1 &&
			    memcmp(s + k, include, sizeof include - 1) == 0) {
				read_problem(r, line, NULL, "%s", _("@include is "
				    "not allowed: an answers file stands alone"));
				return false;
			}
		}
		if (ch == '\n')
			line++;

		switch (st) {
		case LEX_COMMENT:
			if (ch == '*' && at(s, n, i + 1) == '/') {
				st = LEX_INITIAL;
				i += 2;
			} else {
				i++;
			}
			continue;
		case LEX_STRING:
			if (ch == '\\' && (at(s, n, i + 1) == '\\' ||
			    at(s, n, i + 1) == '"'))
				i += 2;
			else {
				if (ch == '"')
					st = LEX_INITIAL;
				i++;
			}
			continue;
		case LEX_INITIAL:
			break;
		}

		if (ch == '/' && at(s, n, i + 1) == '*') {
			st = LEX_COMMENT;
			i += 2;
		} else if (ch == '#' || (ch == '/' && at(s, n, i + 1) == '/')) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f') {
			i++;
		} else if (ch == '"') {
			if (!string_ok && !ps->misplaced_string) {
				ps->misplaced_string = true;
				ps->misplaced_at = i;
			}
			st = LEX_STRING;
			i++;
		} else if (ch == '{' || ch == '(' || ch == '[') {
			if (depth >= KU_MAX_DEPTH) {
				read_problem(r, line, NULL, _("nested more than "
				    "%d levels deep"), KU_MAX_DEPTH);
				return false;
			}
			open[depth++] = ch;
			members[depth] = 0;
			string_ok = ch != '{';
			i++;
		} else if (ch == '}' || ch == ')' || ch == ']') {
			if (depth > 0)
				depth--;
			string_ok = false;
			i++;
		} else if (ch == '=' || ch == ':') {
			if ((depth == 0 || open[depth - 1] == '{') &&
			    ++members[depth] > KU_MAX_MEMBERS) {
				read_problem(r, line, NULL, _("more than %d settings "
				    "in one group"), KU_MAX_MEMBERS);
				return false;
			}
			string_ok = true;
			i++;
		} else if (ch == ',') {
			string_ok = depth > 0 && open[depth - 1] != '{';
			i++;
		} else if (name_start(ch)) {
			string_ok = false;
			while (i < n && name_char(s[i]))
				i++;
		} else if (ch == '@' && n - i >= sizeof include - 1 &&
		    memcmp(s + i, include, sizeof include - 1) == 0) {
			read_problem(r, line, NULL, "%s", _("@include is not "
			    "allowed: an answers file stands alone"));
			return false;
		} else if (is_digit(ch) || ch == '-' || ch == '+' || ch == '.') {
			enum num_kind kind;
			size_t len = number_token(s + i, n - i, &kind);
			string_ok = false;
			if (len == 0) {
				i++;
				continue;
			}
			if (kind != NUM_FLOAT) {
				if (int_wraps(s + i, len, kind))
					note_wrapped(ps, s + i, len, line);
				ps->n_ints++;
			}
			i += len;
		} else {
			string_ok = false;
			i++;
		}
	}
	return true;
}

/* Pairs the integer settings, in the order they appear, with the literals
 * the pre-scan found. */
static void
collect_ints(const config_setting_t *s, const config_setting_t ***v,
    size_t *n, size_t *cap, int depth)
{
	int type = config_setting_type(s);

	if (depth > KU_MAX_DEPTH + 1)
		return;
	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xreallocarray(*v, *cap, sizeof **v);
		}
		(*v)[(*n)++] = s;
		return;
	}
	if (type == CONFIG_TYPE_GROUP || type == CONFIG_TYPE_ARRAY ||
	    type == CONFIG_TYPE_LIST) {
		int len = config_setting_length(s);
		for (int i = 0; i < len; i++)
			collect_ints(config_setting_get_elem(s, (unsigned)i), v,
			    n, cap, depth + 1);
	}
}

static int
wrapped_cmp(const void *a, const void *b)
{
	const struct wrapped_setting *x = a, *y = b;
	return x->setting < y->setting ? -1 : x->setting > y->setting;
}

static void
find_wrapped(struct reader *r, const config_t *cfg, struct prescan *ps)
{
	const config_setting_t **ints = NULL;
	size_t n = 0, cap = 0;

#ifndef KU_FUZZING
	/* (The fuzz build always pairs them, to catch the pre-scan reading
	 * a number differently from libconfig.) */
	if (ps->n_wrapped == 0)
		return;
#endif
	collect_ints(config_root_setting(cfg), &ints, &n, &cap, 0);
	if (n != ps->n_ints) {
		/* The pre-scan read the numbers differently from libconfig:
		 * say what it found rather than trust a wrapped value. */
#ifdef KU_FUZZING
		abort();
#endif
		for (size_t i = 0; i < ps->n_wrapped; i++)
			read_problem(r, ps->wrapped[i].line, NULL, _("%s is too "
			    "large for an integer"), ps->wrapped[i].text);
		free(ints);
		return;
	}
	if (ps->n_wrapped == 0) {
		free(ints);
		return;
	}
	r->wrapped = xcalloc(ps->n_wrapped, sizeof *r->wrapped);
	for (size_t i = 0; i < ps->n_wrapped; i++) {
		r->wrapped[i].setting = (uintptr_t)ints[ps->wrapped[i].index];
		r->wrapped[i].text = ps->wrapped[i].text;
	}
	r->n_wrapped = ps->n_wrapped;
	qsort(r->wrapped, r->n_wrapped, sizeof *r->wrapped, wrapped_cmp);
	free(ints);
}

static int
line_of(const config_setting_t *s)
{
	unsigned l = config_setting_source_line(s);
	return l > INT_MAX ? 0 : (int)l;
}

static void
seen_add(struct reader *r, const char *key, const config_setting_t *s)
{
	if (r->n_seen == r->cap_seen) {
		r->cap_seen = r->cap_seen ? r->cap_seen * 2 : 64;
		r->seen = xreallocarray(r->seen, r->cap_seen, sizeof *r->seen);
	}
	r->seen[r->n_seen].key = xstrdup(key);
	r->seen[r->n_seen].line = line_of(s);
	r->n_seen++;
}

static void
bad_value(struct reader *r, const char *key, const config_setting_t *s,
    const char *fmt, ...) KU_PRINTF(4, 5);

/* A problem with a setting's own value: reported, and its default kept
 * without further checks. */
static void
bad_value(struct reader *r, const char *key, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_diags_add(&r->diags, r->file, line_of(s), key, "%s", msg);
	free(msg);
	ku_strv_push(&r->bad, key);
}

static char *
allowed_list(const char *gpath, bool machine)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	if (machine) {
		for (size_t i = 0; i < KU_ARRAY_LEN(machine_keys); i++)
			ku_buf_printf(&b, "%s%s", i ? ", " : "",
			    machine_keys[i].path);
	} else {
		for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++)
			if (key_in_group(&keys[i], gpath))
				ku_buf_printf(&b, "%s%s", b.len ? ", " : "",
				    key_name(&keys[i]));
	}
	return ku_buf_steal(&b);
}

static void
unknown_key(struct reader *r, const config_setting_t *s, const char *gpath,
    bool machine)
{
	const char *name = config_setting_name(s);
	char *allowed = allowed_list(gpath, machine);
	char shown[72];
	char *key;

	if (name == NULL)
		name = "?";
	snprintf(shown, sizeof shown, "%s%s", name,
	    strlen(name) > 64 ? "..." : "");
	if (strlen(name) > 64)
		memcpy(shown + 61, "...", 4);
	key = gpath[0] ? xasprintf("%s.%s", gpath, shown) : xstrdup(shown);
	if (gpath[0])
		read_problem(r, line_of(s), key, _("unknown key; %s allows: %s"),
		    gpath, allowed);
	else
		read_problem(r, line_of(s), key, _("unknown key; the top level "
		    "allows: %s"), allowed);
	free(key);
	free(allowed);
}

static bool
is_wrapped(const struct reader *r, const config_setting_t *s,
    const char **text)
{
	struct wrapped_setting probe = { .setting = (uintptr_t)s };
	const struct wrapped_setting *w = r->n_wrapped == 0 ? NULL :
	    bsearch(&probe, r->wrapped, r->n_wrapped, sizeof *r->wrapped,
	    wrapped_cmp);

	if (w)
		*text = w->text;
	return w != NULL;
}

/* ~/ is $HOME, a relative path is taken from the answers file's folder;
 * stored absolute whatever $HOME holds. */
static char *
absolute_path(const char *v, const char *base_dir)
{
	char *p = ku_path_expand(v, base_dir);
	char *abs;

	if (p[0] == '/')
		return p;
	abs = ku_path_join(base_dir, p);
	free(p);
	return abs;
}

static void
set_string(char **p, char *v)
{
	free(*p);
	*p = v;
}

/* One value that is not a group: into field(k, base). */
static void
read_value(struct reader *r, const struct key *k, const char *key,
    const config_setting_t *s, void *base)
{
	void *p = field(k, base);
	int type = config_setting_type(s);
	const char *text;

	switch (k->type) {
	case KT_STRING:
	case KT_PATH: {
		const char *v;
		if (type != CONFIG_TYPE_STRING) {
			bad_value(r, key, s, "%s", _("must be a string"));
			return;
		}
		v = config_setting_get_string(s);
		if (v == NULL)
			v = "";
		if (v[0] == '\0' && k->optional)
			set_string(p, NULL);
		else if (k->type == KT_PATH && v[0])
			set_string(p, absolute_path(v, r->base_dir));
		else
			set_string(p, xstrdup(v));
		return;
	}
	case KT_INT: {
		long long v;
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			bad_value(r, key, s, _("must be an integer from %d to %d"),
			    k->min, k->max);
			return;
		}
		if (is_wrapped(r, s, &text)) {
			bad_value(r, key, s, _("must be an integer from %d to %d, "
			    "not %s"), k->min, k->max, text);
			return;
		}
		v = config_setting_get_int64(s);
		if (v < INT_MIN || v > INT_MAX) {
			bad_value(r, key, s, _("must be an integer from %d to %d, "
			    "not %lld"), k->min, k->max, v);
			return;
		}
		*(int *)p = (int)v;
		return;
	}
	case KT_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			bad_value(r, key, s, "%s", _("must be true or false"));
			return;
		}
		*(bool *)p = config_setting_get_bool(s) != 0;
		return;
	case KT_ENUM: {
		size_t n = names_count(k->names);
		char *all = ku_strjoin(k->names, n, ", ");
		const char *v;
		struct qbuf q;
		if (type != CONFIG_TYPE_STRING) {
			bad_value(r, key, s, _("must be a string, one of: %s"),
			    all);
			free(all);
			return;
		}
		v = config_setting_get_string(s);
		for (size_t i = 0; v && i < n; i++)
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)p = (int)i;
				free(all);
				return;
			}
		if (k->names_note)
			bad_value(r, key, s, _("%s is not one of: %s (%s)"),
			    quote(&q, v), all, _(k->names_note));
		else
			bad_value(r, key, s, _("%s is not one of: %s"),
			    quote(&q, v), all);
		free(all);
		return;
	}
	case KT_STRV: {
		struct ku_strv *sv = p;
		int len;
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			bad_value(r, key, s, "%s", _("must be an array of strings, "
			    "e.g. [ \"lb.example.com\", \"192.0.2.100\" ]"));
			return;
		}
		ku_strv_free(sv);
		len = config_setting_length(s);
		for (int i = 0; i < len; i++) {
			const config_setting_t *e =
			    config_setting_get_elem(s, (unsigned)i);
			char *ek = xasprintf("%s[%d]", key, i);
			seen_add(r, ek, e);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				bad_value(r, ek, e, "%s", _("must be a string"));
				ku_strv_push(sv, "");
			} else {
				const char *v = config_setting_get_string(e);
				ku_strv_push(sv, v ? v : "");
			}
			free(ek);
		}
		return;
	}
	case KT_GROUP:
	case KT_MASTER:
	case KT_NODES:
		return;
	}
}

/* A machine starts with provider.ssh's user, port, key and sudo. */
static void
machine_init(struct ku_machine *m, const struct ku_spec *spec,
    const config_setting_t *s)
{
	free(m->name);
	free(m->address);
	free(m->user);
	free(m->key_file);
	memset(m, 0, sizeof *m);
	m->user = spec->ssh.user ? xstrdup(spec->ssh.user) : NULL;
	m->port = spec->ssh.port;
	m->key_file = spec->ssh.key_file ? xstrdup(spec->ssh.key_file) : NULL;
	m->sudo = spec->ssh.sudo;
	m->line = line_of(s);
}

static void
read_machine(struct reader *r, const config_setting_t *s, const char *key,
    struct ku_machine *m)
{
	int len;

	machine_init(m, r->spec, s);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		bad_value(r, key, s, "%s", _("must be a group: { name = \"...\"; "
		    "address = \"...\"; }"));
		return;
	}
	len = config_setting_length(s);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);
		const char *name = config_setting_name(e);
		const struct key *k = name ? find_machine_key(name) : NULL;
		char *ek;

		if (k == NULL) {
			unknown_key(r, e, key, true);
			continue;
		}
		ek = xasprintf("%s.%s", key, name);
		seen_add(r, ek, e);
		read_value(r, k, ek, e, m);
		free(ek);
	}
}

static void
read_nodes(struct reader *r, const config_setting_t *s, const char *key)
{
	struct ku_spec *spec = r->spec;
	int type = config_setting_type(s);
	int len;

	if (type != CONFIG_TYPE_LIST && !(type == CONFIG_TYPE_ARRAY &&
	    config_setting_length(s) == 0)) {
		bad_value(r, key, s, "%s", _("must be a list of machines: "
		    "( { name = \"...\"; address = \"...\"; }, ... )"));
		return;
	}
	len = config_setting_length(s);
	if (len > KU_MAX_NODES) {
		bad_value(r, key, s, _("lists %d machines: at most %d are "
		    "supported"), len, KU_MAX_NODES);
		return;
	}
	for (size_t i = 0; i < spec->n_nodes; i++) {
		struct ku_machine *m = &spec->nodes[i];
		free(m->name);
		free(m->address);
		free(m->user);
		free(m->key_file);
	}
	free(spec->nodes);
	spec->nodes = len > 0 ? xcalloc((size_t)len, sizeof *spec->nodes) :
	    NULL;
	spec->n_nodes = (size_t)len;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);
		char *ek = xasprintf("%s[%d]", key, i);
		seen_add(r, ek, e);
		read_machine(r, e, ek, &spec->nodes[i]);
		free(ek);
	}
}

static void read_group(struct reader *r, const config_setting_t *g,
    const char *gpath);

static void
read_setting(struct reader *r, const struct key *k, const config_setting_t *s)
{
	struct ku_spec *spec = r->spec;

	seen_add(r, k->path, s);
	switch (k->type) {
	case KT_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			bad_value(r, k->path, s, _("must be a group: %s = { ... }"),
			    key_name(k));
			return;
		}
		if (k->optional && spec->ssh.jump == NULL) {
			/* provider.ssh.jump_host: read after the rest of
			 * provider.ssh, whose user and key it defaults to. */
			struct ku_jump_host *j = xcalloc(1, sizeof *j);
			j->port = 22;
			j->user = spec->ssh.user ? xstrdup(spec->ssh.user) : NULL;
			j->key_file = spec->ssh.key_file ?
			    xstrdup(spec->ssh.key_file) : NULL;
			spec->ssh.jump = j;
		}
		read_group(r, s, k->path);
		return;
	case KT_MASTER:
		read_machine(r, s, k->path, &spec->master);
		return;
	case KT_NODES:
		read_nodes(r, s, k->path);
		return;
	default:
		read_value(r, k, k->path, s, (void *)key_base(k, spec));
		return;
	}
}

static void
read_group(struct reader *r, const config_setting_t *g, const char *gpath)
{
	int len = config_setting_length(g);

	/* Deferred keys take the others' values as defaults. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < len; i++) {
			const config_setting_t *s = config_setting_get_elem(g,
			    (unsigned)i);
			const char *name = config_setting_name(s);
			const struct key *k;
			char *path;

			if (name == NULL)
				continue;
			path = gpath[0] ? xasprintf("%s.%s", gpath, name) :
			    xstrdup(name);
			k = find_key(path);
			free(path);
			if (k == NULL) {
				if (pass == 0)
					unknown_key(r, s, gpath, false);
				continue;
			}
			if (k->deferred == (pass == 1))
				read_setting(r, k, s);
		}
	}
}

static int
seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	return strcmp(x->key, y->key);
}

static struct seen *
seen_find(struct reader *r, const char *key)
{
	struct seen probe = { .key = (char *)key };

	if (r->n_seen == 0)
		return NULL;
	return bsearch(&probe, r->seen, r->n_seen, sizeof *r->seen, seen_cmp);
}

/* "machines.nodes[1].address" -> "machines.nodes[1]" -> "machines.nodes"
 * -> "machines" -> false. */
static bool
key_parent(char *key)
{
	char *dot = strrchr(key, '.');
	char *bracket = strrchr(key, '[');
	char *cut = dot > bracket ? dot : bracket;

	if (cut == NULL)
		return false;
	*cut = '\0';
	return true;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
sorted_has(const struct ku_strv *sv, const char *key)
{
	return sv->n && bsearch(&key, sv->v, sv->n, sizeof *sv->v,
	    str_cmp) != NULL;
}

/* Whether key, or a group holding it, was already reported; r->bad is
 * sorted. */
static bool
already_reported(const struct reader *r, const char *key)
{
	char *k = xstrdup(key);
	bool found = false;

	do
		found = sorted_has(&r->bad, k);
	while (!found && key_parent(k));
	free(k);
	return found;
}

static void
place_one(struct reader *r, const struct ku_diag *d)
{
	char *k = xstrdup(d->key ? d->key : "");
	int line = 0;

	do {
		struct seen *e = seen_find(r, k);
		if (e) {
			line = e->line;
			break;
		}
	} while (key_parent(k));
	free(k);
	ku_diags_add(&r->diags, r->file, line, d->key, "%s", d->message);
}

static const struct key *
depends_of(const char *key)
{
	const struct key *k = key ? find_key(key) : NULL;
	return k && k->depends ? k : NULL;
}

/* The problems the checks found, placed at their lines: the key's own,
 * else its nearest enclosing group's. Those about a value already
 * reported are left out, and so are comparisons with a key found wrong. */
static void
place_problems(struct reader *r, const struct ku_diags *own,
    const struct ku_diags *cross)
{
	struct ku_strv wrong = { 0 };

	if (r->n_seen)
		qsort(r->seen, r->n_seen, sizeof *r->seen, seen_cmp);
	if (r->bad.n)
		qsort(r->bad.v, r->bad.n, sizeof *r->bad.v, str_cmp);
	for (size_t i = 0; i < own->n; i++)
		if (own->v[i].key)
			ku_strv_push(&wrong, own->v[i].key);
	if (wrong.n)
		qsort(wrong.v, wrong.n, sizeof *wrong.v, str_cmp);

	for (size_t i = 0; i < own->n; i++)
		if (!own->v[i].key || !already_reported(r, own->v[i].key))
			place_one(r, &own->v[i]);
	for (size_t i = 0; i < cross->n; i++) {
		const struct ku_diag *d = &cross->v[i];
		const struct key *k = depends_of(d->key);

		if (d->key && already_reported(r, d->key))
			continue;
		if (k && (already_reported(r, k->depends) ||
		    sorted_has(&wrong, k->depends)))
			continue;
		place_one(r, d);
	}
	ku_strv_free(&wrong);
}

struct order {
	int line;
	size_t index;
};

static int
order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	/* Problems without a line come last. */
	unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
	unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Moves r's problems, by line, to out. */
static void
hand_over(struct reader *r, struct ku_diags *out)
{
	struct order *o;
	size_t n = r->diags.n;

	if (n == 0)
		return;
	o = xcalloc(n, sizeof *o);
	for (size_t i = 0; i < n; i++) {
		o[i].line = r->diags.v[i].line;
		o[i].index = i;
	}
	qsort(o, n, sizeof *o, order_cmp);
	for (size_t i = 0; i < n; i++) {
		struct ku_diag *d = &r->diags.v[o[i].index];
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 8;
			out->v = xreallocarray(out->v, out->cap, sizeof *out->v);
		}
		out->v[out->n++] = *d;
		memset(d, 0, sizeof *d);
	}
	free(o);
	ku_diags_free(&r->diags);
}

static char *
absolute_dir(const char *dir)
{
	char *cwd;
	char *out;

	if (dir && dir[0] == '/')
		return xstrdup(dir);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return xstrdup("/");
	while (dir && dir[0] == '.' && dir[1] == '/')
		dir += 2;
	if (dir == NULL || dir[0] == '\0' || strcmp(dir, ".") == 0)
		out = xstrdup(cwd);
	else
		out = ku_path_join(cwd, dir);
	free(cwd);
	return out;
}

static void
reader_free(struct reader *r)
{
	for (size_t i = 0; i < r->n_seen; i++)
		free(r->seen[i].key);
	free(r->seen);
	ku_strv_free(&r->bad);
	free(r->wrapped);
	free(r->base_dir);
	ku_diags_free(&r->diags);
	ku_spec_free(r->spec);
}

static void
apply_overrides(struct ku_spec *spec, const struct ku_answers_overrides *ov)
{
	if (ov == NULL)
		return;
	if (ov->node_count >= 0)
		spec->node_count = ov->node_count;
	if (ov->allow_unsupported_version)
		spec->allow_unsupported_version = true;
	if (ov->on_failure >= 0)
		spec->on_failure = (enum ku_on_failure)ov->on_failure;
}

static ku_rc
read_mem(const char *name, const char *data, size_t len,
    const char *base_dir, const struct ku_answers_overrides *ov,
    struct ku_spec **out, struct ku_diags *diags)
{
	struct reader r = { .file = name };
	struct prescan ps = { 0 };
	struct ku_diags found = { 0 }, found_cross = { 0 };
	config_t cfg;
	bool cfg_live = false;
	char *text = NULL;
	ku_rc rc = KU_ERR_ANSWERS;

	*out = NULL;
	r.base_dir = absolute_dir(base_dir);
	r.spec = ku_spec_new();

	if (len > KU_ANSWERS_MAX_BYTES) {
		read_problem(&r, 0, NULL, _("is larger than %d bytes, the most "
		    "an answers file may hold"), KU_ANSWERS_MAX_BYTES);
		goto out;
	}
	if (len > 0 && data == NULL) {
		read_problem(&r, 0, NULL, "%s", _("cannot be read: no data"));
		goto out;
	}
	if (!prescan(&r, data ? data : "", len, &ps))
		goto out;

	text = xmalloc(len + 1);
	if (len)
		memcpy(text, data, len);
	text[len] = '\0';
	/* The same syntax error at the same place, minus libconfig's leak:
	 * a backquote is no token at all. */
	if (ps.misplaced_string)
		text[ps.misplaced_at] = '`';

	config_init(&cfg);
	cfg_live = true;
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		const char *why = config_error_text(&cfg);
		read_problem(&r, config_error_line(&cfg), NULL, "%s",
		    why ? why : _("syntax error"));
		goto out;
	}
	find_wrapped(&r, &cfg, &ps);
	read_group(&r, config_root_setting(&cfg), "");

	/* node_count left out: as many as listed. */
	if (!ku_strv_contains(&r.bad, "machines.nodes") &&
	    !ku_strv_contains(&r.bad, "machines")) {
		bool given = false;
		for (size_t i = 0; i < r.n_seen && !given; i++)
			given = strcmp(r.seen[i].key, "cluster.node_count") == 0;
		if (!given)
			r.spec->node_count = (int)r.spec->n_nodes;
	}
	apply_overrides(r.spec, ov);

	spec_check(r.spec, &found, &found_cross);
	place_problems(&r, &found, &found_cross);
	if (r.diags.n == 0) {
		*out = r.spec;
		r.spec = NULL;
		rc = KU_OK;
	}
out:
	if (cfg_live)
		config_destroy(&cfg);
	free(text);
	free(ps.wrapped);
	ku_diags_free(&found);
	ku_diags_free(&found_cross);
	hand_over(&r, diags);
	reader_free(&r);
	return rc;
}

ku_rc
ku_answers_read_mem(const char *name, const char *data, size_t len,
    const char *base_dir, struct ku_spec **out, struct ku_diags *diags)
{
	return read_mem(name, data, len, base_dir, NULL, out, diags);
}

ku_rc
ku_answers_read(const char *path, struct ku_spec **out,
    struct ku_diags *diags)
{
	return ku_answers_read_with(path, NULL, out, diags);
}

ku_rc
ku_answers_read_with(const char *path, const struct ku_answers_overrides *ov,
    struct ku_spec **out, struct ku_diags *diags)
{
	struct ku_buf b;
	char *dir, *abs_dir;
	ku_rc rc;

	*out = NULL;
	ku_buf_init(&b, 0);
	rc = ku_read_file(path, KU_ANSWERS_MAX_BYTES, &b);
	if (rc != KU_OK) {
		if (rc == KU_ERR_INVALID) {
			ku_diags_add(diags, path, 0, NULL, _("is larger than %d "
			    "bytes, the most an answers file may hold"),
			    KU_ANSWERS_MAX_BYTES);
			rc = KU_ERR_ANSWERS;
		} else {
			ku_diags_add(diags, path, 0, NULL, _("cannot be read: %s"),
			    strerror(errno));
			rc = KU_ERR_IO;
		}
		ku_buf_free(&b);
		return rc;
	}
	dir = ku_dirname(path);
	abs_dir = absolute_dir(dir);
	rc = read_mem(path, b.data ? b.data : "", b.len, abs_dir, ov, out,
	    diags);
	if (rc == KU_OK) {
		const char *base = strrchr(path, '/');
		(*out)->source = ku_path_join(abs_dir, base ? base + 1 : path);
	}
	free(dir);
	free(abs_dir);
	ku_buf_free(&b);
	return rc;
}

/* --- writing --- */

static void
put_string(struct ku_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	ku_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : "");
	    *p; p++) {
		switch (*p) {
		case '"':
			ku_buf_adds(b, "\\\"");
			break;
		case '\\':
			ku_buf_adds(b, "\\\\");
			break;
		case '\n':
			ku_buf_adds(b, "\\n");
			break;
		case '\r':
			ku_buf_adds(b, "\\r");
			break;
		case '\t':
			ku_buf_adds(b, "\\t");
			break;
		case '\f':
			ku_buf_adds(b, "\\f");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				ku_buf_adds(b, "\\x");
				ku_buf_addc(b, hex[*p >> 4]);
				ku_buf_addc(b, hex[*p & 15]);
			} else {
				ku_buf_addc(b, (char)*p);
			}
		}
	}
	ku_buf_addc(b, '"');
}

static void
put_value(struct ku_buf *b, const struct key *k, const void *base)
{
	const void *p = field(k, base);

	switch (k->type) {
	case KT_STRING:
	case KT_PATH:
		put_string(b, *(char *const *)p);
		break;
	case KT_INT:
		ku_buf_printf(b, "%d", *(const int *)p);
		break;
	case KT_BOOL:
		ku_buf_adds(b, *(const bool *)p ? "true" : "false");
		break;
	case KT_ENUM:
		put_string(b, name_of(k->names, *(const int *)p));
		break;
	case KT_STRV: {
		const struct ku_strv *sv = p;
		ku_buf_adds(b, "[");
		for (size_t i = 0; i < sv->n; i++) {
			ku_buf_adds(b, i ? ", " : " ");
			put_string(b, sv->v[i]);
		}
		ku_buf_adds(b, " ]");
		break;
	}
	default:
		break;
	}
}

static void
put_indent(struct ku_buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		ku_buf_adds(b, "  ");
}

static void
put_help(struct ku_buf *b, const struct key *k, int depth)
{
	const char *h;

	if (k->help) {
		h = _(k->help);
		while (*h) {
			size_t n = strcspn(h, "\n");
			put_indent(b, depth);
			ku_buf_adds(b, "# ");
			ku_buf_add(b, h, n);
			ku_buf_addc(b, '\n');
			h += n + (h[n] == '\n');
		}
	}
	if (k->type == KT_ENUM) {
		char *all = ku_strjoin(k->names, names_count(k->names), ", ");
		put_indent(b, depth);
		ku_buf_printf(b, _("# One of: %s.\n"), all);
		free(all);
	}
}

/* A machine on one line; user, port, key and sudo only where they differ
 * from provider.ssh's. */
static void
put_machine(struct ku_buf *b, const struct ku_machine *m,
    const struct ku_spec *spec)
{
	ku_buf_adds(b, "{");
	for (size_t i = 0; i < KU_ARRAY_LEN(machine_keys); i++) {
		const struct key *k = &machine_keys[i];
		if (k->inherit && same_as_inherited(k, m, spec))
			continue;
		ku_buf_printf(b, " %s = ", k->path);
		put_value(b, k, m);
		ku_buf_adds(b, ";");
	}
	ku_buf_adds(b, " }");
}

void
ku_answers_format(const struct ku_spec *spec, struct ku_buf *out)
{
	const char *open[8];
	int depth = 0;

	ku_buf_printf(out, _("# answers.conf for kubeup %s; see "
	    "answers.conf(5).\n"), PACKAGE_VERSION);
	ku_buf_adds(out, _("# Every key is written. Paths are absolute; an "
	    "optional file or name\n# set to \"\" is not used (for a key: "
	    "ssh-agent only).\n"));

	for (size_t i = 0; i < KU_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		/* Close the groups k is not in. */
		while (depth > 0 && !key_in_group(k, open[depth - 1])) {
			depth--;
			put_indent(out, depth);
			ku_buf_adds(out, "};\n");
		}
		if (k->base == KB_JUMP && spec->ssh.jump == NULL)
			continue;
		if (depth == 0)
			ku_buf_addc(out, '\n');
		switch (k->type) {
		case KT_GROUP:
			if (k->optional && spec->ssh.jump == NULL) {
				put_help(out, k, depth);
				put_indent(out, depth);
				ku_buf_printf(out, "# %s = { address = \"192.0.2.1\"; "
				    "port = 22; };\n", key_name(k));
				continue;
			}
			put_help(out, k, depth);
			put_indent(out, depth);
			ku_buf_printf(out, "%s = {\n", key_name(k));
			if ((size_t)depth < KU_ARRAY_LEN(open))
				open[depth++] = k->path;
			break;
		case KT_MASTER:
			put_help(out, k, depth);
			put_indent(out, depth);
			ku_buf_printf(out, "%s = ", key_name(k));
			put_machine(out, &spec->master, spec);
			ku_buf_adds(out, ";\n");
			break;
		case KT_NODES:
			put_help(out, k, depth);
			put_indent(out, depth);
			ku_buf_printf(out, "%s = (", key_name(k));
			for (size_t j = 0; j < spec->n_nodes; j++) {
				ku_buf_adds(out, j ? ",\n" : "\n");
				put_indent(out, depth + 1);
				put_machine(out, &spec->nodes[j], spec);
			}
			ku_buf_adds(out, spec->n_nodes ? "\n" : " ");
			if (spec->n_nodes)
				put_indent(out, depth);
			ku_buf_adds(out, ");\n");
			break;
		default:
			put_help(out, k, depth);
			put_indent(out, depth);
			ku_buf_printf(out, "%s = ", key_name(k));
			put_value(out, k, key_base(k, spec));
			ku_buf_adds(out, ";\n");
			break;
		}
	}
	while (depth > 0) {
		depth--;
		put_indent(out, depth);
		ku_buf_adds(out, "};\n");
	}
}

ku_rc
ku_answers_write(const struct ku_spec *spec, const char *path)
{
	struct ku_buf b;
	ku_rc rc;

	ku_buf_init(&b, 0);
	ku_answers_format(spec, &b);
	rc = ku_write_file_atomic(path, b.data ? b.data : "", b.len, 0600);
	ku_buf_free(&b);
	return rc;
}
