/* The wizard's input screens (welcome, provider, cluster, machines,
 * network, add-ons, review), the screen table, and the loop's handlers. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "answers.h"
#include "i18n.h"
#include "journal.h"
#include "wizard.h"

enum { DLG_HELP = 1, DLG_QUIT, DLG_CONFIRM, DLG_INFO, DLG_STOP };
enum { ACT_BACK = 100, ACT_NEXT, ACT_CHECK, ACT_SAVE, ACT_INSTALL,
    ACT_RESUME, ACT_START_OVER, ACT_QUIT };

static const struct ku_binding wz_form_keys[] = {
	{ 0, KEY_F(1), KU_A_HELP, "F1", N_("help") },
	{ 0, 0, KU_A_NONE, "Tab", N_("next field") },
	{ 0, 0, KU_A_NONE, "Enter", N_("next") },
	{ 27, 0, KU_A_BACK, "Esc", N_("back") },
	{ 0, KEY_F(10), KU_A_QUIT, "F10", N_("quit") },
};

/* --- small helpers --- */

static void
wz_set_str(char **dst, const char *v, bool optional)
{
	free(*dst);
	*dst = (optional && (v == NULL || *v == '\0')) ? NULL :
	    xstrdup(v ? v : "");
}

static const char *
wz_text(struct wz *w, const char *key)
{
	struct wz_item *it = wz_form_find(&w->form, key);
	return it && it->field.text ? it->field.text : "";
}

/* An integer field; false (and the item flagged) when it is not one. */
static bool
wz_int(struct wz *w, const char *key, int min, int max, int *out)
{
	struct wz_item *it = wz_form_find(&w->form, key);
	const char *s = it ? it->field.text : NULL;
	char *end;
	long v;

	if (it == NULL)
		return true;
	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end || errno || v < INT_MIN ||
	    v > INT_MAX) {
		free(it->error);
		it->error = xasprintf(_("%s: must be an integer from %d to %d, "
		    "not \"%s\""), key, min, max, s ? s : "");
		return false;
	}
	*out = (int)v;
	return true;
}

void
wz_status(struct wz *w, bool error, const char *fmt, ...)
{
	va_list ap;

	free(w->status);
	w->status = NULL;
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	w->status = xvasprintf(fmt, ap);
	va_end(ap);
	w->status_error = error;
}

void
wz_title(struct wz *w, const char *title)
{
	char *t;
	int step = (int)w->screen + 1;

	attrset(ku_ui_attr(KU_C_BAR));
	mvhline(0, 0, ' ', COLS);
	if (w->screen <= WZ_REVIEW)
		t = xasprintf(_("kubeup %s - step %d of %d: %s"),
		    PACKAGE_VERSION, step, (int)WZ_REVIEW + 1, title);
	else
		t = xasprintf("kubeup %s - %s", PACKAGE_VERSION, title);
	ku_ui_put(0, 1, COLS - 2, 0, t);
	free(t);
	attrset(A_NORMAL);
}

void
wz_draw_status(struct wz *w)
{
	if (w->status == NULL)
		return;
	attrset(ku_ui_attr(w->status_error ? KU_C_ERROR : KU_C_DONE));
	mvhline(LINES - 2, 0, ' ', COLS);
	ku_ui_put(LINES - 2, 1, COLS - 2, 0, w->status);
	attrset(A_NORMAL);
}

/* A paragraph at (y, 2); returns the rows used. */
static int
wz_para(int y, const char *text)
{
	struct ku_strv parts = { 0 };
	int n = (int)ku_ui_wrap(text, COLS - 4, &parts);
	for (int i = 0; i < n; i++)
		ku_ui_put(y + i, 2, COLS - 4, 0, parts.v[i]);
	ku_strv_free(&parts);
	return n;
}

static void
wz_buttons(struct wz_form *f, bool back)
{
	struct wz_item *it;

	wz_form_add(f, WI_LABEL, "", NULL);
	it = wz_form_add(f, WI_BUTTON, _("Next"), NULL);
	it->action = ACT_NEXT;
	if (back) {
		it = wz_form_add(f, WI_BUTTON, _("Back"), NULL);
		it->action = ACT_BACK;
	}
}

static void
wz_form_screen_draw(struct wz *w, const char *intro)
{
	int y = 2;

	wz_title(w, _(wz_screens[w->screen].title));
	if (intro)
		y += wz_para(y, intro) + 1;
	wz_form_draw(&w->form, y, LINES - y - 3);
	wz_draw_status(w);
	ku_ui_footer(wz_form_keys, KU_ARRAY_LEN(wz_form_keys));
}

static int
wz_form_screen_key(struct wz *w, const struct ku_key *k)
{
	int action, flags = wz_form_key(w, &w->form, k, &action);

	if (k->act == KU_A_ENTER && action < 0 && w->form.n &&
	    w->form.focus + 1 >= w->form.n)
		action = ACT_NEXT;
	switch (action) {
	case ACT_BACK:
		wz_go(w, w->screen - 1);
		return KU_UI_REDRAW;
	case ACT_NEXT:
		wz_go(w, w->screen + 1);
		return KU_UI_REDRAW;
	default:
		return flags;
	}
}

/* --- the machines of a spec --- */

static void
wz_machine_defaults(const struct ku_spec *s, struct ku_machine *m)
{
	wz_set_str(&m->user, s->ssh.user, false);
	m->port = s->ssh.port;
	wz_set_str(&m->key_file, s->ssh.key_file, true);
	m->sudo = s->ssh.sudo;
}

