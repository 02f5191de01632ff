/* The SSH transport on libssh2. See ssh.h for the contract.
 *
 * Design notes
 *
 * Non-blocking everywhere. Every libssh2 session is in non-blocking mode;
 * each call that answers LIBSSH2_ERROR_EAGAIN is repeated after
 * ku_sess_wait() has polled the socket in the directions libssh2 asks for,
 * with the operation's deadline. Keepalives go out from the same wait.
 *
 * One rule of libssh2 shapes the loops: when a send could not finish
 * (EAGAIN with LIBSSH2_SESSION_BLOCK_OUTBOUND), the next send on that
 * session must be the same packet, or libssh2 answers
 * LIBSSH2_ERROR_BAD_USE (transport.c, send_existing). So every loop that
 * mixes operations (stdin, stdout and stderr of a command; both directions
 * of the jump host's tunnel) remembers which operation is pending and
 * repeats only that one until it is through; and a keepalive is sent only
 * when nothing is pending and the socket is writable.
 *
 * Scripts travel on standard input, to "/bin/sh -s". The command line is
 * fixed text (no value of the operator's in it), so the login shell of the
 * account (bash, zsh, even fish) parses nothing of ours; the script never
 * shows in ps, in sshd's or sudo's logs, and its size is not limited by
 * ARG_MAX. The script is wrapped in a brace group: sh reads the whole group
 * before it runs any of it, so a connection lost half way never runs half a
 * script, and the group's standard input is /dev/null, so a command in the
 * script that reads standard input cannot swallow the rest of the script.
 *
 * sudo with a password. "sudo -S -p '' sh -s" with the password as the
 * first line of input is fragile: when sudo does not ask (NOPASSWD, or
 * cached credentials), the password line is run by sh as a command and
 * comes back in "sh: 1: hunter2: not found". So sudo gets a prompt of our
 * own (-p) and runs "echo READY >&2; exec /bin/sh -s": the password is sent
 * only after sudo prints the prompt on standard error, the script only
 * after READY. A second prompt means the password was refused; the channel
 * is closed at once.
 *
 * Dead sessions. One session serves a machine for the whole run, so it
 * may sit idle for long; a NAT or a firewall may forget it meanwhile.
 * Opening a command's channel is bounded by the connect timeout (not the
 * command timeout): a session that does not answer is replaced once,
 * before anything ran, so a forgotten session costs seconds, not the
 * command timeout.
 *
 * Jump host. libssh2 runs a session over a socket, so the target's
 * session runs over one end of a socketpair; a pump thread owns the jump
 * host's session and copies between the other end and a direct-tcpip
 * channel opened through the jump host (poll on the jump host's socket,
 * the socketpair and a wake-up pipe). Each connection has its own jump
 * session and pump: nothing is shared between machines, and the libssh2
 * session of the jump host is only ever touched by one thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "i18n.h"
#include "shell.h"
#include "ssh.h"

#define KU_SSH_CONNECT_TIMEOUT 10
#define KU_SSH_COMMAND_TIMEOUT 600
#define KU_SSH_CHUNK 32768
#define KU_SSH_SFTP_WINDOW (2 * 1024 * 1024)
#define KU_SSH_GRACE_MS 1500
#define KU_SSH_KEY_MAX (256 * 1024)

#define KU_SUDO_PROMPT "[kubeup-sudo-password]"
#define KU_SUDO_READY "kubeup-sudo-ready"

/* Refuse RSA keys while libssh2 cannot sign with rsa-sha2-256/512. */
#if LIBSSH2_VERSION_NUM < 0x010b00
#define KU_SSH_RSA_UNUSABLE 1
#else
#define KU_SSH_RSA_UNUSABLE 0
#endif

/* The operation that must be repeated before any other send. */
enum ku_op { KU_OP_NONE, KU_OP_WRITE, KU_OP_EOF, KU_OP_READ };

/* An endpoint, owned. */
struct ku_ep {
	char *name;
	char *address;
	char *user;
	char *key_file;
	int port;
	char *label;     /* "node-1 (10.0.0.11:22)" */
	char *hostport;  /* "10.0.0.11:22", "[fd00::1]:22" */
	char *khname;    /* in known_hosts: "10.0.0.11", "[10.0.0.11]:2222" */
};

/* One libssh2 session and its socket. */
struct ku_sess {
	LIBSSH2_SESSION *s;
	int fd;
	int keepalive;
	bool broken;   /* the transport failed: reconnect before reuse */
};

/* The jump host's session and the thread that carries the tunnel. */
struct ku_pump {
	struct ku_sess sess;
	LIBSSH2_CHANNEL *ch;
	int sp;            /* the pump's end of the socketpair; or, with
	                    * accept_port, the caller's listening socket,
	                    * then the connection accepted on it */
	int accept_port;   /* > 0: the pump first accepts on sp the one
	                    * connection from 127.0.0.1 this port */
	uint64_t accept_deadline;
	int wake[2];       /* a byte on wake[1] stops the pump */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	bool done;         /* under mu: the tunnel is over */
	char *failure;     /* under mu: why it ended, or NULL */
	struct ku_log *log;
	const char *logname;
};

struct ku_ssh_conn {
	pthread_mutex_t mu;   /* held for each whole operation */

	struct ku_ep target;
	struct ku_ep jump;
	bool has_jump;
	char *known_hosts;
	enum ku_hostkey_policy policy;
	char *accept_fp;      /* accept-new: only this fingerprint, or NULL */
	int connect_timeout;
	int command_timeout;
	int keepalive;
	bool sudo;
	char *sudo_password;
	char *sudo_program;
	char *agent_socket;   /* NULL: $SSH_AUTH_SOCK; "": none */
	struct ku_log *log;

	struct ku_sess sess;
	struct ku_pump *pump;
	LIBSSH2_SFTP *sftp;
	char *upload_dir;     /* the private folder under /tmp (sudo) */
};

static pthread_once_t ku_ssh_once = PTHREAD_ONCE_INIT;
static int ku_ssh_init_rc;

static void
ku_ssh_init_once(void)
{
	ku_ssh_init_rc = libssh2_init(0);
}

/* --- small helpers --- */

static uint64_t
ku_deadline_s(int seconds)
{
	return ku_now_ms() + (uint64_t)seconds * 1000;
}

/* Sets *why once (the first reason is the root cause) and returns rc. */
static ku_rc ku_why(char **why, ku_rc rc, const char *fmt, ...) KU_PRINTF(3, 4);
static ku_rc
ku_why(char **why, ku_rc rc, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && *why == NULL) {
		va_start(ap, fmt);
		*why = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void ku_ssh_log(const struct ku_ssh_conn *c, enum ku_log_level level,
    const char *fmt, ...) KU_PRINTF(3, 4);
static void
ku_ssh_log(const struct ku_ssh_conn *c, enum ku_log_level level,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_log(c->log, level, NULL, NULL, c->target.name, "ssh: %s", msg);
	free(msg);
}

static const char *
ku_lib_msg(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	return msg != NULL && msg[0] != '\0' ? msg : "unknown error";
}

/* libssh2's codes, translated once. */
static ku_rc
ku_map_lib(int lrc)
{
	switch (lrc) {
	case LIBSSH2_ERROR_ALLOC:
		return KU_ERR_NOMEM;
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		return KU_ERR_TIMEOUT;
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
	case LIBSSH2_ERROR_PASSWORD_EXPIRED:
	case LIBSSH2_ERROR_FILE:
	case LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
	case LIBSSH2_ERROR_AGENT_PROTOCOL:
	case LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
		return KU_ERR_AUTH;
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_SFTP_PROTOCOL:
	case LIBSSH2_ERROR_REQUEST_DENIED:
		return KU_ERR_REMOTE;
	default:
		/* socket, banner, key exchange, MAC, decryption, protocol,
		 * bad use: the session cannot go on. */
		return KU_ERR_CONNECT;
	}
}

/* After a failed libssh2 call: is the session beyond use? */
static void
ku_sess_note(struct ku_sess *ss, int lrc)
{
	if (ku_map_lib(lrc) == KU_ERR_CONNECT || lrc == LIBSSH2_ERROR_TIMEOUT)
		ss->broken = true;
}

static bool
ku_outbound_blocked(LIBSSH2_SESSION *s)
{
	return (libssh2_session_block_directions(s) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
}

static void
ku_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* n random bytes as hex (out: 2n + 1). */
static void
ku_random_hex(size_t n, char *out)
{
	unsigned char b[32];

	if (n > sizeof b)
		n = sizeof b;
	if (RAND_bytes(b, (int)n) != 1) {
		/* Not a secret, only a name that should not collide. */
		uint64_t t = ku_now_ms() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < n; i++)
			b[i] = (unsigned char)(t >> (8 * (i % 8))) ^
			    (unsigned char)i;
	}
	ku_hex(b, n, out);
}

/* s for a message: control characters (a newline in a refused path)
 * shown as '?'. */
static char *
ku_printable(const char *s)
{
	char *p = xstrdup(s);

	for (char *q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return p;
}

/* The first line of s, trimmed, at most 8 KiB; "" for none. */
static char *
ku_first_line(const char *s)
{
	size_t n;

	if (s == NULL)
		return xstrdup("");
	while (*s == '\n' || *s == '\r' || *s == ' ')
		s++;
	n = strcspn(s, "\r\n");
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > 8192)
		n = 8192;
	return xstrndup(s, n);
}

/* --- endpoints --- */

static void
ku_ep_init(struct ku_ep *ep, const struct ku_ssh_endpoint *src)
{
	bool v6 = strchr(src->address, ':') != NULL;

	ep->address = xstrdup(src->address);
	ep->name = xstrdup(src->name && src->name[0] ? src->name :
	    src->address);
	ep->user = xstrdup(src->user && src->user[0] ? src->user : "root");
	ep->key_file = src->key_file && src->key_file[0] ?
	    xstrdup(src->key_file) : NULL;
	ep->port = src->port > 0 ? src->port : 22;
	ep->hostport = v6 ? xasprintf("[%s]:%d", ep->address, ep->port) :
	    xasprintf("%s:%d", ep->address, ep->port);
	ep->label = xasprintf("%s (%s)", ep->name, ep->hostport);
	ep->khname = ep->port == 22 ? xstrdup(ep->address) :
	    xasprintf("[%s]:%d", ep->address, ep->port);
}

static void
ku_ep_free(struct ku_ep *ep)
{
	free(ep->name);
	free(ep->address);
	free(ep->user);
	free(ep->key_file);
	free(ep->label);
	free(ep->hostport);
	free(ep->khname);
	memset(ep, 0, sizeof *ep);
}

/* --- TCP --- */

static ku_rc
ku_tcp_connect(const struct ku_ep *ep, uint64_t deadline, int timeout_s,
    int *out, char **why)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int gai, fd = -1, last = ECONNREFUSED, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", ep->port);
	/* A literal address resolves at once; a name goes through the
	 * system's resolver, whose own timeouts apply. */
	gai = getaddrinfo(ep->address, port, &hints, &res);
	if (gai != 0)
		return ku_why(why, KU_ERR_CONNECT,
		    _("%s: cannot resolve %s: %s"), ep->label, ep->address,
		    gai_strerror(gai));

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int soerr = 0, r;
			socklen_t sl = sizeof soerr;

			for (;;) {
				uint64_t now = ku_now_ms();
				if (now >= deadline) {
					close(fd);
					freeaddrinfo(res);
					return ku_why(why, KU_ERR_TIMEOUT,
					    _("%s: connect: no answer within "
					    "%d s"), ep->label, timeout_s);
				}
				r = poll(&p, 1, (int)(deadline - now));
				if (r > 0 || (r < 0 && errno != EINTR))
					break;
			}
			if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == 0 && soerr == 0)
				break;
			last = r < 0 ? errno : soerr;
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ku_why(why, KU_ERR_CONNECT, _("%s: connect: %s"),
		    ep->label, strerror(last));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*out = fd;
	return KU_OK;
}

/* --- waiting --- */

