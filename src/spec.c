/* The spec as a value: its defaults, copies, machines by index, and the
 * problems found in it.
 *
 * What each key of answers.conf means, how it is spelled, checked, written
 * and compared lives in one table in answers.c; this file only owns the
 * memory. A field added to struct ku_spec is added here (new, dup, free)
 * and to that table.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "i18n.h"
#include "pki.h"
#include "shell.h"
#include "spec.h"
#include "util.h"
#include "versions.h"

/* --- problems --- */

void
ku_diags_add(struct ku_diags *d, const char *file, int line,
    const char *key, const char *fmt, ...)
{
	struct ku_diag *g;
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	g = &d->v[d->n++];
	g->file = file ? xstrdup(file) : NULL;
	g->line = line > 0 ? line : 0;
	g->key = key && key[0] ? xstrdup(key) : NULL;
	va_start(ap, fmt);
	g->message = xvasprintf(fmt, ap);
	va_end(ap);
}

void
ku_diags_free(struct ku_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].key);
		free(d->v[i].message);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

char *
ku_diag_format(const struct ku_diag *d)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	if (d->file && d->file[0]) {
		if (d->line > 0)
			ku_buf_printf(&b, "%s:%d: ", d->file, d->line);
		else
			ku_buf_printf(&b, "%s: ", d->file);
	}
	if (d->key && d->key[0])
		ku_buf_printf(&b, "%s: ", d->key);
	ku_buf_adds(&b, d->message ? d->message : "");
	return ku_buf_steal(&b);
}

/* --- lifetime --- */

static char *
spec_default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");

	/* The XDG base directory spec: a relative value is to be ignored. */
	if (xdg && xdg[0] == '/')
		return ku_path_join(xdg, "kubeup");
	return ku_path_expand("~/.cache/kubeup", NULL);
}

struct ku_spec *
ku_spec_new(void)
{
	struct ku_spec *s = xcalloc(1, sizeof *s);

	s->name = xstrdup("kubeup");
	s->version = xstrdup(ku_version_default());
	s->allow_unsupported_version = false;
	s->pod_cidr = xstrdup("10.244.0.0/16");
	s->service_cidr = xstrdup("10.96.0.0/12");
	s->dns_domain = xstrdup("cluster.local");
	s->node_count = 0;

	s->provider = KU_PROVIDER_SSH;
	s->ssh.user = xstrdup("root");
	s->ssh.port = 22;
	s->ssh.key_file = NULL;
	s->ssh.sudo = false;
	s->ssh.known_hosts = ku_path_expand("~/.ssh/known_hosts", NULL);
	s->ssh.host_key_policy = KU_HOSTKEY_STRICT;
	s->ssh.connect_timeout = 10;
	s->ssh.command_timeout = 600;
	s->ssh.keepalive = 15;

	s->master.port = 22;

	s->plugin = KU_NET_FLANNEL;
	s->addon_dns = true;
	s->addon_dashboard = true;
	s->addon_metrics_server = true;
	s->runtime = KU_RUNTIME_CONTAINERD;
	s->cgroup_driver = KU_CGROUP_SYSTEMD;

	s->registry = xstrdup("registry.k8s.io");
	s->download_base_url = xstrdup("https://dl.k8s.io/release");
	s->download_cache_dir = spec_default_cache_dir();

	s->key_type = KU_KEY_ECDSA_P256;

	s->parallelism = 32;
	s->retries = 2;
	s->retry_backoff_ms = 2000;
	s->retry_backoff_max_ms = 30000;
	s->on_failure = KU_ON_FAILURE_ABORT;
	s->wait_timeout = 300;
	return s;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
machine_free(struct ku_machine *m)
{
	free(m->name);
	free(m->address);
	free(m->user);
	free(m->key_file);
}

static void
machine_copy(struct ku_machine *to, const struct ku_machine *from)
{
	*to = *from;
	to->name = dup_or_null(from->name);
	to->address = dup_or_null(from->address);
	to->user = dup_or_null(from->user);
	to->key_file = dup_or_null(from->key_file);
}

static void
jump_free(struct ku_jump_host *j)
{
	if (j == NULL)
		return;
	free(j->address);
	free(j->user);
	free(j->key_file);
	free(j);
}

void
ku_spec_free(struct ku_spec *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->version);
	free(s->pod_cidr);
	free(s->service_cidr);
	free(s->dns_domain);
	ku_strv_free(&s->api_sans);

	free(s->ssh.user);
	free(s->ssh.key_file);
	free(s->ssh.sudo_password_file);
	free(s->ssh.sudo_password_env);
	ku_spec_set_sudo_password(s, NULL);
	free(s->ssh.known_hosts);
	jump_free(s->ssh.jump);

	machine_free(&s->master);
	for (size_t i = 0; i < s->n_nodes; i++)
		machine_free(&s->nodes[i]);
	free(s->nodes);

	free(s->custom_manifest);
	free(s->registry);
	free(s->registry_ca_file);
	free(s->download_base_url);
	free(s->download_ca_file);
	free(s->download_cache_dir);
	free(s->source);
	free(s);
}