static void
wz_machine_free(struct ku_machine *m)
{
	free(m->name);
	free(m->address);
	free(m->user);
	free(m->key_file);
	memset(m, 0, sizeof *m);
}

void
wz_spec_resize_nodes(struct ku_spec *s, int n)
{
	if (n < 0 || n > 1000 || (size_t)n == s->n_nodes)
		return;
	for (size_t i = (size_t)n; i < s->n_nodes; i++)
		wz_machine_free(&s->nodes[i]);
	s->nodes = xreallocarray(s->nodes, n ? (size_t)n : 1,
	    sizeof *s->nodes);
	for (size_t i = s->n_nodes; i < (size_t)n; i++) {
		memset(&s->nodes[i], 0, sizeof s->nodes[i]);
		s->nodes[i].name = xasprintf("node-%zu", i + 1);
		wz_machine_defaults(s, &s->nodes[i]);
	}
	s->n_nodes = (size_t)n;
}

/* --- welcome --- */

static void
wz_welcome_init(struct wz *w)
{
	struct wz_item *it;

	if (w->resume_dir) {
		it = wz_form_add(&w->form, WI_BUTTON,
		    _("Resume the unfinished install"), NULL);
		it->action = ACT_RESUME;
		it = wz_form_add(&w->form, WI_BUTTON,
		    _("Start over (what is done is checked again, not undone)"),
		    NULL);
		it->action = ACT_START_OVER;
	} else {
		it = wz_form_add(&w->form, WI_BUTTON, _("Start"), NULL);
		it->action = ACT_NEXT;
	}
	it = wz_form_add(&w->form, WI_BUTTON, _("Quit"), NULL);
	it->action = ACT_QUIT;
}

static void
wz_welcome_draw(struct wz *w)
{
	int y = 2;

	wz_title(w, _("Welcome"));
	y += wz_para(y, _("kubeup installs a Kubernetes cluster - one master "
	    "and any number of nodes, TLS everywhere - on machines you reach "
	    "over SSH, in six phases: provision machines, certificates, the "
	    "master, kubelets and networking on the nodes, cluster daemons, "
	    "add-ons.")) + 1;
	y += wz_para(y, _("You need: the machines' addresses (Debian 12 or "
	    "similar, reachable over SSH), an SSH key that logs in as root or "
	    "as a user with sudo, and their host keys (or accept them here "
	    "after checking the fingerprints).")) + 1;
	y += wz_para(y, _("Nothing is changed on any machine until you "
	    "confirm the install on the review screen.")) + 1;
	if (w->resume_dir) {
		char *s = xasprintf(_("An unfinished install of cluster \"%s\" "
		    "was found in %s."), w->spec->name, w->resume_dir);
		attrset(ku_ui_attr(KU_C_WARN));
		y += wz_para(y, s) + 1;
		attrset(A_NORMAL);
		free(s);
	}
	wz_form_draw(&w->form, y, LINES - y - 3);
	wz_draw_status(w);
	ku_ui_footer(wz_form_keys, KU_ARRAY_LEN(wz_form_keys));
}

static int
wz_welcome_key(struct wz *w, const struct ku_key *k)
{
	int action;
	int flags = wz_form_key(w, &w->form, k, &action);
	struct ku_diags diags = { 0 };
	struct ku_spec *saved = NULL;

	switch (action) {
	case ACT_RESUME:
		if (ku_run_saved_answers(w->resume_dir, NULL, &saved,
		    &diags) != KU_OK) {
			char *m = diags.n ? ku_diag_format(&diags.v[0]) :
			    xstrdup("?");
			wz_status(w, true, "%s", m);
			free(m);
			ku_diags_free(&diags);
			return KU_UI_REDRAW;
		}
		ku_spec_free(w->spec);
		w->spec = saved;
		w->resume = true;
		wz_install_start(w);
		return KU_UI_REDRAW;
	case ACT_START_OVER:
	case ACT_NEXT:
		w->resume = false;
		wz_go(w, WZ_PROVIDER);
		return KU_UI_REDRAW;
	case ACT_QUIT:
		w->exit_status = 3;
		return KU_UI_QUIT;
	default:
		return flags;
	}
}

/* --- provider --- */

static const char *wz_provider_choices[1];

static void
wz_provider_init(struct wz *w)
{
	struct wz_item *it = wz_form_add(&w->form, WI_CHOICE, _("Provider"),
	    "provider.type");
	wz_provider_choices[0] = _("ssh: machines you already have, reached "
	    "over SSH");
	it->choices = wz_provider_choices;
	it->n_choices = 1;
	it->choice = 0;
	wz_buttons(&w->form, true);
}

static void
wz_provider_draw(struct wz *w)
{
	wz_form_screen_draw(w, _("Where do the machines come from? Only "
	    "existing machines reached over SSH are supported in this version; "
	    "gce and aws are not available yet."));
}

static bool
wz_provider_leave(struct wz *w)
{
	w->spec->provider = KU_PROVIDER_SSH;
	return true;
}

/* --- cluster --- */

