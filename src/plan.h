/* The plan: phases, their substeps, and each substep's targets, built from a
 * spec by a pure function. The engine runs it; --dry-run prints it. */
#ifndef KU_PLAN_H
#define KU_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "spec.h"

struct ku_task;
typedef ku_rc (*ku_action_fn)(struct ku_task *task);

enum ku_scope {
	KU_SCOPE_CLUSTER,   /* once, on the operator's machine or through the API */
	KU_SCOPE_MASTER,    /* the master machine */
	KU_SCOPE_NODES,     /* each worker node */
	KU_SCOPE_MACHINES,  /* the master and every node */
};

struct ku_substep_def {
	const char *id;       /* unique within its phase: "static-pods" */
	const char *title;    /* N_("Copy static pod manifests") */
	enum ku_scope scope;
	ku_action_fn run;
	bool exit_check;      /* one of the phase's exit criteria */
	/* NULL: always in the plan; else only when it returns true. */
	bool (*enabled)(const struct ku_spec *spec);
};

struct ku_phase_def {
	const char *id;       /* "1", "2", "3", "4.1", "4.2", "5", "6" */
	const char *title;    /* N_("Provision machines") */
	const struct ku_substep_def *substeps;
	size_t n_substeps;
	/* Phases that must have finished, now or in an earlier run, first. */
	const char *const *requires;
	size_t n_requires;
};

struct ku_target {
	int machine;          /* -1: the cluster; else ku_spec_machine() index */
	const char *name;     /* "cluster" or the machine's name (borrowed) */
};

struct ku_plan_phase;

struct ku_step {
	const struct ku_substep_def *def;
	const struct ku_plan_phase *phase;
	size_t index;          /* within the phase */
	struct ku_target *targets;
	size_t n_targets;
};

struct ku_plan_phase {
	const struct ku_phase_def *def;
	struct ku_step *steps;
	size_t n_steps;
};

struct ku_plan {
	const struct ku_spec *spec;   /* borrowed; outlives the plan */
	struct ku_plan_phase *phases;
	size_t n_phases;
};

/* The install plan for spec: phase 1 from the spec's provider, then the
 * common phases. */
struct ku_plan *ku_plan_build(const struct ku_spec *spec);
/* A plan from the given phase definitions (tests build their own). */
struct ku_plan *ku_plan_build_from(const struct ku_spec *spec,
    const struct ku_phase_def *const *phases, size_t n_phases);
void ku_plan_free(struct ku_plan *plan);

const struct ku_plan_phase *ku_plan_phase(const struct ku_plan *plan,
    const char *id);
size_t ku_plan_n_targets(const struct ku_plan *plan);

/* "phase 4.1 Deploy nodes: kubelet" ... one line per substep with its
 * targets, for --dry-run. */
void ku_plan_print(const struct ku_plan *plan, FILE *out);

#endif
