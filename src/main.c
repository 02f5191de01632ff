/* kubeup: options, then the front end they ask for. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answers.h"
#include "batch.h"
#include "i18n.h"
#include "journal.h"
#include "pki.h"
#include "plan.h"
#include "render.h"
#include "run.h"
#include "shell.h"
#include "spec.h"
#include "wizard.h"

/* Exit statuses, documented in --help, kubeup(1) and the README. */
enum {
	KU_EXIT_OK = 0,
	KU_EXIT_FAILED = 1,
	KU_EXIT_USAGE = 2,
	KU_EXIT_INTERRUPTED = 3,
};

static const char *const ku_phase_ids[] = {
	"1", "2", "3", "4.1", "4.2", "5", "6"
};

struct ku_cli {
	const char *batch;
	const char *check;
	const char *state_dir;
	const char *render_dir;
	const char *templates;
	const char *events;
	const char *on_failure;
	struct ku_strv phases;
	bool dry_run;
	bool resume;
	bool allow_unsupported;
	bool purge;
	bool forget;
	int num_nodes;            /* -1: not given */
	const char *provider;
	const char *command;      /* "up", "down", "certs" or NULL */
	const char *file;         /* positional answers file */
	const char *prefill;      /* --prefill: the wizard's first answers */
};

static void
ku_usage(FILE *out)
{
	fprintf(out, _(
"Usage: kubeup [--prefill FILE]      the interactive installer (wizard)\n"
"       kubeup --batch FILE [OPTION]...   install unattended\n"
"       kubeup --check FILE               validate an answers file\n"
"       kubeup up [--num-nodes=N] [--provider=ssh] [FILE] [OPTION]...\n"
"       kubeup down FILE [--purge] [--forget]\n"
"       kubeup certs [--state-dir DIR] FILE   list the cluster's certificates\n"
"\n"
"Installs a Kubernetes cluster (one master, N nodes, TLS everywhere, the\n"
"default add-ons) in six phases: 1 provision machines, 2 generate\n"
"certificates, 3 deploy the master, 4.1 kubelets and 4.2 networking on the\n"
"nodes, 5 daemons (kube-proxy), 6 add-ons.\n"
"\n"
"Options:\n"
"  --batch FILE          install from the answers FILE, without a terminal\n"
"  --check FILE          print every problem of FILE; touch nothing\n"
"  --prefill FILE        open the wizard with the answers of FILE filled in\n"
"  --dry-run             print the plan and render every file; touch no\n"
"                        machine\n"
"  --render-dir DIR      where --dry-run writes files (STATE/rendered)\n"
"  --resume              continue the run recorded in the state directory\n"
"  --phases LIST         run only these phases, e.g. 2 or 4.1,4.2\n"
"  --events human|json   progress as lines for people, or JSON lines\n"
"  --state-dir DIR       state directory ($XDG_STATE_HOME/kubeup/CLUSTER)\n"
"  --templates DIR       override built-in templates file by file\n"
"  --on-failure abort|skip  what to do when a substep still fails\n"
"  --allow-unsupported-version  accept a test-only Kubernetes release\n"
"  --num-nodes=N, --provider=NAME  (up) override the answers file\n"
"  --purge, --forget     (down) also remove packages / the state directory\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Exit status: 0 installed (skipped substeps are listed), 1 failed (the\n"
"last line says where to look), 2 bad usage or bad answers, 3 interrupted\n"
"(resume with --resume).\n"));
}

static int ku_usage_error(const char *fmt, ...) KU_PRINTF(1, 2);

static int
ku_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kubeup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, _("\nTry 'kubeup --help'.\n"));
	return KU_EXIT_USAGE;
}

/* "2", "4.1,4.2"; "4" stands for 4.1 and 4.2. */
static int
ku_parse_phases(const char *arg, struct ku_strv *out)
{
	char *copy = xstrdup(arg), *save = NULL;
	int status = KU_EXIT_OK;

	for (char *tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		bool known = false;
		if (strcmp(tok, "4") == 0) {
			ku_strv_push(out, "4.1");
			ku_strv_push(out, "4.2");
			continue;
		}
		for (size_t i = 0; i < KU_ARRAY_LEN(ku_phase_ids); i++)
			known |= strcmp(tok, ku_phase_ids[i]) == 0;
		if (!known) {
			status = ku_usage_error(_("--phases: \"%s\" is not a "
			    "phase; the phases are 1, 2, 3, 4.1, 4.2, 5 and 6"),
			    tok);
			break;
		}
		if (!ku_strv_contains(out, tok))
			ku_strv_push(out, tok);
	}
	if (status == KU_EXIT_OK && out->n == 0)
		status = ku_usage_error(_("--phases: \"%s\" names no phase"),
		    arg);
	free(copy);
	return status;
}