static void
wz_cluster_init(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *it;
	char n[16];

	wz_form_text(&w->form, _("Cluster name"), "cluster.name", s->name);
	wz_form_text(&w->form, _("Kubernetes version"), "cluster.version",
	    s->version);
	it = wz_form_add(&w->form, WI_TOGGLE, _("Accept a test-only "
	    "Kubernetes release"), "cluster.allow_unsupported_version");
	it->on = s->allow_unsupported_version;
	snprintf(n, sizeof n, "%d", s->node_count);
	wz_form_text(&w->form, _("Worker nodes"), "cluster.node_count", n);
	wz_buttons(&w->form, true);
}

static bool
wz_cluster_leave(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *t = wz_form_find(&w->form,
	    "cluster.allow_unsupported_version");
	int n = s->node_count;
	bool ok;

	wz_set_str(&s->name, wz_text(w, "cluster.name"), false);
	wz_set_str(&s->version, wz_text(w, "cluster.version"), false);
	if (t)
		s->allow_unsupported_version = t->on;
	ok = wz_int(w, "cluster.node_count", 0, 1000, &n);
	if (ok) {
		s->node_count = n;
		wz_spec_resize_nodes(s, n);
	}
	return ok;
}

static void
wz_cluster_draw(struct wz *w)
{
	wz_form_screen_draw(w, _("The cluster's name names its state "
	    "directory; the nodes are the machines besides the master."));
}

/* --- machines --- */

static const char *wz_policy_choices[2];

static void
wz_machines_init(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *it;
	char n[16];

	wz_form_add(&w->form, WI_LABEL, _("How to log in (every machine)"),
	    NULL);
	wz_form_text(&w->form, _("SSH user"), "provider.ssh.user", s->ssh.user);
	snprintf(n, sizeof n, "%d", s->ssh.port);
	wz_form_text(&w->form, _("SSH port"), "provider.ssh.port", n);
	wz_form_text(&w->form, _("Private key file"), "provider.ssh.key",
	    s->ssh.key_file ? s->ssh.key_file : "");
	it = wz_form_add(&w->form, WI_TOGGLE, _("Use sudo (the user is not "
	    "root)"), "provider.ssh.sudo");
	it->on = s->ssh.sudo;
	/* kept in memory only: answers.conf names a file or a variable */
	it = wz_form_add(&w->form, WI_TEXT, _("Sudo password (empty: none, "
	    "or the answers' file)"), "wizard.sudo_password");
	it->field.secret = true;
	ku_field_set(&it->field, s->ssh.sudo_password);
	wz_form_text(&w->form, _("known_hosts file"), "provider.ssh.known_hosts",
	    s->ssh.known_hosts);
	wz_policy_choices[0] = _("strict: only keys already known");
	wz_policy_choices[1] = _("accept-new: record unknown keys");
	it = wz_form_add(&w->form, WI_CHOICE, _("Host keys"),
	    "provider.ssh.host_key_policy");
	it->choices = wz_policy_choices;
	it->n_choices = 2;
	it->choice = s->ssh.host_key_policy == KU_HOSTKEY_ACCEPT_NEW;

	wz_form_add(&w->form, WI_LABEL, _("Machines"), NULL);
	for (size_t i = 0; i < ku_spec_n_machines(s); i++) {
		const struct ku_machine *m = ku_spec_machine(s, i);
		char *kn, *ka, *ln, *la;
		if (i == 0) {
			kn = xstrdup("machines.master.name");
			ka = xstrdup("machines.master.address");
			ln = xstrdup(_("Master: name"));
			la = xstrdup(_("Master: address"));
		} else {
			kn = xasprintf("machines.nodes[%zu].name", i - 1);
			ka = xasprintf("machines.nodes[%zu].address", i - 1);
			ln = xasprintf(_("Node %zu: name"), i);
			la = xasprintf(_("Node %zu: address"), i);
		}
		it = wz_form_text(&w->form, ln, kn, m->name ? m->name :
		    i == 0 ? "master" : "");
		it->ref = (int)i;
		it = wz_form_text(&w->form, la, ka, m->address);
		it->ref = (int)i;
		free(kn);
		free(ka);
		free(ln);
		free(la);
	}
	wz_form_add(&w->form, WI_LABEL, "", NULL);
	it = wz_form_add(&w->form, WI_BUTTON, _("Check connections"), NULL);
	it->action = ACT_CHECK;
	wz_buttons(&w->form, true);
}

