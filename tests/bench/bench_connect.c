/* Benchmark: connect to every machine of an answers file and run one
 * command on each, through the real path (the ssh provider's connect
 * substep: host key check, authentication, one privileged command), on the
 * engine with a given parallelism. Prints one line of figures.
 *
 *   bench_connect ANSWERS PARALLELISM
 *
 * tests/bench/connect.sh brings up the simulated machines and runs it at
 * several parallelisms. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "answers.h"
#include "engine.h"
#include "journal.h"
#include "plan.h"
#include "provider.h"

static void
ku_bench_event(void *ud, const struct ku_event *ev)
{
	size_t *done = ud;
	if (ev->type == KU_EV_TARGET && ev->state == KU_STATE_DONE)
		(*done)++;
	if (ev->type == KU_EV_TARGET && ev->state == KU_STATE_FAILED)
		fprintf(stderr, "%s: %s\n", ev->target, ev->message);
}

static enum ku_decision
ku_bench_decide(void *ud, const struct ku_pause *p)
{
	(void)ud;
	(void)p;
	return KU_DECIDE_ABORT;
}

int
main(int argc, char **argv)
{
	const struct ku_provider *prov = &ku_provider_ssh;
	const struct ku_substep_def *connect = NULL;
	struct ku_diags diags = { 0 };
	struct ku_spec *spec = NULL;
	struct ku_journal *journal = NULL;
	char dir[] = "/tmp/kubeup-bench-XXXXXX";
	char *jpath, *err = NULL;
	void *pstate = NULL;
	size_t done = 0;
	struct rusage ru;
	uint64_t start;
	ku_rc rc;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_connect ANSWERS PARALLELISM\n");
		return 2;
	}
	if (ku_answers_read(argv[1], &spec, &diags) != KU_OK) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s\n", ku_diag_format(&diags.v[i]));
		return 2;
	}
	for (size_t i = 0; i < prov->provision->n_substeps; i++)
		if (strcmp(prov->provision->substeps[i].id, "connect") == 0)
			connect = &prov->provision->substeps[i];
	if (connect == NULL || mkdtemp(dir) == NULL)
		return 1;
	jpath = ku_path_join(dir, "journal");
	if (ku_journal_open(jpath, &journal, NULL) != KU_OK)
		return 1;

	struct ku_provider_env env = { .state_dir = dir };
	if (prov->open(spec, &env, &pstate, &err) != KU_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct ku_phase_def phase = {
		.id = "bench",
		.title = "connect and run one command",
		.substeps = connect,
		.n_substeps = 1,
	};
	const struct ku_phase_def *phases[] = { &phase };
	struct ku_plan *plan = ku_plan_build_from(spec, phases, 1);
	struct ku_engine_opts eo = {
		.journal = journal,
		.state_dir = dir,
		.parallelism = atoi(argv[2]),
		.provider_state = pstate,
	};
	struct ku_frontend fe = {
		.event = ku_bench_event,
		.decide = ku_bench_decide,
		.ud = &done,
	};
	struct ku_engine *engine = ku_engine_new(plan, &eo, &fe);

	start = ku_now_ms();
	rc = ku_engine_run(engine);
	uint64_t wall = ku_now_ms() - start;
	getrusage(RUSAGE_SELF, &ru);
	printf("machines=%zu parallelism=%s done=%zu wall_ms=%llu "
	    "peak_rss_kib=%ld result=%s\n", ku_spec_n_machines(spec), argv[2],
	    done, (unsigned long long)wall, ru.ru_maxrss, ku_error_id(rc));

	ku_engine_free(engine);
	ku_plan_free(plan);
	prov->close(pstate);
	ku_journal_close(journal);
	ku_remove_tree(dir);
	free(jpath);
	ku_spec_free(spec);
	return rc == KU_OK && done == ku_spec_n_machines(spec) ? 0 : 1;
}
