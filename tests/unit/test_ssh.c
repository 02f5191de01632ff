/* Unit tests of src/ssh.c against real OpenSSH servers.
 *
 * Each sshd runs unprivileged-friendly on 127.0.0.1 and a free port, from
 * its own folder under a mkdtemp one: its config, an ed25519 host key made
 * with ssh-keygen, AuthorizedKeysFile in the folder, UsePAM no, StrictModes
 * no, its pid file, and "-D -e" with its log in a file that is printed when
 * a test fails. The tests log in as whoever runs them (root in CI).
 *
 * Every wait has a deadline; the whole binary has a watchdog.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libssh2.h>   /* LIBSSH2_VERSION_NUM only */
#include <openssl/evp.h>

#include "testlib.h"
#include "log.h"
#include "shell.h"
#include "ssh.h"

#ifndef SSHD_PATH
#define SSHD_PATH "/usr/sbin/sshd"
#endif
#ifndef SSH_KEYGEN_PATH
#define SSH_KEYGEN_PATH "/usr/bin/ssh-keygen"
#endif

/* --- running programs --- */

/* Runs sh -c cmd; its output (stdout and stderr) in *out when out is not
 * NULL. Returns the exit status, or -1. */
static int
run_sh(const char *cmd, char **out)
{
	int pfd[2], status = 0;
	pid_t pid;
	struct ku_buf b;
	char chunk[4096];
	ssize_t n;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	ku_buf_init(&b, 0);
	while ((n = read(pfd[0], chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		ku_buf_add(&b, chunk, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		*out = ku_buf_steal(&b);
	else
		ku_buf_free(&b);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs a command that must succeed. */
static void
must_sh(const char *cmd)
{
	char *out = NULL;
	int st = run_sh(cmd, &out);

	if (st != 0)
		fail_msg("`%s` exited %d: %s", cmd, st, out);
	free(out);
}

static char *
read_text(const char *path)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	if (ku_read_file(path, 0, &b) != KU_OK) {
		ku_buf_free(&b);
		return NULL;
	}
	return ku_buf_steal(&b);
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(ku_write_file_atomic(path, text, strlen(text), mode),
	    KU_OK);
}

static bool
file_contains(const char *path, const char *needle)
{
	struct ku_buf b;
	bool hit;

	ku_buf_init(&b, 0);
	if (ku_read_file(path, 0, &b) != KU_OK || b.data == NULL) {
		ku_buf_free(&b);
		return false;
	}
	hit = memmem(b.data, b.len, needle, strlen(needle)) != NULL;
	ku_buf_free(&b);
	return hit;
}

/* --- ports --- */

/* A socket bound to 127.0.0.1, any port (in *port); listening when
 * backlog >= 0. */
static int
listener(int backlog, int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int
free_port(void)
{
	int port;

	close(listener(-1, &port));
	return port;
}

/* --- sshd --- */

struct sshd {
	pid_t pid;
	int port;
	char *dir;
	char *config;
	char *log;
	char *hostkey;      /* private; .pub next to it */
};

struct world {
	char *dir;
	char *user;
	char *key;              /* the client's ed25519 key, authorized */
	char *authorized_keys;
	struct sshd a;          /* the main server */
};

static struct world W;

static void
sshd_write_config(struct sshd *d)
{
	char *cfg = xasprintf(
	    "Port %d\n"
	    "ListenAddress 127.0.0.1\n"
	    "HostKey %s\n"
	    "PidFile %s/sshd.pid\n"
	    "AuthorizedKeysFile %s\n"
	    "UsePAM no\n"
	    "StrictModes no\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "PubkeyAuthentication yes\n"
	    "PermitRootLogin yes\n"
	    "AllowTcpForwarding yes\n"
	    "UseDNS no\n"
	    "PrintMotd no\n"
	    "MaxStartups 100\n"
	    "MaxAuthTries 20\n"
	    "MaxSessions 50\n"
	    "LogLevel DEBUG1\n"
	    /* bash sources ~/.bashrc for sshd's commands unless SHLVL says
	     * it is not a top-level shell: the tests must not run (or wait
	     * on) the account's rc files. */
	    "SetEnv SHLVL=1\n"
	    "Subsystem sftp internal-sftp\n",
	    d->port, d->hostkey, d->dir, W.authorized_keys);
	write_text(d->config, cfg, 0600);
	free(cfg);
}

static void
sshd_keygen(struct sshd *d)
{
	char *q = ku_sh_quote(d->hostkey);
	char *cmd = xasprintf("rm -f %s %s.pub && %s -q -t ed25519 -N '' "
	    "-C test-host -f %s", q, q, SSH_KEYGEN_PATH, q);

	must_sh(cmd);
	free(cmd);
	free(q);
}

/* Starts an sshd from its folder (made with a new host key the first
 * time). port 0: a free one. */
static void
sshd_start(struct sshd *d, const char *name, int port)
{
	if (d->dir == NULL) {
		d->dir = xasprintf("%s/sshd-%s", W.dir, name);
		assert_int_equal(ku_mkdir_p(d->dir, 0700), KU_OK);
		d->config = xasprintf("%s/sshd_config", d->dir);
		d->log = xasprintf("%s/sshd.log", d->dir);
		d->hostkey = xasprintf("%s/host_ed25519", d->dir);
		sshd_keygen(d);
	}
	if (geteuid() == 0)
		(void)mkdir("/run/sshd", 0755);

	for (int attempt = 0; attempt < 5; attempt++) {
		uint64_t deadline = ku_now_ms() + TL_DEADLINE_S * 1000;
		int status;

		d->port = port ? port : free_port();
		sshd_write_config(d);
		d->pid = fork();
		assert_true(d->pid >= 0);
		if (d->pid == 0) {
			int logfd = open(d->log, O_WRONLY | O_CREAT | O_APPEND,
			    0600);
			int devnull = open("/dev/null", O_RDONLY);
			setpgid(0, 0);   /* its connections die with it */
			dup2(devnull, 0);
			dup2(logfd, 1);
			dup2(logfd, 2);
			/* -E: the log goes to its own descriptor, so that a
			 * session's debug lines do not land in its stderr. */
			execl(SSHD_PATH, SSHD_PATH, "-D", "-e", "-E", d->log,
			    "-f", d->config, (char *)NULL);
			_exit(127);
		}
		setpgid(d->pid, d->pid);
		while (ku_now_ms() < deadline) {
			if (tl_port_open(d->port))
				return;
			if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
				d->pid = 0;
				break;   /* died: the port was taken? */
			}
			tl_sleep_ms(10);
		}
		if (d->pid > 0)
			fail_msg("sshd on port %d did not listen within %d s",
			    d->port, TL_DEADLINE_S);
		if (port)
			tl_sleep_ms(100);   /* a fixed port: let it go */
	}
	{
		char *log = read_text(d->log);
		fail_msg("sshd would not start: %s", log ? log : "(no log)");
	}
}

/* SIGKILL to pid and all its descendants (sshd's connection processes
 * start sessions of their own, so a process group does not reach them). */
static void
kill_tree(pid_t root)
{
	enum { MAXP = 8192 };
	pid_t *pids = xcalloc(MAXP, sizeof *pids);
	pid_t *ppids = xcalloc(MAXP, sizeof *ppids);
	pid_t *queue = xcalloc(MAXP, sizeof *queue);
	size_t n = 0, head = 0, tail = 0;
	DIR *dir = opendir("/proc");
	struct dirent *e;

	while (dir != NULL && (e = readdir(dir)) != NULL && n < MAXP) {
		char path[300], buf[512], *rp;
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (rp = strrchr(buf, ')')) != NULL) {
			int ppid = 0;
			if (sscanf(rp + 1, " %*c %d", &ppid) == 1) {
				pids[n] = (pid_t)atoi(e->d_name);
				ppids[n] = (pid_t)ppid;
				n++;
			}
		}
		fclose(f);
	}
	if (dir != NULL)
		closedir(dir);
	queue[tail++] = root;
	while (head < tail) {
		pid_t p = queue[head++];
		for (size_t i = 0; i < n; i++)
			if (ppids[i] == p && tail < MAXP)
				queue[tail++] = pids[i];
		kill(p, SIGKILL);
	}
	free(pids);
	free(ppids);
	free(queue);
}

/* Stops an sshd and every connection it serves. */
static void
sshd_stop(struct sshd *d)
{
	uint64_t deadline;
	int status;

	if (d->pid <= 0)
		return;
	kill_tree(d->pid);
	deadline = ku_now_ms() + TL_DEADLINE_S * 1000;
	while (waitpid(d->pid, &status, WNOHANG) == 0 &&
	    ku_now_ms() < deadline)
		tl_sleep_ms(5);
	d->pid = 0;
	/* The port is free again once connecting is refused. */
	while (tl_port_open(d->port) && ku_now_ms() < deadline)
		tl_sleep_ms(5);
}

static void
sshd_free(struct sshd *d)
{
	sshd_stop(d);
	free(d->dir);
	free(d->config);
	free(d->log);
	free(d->hostkey);
	memset(d, 0, sizeof *d);
}

/* "[127.0.0.1]:PORT ssh-ed25519 AAAA... comment" */
static char *
sshd_known_line(const struct sshd *d)
{
	char *pub = xasprintf("%s.pub", d->hostkey);
	char *text = read_text(pub), *line;

	assert_non_null(text);
	line = xasprintf("[127.0.0.1]:%d %s", d->port, text);
	free(text);
	free(pub);
	return line;
}

/* The fingerprint ssh-keygen shows for the host key. */
static char *
sshd_fingerprint(const struct sshd *d)
{
	char *q = xasprintf("%s.pub", d->hostkey);
	char *qq = ku_sh_quote(q);
	char *cmd = xasprintf("%s -lf %s", SSH_KEYGEN_PATH, qq);
	char *out = NULL, *fp, *sp;

	assert_int_equal(run_sh(cmd, &out), 0);
	/* "256 SHA256:xxxx test-host (ED25519)" */
	sp = strchr(out, ' ');
	assert_non_null(sp);
	fp = xstrndup(sp + 1, strcspn(sp + 1, " \n"));
	assert_true(ku_str_has_prefix(fp, "SHA256:"));
	free(out);
	free(cmd);
	free(qq);
	free(q);
	return fp;
}

static void
print_file(const char *title, const char *path)
{
	char *text = path ? read_text(path) : NULL;

	printf("# --- %s (%s) ---\n", title, path ? path : "-");
	if (text != NULL) {
		for (char *line = text, *nl; line && *line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			printf("# %s\n", line);
		}
	}
	free(text);
}

/* --- per test --- */

#define T_MAX_EXTRA 4

struct t {
	char *dir;
	char *known_hosts;      /* trusts W.a */
	char *logpath;
	struct ku_log *log;
	struct sshd *extra[T_MAX_EXTRA];   /* more servers, stopped after */
	size_t n_extra;
	bool passed;
};

static struct sshd *
t_sshd(struct t *t, const char *name)
{
	struct sshd *d = xcalloc(1, sizeof *d);

	assert_true(t->n_extra < T_MAX_EXTRA);
	t->extra[t->n_extra++] = d;
	sshd_start(d, name, 0);
	return d;
}

static int
t_setup(void **state)
{
	static int n;
	struct t *t = xcalloc(1, sizeof *t);
	char *line;

	t->dir = xasprintf("%s/t%d", W.dir, ++n);
	if (ku_mkdir_p(t->dir, 0700) != KU_OK)
		return -1;
	t->known_hosts = xasprintf("%s/known_hosts", t->dir);
	line = sshd_known_line(&W.a);
	write_text(t->known_hosts, line, 0600);
	free(line);
	t->logpath = xasprintf("%s/kubeup.log", t->dir);
	if (ku_log_open(t->logpath, &t->log) != KU_OK)
		return -1;
	*state = t;
	return 0;
}

static int
t_teardown(void **state)
{
	struct t *t = *state;

	if (!t->passed) {
		print_file("sshd log", W.a.log);
		for (size_t i = 0; i < t->n_extra; i++)
			print_file("sshd log (extra)", t->extra[i]->log);
		print_file("kubeup log", t->logpath);
	}
	for (size_t i = 0; i < t->n_extra; i++) {
		sshd_free(t->extra[i]);
		free(t->extra[i]);
	}
	ku_log_close(t->log);
	free(t->dir);
	free(t->known_hosts);
	free(t->logpath);
	free(t);
	return 0;
}

/* Options for W.a as W.user with W.key, trusting t->known_hosts. */
static struct ku_ssh_opts
t_opts(struct t *t, const struct sshd *d)
{
	struct ku_ssh_opts o;

	memset(&o, 0, sizeof o);
	o.target.name = "node-1";
	o.target.address = "127.0.0.1";
	o.target.port = d->port;
	o.target.user = W.user;
	o.target.key_file = W.key;
	o.known_hosts = t->known_hosts;
	o.host_key_policy = KU_HOSTKEY_STRICT;
	o.connect_timeout = 10;
	o.command_timeout = 30;
	o.agent_socket = "";   /* deterministic: no agent unless asked */
	o.log = t->log;
	return o;
}

static struct ku_ssh_conn *
t_connect(struct t *t, const struct ku_ssh_opts *o)
{
	struct ku_ssh_conn *c = NULL;
	char *err = NULL;
	ku_rc rc = ku_ssh_connect(o, &c, &err);

	if (rc != KU_OK)
		fail_msg("connect: %s: %s", ku_error_id(rc), err);
	(void)t;
	return c;
}

static void
exec_result_init(struct ku_exec_result *r, size_t max)
{
	r->exit_status = -1;
	ku_buf_init(&r->out, max);
	ku_buf_init(&r->err, max);
}

/* Runs a script that must succeed (KU_OK); returns its stdout (caller
 * frees) and sets *status. */
static char *
t_run(struct ku_ssh_conn *c, const char *script, unsigned flags, int *status)
{
	struct ku_exec_result r;
	char *err = NULL;
	ku_rc rc;

	exec_result_init(&r, 0);
	rc = ku_ssh_exec(c, script, flags, 0, &r, &err);
	if (rc != KU_OK)
		fail_msg("exec: %s: %s", ku_error_id(rc), err);
	if (status != NULL)
		*status = r.exit_status;
	ku_buf_free(&r.err);
	return ku_buf_steal(&r.out);
}

/* --- group --- */

static int
group_setup(void **state)
{
	struct passwd *pw = getpwuid(geteuid());
	char *q, *cmd;

	(void)state;
	if (access(SSHD_PATH, X_OK) != 0 ||
	    access(SSH_KEYGEN_PATH, X_OK) != 0) {
		printf("# sshd or ssh-keygen missing: %s %s\n", SSHD_PATH,
		    SSH_KEYGEN_PATH);
		return -1;
	}
	memset(&W, 0, sizeof W);
	W.dir = tl_mkdtemp("ssh");
	W.user = xstrdup(pw ? pw->pw_name : "root");
	W.key = xasprintf("%s/id_ed25519", W.dir);
	W.authorized_keys = xasprintf("%s/authorized_keys", W.dir);
	q = ku_sh_quote(W.key);
	cmd = xasprintf("%s -q -t ed25519 -N '' -C kubeup-test -f %s && "
	    "cp %s.pub %s", SSH_KEYGEN_PATH, q, q, W.authorized_keys);
	must_sh(cmd);
	free(cmd);
	free(q);
	sshd_start(&W.a, "a", 0);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sshd_free(&W.a);
	if (getenv("KU_TEST_KEEP") == NULL)   /* keep it to look around */
		tl_rmtree(W.dir);
	else
		printf("# kept %s\n", W.dir);
	free(W.dir);
	free(W.user);
	free(W.key);
	free(W.authorized_keys);
	return 0;
}

/* ==================================================================== */

static void
test_exec_basic(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = t_connect(t, &o);
	struct ku_exec_result r;
	char *err = NULL, *out;
	int status;

	{
		char *label = xasprintf("node-1 (127.0.0.1:%d)", W.a.port);
		assert_string_equal(ku_ssh_label(c), label);
		free(label);
	}

	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo hello; echo oops >&2; exit 3",
	    0, 10, &r, &err), KU_OK);
	assert_string_equal(r.out.data, "hello\n");
	assert_string_equal(r.err.data, "oops\n");
	assert_int_equal(r.exit_status, 3);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);

	/* Both streams end a second before the process does: the exit
	 * status and the machine's close come later, and are waited for. */
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo early; exec >/dev/null 2>&1; "
	    "sleep 1; exit 4", 0, 10, &r, &err), KU_OK);
	assert_string_equal(r.out.data, "early\n");
	assert_int_equal(r.exit_status, 4);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);

	/* The script is read from standard input by "/bin/sh -s": it is
	 * not on the shell's command line. */
	out = t_run(c, "tr '\\0' ' ' < /proc/$$/cmdline", 0, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "/bin/sh -s ");
	free(out);

	/* The script's commands read /dev/null, not the rest of the
	 * script. */
	out = t_run(c, "read x; echo \"got:[$x]\"\necho second", 0, &status);
	assert_string_equal(out, "got:[]\nsecond\n");
	free(out);

	/* Empty, no final newline, killed by a signal, heredoc. */
	out = t_run(c, "", 0, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "");
	free(out);
	out = t_run(c, "printf %s no-newline", 0, &status);
	assert_string_equal(out, "no-newline");
	free(out);
	out = t_run(c, "kill -TERM $$", 0, &status);
	assert_int_equal(status, 128 + SIGTERM);
	free(out);
	out = t_run(c, "cat <<'EOF'\n$(not run)\nEOF\n", 0, &status);
	assert_string_equal(out, "$(not run)\n");
	free(out);

	/* A syntax error runs nothing of the script. */
	out = t_run(c, "echo before\nif then fi\n", 0, &status);
	assert_string_equal(out, "");
	assert_int_not_equal(status, 0);
	free(out);

	/* The sbin folders are on PATH. */
	out = t_run(c, "echo \"$PATH\"", 0, &status);
	assert_non_null(strstr(out, "/usr/sbin"));
	free(out);

	ku_ssh_close(c);
	ku_ssh_close(NULL);
	assert_true(file_contains(t->logpath, "ssh: connected"));
	t->passed = true;
}