/* Sends a keepalive when one is due and nothing is half sent. Returns the
 * seconds until the next one. */
static int
ku_sess_keepalive(struct ku_sess *ss)
{
	struct pollfd p = { .fd = ss->fd, .events = POLLOUT };
	int next = 0;

	if (ss->keepalive <= 0 || ss->broken)
		return 0;
	if (ku_outbound_blocked(ss->s))
		return 1;
	/* libssh2 keeps a pointer to a stack buffer of its own while a
	 * keepalive is half sent: only send one when the socket has room. */
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
		return 1;
	if (libssh2_keepalive_send(ss->s, &next) != 0)
		return 1;
	return next > 0 ? next : 1;
}

/* Waits until the session's socket is ready in the directions libssh2
 * needs, or the deadline passes (KU_ERR_TIMEOUT). */
static ku_rc
ku_sess_wait(struct ku_sess *ss, uint64_t deadline)
{
	for (;;) {
		int dirs = libssh2_session_block_directions(ss->s);
		struct pollfd p = { .fd = ss->fd, .events = 0 };
		uint64_t now = ku_now_ms();
		int ms, r, next;

		if (now >= deadline)
			return KU_ERR_TIMEOUT;
		ms = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		next = ku_sess_keepalive(ss);
		if (next > 0 && next < ms / 1000)
			ms = next * 1000;
		if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
			p.events |= POLLIN;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			p.events |= POLLOUT;
		if (p.events == 0) {
			/* Waiting on the peer's window, or on nothing libssh2
			 * said: look again soon. */
			p.events = POLLIN;
			if (ms > 50)
				ms = 50;
		}
		r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0 || dirs == 0)
			return KU_OK;   /* errors surface in the next call */
	}
}

/* --- fingerprints, known_hosts --- */

static const struct ku_hostkey_type {
	int hk_type;
	int kh_bit;
	const char *name;
	const char *file;   /* the server's key: /etc/ssh/ssh_host_*_key.pub */
} ku_hostkey_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519,
	  "ssh-ed25519", "ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	  "ecdsa-sha2-nistp256", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
	  "ecdsa-sha2-nistp384", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	  "ecdsa-sha2-nistp521", "ecdsa" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa",
	  "rsa" },
};

static char *
ku_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *
ku_ssh_fingerprint(const void *blob, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *b64, *fp;
	size_t n;

	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return xstrdup("SHA256:?");
	b64 = ku_base64(md, mdlen);
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	fp = xasprintf("SHA256:%s", b64);
	free(b64);
	return fp;
}

/* Reads known_hosts line by line: libssh2_knownhost_readfile() stops at
 * the first line it cannot parse (a certificate authority, a security
 * key), which would hide every entry after it. A missing file is empty. */
static ku_rc
ku_kh_load(LIBSSH2_SESSION *s, const char *path, LIBSSH2_KNOWNHOSTS **out,
    char **why)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (kh == NULL)
		return ku_why(why, KU_ERR_NOMEM, "%s",
		    ku_strerror(KU_ERR_NOMEM));
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT) {
			*out = kh;
			return KU_OK;
		}
		libssh2_knownhost_free(kh);
		return ku_why(why, KU_ERR_IO, _("cannot read %s: %s"), path,
		    strerror(errno));
	}
	while ((n = getline(&line, &cap, f)) > 0)
		(void)libssh2_knownhost_readline(kh, line, (size_t)n,
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	free(line);
	fclose(f);
	*out = kh;
	return KU_OK;
}

/* Like OpenSSH, ask first for the key types known_hosts holds for this
 * host, so that a server with several host keys shows the one on file. */
static void
ku_kh_prefer(LIBSSH2_SESSION *s, LIBSSH2_KNOWNHOSTS *kh, const char *khname)
{
	struct ku_buf known, rest;
	static const char dummy[] = "kubeup-probe";

	ku_buf_init(&known, 0);
	ku_buf_init(&rest, 0);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_hostkey_types); i++) {
		const struct ku_hostkey_type *t = &ku_hostkey_types[i];
		/* A key that matches nothing: MISMATCH says an entry of this
		 * type exists for the host. */
		int r = libssh2_knownhost_checkp(kh, khname, -1, dummy,
		    sizeof dummy - 1, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		    LIBSSH2_KNOWNHOST_KEYENC_RAW | t->kh_bit, NULL);
		struct ku_buf *b = r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ?
		    &known : &rest;
		if (b->len)
			ku_buf_addc(b, ',');
		ku_buf_adds(b, t->name);
	}
	if (known.len && rest.len)
		ku_buf_addc(&known, ',');
	ku_buf_add(&known, rest.data, rest.len);
	(void)libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY,
	    known.data);
	ku_buf_free(&known);
	ku_buf_free(&rest);
}

/* Appends line to known_hosts (made 0600, its folder 0700), unless another
 * connection has just added the same line. */
static ku_rc
ku_kh_append(const char *path, const char *line, char **why)
{
	char *dir = ku_dirname(path);
	struct ku_buf cur;
	ku_rc rc = KU_OK;
	int fd;

	if (!ku_path_exists(dir) && ku_mkdir_p(dir, 0700) != KU_OK) {
		rc = ku_why(why, KU_ERR_IO, _("cannot create %s: %s"), dir,
		    strerror(errno));
		free(dir);
		return rc;
	}
	free(dir);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ku_why(why, KU_ERR_IO, _("cannot write %s: %s"), path,
		    strerror(errno));
	(void)flock(fd, LOCK_EX);
	ku_buf_init(&cur, 0);
	if (ku_read_file(path, 0, &cur) == KU_OK) {
		bool present = false;
		size_t ll = strlen(line);
		for (const char *p = cur.data; p && *p; ) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			if (n + 1 == ll && memcmp(p, line, n) == 0)
				present = true;
			p = nl ? nl + 1 : NULL;
		}
		if (!present) {
			struct ku_buf w;
			ku_buf_init(&w, 0);
			if (cur.len && cur.data[cur.len - 1] != '\n')
				ku_buf_addc(&w, '\n');
			ku_buf_adds(&w, line);
			if (write(fd, w.data, w.len) != (ssize_t)w.len ||
			    fsync(fd) != 0)
				rc = ku_why(why, KU_ERR_IO,
				    _("cannot write %s: %s"), path,
				    strerror(errno));
			ku_buf_free(&w);
		}
	} else {
		rc = ku_why(why, KU_ERR_IO, _("cannot read %s: %s"), path,
		    strerror(errno));
	}
	ku_buf_free(&cur);
	close(fd);
	return rc;
}

static ku_rc
ku_verify_hostkey(struct ku_ssh_conn *c, struct ku_sess *ss,
    const struct ku_ep *ep, LIBSSH2_KNOWNHOSTS *kh, char **why)
{
	const struct ku_hostkey_type *t = NULL;
	const char *key;
	size_t len = 0;
	int type = 0, r;
	char *fp, *b64, *line, *qname, *qfile;
	ku_rc rc = KU_OK;

	key = libssh2_session_hostkey(ss->s, &len, &type);
	if (key == NULL)
		return ku_why(why, KU_ERR_CONNECT,
		    _("%s: the server sent no host key"), ep->label);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_hostkey_types); i++)
		if (ku_hostkey_types[i].hk_type == type)
			t = &ku_hostkey_types[i];
	fp = ku_ssh_fingerprint(key, len);
	if (t == NULL) {
		rc = ku_why(why, KU_ERR_HOSTKEY,
		    _("%s: the host key %s is of a type kubeup cannot check"),
		    ep->label, fp);
		free(fp);
		return rc;
	}
	r = libssh2_knownhost_checkp(kh, ep->khname, -1, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	    t->kh_bit, NULL);
	switch (r) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ku_ssh_log(c, KU_LOG_DEBUG, "%s: host key %s %s matches %s",
		    ep->hostport, t->name, fp, c->known_hosts);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		/* A command to paste: quoted like any other. */
		qname = ku_sh_quote(ep->khname);
		qfile = ku_sh_quote(c->known_hosts);
		rc = ku_why(why, KU_ERR_HOSTKEY,
		    _("the host key of %s has CHANGED: it now presents %s %s, "
		    "which differs from the one in %s. This can be an attack. "
		    "If the machine was reinstalled, remove its line from %s "
		    "(ssh-keygen -R %s -f %s) and connect again"),
		    ep->label, t->name, fp, c->known_hosts, c->known_hosts,
		    qname, qfile);
		free(qname);
		free(qfile);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (c->policy == KU_HOSTKEY_STRICT) {
			rc = ku_why(why, KU_ERR_HOSTKEY_UNKNOWN,
			    _("the host key of %s is unknown: %s %s is not in "
			    "%s. Compare it with the machine's own "
			    "(ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub on "
			    "it), then add it to %s, or set "
			    "provider.ssh.host_key_policy = \"accept-new\""),
			    ep->label, t->name, fp, c->known_hosts, t->file,
			    c->known_hosts);
			break;
		}
		if (c->accept_fp != NULL && strcmp(c->accept_fp, fp) != 0) {
			rc = ku_why(why, KU_ERR_HOSTKEY,
			    _("the host key of %s is not the one accepted: it "
			    "now presents %s %s, not %s. This can be an "
			    "attack; nothing was added to %s"), ep->label,
			    t->name, fp, c->accept_fp, c->known_hosts);
			break;
		}
		b64 = ku_base64(key, len);
		line = xasprintf("%s %s %s\n", ep->khname, t->name, b64);
		free(b64);
		rc = ku_kh_append(c->known_hosts, line, why);
		free(line);
		if (rc == KU_OK)
			ku_ssh_log(c, KU_LOG_INFO,
			    "%s: new host key %s %s added to %s",
			    ep->hostport, t->name, fp, c->known_hosts);
		break;
	default:
		rc = ku_why(why, KU_ERR_HOSTKEY,
		    _("%s: cannot check the host key against %s: %s"),
		    ep->label, c->known_hosts, ku_lib_msg(ss->s));
		break;
	}
	free(fp);
	return rc;
}

/* --- private keys --- */

enum ku_keykind {
	KU_KEYKIND_USABLE,
	KU_KEYKIND_RSA,
	KU_KEYKIND_DSA,
	KU_KEYKIND_ENCRYPTED,
	KU_KEYKIND_UNREADABLE,
};

static bool
ku_get_string(const unsigned char **p, const unsigned char *end,
    const unsigned char **s, uint32_t *len)
{
	uint32_t n;

	if (end - *p < 4)
		return false;
	n = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 |
	    (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < n)
		return false;
	*s = *p;
	*len = n;
	*p += n;
	return true;
}

