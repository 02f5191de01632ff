/* The SSH transport, on libssh2: one session per machine, kept for a whole
 * run and shared by every substep that reaches that machine.
 *
 * Nothing of libssh2 leaves ssh.c: no LIBSSH2_* type, constant or error
 * code. Functions return kubeup's codes:
 *   KU_ERR_CONNECT  no TCP connection, the handshake failed, or the
 *                   connection was lost (the next call reconnects);
 *   KU_ERR_TIMEOUT  the connect or command timeout passed;
 *   KU_ERR_HOSTKEY  the host key is unknown (policy strict) or changed;
 *   KU_ERR_AUTH     no key was accepted, or sudo refused;
 *   KU_ERR_REMOTE   a remote step of an upload failed;
 *   KU_ERR_IO       a local file could not be read or written;
 *   KU_ERR_INVALID  a remote path or mode kubeup must not use;
 *   KU_ERR_CHECKSUM a file changed while it was being sent.
 * With every failure comes a readable message, *err (caller frees; err may
 * be NULL), naming the machine and the operation:
 *   "node-1 (10.0.0.11:22): upload /etc/kubernetes/pki/ca.crt: permission
 *    denied".
 *
 * Threads: a connection may be used from any thread, one operation at a
 * time: every call takes the connection's mutex for its whole length, so
 * calls from several threads queue. Different connections never share
 * state, so the engine's workers drive many machines in parallel.
 *
 * Nothing hangs: every wait polls the socket with a deadline (the connect
 * timeout while connecting, the command timeout for an exec or an upload,
 * counted from when the call has the connection). Keepalives are sent
 * while a call waits; between calls nothing runs. A connection lost
 * between calls, or one that does not answer within the connect timeout
 * when a call starts (nothing has run yet), is replaced by a new one
 * (host key checked again); a connection lost during a call fails that
 * call with KU_ERR_CONNECT and is replaced at the next.
 */
#ifndef KU_SSH_H
#define KU_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "log.h"
#include "provider.h"   /* struct ku_exec_result */
#include "spec.h"       /* enum ku_hostkey_policy */

/* Where to connect and as whom. Strings are borrowed for the call. */
struct ku_ssh_endpoint {
	const char *name;      /* in messages, "node-1"; NULL: the address */
	const char *address;   /* IPv4 or IPv6 literal, or a host name */
	int port;              /* <= 0: 22 */
	const char *user;      /* NULL: "root" */
	/* A private key file (ed25519 or ECDSA; the public key is read from
	 * key_file.pub when it exists). NULL: ssh-agent only. When the key
	 * is refused or unusable, ssh-agent is tried too. */
	const char *key_file;
};

struct ku_ssh_opts {
	struct ku_ssh_endpoint target;
	/* A jump host (bastion): connect to it first and reach the target
	 * through it. NULL: connect directly. */
	const struct ku_ssh_endpoint *jump;
	/* OpenSSH's known_hosts format; plain, hashed (|1|...) and
	 * [host]:port entries. Required. Used for the jump host too. */
	const char *known_hosts;
	/* strict: an unknown (KU_ERR_HOSTKEY_UNKNOWN) or changed
	 * (KU_ERR_HOSTKEY) key is refused. accept-new: an unknown key is
	 * appended (the file made 0600, its folder 0700); a changed one is
	 * refused. */
	enum ku_hostkey_policy host_key_policy;
	/* With accept-new: the only unknown key to append (the target's or
	 * the jump host's), by its "SHA256:..." fingerprint: the one an
	 * operator was shown and accepted. Another unknown key is refused.
	 * NULL: any. Copied. */
	const char *accept_fingerprint;
	int connect_timeout;   /* seconds; <= 0: 10 */
	int command_timeout;   /* seconds, when a call passes 0; <= 0: 600 */
	int keepalive;         /* seconds between keepalives; <= 0: none */
	/* Privileged operations (KU_SSH_PRIVILEGED, every upload) go through
	 * sudo: "sudo -n" without a password; with one, "sudo -S" and the
	 * password on the script's standard input, never on a command line,
	 * in a log or in a message. Set it when the user is not root. */
	bool sudo;
	const char *sudo_password;   /* NULL: none. Copied; wiped at close */
	/* ssh-agent's socket. NULL: $SSH_AUTH_SOCK; "": no agent. */
	const char *agent_socket;
	/* The conversation, without secrets (the sudo password is also
	 * registered with ku_log_add_secret()). May be NULL. */
	struct ku_log *log;
	/* For tests only: the sudo program to run instead of "sudo" (a
	 * stand-in that records how it was called). NULL: "sudo". */
	const char *sudo_program;
};

/* One machine's session. Opaque. */
struct ku_ssh_conn;

/* Connects, verifies the host key and authenticates, within
 * connect_timeout (each of the jump host and the target). */
ku_rc ku_ssh_connect(const struct ku_ssh_opts *opts,
    struct ku_ssh_conn **out, char **err);
