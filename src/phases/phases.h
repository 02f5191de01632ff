/* The phases common to every provider (phase 1 comes from the provider).
 * One file each; each phase is one table of substeps. */
#ifndef KU_PHASES_H
#define KU_PHASES_H

#include "engine.h"
#include "plan.h"

extern const struct ku_phase_def ku_phase_certs;     /* 2 */
extern const struct ku_phase_def ku_phase_master;    /* 3 */
extern const struct ku_phase_def ku_phase_kubelet;   /* 4.1 */
extern const struct ku_phase_def ku_phase_network;   /* 4.2 */
extern const struct ku_phase_def ku_phase_daemons;   /* 5 */
extern const struct ku_phase_def ku_phase_addons;    /* 6 */

/* Machine-side actions of phases 3 and 4.1 (place.c). */
ku_rc ku_place_machine_certs(struct ku_task *t);
ku_rc ku_place_master_certs(struct ku_task *t);
ku_rc ku_place_static_pods(struct ku_task *t);
ku_rc ku_place_kubelet(struct ku_task *t);
ku_rc ku_start_kubelet(struct ku_task *t);

#endif