/* Every hostile string reaches a remote command as one argument. */
static void
test_exec_hostile_args(void **state)
{
	static const char *const hostile[] = {
		"", "$(touch /tmp/kubeup-pwned)", "`id`", ";rm -rf /",
		"' ; echo injected '", "\"", "\\", "a\nb", "$HOME", "*", "~",
		"#x", "-n", "é 日本", "\x01\x7f", "%s%n",
	};
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = t_connect(t, &o);

	for (size_t i = 0; i < KU_ARRAY_LEN(hostile); i++) {
		struct ku_buf b;
		char *out;
		int status;

		ku_buf_init(&b, 0);
		ku_script_cmd(&b, "printf", "[%s]", hostile[i], NULL);
		out = t_run(c, b.data, 0, &status);
		assert_int_equal(status, 0);
		{
			char *want = xasprintf("[%s]", hostile[i]);
			assert_string_equal(out, want);
			free(want);
		}
		free(out);
		ku_buf_free(&b);
	}
	assert_false(ku_path_exists("/tmp/kubeup-pwned"));
	ku_ssh_close(c);
	t->passed = true;
}

static void
test_exec_large_output(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = t_connect(t, &o);
	struct ku_exec_result r;
	char *err = NULL;
	uint64_t t0;
	struct ku_buf want, script;

	/* 4 MiB on each stream, kept to 64 KiB; the command still ends. */
	exec_result_init(&r, 65536);
	t0 = ku_now_ms();
	assert_int_equal(ku_ssh_exec(c,
	    "head -c 4194304 /dev/zero | tr '\\0' x\n"
	    "head -c 4194304 /dev/zero | tr '\\0' e >&2\n"
	    "echo end >&2\n"
	    "exit 7\n", 0, 30, &r, &err), KU_OK);
	assert_int_equal(r.exit_status, 7);
	assert_int_equal(r.out.len, 65536);
	assert_true(r.out.truncated);
	assert_int_equal(r.err.len, 65536);
	assert_true(r.err.truncated);
	assert_int_equal(r.out.data[65535], 'x');
	assert_int_equal(r.out.data[65536], '\0');
	assert_true(ku_now_ms() - t0 < 20000);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);

	/* Unbounded, every byte arrives in order. */
	ku_buf_init(&want, 0);
	for (int i = 1; i <= 100000; i++)
		ku_buf_printf(&want, "%d\n", i);
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "seq 1 100000", 0, 30, &r, &err),
	    KU_OK);
	assert_int_equal(r.out.len, want.len);
	assert_memory_equal(r.out.data, want.data, want.len);
	assert_false(r.out.truncated);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	ku_buf_free(&want);

	/* A script larger than the channel's window (2 MiB) goes through. */
	ku_buf_init(&script, 0);
	for (int i = 0; i < 60000; i++)
		ku_buf_printf(&script, "# padding line %06d of a long "
		    "script, to fill the window\n", i);
	ku_buf_adds(&script, "echo tail-ran\n");
	assert_true(script.len > 3 * 1024 * 1024);
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, script.data, 0, 30, &r, &err), KU_OK);
	assert_string_equal(r.out.data, "tail-ran\n");
	assert_int_equal(r.exit_status, 0);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	ku_buf_free(&script);

	ku_ssh_close(c);
	t->passed = true;
}

