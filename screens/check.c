/* "Check connections": logs in to every machine at once, off the UI
 * thread, and shows each result; an unknown host key's SHA-256
 * fingerprint is shown for the operator to accept (recorded in
 * known_hosts) or refuse. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "i18n.h"
#include "ssh.h"
#include "wizard.h"

enum { DLG_CHECKS = 20, DLG_HOSTKEY = 21 };

/* What a check thread needs, copied: the spec may change meanwhile. */
struct wz_job {
	struct wz *w;
	size_t index;
	char *name, *address, *user, *key, *known_hosts;
	int port, timeout;
	/* the jump host, when the answers name one */
	bool has_jump;
	char *j_address, *j_user, *j_key;
	int j_port;
	bool accept;
	char *fingerprint;   /* the one accepted: only it is recorded */
	/* sudo, tried with a harmless command once logged in */
	bool sudo;
	char *sudo_password; /* NULL: none; wiped when done */
	pthread_t thread;
	bool started;
};


static void *
wz_check_thread(void *arg)
{
	struct wz_job *j = arg;
	struct ku_ssh_opts o = {
		.target = { .name = j->name, .address = j->address,
		    .port = j->port, .user = j->user, .key_file = j->key },
		.known_hosts = j->known_hosts,
		.host_key_policy = j->accept ? KU_HOSTKEY_ACCEPT_NEW :
		    KU_HOSTKEY_STRICT,
		.accept_fingerprint = j->fingerprint,
		.sudo = j->sudo,
		.sudo_password = j->sudo_password,
		.connect_timeout = j->timeout,
	};
	struct ku_ssh_endpoint jump = {
		.name = "jump host", .address = j->j_address,
		.port = j->j_port, .user = j->j_user, .key_file = j->j_key,
	};
	struct ku_ssh_conn *conn = NULL;
	struct wz_msg *m = xcalloc(1, sizeof *m);
	char *err = NULL;
	ku_rc rc;

	/* through the jump host, as the install will connect */
	if (j->has_jump)
		o.jump = &jump;
	rc = ku_ssh_connect(&o, &conn, &err);

	m->kind = WM_CHECK;
	m->index = j->index;
	if (rc == KU_OK && j->sudo) {
		/* the password (or sudo without one) works, before the
		 * install needs it */
		struct ku_exec_result res;

		ku_exec_result_init(&res);
		rc = ku_ssh_exec(conn, "true", KU_SSH_PRIVILEGED, j->timeout,
		    &res, &err);
		if (rc == KU_OK && res.exit_status != 0) {
			rc = KU_ERR_AUTH;
			err = xasprintf(_("%s: sudo true exited with status %d"),
			    j->name, res.exit_status);
		}
		ku_exec_result_free(&res);
	}
	if (conn != NULL)
		ku_ssh_close(conn);
	if (j->sudo_password != NULL)   /* ku_ssh_close wiped its own copy */
		explicit_bzero(j->sudo_password, strlen(j->sudo_password));
	if (rc == KU_OK) {
		m->check_state = WC_OK;
	} else if (rc == KU_ERR_HOSTKEY_UNKNOWN && !j->accept && err &&
	    strstr(err, "SHA256:")) {
		/* (once accepted, another key is a failure, not a question) */
		const char *fp = strstr(err, "SHA256:");
		m->check_state = WC_UNKNOWN_KEY;
		m->fingerprint = xstrndup(fp, strcspn(fp, " ,."));
		m->message = err;
		err = NULL;
	} else {
		m->check_state = WC_FAILED;
		m->message = err ? err : xstrdup(ku_strerror(rc));
		err = NULL;
	}
	free(err);
	wz_post(j->w, m);
	return NULL;
}

static void
wz_job_free(struct wz_job *j)
{
	if (j->started)
		pthread_join(j->thread, NULL);
	free(j->name);
	free(j->address);
	free(j->user);
	free(j->key);
	free(j->known_hosts);
	free(j->fingerprint);
	free(j->j_address);
	free(j->j_user);
	free(j->j_key);
	if (j->sudo_password != NULL) {
		explicit_bzero(j->sudo_password, strlen(j->sudo_password));
		free(j->sudo_password);
	}
	memset(j, 0, sizeof *j);
}