static bool
ku_str_is(const unsigned char *s, uint32_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* "-----BEGIN OPENSSH PRIVATE KEY-----": the cipher and the public key's
 * type are in clear even when the key is encrypted. */
static enum ku_keykind
ku_key_openssh(const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	const char *b = strstr(text, begin), *e;
	struct ku_buf b64;
	unsigned char *raw;
	const unsigned char *p, *end, *cipher, *kdf, *kdfopt, *pub, *type;
	uint32_t cipher_len, kdf_len, kdfopt_len, pub_len, type_len;
	int n;
	size_t pad = 0;
	enum ku_keykind kind = KU_KEYKIND_USABLE;

	b += sizeof begin - 1;
	e = strstr(b, "-----END");
	if (e == NULL)
		return KU_KEYKIND_USABLE;   /* let libssh2 say what is wrong */
	ku_buf_init(&b64, 0);
	for (const char *q = b; q < e; q++)
		if (strchr(" \t\r\n", *q) == NULL)
			ku_buf_addc(&b64, *q);
	if (b64.len == 0 || b64.len % 4 != 0) {
		ku_buf_free(&b64);
		return KU_KEYKIND_USABLE;
	}
	for (size_t i = b64.len; i > 0 && b64.data[i - 1] == '='; i--)
		pad++;
	raw = xmalloc(b64.len / 4 * 3 + 1);
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64.data, (int)b64.len);
	ku_buf_free(&b64);
	if (n < 0 || (size_t)n < pad) {
		free(raw);
		return KU_KEYKIND_USABLE;
	}
	p = raw;
	end = raw + n - pad;
	if ((size_t)(end - p) < sizeof magic ||
	    memcmp(p, magic, sizeof magic) != 0) {   /* with its NUL */
		free(raw);
		return KU_KEYKIND_USABLE;
	}
	p += sizeof magic;
	if (!ku_get_string(&p, end, &cipher, &cipher_len) ||
	    !ku_get_string(&p, end, &kdf, &kdf_len) ||
	    !ku_get_string(&p, end, &kdfopt, &kdfopt_len) ||
	    end - p < 4) {
		free(raw);
		return KU_KEYKIND_USABLE;
	}
	p += 4;   /* number of keys */
	if (ku_get_string(&p, end, &pub, &pub_len)) {
		const unsigned char *pp = pub;
		if (ku_get_string(&pp, pub + pub_len, &type, &type_len)) {
			if (ku_str_is(type, type_len, "ssh-rsa"))
				kind = KU_KEYKIND_RSA;
			else if (ku_str_is(type, type_len, "ssh-dss"))
				kind = KU_KEYKIND_DSA;
		}
	}
	if (kind == KU_KEYKIND_USABLE && !ku_str_is(cipher, cipher_len, "none"))
		kind = KU_KEYKIND_ENCRYPTED;
	free(raw);
	return kind;
}

static int
ku_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static enum ku_keykind
ku_key_inspect(const char *path, int *errnum)
{
	struct ku_buf text;
	enum ku_keykind kind = KU_KEYKIND_USABLE;

	ku_buf_init(&text, 0);
	if (ku_read_file(path, KU_SSH_KEY_MAX, &text) != KU_OK) {
		*errnum = errno;
		ku_buf_free(&text);
		return KU_KEYKIND_UNREADABLE;
	}
	if (text.data == NULL) {
		ku_buf_free(&text);
		return KU_KEYKIND_USABLE;
	}
	if (strstr(text.data, "-----BEGIN OPENSSH PRIVATE KEY-----"))
		kind = ku_key_openssh(text.data);
	else if (strstr(text.data, "-----BEGIN RSA PRIVATE KEY-----"))
		kind = KU_KEYKIND_RSA;
	else if (strstr(text.data, "-----BEGIN DSA PRIVATE KEY-----"))
		kind = KU_KEYKIND_DSA;
	else if (strstr(text.data, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	    strstr(text.data, "Proc-Type: 4,ENCRYPTED"))
		kind = KU_KEYKIND_ENCRYPTED;
	else if (strstr(text.data, "-----BEGIN PRIVATE KEY-----")) {
		BIO *bio = BIO_new_mem_buf(text.data, (int)text.len);
		EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL,
		    ku_no_passphrase, NULL) : NULL;
		if (pk != NULL) {
			if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
				kind = KU_KEYKIND_RSA;
			else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_DSA)
				kind = KU_KEYKIND_DSA;
		}
		EVP_PKEY_free(pk);
		BIO_free(bio);
	}
	OPENSSL_cleanse(text.data, text.len);
	ku_buf_free(&text);
	if (kind == KU_KEYKIND_RSA && !KU_SSH_RSA_UNUSABLE)
		kind = KU_KEYKIND_USABLE;
	return kind;
}

/* Why a key of this kind cannot be used; NULL when it can. */
static char *
ku_key_problem(const char *path, enum ku_keykind kind, int errnum)
{
	switch (kind) {
	case KU_KEYKIND_USABLE:
		return NULL;
	case KU_KEYKIND_RSA:
		return xasprintf(_("%s is an RSA key: this build's libssh2 "
		    "(%s) signs with RSA only through SHA-1 (ssh-rsa), which "
		    "OpenSSH 8.8 and newer refuse; use an ed25519 or ECDSA "
		    "key instead (ssh-keygen -t ed25519) and add its .pub to "
		    "the machines' authorized_keys"), path, LIBSSH2_VERSION);
	case KU_KEYKIND_DSA:
		return xasprintf(_("%s is a DSA key, which OpenSSH 7.0 and "
		    "newer refuse; use an ed25519 or ECDSA key instead "
		    "(ssh-keygen -t ed25519)"), path);
	case KU_KEYKIND_ENCRYPTED:
		return xasprintf(_("%s is protected by a passphrase, which "
		    "kubeup does not ask for: load it into ssh-agent "
		    "(ssh-add %s) and run kubeup where SSH_AUTH_SOCK is set"),
		    path, path);
	case KU_KEYKIND_UNREADABLE:
		return xasprintf(_("cannot read the key %s: %s"), path,
		    strerror(errnum));
	}
	return NULL;
}

ku_rc
ku_ssh_check_key_file(const char *path, char **err)
{
	int errnum = 0;
	enum ku_keykind kind = ku_key_inspect(path, &errnum);
	char *msg = ku_key_problem(path, kind, errnum);

	if (msg == NULL)
		return KU_OK;
	if (err)
		*err = msg;
	else
		free(msg);
	return kind == KU_KEYKIND_UNREADABLE ? KU_ERR_IO : KU_ERR_AUTH;
}

/* --- authentication --- */

/* Tries every identity of ssh-agent. KU_OK, KU_ERR_AUTH with *reason set,
 * or a transport failure. */
static ku_rc
ku_auth_agent(struct ku_ssh_conn *c, struct ku_sess *ss,
    const struct ku_ep *ep, const char *sock, uint64_t deadline,
    char **reason, char **why)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(ss->s);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	ku_rc rc = KU_ERR_AUTH;
	int tried = 0, rsa = 0;

	if (agent == NULL) {
		*reason = xstrdup(ku_strerror(KU_ERR_NOMEM));
		return KU_ERR_AUTH;
	}
	libssh2_agent_set_identity_path(agent, sock);
	if (libssh2_agent_connect(agent) != 0) {
		*reason = xasprintf(_("cannot reach ssh-agent at %s"), sock);
		libssh2_agent_free(agent);
		return KU_ERR_AUTH;
	}
	if (libssh2_agent_list_identities(agent) != 0) {
		*reason = xasprintf(_("ssh-agent at %s did not list its keys"),
		    sock);
		goto out;
	}
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		int r;

		prev = id;
		tried++;
		if (id->blob_len >= 11 && memcmp(id->blob, "\0\0\0\7ssh-rsa",
		    11) == 0)
			rsa++;
		while ((r = libssh2_agent_userauth(agent, ep->user, id)) ==
		    LIBSSH2_ERROR_EAGAIN) {
			if (ku_sess_wait(ss, deadline) != KU_OK) {
				rc = KU_ERR_TIMEOUT;
				goto out;
			}
		}
		if (r == 0) {
			ku_ssh_log(c, KU_LOG_DEBUG, "%s: authenticated as %s "
			    "with ssh-agent's key %s", ep->hostport, ep->user,
			    id->comment ? id->comment : "");
			rc = KU_OK;
			goto out;
		}
		if (ku_map_lib(r) == KU_ERR_CONNECT) {
			ss->broken = true;
			rc = ku_why(why, KU_ERR_CONNECT,
			    _("%s: connection lost during authentication: %s"),
			    ep->label, ku_lib_msg(ss->s));
			goto out;
		}
	}
	if (KU_SSH_RSA_UNUSABLE && tried > 0 && rsa == tried)
		*reason = xasprintf(_("ssh-agent holds only RSA keys, which "
		    "this build's libssh2 (%s) cannot use with OpenSSH 8.8 and "
		    "newer; add an ed25519 or ECDSA key (ssh-keygen -t "
		    "ed25519)"), LIBSSH2_VERSION);
	else if (tried > 0)
		*reason = xasprintf(_("the server accepted none of the %d "
		    "keys of ssh-agent"), tried);
	else
		*reason = xasprintf(_("ssh-agent at %s holds no key"), sock);
out:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return rc;
}

static ku_rc
ku_auth(struct ku_ssh_conn *c, struct ku_sess *ss, const struct ku_ep *ep,
    uint64_t deadline, int timeout_s, char **why)
{
	const char *methods, *sock;
	char *key_reason = NULL, *agent_reason = NULL;
	ku_rc rc;

	for (;;) {
		methods = libssh2_userauth_list(ss->s, ep->user,
		    (unsigned)strlen(ep->user));
		if (methods != NULL)
			break;
		if (libssh2_userauth_authenticated(ss->s))
			return KU_OK;
		if (libssh2_session_last_errno(ss->s) != LIBSSH2_ERROR_EAGAIN) {
			ss->broken = true;
			return ku_why(why, KU_ERR_CONNECT,
			    _("%s: authentication: %s"), ep->label,
			    ku_lib_msg(ss->s));
		}
		if (ku_sess_wait(ss, deadline) != KU_OK)
			return ku_why(why, KU_ERR_TIMEOUT,
			    _("%s: connect: timed out after %d s "
			    "(authentication)"), ep->label, timeout_s);
	}
	if (strstr(methods, "publickey") == NULL)
		return ku_why(why, KU_ERR_AUTH, _("%s: authentication as %s "
		    "failed: the server does not accept public keys (it "
		    "offers: %s)"), ep->label, ep->user, methods);

	if (ep->key_file != NULL) {
		int errnum = 0;
		enum ku_keykind kind = ku_key_inspect(ep->key_file, &errnum);

		key_reason = ku_key_problem(ep->key_file, kind, errnum);
		if (kind == KU_KEYKIND_USABLE) {
			char *pub = xasprintf("%s.pub", ep->key_file);
			int r;

			if (!ku_is_regular_file(pub)) {
				free(pub);
				pub = NULL;
			}
			while ((r = libssh2_userauth_publickey_fromfile_ex(
			    ss->s, ep->user, (unsigned)strlen(ep->user), pub,
			    ep->key_file, NULL)) == LIBSSH2_ERROR_EAGAIN) {
				if (ku_sess_wait(ss, deadline) != KU_OK) {
					free(pub);
					return ku_why(why, KU_ERR_TIMEOUT,
					    _("%s: connect: timed out after %d "
					    "s (authentication)"), ep->label,
					    timeout_s);
				}
			}
			free(pub);
			if (r == 0) {
				ku_ssh_log(c, KU_LOG_DEBUG, "%s: authenticated "
				    "as %s with %s", ep->hostport, ep->user,
				    ep->key_file);
				return KU_OK;
			}
			if (ku_map_lib(r) == KU_ERR_CONNECT) {
				ss->broken = true;
				return ku_why(why, KU_ERR_CONNECT, _("%s: "
				    "connection lost during authentication: "
				    "%s"), ep->label, ku_lib_msg(ss->s));
			}
			key_reason = r == LIBSSH2_ERROR_FILE ?
			    xasprintf(_("cannot use the key %s: %s"),
			    ep->key_file, ku_lib_msg(ss->s)) :
			    xasprintf(_("the server did not accept the key "
			    "%s"), ep->key_file);
		}
	}

	sock = c->agent_socket ? c->agent_socket : getenv("SSH_AUTH_SOCK");
	if (sock != NULL && sock[0] != '\0') {
		rc = ku_auth_agent(c, ss, ep, sock, deadline, &agent_reason,
		    why);
		if (rc == KU_OK || rc == KU_ERR_CONNECT) {
			free(key_reason);
			free(agent_reason);
			return rc;
		}
		if (rc == KU_ERR_TIMEOUT) {
			free(key_reason);
			free(agent_reason);
			return ku_why(why, KU_ERR_TIMEOUT,
			    _("%s: connect: timed out after %d s "
			    "(authentication)"), ep->label, timeout_s);
		}
	} else if (ep->key_file == NULL) {
		agent_reason = xstrdup(_("no key file is set and ssh-agent "
		    "is not running (SSH_AUTH_SOCK is not set)"));
	}

	rc = ku_why(why, KU_ERR_AUTH, _("%s: authentication as %s failed: "
	    "%s%s%s"), ep->label, ep->user, key_reason ? key_reason : "",
	    key_reason && agent_reason ? "; " : "",
	    agent_reason ? agent_reason : "");
	free(key_reason);
	free(agent_reason);
	return rc;
}

