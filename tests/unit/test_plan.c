/* Unit tests of src/plan.c: the install plan built from a spec. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "testlib.h"

static const char *const phase_ids[] = { "1", "2", "3", "4.1", "4.2", "5",
	"6" };

/* Checks a step's targets against its scope and the spec's machines. */
static void
check_targets(const struct ku_spec *spec, const struct ku_plan_phase *ph,
    const struct ku_step *st)
{
	size_t n_nodes = spec->n_nodes;
	size_t first = 0, n = 0;

	switch (st->def->scope) {
	case KU_SCOPE_CLUSTER:
		assert_int_equal(st->n_targets, 1);
		assert_int_equal(st->targets[0].machine, -1);
		assert_string_equal(st->targets[0].name, "cluster");
		return;
	case KU_SCOPE_MASTER:
		first = 0;
		n = 1;
		break;
	case KU_SCOPE_NODES:
		first = 1;
		n = n_nodes;
		break;
	case KU_SCOPE_MACHINES:
		first = 0;
		n = 1 + n_nodes;
		break;
	default:
		fail_msg("phase %s substep %s: unknown scope %d", ph->def->id,
		    st->def->id, (int)st->def->scope);
	}
	if (st->n_targets != n)
		fail_msg("phase %s substep %s: %zu targets, want %zu",
		    ph->def->id, st->def->id, st->n_targets, n);
	for (size_t i = 0; i < n; i++) {
		const struct ku_machine *m = ku_spec_machine(spec, first + i);
		assert_non_null(m);
		assert_int_equal(st->targets[i].machine, (int)(first + i));
		assert_string_equal(st->targets[i].name, m->name);
		/* Names are borrowed from the spec, not copied. */
		assert_ptr_equal(st->targets[i].name, m->name);
	}
	/* The names tl_spec() gave. */
	if (n > 0)
		assert_string_equal(st->targets[0].name,
		    first == 0 ? "master" : "node-1");
	if (n_nodes > 0 && st->def->scope != KU_SCOPE_MASTER) {
		char last[32];
		snprintf(last, sizeof last, "node-%zu", n_nodes);
		assert_string_equal(st->targets[n - 1].name, last);
	}
}

static void
check_plan(size_t n_nodes)
{
	struct ku_spec *spec = tl_spec(n_nodes);
	struct ku_plan *plan = ku_plan_build(spec);
	size_t total = 0;

	assert_non_null(plan);
	assert_ptr_equal(plan->spec, spec);
	assert_int_equal(plan->n_phases, KU_ARRAY_LEN(phase_ids));
	for (size_t p = 0; p < plan->n_phases; p++) {
		const struct ku_plan_phase *ph = &plan->phases[p];
		bool seen_check = false;
		size_t n_checks = 0;

		assert_string_equal(ph->def->id, phase_ids[p]);
		assert_ptr_equal(ku_plan_phase(plan, phase_ids[p]), ph);
		assert_non_null(ph->def->title);
		assert_true(ph->def->title[0] != '\0');
		if (ph->n_steps == 0)
			fail_msg("phase %s has no substeps", ph->def->id);
		for (size_t s = 0; s < ph->n_steps; s++) {
			const struct ku_step *st = &ph->steps[s];

			assert_non_null(st->def);
			assert_non_null(st->def->id);
			assert_true(st->def->id[0] != '\0');
			assert_non_null(st->def->title);
			assert_ptr_equal(st->phase, ph);
			assert_int_equal(st->index, s);
			/* Unique within the phase. */
			for (size_t o = 0; o < s; o++)
				if (strcmp(ph->steps[o].def->id,
				    st->def->id) == 0)
					fail_msg("phase %s: substep id %s "
					    "twice", ph->def->id, st->def->id);
			/* Exit checks come after every other substep. */
			if (st->def->exit_check) {
				seen_check = true;
				n_checks++;
			} else if (seen_check) {
				fail_msg("phase %s: substep %s follows an exit "
				    "check", ph->def->id, st->def->id);
			}
			check_targets(spec, ph, st);
			total += st->n_targets;
		}
		/* Every phase ends with its exit criteria (DESIGN.md). */
		if (n_checks == 0)
			fail_msg("phase %s has no exit check", ph->def->id);
	}
	assert_int_equal(ku_plan_n_targets(plan), total);
	assert_null(ku_plan_phase(plan, "4"));
	assert_null(ku_plan_phase(plan, "7"));
	ku_plan_free(plan);
	ku_spec_free(spec);
}

static void
test_plan_0_nodes(void **state)
{
	(void)state;
	check_plan(0);
}

static void
test_plan_1_node(void **state)
{
	(void)state;
	check_plan(1);
}

static void
test_plan_3_nodes(void **state)
{
	(void)state;
	check_plan(3);
}

static void
test_plan_50_nodes(void **state)
{
	(void)state;
	check_plan(50);
}