static void
wz_jobs_join(struct wz *w)
{
	for (size_t i = 0; i < w->n_jobs; i++)
		wz_job_free(&w->jobs[i]);
	free(w->jobs);
	w->jobs = NULL;
	w->n_jobs = 0;
}

void
wz_checks_free(struct wz *w)
{
	wz_jobs_join(w);
	for (size_t i = 0; i < w->n_checks; i++) {
		free(w->checks[i].name);
		free(w->checks[i].address);
		free(w->checks[i].message);
		free(w->checks[i].fingerprint);
	}
	free(w->checks);
	w->checks = NULL;
	w->n_checks = 0;
}

static void
wz_job_start(struct wz *w, struct wz_job *j, size_t i, bool accept)
{
	/* Accepting records the key the operator was shown, not whatever
	 * the machine presents on the next connection. */
	const char *fp = accept ? w->checks[i].fingerprint : NULL;
	const struct ku_machine *m = ku_spec_machine(w->spec, i);
	char *pw_err = NULL;

	if (m == NULL) {
		/* the machine list changed (fewer nodes, or answers resumed)
		 * since the check began */
		free(w->checks[i].message);
		w->checks[i].state = WC_FAILED;
		w->checks[i].message = xstrdup(_("the machine list changed: "
		    "check the connections again"));
		return;
	}
	j->w = w;
	j->index = i;
	j->name = xstrdup(m->name ? m->name : "?");
	j->address = xstrdup(m->address ? m->address : "");
	j->user = m->user ? xstrdup(m->user) : NULL;
	j->key = m->key_file ? xstrdup(m->key_file) : NULL;
	j->known_hosts = xstrdup(w->spec->ssh.known_hosts);
	j->port = m->port;
	j->timeout = w->spec->ssh.connect_timeout;
	if (w->spec->ssh.jump != NULL) {
		const struct ku_jump_host *jh = w->spec->ssh.jump;

		j->has_jump = true;
		j->j_address = xstrdup(jh->address ? jh->address : "");
		j->j_user = jh->user ? xstrdup(jh->user) : NULL;
		j->j_key = jh->key_file ? xstrdup(jh->key_file) : NULL;
		j->j_port = jh->port;
	}
	j->accept = accept && fp != NULL;
	j->sudo = m->sudo && !ku_streq(m->user ? m->user : w->spec->ssh.user,
	    "root");
	if (j->sudo && ku_spec_sudo_password(w->spec, &j->sudo_password,
	    &pw_err) != KU_OK) {
		/* the answers name a file or variable that is not there */
		w->checks[i].state = WC_FAILED;
		free(w->checks[i].message);
		w->checks[i].message = pw_err;
		return;
	}
	j->fingerprint = fp ? xstrdup(fp) : NULL;
	w->checks[i].state = WC_RUNNING;
	w->checks_running++;
	if (pthread_create(&j->thread, NULL, wz_check_thread, j) == 0) {
		j->started = true;
	} else {
		w->checks[i].state = WC_FAILED;
		free(w->checks[i].message);
		w->checks[i].message = xstrdup(_("cannot start a thread"));
		w->checks_running--;
	}
}

static void
wz_checks_dialog(struct wz *w)
{
	struct ku_buf b;
	size_t ok = 0;

	ku_buf_init(&b, 0);
	for (size_t i = 0; i < w->n_checks; i++) {
		struct wz_check *c = &w->checks[i];
		const char *st;
		switch (c->state) {
		case WC_OK: st = _("ok"); ok++; break;
		case WC_RUNNING: st = _("connecting..."); break;
		case WC_UNKNOWN_KEY: st = _("unknown host key"); break;
		case WC_REFUSED: st = _("host key refused"); break;
		case WC_FAILED: st = _("FAILED"); break;
		default: st = _("waiting"); break;
		}
		ku_buf_printf(&b, "%-10s %s:%d  %s", c->name, c->address,
		    c->port, st);
		if (c->state == WC_UNKNOWN_KEY && c->fingerprint)
			ku_buf_printf(&b, " %s", c->fingerprint);
		if (c->state == WC_FAILED && c->message)
			ku_buf_printf(&b, ": %s", c->message);
		ku_buf_adds(&b, "\n");
	}
	if (w->checks_running == 0)
		ku_buf_printf(&b, _("%zu of %zu machines answered and accepted "
		    "the login."), ok, w->n_checks);
	if (!w->dialog.open || w->dialog.id == DLG_CHECKS) {
		int scroll = w->dialog.open ? w->dialog.scroll : 0;
		ku_dialog_open(&w->dialog, DLG_CHECKS, _("Check connections"),
		    b.data);
		ku_dialog_button(&w->dialog, _("Close"), 0);
		w->dialog.scroll = scroll;
	}
	ku_buf_free(&b);
}

