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

/* Through the cluster's API (cluster.c). */
ku_rc ku_api_admin_binding(struct ku_task *t);
ku_rc ku_api_check_pod(struct ku_task *t);
ku_rc ku_api_check_workload(struct ku_task *t);
ku_rc ku_api_check_components(struct ku_task *t);
ku_rc ku_api_check_registered(struct ku_task *t);
ku_rc ku_api_apply_network(struct ku_task *t);
ku_rc ku_api_check_node_ready(struct ku_task *t);
ku_rc ku_api_test_pod(struct ku_task *t);
ku_rc ku_api_check_pod_network(struct ku_task *t);
ku_rc ku_api_apply_kube_proxy(struct ku_task *t);
ku_rc ku_api_check_service(struct ku_task *t);
ku_rc ku_api_addon_dns(struct ku_task *t);
ku_rc ku_api_addon_dashboard(struct ku_task *t);
ku_rc ku_api_addon_metrics_server(struct ku_task *t);
ku_rc ku_api_check_addons(struct ku_task *t);
ku_rc ku_api_check_dns(struct ku_task *t);
ku_rc ku_api_remove_checks(struct ku_task *t);

#endif
