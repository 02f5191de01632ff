/* The ssh provider: machines that exist already, reached over SSH.
 *
 * Phase 1 here: fetch kubelet and kubectl once on the operator's machine;
 * connect to every machine and verify its host key; check each against the
 * node specification (kubeadm's preflight checks in spirit), then across
 * machines; install the container runtime and prerequisites; upload the
 * binaries; and the exit criteria: a test container on every machine, and
 * every machine reaching every other.
 *
 * One SSH session per machine for the whole run, opened by the connect
 * substep and reused by every later one (ssh.c serialises each session's
 * calls). Every remote step is one script that checks before it acts, so
 * any substep can run again. Every value in a script goes through
 * ku_script_cmd()/ku_script_word() (shell.h), never pasted.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "http.h"
#include "i18n.h"
#include "log.h"
#include "provider.h"
#include "render.h"
#include "shell.h"
#include "ssh.h"

/* Captured output of one remote script. */
#define KU_SSH_OUTPUT_MAX (256 * 1024)
/* Clocks of the machines may differ by this much. */
#define KU_CLOCK_SKEW_MAX_MS 30000
/* The architecture of the machines (the only one checked for now). */
#define KU_ARCH "amd64"

/* What the conformance check learns of a machine. */
struct ku_facts {
	char *os_id;
	char *os_version;
	char *cgroup;
	long cpus;
	long mem_mb;
	long swaps;
	char *hostname;
	char *macs;          /* space-separated */
	char *product_uuid;
	long long clock_ms;  /* the machine's clock, when we read it */
	long long clock_taken_ms;   /* ours, at the same moment */
	char *listening;     /* space-separated TCP ports */
	char *modules_missing;
	bool installed;      /* kubeup's kubelet is there already */
};

struct ku_ssh_slot {
	pthread_mutex_t lock;
	struct ku_ssh_conn *conn;
};

enum { KU_BIN_KUBELET, KU_BIN_KUBECTL, KU_BIN__COUNT };

static const char *const ku_bin_names[KU_BIN__COUNT] = {
	[KU_BIN_KUBELET] = "kubelet",
	[KU_BIN_KUBECTL] = "kubectl",
};

struct ku_ssh_state {
	const struct ku_spec *spec;
	struct ku_log *log;
	char *sudo_password;
	char *facts_dir;      /* STATE/facts: what 1/conformance learnt */
	bool purge;
	struct ku_ssh_slot *slots;
	size_t n;
	pthread_mutex_t lock;             /* the binaries below */
	char *bin_path[KU_BIN__COUNT];
	char bin_sha[KU_BIN__COUNT][65];
};

/* --- the state --- */

static void
ku_facts_free(struct ku_facts *f)
{
	free(f->os_id);
	free(f->os_version);
	free(f->cgroup);
	free(f->hostname);
	free(f->macs);
	free(f->product_uuid);
	free(f->listening);
	free(f->modules_missing);
	memset(f, 0, sizeof *f);
}

static ku_rc
ku_ssh_open(const struct ku_spec *spec, const struct ku_provider_env *env,
    void **state, char **err)
{
	struct ku_ssh_state *st = xcalloc(1, sizeof *st);
	ku_rc rc;

	st->spec = spec;
	st->log = env->log;
	st->purge = env->purge;
	st->facts_dir = ku_path_join(env->state_dir, "facts");
	st->n = ku_spec_n_machines(spec);
	st->slots = xcalloc(st->n ? st->n : 1, sizeof *st->slots);
	for (size_t i = 0; i < st->n; i++)
		pthread_mutex_init(&st->slots[i].lock, NULL);
	pthread_mutex_init(&st->lock, NULL);
	/* read once: registered as a secret, never in the journal or on a
	 * command line */
	rc = ku_spec_sudo_password(spec, &st->sudo_password, err);
	if (rc == KU_OK && st->sudo_password != NULL)
		ku_log_add_secret(env->log, st->sudo_password);
	if (rc != KU_OK) {
		*state = st;
		return rc;
	}
	*state = st;
	return KU_OK;
}

/* Closing the sessions: a machine that went away costs its goodbye's
 * grace (a few seconds), so they are closed side by side, not one after
 * another (200 gone machines took minutes). */
#define KU_SSH_CLOSERS 32

struct ku_closer {
	struct ku_ssh_state *st;
	pthread_mutex_t mu;
	size_t next;
};

static void *
ku_closer_main(void *arg)
{
	struct ku_closer *cl = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&cl->mu);
		i = cl->next++;
		pthread_mutex_unlock(&cl->mu);
		if (i >= cl->st->n)
			return NULL;
		ku_ssh_close(cl->st->slots[i].conn);
		cl->st->slots[i].conn = NULL;
	}
}

static void
ku_ssh_close_all(struct ku_ssh_state *st)
{
	struct ku_closer cl = { .st = st };
	pthread_t th[KU_SSH_CLOSERS];
	size_t n = 0;

	pthread_mutex_init(&cl.mu, NULL);
	while (n < KU_SSH_CLOSERS && n + 1 < st->n &&
	    pthread_create(&th[n], NULL, ku_closer_main, &cl) == 0)
		n++;
	ku_closer_main(&cl);   /* this thread too; alone if none started */
	for (size_t i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&cl.mu);
}

static void
ku_ssh_close_state(void *p)
{
	struct ku_ssh_state *st = p;

	if (st == NULL)
		return;
	ku_ssh_close_all(st);
	for (size_t i = 0; i < st->n; i++)
		pthread_mutex_destroy(&st->slots[i].lock);
	for (int b = 0; b < KU_BIN__COUNT; b++)
		free(st->bin_path[b]);
	if (st->sudo_password) {
		explicit_bzero(st->sudo_password, strlen(st->sudo_password));
		free(st->sudo_password);
	}
	free(st->facts_dir);
	pthread_mutex_destroy(&st->lock);
	free(st->slots);
	free(st);
}