struct ku_spec *
ku_spec_dup(const struct ku_spec *from)
{
	struct ku_spec *s;

	if (from == NULL)
		return NULL;
	s = xmalloc(sizeof *s);
	*s = *from;

	s->name = dup_or_null(from->name);
	s->version = dup_or_null(from->version);
	s->pod_cidr = dup_or_null(from->pod_cidr);
	s->service_cidr = dup_or_null(from->service_cidr);
	s->dns_domain = dup_or_null(from->dns_domain);
	memset(&s->api_sans, 0, sizeof s->api_sans);
	for (size_t i = 0; i < from->api_sans.n; i++)
		ku_strv_push(&s->api_sans, from->api_sans.v[i]);

	s->ssh.user = dup_or_null(from->ssh.user);
	s->ssh.key_file = dup_or_null(from->ssh.key_file);
	s->ssh.sudo_password_file = dup_or_null(from->ssh.sudo_password_file);
	s->ssh.sudo_password_env = dup_or_null(from->ssh.sudo_password_env);
	s->ssh.sudo_password = dup_or_null(from->ssh.sudo_password);
	s->ssh.known_hosts = dup_or_null(from->ssh.known_hosts);
	s->ssh.jump = NULL;
	if (from->ssh.jump) {
		s->ssh.jump = xmalloc(sizeof *s->ssh.jump);
		*s->ssh.jump = *from->ssh.jump;
		s->ssh.jump->address = dup_or_null(from->ssh.jump->address);
		s->ssh.jump->user = dup_or_null(from->ssh.jump->user);
		s->ssh.jump->key_file = dup_or_null(from->ssh.jump->key_file);
	}

	machine_copy(&s->master, &from->master);
	s->nodes = NULL;
	if (from->n_nodes) {
		s->nodes = xcalloc(from->n_nodes, sizeof *s->nodes);
		for (size_t i = 0; i < from->n_nodes; i++)
			machine_copy(&s->nodes[i], &from->nodes[i]);
	}

	s->custom_manifest = dup_or_null(from->custom_manifest);
	s->registry = dup_or_null(from->registry);
	s->registry_ca_file = dup_or_null(from->registry_ca_file);
	s->download_base_url = dup_or_null(from->download_base_url);
	s->download_ca_file = dup_or_null(from->download_ca_file);
	s->download_cache_dir = dup_or_null(from->download_cache_dir);
	s->source = dup_or_null(from->source);
	return s;
}

/* --- machines by index --- */

size_t
ku_spec_n_machines(const struct ku_spec *spec)
{
	return 1 + spec->n_nodes;
}

const struct ku_machine *
ku_spec_machine(const struct ku_spec *spec, size_t i)
{
	if (i == 0)
		return &spec->master;
	if (i - 1 < spec->n_nodes)
		return &spec->nodes[i - 1];
	return NULL;
}

char *
ku_spec_api_forward(const struct ku_spec *spec)
{
	const struct ku_jump_host *j = spec->ssh.jump;
	struct ku_buf b;
	char *fwd, *dest;

	if (j == NULL)
		return NULL;
	/* The apiserver's certificate names 127.0.0.1 (pki.c), so TLS
	 * verifies through the forward as it does directly. */
	if (strchr(spec->master.address, ':'))   /* IPv6: in brackets */
		fwd = xasprintf("127.0.0.1:%d:[%s]:%d", KU_PKI_API_PORT,
		    spec->master.address, KU_PKI_API_PORT);
	else
		fwd = xasprintf("127.0.0.1:%d:%s:%d", KU_PKI_API_PORT,
		    spec->master.address, KU_PKI_API_PORT);
	dest = j->user ? xasprintf("%s@%s", j->user, j->address) :
	    xstrdup(j->address);
	ku_buf_init(&b, 0);
	ku_script_raw(&b, "ssh -N -L ");
	ku_script_word(&b, fwd);
	if (j->port != 22) {
		char port[16];

		snprintf(port, sizeof port, "%d", j->port);
		ku_script_raw(&b, " -p ");
		ku_script_word(&b, port);
	}
	if (j->key_file) {
		ku_script_raw(&b, " -i ");
		ku_script_word(&b, j->key_file);
	}
	ku_script_raw(&b, " ");
	ku_script_word(&b, dest);
	free(fwd);
	free(dest);
	return ku_buf_steal(&b);
}

void
ku_spec_set_sudo_password(struct ku_spec *s, const char *pw)
{
	if (s->ssh.sudo_password != NULL) {
		OPENSSL_cleanse(s->ssh.sudo_password,
		    strlen(s->ssh.sudo_password));
		free(s->ssh.sudo_password);
	}
	s->ssh.sudo_password = pw != NULL && pw[0] ? xstrdup(pw) : NULL;
}

ku_rc
ku_spec_sudo_password(const struct ku_spec *spec, char **out, char **err)
{
	const struct ku_ssh *ssh = &spec->ssh;
	struct ku_buf b;
	char *pw;

	*out = NULL;
	if (ssh->sudo_password && ssh->sudo_password[0]) {
		*out = xstrdup(ssh->sudo_password);   /* typed in the wizard */
	} else if (ssh->sudo_password_env && ssh->sudo_password_env[0]) {
		const char *v = getenv(ssh->sudo_password_env);

		if (v == NULL || v[0] == '\0') {
			*err = xasprintf(_("provider.ssh.sudo_password_env: the "
			    "environment variable %s is not set"),
			    ssh->sudo_password_env);
			return KU_ERR_INVALID;
		}
		*out = xstrdup(v);
	} else if (ssh->sudo_password_file && ssh->sudo_password_file[0]) {
		ku_buf_init(&b, 4096);
		if (ku_read_file(ssh->sudo_password_file, 4096, &b) != KU_OK) {
			*err = xasprintf(_("provider.ssh.sudo_password_file: "
			    "%s: cannot read: %s"), ssh->sudo_password_file,
			    strerror(errno));
			ku_buf_free(&b);
			return KU_ERR_IO;
		}
		pw = ku_buf_steal(&b);
		pw[strcspn(pw, "\r\n")] = '\0';
		*out = pw;
	}
	return KU_OK;
}