static bool
wz_machines_leave(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *it;
	char *old_user = s->ssh.user ? xstrdup(s->ssh.user) : NULL;
	char *old_key = s->ssh.key_file ? xstrdup(s->ssh.key_file) : NULL;
	int old_port = s->ssh.port;
	bool old_sudo = s->ssh.sudo, ok;
	const char *key = wz_text(w, "provider.ssh.key");

	wz_set_str(&s->ssh.user, wz_text(w, "provider.ssh.user"), false);
	ok = wz_int(w, "provider.ssh.port", 1, 65535, &s->ssh.port);
	free(s->ssh.key_file);
	s->ssh.key_file = *key ? ku_path_expand(key, NULL) : NULL;
	if ((it = wz_form_find(&w->form, "provider.ssh.sudo")))
		s->ssh.sudo = it->on;
	if ((it = wz_form_find(&w->form, "wizard.sudo_password")))
		ku_spec_set_sudo_password(s, it->field.text);
	free(s->ssh.known_hosts);
	s->ssh.known_hosts = ku_path_expand(wz_text(w,
	    "provider.ssh.known_hosts"), NULL);
	if ((it = wz_form_find(&w->form, "provider.ssh.host_key_policy")))
		s->ssh.host_key_policy = it->choice ? KU_HOSTKEY_ACCEPT_NEW :
		    KU_HOSTKEY_STRICT;

	for (size_t i = 0; i < w->form.n; i++) {
		struct wz_item *f = &w->form.v[i];
		struct ku_machine *m;
		if (f->ref < 0 || (size_t)f->ref >= ku_spec_n_machines(s))
			continue;
		m = (struct ku_machine *)ku_spec_machine(s, (size_t)f->ref);
		if (ku_str_has_prefix(strrchr(f->key, '.'), ".name"))
			wz_set_str(&m->name, f->field.text, true);
		else
			wz_set_str(&m->address, f->field.text, true);
	}
	/* A machine that had the old default follows the new one; one with
	 * its own value (from an answers file) keeps it. */
	for (size_t i = 0; i < ku_spec_n_machines(s); i++) {
		struct ku_machine *m = (struct ku_machine *)ku_spec_machine(s, i);
		if (ku_streq(m->user, old_user) || m->user == NULL)
			wz_set_str(&m->user, s->ssh.user, false);
		if (m->port == old_port || m->port == 0)
			m->port = s->ssh.port;
		if (ku_streq(m->key_file, old_key))
			wz_set_str(&m->key_file, s->ssh.key_file, true);
		if (m->sudo == old_sudo)
			m->sudo = s->ssh.sudo;
	}
	free(old_user);
	free(old_key);
	return ok;
}

static void
wz_machines_draw(struct wz *w)
{
	wz_form_screen_draw(w, NULL);
}

static int
wz_machines_key(struct wz *w, const struct ku_key *k)
{
	int action, flags;

	if (k->act == KU_A_NONE && (k->ch == 'c' || k->ch == 'C') &&
	    w->form.v[w->form.focus].kind != WI_TEXT) {
		wz_checks_start(w);
		return KU_UI_REDRAW;
	}
	flags = wz_form_key(w, &w->form, k, &action);
	if (action == ACT_CHECK) {
		wz_checks_start(w);
		return KU_UI_REDRAW;
	}
	if (action == ACT_BACK || action == ACT_NEXT || (k->act ==
	    KU_A_ENTER && action < 0 && w->form.focus + 1 >= w->form.n)) {
		wz_go(w, action == ACT_BACK ? WZ_CLUSTER : WZ_NETWORK);
		return KU_UI_REDRAW;
	}
	return flags;
}

/* --- network --- */

static const char *wz_plugin_choices[3];

static void
wz_network_init(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *it;

	wz_plugin_choices[0] = "flannel";
	wz_plugin_choices[1] = "calico";
	wz_plugin_choices[2] = _("custom (a manifest of your own)");
	it = wz_form_add(&w->form, WI_CHOICE, _("Network plugin"),
	    "network.plugin");
	it->choices = wz_plugin_choices;
	it->n_choices = 3;
	it->choice = (size_t)s->plugin;
	wz_form_text(&w->form, _("Custom manifest"), "network.manifest",
	    s->custom_manifest ? s->custom_manifest : "");
	wz_form_text(&w->form, _("Pod CIDR"), "cluster.pod_cidr", s->pod_cidr);
	wz_form_text(&w->form, _("Service CIDR"), "cluster.service_cidr",
	    s->service_cidr);
	wz_form_text(&w->form, _("DNS domain"), "cluster.dns_domain",
	    s->dns_domain);
	wz_buttons(&w->form, true);
}

static bool
wz_network_leave(struct wz *w)
{
	struct ku_spec *s = w->spec;
	struct wz_item *it = wz_form_find(&w->form, "network.plugin");
	const char *man = wz_text(w, "network.manifest");

	if (it)
		s->plugin = (enum ku_net_plugin)it->choice;
	free(s->custom_manifest);
	s->custom_manifest = *man ? ku_path_expand(man, NULL) : NULL;
	wz_set_str(&s->pod_cidr, wz_text(w, "cluster.pod_cidr"), false);
	wz_set_str(&s->service_cidr, wz_text(w, "cluster.service_cidr"),
	    false);
	wz_set_str(&s->dns_domain, wz_text(w, "cluster.dns_domain"), false);
	return true;
}

static void
wz_network_draw(struct wz *w)
{
	wz_form_screen_draw(w, _("Pods and Services get addresses from these "
	    "ranges; they must not overlap each other or contain a "
	    "machine's address."));
}

/* --- add-ons --- */

static void
wz_addons_init(struct wz *w)
{
	struct wz_item *it;

	it = wz_form_add(&w->form, WI_TOGGLE, _("DNS (CoreDNS)"),
	    "addons.dns");
	it->on = w->spec->addon_dns;
	it = wz_form_add(&w->form, WI_TOGGLE, _("Dashboard"),
	    "addons.dashboard");
	it->on = w->spec->addon_dashboard;
	it = wz_form_add(&w->form, WI_TOGGLE, _("Metrics server"),
	    "addons.metrics_server");
	it->on = w->spec->addon_metrics_server;
	wz_buttons(&w->form, true);
}

static bool
wz_addons_leave(struct wz *w)
{
	struct wz_item *it;

	if ((it = wz_form_find(&w->form, "addons.dns")))
		w->spec->addon_dns = it->on;
	if ((it = wz_form_find(&w->form, "addons.dashboard")))
		w->spec->addon_dashboard = it->on;
	if ((it = wz_form_find(&w->form, "addons.metrics_server")))
		w->spec->addon_metrics_server = it->on;
	return true;
}