static struct ku_ssh_state *
ku_state(struct ku_task *t)
{
	return ku_task_provider_state(t);
}

static size_t
ku_machine_index(const struct ku_spec *spec, const struct ku_machine *m)
{
	return m == &spec->master ? 0 : (size_t)(m - spec->nodes) + 1;
}

/* Records a transport's failure (its message, taken and freed) on the
 * task; returns rc. Call it after the transport, never around it: the
 * order in which a call's arguments are evaluated is unspecified. */
static ku_rc
ku_failed(struct ku_task *t, ku_rc rc, char *err)
{
	if (rc != KU_OK)
		ku_task_fail(t, rc, "%s", err ? err : ku_strerror(rc));
	free(err);
	return rc;
}

/* --- sessions --- */

static void
ku_ssh_options(const struct ku_ssh_state *st, const struct ku_machine *m,
    struct ku_ssh_opts *o, struct ku_ssh_endpoint *jump)
{
	const struct ku_ssh *ssh = &st->spec->ssh;

	memset(o, 0, sizeof *o);
	o->target.name = m->name;
	o->target.address = m->address;
	o->target.port = m->port;
	o->target.user = m->user;
	o->target.key_file = m->key_file;
	if (ssh->jump) {
		memset(jump, 0, sizeof *jump);
		jump->name = "jump host";
		jump->address = ssh->jump->address;
		jump->port = ssh->jump->port;
		jump->user = ssh->jump->user;
		jump->key_file = ssh->jump->key_file;
		o->jump = jump;
	}
	o->known_hosts = ssh->known_hosts;
	o->host_key_policy = ssh->host_key_policy;
	o->connect_timeout = ssh->connect_timeout;
	o->command_timeout = ssh->command_timeout;
	o->keepalive = ssh->keepalive;
	o->sudo = m->sudo && !ku_streq(m->user, "root");
	o->sudo_password = st->sudo_password;
	o->log = st->log;
}

/* The task's machine's session, connecting when there is none (or the
 * last one broke: ssh.c then reconnects on its own). */
static ku_rc
ku_session(struct ku_task *t, struct ku_ssh_conn **out)
{
	struct ku_ssh_state *st = ku_state(t);
	const struct ku_machine *m = ku_task_machine(t);
	struct ku_ssh_slot *slot;
	struct ku_ssh_opts o;
	struct ku_ssh_endpoint jump;
	char *err = NULL;
	ku_rc rc = KU_OK;

	if (m == NULL)
		return ku_task_fail(t, KU_ERR_INVALID, "%s",
		    _("this substep has no machine"));
	slot = &st->slots[ku_machine_index(st->spec, m)];
	pthread_mutex_lock(&slot->lock);
	if (slot->conn == NULL) {
		ku_ssh_options(st, m, &o, &jump);
		rc = ku_ssh_connect(&o, &slot->conn, &err);
		if (rc != KU_OK)
			slot->conn = NULL;
	}
	*out = slot->conn;
	pthread_mutex_unlock(&slot->lock);
	return ku_failed(t, rc, err);
}

static ku_rc ku_ssh_exec_op(struct ku_task *t, const struct ku_machine *m,
    const char *script, struct ku_exec_result *res);

/* Runs a script privileged on the task's machine. Output goes to the log;
 * a non-zero exit fails the task with the script's last lines of stderr,
 * prefixed by what. */
static ku_rc
ku_run_script(struct ku_task *t, const char *what, const char *script,
    struct ku_exec_result *res)
{
	ku_rc rc;

	/* res is the caller's to free, whatever happens. */
	ku_buf_init(&res->out, KU_SSH_OUTPUT_MAX);
	ku_buf_init(&res->err, KU_SSH_OUTPUT_MAX);
	res->exit_status = -1;
	rc = ku_ssh_exec_op(t, ku_task_machine(t), script, res);
	if (rc != KU_OK)
		return rc;
	if (res->out.len)
		ku_task_log(t, KU_LOG_DEBUG, "%s: stdout:\n%s", what,
		    res->out.data);
	if (res->err.len)
		ku_task_log(t, KU_LOG_DEBUG, "%s: stderr:\n%s", what,
		    res->err.data);
	if (res->exit_status != 0) {
		const char *tail = res->err.len ? res->err.data : res->out.data;
		size_t len = res->err.len ? res->err.len : res->out.len;
		/* The last few lines say why. */
		const char *p = tail ? tail + len : NULL;
		int lines = 0;
		while (p && p > tail && lines < 4)
			if (*--p == '\n' && p + 1 < tail + len)
				lines++;
		return ku_task_fail(t, KU_ERR_REMOTE, _("%s (%s): %s: exit "
		    "status %d%s%s"), ku_task_target(t),
		    ku_task_machine(t)->address, what, res->exit_status,
		    tail && len ? ": " : "", p ? p + (*p == '\n') : "");
	}
	return KU_OK;
}

/* --- 1/fetch-binaries: once, on the operator's machine --- */

/* Fetches (or finds in the cache, verified) what is not known yet in this
 * run. Serialised: the first caller fetches, the others wait and reuse.
 * Called with st->lock held. */
static ku_rc
ku_ensure_binaries(struct ku_task *t, struct ku_ssh_state *st)
{
	struct ku_http_opts o;
	ku_rc rc = KU_OK;

	ku_http_opts_init(&o);
	ku_http_opts_from_spec(&o, st->spec);
	/* One policy for retries: the answers' engine.retries. */
	o.retries = st->spec->retries;
	o.log = st->log;
	for (int b = 0; b < KU_BIN__COUNT && rc == KU_OK; b++) {
		struct ku_http_request req = {
			.version = st->spec->version,
			.arch = KU_ARCH,
			.name = ku_bin_names[b],
		};
		struct ku_http_result res = { 0 };
		char *err = NULL;

		if (st->bin_path[b])
			continue;
		if (ku_task_cancelled(t))
			return KU_ERR_INTERRUPTED;
		rc = ku_http_fetch(&o, &req, &res, &err);
		rc = ku_failed(t, rc, err);
		if (rc != KU_OK) {
			ku_http_result_free(&res);
			break;
		}
		if (res.warning)
			ku_task_log(t, KU_LOG_WARN, "%s", res.warning);
		ku_task_log(t, KU_LOG_INFO, "%s %s: %s (sha256 %s, %s)",
		    ku_bin_names[b], st->spec->version, res.path, res.sha256,
		    res.from_cache ? "cached" : "downloaded");
		st->bin_path[b] = xstrdup(res.path);
		memcpy(st->bin_sha[b], res.sha256, sizeof st->bin_sha[b]);
		ku_http_result_free(&res);
	}
	return rc;
}