static void
test_exec_timeout(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = t_connect(t, &o);
	struct ku_exec_result r;
	char *err = NULL, *out;
	uint64_t t0, ms;
	int status;

	exec_result_init(&r, 0);
	t0 = ku_now_ms();
	assert_int_equal(ku_ssh_exec(c, "echo started; sleep 30", 0, 1, &r,
	    &err), KU_ERR_TIMEOUT);
	ms = ku_now_ms() - t0;
	assert_true(ms >= 900);
	assert_true(ms < 4000);
	assert_non_null(err);
	assert_true(ku_str_has_prefix(err, ku_ssh_label(c)));
	assert_non_null(strstr(err, "timed out after 1 s"));
	free(err);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);

	/* The session is still good. */
	out = t_run(c, "echo after", 0, &status);
	assert_string_equal(out, "after\n");
	free(out);
	ku_ssh_close(c);
	t->passed = true;
}

static void
test_connect_refused(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL;
	uint64_t t0;
	int port = free_port();

	o.target.port = port;
	o.connect_timeout = 5;
	t0 = ku_now_ms();
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_CONNECT);
	assert_true(ku_now_ms() - t0 < 1000);
	assert_null(c);
	assert_non_null(err);
	{
		char *label = xasprintf("node-1 (127.0.0.1:%d)", port);
		assert_true(ku_str_has_prefix(err, label));
		free(label);
	}
	assert_non_null(strstr(err, "refused"));
	free(err);
	t->passed = true;
}

/* A server that accepts and never speaks: the handshake times out. */
static void
test_connect_silent_server(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL;
	uint64_t t0, ms;
	int port, fd = listener(16, &port);

	o.target.port = port;
	o.connect_timeout = 1;
	t0 = ku_now_ms();
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_TIMEOUT);
	ms = ku_now_ms() - t0;
	assert_true(ms >= 900);
	assert_true(ms < 3500);
	assert_non_null(strstr(err, "no SSH handshake within 1 s"));
	free(err);
	close(fd);
	t->passed = true;
}

/* A listener whose queue is full drops new SYNs: connect() itself must
 * time out. */
static void
test_connect_backlog_full(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL;
	uint64_t t0, ms;
	int port, fd = listener(0, &port), fillers[64], n = 0;
	bool stalled = false;
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	while (n < 64 && !stalled) {
		struct pollfd p;
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(s, (struct sockaddr *)&a, sizeof a);
		p.fd = s;
		p.events = POLLOUT;
		fillers[n++] = s;
		if (poll(&p, 1, 300) == 0)
			stalled = true;
	}
	if (!stalled) {
		for (int i = 0; i < n; i++)
			close(fillers[i]);
		close(fd);
		t->passed = true;
		skip();
	}
	o.target.port = port;
	o.connect_timeout = 1;
	t0 = ku_now_ms();
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_TIMEOUT);
	ms = ku_now_ms() - t0;
	assert_true(ms >= 900);
	assert_true(ms < 3500);
	assert_non_null(strstr(err, "connect: no answer within 1 s"));
	free(err);
	for (int i = 0; i < n; i++)
		close(fillers[i]);
	close(fd);
	t->passed = true;
}

static void
test_hostkey_strict_unknown(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL, *fp = sshd_fingerprint(&W.a);
	char *kh = xasprintf("%s/empty/known_hosts", t->dir);

	o.known_hosts = kh;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_HOSTKEY_UNKNOWN);
	assert_null(c);
	if (strstr(err, fp) == NULL)
		fail_msg("the message [%s] lacks ssh-keygen's fingerprint %s",
		    err, fp);
	assert_non_null(strstr(err, kh));
	assert_non_null(strstr(err, "unknown"));
	assert_false(ku_path_exists(kh));   /* strict writes nothing */
	free(err);

	/* ku_ssh_fingerprint() agrees with ssh-keygen on the raw blob. */
	{
		char *path = xasprintf("%s.pub", W.a.hostkey);
		char *pub = read_text(path);
		char *b64 = strchr(pub, ' ') + 1;
		unsigned char blob[512];
		size_t len;
		int n;
		char *mine;

		b64[strcspn(b64, " \n")] = '\0';
		len = strlen(b64);
		n = EVP_DecodeBlock(blob, (unsigned char *)b64, (int)len);
		assert_true(n > 0);
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
			n--;
		assert_int_equal(n, 51);   /* an ed25519 public key blob */
		mine = ku_ssh_fingerprint(blob, (size_t)n);
		assert_string_equal(mine, fp);
		free(mine);
		free(pub);
		free(path);
	}
	free(fp);
	free(kh);
	t->passed = true;
}