static void
ku_print_diags(const struct ku_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		char *line = ku_diag_format(&diags->v[i]);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
}

/* Reads and validates the answers (from path, or with --resume and no
 * file from the state directory), with the command line's overrides. */
static int
ku_load_spec(const struct ku_cli *cli, const char *path,
    struct ku_spec **out)
{
	struct ku_diags diags = { 0 };
	struct ku_spec *spec = NULL;
	const char *where = path ? path : cli->state_dir;
	struct ku_answers_overrides ov = {
		.node_count = cli->num_nodes,
		.allow_unsupported_version = cli->allow_unsupported,
		.on_failure = cli->on_failure == NULL ? -1 :
		    strcmp(cli->on_failure, "skip") == 0 ? KU_ON_FAILURE_SKIP :
		    KU_ON_FAILURE_ABORT,
	};
	ku_rc rc;

	rc = path ? ku_answers_read_with(path, &ov, &spec, &diags) :
	    ku_run_saved_answers(cli->state_dir, &ov, &spec, &diags);
	if (rc != KU_OK) {
		ku_print_diags(&diags);
		if (diags.n == 0)
			fprintf(stderr, "kubeup: %s: %s\n", where,
			    ku_strerror(rc));
		else
			fprintf(stderr, ngettext("kubeup: %s: %zu problem; "
			    "nothing was changed\n", "kubeup: %s: %zu problems; "
			    "nothing was changed\n", diags.n), where, diags.n);
		ku_diags_free(&diags);
		ku_spec_free(spec);
		return KU_EXIT_USAGE;
	}
	ku_diags_free(&diags);
	*out = spec;
	return KU_EXIT_OK;
}

static int
ku_cmd_check(const struct ku_cli *cli)
{
	struct ku_spec *spec = NULL;
	int status = ku_load_spec(cli, cli->check, &spec);

	if (status == KU_EXIT_OK)
		printf(_("%s: no problems found\n"), cli->check);
	ku_spec_free(spec);
	return status;
}

/* kubeup certs: every certificate of the state directory, with its
 * subject, expiry and names. Reads only; takes no lock. */
static int
ku_cmd_certs(const struct ku_cli *cli, const char *path)
{
	struct ku_spec *spec = NULL;
	struct ku_pki *pki;
	char *dir, *err = NULL;
	int status = ku_load_spec(cli, path, &spec);

	if (status != KU_EXIT_OK)
		return status;
	dir = cli->state_dir ? xstrdup(cli->state_dir) :
	    ku_state_dir_default(spec->name);
	pki = ku_pki_new(spec, dir);
	if (ku_pki_list(pki, stdout, &err) != KU_OK) {
		fprintf(stderr, "kubeup: %s\n", err);
		status = KU_EXIT_FAILED;
	}
	ku_pki_free(pki);
	free(err);
	free(dir);
	ku_spec_free(spec);
	return status;
}

static int
ku_cmd_dry_run(const struct ku_cli *cli, const struct ku_spec *spec)
{
	struct ku_plan *plan = ku_plan_build(spec);
	struct ku_render_set set = { 0 };
	char *dir = NULL, *err = NULL;
	int status = KU_EXIT_OK;

	printf(ngettext("Plan for cluster \"%s\" (%d node, %s network, "
	    "Kubernetes %s):\n", "Plan for cluster \"%s\" (%d nodes, %s "
	    "network, Kubernetes %s):\n", (unsigned long)spec->node_count),
	    spec->name, spec->node_count,
	    ku_net_plugin_name(spec->plugin), spec->version);
	ku_plan_print(plan, stdout);

	if (cli->render_dir) {
		dir = xstrdup(cli->render_dir);
	} else {
		char *state = cli->state_dir ? xstrdup(cli->state_dir) :
		    ku_state_dir_default(spec->name);
		dir = ku_path_join(state, "rendered");
		if (ku_mkdir_p(state, 0700) != KU_OK) {
			fprintf(stderr, _("kubeup: %s: cannot create: %s\n"),
			    state, strerror(errno));
			status = KU_EXIT_FAILED;
		}
		free(state);
	}
	if (status == KU_EXIT_OK &&
	    (ku_render_all(spec, cli->templates, &set, &err) != KU_OK ||
	    ku_render_write_tree(&set, dir, &err) != KU_OK)) {
		fprintf(stderr, "kubeup: %s\n", err ? err : _("rendering failed"));
		status = KU_EXIT_FAILED;
	}
	if (status == KU_EXIT_OK)
		printf(ngettext("Rendered %zu file into %s; no machine was "
		    "touched.\n", "Rendered %zu files into %s; no machine "
		    "was touched.\n", set.n), set.n, dir);
	ku_render_set_free(&set);
	ku_plan_free(plan);
	free(dir);
	free(err);
	return status;
}