/* Nodes scope with no nodes: a step with no targets, still in the plan. */
static void
test_plan_zero_nodes_scopes(void **state)
{
	struct ku_spec *spec = tl_spec(0);
	struct ku_plan *plan = ku_plan_build(spec);
	size_t n_nodes_steps = 0;

	(void)state;
	for (size_t p = 0; p < plan->n_phases; p++)
		for (size_t s = 0; s < plan->phases[p].n_steps; s++) {
			const struct ku_step *st = &plan->phases[p].steps[s];
			if (st->def->scope == KU_SCOPE_NODES) {
				assert_int_equal(st->n_targets, 0);
				n_nodes_steps++;
			}
			if (st->def->scope == KU_SCOPE_MACHINES) {
				assert_int_equal(st->n_targets, 1);
				assert_string_equal(st->targets[0].name,
				    "master");
			}
		}
	/* Phase 4.1 deploys nodes: it has per-node substeps. */
	assert_true(n_nodes_steps > 0);
	ku_plan_free(plan);
	ku_spec_free(spec);
}

static bool
phase_has(const struct ku_plan *plan, const char *phase, const char *id)
{
	const struct ku_plan_phase *ph = ku_plan_phase(plan, phase);

	assert_non_null(ph);
	for (size_t s = 0; s < ph->n_steps; s++)
		if (strcmp(ph->steps[s].def->id, id) == 0)
			return true;
	return false;
}

static void
test_addons_off(void **state)
{
	struct ku_spec *spec = tl_spec(2);
	struct ku_plan *plan;
	size_t n_on, n_off;

	(void)state;
	/* Defaults: every add-on on. */
	assert_true(spec->addon_dns);
	assert_true(spec->addon_dashboard);
	assert_true(spec->addon_metrics_server);
	plan = ku_plan_build(spec);
	assert_true(phase_has(plan, "6", "dns"));
	assert_true(phase_has(plan, "6", "dashboard"));
	assert_true(phase_has(plan, "6", "metrics-server"));
	assert_true(phase_has(plan, "6", "check-dns"));
	n_on = ku_plan_phase(plan, "6")->n_steps;
	ku_plan_free(plan);

	/* One at a time. */
	spec->addon_dashboard = false;
	plan = ku_plan_build(spec);
	assert_true(phase_has(plan, "6", "dns"));
	assert_false(phase_has(plan, "6", "dashboard"));
	assert_true(phase_has(plan, "6", "metrics-server"));
	assert_int_equal(ku_plan_phase(plan, "6")->n_steps, n_on - 1);
	ku_plan_free(plan);

	spec->addon_dashboard = true;
	spec->addon_metrics_server = false;
	plan = ku_plan_build(spec);
	assert_true(phase_has(plan, "6", "dashboard"));
	assert_false(phase_has(plan, "6", "metrics-server"));
	assert_int_equal(ku_plan_phase(plan, "6")->n_steps, n_on - 1);
	ku_plan_free(plan);

	/* DNS off: its deployment and its check go. */
	spec->addon_metrics_server = true;
	spec->addon_dns = false;
	plan = ku_plan_build(spec);
	assert_false(phase_has(plan, "6", "dns"));
	assert_false(phase_has(plan, "6", "check-dns"));
	assert_true(phase_has(plan, "6", "dashboard"));
	assert_int_equal(ku_plan_phase(plan, "6")->n_steps, n_on - 2);
	ku_plan_free(plan);

	/* All off. */
	spec->addon_dashboard = false;
	spec->addon_metrics_server = false;
	plan = ku_plan_build(spec);
	assert_false(phase_has(plan, "6", "dns"));
	assert_false(phase_has(plan, "6", "dashboard"));
	assert_false(phase_has(plan, "6", "metrics-server"));
	assert_false(phase_has(plan, "6", "check-dns"));
	n_off = ku_plan_phase(plan, "6")->n_steps;
	assert_int_equal(n_off, n_on - 4);
	/* The other phases do not change. */
	assert_int_equal(plan->n_phases, 7);
	ku_plan_free(plan);
	ku_spec_free(spec);
}

/* The plan is pure: the same spec gives the same plan. */
static void
test_plan_deterministic(void **state)
{
	struct ku_spec *spec = tl_spec(3);
	struct ku_plan *a = ku_plan_build(spec);
	struct ku_plan *b = ku_plan_build(spec);

	(void)state;
	assert_int_equal(a->n_phases, b->n_phases);
	for (size_t p = 0; p < a->n_phases; p++) {
		assert_int_equal(a->phases[p].n_steps, b->phases[p].n_steps);
		for (size_t s = 0; s < a->phases[p].n_steps; s++) {
			const struct ku_step *x = &a->phases[p].steps[s];
			const struct ku_step *y = &b->phases[p].steps[s];
			assert_ptr_equal(x->def, y->def);
			assert_int_equal(x->n_targets, y->n_targets);
			for (size_t t = 0; t < x->n_targets; t++)
				assert_int_equal(x->targets[t].machine,
				    y->targets[t].machine);
		}
	}
	ku_plan_free(a);
	ku_plan_free(b);
	ku_plan_free(NULL);
	ku_spec_free(spec);
}