/* --- sessions --- */

static void
ku_sess_close(struct ku_sess *ss, bool polite)
{
	if (ss->s != NULL) {
		if (polite && !ss->broken) {
			uint64_t grace = ku_now_ms() + KU_SSH_GRACE_MS;
			while (libssh2_session_disconnect(ss->s, "bye") ==
			    LIBSSH2_ERROR_EAGAIN)
				if (ku_sess_wait(ss, grace) != KU_OK)
					break;
		}
		/* From here on every read and write fails at once, so that
		 * freeing cannot wait on a silent peer. */
		if (ss->fd >= 0)
			(void)shutdown(ss->fd, SHUT_RDWR);
		for (int i = 0; i < 100; i++)
			if (libssh2_session_free(ss->s) != LIBSSH2_ERROR_EAGAIN)
				break;
		ss->s = NULL;
	}
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	ss->broken = false;
}

/* Handshake, host key, authentication, keepalive on a connected socket
 * (which the session owns from here on, also on failure). */
static ku_rc
ku_sess_open(struct ku_ssh_conn *c, struct ku_sess *ss, const struct ku_ep *ep,
    int fd, uint64_t deadline, char **why)
{
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	ku_rc rc;
	int r;

	memset(ss, 0, sizeof *ss);
	ss->fd = fd;
	ss->s = libssh2_session_init_ex(NULL, NULL, NULL, NULL);
	if (ss->s == NULL) {
		rc = ku_why(why, KU_ERR_NOMEM, "%s", ku_strerror(KU_ERR_NOMEM));
		goto fail;
	}
	libssh2_session_set_blocking(ss->s, 0);
	rc = ku_kh_load(ss->s, c->known_hosts, &kh, why);
	if (rc != KU_OK)
		goto fail;
	ku_kh_prefer(ss->s, kh, ep->khname);

	while ((r = libssh2_session_handshake(ss->s, fd)) ==
	    LIBSSH2_ERROR_EAGAIN) {
		if (ku_sess_wait(ss, deadline) != KU_OK) {
			rc = ku_why(why, KU_ERR_TIMEOUT,
			    _("%s: connect: no SSH handshake within %d s"),
			    ep->label, c->connect_timeout);
			goto fail;
		}
	}
	if (r != 0) {
		rc = ku_why(why, KU_ERR_CONNECT, _("%s: SSH handshake failed: "
		    "%s"), ep->label, ku_lib_msg(ss->s));
		goto fail;
	}
	rc = ku_verify_hostkey(c, ss, ep, kh, why);
	if (rc != KU_OK)
		goto fail;
	libssh2_knownhost_free(kh);
	kh = NULL;
	rc = ku_auth(c, ss, ep, deadline, c->connect_timeout, why);
	if (rc != KU_OK)
		goto fail;
	if (c->keepalive > 0) {
		libssh2_keepalive_config(ss->s, 1, (unsigned)c->keepalive);
		ss->keepalive = c->keepalive;
	}
	return KU_OK;
fail:
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	ss->broken = true;
	ku_sess_close(ss, false);
	return rc;
}

/* --- the jump host's pump --- */

static void
ku_pump_finish(struct ku_pump *p, char *failure)
{
	pthread_mutex_lock(&p->mu);
	p->done = true;
	if (p->failure == NULL)
		p->failure = failure;
	else
		free(failure);
	pthread_mutex_unlock(&p->mu);
}

/* The tunnel's own connection on its listening socket: the first from
 * 127.0.0.1 and the expected port (another local process that finds the
 * port is turned away), before the deadline or a stop. */
static char *
ku_pump_accept(struct ku_pump *p)
{
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = p->sp, .events = POLLIN },
			{ .fd = p->wake[0], .events = POLLIN },
		};
		struct sockaddr_in peer;
		socklen_t len = sizeof peer;
		uint64_t now = ku_now_ms();
		int fd, r;

		if (now >= p->accept_deadline)
			return xstrdup(_("the local connection to the tunnel "
			    "did not come"));
		r = poll(pf, 2, (int)(p->accept_deadline - now));
		if (r < 0 && errno != EINTR)
			return xasprintf("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (pf[1].revents)
			return xstrdup(_("stopped"));
		fd = accept4(p->sp, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == EAGAIN ||
		    errno == ECONNABORTED))
			continue;
		if (fd < 0)   /* out of descriptors: no spinning on it */
			return xasprintf("accept: %s", strerror(errno));
		if (len == sizeof peer && peer.sin_family == AF_INET &&
		    peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		    ntohs(peer.sin_port) == p->accept_port) {
			close(p->sp);
			p->sp = fd;
			return NULL;
		}
		close(fd);
	}
}

static void *
ku_pump_main(void *arg)
{
	struct ku_pump *p = arg;
	LIBSSH2_SESSION *s = p->sess.s;
	char *up = xmalloc(KU_SSH_CHUNK), *down = xmalloc(KU_SSH_CHUNK);
	size_t up_len = 0, up_off = 0, down_len = 0, down_off = 0;
	bool sp_eof = false, ch_eof = false, eof_sent = false, shut = false;
	enum ku_op pending = KU_OP_NONE;
	char *failure = NULL;
	uint64_t grace;

	if (p->accept_port > 0)
		failure = ku_pump_accept(p);
	for (; failure == NULL;) {
		bool progress = false;
		struct pollfd pf[3];
		ssize_t n;
		char b;
		int next;

		if (read(p->wake[0], &b, 1) == 1)
			break;

		/* target -> jump host */
		if (!sp_eof && up_len == 0) {
			n = recv(p->sp, up, KU_SSH_CHUNK, 0);
			if (n > 0) {
				up_len = (size_t)n;
				up_off = 0;
				progress = true;
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				sp_eof = true;
				progress = true;
			}
		}
		if (up_off < up_len &&
		    (pending == KU_OP_NONE || pending == KU_OP_WRITE)) {
			n = libssh2_channel_write(p->ch, up + up_off,
			    up_len - up_off);
			if (n >= 0) {
				pending = KU_OP_NONE;
				up_off += (size_t)n;
				if (up_off == up_len)
					up_off = up_len = 0;
				progress = n > 0;
			} else if (n == LIBSSH2_ERROR_EAGAIN) {
				pending = ku_outbound_blocked(s) ?
				    KU_OP_WRITE : KU_OP_NONE;
			} else {
				failure = xasprintf(_("the tunnel through the "
				    "jump host failed: %s"), ku_lib_msg(s));
				break;
			}
		}
		if (sp_eof && up_len == 0 && !eof_sent &&
		    (pending == KU_OP_NONE || pending == KU_OP_EOF)) {
			int r = libssh2_channel_send_eof(p->ch);
			if (r == LIBSSH2_ERROR_EAGAIN) {
				pending = ku_outbound_blocked(s) ?
				    KU_OP_EOF : KU_OP_NONE;
			} else {
				pending = KU_OP_NONE;
				eof_sent = true;
				progress = true;
			}
		}
		if (sp_eof && eof_sent)
			break;   /* the target's session is over */

		/* jump host -> target */
		if (!ch_eof && down_len == 0 &&
		    (pending == KU_OP_NONE || pending == KU_OP_READ)) {
			n = libssh2_channel_read(p->ch, down, KU_SSH_CHUNK);
			if (n > 0) {
				pending = KU_OP_NONE;
				down_len = (size_t)n;
				down_off = 0;
				progress = true;
			} else if (n == 0) {
				pending = KU_OP_NONE;
				ch_eof = true;
				progress = true;
			} else if (n == LIBSSH2_ERROR_EAGAIN) {
				pending = ku_outbound_blocked(s) ?
				    KU_OP_READ : KU_OP_NONE;
			} else {
				failure = xasprintf(_("the tunnel through the "
				    "jump host failed: %s"), ku_lib_msg(s));
				break;
			}
		}
		if (down_off < down_len) {
			n = send(p->sp, down + down_off, down_len - down_off,
			    MSG_NOSIGNAL);
			if (n > 0) {
				down_off += (size_t)n;
				if (down_off == down_len)
					down_off = down_len = 0;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				break;   /* the target's end is closed */
			}
		}
		if (ch_eof && down_len == 0 && !shut) {
			(void)shutdown(p->sp, SHUT_WR);
			shut = true;
			progress = true;
		}
		if (progress)
			continue;

		pf[0].fd = p->sess.fd;
		pf[0].events = POLLIN;
		if (pending != KU_OP_NONE)
			pf[0].events = POLLOUT;
		else if (ku_outbound_blocked(s))
			pf[0].events |= POLLOUT;
		pf[1].fd = p->sp;
		pf[1].events = 0;
		if (!sp_eof && up_len == 0)
			pf[1].events |= POLLIN;
		if (down_off < down_len)
			pf[1].events |= POLLOUT;
		pf[2].fd = p->wake[0];
		pf[2].events = POLLIN;
		next = pending == KU_OP_NONE ? ku_sess_keepalive(&p->sess) : 0;
		if (poll(pf, 3, next > 0 ? next * 1000 : -1) < 0 &&
		    errno != EINTR) {
			failure = xasprintf("poll: %s", strerror(errno));
			break;
		}
	}

	ku_pump_finish(p, failure);
	/* The target's session sees the end of its stream at once. */
	(void)shutdown(p->sp, SHUT_RDWR);
	grace = ku_now_ms() + KU_SSH_GRACE_MS;
	if (pending != KU_OP_NONE)
		p->sess.broken = true;
	while (!p->sess.broken &&
	    libssh2_channel_free(p->ch) == LIBSSH2_ERROR_EAGAIN) {
		if (ku_sess_wait(&p->sess, grace) != KU_OK)
			p->sess.broken = true;
	}
	p->ch = NULL;   /* otherwise freed with the session */
	ku_sess_close(&p->sess, true);
	free(up);
	free(down);
	return NULL;
}

static bool
ku_pump_failed(struct ku_pump *p, char **failure)
{
	bool done;

	pthread_mutex_lock(&p->mu);
	done = p->done;
	if (failure != NULL)
		*failure = p->failure ? xstrdup(p->failure) : NULL;
	pthread_mutex_unlock(&p->mu);
	return done;
}

static void
ku_pump_free(struct ku_pump *p)
{
	if (p == NULL)
		return;
	if (p->started) {
		char b = 'x';
		(void)!write(p->wake[1], &b, 1);
		pthread_join(p->thread, NULL);
	} else {
		ku_sess_close(&p->sess, false);
	}
	if (p->sp >= 0)
		close(p->sp);
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
	free(p->failure);
	free(p);
}

/* Connects to the jump host, opens a channel to the target through it and
 * starts the pump. listen_fd < 0: *fd is the target session's end of a
 * socketpair. listen_fd >= 0 (taken, also on failure): the pump carries
 * the one connection from 127.0.0.1 port accept_port it accepts there. */