static ku_rc
ku_fetch_binaries(struct ku_task *t)
{
	struct ku_ssh_state *st = ku_state(t);
	ku_rc rc;

	pthread_mutex_lock(&st->lock);
	rc = ku_ensure_binaries(t, st);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* --- 1/connect --- */

static ku_rc
ku_connect(struct ku_task *t)
{
	struct ku_exec_result res;
	ku_rc rc;

	/* Connecting checks the host key and authenticates; a first
	 * privileged command proves sudo works too. */
	rc = ku_run_script(t, _("check that privileged commands work"),
	    "id -u\n", &res);
	if (rc == KU_OK && strncmp(res.out.data ? res.out.data : "", "0", 1))
		rc = ku_task_fail(t, KU_ERR_AUTH, _("%s: privileged commands "
		    "do not run as root (id -u says %s); set sudo = true for "
		    "this machine"), ku_task_target(t), res.out.data);
	ku_exec_result_free(&res);
	return rc;
}

/* --- 1/conformance --- */

/* One script reads everything; the verdict is made here, where the
 * messages can be clear. */
static const char ku_facts_script[] =
	"export LC_ALL=C\n"
	"if [ -r /etc/os-release ]; then . /etc/os-release; fi\n"
	"echo \"os_id=${ID:-}\"\n"
	"echo \"os_version=${VERSION_ID:-}\"\n"
	"echo \"cgroup=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)\"\n"
	"echo \"cpus=$(nproc 2>/dev/null || echo 0)\"\n"
	"echo \"mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)\"\n"
	"echo \"swaps=$(awk 'NR > 1' /proc/swaps 2>/dev/null | wc -l)\"\n"
	"echo \"hostname=$(hostname)\"\n"
	"echo \"macs=$(ip -o link 2>/dev/null | awk '$2 != \"lo:\" { for (i = 1; i < NF; i++) if ($i == \"link/ether\") print $(i + 1) }' | sort -u | tr '\\n' ' ')\"\n"
	"uuid=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null || cat /etc/machine-id 2>/dev/null)\n"
	"echo \"product_uuid=$uuid\"\n"
	"echo \"clock_ms=$(date +%s%3N)\"\n"
	"echo \"listening=$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, \":\"); print a[n] }' | sort -un | tr '\\n' ' ')\"\n"
	"missing=\n"
	"for m in overlay br_netfilter; do\n"
	"  if [ -d /sys/module/$m ] || grep -qs \"^$m \" /proc/modules ||\n"
	"     modprobe -n $m 2>/dev/null; then :; else missing=\"$missing $m\"; fi\n"
	"done\n"
	"echo \"modules_missing=$missing\"\n"
	"if [ -f /var/lib/kubeup/installed ]; then echo installed=1; fi\n";

static char *
ku_fact(const char *out, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = out; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			char *v = xstrndup(p + klen + 1, len - klen - 1);
			/* trailing blanks from tr */
			for (size_t n = strlen(v); n && v[n - 1] == ' '; n--)
				v[n - 1] = '\0';
			return v;
		}
		p = nl ? nl + 1 : NULL;
	}
	return xstrdup("");
}

static long long
ku_fact_long(const char *out, const char *key)
{
	char *v = ku_fact(out, key);
	long long n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static bool
ku_word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == ' ' ||
		    p[wl] == '\0'))
			return true;
	return false;
}

static void
ku_facts_parse(const char *text, struct ku_facts *f)
{
	memset(f, 0, sizeof *f);
	f->os_id = ku_fact(text, "os_id");
	f->os_version = ku_fact(text, "os_version");
	f->cgroup = ku_fact(text, "cgroup");
	f->cpus = (long)ku_fact_long(text, "cpus");
	f->mem_mb = (long)(ku_fact_long(text, "mem_kb") / 1024);
	f->swaps = (long)ku_fact_long(text, "swaps");
	f->hostname = ku_fact(text, "hostname");
	f->macs = ku_fact(text, "macs");
	f->product_uuid = ku_fact(text, "product_uuid");
	f->clock_ms = ku_fact_long(text, "clock_ms");
	f->clock_taken_ms = ku_fact_long(text, "taken_ms");
	f->listening = ku_fact(text, "listening");
	f->modules_missing = ku_fact(text, "modules_missing");
	f->installed = ku_fact_long(text, "installed") == 1;
}

/* The facts are kept in the state directory, so that the check across
 * machines also works on --resume, when conformance ran earlier. */
static char *
ku_facts_path(const struct ku_ssh_state *st, const char *machine)
{
	char *name = xasprintf("%s.facts", machine);
	char *path = ku_path_join(st->facts_dir, name);
	free(name);
	return path;
}

static bool
ku_os_supported(const struct ku_facts *f)
{
	double v = strtod(f->os_version, NULL);
	if (ku_streq(f->os_id, "debian"))
		return v >= 11;
	if (ku_streq(f->os_id, "ubuntu"))
		return v >= 22.04;
	return false;
}