/* --- signals: Ctrl-C and SIGTERM stop the run cleanly --- */

struct ku_sigctx {
	struct ku_run *run;
	sigset_t set;
	pthread_t canceller;
	bool cancelling;
};

/* Cancels the run from a thread of its own, so that the signal thread is
 * back in sigwait() at once and a second signal always stops kubeup, even
 * when the engine's lock is held long (a stalled terminal). */
static void *
ku_cancel_thread(void *arg)
{
	ku_run_cancel(arg);
	return NULL;
}

static void *
ku_signal_thread(void *arg)
{
	struct ku_sigctx *ctx = arg;
	int sig, count = 0;

	for (;;) {
		if (sigwait(&ctx->set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			return NULL;   /* the run is over */
		if (++count == 1) {
			fprintf(stderr, _("kubeup: stopping: waiting for the "
			    "work under way to end (interrupt again to stop at once)\n"));
			/* Joined by main before the run is closed. */
			if (pthread_create(&ctx->canceller, NULL,
			    ku_cancel_thread, ctx->run) == 0)
				ctx->cancelling = true;
			else
				ku_run_cancel(ctx->run);
		} else {
			/* Every journal record is whole on disk already. */
			fprintf(stderr, _("kubeup: stopped at once; the journal "
			    "is whole\n"));
			_exit(KU_EXIT_INTERRUPTED);
		}
	}
}

/* Once phase 3 made the cluster answer: the command to try. */
static void
ku_print_try(FILE *out, const struct ku_spec *spec, const struct ku_run *run)
{
	char *conf = ku_path_join(ku_run_state_dir(run),
	    "kubeconfig/admin.conf");
	char *q = ku_sh_quote(conf);

	if (ku_journal_phase_done(ku_run_journal(run), "3")) {
		fprintf(out, _("kubeup: the cluster's admin kubeconfig is %s; "
		    "try: kubectl --kubeconfig %s get nodes\n"), conf, q);
		if (spec->ssh.jump != NULL) {
			char *fwd = ku_spec_api_forward(spec);

			fprintf(out, _("kubeup: the apiserver was reached "
			    "through the jump host %s. Where only the jump "
			    "host is reachable, forward its port first: %s\n"
			    "kubeup: then: kubectl --kubeconfig %s --server "
			    "https://127.0.0.1:%d get nodes\n"),
			    spec->ssh.jump->address, fwd, q, KU_PKI_API_PORT);
			free(fwd);
		}
	}
	free(q);
	free(conf);
}

static int
ku_exit_status(ku_rc rc)
{
	switch (rc) {
	case KU_OK:
		return KU_EXIT_OK;
	case KU_ERR_INTERRUPTED:
		return KU_EXIT_INTERRUPTED;
	case KU_ERR_PREREQ:
	case KU_ERR_ANSWERS:
		return KU_EXIT_USAGE;
	default:
		return KU_EXIT_FAILED;
	}
}

static void
ku_summary(FILE *out, ku_rc rc, const struct ku_spec *spec,
    const struct ku_run *run, const struct ku_cli *cli,
    const struct ku_strv *skipped, const struct ku_strv *failed)
{
	for (size_t i = 0; i < skipped->n; i++)
		fprintf(out, _("kubeup: skipped: %s\n"), skipped->v[i]);
	for (size_t i = 0; i < failed->n; i++)
		fprintf(out, _("kubeup: failed: %s\n"), failed->v[i]);
	if (ku_streq(cli->command, "down")) {
		if (rc == KU_OK && skipped->n == 0)
			fprintf(out, _("kubeup: down: the install was undone on "
			    "every machine of cluster \"%s\"\n"), spec->name);
		else if (rc != KU_ERR_INTERRUPTED)
			fprintf(out, _("kubeup: down did not finish on every "
			    "machine; log: %s; run it again once they are "
			    "reachable: it is safe to repeat\n"),
			    ku_run_log_path(run));
		else
			fprintf(out, _("kubeup: down interrupted; run it again: "
			    "it is safe to repeat\n"));
		return;
	}
	switch (rc) {
	case KU_OK:
		if (skipped->n)
			fprintf(out, ngettext("kubeup: finished with %zu "
			    "skipped target, listed above: cluster \"%s\" is "
			    "not complete\n", "kubeup: finished with %zu "
			    "skipped targets, listed above: cluster \"%s\" is "
			    "not complete\n", skipped->n), skipped->n,
			    spec->name);
		else
			fprintf(out, _("kubeup: finished; cluster \"%s\"\n"),
			    spec->name);
		ku_print_try(out, spec, run);
		break;
	case KU_ERR_INTERRUPTED:
		fprintf(out, _("kubeup: interrupted; resume with: kubeup "
		    "--resume --state-dir %s\n"), ku_run_state_dir(run));
		break;
	case KU_ERR_PREREQ:
		fprintf(out, _("kubeup: nothing was run: a phase that the "
		    "chosen ones need has not finished (see above)\n"));
		break;
	default:
		fprintf(out, _("kubeup: failed (%s); log: %s; after fixing "
		    "the cause: kubeup --resume --state-dir %s\n"),
		    ku_strerror(rc), ku_run_log_path(run),
		    ku_run_state_dir(run));
		break;
	}
}

static int
ku_cmd_batch(const struct ku_cli *cli, const char *path)
{
	struct ku_spec *spec = NULL;
	struct ku_run *run = NULL;
	struct ku_run_opts ro = {
		.state_dir = cli->state_dir,
		.templates_dir = cli->templates,
		.teardown = ku_streq(cli->command, "down"),
		.purge = cli->purge,
		.resume = cli->resume,
		.only = cli->phases.n ? (const char *const *)cli->phases.v : NULL,
		.n_only = cli->phases.n,
	};
	struct ku_batch batch = { 0 };
	struct ku_frontend fe;
	struct ku_strv skipped = { 0 }, failed = { 0 };
	struct ku_sigctx sig = { 0 };
	pthread_t sigthread;
	char *err = NULL;
	int status;
	ku_rc rc;

	if (path == NULL && cli->state_dir == NULL)
		return ku_usage_error("%s", _("--resume without an answers "
		    "file needs --state-dir DIR"));
	status = ku_load_spec(cli, path, &spec);
	if (status != KU_EXIT_OK)
		return status;
	if (cli->dry_run) {
		status = ku_cmd_dry_run(cli, spec);
		ku_spec_free(spec);
		return status;
	}

	rc = ku_run_open(spec, &ro, &run, &err);
	if (rc != KU_OK) {
		fprintf(stderr, "kubeup: %s\n", err);
		free(err);
		ku_spec_free(spec);
		return rc == KU_ERR_ANSWERS ? KU_EXIT_USAGE : KU_EXIT_FAILED;
	}

	batch.out = stdout;
	batch.format = cli->events && strcmp(cli->events, "json") == 0 ?
	    KU_EVENTS_JSON : KU_EVENTS_HUMAN;
	batch.on_failure = spec->on_failure;
	ku_batch_frontend(&batch, &fe);

	/* Signals go to one thread, which stops the run cleanly. */
	sig.run = run;
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGINT);
	sigaddset(&sig.set, SIGTERM);
	sigaddset(&sig.set, SIGHUP);
	sigaddset(&sig.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sig.set, NULL);
	if (pthread_create(&sigthread, NULL, ku_signal_thread, &sig) != 0) {
		fprintf(stderr, "kubeup: %s\n", _("cannot start a thread"));
		ku_run_close(run);
		ku_spec_free(spec);
		return KU_EXIT_FAILED;
	}

	if (batch.format == KU_EVENTS_HUMAN)
		printf(_("kubeup: cluster \"%s\", state directory %s, log %s\n"),
		    spec->name, ku_run_state_dir(run), ku_run_log_path(run));
	rc = ku_run_execute(run, &fe, &skipped, &failed);

	pthread_kill(sigthread, SIGUSR1);
	pthread_join(sigthread, NULL);
	if (sig.cancelling)
		pthread_join(sig.canceller, NULL);

	ku_summary(batch.format == KU_EVENTS_JSON ? stderr : stdout, rc,
	    spec, run, cli, &skipped, &failed);
	status = ku_exit_status(rc);
	/* Undoing is done only where it was done: a skipped machine is a
	 * failed down, and the state directory is kept for it. */
	if (ro.teardown && status == KU_EXIT_OK && skipped.n > 0)
		status = KU_EXIT_FAILED;
	if (status == KU_EXIT_OK && cli->forget) {
		char *dir = xstrdup(ku_run_state_dir(run));
		ku_run_close(run);
		run = NULL;
		if (ku_remove_tree(dir) != KU_OK) {
			fprintf(stderr, _("kubeup: %s: cannot remove: %s\n"),
			    dir, strerror(errno));
			status = KU_EXIT_FAILED;
		} else {
			printf(_("kubeup: removed the state directory %s\n"),
			    dir);
		}
		free(dir);
	}
	ku_strv_free(&skipped);
	ku_strv_free(&failed);
	ku_run_close(run);
	ku_spec_free(spec);
	return status;
}

enum {
	OPT_BATCH = 256, OPT_CHECK, OPT_DRY_RUN, OPT_RENDER_DIR, OPT_RESUME,
	OPT_PHASES, OPT_EVENTS, OPT_STATE_DIR, OPT_TEMPLATES, OPT_ON_FAILURE,
	OPT_ALLOW_UNSUPPORTED, OPT_NUM_NODES, OPT_PROVIDER, OPT_PURGE,
	OPT_FORGET, OPT_PREFILL,
};

static const struct option ku_options[] = {
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "render-dir", required_argument, NULL, OPT_RENDER_DIR },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "phases", required_argument, NULL, OPT_PHASES },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "templates", required_argument, NULL, OPT_TEMPLATES },
	{ "on-failure", required_argument, NULL, OPT_ON_FAILURE },
	{ "allow-unsupported-version", no_argument, NULL,
	    OPT_ALLOW_UNSUPPORTED },
	{ "num-nodes", required_argument, NULL, OPT_NUM_NODES },
	{ "provider", required_argument, NULL, OPT_PROVIDER },
	{ "purge", no_argument, NULL, OPT_PURGE },
	{ "forget", no_argument, NULL, OPT_FORGET },
	{ "prefill", required_argument, NULL, OPT_PREFILL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
ku_parse(int argc, char **argv, struct ku_cli *cli)
{
	int c;
	char *end;
	long n;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", ku_options, NULL)) != -1) {
		switch (c) {
		case OPT_BATCH: cli->batch = optarg; break;
		case OPT_CHECK: cli->check = optarg; break;
		case OPT_DRY_RUN: cli->dry_run = true; break;
		case OPT_RENDER_DIR: cli->render_dir = optarg; break;
		case OPT_RESUME: cli->resume = true; break;
		case OPT_STATE_DIR: cli->state_dir = optarg; break;
		case OPT_TEMPLATES: cli->templates = optarg; break;
		case OPT_ALLOW_UNSUPPORTED: cli->allow_unsupported = true; break;
		case OPT_PURGE: cli->purge = true; break;
		case OPT_FORGET: cli->forget = true; break;
		case OPT_PREFILL: cli->prefill = optarg; break;
		case OPT_PHASES:
			if (ku_parse_phases(optarg, &cli->phases) != KU_EXIT_OK)
				return KU_EXIT_USAGE;
			break;
		case OPT_EVENTS:
			if (strcmp(optarg, "human") && strcmp(optarg, "json"))
				return ku_usage_error(_("--events: \"%s\" is not "
				    "one of: human, json"), optarg);
			cli->events = optarg;
			break;
		case OPT_ON_FAILURE:
			if (strcmp(optarg, "abort") && strcmp(optarg, "skip"))
				return ku_usage_error(_("--on-failure: \"%s\" is "
				    "not one of: abort, skip"), optarg);
			cli->on_failure = optarg;
			break;
		case OPT_NUM_NODES:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 0 || n > 1000)
				return ku_usage_error(_("--num-nodes: \"%s\" is "
				    "not a whole number from 0 to 1000"), optarg);
			cli->num_nodes = (int)n;
			break;
		case OPT_PROVIDER:
			if (strcmp(optarg, "ssh") != 0)
				return ku_usage_error(_("--provider: \"%s\" is "
				    "not available; the providers are: ssh"),
				    optarg);
			cli->provider = optarg;
			break;
		case 'h':
			ku_usage(stdout);
			exit(KU_EXIT_OK);
		case 'V':
			printf("kubeup %s\n", PACKAGE_VERSION);
			exit(KU_EXIT_OK);
		case ':':
			return ku_usage_error(_("%s needs a value"),
			    argv[optind - 1]);
		default:
			return ku_usage_error(_("unknown option: %s"),
			    argv[optind - 1]);
		}
	}
	if (optind < argc && (strcmp(argv[optind], "up") == 0 ||
	    strcmp(argv[optind], "down") == 0 ||
	    strcmp(argv[optind], "certs") == 0))
		cli->command = argv[optind++];
	if (optind < argc)
		cli->file = argv[optind++];
	if (optind < argc)
		return ku_usage_error(_("unexpected argument: %s"),
		    argv[optind]);
	return KU_EXIT_OK;
}