static void
test_hostkey_accept_new(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	char *kh = xasprintf("%s/new/sub/known_hosts", t->dir);
	char *kh2 = xasprintf("%s/existing_known_hosts", t->dir);
	char *q, *cmd, *out = NULL, *before, *after, *line;
	static const char junk[] =
	    "# a comment\n"
	    "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDqT5xBUP4bBPwF3fW6Q8bZk6kn8mGQ9jE0hXkX5s4eH\n"
	    "example.org sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIB\n"
	    "broken-line-without-key\n"
	    "10.9.9.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHyq0tHhYGNpd6kLlE9Yq9f1mK4dHq0X8cJv5sB2w1aZ";
	struct stat st;

	/* Accepting one fingerprint records only that key: another one is
	 * refused, and nothing is written. */
	{
		char *kh3 = xasprintf("%s/only-accepted/known_hosts", t->dir);
		char *err = NULL, *fp = sshd_fingerprint(&W.a);

		o.known_hosts = kh3;
		o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
		o.accept_fingerprint = "SHA256:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		c = NULL;
		assert_int_equal(ku_ssh_connect(&o, &c, &err),
		    KU_ERR_HOSTKEY);
		assert_null(c);
		if (strstr(err, "not the one accepted") == NULL ||
		    strstr(err, fp) == NULL)
			fail_msg("message [%s] lacks the refusal or %s", err,
			    fp);
		assert_false(ku_path_exists(kh3));
		free(err);
		/* the fingerprint shown is accepted */
		o.accept_fingerprint = fp;
		c = t_connect(t, &o);
		ku_ssh_close(c);
		o.accept_fingerprint = NULL;
		o.host_key_policy = KU_HOSTKEY_STRICT;
		c = t_connect(t, &o);
		ku_ssh_close(c);
		free(fp);
		free(kh3);
	}

	/* Folder and file are made, 0700 and 0600. */
	o.known_hosts = kh;
	o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
	c = t_connect(t, &o);
	ku_ssh_close(c);
	assert_int_equal(stat(kh, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	{
		char *dir = ku_dirname(kh);
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
		free(dir);
	}
	/* OpenSSH finds the entry as [127.0.0.1]:port. */
	q = ku_sh_quote(kh);
	cmd = xasprintf("%s -F '[127.0.0.1]:%d' -f %s", SSH_KEYGEN_PATH,
	    W.a.port, q);
	assert_int_equal(run_sh(cmd, &out), 0);
	line = sshd_known_line(&W.a);
	line[strlen(line) - strlen(" test-host\n")] = '\0';   /* no comment */
	if (strstr(out, line) == NULL)
		fail_msg("ssh-keygen -F printed [%s], not [%s]", out, line);
	free(out);
	free(cmd);
	free(q);

	/* Now strict accepts it. */
	o.host_key_policy = KU_HOSTKEY_STRICT;
	c = t_connect(t, &o);
	ku_ssh_close(c);

	/* An existing file keeps every line (even ones libssh2 cannot
	 * read), and gains one line after them. */
	write_text(kh2, junk, 0600);
	o.known_hosts = kh2;
	o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
	c = t_connect(t, &o);
	ku_ssh_close(c);
	before = xstrdup(junk);
	after = read_text(kh2);
	assert_true(ku_str_has_prefix(after, before));
	assert_int_equal(after[strlen(before)], '\n');
	{
		/* the same line as in the new file */
		char *fresh = read_text(kh);
		assert_string_equal(after + strlen(before) + 1, fresh);
		free(fresh);
	}
	/* A second accept-new adds nothing. */
	c = t_connect(t, &o);
	ku_ssh_close(c);
	{
		char *again = read_text(kh2);
		assert_string_equal(again, after);
		free(again);
	}
	free(before);
	free(after);
	free(line);
	free(kh);
	free(kh2);
	t->passed = true;
}

/* Hashed entries as ssh-keygen -H writes them, after lines libssh2 cannot
 * parse. */
static void
test_hostkey_hashed(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	char *line = sshd_known_line(&W.a);
	char *q = ku_sh_quote(t->known_hosts), *cmd, *hashed, *text;

	write_text(t->known_hosts, line, 0600);
	cmd = xasprintf("%s -H -f %s", SSH_KEYGEN_PATH, q);
	must_sh(cmd);
	hashed = read_text(t->known_hosts);
	assert_non_null(strstr(hashed, "|1|"));
	assert_null(strstr(hashed, "127.0.0.1"));
	/* Lines that libssh2 cannot parse come first. */
	text = xasprintf("@cert-authority *.example.com ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIDqT5xBUP4bBPwF3fW6Q8bZk6kn8mGQ9jE0hXkX5s4eH\n"
	    "garbage\n%s", hashed);
	write_text(t->known_hosts, text, 0600);
	c = t_connect(t, &o);
	ku_ssh_close(c);
	free(hashed);
	free(cmd);
	free(q);
	free(text);
	free(line);
	t->passed = true;
}

static void
test_hostkey_changed(void **state)
{
	struct t *t = *state;
	struct sshd *b = t_sshd(t, "changed");
	struct ku_ssh_opts o = t_opts(t, b);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL, *old_fp = sshd_fingerprint(b), *new_fp, *before,
	    *after;
	int port = b->port;

	o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
	c = t_connect(t, &o);
	ku_ssh_close(c);
	c = NULL;

	/* Reinstalled: a new host key on the same address and port. */
	sshd_stop(b);
	sshd_keygen(b);
	sshd_start(b, "changed", port);
	new_fp = sshd_fingerprint(b);
	assert_string_not_equal(old_fp, new_fp);
	before = read_text(t->known_hosts);

	for (int policy = 0; policy < 2; policy++) {
		o.host_key_policy = policy ? KU_HOSTKEY_ACCEPT_NEW :
		    KU_HOSTKEY_STRICT;
		assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_HOSTKEY);
		assert_null(c);
		if (strstr(err, "CHANGED") == NULL ||
		    strstr(err, new_fp) == NULL ||
		    strstr(err, t->known_hosts) == NULL ||
		    strstr(err, "reinstalled") == NULL)
			fail_msg("policy %d: message [%s] lacks CHANGED, %s "
			    "or %s", policy, err, new_fp, t->known_hosts);
		{
			char *label = xasprintf("the host key of node-1 "
			    "(127.0.0.1:%d) has CHANGED", port);
			assert_non_null(strstr(err, label));
			free(label);
		}
		free(err);
		err = NULL;
	}
	after = read_text(t->known_hosts);
	assert_string_equal(before, after);   /* nothing was replaced */
	free(before);
	free(after);
	free(old_fp);
	free(new_fp);
	t->passed = true;
}

static char *
t_keygen(struct t *t, const char *name, const char *args)
{
	char *path = xasprintf("%s/%s", t->dir, name);
	char *q = ku_sh_quote(path);
	char *cmd = xasprintf("%s -q %s -C test -f %s", SSH_KEYGEN_PATH, args,
	    q);

	must_sh(cmd);
	free(cmd);
	free(q);
	return path;
}

static void
test_auth_rsa_refused(void **state)
{
	struct t *t = *state;
#if LIBSSH2_VERSION_NUM >= 0x010b00
	t->passed = true;
	skip();   /* libssh2 1.11 signs with rsa-sha2: RSA keys work */
#else
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *keys[2];
	char *err = NULL;

	keys[0] = t_keygen(t, "id_rsa", "-t rsa -b 2048 -N ''");
	keys[1] = t_keygen(t, "id_rsa_pem", "-t rsa -b 2048 -m PEM -N ''");
	{
		char *pem = read_text(keys[1]);
		assert_non_null(strstr(pem, "BEGIN RSA PRIVATE KEY"));
		free(pem);
	}
	/* Authorized, so that only the refusal can make it fail. */
	for (int i = 0; i < 2; i++) {
		char *q = ku_sh_quote(keys[i]);
		char *qa = ku_sh_quote(W.authorized_keys);
		char *cmd = xasprintf("cat %s.pub >> %s", q, qa);
		must_sh(cmd);
		free(cmd);
		free(qa);
		free(q);
	}
	for (int i = 0; i < 2; i++) {
		o.target.key_file = keys[i];
		assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
		assert_null(c);
		if (strstr(err, "RSA") == NULL ||
		    strstr(err, "ssh-keygen -t ed25519") == NULL ||
		    strstr(err, keys[i]) == NULL)
			fail_msg("message: %s", err);
		free(err);
		err = NULL;
		assert_int_equal(ku_ssh_check_key_file(keys[i], &err),
		    KU_ERR_AUTH);
		assert_non_null(strstr(err, "ed25519"));
		free(err);
		err = NULL;
	}
	assert_int_equal(ku_ssh_check_key_file(W.key, &err), KU_OK);
	assert_null(err);
	free(keys[0]);
	free(keys[1]);
	t->passed = true;
#endif
}

static void
test_auth_failures(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = NULL;
	char *err = NULL;
	char *enc = t_keygen(t, "id_enc", "-t ed25519 -N 'a passphrase'");
	char *stranger = t_keygen(t, "id_stranger", "-t ed25519 -N ''");
	char *missing = xasprintf("%s/no-such-key", t->dir);

	/* Passphrase: load it into ssh-agent. */
	o.target.key_file = enc;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "passphrase"));
	assert_non_null(strstr(err, "ssh-add"));
	assert_non_null(strstr(err, W.user));
	free(err);
	err = NULL;
	assert_int_equal(ku_ssh_check_key_file(enc, &err), KU_ERR_AUTH);
	free(err);
	err = NULL;

	/* A key the server does not know. */
	o.target.key_file = stranger;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "did not accept the key"));
	free(err);
	err = NULL;

	/* No key file. */
	o.target.key_file = missing;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "cannot read the key"));
	free(err);
	err = NULL;
	assert_int_equal(ku_ssh_check_key_file(missing, &err), KU_ERR_IO);
	free(err);
	err = NULL;

	/* No key, no agent. */
	o.target.key_file = NULL;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "ssh-agent"));
	free(err);
	err = NULL;

	/* An ECDSA key works, and so does a key without its .pub next to it
	 * (the public key is derived from the private one). */
	{
		char *ec = t_keygen(t, "id_ecdsa", "-t ecdsa -b 256 -N ''");
		char *bare = xasprintf("%s/id_bare", t->dir);
		char *q = ku_sh_quote(ec), *qa = ku_sh_quote(W.authorized_keys);
		char *qk = ku_sh_quote(W.key), *qb = ku_sh_quote(bare);
		char *cmd = xasprintf("cat %s.pub >> %s && cp %s %s", q, qa, qk,
		    qb);
		must_sh(cmd);
		o.target.key_file = ec;
		ku_ssh_close(t_connect(t, &o));
		o.target.key_file = bare;
		ku_ssh_close(t_connect(t, &o));
		assert_int_equal(ku_ssh_check_key_file(ec, &err), KU_OK);
		free(cmd);
		free(q);
		free(qa);
		free(qk);
		free(qb);
		free(ec);
		free(bare);
		o.target.key_file = W.key;
	}

	/* Missing options. */
	o.known_hosts = NULL;
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_INVALID);
	free(err);

	free(enc);
	free(stranger);
	free(missing);
	t->passed = true;
}