static ku_rc
ku_conformance(struct ku_task *t)
{
	struct ku_ssh_state *st = ku_state(t);
	const struct ku_machine *m = ku_task_machine(t);
	bool master = m == &st->spec->master;
	struct ku_facts facts, *f = &facts;
	char *path;
	static const char *const master_ports[] = {
		"6443", "2379", "2380", "10250", "10257", "10259"
	};
	static const char *const node_ports[] = { "10250", "10256" };
	struct ku_exec_result res;
	struct ku_buf why;
	ku_rc rc;

	rc = ku_run_script(t, _("read the machine's facts"), ku_facts_script,
	    &res);
	if (rc != KU_OK) {
		ku_exec_result_free(&res);
		return rc;
	}
	ku_buf_printf(&res.out, "taken_ms=%llu\n",
	    (unsigned long long)ku_wall_ms());
	ku_facts_parse(res.out.data, f);
	path = ku_facts_path(st, m->name);
	if (ku_mkdir_p(st->facts_dir, 0700) != KU_OK ||
	    ku_write_file_atomic(path, res.out.data, res.out.len, 0600) !=
	    KU_OK)
		rc = ku_task_fail(t, KU_ERR_STATE, _("%s: cannot write: %s"),
		    path, strerror(errno));
	free(path);
	ku_exec_result_free(&res);
	if (rc != KU_OK) {
		ku_facts_free(f);
		return rc;
	}

	/* Every problem, each with its fix. */
	ku_buf_init(&why, 0);
	if (!ku_os_supported(f))
		ku_buf_printf(&why, _("; the OS is %s %s: supported are "
		    "Debian 11 or newer and Ubuntu 22.04 or newer"),
		    f->os_id[0] ? f->os_id : "unknown", f->os_version);
	if (!ku_streq(f->cgroup, "cgroup2fs"))
		ku_task_log(t, KU_LOG_WARN, "cgroup v1 (%s): kubelet 1.31 "
		    "and newer deprecate it, 1.35 and newer refuse it unless "
		    "failCgroupV1 is false", f->cgroup);
	/* TRANSLATORS: the problems of one machine are joined into one
	   message; each starts with "; " (the first one's is cut). */
	if (master && f->cpus < 2)
		ku_buf_printf(&why, _("; %ld CPU: the master needs at least "
		    "2"), f->cpus);
	if (master && f->mem_mb < 1700)
		ku_buf_printf(&why, _("; %ld MiB of memory: the master needs "
		    "at least 1700 MiB"), f->mem_mb);
	if (!master && f->cpus < 1)
		ku_buf_printf(&why, _("; %ld CPUs: a node needs at least 1"),
		    f->cpus);
	if (!master && f->mem_mb < 1024)
		ku_buf_printf(&why, _("; %ld MiB of memory: a node needs at "
		    "least 1024 MiB"), f->mem_mb);
	if (f->swaps > 0)
		ku_buf_printf(&why, _("; swap is on (%ld device(s) in "
		    "/proc/swaps): turn it off with swapoff -a and remove it "
		    "from /etc/fstab"), f->swaps);
	if (f->modules_missing[0])
		ku_buf_printf(&why, _("; kernel module(s)%s neither loaded nor "
		    "available: install the kernel's modules package"),
		    f->modules_missing);
	if (f->product_uuid[0] == '\0')
		ku_buf_printf(&why, "%s", _("; neither a product_uuid nor a machine-id "
		    "to tell this machine apart"));
	if (!f->installed) {
		/* On a machine kubeup installed, the cluster holds these. */
		const char *const *ports = master ? master_ports : node_ports;
		size_t n = master ? KU_ARRAY_LEN(master_ports) :
		    KU_ARRAY_LEN(node_ports);
		for (size_t i = 0; i < n; i++)
			if (ku_word_in(f->listening, ports[i]))
				ku_buf_printf(&why, _("; port %s is in use: "
				    "stop what listens there (ss -ltnp "
				    "shows it)"), ports[i]);
	}
	if (why.len) {
		rc = ku_task_fail(t, KU_ERR_CHECK, _("%s (%s) does not meet the "
		    "node specification: %s"), m->name, m->address,
		    why.data + 2);
	}
	ku_buf_free(&why);
	ku_facts_free(f);
	return rc;
}

/* --- 1/unique: across machines --- */

static void
ku_shared_macs(struct ku_buf *why, const char *an, const char *amacs,
    const char *bn, const char *bmacs)
{
	char *copy = xstrdup(amacs), *save = NULL;

	for (char *mac = strtok_r(copy, " ", &save); mac;
	    mac = strtok_r(NULL, " ", &save))
		if (ku_word_in(bmacs, mac))
			ku_buf_printf(why, _("; %s and %s share the MAC address "
			    "%s"), an, bn, mac);
	free(copy);
}

static ku_rc
ku_unique(struct ku_task *t)
{
	struct ku_ssh_state *st = ku_state(t);
	const struct ku_spec *spec = st->spec;
	struct ku_facts *facts = xcalloc(st->n ? st->n : 1, sizeof *facts);
	bool *known = xcalloc(st->n ? st->n : 1, sizeof *known);
	struct ku_buf why;
	long long min = 0, max = 0;
	bool first = true;
	ku_rc rc = KU_OK;

	ku_buf_init(&why, 0);
	for (size_t i = 0; i < st->n; i++) {
		char *path = ku_facts_path(st, ku_spec_machine(spec, i)->name);
		struct ku_buf text;

		ku_buf_init(&text, 64 * 1024);
		if (ku_read_file(path, 64 * 1024, &text) == KU_OK) {
			ku_facts_parse(text.data ? text.data : "", &facts[i]);
			known[i] = true;
		} else {
			/* A check without its data is no check. */
			ku_buf_printf(&why, _("; no facts from %s: 1/conformance "
			    "has not finished there"),
			    ku_spec_machine(spec, i)->name);
		}
		ku_buf_free(&text);
		free(path);
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct ku_facts *a = &facts[i];
		const char *an = ku_spec_machine(spec, i)->name;
		long long skew;

		if (!known[i])
			continue;
		skew = a->clock_ms - a->clock_taken_ms;
		if (first || skew < min)
			min = skew;
		if (first || skew > max)
			max = skew;
		first = false;
		for (size_t j = i + 1; j < st->n; j++) {
			const struct ku_facts *b = &facts[j];
			const char *bn = ku_spec_machine(spec, j)->name;
			if (!known[j])
				continue;
			if (ku_streq(a->product_uuid, b->product_uuid))
				ku_buf_printf(&why, _("; %s and %s have the "
				    "same product_uuid %s: give each machine "
				    "its own (a cloned image keeps its "
				    "machine-id: regenerate it)"), an, bn,
				    a->product_uuid);
			if (ku_streq(a->hostname, b->hostname))
				ku_buf_printf(&why, _("; %s and %s have the "
				    "same host name %s: rename one"), an, bn,
				    a->hostname);
			ku_shared_macs(&why, an, a->macs, bn, b->macs);
		}
	}
	if (max - min > KU_CLOCK_SKEW_MAX_MS)
		ku_buf_printf(&why, _("; the machines' clocks differ by %lld ms "
		    "(at most %d allowed): run NTP on every machine"),
		    max - min, KU_CLOCK_SKEW_MAX_MS);
	if (why.len)
		rc = ku_task_fail(t, KU_ERR_CHECK, "%s", why.data + 2);
	ku_buf_free(&why);
	for (size_t i = 0; i < st->n; i++)
		ku_facts_free(&facts[i]);
	free(facts);
	free(known);
	return rc;
}