static void
wz_addons_draw(struct wz *w)
{
	wz_form_screen_draw(w, _("Space turns an add-on on or off."));
}

/* --- review --- */

static void
wz_review_line(struct wz *w, const char *fmt, ...) KU_PRINTF(2, 3);

static void
wz_review_line(struct wz *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ku_strv_push_owned(&w->review_lines, xvasprintf(fmt, ap));
	va_end(ap);
}

static const char *
wz_yes(bool b)
{
	return b ? _("yes") : _("no");
}

static void
wz_review_init(struct wz *w)
{
	const struct ku_spec *s = w->spec;
	struct wz_item *it;
	char *path;

	ku_strv_free(&w->review_lines);
	w->review_top = 0;
	wz_review_line(w, _("Cluster:   %s, Kubernetes %s, %d nodes"),
	    s->name, s->version, s->node_count);
	wz_review_line(w, _("Provider:  %s; user %s, port %d, key %s, "
	    "sudo %s"), ku_provider_name(s->provider), s->ssh.user,
	    s->ssh.port, s->ssh.key_file ? s->ssh.key_file : _("(ssh-agent)"),
	    wz_yes(s->ssh.sudo));
	wz_review_line(w, _("Host keys: %s, %s"), s->ssh.known_hosts,
	    s->ssh.host_key_policy == KU_HOSTKEY_STRICT ? "strict" :
	    "accept-new");
	for (size_t i = 0; i < ku_spec_n_machines(s); i++) {
		const struct ku_machine *m = ku_spec_machine(s, i);
		wz_review_line(w, "  %-10s %-16s %s@%d%s", m->name ? m->name :
		    "?", m->address ? m->address : "?", m->user ? m->user : "?",
		    m->port, m->sudo ? " sudo" : "");
	}
	wz_review_line(w, _("Network:   %s; pods %s, services %s, DNS "
	    "domain %s"), ku_net_plugin_name(s->plugin), s->pod_cidr,
	    s->service_cidr, s->dns_domain);
	wz_review_line(w, _("Add-ons:   DNS %s, dashboard %s, metrics "
	    "server %s"), wz_yes(s->addon_dns), wz_yes(s->addon_dashboard),
	    wz_yes(s->addon_metrics_server));

	path = xasprintf("%s/answers-%s.conf", getenv("PWD") ?
	    getenv("PWD") : ".", s->name);
	wz_form_text(&w->form, _("Save the answers as"), "save.path", path);
	free(path);
	it = wz_form_add(&w->form, WI_BUTTON, _("Save answers"), NULL);
	it->action = ACT_SAVE;
	it = wz_form_add(&w->form, WI_BUTTON, _("Back"), NULL);
	it->action = ACT_BACK;
	it = wz_form_add(&w->form, WI_BUTTON, _("Install"), NULL);
	it->action = ACT_INSTALL;
	w->form.focus = w->form.n - 1;
}

static void
wz_review_draw(struct wz *w)
{
	int y = 2, h = LINES - 9 - 2;

	wz_title(w, _(wz_screens[w->screen].title));
	if ((size_t)h > w->review_lines.n)
		h = (int)w->review_lines.n;
	for (int i = 0; i < h && w->review_top + i <
	    (int)w->review_lines.n; i++)
		ku_ui_put(y + i, 2, COLS - 4, 0,
		    w->review_lines.v[w->review_top + i]);
	if (w->review_top + h < (int)w->review_lines.n) {
		attrset(ku_ui_attr(KU_C_DIM));
		ku_ui_put(y + h, 2, COLS - 4, 0, _("(more: PgDn)"));
		attrset(A_NORMAL);
	}
	y += h + 2;
	wz_form_draw(&w->form, y, LINES - y - 3);
	wz_draw_status(w);
	ku_ui_footer(wz_form_keys, KU_ARRAY_LEN(wz_form_keys));
}

static void
wz_confirm_install(struct wz *w)
{
	struct ku_buf b;
	const struct ku_spec *s = w->spec;
	size_t n = ku_spec_n_machines(s);

	ku_buf_init(&b, 0);
	ku_buf_printf(&b, ngettext("Installing changes %zu machine: "
	    "packages, sysctls, swap, and files under /etc/kubernetes, "
	    "/var/lib/kubelet and /usr/local/bin:", "Installing changes "
	    "these %zu machines: packages, sysctls, swap, and files under "
	    "/etc/kubernetes, /var/lib/kubelet and /usr/local/bin:", n), n);
	ku_buf_adds(&b, "\n");
	/* one line each while they fit; a list to scroll otherwise */
	for (size_t i = 0; i < n; i++) {
		const struct ku_machine *m = ku_spec_machine(s, i);
		ku_buf_printf(&b, n <= 12 ? "  %s (%s)\n" : "%s (%s)%s", m->name,
		    m->address, n <= 12 ? "" : i + 1 < n ? ", " : "\n");
	}
	ku_dialog_open(&w->dialog, DLG_CONFIRM, _("Start the install?"),
	    b.data);
	ku_dialog_button(&w->dialog, _("Install"), 'i');
	ku_dialog_button(&w->dialog, _("Cancel"), 'c');
	w->dialog.sel = 1;
	ku_buf_free(&b);
}