static void
test_auth_agent(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	char *sock = xasprintf("%s/agent.sock", t->dir);
	char *enc = t_keygen(t, "id_enc", "-t ed25519 -N 'a passphrase'");
	char *qs = ku_sh_quote(sock), *qk = ku_sh_quote(W.key), *cmd, *out;
	uint64_t deadline = ku_now_ms() + TL_DEADLINE_S * 1000;
	pid_t agent;
	int status;

	agent = fork();
	assert_true(agent >= 0);
	if (agent == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock,
		    (char *)NULL);
		_exit(127);
	}
	while (!ku_path_exists(sock) && ku_now_ms() < deadline)
		tl_sleep_ms(10);
	assert_true(ku_path_exists(sock));
	cmd = xasprintf("SSH_AUTH_SOCK=%s ssh-add %s", qs, qk);
	must_sh(cmd);
	free(cmd);

	/* The agent alone. */
	o.target.key_file = NULL;
	o.agent_socket = sock;
	c = t_connect(t, &o);
	out = t_run(c, "echo via-agent", 0, &status);
	assert_string_equal(out, "via-agent\n");
	free(out);
	ku_ssh_close(c);
	assert_true(file_contains(t->logpath, "with ssh-agent's key"));

	/* The agent as a fallback for a key file that cannot be used. */
	o.target.key_file = enc;
	c = t_connect(t, &o);
	ku_ssh_close(c);

#if LIBSSH2_VERSION_NUM < 0x010b00
	/* An agent with only RSA keys: said so. */
	{
		char *rsa = t_keygen(t, "id_rsa", "-t rsa -b 2048 -N ''");
		char *qr = ku_sh_quote(rsa), *err = NULL;
		cmd = xasprintf("SSH_AUTH_SOCK=%s ssh-add -D && "
		    "SSH_AUTH_SOCK=%s ssh-add %s", qs, qs, qr);
		must_sh(cmd);
		free(cmd);
		o.target.key_file = NULL;
		c = NULL;
		assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_AUTH);
		if (strstr(err, "only RSA keys") == NULL)
			fail_msg("message: %s", err);
		free(err);
		free(qr);
		free(rsa);
	}
#endif

	kill(agent, SIGTERM);
	waitpid(agent, &status, 0);
	free(qs);
	free(qk);
	free(sock);
	free(enc);
	t->passed = true;
}

static bool
t_is_root(void)
{
	return geteuid() == 0;
}