/* --- 1/runtime: container runtime and prerequisites --- */

/* Packages the nodes need, installed only when missing; what kubeup
 * installed is recorded on the machine so that down --purge removes only
 * that. */
static const char *const ku_runtime_packages[] = {
	"containerd", "runc", "containernetworking-plugins", "conntrack",
	"socat", "ebtables", "ethtool", "iptables",
};

/* Fixed text of the runtime step: state recorded before the first change
 * (for down), modules, sysctls, swap off. */
static const char ku_runtime_prepare[] =
	"set -eu\n"
	"export LC_ALL=C DEBIAN_FRONTEND=noninteractive\n"
	"mkdir -p /var/lib/kubeup\n"
	"chmod 0700 /var/lib/kubeup\n"
	"if [ ! -f /var/lib/kubeup/before ]; then\n"
	"  {\n"
	"    echo \"swap=$(awk 'NR > 1 { print $1 }' /proc/swaps | tr '\\n' ' ')\"\n"
	"    for k in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward; do\n"
	"      echo \"sysctl $k=$(sysctl -n $k 2>/dev/null || true)\"\n"
	"    done\n"
	"  } > /var/lib/kubeup/before.tmp\n"
	"  if [ -f /etc/containerd/config.toml ]; then\n"
	"    cp -p /etc/containerd/config.toml /var/lib/kubeup/containerd-config.orig\n"
	"  fi\n"
	"  mv /var/lib/kubeup/before.tmp /var/lib/kubeup/before\n"
	"fi\n"
	"printf 'overlay\\nbr_netfilter\\n' > /etc/modules-load.d/kubeup.conf\n"
	"modprobe overlay\n"
	"modprobe br_netfilter\n"
	"printf '%s\\n' 'net.bridge.bridge-nf-call-iptables = 1' "
	    "'net.bridge.bridge-nf-call-ip6tables = 1' 'net.ipv4.ip_forward = 1' "
	    "> /etc/sysctl.d/99-kubeup.conf\n"
	"sysctl -q -p /etc/sysctl.d/99-kubeup.conf\n"
	"swapoff -a\n"
	"missing=\n";

static const char ku_runtime_install[] =
	"if [ -n \"$missing\" ]; then\n"
	"  apt-get update -q >/dev/null\n"
	"  apt-get install -y -q --no-install-recommends $missing\n"
	"  printf '%s\\n' $missing >> /var/lib/kubeup/packages\n"
	"fi\n";

/* After containerd's configuration is in place. */
static const char ku_runtime_start[] =
	"set -eu\n"
	/* Debian's CNI plugins live in /usr/lib/cni; the runtime and the
	 * network plugins use the usual /opt/cni/bin. */
	"mkdir -p /opt/cni/bin\n"
	"for p in /usr/lib/cni/*; do\n"
	"  [ -f \"$p\" ] && [ ! -e \"/opt/cni/bin/${p##*/}\" ] && ln -s \"$p\" \"/opt/cni/bin/${p##*/}\"\n"
	"done\n"
	"systemctl daemon-reload\n"
	"systemctl enable containerd >/dev/null 2>&1 || systemctl enable containerd\n"
	"want=$(sha256sum /etc/containerd/config.toml | cut -d' ' -f1)\n"
	"have=$(cat /var/lib/kubeup/containerd.sha256 2>/dev/null || true)\n"
	"if [ \"$want\" != \"$have\" ] || ! systemctl is-active -q containerd; then\n"
	"  systemctl restart containerd\n"
	"  echo \"$want\" > /var/lib/kubeup/containerd.sha256\n"
	"fi\n"
	"systemctl is-active -q containerd\n";

static ku_rc
ku_runtime(struct ku_task *t)
{
	struct ku_exec_result res;
	struct ku_buf script;
	bool changed = false;
	ku_rc rc;

	ku_buf_init(&script, 0);
	ku_script_raw_text(&script, ku_runtime_prepare);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_runtime_packages); i++) {
		ku_script_raw_text(&script, "dpkg-query -W -f='${Status}' ");
		ku_script_word(&script, ku_runtime_packages[i]);
		ku_script_raw_text(&script, " 2>/dev/null | grep -q 'ok "
		    "installed' || missing=\"$missing ");
		/* Package names are kubeup's own constants: [a-z0-9-]. */
		ku_script_raw_text(&script, ku_runtime_packages[i]);
		ku_script_raw_text(&script, "\"\n");
	}
	ku_script_raw_text(&script, ku_runtime_install);
	rc = ku_run_script(t, _("install the container runtime"),
	    script.data, &res);
	ku_exec_result_free(&res);
	ku_buf_free(&script);
	if (rc == KU_OK)
		rc = ku_task_place_rendered(t, "/etc/containerd/config.toml",
		    &changed);
	if (rc == KU_OK) {
		/* The CA of the operator's registry, where containerd (and
		 * ctr --hosts-dir) looks for it. */
		char *ca = ku_render_registry_ca_path(ku_task_spec(t));

		if (ca)
			rc = ku_task_upload(t, ku_task_spec(t)->registry_ca_file,
			    ca, 0644, NULL);
		free(ca);
	}
	if (rc != KU_OK)
		return rc;
	/* containerd restarts when its configuration is not the one it was
	 * last started with, whatever happened between the two steps. */
	ku_buf_init(&script, 0);
	ku_script_raw_text(&script, ku_runtime_start);
	rc = ku_run_script(t, _("start the container runtime"), script.data,
	    &res);
	ku_exec_result_free(&res);
	ku_buf_free(&script);
	return rc;
}