/* A TCP connection to opts->target's address and port made by the jump
 * host (opts->jump, required), as for a machine's SSH, without an SSH
 * session of its own, for a service of the machines that kubeup's machine
 * cannot reach (the apiserver). The jump host connects before this
 * returns; then the tunnel accepts, on listen_fd (a listening TCP socket
 * on 127.0.0.1, taken whatever happens), the one connection that comes
 * from 127.0.0.1 port client_port within the connect timeout (any other
 * is closed), and carries its bytes in a direct-tcpip channel. So a
 * client that must connect by itself (libcurl) can: bind its socket to
 * 127.0.0.1 first, then connect to listen_fd's address. After the client
 * closed its socket: ku_ssh_close(*tunnel). */
ku_rc ku_ssh_tunnel(const struct ku_ssh_opts *opts, int listen_fd,
    int client_port, struct ku_ssh_conn **tunnel, char **err);
/* Says goodbye (briefly: a dead peer costs at most a second or two) and
 * frees everything. No other call may be running on conn, or follow.
 * NULL is a no-op. */
void ku_ssh_close(struct ku_ssh_conn *conn);
/* "node-1 (10.0.0.11:22)": how messages name the machine. */
const char *ku_ssh_label(const struct ku_ssh_conn *conn);

/* Runs privileged: as root (the user root, or through sudo). */
#define KU_SSH_PRIVILEGED 0x1u

/* Runs a script with /bin/sh on the machine. The script travels on the
 * channel's standard input to "/bin/sh -s" and never appears on a command
 * line; the shell reads all of it before running any of it (so a
 * truncated script never runs half), and the commands' standard input is
 * /dev/null. PATH includes the sbin folders.
 *
 * Standard output and error go to res->out and res->err (bounded by the
 * caller's ku_buf_init; the rest is read and dropped, `truncated` set),
 * and the exit status to res->exit_status (128 + signal number when the
 * shell was killed). A script that exits non-zero is still KU_OK: the
 * caller judges the status. timeout_s <= 0: the command timeout. Past it,
 * the channel is closed and KU_ERR_TIMEOUT returned (the remote process
 * may keep running: SSH 2 cannot kill it through libssh2 1.10). */
ku_rc ku_ssh_exec(struct ku_ssh_conn *conn, const char *script,
    unsigned flags, int timeout_s, struct ku_exec_result *res, char **err);

/* Places a file on the machine, owned by root:root with the given mode,
 * replacing any file there in one rename (a reader sees the old or the new
 * contents). When the remote file already has these contents (SHA-256),
 * this mode and owner, nothing is sent and *skipped is set.
 *
 * How: one remote command reads the remote file's state; the contents go
 * by SFTP (large pipelined writes) to a temporary file, next to the
 * destination without sudo (the user is root), or in a private folder
 * under /tmp (mode 0700, made once per session) with sudo; one remote
 * command then checks the copy's SHA-256, makes the folder (mkdir -p),
 * and puts the file in place with its mode and owner. */
struct ku_ssh_upload {
	const char *remote_path;   /* ku_valid_remote_path() */
	mode_t mode;               /* 0 .. 07777 */
	/* The contents: a local file, or memory (rendered files). */
	const char *local_path;    /* NULL: data and len */
	const void *data;
	size_t len;
	/* The contents' SHA-256 in hex when the caller knows it already (one
	 * binary hashed once for fifty machines); NULL: computed. What is
	 * sent is hashed as it goes, and a file that changed meanwhile is
	 * refused with KU_ERR_CHECKSUM. */
	const char *sha256_hex;
	int timeout_s;             /* <= 0: the command timeout */
};

ku_rc ku_ssh_upload(struct ku_ssh_conn *conn, const struct ku_ssh_upload *up,
    bool *skipped, char **err);
/* Shorthands of ku_ssh_upload(). skipped may be NULL. */
ku_rc ku_ssh_upload_file(struct ku_ssh_conn *conn, const char *local_path,
    const char *remote_path, mode_t mode, bool *skipped, char **err);
ku_rc ku_ssh_upload_mem(struct ku_ssh_conn *conn, const void *data,
    size_t len, const char *remote_path, mode_t mode, bool *skipped,
    char **err);


/* Checks a private key file before anything connects: KU_OK when this
 * build can use it; KU_ERR_AUTH, with the reason, for an RSA or DSA key
 * (libssh2 before 1.11 signs only with ssh-rsa/SHA-1, which OpenSSH 8.8
 * and newer refuse: use ed25519 or ECDSA) or a passphrase-protected one
 * (load it into ssh-agent instead); KU_ERR_IO when it cannot be read. */
ku_rc ku_ssh_check_key_file(const char *path, char **err);

/* The SHA-256 fingerprint of a public key blob as OpenSSH shows it:
 * "SHA256:" and base64 without padding. Caller frees. */
char *ku_ssh_fingerprint(const void *blob, size_t len);

#endif
