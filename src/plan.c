#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "phases/phases.h"
#include "plan.h"
#include "provider.h"

static void
ku_step_targets(const struct ku_spec *spec, struct ku_step *step)
{
	size_t n_machines = ku_spec_n_machines(spec);
	size_t first = 0, last = 0;

	switch (step->def->scope) {
	case KU_SCOPE_CLUSTER:
		step->targets = xcalloc(1, sizeof *step->targets);
		step->targets[0].machine = -1;
		step->targets[0].name = "cluster";
		step->n_targets = 1;
		return;
	case KU_SCOPE_MASTER:
		first = 0;
		last = 1;
		break;
	case KU_SCOPE_NODES:
		first = 1;
		last = n_machines;
		break;
	case KU_SCOPE_MACHINES:
		first = 0;
		last = n_machines;
		break;
	}
	step->n_targets = last > first ? last - first : 0;
	step->targets = xcalloc(step->n_targets ? step->n_targets : 1,
	    sizeof *step->targets);
	for (size_t i = first; i < last; i++) {
		struct ku_target *t = &step->targets[i - first];
		t->machine = (int)i;
		t->name = ku_spec_machine(spec, i)->name;
	}
}

struct ku_plan *
ku_plan_build_from(const struct ku_spec *spec,
    const struct ku_phase_def *const *phases, size_t n_phases)
{
	struct ku_plan *plan = xcalloc(1, sizeof *plan);

	plan->spec = spec;
	plan->phases = xcalloc(n_phases ? n_phases : 1, sizeof *plan->phases);
	plan->n_phases = n_phases;
	for (size_t p = 0; p < n_phases; p++) {
		const struct ku_phase_def *def = phases[p];
		struct ku_plan_phase *ph = &plan->phases[p];

		ph->def = def;
		ph->steps = xcalloc(def->n_substeps ? def->n_substeps : 1,
		    sizeof *ph->steps);
		for (size_t s = 0; s < def->n_substeps; s++) {
			const struct ku_substep_def *sd = &def->substeps[s];
			struct ku_step *step;

			if (sd->enabled && !sd->enabled(spec))
				continue;
			step = &ph->steps[ph->n_steps];
			step->def = sd;
			step->phase = ph;
			step->index = ph->n_steps;
			ku_step_targets(spec, step);
			ph->n_steps++;
		}
	}
	return plan;
}

struct ku_plan *
ku_plan_build(const struct ku_spec *spec)
{
	const struct ku_phase_def *phases[] = {
		ku_provider_get(spec->provider)->provision,
		&ku_phase_certs,
		&ku_phase_master,
		&ku_phase_kubelet,
		&ku_phase_network,
		&ku_phase_daemons,
		&ku_phase_addons,
	};
	return ku_plan_build_from(spec, phases, KU_ARRAY_LEN(phases));
}

void
ku_plan_free(struct ku_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t p = 0; p < plan->n_phases; p++) {
		for (size_t s = 0; s < plan->phases[p].n_steps; s++)
			free(plan->phases[p].steps[s].targets);
		free(plan->phases[p].steps);
	}
	free(plan->phases);
	free(plan);
}

const struct ku_plan_phase *
ku_plan_phase(const struct ku_plan *plan, const char *id)
{
	for (size_t p = 0; p < plan->n_phases; p++)
		if (strcmp(plan->phases[p].def->id, id) == 0)
			return &plan->phases[p];
	return NULL;
}

size_t
ku_plan_n_targets(const struct ku_plan *plan)
{
	size_t n = 0;
	for (size_t p = 0; p < plan->n_phases; p++)
		for (size_t s = 0; s < plan->phases[p].n_steps; s++)
			n += plan->phases[p].steps[s].n_targets;
	return n;
}

void
ku_plan_print(const struct ku_plan *plan, FILE *out)
{
	for (size_t p = 0; p < plan->n_phases; p++) {
		const struct ku_plan_phase *ph = &plan->phases[p];

		fprintf(out, _("phase %s: %s\n"), ph->def->id,
		    _(ph->def->title));
		for (size_t s = 0; s < ph->n_steps; s++) {
			const struct ku_step *st = &ph->steps[s];

			fprintf(out, "  %-4s %-22s %s%s\n", ph->def->id,
			    st->def->id, _(st->def->title),
			    st->def->exit_check ? _(" [exit check]") : "");
			fprintf(out, "       %s", _("on:"));
			for (size_t t = 0; t < st->n_targets; t++)
				fprintf(out, " %s", st->targets[t].name);
			if (st->n_targets == 0)
				fprintf(out, " %s", _("(no targets)"));
			fputc('\n', out);
		}
	}
}
