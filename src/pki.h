/* The cluster's PKI, on OpenSSL 3: certificate authorities, certificates,
 * keys and kubeconfigs in the state directory, with kubeadm's names.
 *
 *   pki/                  0700   ca, etcd/ca, front-proxy-ca; apiserver,
 *                                apiserver-kubelet-client,
 *                                apiserver-etcd-client, etcd/server,
 *                                etcd/peer, etcd/healthcheck-client,
 *                                front-proxy-client (.crt 0644, .key 0600);
 *                                sa.key, sa.pub; encryption-config.yaml
 *   pki/nodes/<machine>/  0700   kubelet-client, kubelet (serving)
 *   kubeconfig/           0700   admin, super-admin, controller-manager,
 *                                scheduler, kube-proxy (.conf, 0600)
 *   kubeconfig/kubelet/   0700   <machine>.conf
 *
 * Every function checks before it acts: a file that is there and still
 * fits the answers is kept as it is; one that no longer fits (a name, the
 * key type, the CA that signed it) or expires within KU_PKI_RENEW_DAYS is
 * replaced, and the report says which and why. Files are written
 * atomically; key material is never logged.
 *
 * One struct ku_pki serves a run: the algorithms are fetched once, the CAs
 * loaded once, and its functions may be called from several threads at
 * once (ku_pki_machine for different machines).
 */
#ifndef KU_PKI_H
#define KU_PKI_H

#include <stdio.h>

#include "spec.h"
#include "util.h"

#define KU_PKI_CA_YEARS 10
#define KU_PKI_LEAF_YEARS 1
#define KU_PKI_RENEW_DAYS 30
#define KU_PKI_SKEW_SECONDS 300   /* notBefore this far in the past */
#define KU_PKI_API_PORT 6443

struct ku_pki;

/* What one call did. Paths are relative to the state directory. */
struct ku_pki_report {
	struct ku_strv written;   /* "pki/apiserver.crt" */
	struct ku_strv warnings;  /* translated: the file, renewed, and why */
};

void ku_pki_report_free(struct ku_pki_report *rep);

/* Nothing is fetched or read until the first call that needs it. spec
 * and state_dir are borrowed and must outlive the context. */
struct ku_pki *ku_pki_new(const struct ku_spec *spec, const char *state_dir);
void ku_pki_free(struct ku_pki *pki);

/* The substeps of phase 2. Each returns KU_OK, or an error with *err
 * naming the file and the reason (caller frees). */
ku_rc ku_pki_cas(struct ku_pki *pki, struct ku_pki_report *rep, char **err);
ku_rc ku_pki_control_plane(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err);
ku_rc ku_pki_service_account(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err);
/* One machine's kubelet client and serving certificates and its
 * kubeconfig (kubeconfig/kubelet/<name>.conf). */
ku_rc ku_pki_machine(struct ku_pki *pki, const struct ku_machine *m,
    struct ku_pki_report *rep, char **err);
/* pki/encryption-config.yaml: made once and never replaced (Secrets
 * written with its key would become unreadable); one that cannot be read
 * is an error for the operator to resolve. */
ku_rc ku_pki_encryption_config(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err);
/* admin, super-admin, controller-manager, scheduler and kube-proxy. */
ku_rc ku_pki_kubeconfigs(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err);
/* All of the above, in order, for every machine of the spec. */
ku_rc ku_pki_generate(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err);

/* The exit check: every chain verifies against its CA, every name, usage
 * and validity is what the answers ask for, every key matches its
 * certificate, keys and kubeconfigs are 0600 and folders 0700. Adds one
 * translated line per problem, naming the file; KU_ERR_CHECK when there is
 * any. */
ku_rc ku_pki_check(struct ku_pki *pki, struct ku_strv *problems);

/* `kubeup certs`: one line per certificate (those in kubeconfigs too):
 * file, subject, not-after, days left, SANs. KU_ERR_STATE with *err when
 * the state directory holds no PKI. */
ku_rc ku_pki_list(struct ku_pki *pki, FILE *out, char **err);

/* The first address of a Service range (network + 1), the apiserver's
 * ClusterIP: 10.96.0.1 for 10.96.0.0/12. False when the range has none. */
bool ku_pki_service_ip(const char *cidr, char *out, size_t outlen);

#endif