/* --- 1/upload-binaries --- */

static ku_rc
ku_upload_binaries(struct ku_task *t)
{
	struct ku_ssh_state *st = ku_state(t);
	struct ku_ssh_conn *conn;
	ku_rc rc = ku_session(t, &conn);

	for (int b = 0; rc == KU_OK && b < KU_BIN__COUNT; b++) {
		char *remote = xasprintf("/usr/local/bin/%s", ku_bin_names[b]);
		struct ku_ssh_upload up = {
			.remote_path = remote,
			.mode = 0755,
		};
		bool skipped = false;
		char *err = NULL;

		/* On --resume the download was an earlier run's: the cache
		 * has it, verified again here. */
		pthread_mutex_lock(&st->lock);
		rc = ku_ensure_binaries(t, st);
		up.local_path = st->bin_path[b];
		up.sha256_hex = st->bin_sha[b];
		pthread_mutex_unlock(&st->lock);
		if (rc != KU_OK) {
			free(remote);
			return rc;
		}
		rc = ku_ssh_upload(conn, &up, &skipped, &err);
		rc = ku_failed(t, rc, err);
		if (rc == KU_OK)
			ku_task_log(t, KU_LOG_INFO, "%s: %s", remote,
			    skipped ? "unchanged" : "uploaded");
		free(remote);
	}
	return rc;
}

/* --- exit checks --- */

/* A test container through the runtime's own CLI: the image is the pause
 * image from the spec's registry, pulled when missing. */
static ku_rc
ku_check_container(struct ku_task *t)
{
	const struct ku_spec *spec = ku_task_spec(t);
	struct ku_exec_result res;
	struct ku_buf script;
	char *image = ku_render_image(spec, "pause");
	ku_rc rc;

	ku_buf_init(&script, 0);
	ku_script_raw_text(&script, "set -eu\nimage=");
	ku_script_word(&script, image);
	ku_script_raw_text(&script, "\n"
	    "ctr -n kubeup-check images check \"name==$image\" 2>/dev/null |"
	    " grep -q . || ctr -n kubeup-check images pull"
	    " --hosts-dir /etc/containerd/certs.d \"$image\" "
	    ">/dev/null\n"
	    "ctr -n kubeup-check run --rm \"$image\" kubeup-check-$$ "
	    "/pause -v\n");
	rc = ku_run_script(t, _("run a test container"), script.data, &res);
	ku_exec_result_free(&res);
	ku_buf_free(&script);
	free(image);
	return rc;
}

/* How long check-reach gives a TCP connection: a first try for every
 * machine, then one longer try for those that did not answer. When
 * hundreds of machines all check each other at once, an SSH port's
 * accept queue can overflow; its SYNs are then resent after 1, 3 and 7
 * seconds, so a slow first connection is not yet a failure. */
#define KU_REACH_FIRST   5
#define KU_REACH_AGAIN  15

static void
ku_reach_probe(struct ku_buf *b, const char *fn, const struct ku_machine *m)
{
	char port[16];

	snprintf(port, sizeof port, "%d", m->port);
	ku_script_raw_text(b, fn);
	ku_script_raw_text(b, " ");
	ku_script_word(b, m->name);
	ku_script_raw_text(b, " ");
	ku_script_word(b, m->address);
	ku_script_raw_text(b, " ");
	ku_script_word(b, port);
	ku_script_raw_text(b, "\n");
}

/* Every machine reaches every other: a TCP connection from this machine
 * to each other machine's SSH port. */
static ku_rc
ku_check_reach(struct ku_task *t)
{
	const struct ku_spec *spec = ku_task_spec(t);
	const struct ku_machine *self = ku_task_machine(t);
	struct ku_exec_result res;
	struct ku_buf script;
	ku_rc rc;

	ku_buf_init(&script, 0);
	ku_script_raw_text(&script,
	    "slow= failed=\n"
	    "probe() { timeout \"$1\" bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' "
	    "\"$2\" \"$3\" 2>/dev/null; }\n"
	    "first() { probe " KU_STR(KU_REACH_FIRST) " \"$2\" \"$3\" || "
	    "slow=\"$slow $1\"; }\n"
	    "again() {\n"
	    "  case \"$slow \" in\n"
	    "  *\" $1 \"*) probe " KU_STR(KU_REACH_AGAIN) " \"$2\" \"$3\" || "
	    "failed=\"$failed $1\" ;;\n"
	    "  esac\n"
	    "}\n");
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++)
		if (ku_spec_machine(spec, i) != self)
			ku_reach_probe(&script, "first", ku_spec_machine(spec, i));
	ku_script_raw_text(&script, "if [ -n \"$slow\" ]; then\n");
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++)
		if (ku_spec_machine(spec, i) != self)
			ku_reach_probe(&script, "again", ku_spec_machine(spec, i));
	ku_script_raw_text(&script, "fi\n"
	    "if [ -n \"$failed\" ]; then echo \"cannot reach:$failed (no TCP "
	    "connection to the SSH port within " KU_STR(KU_REACH_FIRST)
	    " s, then " KU_STR(KU_REACH_AGAIN) " s)\" >&2; exit 1; fi\n"
	    "printf '%s' \"$slow\"\n");
	rc = ku_run_script(t, _("reach every other machine"), script.data,
	    &res);
	if (rc == KU_OK && res.out.len)
		ku_task_log(t, KU_LOG_WARN, _("%s reached%s only on the second "
		    "try (no connection within the first %d s)"),
		    ku_task_target(t), res.out.data, KU_REACH_FIRST);
	ku_exec_result_free(&res);
	ku_buf_free(&script);
	return rc;
}