/* The printed plan: every substep's id on its phase's line, and every
 * target listed. */
static void
test_plan_print(void **state)
{
	struct ku_spec *spec = tl_spec(3);
	struct ku_plan *plan = ku_plan_build(spec);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	ku_plan_print(plan, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(text);
	assert_true(len > 0);

	for (size_t p = 0; p < plan->n_phases; p++) {
		const struct ku_plan_phase *ph = &plan->phases[p];
		char head[64];

		snprintf(head, sizeof head, "phase %s", ph->def->id);
		if (strstr(text, head) == NULL)
			fail_msg("printed plan lacks \"%s\"", head);
		for (size_t s = 0; s < ph->n_steps; s++) {
			const char *id = ph->steps[s].def->id;
			bool found = false;
			char *copy = xstrdup(text), *save = NULL;

			/* A line whose first two words are "PHASE ID". */
			for (char *line = strtok_r(copy, "\n", &save); line;
			    line = strtok_r(NULL, "\n", &save)) {
				char w1[32], w2[64];
				if (sscanf(line, "%31s %63s", w1, w2) == 2 &&
				    strcmp(w1, ph->def->id) == 0 &&
				    strcmp(w2, id) == 0) {
					found = true;
					break;
				}
			}
			free(copy);
			if (!found)
				fail_msg("printed plan lacks substep %s/%s",
				    ph->def->id, id);
		}
	}
	assert_non_null(strstr(text, "master"));
	assert_non_null(strstr(text, "node-1"));
	assert_non_null(strstr(text, "node-3"));
	assert_non_null(strstr(text, "cluster"));
	assert_null(strstr(text, "node-4"));
	free(text);
	ku_plan_free(plan);
	ku_spec_free(spec);
}

/* A plan from definitions of the test's own, with a disabled substep and
 * an empty phase. */
static bool
never(const struct ku_spec *spec)
{
	(void)spec;
	return false;
}

static const struct ku_substep_def own_substeps[] = {
	{ .id = "a", .title = "A", .scope = KU_SCOPE_NODES },
	{ .id = "off", .title = "Off", .scope = KU_SCOPE_CLUSTER,
	  .enabled = never },
	{ .id = "b", .title = "B", .scope = KU_SCOPE_MASTER },
	{ .id = "c", .title = "C", .scope = KU_SCOPE_MACHINES,
	  .exit_check = true },
};
static const struct ku_phase_def own_phase = {
	.id = "x", .title = "X", .substeps = own_substeps,
	.n_substeps = KU_ARRAY_LEN(own_substeps),
};
static const struct ku_phase_def empty_phase = {
	.id = "e", .title = "Empty",
};

static void
test_plan_build_from(void **state)
{
	const struct ku_phase_def *const phases[] = { &own_phase,
		&empty_phase };
	struct ku_spec *spec = tl_spec(2);
	struct ku_plan *plan = ku_plan_build_from(spec, phases, 2);
	const struct ku_plan_phase *ph;

	(void)state;
	assert_int_equal(plan->n_phases, 2);
	ph = &plan->phases[0];
	assert_int_equal(ph->n_steps, 3);
	assert_string_equal(ph->steps[0].def->id, "a");
	assert_string_equal(ph->steps[1].def->id, "b");
	assert_string_equal(ph->steps[2].def->id, "c");
	assert_int_equal(ph->steps[1].index, 1);
	assert_int_equal(ph->steps[0].n_targets, 2);
	assert_int_equal(ph->steps[1].n_targets, 1);
	assert_int_equal(ph->steps[2].n_targets, 3);
	assert_int_equal(plan->phases[1].n_steps, 0);
	assert_int_equal(ku_plan_n_targets(plan), 6);
	ku_plan_free(plan);

	plan = ku_plan_build_from(spec, NULL, 0);
	assert_int_equal(plan->n_phases, 0);
	assert_int_equal(ku_plan_n_targets(plan), 0);
	assert_null(ku_plan_phase(plan, "1"));
	ku_plan_free(plan);
	ku_spec_free(spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_0_nodes),
		cmocka_unit_test(test_plan_1_node),
		cmocka_unit_test(test_plan_3_nodes),
		cmocka_unit_test(test_plan_50_nodes),
		cmocka_unit_test(test_plan_zero_nodes_scopes),
		cmocka_unit_test(test_addons_off),
		cmocka_unit_test(test_plan_deterministic),
		cmocka_unit_test(test_plan_print),
		cmocka_unit_test(test_plan_build_from),
	};

	tl_watchdog(120);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