static int
wz_review_key(struct wz *w, const struct ku_key *k)
{
	int action, flags;
	struct ku_diags diags = { 0 };

	if (k->act == KU_A_PGDN || k->act == KU_A_PGUP) {
		int step = k->act == KU_A_PGDN ? 5 : -5;
		w->review_top += step;
		if (w->review_top > (int)w->review_lines.n - 5)
			w->review_top = (int)w->review_lines.n - 5;
		if (w->review_top < 0)
			w->review_top = 0;
		return KU_UI_REDRAW;
	}
	flags = wz_form_key(w, &w->form, k, &action);
	switch (action) {
	case ACT_BACK:
		wz_go(w, WZ_ADDONS);
		return KU_UI_REDRAW;
	case ACT_SAVE: {
		char *path = ku_path_expand(wz_text(w, "save.path"), NULL);
		if (ku_answers_write(w->spec, path) == KU_OK)
			wz_status(w, false, _("Saved the answers to %s; install "
			    "with them later: kubeup --batch %s"), path, path);
		else
			wz_status(w, true, _("%s: cannot save: %s"), path,
			    strerror(errno));
		free(path);
		return KU_UI_REDRAW;
	}
	case ACT_INSTALL:
		if (ku_spec_validate(w->spec, &diags) != KU_OK) {
			char *m = ku_diag_format(&diags.v[0]);
			wz_status(w, true, "%s", m);
			free(m);
			ku_diags_free(&diags);
			return KU_UI_REDRAW;
		}
		wz_confirm_install(w);
		return KU_UI_REDRAW;
	default:
		return flags;
	}
}

/* --- the table --- */

const struct wz_screen wz_screens[WZ__COUNT] = {
	[WZ_WELCOME] = {
		.title = N_("Welcome"),
		.help = N_("Choose Start to answer a few questions about the "
		    "cluster. Tab and the arrows move between fields and "
		    "buttons, Enter chooses, Esc goes back, F10 quits."),
		.init = wz_welcome_init, .draw = wz_welcome_draw,
		.key = wz_welcome_key,
	},
	[WZ_PROVIDER] = {
		.title = N_("Provider"),
		.help = N_("The provider gives kubeup its machines. With ssh, "
		    "you bring the machines and kubeup logs in to them. Left "
		    "and Right change a choice."),
		.init = wz_provider_init, .draw = wz_provider_draw,
		.key = wz_form_screen_key, .leave = wz_provider_leave,
	},
	[WZ_CLUSTER] = {
		.title = N_("Cluster"),
		.help = N_("Name: a DNS-1123 label (lower-case letters, digits "
		    "and '-'). Version: MAJOR.MINOR.PATCH of Kubernetes. "
		    "Worker nodes: how many machines besides the master."),
		.init = wz_cluster_init, .draw = wz_cluster_draw,
		.key = wz_form_screen_key, .leave = wz_cluster_leave,
	},
	[WZ_MACHINES] = {
		.title = N_("Machines"),
		.help = N_("The user, port, key and sudo apply to every "
		    "machine. Each machine has a name (a DNS-1123 label, the "
		    "node's name in the cluster) and an IPv4 or IPv6 address. "
		    "A sudo password typed here is kept in memory only, never "
		    "saved: for a --batch run later, name a file in "
		    "answers.conf (provider.ssh.sudo_password_file). "
		    "Check connections logs in to every machine at once "
		    "(through the jump host, when there is one; with sudo on, "
		    "it also runs sudo true) and shows each result; an unknown "
		    "host key's SHA-256 fingerprint is shown to accept or "
		    "refuse. Compare it with ssh-keygen -lf "
		    "/etc/ssh/ssh_host_ed25519_key.pub on the machine."),
		.init = wz_machines_init, .draw = wz_machines_draw,
		.key = wz_machines_key, .leave = wz_machines_leave,
	},
	[WZ_NETWORK] = {
		.title = N_("Network"),
		.help = N_("flannel and calico are built in; custom applies a "
		    "CNI manifest of your own. The CIDRs are address ranges "
		    "such as 10.244.0.0/16: no host bits set, not "
		    "overlapping."),
		.init = wz_network_init, .draw = wz_network_draw,
		.key = wz_form_screen_key, .leave = wz_network_leave,
	},
	[WZ_ADDONS] = {
		.title = N_("Add-ons"),
		.help = N_("Add-ons are installed in the last phase. DNS is "
		    "needed by most workloads."),
		.init = wz_addons_init, .draw = wz_addons_draw,
		.key = wz_form_screen_key, .leave = wz_addons_leave,
	},
	[WZ_REVIEW] = {
		.title = N_("Review"),
		.help = N_("Every answer is listed; go back (Esc) to change "
		    "one. Save answers writes them as an answers.conf for "
		    "kubeup --batch. Install asks once more, naming the "
		    "machines that will be changed."),
		.init = wz_review_init, .draw = wz_review_draw,
		.key = wz_review_key,
	},
	[WZ_INSTALL] = { 0 },
	[WZ_LOG] = { 0 },
	[WZ_ABORTED] = { 0 },
	[WZ_DONE] = { 0 },
};

static const struct wz_screen *
wz_screen(enum wz_screen_id s)
{
	switch (s) {
	case WZ_INSTALL: return &wz_install_screen;
	case WZ_LOG: return &wz_log_screen;
	case WZ_ABORTED: return &wz_aborted_screen;
	case WZ_DONE: return &wz_done_screen;
	default: return &wz_screens[s];
	}
}