/* --- kubeup down --- */

/* Undoes what the install did, from what it recorded on the machine;
 * every step tolerates a machine where it was never done, so down runs
 * twice safely. */
static const char ku_teardown_script[] =
	"set -u\n"
	"export LC_ALL=C DEBIAN_FRONTEND=noninteractive\n"
	"systemctl stop kubelet >/dev/null 2>&1 || true\n"
	"systemctl disable kubelet >/dev/null 2>&1 || true\n"
	"if command -v ctr >/dev/null 2>&1; then\n"
	"  for ns in k8s.io kubeup-check; do\n"
	"    for c in $(ctr -n $ns tasks ls -q 2>/dev/null); do\n"
	"      ctr -n $ns tasks kill -s SIGKILL \"$c\" >/dev/null 2>&1 || true\n"
	"      ctr -n $ns tasks delete -f \"$c\" >/dev/null 2>&1 || true\n"
	"    done\n"
	"    for c in $(ctr -n $ns containers ls -q 2>/dev/null); do\n"
	"      ctr -n $ns containers delete \"$c\" >/dev/null 2>&1 || true\n"
	"    done\n"
	"  done\n"
	"fi\n"
	"rm -f /etc/systemd/system/kubelet.service\n"
	/* the pods' volumes (tokens, secrets) are mounts: deepest first */
	"awk '$2 ~ \"^/var/lib/kubelet/\" { print $2 }' /proc/self/mounts |\n"
	"  sort -r | while IFS= read -r m; do\n"
	"    umount \"$m\" 2>/dev/null || umount -l \"$m\" 2>/dev/null || true\n"
	"  done\n"
	"rm -rf /etc/kubernetes /var/lib/kubelet /var/lib/etcd /var/log/kubernetes\n"
	/* what the network plugins kubeup applies leave on a machine */
	"rm -f /etc/cni/net.d/10-flannel.conflist /etc/cni/net.d/10-calico.conflist "
	    "/etc/cni/net.d/calico-kubeconfig\n"
	"rm -rf /run/flannel /var/lib/cni/networks /var/lib/cni/results\n"
	"for l in cni0 flannel.1; do ip link delete \"$l\" >/dev/null 2>&1 || true; done\n"
	/* kube-proxy's and the plugins' packet filter chains (what
	 * kube-proxy --cleanup removes): each table is written back whole,
	 * without them and without the rules that jump to them, in one
	 * iptables-restore (atomic per table) */
	"for x in iptables ip6tables; do\n"
	"  command -v $x-save >/dev/null 2>&1 || continue\n"
	"  for t in filter nat mangle raw; do\n"
	"    rules=$($x-save -t $t 2>/dev/null) || continue\n"
	"    printf '%s\\n' \"$rules\" | grep -Eq '^:(KUBE-|FLANNEL-|cali-)' || continue\n"
	"    printf '%s\\n' \"$rules\" | awk '\n"
	"      /^:(KUBE-|FLANNEL-|cali-)/ { next }\n"
	"      /^-A (KUBE-|FLANNEL-|cali-)/ { next }\n"
	"      /^-A / && / -[jg] (KUBE-|FLANNEL-|cali-)/ { next }\n"
	"      { print }' | $x-restore ||\n"
	"      echo \"$x: the $t table keeps kube-proxy's chains\" >&2\n"
	"  done\n"
	"done\n"
	/* the links phase 1 made to Debian's CNI plugins */
	"for p in /opt/cni/bin/*; do\n"
	"  case $(readlink \"$p\" 2>/dev/null) in /usr/lib/cni/*) rm -f \"$p\" ;; esac\n"
	"done\n"
	"rm -f /usr/local/bin/kubelet /usr/local/bin/kubectl\n"
	"rm -f /etc/modules-load.d/kubeup.conf /etc/sysctl.d/99-kubeup.conf\n"
	"if [ -f /var/lib/kubeup/containerd-config.orig ]; then\n"
	"  cp -p /var/lib/kubeup/containerd-config.orig /etc/containerd/config.toml\n"
	"elif [ -f /var/lib/kubeup/before ]; then\n"
	"  rm -f /etc/containerd/config.toml\n"
	"fi\n"
	"if [ -f /var/lib/kubeup/before ]; then\n"
	"  while IFS= read -r line; do\n"
	"    case $line in\n"
	"    'sysctl '*=?*) kv=${line#sysctl }; sysctl -q -w \"$kv\" || true ;;\n"
	"    swap=*) for d in ${line#swap=}; do swapon \"$d\" || true; done ;;\n"
	"    esac\n"
	"  done < /var/lib/kubeup/before\n"
	"fi\n"
	"systemctl daemon-reload >/dev/null 2>&1 || true\n";

static const char ku_teardown_purge[] =
	"if [ -s /var/lib/kubeup/packages ]; then\n"
	"  systemctl stop containerd >/dev/null 2>&1 || true\n"
	"  apt-get remove -y -q $(sort -u /var/lib/kubeup/packages) || exit 1\n"
	"fi\n";