static void
assert_file(const char *path, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	struct ku_buf b;

	if (stat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %04o, not %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	assert_int_equal(b.len, len);
	if (len)
		assert_memory_equal(b.data, data, len);
	ku_buf_free(&b);
}

/* Names in a folder, sorted, one per line. */
static char *
list_dir(const char *dir)
{
	char *q = ku_sh_quote(dir), *cmd = xasprintf("ls -A %s", q), *out;

	assert_int_equal(run_sh(cmd, &out), 0);
	free(cmd);
	free(q);
	return out;
}

static void
random_file(const char *path, size_t len, unsigned seed)
{
	unsigned char *p = xmalloc(len ? len : 1);

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	assert_int_equal(ku_write_file_atomic(path, p, len, 0600), KU_OK);
	free(p);
}

static void
test_upload(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o;
	struct ku_ssh_conn *c;
	char *local = xasprintf("%s/local.bin", t->dir);
	char *big = xasprintf("%s/big.bin", t->dir);
	char *dest_dir = xasprintf("%s/remote/etc/kubernetes/pki", t->dir);
	char *dest = xasprintf("%s/ca.crt", dest_dir);
	char *dest2 = xasprintf("%s/rendered.yaml", dest_dir);
	char *dest3 = xasprintf("%s/empty", dest_dir);
	char *dest4 = xasprintf("%s/big.bin", dest_dir);
	struct ku_buf b;
	char *err = NULL, *names;
	bool skipped = true;
	uint64_t t0;
	static const char rendered[] = "apiVersion: v1\nkind: Pod\n";

	if (!t_is_root()) {
		t->passed = true;
		skip();   /* placing files owned by root needs root */
	}
	o = t_opts(t, &W.a);
	c = t_connect(t, &o);
	random_file(local, 300000, 1);
	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(local, 0, &b), KU_OK);

	/* New: the folders are made, mode and owner set. */
	assert_int_equal(ku_ssh_upload_file(c, local, dest, 0640, &skipped,
	    &err), KU_OK);
	assert_false(skipped);
	assert_file(dest, b.data, b.len, 0640);
	{
		struct stat st;
		assert_int_equal(stat(dest_dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
	}

	/* Unchanged: skipped. */
	assert_int_equal(ku_ssh_upload_file(c, local, dest, 0640, &skipped,
	    &err), KU_OK);
	assert_true(skipped);

	/* Changed contents: sent again. */
	random_file(local, 300001, 2);
	ku_buf_reset(&b);
	assert_int_equal(ku_read_file(local, 0, &b), KU_OK);
	assert_int_equal(ku_ssh_upload_file(c, local, dest, 0640, &skipped,
	    &err), KU_OK);
	assert_false(skipped);
	assert_file(dest, b.data, b.len, 0640);

	/* Changed mode only: placed again. */
	assert_int_equal(ku_ssh_upload_file(c, local, dest, 0600, &skipped,
	    &err), KU_OK);
	assert_false(skipped);
	assert_file(dest, b.data, b.len, 0600);

	/* Changed owner only: placed again. */
	assert_int_equal(chown(dest, 1, 1), 0);
	assert_int_equal(ku_ssh_upload_file(c, local, dest, 0600, &skipped,
	    &err), KU_OK);
	assert_false(skipped);
	assert_file(dest, b.data, b.len, 0600);

	/* From memory, and empty. */
	assert_int_equal(ku_ssh_upload_mem(c, rendered, strlen(rendered),
	    dest2, 0644, &skipped, &err), KU_OK);
	assert_false(skipped);
	assert_file(dest2, rendered, strlen(rendered), 0644);
	assert_int_equal(ku_ssh_upload_mem(c, rendered, strlen(rendered),
	    dest2, 0644, &skipped, &err), KU_OK);
	assert_true(skipped);
	assert_int_equal(ku_ssh_upload_mem(c, "", 0, dest3, 0600, &skipped,
	    &err), KU_OK);
	assert_file(dest3, "", 0, 0600);

	/* Large: 16 MiB through the pipelined writes, with a known hash. */
	random_file(big, 16u << 20, 3);
	{
		char hash[65];
		struct ku_ssh_upload up = {
			.remote_path = dest4, .mode = 0755,
			.local_path = big, .sha256_hex = hash,
		};
		struct ku_buf bb;
		assert_int_equal(ku_sha256_file(big, hash), KU_OK);
		t0 = ku_now_ms();
		assert_int_equal(ku_ssh_upload(c, &up, &skipped, &err), KU_OK);
		printf("# 16 MiB uploaded in %u ms\n",
		    (unsigned)(ku_now_ms() - t0));
		ku_buf_init(&bb, 0);
		assert_int_equal(ku_read_file(big, 0, &bb), KU_OK);
		assert_file(dest4, bb.data, bb.len, 0755);
		ku_buf_free(&bb);

		/* A wrong hash given by the caller: the file "changed". */
		up.sha256_hex = "00000000000000000000000000000000"
		    "00000000000000000000000000000000";
		up.remote_path = dest3;
		assert_int_equal(ku_ssh_upload(c, &up, &skipped, &err),
		    KU_ERR_CHECKSUM);
		free(err);
		err = NULL;
		assert_file(dest3, "", 0, 0600);   /* left as it was */
	}

	/* No temporary file is left behind. */
	names = list_dir(dest_dir);
	assert_string_equal(names, "big.bin\nca.crt\nempty\nrendered.yaml\n");
	free(names);

	assert_true(file_contains(t->logpath, "unchanged, skipped"));
	ku_ssh_close(c);
	ku_buf_free(&b);
	free(local);
	free(big);
	free(dest_dir);
	free(dest);
	free(dest2);
	free(dest3);
	free(dest4);
	t->passed = true;
}

static void
test_upload_hostile_names(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o;
	struct ku_ssh_conn *c;
	char *pwned = xasprintf("%s/pwned", t->dir);
	char *dir, *dest, *names;
	char *err = NULL;
	bool skipped;
	static const char body[] = "hostile but harmless\n";
	static const char *const bad[] = {
		"relative/path", "/a/../etc/passwd", "/tmp/a\nb", "/", "/a/",
	};

	if (!t_is_root()) {
		t->passed = true;
		skip();
	}
	o = t_opts(t, &W.a);
	c = t_connect(t, &o);
	dir = xasprintf("%s/we'ird $(touch \"$HOME/pwned\") `touch pwned2`;"
	    " & | > < \\ \"q\" é", t->dir);
	dest = xasprintf("%s/-n x'y\"z $(id) \\ %%s *.conf", dir);
	assert_true(ku_valid_remote_path(dest));
	assert_int_equal(ku_ssh_upload_mem(c, body, strlen(body), dest, 0644,
	    &skipped, &err), KU_OK);
	assert_file(dest, body, strlen(body), 0644);
	assert_int_equal(ku_ssh_upload_mem(c, body, strlen(body), dest, 0644,
	    &skipped, &err), KU_OK);
	assert_true(skipped);
	names = list_dir(dir);
	assert_string_equal(names, "-n x'y\"z $(id) \\ %s *.conf\n");
	free(names);
	assert_false(ku_path_exists(pwned));
	{
		const char *home = getenv("HOME");
		char *hp = xasprintf("%s/pwned", home ? home : "/root");
		assert_false(ku_path_exists(hp));
		free(hp);
	}

	/* Paths kubeup must not use are refused before anything runs. */
	for (size_t i = 0; i < KU_ARRAY_LEN(bad); i++) {
		assert_int_equal(ku_ssh_upload_mem(c, "x", 1, bad[i], 0644,
		    &skipped, &err), KU_ERR_INVALID);
		assert_true(ku_str_has_prefix(err, ku_ssh_label(c)));
		free(err);
		err = NULL;
	}
	assert_int_equal(ku_ssh_upload_mem(c, "x", 1, dest, 010000, &skipped,
	    &err), KU_ERR_INVALID);
	free(err);
	ku_ssh_close(c);
	free(pwned);
	free(dir);
	free(dest);
	t->passed = true;
}

static void
test_upload_errors(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o;
	struct ku_ssh_conn *c;
	char *file = xasprintf("%s/a-file", t->dir);
	char *under = xasprintf("%s/a-file/sub/x.conf", t->dir);
	char *folder = xasprintf("%s/a-folder", t->dir);
	char *missing = xasprintf("%s/no-such-local-file", t->dir);
	char *err = NULL, *want;
	bool skipped;

	if (!t_is_root()) {
		t->passed = true;
		skip();
	}
	o = t_opts(t, &W.a);
	c = t_connect(t, &o);
	write_text(file, "x", 0644);
	assert_int_equal(mkdir(folder, 0755), 0);

	/* Under a regular file: the remote mkdir fails. */
	assert_int_equal(ku_ssh_upload_mem(c, "y", 1, under, 0644, &skipped,
	    &err), KU_ERR_REMOTE);
	want = xasprintf("%s: upload %s: ", ku_ssh_label(c), under);
	if (!ku_str_has_prefix(err, want) || strstr(err, "Not a directory") ==
	    NULL)
		fail_msg("message: %s", err);
	free(want);
	free(err);
	err = NULL;

	/* Onto a folder. */
	assert_int_equal(ku_ssh_upload_mem(c, "y", 1, folder, 0644, &skipped,
	    &err), KU_ERR_REMOTE);
	assert_non_null(strstr(err, "is a folder"));
	free(err);
	err = NULL;

	/* The last step fails (a name longer than NAME_MAX): the temporary
	 * copy next to it is removed. */
	{
		char *longname = xmalloc(301);
		char *dest;
		memset(longname, 'x', 300);
		longname[300] = '\0';
		dest = xasprintf("%s/%s", folder, longname);
		assert_int_equal(ku_ssh_upload_mem(c, "y", 1, dest, 0644,
		    &skipped, &err), KU_ERR_REMOTE);
		if (strstr(err, "too long") == NULL)
			fail_msg("message: %s", err);
		free(err);
		err = NULL;
		{
			char *names = list_dir(folder);
			assert_string_equal(names, "");
			free(names);
		}
		free(dest);
		free(longname);
	}

	/* A local file that is not there. */
	assert_int_equal(ku_ssh_upload_file(c, missing, "/tmp/x", 0644,
	    &skipped, &err), KU_ERR_IO);
	assert_non_null(strstr(err, missing));
	free(err);

	ku_ssh_close(c);
	free(file);
	free(under);
	free(folder);
	free(missing);
	t->passed = true;
}

/* A stand-in for sudo: records how it was called, asks for the password
 * as sudo -S does (the prompt on stderr, a line from stdin), then runs the
 * command. Its behaviour comes from the file sudo-mode. */
static char *
t_fake_sudo(struct t *t)
{
	char *path = xasprintf("%s/fake-sudo", t->dir);
	char *qd = ku_sh_quote(t->dir);
	char *script = xasprintf(
	    "#!/bin/sh\n"
	    "dir=%s\n"
	    "printf '%%s\\n' \"$*\" >> \"$dir/sudo-calls\"\n"
	    "mode=$(cat \"$dir/sudo-mode\")\n"
	    "N= P=Password:\n"
	    "while [ $# -gt 0 ]; do\n"
	    "  case $1 in\n"
	    "  -n) N=1 ;;\n"
	    "  -p) shift; P=$1 ;;\n"
	    "  --) shift; break ;;\n"
	    "  -*) ;;\n"
	    "  *) break ;;\n"
	    "  esac\n"
	    "  shift\n"
	    "done\n"
	    "case $mode in\n"
	    "password|wrong)\n"
	    "  if [ -n \"$N\" ]; then\n"
	    "    echo 'sudo: a password is required' >&2; exit 1\n"
	    "  fi\n"
	    "  tries=0\n"
	    "  while :; do\n"
	    "    printf '%%s' \"$P\" >&2\n"
	    "    IFS= read -r pw || { echo 'sudo: no password' >&2; exit 1; }\n"
	    "    if [ \"$mode\" = password ] &&\n"
	    "       [ \"$pw\" = \"$(cat \"$dir/sudo-password\")\" ]; then\n"
	    "      break\n"
	    "    fi\n"
	    "    echo 'Sorry, try again.' >&2\n"
	    "    tries=$((tries + 1))\n"
	    "    if [ $tries -ge 3 ]; then\n"
	    "      echo 'sudo: 3 incorrect password attempts' >&2; exit 1\n"
	    "    fi\n"
	    "  done\n"
	    "  echo ok >> \"$dir/sudo-password-ok\" ;;\n"
	    "esac\n"
	    "exec \"$@\"\n", qd);

	write_text(path, script, 0755);
	free(script);
	free(qd);
	return path;
}

static void
t_sudo_mode(struct t *t, const char *mode)
{
	char *p = xasprintf("%s/sudo-mode", t->dir);
	write_text(p, mode, 0644);
	free(p);
}

static void
test_sudo(void **state)
{
	struct t *t = *state;
	static const char password[] = "s3cr3t P@ss'word\"$(x)\\";
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	char *fake = t_fake_sudo(t);
	char *calls = xasprintf("%s/sudo-calls", t->dir);
	char *okfile = xasprintf("%s/sudo-password-ok", t->dir);
	char *pwfile = xasprintf("%s/sudo-password", t->dir);
	char *dest = xasprintf("%s/remote/sudo.conf", t->dir);
	struct ku_exec_result r;
	char *err = NULL, *out, *text;
	int status;
	bool skipped;

	write_text(pwfile, password, 0600);
	{
		/* The stand-in compares a line: no newline in the file. */
		char *pw = read_text(pwfile);
		assert_string_equal(pw, password);
		free(pw);
	}
	o.sudo = true;
	o.sudo_password = password;
	o.sudo_program = fake;
	c = t_connect(t, &o);

	/* 1. sudo asks: the password goes on stdin, after the prompt. */
	t_sudo_mode(t, "password");
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo \"as $(id -u)\"; echo err >&2",
	    KU_SSH_PRIVILEGED, 10, &r, &err), KU_OK);
	{
		/* The stand-in runs the command as it is. */
		char *want = xasprintf("as %u\n", (unsigned)geteuid());
		assert_string_equal(r.out.data, want);
		free(want);
	}
	/* The prompt and the marker are gone. */
	assert_string_equal(r.err.data, "err\n");
	assert_int_equal(r.exit_status, 0);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	assert_true(ku_path_exists(okfile));
	text = read_text(calls);
	assert_non_null(strstr(text, "-S -p [kubeup-sudo-password] --"));
	assert_null(strstr(text, "s3cr3t"));
	free(text);

	/* An unprivileged script does not go through sudo. */
	{
		char *before = read_text(calls), *after;
		out = t_run(c, "echo plain", 0, &status);
		assert_string_equal(out, "plain\n");
		free(out);
		after = read_text(calls);
		assert_string_equal(before, after);
		free(before);
		free(after);
	}

	/* An upload through sudo: a private folder under /tmp. */
	if (t_is_root()) {
		char *dirline, *dir;
		assert_int_equal(ku_ssh_upload_mem(c, "via sudo\n", 9, dest,
		    0600, &skipped, &err), KU_OK);
		assert_file(dest, "via sudo\n", 9, 0600);
		text = read_text(t->logpath);
		dirline = strstr(text, "private upload folder /tmp/");
		assert_non_null(dirline);
		dirline += strlen("private upload folder ");
		dir = xstrndup(dirline, strcspn(dirline, "\n"));
		{
			struct stat st;
			assert_int_equal(stat(dir, &st), 0);
			assert_int_equal(st.st_mode & 07777, 0700);
			char *names = list_dir(dir);
			assert_string_equal(names, "");
			free(names);
		}
		free(text);
		ku_ssh_close(c);
		assert_false(ku_path_exists(dir));   /* removed at close */
		free(dir);
		c = t_connect(t, &o);
	}

	/* 2. sudo does not ask (NOPASSWD): the password is never sent, so
	 * it cannot be run as a command. */
	t_sudo_mode(t, "nopasswd");
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo nopasswd-ok", KU_SSH_PRIVILEGED,
	    10, &r, &err), KU_OK);
	assert_string_equal(r.out.data, "nopasswd-ok\n");
	assert_string_equal(r.err.data, "");
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);

	/* 3. A wrong password: refused at the second prompt. */
	t_sudo_mode(t, "wrong");
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo never", KU_SSH_PRIVILEGED, 10,
	    &r, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "did not accept the password"));
	assert_null(strstr(err, "s3cr3t"));
	assert_null(strstr(r.out.data ? r.out.data : "", "never"));
	free(err);
	err = NULL;
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	/* The session survives. */
	out = t_run(c, "echo still-here", 0, &status);
	assert_string_equal(out, "still-here\n");
	free(out);
	ku_ssh_close(c);

	/* 4. No password configured but sudo wants one. */
	t_sudo_mode(t, "password");
	o.sudo_password = NULL;
	c = t_connect(t, &o);
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo never", KU_SSH_PRIVILEGED, 10,
	    &r, &err), KU_ERR_AUTH);
	assert_non_null(strstr(err, "sudo_password_file"));
	free(err);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	text = read_text(calls);
	assert_non_null(strstr(text, "-n -- /bin/sh -s"));
	assert_null(strstr(text, "s3cr3t"));
	free(text);
	ku_ssh_close(c);

	/* Nowhere: not in kubeup's log, not in sshd's. */
	assert_false(file_contains(t->logpath, "s3cr3t"));
	assert_false(file_contains(W.a.log, "s3cr3t"));
	assert_true(file_contains(t->logpath, "through sudo -S"));

	free(fake);
	free(calls);
	free(okfile);
	free(pwfile);
	free(dest);
	t->passed = true;
}