static int
ku_main(int argc, char **argv)
{
	struct ku_cli cli = { .num_nodes = -1 };
	int status = ku_parse(argc, argv, &cli);
	const char *answers;

	if (status != KU_EXIT_OK)
		goto out;
	if ((cli.num_nodes >= 0 || cli.provider) &&
	    !ku_streq(cli.command, "up")) {
		status = ku_usage_error("%s", _("--num-nodes and --provider go "
		    "with 'kubeup up'"));
		goto out;
	}
	if (cli.check) {
		if (cli.batch || cli.command || cli.file) {
			status = ku_usage_error("%s", _("--check takes one "
			    "answers file and nothing else"));
			goto out;
		}
		status = ku_cmd_check(&cli);
		goto out;
	}
	if (ku_streq(cli.command, "down")) {
		if (cli.file == NULL && cli.batch == NULL) {
			status = ku_usage_error("%s", _("down needs the answers "
			    "file of the install"));
			goto out;
		}
		if (cli.resume || cli.phases.n || cli.dry_run) {
			status = ku_usage_error("%s", _("down takes no --resume, "
			    "--phases or --dry-run"));
			goto out;
		}
		status = ku_cmd_batch(&cli, cli.file ? cli.file : cli.batch);
		goto out;
	}
	if (ku_streq(cli.command, "certs")) {
		if (cli.file == NULL && cli.batch == NULL) {
			status = ku_usage_error("%s", _("certs needs the answers "
			    "file of the install"));
			goto out;
		}
		if (cli.file && cli.batch) {
			status = ku_usage_error(_("give the answers file once: "
			    "--batch FILE or a file argument, not both (%s)"),
			    cli.file);
			goto out;
		}
		if (cli.resume || cli.phases.n || cli.dry_run || cli.purge ||
		    cli.forget || cli.events || cli.render_dir ||
		    cli.templates) {
			status = ku_usage_error("%s", _("certs takes only "
			    "--state-dir and the answers file"));
			goto out;
		}
		status = ku_cmd_certs(&cli, cli.file ? cli.file : cli.batch);
		goto out;
	}
	if (cli.purge || cli.forget) {
		status = ku_usage_error("%s", _("--purge and --forget go with "
		    "'kubeup down'"));
		goto out;
	}
	if (cli.batch && cli.file) {
		status = ku_usage_error(_("give the answers file once: --batch "
		    "FILE or a file argument, not both (%s)"), cli.file);
		goto out;
	}
	answers = cli.batch ? cli.batch : cli.file;
	if (cli.prefill && (answers || cli.resume || cli.phases.n ||
	    cli.dry_run || cli.command)) {
		status = ku_usage_error("%s", _("--prefill opens the wizard: "
		    "it takes no --batch, answers file, --resume, --phases or "
		    "--dry-run"));
		goto out;
	}
	if (answers == NULL && !(cli.resume && cli.state_dir)) {
		struct ku_wizard_opts wo = {
			.answers = cli.prefill,
			.state_dir = cli.state_dir,
			.templates = cli.templates,
		};
		if (cli.dry_run || cli.resume || cli.phases.n) {
			status = ku_usage_error("%s", _("this needs an answers "
			    "file: --batch FILE"));
			goto out;
		}
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			status = ku_usage_error("%s", _("the wizard needs a "
			    "terminal; without one use --batch FILE"));
			goto out;
		}
		status = ku_wizard_main(&wo);
		goto out;
	}
	status = ku_cmd_batch(&cli, answers);
out:
	ku_strv_free(&cli.phases);
	return status;
}

int
main(int argc, char **argv)
{
	const char *localedir = getenv("KUBEUP_LOCALEDIR");

	setlocale(LC_ALL, "");
	/* KUBEUP_LOCALEDIR: the catalogues of a build not installed (tests) */
	bindtextdomain(PACKAGE, localedir && *localedir ? localedir :
	    LOCALEDIR);
	textdomain(PACKAGE);
	return ku_main(argc, argv);
}