static ku_rc
ku_teardown(struct ku_task *t)
{
	struct ku_ssh_state *st = ku_state(t);
	struct ku_exec_result res;
	struct ku_buf script;
	ku_rc rc;

	char *ca = ku_render_registry_ca_path(ku_task_spec(t));

	ku_buf_init(&script, 0);
	ku_script_raw_text(&script, ku_teardown_script);
	if (ca) {
		ku_script_cmd(&script, "rm", "-f", "--", ca, NULL);
		free(ca);
	}
	if (st->purge)
		ku_script_raw_text(&script, ku_teardown_purge);
	ku_script_raw_text(&script, "rm -rf /var/lib/kubeup\n");
	rc = ku_run_script(t, _("undo the install"), script.data, &res);
	ku_exec_result_free(&res);
	ku_buf_free(&script);
	return rc;
}

/* --- the transport for other phases --- */

static ku_rc
ku_ssh_exec_op(struct ku_task *t, const struct ku_machine *m,
    const char *script, struct ku_exec_result *res)
{
	struct ku_ssh_conn *conn;
	char *err = NULL;
	ku_rc rc = ku_session(t, &conn);

	if (rc != KU_OK)
		return rc;
	rc = ku_ssh_exec(conn, script, KU_SSH_PRIVILEGED, 0, res, &err);
	return ku_failed(t, rc, err);
}

/* A file (local_path) or memory (data, len) to the machine; unchanged
 * files are not sent again. */
static ku_rc
ku_ssh_send(struct ku_task *t, const char *local_path, const void *data,
    size_t len, const char *remote_path, mode_t mode, bool *changed)
{
	struct ku_ssh_conn *conn;
	bool skipped = false;
	char *err = NULL;
	ku_rc rc = ku_session(t, &conn);

	if (rc != KU_OK)
		return rc;
	if (local_path)
		rc = ku_ssh_upload_file(conn, local_path, remote_path, mode,
		    &skipped, &err);
	else
		rc = ku_ssh_upload_mem(conn, data, len, remote_path, mode,
		    &skipped, &err);
	if (changed)
		*changed = rc == KU_OK && !skipped;
	return ku_failed(t, rc, err);
}

static ku_rc
ku_ssh_upload_op(struct ku_task *t, const struct ku_machine *m,
    const char *local_path, const char *remote_path, mode_t mode,
    bool *changed)
{
	(void)m;
	return ku_ssh_send(t, local_path, NULL, 0, remote_path, mode, changed);
}

static ku_rc
ku_ssh_place_op(struct ku_task *t, const struct ku_machine *m,
    const void *data, size_t len, const char *remote_path, mode_t mode,
    bool *changed)
{
	(void)m;
	return ku_ssh_send(t, NULL, data, len, remote_path, mode, changed);
}

/* --- phase 1 --- */

static const struct ku_substep_def ku_ssh_provision_substeps[] = {
	{
		.id = "fetch-binaries",
		.title = N_("Download kubelet and kubectl (checksums verified)"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_fetch_binaries,
	},
	{
		.id = "connect",
		.title = N_("Connect and verify host keys"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_connect,
	},
	{
		.id = "conformance",
		.title = N_("Check the node specification"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_conformance,
	},
	{
		.id = "unique",
		.title = N_("Names, MAC addresses and product_uuids are unique; "
		    "clocks agree"),
		.scope = KU_SCOPE_CLUSTER,
		.run = ku_unique,
	},
	{
		.id = "runtime",
		.title = N_("Install the container runtime and prerequisites"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_runtime,
	},
	{
		.id = "upload-binaries",
		.title = N_("Upload kubelet and kubectl"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_upload_binaries,
	},
	{
		.id = "check-container",
		.title = N_("Run a test container"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_check_container,
		.exit_check = true,
	},
	{
		.id = "check-reach",
		.title = N_("Reach every other machine"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_check_reach,
		.exit_check = true,
	},
};

static const struct ku_phase_def ku_ssh_provision = {
	.id = "1",
	.title = N_("Provision machines"),
	.substeps = ku_ssh_provision_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_ssh_provision_substeps),
};

static const struct ku_substep_def ku_ssh_teardown_substeps[] = {
	{
		.id = "connect",
		.title = N_("Connect and verify host keys"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_connect,
	},
	{
		.id = "teardown",
		.title = N_("Stop the kubelet and containers, remove what kubeup "
		    "placed, restore sysctls and swap"),
		.scope = KU_SCOPE_MACHINES,
		.run = ku_teardown,
	},
};

static const struct ku_phase_def ku_ssh_teardown = {
	.id = "down",
	.title = N_("Undo the install on the machines"),
	.substeps = ku_ssh_teardown_substeps,
	.n_substeps = KU_ARRAY_LEN(ku_ssh_teardown_substeps),
};

/* --- the API phases' connections through the jump host --- */

static bool
ku_ssh_routed(const struct ku_spec *spec)
{
	return spec->ssh.jump != NULL;
}

/* A tunnel to address:port made by the jump host, as the master's own SSH
 * connection is made: its user, key, known hosts and timeouts. */
static ku_rc
ku_ssh_dial(void *state, const char *address, int port, int listen_fd,
    int client_port, void **conn, char **err)
{
	struct ku_ssh_state *st = state;
	struct ku_ssh_conn *c = NULL;
	struct ku_ssh_opts o;
	struct ku_ssh_endpoint jump;
	ku_rc rc;

	ku_ssh_options(st, &st->spec->master, &o, &jump);
	o.target.name = NULL;
	o.target.address = address;
	o.target.port = port;
	rc = ku_ssh_tunnel(&o, listen_fd, client_port, &c, err);
	*conn = c;
	return rc;
}

static void
ku_ssh_hangup(void *state, void *conn)
{
	(void)state;
	ku_ssh_close(conn);
}

const struct ku_provider ku_provider_ssh = {
	.name = "ssh",
	.provision = &ku_ssh_provision,
	.open = ku_ssh_open,
	.close = ku_ssh_close_state,
	.exec = ku_ssh_exec_op,
	.upload = ku_ssh_upload_op,
	.place = ku_ssh_place_op,
	.routed = ku_ssh_routed,
	.dial = ku_ssh_dial,
	.hangup = ku_ssh_hangup,
	.teardown = &ku_ssh_teardown,
};