static void
test_jump_host(void **state)
{
	struct t *t = *state;
	struct sshd *target = t_sshd(t, "behind-jump");
	struct ku_ssh_opts o = t_opts(t, target);
	struct ku_ssh_endpoint jump = {
		.name = "bastion", .address = "127.0.0.1", .port = W.a.port,
		.user = W.user, .key_file = W.key,
	};
	struct ku_ssh_conn *c = NULL;
	struct ku_exec_result r;
	char *err = NULL, *out, *line, *needle, *text;
	int status, jport = W.a.port;
	struct sshd *jumpd = NULL;

	/* Both host keys are known. */
	line = sshd_known_line(target);
	text = read_text(t->known_hosts);
	{
		char *both = xasprintf("%s%s", text, line);
		write_text(t->known_hosts, both, 0600);
		free(both);
	}
	free(text);
	free(line);

	o.jump = &jump;
	c = t_connect(t, &o);
	out = t_run(c, "echo through-the-jump-host", 0, &status);
	assert_string_equal(out, "through-the-jump-host\n");
	free(out);
	/* The jump host opened the tunnel to the target. */
	needle = xasprintf("target 127.0.0.1 port %d", target->port);
	assert_true(file_contains(W.a.log, needle));
	free(needle);

	/* Bulk both ways through the pump. */
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c,
	    "head -c 3000000 /dev/zero | tr '\\0' j", 0, 30, &r, &err), KU_OK);
	assert_int_equal(r.out.len, 3000000);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	if (t_is_root()) {
		char *local = xasprintf("%s/jump.bin", t->dir);
		char *dest = xasprintf("%s/remote/jump.bin", t->dir);
		struct ku_buf b;
		bool skipped;
		random_file(local, 5u << 20, 9);
		assert_int_equal(ku_ssh_upload_file(c, local, dest, 0644,
		    &skipped, &err), KU_OK);
		ku_buf_init(&b, 0);
		assert_int_equal(ku_read_file(local, 0, &b), KU_OK);
		assert_file(dest, b.data, b.len, 0644);
		ku_buf_free(&b);
		free(local);
		free(dest);
	}
	ku_ssh_close(c);

	/* A target the jump host cannot reach. */
	o.target.port = free_port();
	assert_int_equal(ku_ssh_connect(&o, &c, &err), KU_ERR_CONNECT);
	assert_non_null(strstr(err, "bastion"));
	assert_non_null(strstr(err, "cannot reach"));
	free(err);
	err = NULL;
	o.target.port = target->port;

	/* An unknown jump host key is refused by name. */
	{
		char *kh = xasprintf("%s/only-target", t->dir);
		line = sshd_known_line(target);
		write_text(kh, line, 0600);
		o.known_hosts = kh;
		assert_int_equal(ku_ssh_connect(&o, &c, &err),
		    KU_ERR_HOSTKEY_UNKNOWN);
		assert_non_null(strstr(err, "the host key of bastion"));
		free(err);
		err = NULL;
		o.known_hosts = t->known_hosts;
		free(kh);
		free(line);
	}

	/* The jump host dies: the next call fails and names it, the one
	 * after reconnects. Run a separate jump sshd for this. */
	jumpd = t_sshd(t, "jump2");
	line = sshd_known_line(jumpd);
	text = read_text(t->known_hosts);
	{
		char *more = xasprintf("%s%s", text, line);
		write_text(t->known_hosts, more, 0600);
		free(more);
	}
	free(text);
	free(line);
	jump.port = jport = jumpd->port;
	c = t_connect(t, &o);
	sshd_stop(jumpd);
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo lost", 0, 10, &r, &err),
	    KU_ERR_CONNECT);
	assert_non_null(strstr(err, "bastion"));
	free(err);
	err = NULL;
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	sshd_start(jumpd, "jump2", jport);
	out = t_run(c, "echo reconnected", 0, &status);
	assert_string_equal(out, "reconnected\n");
	free(out);
	ku_ssh_close(c);
	t->passed = true;
}

/* Echoes what one connection sends, then closes. */
static void *
echo_once(void *arg)
{
	int lfd = *(int *)arg, fd;
	char b[4096];
	ssize_t n;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while ((n = read(fd, b, sizeof b)) > 0)
		if (write(fd, b, (size_t)n) != n)
			break;
	close(fd);
	return NULL;
}

static void
connect_local(int fd, int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
}

/* Reads n bytes within 10 s. */
static void
read_n(int fd, char *buf, size_t n)
{
	size_t have = 0;

	while (have < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		assert_int_equal(poll(&p, 1, 10000), 1);
		r = recv(fd, buf + have, n - have, 0);
		assert_true(r > 0);
		have += (size_t)r;
	}
}

/* A bare TCP connection made by the jump host, carrying the one local
 * connection it was told of (the apiserver's way). */