void
wz_go(struct wz *w, enum wz_screen_id s)
{
	const struct wz_screen *cur = wz_screen(w->screen);

	if (s >= WZ__COUNT)
		return;
	if (cur->leave && w->form.n) {
		/* forward only with every field right; back keeps them all */
		bool ok = wz_form_check(w, &w->form, NULL);
		if (!ok && s > w->screen) {
			for (size_t i = 0; i < w->form.n; i++)
				if (w->form.v[i].error) {
					w->form.focus = i;
					break;
				}
			wz_status(w, true, "%s", _("A field needs a change; its "
			    "problem is shown under it."));
			return;
		}
	}
	wz_status(w, false, NULL);
	wz_form_free(&w->form);
	w->screen = s;
	if (wz_screen(s)->init)
		wz_screen(s)->init(w);
}

/* --- the loop's handlers --- */

static void
wz_help(struct wz *w)
{
	const struct wz_screen *sc = wz_screen(w->screen);
	char *text = xasprintf("%s\n\n%s", sc->help ? _(sc->help) : "",
	    _("Keys: Tab/Down next field, Shift-Tab/Up previous, Enter "
	    "chooses, Space toggles, Left/Right change a choice, Esc back, "
	    "F1 or ? help, F10 or Ctrl-C quit."));
	ku_dialog_open(&w->dialog, DLG_HELP, _("Help"), text);
	ku_dialog_button(&w->dialog, _("Close"), 0);
	free(text);
}

void
wz_ask_quit(struct wz *w)
{
	if (w->running) {
		char *t = xasprintf(_("Stop the install? What is done is kept "
		    "in the journal; resume later with:\n  kubeup --batch "
		    "%s/answers.conf --resume --state-dir %s\nor run kubeup "
		    "again and choose Resume."), ku_run_state_dir(w->run),
		    ku_run_state_dir(w->run));
		ku_dialog_open(&w->dialog, DLG_STOP, _("Stop the install"), t);
		ku_dialog_button(&w->dialog, _("Stop"), 's');
		ku_dialog_button(&w->dialog, _("Continue"), 'c');
		w->dialog.sel = 1;
		free(t);
		return;
	}
	ku_dialog_open(&w->dialog, DLG_QUIT, _("Quit"), w->screen <
	    WZ_INSTALL ? _("Quit the installer? Nothing was changed on any "
	    "machine.") : _("Quit the installer?"));
	ku_dialog_button(&w->dialog, _("Quit"), 'q');
	ku_dialog_button(&w->dialog, _("Stay"), 's');
	w->dialog.sel = 1;
}

static bool
wz_in_text(struct wz *w)
{
	if (w->screen == WZ_INSTALL || w->screen >= WZ_LOG)
		return w->screen == WZ_LOG && w->pager.searching;
	return w->form.n && w->form.v[w->form.focus].kind == WI_TEXT;
}

int wz_decide_dialog_key(struct wz *w, int r);
int wz_hostkey_dialog_key(struct wz *w, int r);

static int
wz_key(void *ud, const struct ku_key *k)
{
	struct wz *w = ud;
	const struct wz_screen *sc = wz_screen(w->screen);

	if (k->act == KU_A_REDRAW) {
		clearok(curscr, TRUE);
		return KU_UI_REDRAW;
	}
	if (w->dialog.open) {
		int r = ku_dialog_key(&w->dialog, k, k->act);
		int id = w->dialog.id;
		if (r == -1)
			return KU_UI_REDRAW;
		if (id >= 10)   /* install's and check's own dialogs */
			return id >= 20 ? wz_hostkey_dialog_key(w, r) :
			    wz_decide_dialog_key(w, r);
		ku_dialog_close(&w->dialog);
		switch (id) {
		case DLG_QUIT:
			if (r == 0) {
				w->exit_status = w->screen == WZ_DONE ? 0 :
				    w->screen == WZ_ABORTED ? 1 : 3;
				return KU_UI_QUIT;
			}
			break;
		case DLG_STOP:
			if (r == 0) {
				/* leave once the run has stopped: the
				 * resume command is printed then */
				wz_install_stop(w);
				w->quit = true;
			}
			break;
		case DLG_CONFIRM:
			if (r == 0) {
				/* the review stays when the run cannot start
				 * (another kubeup holds the state directory) */
				w->resume = false;
				wz_install_start(w);
			}
			break;
		default:
			break;
		}
		return KU_UI_REDRAW;
	}
	if (k->act == KU_A_HELP || (k->ch == '?' && !k->code &&
	    !wz_in_text(w))) {
		wz_help(w);
		return KU_UI_REDRAW;
	}
	if (k->act == KU_A_QUIT) {
		wz_ask_quit(w);
		return KU_UI_REDRAW;
	}
	if (k->act == KU_A_BACK && w->screen > WZ_WELCOME &&
	    w->screen <= WZ_REVIEW) {
		/* in a field too: the answers are kept */
		wz_go(w, w->screen - 1);
		return KU_UI_REDRAW;
	}
	return sc->key ? sc->key(w, k) : 0;
}

static void
wz_draw(void *ud)
{
	struct wz *w = ud;

	curs_set(0);
	wz_screen(w->screen)->draw(w);
	if (w->dialog.open) {
		curs_set(0);
		ku_dialog_draw(&w->dialog);
	}
}