static ku_rc
ku_pump_start(struct ku_ssh_conn *c, int listen_fd, int accept_port,
    int *fd, char **why)
{
	struct ku_pump *p = xcalloc(1, sizeof *p);
	uint64_t deadline = ku_deadline_s(c->connect_timeout);
	int jfd = -1, sv[2] = { listen_fd, -1 };
	ku_rc rc;

	p->sp = listen_fd;
	p->accept_port = accept_port;
	p->wake[0] = p->wake[1] = -1;
	p->sess.fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	p->log = c->log;
	p->logname = c->target.name;

	rc = ku_tcp_connect(&c->jump, deadline, c->connect_timeout, &jfd, why);
	if (rc != KU_OK)
		goto fail;
	rc = ku_sess_open(c, &p->sess, &c->jump, jfd, deadline, why);
	if (rc != KU_OK)
		goto fail;
	for (;;) {
		p->ch = libssh2_channel_direct_tcpip_ex(p->sess.s,
		    c->target.address, c->target.port, "127.0.0.1", 65535);
		if (p->ch != NULL)
			break;
		if (libssh2_session_last_errno(p->sess.s) !=
		    LIBSSH2_ERROR_EAGAIN) {
			rc = ku_why(why, KU_ERR_CONNECT, _("%s: the jump host "
			    "cannot reach %s: %s"), c->jump.label,
			    c->target.hostport, ku_lib_msg(p->sess.s));
			goto fail;
		}
		if (ku_sess_wait(&p->sess, deadline) != KU_OK) {
			rc = ku_why(why, KU_ERR_TIMEOUT, _("%s: the jump host "
			    "did not reach %s within %d s"), c->jump.label,
			    c->target.hostport, c->connect_timeout);
			goto fail;
		}
	}
	if ((listen_fd < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv) != 0) ||
	    pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		rc = ku_why(why, KU_ERR_IO, "socketpair: %s", strerror(errno));
		goto fail;
	}
	p->sp = sv[0];
	p->accept_deadline = ku_deadline_s(c->connect_timeout);
	if (pthread_create(&p->thread, NULL, ku_pump_main, p) != 0) {
		if (sv[1] >= 0)
			close(sv[1]);
		rc = ku_why(why, KU_ERR_IO, "pthread_create: %s",
		    strerror(errno));
		goto fail;
	}
	p->started = true;
	ku_ssh_log(c, KU_LOG_DEBUG, "%s: tunnel to %s through the jump host "
	    "is open", c->jump.hostport, c->target.hostport);
	c->pump = p;
	if (fd != NULL)
		*fd = sv[1];
	return KU_OK;
fail:
	ku_pump_free(p);
	return rc;
}

/* --- connections --- */

static void
ku_conn_teardown(struct ku_ssh_conn *c, bool polite)
{
	if (c->sftp != NULL) {
		uint64_t grace = ku_now_ms() + KU_SSH_GRACE_MS;
		if (polite && !c->sess.broken && c->upload_dir != NULL) {
			while (libssh2_sftp_rmdir_ex(c->sftp, c->upload_dir,
			    (unsigned)strlen(c->upload_dir)) ==
			    LIBSSH2_ERROR_EAGAIN)
				if (ku_sess_wait(&c->sess, grace) != KU_OK)
					break;
		}
		if (c->sess.broken)
			(void)shutdown(c->sess.fd, SHUT_RDWR);
		for (int i = 0; i < 1000; i++) {
			if (libssh2_sftp_shutdown(c->sftp) !=
			    LIBSSH2_ERROR_EAGAIN)
				break;
			if (ku_sess_wait(&c->sess, grace) != KU_OK)
				(void)shutdown(c->sess.fd, SHUT_RDWR);
		}
		c->sftp = NULL;
	}
	free(c->upload_dir);
	c->upload_dir = NULL;
	ku_sess_close(&c->sess, polite);
	ku_pump_free(c->pump);
	c->pump = NULL;
}

static ku_rc
ku_conn_open(struct ku_ssh_conn *c, char **why)
{
	int fd = -1;
	uint64_t t0 = ku_now_ms();
	ku_rc rc;

	if (c->has_jump) {
		ku_ssh_log(c, KU_LOG_DEBUG, "connecting to %s as %s through "
		    "the jump host %s", c->target.hostport, c->target.user,
		    c->jump.hostport);
		char *jwhy = NULL;

		rc = ku_pump_start(c, -1, 0, &fd, &jwhy);
		if (rc != KU_OK) {
			/* The jump host's own message names it. */
			ku_why(why, rc, _("%s: through the jump host: %s"),
			    c->target.label, jwhy ? jwhy : ku_strerror(rc));
			free(jwhy);
			return rc;
		}
	} else {
		ku_ssh_log(c, KU_LOG_DEBUG, "connecting to %s as %s",
		    c->target.hostport, c->target.user);
		rc = ku_tcp_connect(&c->target,
		    ku_deadline_s(c->connect_timeout), c->connect_timeout,
		    &fd, why);
		if (rc != KU_OK)
			return rc;
	}
	rc = ku_sess_open(c, &c->sess, &c->target, fd,
	    ku_deadline_s(c->connect_timeout), why);
	if (rc != KU_OK) {
		ku_conn_teardown(c, false);
		return rc;
	}
	ku_ssh_log(c, KU_LOG_DEBUG, "connected in %ums",
	    (unsigned)(ku_now_ms() - t0));
	return KU_OK;
}

/* Reconnects when the last operation lost the connection. */
static ku_rc
ku_conn_ensure(struct ku_ssh_conn *c, char **why)
{
	bool lost = c->sess.s == NULL || c->sess.broken ||
	    (c->pump != NULL && ku_pump_failed(c->pump, NULL));

	if (!lost)
		return KU_OK;
	if (c->sess.s != NULL || c->pump != NULL) {
		ku_ssh_log(c, KU_LOG_INFO, "the connection was lost; "
		    "reconnecting");
		ku_conn_teardown(c, false);
	}
	return ku_conn_open(c, why);
}

/* The caller's message: the machine, the operation, the reason. */
static ku_rc
ku_report(struct ku_ssh_conn *c, ku_rc rc, const char *op, char *why,
    char **err)
{
	char *msg, *jump = NULL;

	if (why == NULL)
		why = xstrdup(ku_strerror(rc));
	if (ku_str_has_prefix(why, c->target.label) ||
	    ku_str_has_prefix(why, "the host key of ")) {
		msg = why;   /* from a reconnection: it names the machine */
		why = NULL;
	} else if (op != NULL) {
		msg = xasprintf("%s: %s: %s", c->target.label, op, why);
	} else {
		msg = xasprintf("%s: %s", c->target.label, why);
	}
	free(why);
	if (rc == KU_ERR_CONNECT && c->pump != NULL &&
	    ku_pump_failed(c->pump, &jump) && jump != NULL) {
		char *m2 = xasprintf("%s (%s: %s)", msg, c->jump.label, jump);
		free(msg);
		msg = m2;
	}
	free(jump);
	ku_ssh_log(c, KU_LOG_DEBUG, "failed: %s", msg);
	if (err != NULL)
		*err = msg;
	else
		free(msg);
	return rc;
}

/* A message from the connect stage names its endpoint already
 * ("node-1 (10.0.0.11:22): connect: ...", "the host key of node-1 ..."). */
static ku_rc
ku_report_connect(struct ku_ssh_conn *c, ku_rc rc, char *why, char **err)
{
	char *msg = why;

	if (msg == NULL)
		msg = xasprintf("%s: %s", c->target.label, ku_strerror(rc));
	ku_ssh_log(c, KU_LOG_DEBUG, "failed: %s", msg);
	if (err != NULL)
		*err = msg;
	else
		free(msg);
	return rc;
}

/* A connection from opts, not connected yet. */
static ku_rc
ku_conn_new(const struct ku_ssh_opts *opts, struct ku_ssh_conn **out,
    char **err)
{
	struct ku_ssh_conn *c;

	*out = NULL;
	if (opts->target.address == NULL || opts->target.address[0] == '\0' ||
	    opts->known_hosts == NULL || opts->known_hosts[0] == '\0' ||
	    (opts->jump != NULL && (opts->jump->address == NULL ||
	    opts->jump->address[0] == '\0'))) {
		if (err)
			*err = xstrdup(_("ssh: an address and a known_hosts "
			    "file are required"));
		return KU_ERR_INVALID;
	}
	pthread_once(&ku_ssh_once, ku_ssh_init_once);
	if (ku_ssh_init_rc != 0) {
		if (err)
			*err = xstrdup(_("ssh: libssh2 failed to initialise"));
		return KU_ERR_CONNECT;
	}

	c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->sess.fd = -1;
	ku_ep_init(&c->target, &opts->target);
	if (opts->jump != NULL) {
		ku_ep_init(&c->jump, opts->jump);
		c->has_jump = true;
	}
	c->known_hosts = xstrdup(opts->known_hosts);
	c->policy = opts->host_key_policy;
	c->accept_fp = opts->accept_fingerprint ?
	    xstrdup(opts->accept_fingerprint) : NULL;
	c->connect_timeout = opts->connect_timeout > 0 ?
	    opts->connect_timeout : KU_SSH_CONNECT_TIMEOUT;
	c->command_timeout = opts->command_timeout > 0 ?
	    opts->command_timeout : KU_SSH_COMMAND_TIMEOUT;
	c->keepalive = opts->keepalive > 0 ? opts->keepalive : 0;
	c->sudo = opts->sudo;
	if (opts->sudo_password != NULL) {
		c->sudo_password = xstrdup(opts->sudo_password);
		ku_log_add_secret(opts->log, opts->sudo_password);
	}
	c->sudo_program = xstrdup(opts->sudo_program && opts->sudo_program[0] ?
	    opts->sudo_program : "sudo");
	c->agent_socket = opts->agent_socket ? xstrdup(opts->agent_socket) :
	    NULL;
	c->log = opts->log;
	*out = c;
	return KU_OK;
}

ku_rc
ku_ssh_connect(const struct ku_ssh_opts *opts, struct ku_ssh_conn **out,
    char **err)
{
	struct ku_ssh_conn *c;
	char *why = NULL;
	ku_rc rc;

	*out = NULL;
	rc = ku_conn_new(opts, &c, err);
	if (rc != KU_OK)
		return rc;
	rc = ku_conn_open(c, &why);
	if (rc != KU_OK) {
		ku_report_connect(c, rc, why, err);
		ku_ssh_close(c);
		return rc;
	}
	*out = c;
	return KU_OK;
}

ku_rc
ku_ssh_tunnel(const struct ku_ssh_opts *opts, int listen_fd, int client_port,
    struct ku_ssh_conn **out, char **err)
{
	struct ku_ssh_conn *c;
	char *why = NULL;
	ku_rc rc;

	*out = NULL;
	if (opts->jump == NULL || listen_fd < 0 || client_port <= 0) {
		if (listen_fd >= 0)
			close(listen_fd);
		if (err)
			*err = xstrdup(_("ssh: a tunnel needs a jump host"));
		return KU_ERR_INVALID;
	}
	rc = ku_conn_new(opts, &c, err);
	if (rc != KU_OK) {
		close(listen_fd);
		return rc;
	}
	rc = ku_pump_start(c, listen_fd, client_port, NULL, &why);
	if (rc != KU_OK) {
		char *msg = xasprintf(_("%s: through the jump host: %s"),
		    c->target.label, why ? why : ku_strerror(rc));

		free(why);
		ku_report_connect(c, rc, msg, err);
		ku_ssh_close(c);
		return rc;
	}
	*out = c;
	return KU_OK;
}

void
ku_ssh_close(struct ku_ssh_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	ku_conn_teardown(c, true);
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_destroy(&c->mu);
	ku_ep_free(&c->target);
	ku_ep_free(&c->jump);
	free(c->known_hosts);
	free(c->accept_fp);
	if (c->sudo_password != NULL) {
		OPENSSL_cleanse(c->sudo_password, strlen(c->sudo_password));
		free(c->sudo_password);
	}
	free(c->sudo_program);
	free(c->agent_socket);
	free(c);
}

const char *
ku_ssh_label(const struct ku_ssh_conn *c)
{
	return c->target.label;
}

/* --- exec --- */

static ku_rc ku_conn_ensure(struct ku_ssh_conn *c, char **why);

static int
ku_signal_number(const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ILL", SIGILL }, { "ABRT", SIGABRT }, { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "SEGV", SIGSEGV }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }, { "BUS", SIGBUS },
	};

	for (size_t i = 0; i < KU_ARRAY_LEN(sigs); i++)
		if (strcmp(sigs[i].name, name) == 0)
			return sigs[i].sig;
	return 127;
}

/* What /bin/sh -s reads: the script inside a brace group (read whole
 * before it runs; its commands read /dev/null), with the sbin folders on
 * PATH. */