/* The next unknown host key to ask about, if every check is over. */
static void
wz_checks_next_key(struct wz *w)
{
	if (w->checks_running > 0)
		return;
	for (size_t i = 0; i < w->n_checks; i++) {
		struct wz_check *c = &w->checks[i];
		char *t;
		if (c->state != WC_UNKNOWN_KEY)
			continue;
		t = xasprintf(_("The host key of %s (%s) is not known:\n  %s\n"
		    "Compare it with the machine's own (ssh-keygen -lf "
		    "/etc/ssh/ssh_host_ed25519_key.pub on it). Accepting adds it "
		    "to %s."), c->name, c->address, c->fingerprint,
		    w->spec->ssh.known_hosts);
		ku_dialog_open(&w->dialog, DLG_HOSTKEY, _("Unknown host key"),
		    t);
		ku_dialog_button(&w->dialog, _("Accept"), 'a');
		ku_dialog_button(&w->dialog, _("Refuse"), 'r');
		w->dialog.sel = 1;
		free(t);
		return;
	}
	wz_checks_dialog(w);
}

void
wz_checks_start(struct wz *w)
{
	size_t n;

	if (w->checks_running > 0)
		return;
	/* the fields as they are now */
	if (!wz_form_check(w, &w->form, NULL)) {
		wz_status(w, true, "%s", _("A field needs a change before the "
		    "machines can be checked."));
		return;
	}
	wz_checks_free(w);
	n = ku_spec_n_machines(w->spec);
	w->checks = xcalloc(n, sizeof *w->checks);
	w->n_checks = n;
	w->jobs = xcalloc(n, sizeof *w->jobs);
	w->n_jobs = n;
	for (size_t i = 0; i < n; i++) {
		const struct ku_machine *m = ku_spec_machine(w->spec, i);
		w->checks[i].name = xstrdup(m->name ? m->name : "?");
		w->checks[i].address = xstrdup(m->address ? m->address : "");
		w->checks[i].port = m->port;
	}
	for (size_t i = 0; i < n; i++)
		wz_job_start(w, &w->jobs[i], i, false);
	wz_checks_dialog(w);
}

void
wz_checks_message(struct wz *w, struct wz_msg *m)
{
	struct wz_check *c;

	if (m->index >= w->n_checks)
		return;
	c = &w->checks[m->index];
	c->state = m->check_state;
	free(c->message);
	free(c->fingerprint);
	c->message = m->message;
	c->fingerprint = m->fingerprint;
	m->message = m->fingerprint = NULL;
	if (w->checks_running > 0)
		w->checks_running--;
	/* the results are the machines screen's: elsewhere (the operator
	 * went back and may have changed the list) no dialog opens */
	if (w->screen != WZ_MACHINES)
		return;
	if (w->dialog.open && w->dialog.id == DLG_CHECKS)
		wz_checks_dialog(w);
	if (w->checks_running == 0 && (!w->dialog.open ||
	    w->dialog.id == DLG_CHECKS))
		wz_checks_next_key(w);
}

int wz_hostkey_dialog_key(struct wz *w, int r);

int
wz_hostkey_dialog_key(struct wz *w, int r)
{
	int id = w->dialog.id;

	ku_dialog_close(&w->dialog);
	if (id == DLG_HOSTKEY) {
		for (size_t i = 0; i < w->n_checks; i++) {
			if (w->checks[i].state != WC_UNKNOWN_KEY)
				continue;
			if (r == 0) {
				/* connect again, recording the key */
				wz_job_free(&w->jobs[i]);
				wz_job_start(w, &w->jobs[i], i, true);
			} else {
				w->checks[i].state = WC_REFUSED;
			}
			break;
		}
		if (w->checks_running > 0)
			wz_checks_dialog(w);
		else
			wz_checks_next_key(w);
	}
	return KU_UI_REDRAW;
}