static int
wz_wake(void *ud)
{
	return wz_drain(ud);
}

static int
wz_fd_ready(void *ud, int fd)
{
	return wz_log_readable(ud);
}

static int
wz_stop(void *ud, int sig)
{
	struct wz *w = ud;

	if (sig == SIGINT && !w->dialog.open) {
		wz_ask_quit(w);
		return KU_UI_REDRAW;
	}
	/* SIGTERM, SIGHUP, or a second Ctrl-C: stop cleanly now. */
	if (w->running) {
		wz_install_stop(w);
		w->quit = true;
		return KU_UI_REDRAW;
	}
	w->exit_status = 3;
	return KU_UI_QUIT;
}

static const struct ku_dialog *
wz_question(void *ud)
{
	struct wz *w = ud;

	return &w->dialog;   /* shown only when open */
}

static int
wz_tick(void *ud)
{
	return wz_install_animating(ud) ? 125 : 0;
}

/* An unfinished install of this cluster in its state directory. */
static void
wz_find_unfinished(struct wz *w)
{
	char *dir = w->opts.state_dir ? xstrdup(w->opts.state_dir) :
	    ku_state_dir_default(w->spec->name);
	char *answers = ku_path_join(dir, "answers.conf");
	char *jpath = ku_path_join(dir, "journal");
	struct ku_journal *j = NULL;

	if (ku_path_exists(answers) && ku_path_exists(jpath) &&
	    ku_journal_open(jpath, &j, NULL) == KU_OK) {
		if (ku_journal_runs(j) > 0 && !ku_journal_phase_done(j, "6"))
			w->resume_dir = xstrdup(dir);
		ku_journal_close(j);
	}
	free(answers);
	free(jpath);
	free(dir);
}

int
ku_wizard_main(const struct ku_wizard_opts *opts)
{
	struct wz w;
	struct ku_ui_app app = {
		.key = wz_key, .wake = wz_wake, .fd_ready = wz_fd_ready,
		.draw = wz_draw, .stop = wz_stop, .tick_ms = wz_tick,
		.question = wz_question,
	};
	char *err = NULL, *errlog, *base;
	const char *xdg = getenv("XDG_STATE_HOME");

	memset(&w, 0, sizeof w);
	w.opts = *opts;
	w.log_fd = w.inotify_fd = -1;
	w.decision = -1;
	w.sel_follow = true;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	ku_pager_init(&w.pager);
	ku_buf_init(&w.log_partial, 0);
	app.ud = &w;

	if (opts->answers) {
		struct ku_diags diags = { 0 };
		if (ku_answers_read(opts->answers, &w.spec, &diags) != KU_OK) {
			for (size_t i = 0; i < diags.n; i++) {
				char *line = ku_diag_format(&diags.v[i]);
				fprintf(stderr, "%s\n", line);
				free(line);
			}
			if (diags.n == 0)
				fprintf(stderr, _("kubeup: %s: cannot read\n"),
				    opts->answers);
			fprintf(stderr, _("kubeup: %s: fix the answers file, or "
			    "start the wizard without it\n"), opts->answers);
			ku_diags_free(&diags);
			ku_spec_free(w.spec);
			return 2;
		}
	} else {
		w.spec = ku_spec_new();
		wz_spec_resize_nodes(w.spec, w.spec->node_count);
	}
	wz_find_unfinished(&w);

	/* stderr's file: next to the state directories */
	base = xdg && xdg[0] == '/' ? xasprintf("%s/kubeup", xdg) :
	    ku_path_expand("~/.local/state/kubeup", NULL);
	ku_mkdir_p(base, 0700);
	errlog = ku_path_join(base, "wizard-stderr.log");
	free(base);
	if (!ku_ui_init(errlog, &err)) {
		fprintf(stderr, "kubeup: %s\n", err);
		free(err);
		free(errlog);
		ku_spec_free(w.spec);
		return 2;
	}
	free(errlog);
	wz_go(&w, WZ_WELCOME);
	ku_ui_run(&app);
	/* the connection checks' threads post to the queue that cleanup
	 * takes down: they end first */
	wz_checks_free(&w);
	wz_install_cleanup(&w);
	ku_ui_end();

	/* what the operator needs after the screen is gone */
	if (w.run) {
		const char *dir = ku_run_state_dir(w.run);
		if (w.run_rc == KU_OK)
			printf(_("kubeup: finished; cluster \"%s\"; state "
			    "directory %s\n"), w.spec->name, dir);
		else
			printf(_("kubeup: not finished (%s); log: %s\nkubeup: "
			    "resume with: kubeup --batch %s/answers.conf "
			    "--resume --state-dir %s\n"),
			    ku_strerror(w.run_rc), ku_run_log_path(w.run), dir,
			    dir);
		if (w.exit_status == 0 && w.run_rc != KU_OK)
			w.exit_status = w.run_rc == KU_ERR_INTERRUPTED ? 3 : 1;
		ku_run_close(w.run);
	}
	wz_form_free(&w.form);
	ku_dialog_close(&w.dialog);
	ku_pager_free(&w.pager);
	ku_buf_free(&w.log_partial);
	ku_strv_free(&w.review_lines);
	free(w.status);
	free(w.resume_dir);
	ku_spec_free(w.spec);
	return w.exit_status;
}