static void
ku_exec_payload(struct ku_buf *b, const char *script)
{
	size_t n = strlen(script);

	ku_script_raw(b, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin\nexport PATH\n{\n:\n");
	ku_script_raw_text(b, script);   /* the caller's script, as is */
	if (n == 0 || script[n - 1] != '\n')
		ku_script_raw(b, "\n");
	ku_script_raw(b, "} </dev/null\n");
}

/* The fixed command line of the channel. */
static void
ku_exec_command(const struct ku_ssh_conn *c, bool sudo, bool password,
    struct ku_buf *cmd)
{
	if (!sudo) {
		ku_script_raw(cmd, "/bin/sh -s");
		return;
	}
	ku_script_word(cmd, c->sudo_program);
	if (!password) {
		ku_script_raw(cmd, " -n -- /bin/sh -s");
		return;
	}
	ku_script_raw(cmd, " -S -p ");
	ku_script_word(cmd, KU_SUDO_PROMPT);
	ku_script_raw(cmd, " -- /bin/sh -c ");
	ku_script_word(cmd, "echo " KU_SUDO_READY " >&2; exec /bin/sh -s");
}

/* Removes every occurrence of what from b. */
static void
ku_buf_remove_all(struct ku_buf *b, const char *what)
{
	size_t wl = strlen(what), w = 0;

	if (b->data == NULL)
		return;
	for (size_t r = 0; r < b->len; ) {
		if (r + wl <= b->len && memcmp(b->data + r, what, wl) == 0) {
			r += wl;
			continue;
		}
		b->data[w++] = b->data[r++];
	}
	b->len = w;
	b->data[w] = '\0';
}

/* Drops the channel: after a timeout or a refused sudo. A channel that
 * cannot be closed in a moment makes the session unusable. */
static void
ku_channel_abandon(struct ku_sess *ss, LIBSSH2_CHANNEL *ch, enum ku_op pending)
{
	uint64_t grace = ku_now_ms() + KU_SSH_GRACE_MS;
	int r;

	if (pending != KU_OP_NONE || ss->broken) {
		/* Half a packet is out: nothing else can be sent. */
		ss->broken = true;
		return;   /* freed with the session */
	}
	while ((r = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN) {
		if (ku_sess_wait(ss, grace) != KU_OK) {
			ss->broken = true;
			return;
		}
	}
	if (r != 0)
		ss->broken = true;
}

struct ku_exec_state {
	struct ku_buf pw;        /* "password\n", wiped after use */
	size_t pw_off;
	struct ku_buf in;        /* the payload */
	size_t in_off;
	bool in_ready;           /* the payload may be sent */
	bool in_closed;          /* the remote end stopped reading */
	bool eof_sent;
	struct ku_buf pre;       /* stderr before sudo said READY */
	size_t scan_off;
	int prompts;
	bool out_done, err_done;
};

/* Looks at what sudo printed so far: a prompt asks for the password (a
 * second one means it was refused); READY lets the script go. */
static ku_rc
ku_exec_sudo_scan(struct ku_ssh_conn *c, struct ku_exec_state *st,
    struct ku_exec_result *res, char **why)
{
	static const char ready[] = KU_SUDO_READY "\n";
	const char *hit;

	for (;;) {
		const char *from = st->pre.data + st->scan_off;
		size_t left = st->pre.len - st->scan_off;

		hit = memmem(from, left, KU_SUDO_PROMPT,
		    sizeof KU_SUDO_PROMPT - 1);
		if (hit == NULL)
			break;
		st->scan_off = (size_t)(hit - st->pre.data) +
		    strlen(KU_SUDO_PROMPT);
		if (++st->prompts > 1)
			return ku_why(why, KU_ERR_AUTH, _("sudo did not accept "
			    "the password"));
		ku_buf_adds(&st->pw, c->sudo_password);
		ku_buf_addc(&st->pw, '\n');
	}
	hit = st->pre.data ? memmem(st->pre.data, st->pre.len, ready,
	    sizeof ready - 1) : NULL;
	if (hit != NULL) {
		size_t at = (size_t)(hit - st->pre.data);
		struct ku_buf before;

		ku_buf_init(&before, 0);
		ku_buf_add(&before, st->pre.data, at);
		ku_buf_remove_all(&before, KU_SUDO_PROMPT);
		ku_buf_add(&res->err, before.data, before.len);
		ku_buf_free(&before);
		ku_buf_add(&res->err, hit + sizeof ready - 1,
		    st->pre.len - at - (sizeof ready - 1));
		ku_buf_free(&st->pre);
		st->in_ready = true;
	}
	return KU_OK;
}

static ku_rc
ku_exec_locked(struct ku_ssh_conn *c, const char *script, unsigned flags,
    uint64_t deadline, int timeout_s, struct ku_exec_result *res, char **why)
{
	struct ku_sess *ss = &c->sess;
	LIBSSH2_CHANNEL *ch = NULL;
	bool sudo = (flags & KU_SSH_PRIVILEGED) && c->sudo;
	bool password = sudo && c->sudo_password != NULL;
	struct ku_exec_state st;
	struct ku_buf cmd;
	enum ku_op pending = KU_OP_NONE;
	char *chunk = xmalloc(KU_SSH_CHUNK);
	char *sig = NULL;
	uint64_t t0 = ku_now_ms();
	ku_rc rc = KU_OK;
	int r;
	ssize_t n;

	memset(&st, 0, sizeof st);
	ku_buf_init(&st.pw, 0);
	ku_buf_init(&st.in, 0);
	ku_buf_init(&st.pre, 64 * 1024);
	ku_buf_init(&cmd, 0);
	ku_exec_payload(&st.in, script);
	st.in_ready = !password;
	ku_exec_command(c, sudo, password, &cmd);
	res->exit_status = -1;

	ku_ssh_log(c, KU_LOG_DEBUG, "run a script of %zu bytes%s",
	    strlen(script), !sudo ? "" : password ? " through sudo -S" :
	    " through sudo -n");

	/* Opening the channel is the first round trip: a session that sat
	 * idle may be dead (a NAT forgot it, the machine rebooted). Nothing
	 * has run yet, so within the connect timeout it is safe to
	 * reconnect once and go on. */
	for (int attempt = 0; ; attempt++) {
		uint64_t open_by = ku_deadline_s(c->connect_timeout);
		bool lost = false;

		if (open_by > deadline)
			open_by = deadline;
		while ((ch = libssh2_channel_open_session(ss->s)) == NULL) {
			r = libssh2_session_last_errno(ss->s);
			if (r != LIBSSH2_ERROR_EAGAIN) {
				ku_sess_note(ss, r);
				if (ku_map_lib(r) == KU_ERR_CONNECT) {
					lost = true;
					break;
				}
				rc = ku_why(why, ku_map_lib(r),
				    _("cannot open a channel: %s"),
				    ku_lib_msg(ss->s));
				goto out;
			}
			if (ku_sess_wait(ss, open_by) != KU_OK) {
				ss->broken = true;
				lost = true;
				break;
			}
		}
		if (ch != NULL)
			break;
		if (attempt > 0 || ku_now_ms() >= deadline) {
			rc = ku_why(why, lost && ku_now_ms() < deadline ?
			    KU_ERR_CONNECT : KU_ERR_TIMEOUT,
			    _("no answer from the machine within %d s"),
			    ku_now_ms() < deadline ? c->connect_timeout :
			    timeout_s);
			goto out;
		}
		ku_ssh_log(c, KU_LOG_INFO, "the connection does not answer; "
		    "reconnecting");
		ss->broken = true;
		rc = ku_conn_ensure(c, why);
		if (rc != KU_OK)
			goto out;
		ss = &c->sess;
	}
	while ((r = libssh2_channel_exec(ch, cmd.data)) ==
	    LIBSSH2_ERROR_EAGAIN) {
		if (ku_sess_wait(ss, deadline) != KU_OK) {
			rc = ku_why(why, KU_ERR_TIMEOUT, _("timed out after %d "
			    "s"), timeout_s);
			ku_channel_abandon(ss, ch, KU_OP_NONE);
			ch = NULL;
			goto out;
		}
	}
	if (r != 0) {
		ku_sess_note(ss, r);
		rc = ku_why(why, ku_map_lib(r), ku_map_lib(r) ==
		    KU_ERR_CONNECT ? _("connection lost: %s") :
		    _("cannot start /bin/sh: %s"), ku_lib_msg(ss->s));
		ku_channel_abandon(ss, ch, KU_OP_NONE);
		ch = NULL;
		goto out;
	}

	while (!(st.out_done && st.err_done)) {
		bool progress = false;

		/* standard input: the password, then the script */
		if (!st.in_closed &&
		    (pending == KU_OP_NONE || pending == KU_OP_WRITE)) {
			struct ku_buf *b = NULL;
			size_t *off = NULL;

			if (st.pw_off < st.pw.len) {
				b = &st.pw;
				off = &st.pw_off;
			} else if (st.in_ready && st.in_off < st.in.len) {
				b = &st.in;
				off = &st.in_off;
			}
			if (b != NULL) {
				n = libssh2_channel_write(ch, b->data + *off,
				    b->len - *off);
				if (n >= 0) {
					pending = KU_OP_NONE;
					*off += (size_t)n;
					progress = n > 0;
					if (b == &st.pw && *off == b->len)
						OPENSSL_cleanse(b->data,
						    b->len);
				} else if (n == LIBSSH2_ERROR_EAGAIN) {
					pending = ku_outbound_blocked(ss->s) ?
					    KU_OP_WRITE : KU_OP_NONE;
				} else if (ku_map_lib((int)n) ==
				    KU_ERR_CONNECT) {
					ku_sess_note(ss, (int)n);
					rc = ku_why(why, KU_ERR_CONNECT,
					    _("connection lost: %s"),
					    ku_lib_msg(ss->s));
					goto out;
				} else {
					/* The shell is gone (sudo refused, a
					 * syntax error): read what it said. */
					st.in_closed = true;
					progress = true;
				}
			}
		}
		if (st.in_ready && !st.in_closed && !st.eof_sent &&
		    st.in_off == st.in.len &&
		    (pending == KU_OP_NONE || pending == KU_OP_EOF)) {
			r = libssh2_channel_send_eof(ch);
			if (r == LIBSSH2_ERROR_EAGAIN) {
				pending = ku_outbound_blocked(ss->s) ?
				    KU_OP_EOF : KU_OP_NONE;
			} else {
				pending = KU_OP_NONE;
				st.eof_sent = true;
				progress = true;
			}
		}

		/* standard output and error */
		for (int stream = 0; stream < 2; stream++) {
			bool *done = stream ? &st.err_done : &st.out_done;

			if (*done || (pending != KU_OP_NONE &&
			    pending != KU_OP_READ))
				continue;
			n = libssh2_channel_read_ex(ch, stream, chunk,
			    KU_SSH_CHUNK);
			if (n > 0) {
				pending = KU_OP_NONE;
				progress = true;
				if (stream == 0) {
					ku_buf_add(&res->out, chunk, (size_t)n);
				} else if (!st.in_ready) {
					ku_buf_add(&st.pre, chunk, (size_t)n);
					rc = ku_exec_sudo_scan(c, &st, res,
					    why);
					if (rc != KU_OK) {
						ku_channel_abandon(ss, ch,
						    pending);
						ch = NULL;
						goto out;
					}
				} else {
					ku_buf_add(&res->err, chunk, (size_t)n);
				}
			} else if (n == 0) {
				pending = KU_OP_NONE;
				*done = true;
				progress = true;
			} else if (n == LIBSSH2_ERROR_EAGAIN) {
				pending = ku_outbound_blocked(ss->s) ?
				    KU_OP_READ : KU_OP_NONE;
			} else {
				ku_sess_note(ss, (int)n);
				rc = ku_why(why, ku_map_lib((int)n),
				    _("connection lost: %s"),
				    ku_lib_msg(ss->s));
				goto out;
			}
		}
		if (progress)
			continue;
		if (ku_sess_wait(ss, deadline) != KU_OK) {
			rc = ku_why(why, KU_ERR_TIMEOUT, _("timed out after %d "
			    "s"), timeout_s);
			ku_channel_abandon(ss, ch, pending);
			ch = NULL;
			goto out;
		}
	}

	/* Both streams ended: collect the exit status. */
	while ((r = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ku_sess_wait(ss, deadline) != KU_OK)
			break;
	/* The machine's own close may come a while after both streams
	 * ended (the process goes on with its output closed): wait for it
	 * until the deadline. */
	if (r == 0)
		while ((r = libssh2_channel_wait_closed(ch)) ==
		    LIBSSH2_ERROR_EAGAIN)
			if (ku_sess_wait(ss, deadline) != KU_OK)
				break;
	if (r == LIBSSH2_ERROR_EAGAIN) {
		rc = ku_why(why, KU_ERR_TIMEOUT, _("timed out after %d s"),
		    timeout_s);
		ku_channel_abandon(ss, ch, KU_OP_NONE);
		ch = NULL;
		goto out;
	}
	res->exit_status = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL,
	    NULL) == 0 && sig != NULL) {
		res->exit_status = 128 + ku_signal_number(sig);
		libssh2_free(ss->s, sig);
	}

	if (!st.in_ready) {
		/* sudo ended before it ran the shell. */
		char *line;
		ku_buf_remove_all(&st.pre, KU_SUDO_PROMPT);
		line = ku_first_line(st.pre.data);
		ku_buf_add(&res->err, st.pre.data, st.pre.len);
		rc = ku_why(why, KU_ERR_AUTH, _("sudo refused to run the "
		    "script%s%s"), line[0] ? ": " : "", line);
		free(line);
	} else if (sudo && !password && res->exit_status == 1 &&
	    res->out.len == 0 && res->err.data != NULL &&
	    ku_str_has_prefix(res->err.data, "sudo:") &&
	    strstr(res->err.data, "password is required") != NULL) {
		rc = ku_why(why, KU_ERR_AUTH, _("sudo asks %s for a password: "
		    "set provider.ssh.sudo_password_file (or "
		    "sudo_password_env), or let %s use sudo without one"),
		    c->target.user, c->target.user);
	}
	ku_ssh_log(c, KU_LOG_DEBUG, "script done in %ums: exit status %d, "
	    "%zu bytes out%s, %zu bytes err%s",
	    (unsigned)(ku_now_ms() - t0), res->exit_status, res->out.len,
	    res->out.truncated ? " (truncated)" : "", res->err.len,
	    res->err.truncated ? " (truncated)" : "");
out:
	if (ch != NULL) {
		uint64_t grace = ku_now_ms() + KU_SSH_GRACE_MS;
		while ((r = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN)
			if (ku_sess_wait(ss, grace) != KU_OK) {
				ss->broken = true;
				break;
			}
	}
	if (st.pw.data != NULL)
		OPENSSL_cleanse(st.pw.data, st.pw.cap);
	ku_buf_free(&st.pw);
	ku_buf_free(&st.in);
	ku_buf_free(&st.pre);
	ku_buf_free(&cmd);
	free(chunk);
	return rc;
}

ku_rc
ku_ssh_exec(struct ku_ssh_conn *c, const char *script, unsigned flags,
    int timeout_s, struct ku_exec_result *res, char **err)
{
	char *why = NULL;
	ku_rc rc;
	int secs = timeout_s > 0 ? timeout_s : c->command_timeout;
	uint64_t deadline;

	/* The timeout counts from when this call has the connection. */
	pthread_mutex_lock(&c->mu);
	deadline = ku_deadline_s(secs);
	rc = ku_conn_ensure(c, &why);
	if (rc != KU_OK) {
		rc = ku_report_connect(c, rc, why, err);
		goto out;
	}
	rc = ku_exec_locked(c, script, flags, deadline, secs, res, &why);
	if (rc != KU_OK)
		ku_report(c, rc, _("run a script"), why, err);
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* --- upload --- */

static const char *
ku_sftp_error_text(unsigned long code)
{
	switch (code) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return _("no such file or folder");
	case LIBSSH2_FX_PERMISSION_DENIED:
	case LIBSSH2_FX_WRITE_PROTECT:
		return _("permission denied");
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
		return _("no space left on the device");
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		return _("disk quota exceeded");
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		return _("already exists");
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return _("not a folder");
	case LIBSSH2_FX_CONNECTION_LOST:
	case LIBSSH2_FX_NO_CONNECTION:
		return _("connection lost");
	default:
		return _("the SFTP server reported a failure");
	}
}

/* A failed SFTP call: its reason, and whether the session survives. */
static ku_rc
ku_sftp_fail(struct ku_ssh_conn *c, int lrc, const char *what, char **why)
{
	if (lrc == LIBSSH2_ERROR_SFTP_PROTOCOL && c->sftp != NULL)
		return ku_why(why, KU_ERR_REMOTE, "%s: %s", what,
		    ku_sftp_error_text(libssh2_sftp_last_error(c->sftp)));
	ku_sess_note(&c->sess, lrc);
	return ku_why(why, ku_map_lib(lrc), "%s: %s", what,
	    ku_lib_msg(c->sess.s));
}

static ku_rc
ku_sftp_ensure(struct ku_ssh_conn *c, uint64_t deadline, int timeout_s,
    char **why)
{
	while (c->sftp == NULL) {
		int r;

		c->sftp = libssh2_sftp_init(c->sess.s);
		if (c->sftp != NULL)
			break;
		r = libssh2_session_last_errno(c->sess.s);
		if (r != LIBSSH2_ERROR_EAGAIN) {
			ku_sess_note(&c->sess, r);
			return ku_why(why, ku_map_lib(r), _("cannot start "
			    "SFTP: %s"), ku_lib_msg(c->sess.s));
		}
		if (ku_sess_wait(&c->sess, deadline) != KU_OK)
			return ku_why(why, KU_ERR_TIMEOUT, _("timed out after "
			    "%d s"), timeout_s);
	}
	return KU_OK;
}

/* The private folder for uploads through sudo: made by SFTP's mkdir, which
 * fails when the name exists, so the folder is ours. */
static ku_rc
ku_upload_dir(struct ku_ssh_conn *c, uint64_t deadline, int timeout_s,
    char **why)
{
	for (int attempt = 0; c->upload_dir == NULL && attempt < 5; attempt++) {
		char hex[33];
		char *dir;
		int r;

		ku_random_hex(8, hex);
		dir = xasprintf("/tmp/kubeup-upload-%s", hex);
		while ((r = libssh2_sftp_mkdir_ex(c->sftp, dir,
		    (unsigned)strlen(dir), 0700)) == LIBSSH2_ERROR_EAGAIN) {
			if (ku_sess_wait(&c->sess, deadline) != KU_OK) {
				free(dir);
				return ku_why(why, KU_ERR_TIMEOUT, _("timed "
				    "out after %d s"), timeout_s);
			}
		}
		if (r == 0) {
			c->upload_dir = dir;
			ku_ssh_log(c, KU_LOG_DEBUG, "private upload folder %s",
			    dir);
			return KU_OK;
		}
		if (r != LIBSSH2_ERROR_SFTP_PROTOCOL ||
		    libssh2_sftp_last_error(c->sftp) !=
		    LIBSSH2_FX_FAILURE) {
			ku_rc rc = ku_sftp_fail(c, r, dir, why);
			free(dir);
			return rc;
		}
		free(dir);   /* exists (OpenSSH says FAILURE): another name */
	}
	return c->upload_dir ? KU_OK : ku_why(why, KU_ERR_REMOTE,
	    _("cannot make a private folder under /tmp"));
}

/* The source of an upload: a file read through a window, or memory. */
struct ku_src {
	int fd;
	const unsigned char *mem;
	size_t mem_len;
	unsigned char *buf;    /* file: the window */
	size_t start, len;     /* file: unacknowledged bytes in buf */
	size_t fed;            /* bytes hashed so far */
	size_t acked;          /* bytes the server confirmed */
	bool eof;
	EVP_MD_CTX *md;
};

/* The bytes not yet confirmed, at most the window: *p and *n. */
static ku_rc
ku_src_window(struct ku_src *src, const char **p, size_t *n)
{
	if (src->fd < 0) {
		size_t end = src->acked + KU_SSH_SFTP_WINDOW;
		if (end > src->mem_len)
			end = src->mem_len;
		if (end > src->fed) {
			EVP_DigestUpdate(src->md, src->mem + src->fed,
			    end - src->fed);
			src->fed = end;
		}
		*p = (const char *)src->mem + src->acked;
		*n = end - src->acked;
		return KU_OK;
	}
	if (!src->eof && src->len < KU_SSH_SFTP_WINDOW / 2) {
		if (src->start > 0) {
			memmove(src->buf, src->buf + src->start, src->len);
			src->start = 0;
		}
		while (!src->eof && src->len < KU_SSH_SFTP_WINDOW) {
			ssize_t r = read(src->fd, src->buf + src->len,
			    KU_SSH_SFTP_WINDOW - src->len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return KU_ERR_IO;
			if (r == 0) {
				src->eof = true;
				break;
			}
			EVP_DigestUpdate(src->md, src->buf + src->len,
			    (size_t)r);
			src->len += (size_t)r;
			src->fed += (size_t)r;
		}
	}
	*p = (const char *)src->buf + src->start;
	*n = src->len;
	return KU_OK;
}

static void
ku_src_ack(struct ku_src *src, size_t n)
{
	src->acked += n;
	if (src->fd >= 0) {
		src->start += n;
		src->len -= n;
	}
}

/* Sends the source to tmp by SFTP and checks the hash of what was sent. */
static ku_rc
ku_sftp_send(struct ku_ssh_conn *c, struct ku_src *src, const char *tmp,
    const char *want_hex, uint64_t deadline, int timeout_s, char **why)
{
	LIBSSH2_SFTP_HANDLE *h;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char got[65];
	ku_rc rc = KU_OK;
	int r;

	while ((h = libssh2_sftp_open_ex(c->sftp, tmp, (unsigned)strlen(tmp),
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, 0600,
	    LIBSSH2_SFTP_OPENFILE)) == NULL) {
		r = libssh2_session_last_errno(c->sess.s);
		if (r != LIBSSH2_ERROR_EAGAIN)
			return ku_sftp_fail(c, r, tmp, why);
		if (ku_sess_wait(&c->sess, deadline) != KU_OK)
			return ku_why(why, KU_ERR_TIMEOUT, _("timed out after "
			    "%d s"), timeout_s);
	}
	for (;;) {
		const char *p;
		size_t n;
		ssize_t w;

		if (ku_src_window(src, &p, &n) != KU_OK) {
			rc = ku_why(why, KU_ERR_IO, _("cannot read the local "
			    "file: %s"), strerror(errno));
			break;
		}
		if (n == 0)
			break;
		/* Pipelined: libssh2 sends the window as many packets and
		 * returns as acknowledgements come back. */
		w = libssh2_sftp_write(h, p, n);
		if (w == LIBSSH2_ERROR_EAGAIN) {
			if (ku_sess_wait(&c->sess, deadline) != KU_OK) {
				c->sess.broken = true;   /* half a write out */
				rc = ku_why(why, KU_ERR_TIMEOUT, _("timed out "
				    "after %d s"), timeout_s);
				break;
			}
			continue;
		}
		if (w < 0) {
			rc = ku_sftp_fail(c, (int)w, tmp, why);
			break;
		}
		ku_src_ack(src, (size_t)w);
	}
	if (!c->sess.broken) {
		uint64_t grace = deadline > ku_now_ms() + KU_SSH_GRACE_MS ?
		    deadline : ku_now_ms() + KU_SSH_GRACE_MS;
		while ((r = libssh2_sftp_close_handle(h)) ==
		    LIBSSH2_ERROR_EAGAIN) {
			if (ku_sess_wait(&c->sess, grace) != KU_OK) {
				c->sess.broken = true;
				break;
			}
		}
		if (rc == KU_OK && r != 0)
			rc = ku_sftp_fail(c, r, tmp, why);
	}
	if (rc != KU_OK)
		return rc;
	EVP_DigestFinal_ex(src->md, digest, &dlen);
	ku_hex(digest, dlen, got);
	if (strcmp(got, want_hex) != 0)
		return ku_why(why, KU_ERR_CHECKSUM, _("the local file changed "
		    "while it was being sent"));
	return KU_OK;
}

static void
ku_sftp_unlink_quietly(struct ku_ssh_conn *c, const char *path)
{
	uint64_t grace = ku_now_ms() + KU_SSH_GRACE_MS;

	if (c->sftp == NULL || c->sess.broken)
		return;
	while (libssh2_sftp_unlink_ex(c->sftp, path, (unsigned)strlen(path)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if (ku_sess_wait(&c->sess, grace) != KU_OK)
			break;
}

/* Runs a step of the upload (a small privileged script); a non-zero exit
 * status is KU_ERR_REMOTE with the first line of its error output. */
static ku_rc
ku_upload_step(struct ku_ssh_conn *c, const char *script, uint64_t deadline,
    int timeout_s, struct ku_exec_result *res, char **why)
{
	ku_rc rc = ku_exec_locked(c, script, KU_SSH_PRIVILEGED, deadline,
	    timeout_s, res, why);

	if (rc == KU_OK && res->exit_status != 0) {
		char *line = ku_first_line(res->err.data);
		rc = ku_why(why, KU_ERR_REMOTE, "%s", line[0] ? line :
		    _("the remote command failed"));
		free(line);
	}
	return rc;
}

static ku_rc
ku_upload_locked(struct ku_ssh_conn *c, const struct ku_ssh_upload *up,
    struct ku_src *src, const char *hash, uint64_t deadline, int timeout_s,
    bool *skipped, char **why)
{
	struct ku_exec_result res;
	struct ku_buf sh;
	char *dir = ku_dirname(up->remote_path);
	char *tmp = NULL, *line = NULL;
	char mode[16], hex[33];
	size_t total = src->fd >= 0 ? 0 : src->mem_len;
	uint64_t t0 = ku_now_ms();
	ku_rc rc;

	snprintf(mode, sizeof mode, "%04o", (unsigned)up->mode);
	ku_buf_init(&res.out, 4096);
	ku_buf_init(&res.err, 4096);
	ku_buf_init(&sh, 0);

	/* 1. What is there now? (As root: also make the folder, where the
	 * temporary file goes.) */
	ku_script_raw(&sh, "d=");
	ku_script_word(&sh, up->remote_path);
	ku_script_raw(&sh, "\np=");
	ku_script_word(&sh, dir);
	ku_script_raw(&sh, "\n");
	if (!c->sudo)
		ku_script_raw(&sh, "umask 022\nmkdir -p -- \"$p\" || exit 1\n");
	ku_script_raw(&sh,
	    "if [ -d \"$d\" ] && [ ! -h \"$d\" ]; then\n"
	    "  echo \"$d is a folder\" >&2; exit 1\n"
	    "elif [ -f \"$d\" ] && [ ! -h \"$d\" ]; then\n"
	    "  m=$(stat -c '%a %u %g' -- \"$d\") || exit 1\n"
	    "  h=$(sha256sum < \"$d\") || exit 1\n"
	    "  echo \"kubeup-file $m ${h%% *}\"\n"
	    "else\n"
	    "  echo kubeup-none\n"
	    "fi\n");
	rc = ku_upload_step(c, sh.data, deadline, timeout_s, &res, why);
	if (rc != KU_OK)
		goto out;
	line = ku_first_line(res.out.data);
	{
		unsigned m = 0, uid = 1, gid = 1;
		char h[65];
		if (sscanf(line, "kubeup-file %o %u %u %64s", &m, &uid, &gid,
		    h) == 4 && m == (unsigned)up->mode && uid == 0 &&
		    gid == 0 && strcmp(h, hash) == 0) {
			*skipped = true;
			ku_ssh_log(c, KU_LOG_DEBUG, "upload %s: unchanged, "
			    "skipped", up->remote_path);
			goto out;
		}
	}

	/* 2. The contents, by SFTP, to a temporary file. */
	rc = ku_sftp_ensure(c, deadline, timeout_s, why);
	if (rc != KU_OK)
		goto out;
	ku_random_hex(8, hex);
	if (c->sudo) {
		rc = ku_upload_dir(c, deadline, timeout_s, why);
		if (rc != KU_OK)
			goto out;
		tmp = xasprintf("%s/%s", c->upload_dir, hex);
	} else {
		tmp = xasprintf("%s/.kubeup-upload-%s", strcmp(dir, "/") ?
		    dir : "", hex);
	}
	rc = ku_sftp_send(c, src, tmp, hash, deadline, timeout_s, why);
	if (rc != KU_OK) {
		ku_sftp_unlink_quietly(c, tmp);
		goto out;
	}

	/* 3. One command puts it in place: the copy's hash checked, the
	 * folder made, mode and owner set, renamed over the old file. */
	ku_buf_reset(&sh);
	ku_buf_reset(&res.out);
	ku_buf_reset(&res.err);
	ku_script_raw(&sh, "set -e\numask 022\ns=");
	ku_script_word(&sh, tmp);
	ku_script_raw(&sh, "\nd=");
	ku_script_word(&sh, up->remote_path);
	ku_script_raw(&sh, "\nt=\n"
	    "trap 'rm -f -- \"$s\" ${t:+\"$t\"}' EXIT\n"
	    "h=$(sha256sum < \"$s\")\n"
	    "if [ \"${h%% *}\" != ");
	ku_script_word(&sh, hash);
	ku_script_raw(&sh, " ]; then\n"
	    "  echo 'the copy received differs from the file sent (SHA-256)' "
	    ">&2\n"
	    "  exit 1\n"
	    "fi\n");
	if (c->sudo) {
		char *templ = xasprintf("%s/.kubeup-upload.XXXXXX",
		    strcmp(dir, "/") ? dir : "");
		ku_script_cmd(&sh, "mkdir", "-p", "--", dir, NULL);
		ku_script_raw(&sh, "t=$(");
		ku_script_cmd(&sh, "mktemp", "--", templ, NULL);
		ku_script_raw(&sh, ")\n");
		free(templ);
		ku_script_raw(&sh, "install -m ");
		ku_script_word(&sh, mode);
		ku_script_raw(&sh, " -o root -g root -- \"$s\" \"$t\"\n"
		    "mv -f -T -- \"$t\" \"$d\"\n"
		    "t=\n");
	} else {
		ku_script_raw(&sh, "chown root:root -- \"$s\"\nchmod ");
		ku_script_word(&sh, mode);
		ku_script_raw(&sh, " -- \"$s\"\n"
		    "mv -f -T -- \"$s\" \"$d\"\n");
	}
	rc = ku_upload_step(c, sh.data, deadline, timeout_s, &res, why);
	if (rc != KU_OK)
		goto out;
	if (src->fd >= 0)
		total = src->acked;
	{
		uint64_t ms = ku_now_ms() - t0;
		ku_ssh_log(c, KU_LOG_DEBUG, "upload %s: %zu bytes in %ums "
		    "(%.1f MB/s), mode %s", up->remote_path, total,
		    (unsigned)ms,
		    ms ? (double)total / 1000.0 / (double)ms : 0.0, mode);
	}
out:
	free(line);
	free(tmp);
	free(dir);
	ku_buf_free(&sh);
	ku_buf_free(&res.out);
	ku_buf_free(&res.err);
	return rc;
}

ku_rc
ku_ssh_upload(struct ku_ssh_conn *c, const struct ku_ssh_upload *up,
    bool *skipped, char **err)
{
	struct ku_src src;
	char hash[65];
	char *why = NULL, *op, *shown;
	bool skip = false;
	int secs = up->timeout_s > 0 ? up->timeout_s : c->command_timeout;
	uint64_t deadline;
	ku_rc rc;
	struct stat st;

	if (skipped != NULL)
		*skipped = false;
	shown = ku_printable(up->remote_path ? up->remote_path : "?");
	op = xasprintf(_("upload %s"), shown);
	free(shown);
	memset(&src, 0, sizeof src);
	src.fd = -1;

	if (!ku_valid_remote_path(up->remote_path)) {
		rc = ku_report(c, KU_ERR_INVALID, op, xstrdup(_("not an "
		    "absolute path without \".\" and \"..\" components and "
		    "control characters")), err);
		goto done;
	}
	if ((up->mode & ~(mode_t)07777) != 0) {
		rc = ku_report(c, KU_ERR_INVALID, op, xasprintf(_("invalid "
		    "mode 0%o"), (unsigned)up->mode), err);
		goto done;
	}
	if (up->sha256_hex != NULL && (strlen(up->sha256_hex) != 64 ||
	    strspn(up->sha256_hex, "0123456789abcdef") != 64)) {
		rc = ku_report(c, KU_ERR_INVALID, op, xstrdup(_("the given "
		    "SHA-256 is not 64 lowercase hex digits")), err);
		goto done;
	}
	if (up->local_path != NULL) {
		src.fd = open(up->local_path, O_RDONLY | O_CLOEXEC);
		if (src.fd < 0 || fstat(src.fd, &st) != 0) {
			rc = ku_report(c, KU_ERR_IO, op, xasprintf(_("cannot "
			    "read %s: %s"), up->local_path, strerror(errno)),
			    err);
			goto done;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = ku_report(c, KU_ERR_IO, op, xasprintf(_("cannot "
			    "read %s: %s"), up->local_path,
			    _("not a regular file")), err);
			goto done;
		}
		if (up->sha256_hex != NULL)
			memcpy(hash, up->sha256_hex, 65);
		else if (ku_sha256_file(up->local_path, hash) != KU_OK) {
			rc = ku_report(c, KU_ERR_IO, op, xasprintf(_("cannot "
			    "read %s: %s"), up->local_path, strerror(errno)),
			    err);
			goto done;
		}
		src.buf = xmalloc(KU_SSH_SFTP_WINDOW);
	} else {
		src.mem = up->data;
		src.mem_len = up->len;
		if (up->sha256_hex != NULL)
			memcpy(hash, up->sha256_hex, 65);
		else
			ku_sha256_hex(up->data ? up->data : "", up->len, hash);
	}
	src.md = EVP_MD_CTX_new();
	if (src.md == NULL || EVP_DigestInit_ex(src.md, EVP_sha256(),
	    NULL) != 1) {
		rc = ku_report(c, KU_ERR_NOMEM, op, NULL, err);
		goto done;
	}

	pthread_mutex_lock(&c->mu);
	deadline = ku_deadline_s(secs);
	rc = ku_conn_ensure(c, &why);
	if (rc != KU_OK) {
		rc = ku_report_connect(c, rc, why, err);
	} else {
		rc = ku_upload_locked(c, up, &src, hash, deadline, secs, &skip,
		    &why);
		if (rc != KU_OK)
			ku_report(c, rc, op, why, err);
	}
	pthread_mutex_unlock(&c->mu);
	if (skipped != NULL)
		*skipped = rc == KU_OK && skip;
done:
	if (src.fd >= 0)
		close(src.fd);
	free(src.buf);
	EVP_MD_CTX_free(src.md);
	free(op);
	return rc;
}

ku_rc
ku_ssh_upload_file(struct ku_ssh_conn *c, const char *local_path,
    const char *remote_path, mode_t mode, bool *skipped, char **err)
{
	struct ku_ssh_upload up = {
		.remote_path = remote_path,
		.mode = mode,
		.local_path = local_path,
	};

	return ku_ssh_upload(c, &up, skipped, err);
}

ku_rc
ku_ssh_upload_mem(struct ku_ssh_conn *c, const void *data, size_t len,
    const char *remote_path, mode_t mode, bool *skipped, char **err)
{
	struct ku_ssh_upload up = {
		.remote_path = remote_path,
		.mode = mode,
		.data = data,
		.len = len,
	};

	return ku_ssh_upload(c, &up, skipped, err);
}