static void
test_tunnel(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_endpoint jump = {
		.name = "bastion", .address = "127.0.0.1", .port = W.a.port,
		.user = W.user, .key_file = W.key,
	};
	struct ku_ssh_conn *c = NULL;
	char *err = NULL, *needle, got[6] = "";
	int lfd, port, lport, cport, cfd, other, oport;
	pthread_t th;

	/* No jump host, no tunnel; the listener is closed all the same. */
	lfd = listener(4, &lport);
	assert_int_equal(ku_ssh_tunnel(&o, lfd, 1, &c, &err), KU_ERR_INVALID);
	assert_null(c);
	assert_true(fcntl(lfd, F_GETFD) == -1 && errno == EBADF);
	free(err);
	err = NULL;

	lfd = listener(1, &port);
	assert_int_equal(pthread_create(&th, NULL, echo_once, &lfd), 0);
	o.jump = &jump;
	o.target.name = NULL;
	o.target.port = port;
	{
		int tl = listener(4, &lport);
		cfd = listener(-1, &cport);
		other = listener(-1, &oport);
		assert_int_equal(ku_ssh_tunnel(&o, tl, cport, &c, &err),
		    KU_OK);
	}
	/* Another local process that finds the port is turned away. */
	connect_local(other, lport);
	{
		struct pollfd p = { .fd = other, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(recv(other, got, 1, 0), 0);
	}
	close(other);
	connect_local(cfd, lport);
	assert_int_equal(send(cfd, "hello", 5, MSG_NOSIGNAL), 5);
	read_n(cfd, got, 5);
	assert_string_equal(got, "hello");
	needle = xasprintf("target 127.0.0.1 port %d", port);
	assert_true(file_contains(W.a.log, needle));
	free(needle);
	close(cfd);
	ku_ssh_close(c);
	pthread_join(th, NULL);
	close(lfd);

	/* Nothing listens there: the jump host says so, by name. */
	o.target.port = free_port();
	lfd = listener(4, &lport);
	assert_int_equal(ku_ssh_tunnel(&o, lfd, 1, &c, &err), KU_ERR_CONNECT);
	assert_null(c);
	assert_non_null(strstr(err, "bastion"));
	assert_non_null(strstr(err, "cannot reach"));
	free(err);
	t->passed = true;
}

/* A direct connection whose server goes away is reconnected. */
static void
test_reconnect(void **state)
{
	struct t *t = *state;
	struct sshd *d = t_sshd(t, "reconnect");
	struct ku_ssh_opts o = t_opts(t, d);
	struct ku_ssh_conn *c;
	struct ku_exec_result r;
	char *err = NULL, *out;
	int status, port = d->port;

	o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
	c = t_connect(t, &o);
	out = t_run(c, "echo one", 0, &status);
	free(out);
	sshd_stop(d);
	exec_result_init(&r, 0);
	assert_int_equal(ku_ssh_exec(c, "echo two", 0, 10, &r, &err),
	    KU_ERR_CONNECT);
	ku_buf_free(&r.out);
	ku_buf_free(&r.err);
	free(err);
	sshd_start(d, "reconnect", port);
	out = t_run(c, "echo three", 0, &status);
	assert_string_equal(out, "three\n");
	free(out);
	ku_ssh_close(c);
	assert_true(file_contains(t->logpath, "reconnecting"));
	t->passed = true;
}

static void
test_keepalive(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	char *out;
	int status;
	struct ku_buf before;
	size_t n_before;

	ku_buf_init(&before, 0);
	assert_int_equal(ku_read_file(W.a.log, 0, &before), KU_OK);
	n_before = before.len;
	ku_buf_free(&before);

	o.keepalive = 1;
	c = t_connect(t, &o);
	out = t_run(c, "sleep 2.5; echo awake", 0, &status);
	assert_string_equal(out, "awake\n");
	free(out);
	ku_ssh_close(c);
	{
		struct ku_buf after;
		ku_buf_init(&after, 0);
		assert_int_equal(ku_read_file(W.a.log, 0, &after), KU_OK);
		assert_non_null(memmem(after.data + n_before,
		    after.len - n_before, "keepalive@libssh2.org",
		    strlen("keepalive@libssh2.org")));
		ku_buf_free(&after);
	}
	t->passed = true;
}

/* A TCP proxy to a server whose open connections can be frozen: bytes stop
 * moving but nothing is closed, as when a NAT forgets a connection or a
 * machine is paused. New connections still go through. */
struct proxy {
	int lfd, port, target_port;
	int wake[2];
	pthread_t th;
	pthread_mutex_t mu;
	bool freeze, stop;
	int fd[64][2];
	bool frozen[64];
	int n;
};

static int
proxy_dial(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *
proxy_main(void *arg)
{
	struct proxy *p = arg;

	for (;;) {
		struct pollfd pf[2 + 128];
		int map[2 + 128][2];
		int n = 0;
		char buf[16384];

		pthread_mutex_lock(&p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		if (p->freeze) {
			for (int i = 0; i < p->n; i++)
				p->frozen[i] = true;
			p->freeze = false;
		}
		pf[n].fd = p->lfd;
		pf[n++].events = POLLIN;
		pf[n].fd = p->wake[0];
		pf[n++].events = POLLIN;
		for (int i = 0; i < p->n; i++) {
			if (p->frozen[i] || p->fd[i][0] < 0)
				continue;
			for (int side = 0; side < 2; side++) {
				map[n][0] = i;
				map[n][1] = side;
				pf[n].fd = p->fd[i][side];
				pf[n++].events = POLLIN;
			}
		}
		pthread_mutex_unlock(&p->mu);

		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[1].revents) {
			char b;
			(void)!read(p->wake[0], &b, 1);
			continue;
		}
		if (pf[0].revents & POLLIN) {
			int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
			int s = c >= 0 ? proxy_dial(p->target_port) : -1;
			pthread_mutex_lock(&p->mu);
			if (c >= 0 && s >= 0 && p->n < 64) {
				p->fd[p->n][0] = c;
				p->fd[p->n][1] = s;
				p->frozen[p->n] = false;
				p->n++;
			} else {
				if (c >= 0)
					close(c);
				if (s >= 0)
					close(s);
			}
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		for (int k = 2; k < n; k++) {
			int i = map[k][0], side = map[k][1];
			ssize_t r;

			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[k].fd, buf, sizeof buf);
			pthread_mutex_lock(&p->mu);
			if (r <= 0) {
				close(p->fd[i][0]);
				close(p->fd[i][1]);
				p->fd[i][0] = p->fd[i][1] = -1;
			} else {
				(void)!write(p->fd[i][!side], buf, (size_t)r);
			}
			pthread_mutex_unlock(&p->mu);
			break;   /* the set changed: poll again */
		}
	}
	return NULL;
}

static void
proxy_start(struct proxy *p, int target_port)
{
	memset(p, 0, sizeof *p);
	p->target_port = target_port;
	p->lfd = listener(16, &p->port);
	assert_int_equal(pipe(p->wake), 0);
	pthread_mutex_init(&p->mu, NULL);
	assert_int_equal(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void
proxy_poke(struct proxy *p, bool freeze, bool stop)
{
	pthread_mutex_lock(&p->mu);
	p->freeze = freeze;
	p->stop = stop;
	pthread_mutex_unlock(&p->mu);
	(void)!write(p->wake[1], "x", 1);
}

static void
proxy_stop(struct proxy *p)
{
	proxy_poke(p, false, true);
	pthread_join(p->th, NULL);
	for (int i = 0; i < p->n; i++) {
		if (p->fd[i][0] >= 0)
			close(p->fd[i][0]);
		if (p->fd[i][1] >= 0)
			close(p->fd[i][1]);
	}
	close(p->lfd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
}

/* A session that went silent while idle is noticed within the connect
 * timeout and replaced, instead of eating the command timeout. */
static void
test_silent_session(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c;
	struct proxy px;
	char *out;
	int status;
	uint64_t t0, ms;

	proxy_start(&px, W.a.port);
	o.target.port = px.port;
	o.host_key_policy = KU_HOSTKEY_ACCEPT_NEW;
	o.connect_timeout = 1;
	o.command_timeout = 20;
	c = t_connect(t, &o);
	out = t_run(c, "echo one", 0, &status);
	assert_string_equal(out, "one\n");
	free(out);

	proxy_poke(&px, true, false);
	t0 = ku_now_ms();
	out = t_run(c, "echo two", 0, &status);
	ms = ku_now_ms() - t0;
	assert_string_equal(out, "two\n");
	free(out);
	assert_true(ms >= 900);
	assert_true(ms < 8000);
	assert_true(file_contains(t->logpath, "does not answer; reconnecting"));
	ku_ssh_close(c);
	proxy_stop(&px);
	t->passed = true;
}

struct conc {
	struct ku_ssh_conn *c;
	int id;
	int ok;
};

static void *
conc_main(void *arg)
{
	struct conc *k = arg;

	for (int i = 0; i < 10; i++) {
		struct ku_exec_result r;
		char *script = xasprintf("echo %d-%d", k->id, i);
		char *want = xasprintf("%d-%d\n", k->id, i);
		char *err = NULL;

		exec_result_init(&r, 0);
		if (ku_ssh_exec(k->c, script, 0, 20, &r, &err) == KU_OK &&
		    r.out.data && strcmp(r.out.data, want) == 0)
			k->ok++;
		free(err);
		free(script);
		free(want);
		ku_buf_free(&r.out);
		ku_buf_free(&r.err);
	}
	return NULL;
}

/* One session, four threads: calls queue on the connection's mutex. */
static void
test_threads(void **state)
{
	struct t *t = *state;
	struct ku_ssh_opts o = t_opts(t, &W.a);
	struct ku_ssh_conn *c = t_connect(t, &o);
	pthread_t th[4];
	struct conc k[4];

	for (int i = 0; i < 4; i++) {
		k[i].c = c;
		k[i].id = i;
		k[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, conc_main, &k[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(k[i].ok, 10);
	}
	ku_ssh_close(c);
	t->passed = true;
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
	const struct CMUnitTest tests[] = {
		T(test_exec_basic),
		T(test_exec_hostile_args),
		T(test_exec_large_output),
		T(test_exec_timeout),
		T(test_connect_refused),
		T(test_connect_silent_server),
		T(test_connect_backlog_full),
		T(test_hostkey_strict_unknown),
		T(test_hostkey_accept_new),
		T(test_hostkey_hashed),
		T(test_hostkey_changed),
		T(test_auth_rsa_refused),
		T(test_auth_failures),
		T(test_auth_agent),
		T(test_upload),
		T(test_upload_hostile_names),
		T(test_upload_errors),
		T(test_sudo),
		T(test_jump_host),
		T(test_tunnel),
		T(test_reconnect),
		T(test_silent_session),
		T(test_keepalive),
		T(test_threads),
	};
#undef T

	if (getenv("KU_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("KU_TEST_FILTER"));
	signal(SIGPIPE, SIG_IGN);
	tl_watchdog(600);
	return cmocka_run_group_tests_name("ssh", tests, group_setup,
	    group_teardown);
}
