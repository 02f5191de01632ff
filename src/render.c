/* Every file kubeup places, rendered from the templates for one spec.
 *
 * One table says which template becomes which file, for which targets, with
 * which mode and under which condition; the variables the templates see
 * are computed here once per cluster and once per machine. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "i18n.h"
#include "plan.h"
#include "render.h"
#include "template.h"
#include "util.h"
#include "versions.h"

#define KU_DEFAULT_REGISTRY "registry.k8s.io"
#define KU_API_SERVER_PORT 6443
#define KU_TARGET_CLUSTER "cluster"
#define KU_CUSTOM_MANIFEST_MAX_BYTES (16 * 1024 * 1024)
/* containerd's registry hosts folder (config_path): the registry's CA is
 * placed on each machine as KU_REGISTRY_CA_DIR/<host>/ca.crt, which
 * containerd reads as a Docker-style certs.d folder. */
#define KU_REGISTRY_CA_DIR "/etc/containerd/certs.d"

/* --- images --- */

/* The images of a release. An image is <registry>/<name>:<tag>, the
 * registry being images.registry. With the default registry, images that
 * registry.k8s.io does not carry come from where their project publishes
 * them (home); an air-gapped mirror must hold every image under <name>.
 * Tags that do not follow the cluster's version come from the version
 * table (versions.c). */
struct ku_image {
	const char *var;      /* template variable */
	const char *name;
	int tag;              /* enum ku_version_image; -1: "v" + version */
	const char *home;     /* NULL: registry.k8s.io */
};

static const struct ku_image ku_images[] = {
	{ .var = "image_kube_apiserver", .name = "kube-apiserver", .tag = -1 },
	{ .var = "image_kube_controller_manager",
	  .name = "kube-controller-manager", .tag = -1 },
	{ .var = "image_kube_scheduler", .name = "kube-scheduler", .tag = -1 },
	{ .var = "image_kube_proxy", .name = "kube-proxy", .tag = -1 },
	{ .var = "image_etcd", .name = "etcd", .tag = KU_VIMG_ETCD },
	{ .var = "image_pause", .name = "pause", .tag = KU_VIMG_PAUSE },
	{ .var = "image_coredns", .name = "coredns/coredns",
	  .tag = KU_VIMG_COREDNS },
	{ .var = "image_flannel", .name = "flannel-io/flannel",
	  .tag = KU_VIMG_FLANNEL, .home = "ghcr.io" },
	{ .var = "image_flannel_cni_plugin",
	  .name = "flannel-io/flannel-cni-plugin",
	  .tag = KU_VIMG_FLANNEL_CNI, .home = "ghcr.io" },
	{ .var = "image_calico_node", .name = "calico/node",
	  .tag = KU_VIMG_CALICO, .home = "quay.io" },
	{ .var = "image_calico_cni", .name = "calico/cni",
	  .tag = KU_VIMG_CALICO, .home = "quay.io" },
	{ .var = "image_calico_kube_controllers",
	  .name = "calico/kube-controllers",
	  .tag = KU_VIMG_CALICO, .home = "quay.io" },
	{ .var = "image_dashboard", .name = "kubernetesui/dashboard",
	  .tag = KU_VIMG_DASHBOARD, .home = "docker.io" },
	{ .var = "image_dashboard_metrics_scraper",
	  .name = "kubernetesui/metrics-scraper",
	  .tag = KU_VIMG_METRICS_SCRAPER, .home = "docker.io" },
	{ .var = "image_metrics_server",
	  .name = "metrics-server/metrics-server",
	  .tag = KU_VIMG_METRICS_SERVER },
	{ .var = "image_check", .name = "e2e-test-images/busybox",
	  .tag = KU_VIMG_CHECK },
};

/* "<registry>/<name>:<tag>"; caller frees. */
static char *
ku_image_ref(const struct ku_image *im, const char *registry,
    bool is_default, const char *version)
{
	const char *from = is_default && im->home ? im->home : registry;
	const struct ku_version *v = ku_version_profile(version);

	if (im->tag >= 0 && v->tags[im->tag])
		return xasprintf("%s/%s:%s", from, im->name, v->tags[im->tag]);
	return xasprintf("%s/%s:v%s", from, im->name, version);
}

/* images.registry (or the default) without trailing slashes; caller
 * frees. */
static char *
ku_registry(const struct ku_spec *spec)
{
	const char *reg = spec->registry && spec->registry[0] ?
	    spec->registry : KU_DEFAULT_REGISTRY;
	size_t len = strlen(reg);

	while (len > 1 && reg[len - 1] == '/')
		len--;
	return xstrndup(reg, len);
}

char *
ku_render_image(const struct ku_spec *spec, const char *name)
{
	char *registry = ku_registry(spec), *ref = NULL;

	for (size_t i = 0; i < KU_ARRAY_LEN(ku_images); i++)
		if (strcmp(ku_images[i].name, name) == 0)
			ref = ku_image_ref(&ku_images[i], registry,
			    strcmp(registry, KU_DEFAULT_REGISTRY) == 0,
			    spec->version);
	free(registry);
	return ref;
}

/* The resource types the compact Calico manifest registers. */
struct ku_crd {
	const char *group;
	const char *version;
	const char *plural;
	const char *kind;
	bool namespaced;
	const char *api_approved;   /* for the protected *.k8s.io groups */
};

#define KU_CALICO(p, k) \
	{ .group = "crd.projectcalico.org", .version = "v1", .plural = p, \
	  .kind = k }
#define KU_CALICO_NS(p, k) \
	{ .group = "crd.projectcalico.org", .version = "v1", .plural = p, \
	  .kind = k, .namespaced = true }
#define KU_NETPOL_API(p, k) \
	{ .group = "policy.networking.k8s.io", .version = "v1alpha1", \
	  .plural = p, .kind = k, .api_approved = \
	  "https://github.com/kubernetes-sigs/network-policy-api/pull/30" }

static const struct ku_crd ku_calico_crds[] = {
	KU_CALICO("bgpconfigurations", "BGPConfiguration"),
	KU_CALICO("bgpfilters", "BGPFilter"),
	KU_CALICO("bgppeers", "BGPPeer"),
	KU_CALICO("blockaffinities", "BlockAffinity"),
	KU_CALICO("caliconodestatuses", "CalicoNodeStatus"),
	KU_CALICO("clusterinformations", "ClusterInformation"),
	KU_CALICO("felixconfigurations", "FelixConfiguration"),
	KU_CALICO("globalnetworkpolicies", "GlobalNetworkPolicy"),
	KU_CALICO("globalnetworksets", "GlobalNetworkSet"),
	KU_CALICO("hostendpoints", "HostEndpoint"),
	KU_CALICO("ipamblocks", "IPAMBlock"),
	KU_CALICO("ipamconfigs", "IPAMConfig"),
	KU_CALICO("ipamhandles", "IPAMHandle"),
	KU_CALICO("ippools", "IPPool"),
	KU_CALICO("ipreservations", "IPReservation"),
	KU_CALICO("kubecontrollersconfigurations",
	    "KubeControllersConfiguration"),
	KU_CALICO_NS("networkpolicies", "NetworkPolicy"),
	KU_CALICO_NS("networksets", "NetworkSet"),
	KU_CALICO("stagedglobalnetworkpolicies", "StagedGlobalNetworkPolicy"),
	KU_CALICO_NS("stagedkubernetesnetworkpolicies",
	    "StagedKubernetesNetworkPolicy"),
	KU_CALICO_NS("stagednetworkpolicies", "StagedNetworkPolicy"),
	KU_CALICO("tiers", "Tier"),
	KU_NETPOL_API("adminnetworkpolicies", "AdminNetworkPolicy"),
	KU_NETPOL_API("baselineadminnetworkpolicies",
	    "BaselineAdminNetworkPolicy"),
};

#undef KU_CALICO
#undef KU_CALICO_NS
#undef KU_NETPOL_API

/* --- the files --- */

enum ku_render_source {
	KU_SOURCE_TEMPLATE,          /* render .template */
	KU_SOURCE_CUSTOM_MANIFEST,   /* copy network.manifest as it is */
};

struct ku_render_def {
	enum ku_render_source source;
	const char *template;        /* relative to templates/ */
	enum ku_scope scope;
	const char *path;            /* on the machine, or under "cluster" */
	mode_t mode;
	bool (*when)(const struct ku_spec *spec);   /* NULL: always */
};

static bool
ku_when_flannel(const struct ku_spec *spec)
{
	return spec->plugin == KU_NET_FLANNEL;
}

static bool
ku_when_calico(const struct ku_spec *spec)
{
	return spec->plugin == KU_NET_CALICO;
}

static bool
ku_when_custom(const struct ku_spec *spec)
{
	return spec->plugin == KU_NET_CUSTOM;
}

static bool
ku_when_dns(const struct ku_spec *spec)
{
	return spec->addon_dns;
}

static bool
ku_when_dashboard(const struct ku_spec *spec)
{
	return spec->addon_dashboard;
}

static bool
ku_when_metrics_server(const struct ku_spec *spec)
{
	return spec->addon_metrics_server;
}

/* No secrets here: certificates, keys and kubeconfigs are placed by the
 * certificates phase, so every rendered file is 0644. */
static const struct ku_render_def ku_render_defs[] = {
	{ .template = "kubelet/config.yaml", .scope = KU_SCOPE_MACHINES,
	  .path = "/var/lib/kubelet/config.yaml", .mode = 0644 },
	{ .template = "kubelet/kubelet.service", .scope = KU_SCOPE_MACHINES,
	  .path = "/etc/systemd/system/kubelet.service", .mode = 0644 },
	{ .template = "containerd/config.toml", .scope = KU_SCOPE_MACHINES,
	  .path = "/etc/containerd/config.toml", .mode = 0644 },
	{ .template = "manifests/audit-policy.yaml", .scope = KU_SCOPE_MASTER,
	  .path = "/etc/kubernetes/audit-policy.yaml", .mode = 0644 },
	{ .template = "manifests/etcd.yaml", .scope = KU_SCOPE_MASTER,
	  .path = "/etc/kubernetes/manifests/etcd.yaml", .mode = 0644 },
	{ .template = "manifests/kube-apiserver.yaml",
	  .scope = KU_SCOPE_MASTER,
	  .path = "/etc/kubernetes/manifests/kube-apiserver.yaml",
	  .mode = 0644 },
	{ .template = "manifests/kube-controller-manager.yaml",
	  .scope = KU_SCOPE_MASTER,
	  .path = "/etc/kubernetes/manifests/kube-controller-manager.yaml",
	  .mode = 0644 },
	{ .template = "manifests/kube-scheduler.yaml",
	  .scope = KU_SCOPE_MASTER,
	  .path = "/etc/kubernetes/manifests/kube-scheduler.yaml",
	  .mode = 0644 },
	{ .template = "network/flannel.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "network/flannel.yaml", .mode = 0644,
	  .when = ku_when_flannel },
	{ .template = "network/calico.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "network/calico.yaml", .mode = 0644,
	  .when = ku_when_calico },
	{ .source = KU_SOURCE_CUSTOM_MANIFEST, .scope = KU_SCOPE_CLUSTER,
	  .path = "network/custom.yaml", .mode = 0644,
	  .when = ku_when_custom },
	{ .template = "daemons/kube-proxy.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "daemons/kube-proxy.yaml", .mode = 0644 },
	{ .template = "addons/coredns.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "addons/coredns.yaml", .mode = 0644, .when = ku_when_dns },
	{ .template = "addons/dashboard.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "addons/dashboard.yaml", .mode = 0644,
	  .when = ku_when_dashboard },
	{ .template = "addons/metrics-server.yaml", .scope = KU_SCOPE_CLUSTER,
	  .path = "addons/metrics-server.yaml", .mode = 0644,
	  .when = ku_when_metrics_server },
};

/* kube-controller-manager's --node-cidr-mask-size: its default (/24, or
 * /64 for IPv6) when the pod CIDR has room for every machine at that size,
 * else as large as every machine needs; at most 16 bits longer than the
 * pod CIDR's prefix (the controller refuses more). */
static bool
ku_node_mask_size(const struct ku_cidr *pods, size_t n_machines, int *out)
{
	int max_bits = pods->family == AF_INET ? 32 : 128;
	int mask = pods->family == AF_INET ? 24 : 64;
	int need = 0;

	while (need < 30 && ((size_t)1 << need) < n_machines)
		need++;
	if (mask < pods->prefix + need)
		mask = pods->prefix + need;
	if (mask > pods->prefix + 16)
		mask = pods->prefix + 16;
	/* Now 0 <= mask - prefix <= 16. */
	if (mask > max_bits - 2 ||
	    ((size_t)1 << (mask - pods->prefix)) < n_machines)
		return false;
	*out = mask;
	return true;
}

/* --- variables --- */

static ku_rc KU_PRINTF(2, 3)
ku_render_fail(char **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(*err);
	*err = xvasprintf(fmt, ap);
	va_end(ap);
	return KU_ERR_INVALID;
}

static bool
ku_nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A registry host ("mirror.example:5000", "[2001:db8::1]:5000"): it names
 * a folder on every machine, so only these characters. */
static bool
ku_registry_host_ok(const char *host)
{
	if (host[0] == '\0' || host[0] == '.')
		return false;
	for (const char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-:[]", *p)))
			return false;
	return strstr(host, "..") == NULL;
}

char *
ku_render_registry_ca_path(const struct ku_spec *spec)
{
	char *host, *path = NULL;

	if (!ku_nonempty(spec->registry_ca_file))
		return NULL;
	host = ku_registry(spec);
	host[strcspn(host, "/")] = '\0';
	if (ku_registry_host_ok(host))
		path = xasprintf("%s/%s/ca.crt", KU_REGISTRY_CA_DIR, host);
	free(host);
	return path;
}

static ku_rc
ku_render_images(const struct ku_spec *spec, struct ku_tvars *vars,
    char **err)
{
	const char *reg = ku_nonempty(spec->registry) ? spec->registry :
	    KU_DEFAULT_REGISTRY;
	char *registry = ku_registry(spec), *slash;
	bool is_default;

	is_default = strcmp(registry, KU_DEFAULT_REGISTRY) == 0;

	for (size_t i = 0; i < KU_ARRAY_LEN(ku_images); i++) {
		char *ref = ku_image_ref(&ku_images[i], registry, is_default,
		    spec->version);
		ku_tvars_setf(vars, ku_images[i].var, "%s", ref);
		free(ref);
	}

	slash = strchr(registry, '/');
	if (slash)
		*slash = '\0';
	if (!ku_registry_host_ok(registry)) {
		ku_rc rc = ku_render_fail(err,
		    _("images.registry: \"%s\" does not start with a host name"),
		    reg);
		free(registry);
		return rc;
	}
	ku_tvars_set(vars, "registry_host", registry);
	ku_tvars_set_bool(vars, "registry_ca",
	    ku_nonempty(spec->registry_ca_file));
	ku_tvars_setf(vars, "registry_ca_path", "%s/%s/ca.crt",
	    KU_REGISTRY_CA_DIR, registry);
	free(registry);
	return KU_OK;
}

/* What the version table says the files of this release do differently,
 * and the cgroup driver of the runtime and the kubelet. */
static void
ku_render_version_vars(const struct ku_spec *spec, struct ku_tvars *vars)
{
	const struct ku_version *v = ku_version_profile(spec->version);
	bool systemd = spec->cgroup_driver == KU_CGROUP_SYSTEMD;

	ku_tvars_set_bool(vars, "close_insecure_ports", v->close_insecure_ports);
	ku_tvars_set(vars, "scheduler_live_path",
	    v->scheduler_healthz_only ? "/healthz" : "/livez");
	ku_tvars_set(vars, "scheduler_ready_path",
	    v->scheduler_healthz_only ? "/healthz" : "/readyz");
	ku_tvars_set_bool(vars, "kubelet_runtime_flags",
	    v->kubelet_runtime_flags);
	ku_tvars_set_bool(vars, "etcd_experimental_flags", v->etcd_3_4);
	ku_tvars_set(vars, "etcd_live_path", v->etcd_3_4 ? "/health" : "/livez");
	ku_tvars_set(vars, "etcd_ready_path", v->etcd_3_4 ? "/health" : "/readyz");
	ku_tvars_set(vars, "cgroup_driver", systemd ? "systemd" : "cgroupfs");
	ku_tvars_set_bool(vars, "systemd_cgroup", systemd);
}

/* The variables every template sees. */
static ku_rc
ku_render_cluster_vars(const struct ku_spec *spec, struct ku_tvars **out,
    char **err)
{
	struct ku_tvars *vars = ku_tvars_new(NULL);
	const struct ku_machine *master = &spec->master;
	struct ku_cidr pods, services;
	char service_ip[INET6_ADDRSTRLEN], dns_ip[INET6_ADDRSTRLEN];
	int family, mask;
	ku_rc rc = KU_OK;

	*out = NULL;
	if (!ku_nonempty(spec->name)) {
		rc = ku_render_fail(err, _("cluster.name is not set"));
		goto out;
	}
	if (!ku_nonempty(spec->version)) {
		rc = ku_render_fail(err, _("cluster.version is not set"));
		goto out;
	}
	if (!ku_nonempty(spec->dns_domain)) {
		rc = ku_render_fail(err, _("cluster.dns_domain is not set"));
		goto out;
	}
	if (!ku_cidr_parse(spec->pod_cidr, &pods)) {
		rc = ku_render_fail(err,
		    _("cluster.pod_cidr: \"%s\" is not an address range such as 10.244.0.0/16"),
		    spec->pod_cidr ? spec->pod_cidr : "");
		goto out;
	}
	if (!ku_cidr_parse(spec->service_cidr, &services)) {
		rc = ku_render_fail(err,
		    _("cluster.service_cidr: \"%s\" is not an address range such as 10.96.0.0/12"),
		    spec->service_cidr ? spec->service_cidr : "");
		goto out;
	}
	/* The apiserver's Service takes the first address, DNS the 10th. */
	if (!ku_cidr_nth(&services, 1, service_ip, sizeof service_ip) ||
	    !ku_cidr_nth(&services, 10, dns_ip, sizeof dns_ip)) {
		rc = ku_render_fail(err,
		    _("cluster.service_cidr: \"%s\" holds fewer than 11 addresses"),
		    spec->service_cidr);
		goto out;
	}
	if (!ku_node_mask_size(&pods, 1 + spec->n_nodes, &mask)) {
		rc = ku_render_fail(err,
		    _("cluster.pod_cidr: \"%s\" is too small for %zu machines"),
		    spec->pod_cidr, 1 + spec->n_nodes);
		goto out;
	}
	family = ku_ip_family(master->address);
	if (!ku_nonempty(master->name) || family == 0) {
		rc = ku_render_fail(err,
		    _("machines.master: a name and an IP address are needed"));
		goto out;
	}

	ku_tvars_set(vars, "cluster_name", spec->name);
	ku_tvars_set(vars, "kubernetes_version", spec->version);
	ku_render_version_vars(spec, vars);
	ku_tvars_set(vars, "pod_cidr", spec->pod_cidr);
	ku_tvars_set_bool(vars, "pod_ipv6", pods.family == AF_INET6);
	ku_tvars_setf(vars, "node_cidr_mask_size", "%d", mask);
	ku_tvars_set(vars, "service_cidr", spec->service_cidr);
	ku_tvars_set(vars, "service_ip", service_ip);
	ku_tvars_set(vars, "dns_ip", dns_ip);
	ku_tvars_list_add(vars, "cluster_dns", dns_ip);
	ku_tvars_set(vars, "dns_domain", spec->dns_domain);

	ku_tvars_set(vars, "master_name", master->name);
	ku_tvars_set(vars, "master_address", master->address);
	if (family == AF_INET6) {
		ku_tvars_setf(vars, "master_host", "[%s]", master->address);
		ku_tvars_set(vars, "loopback_address", "::1");
		ku_tvars_set(vars, "loopback_host", "[::1]");
	} else {
		ku_tvars_set(vars, "master_host", master->address);
		ku_tvars_set(vars, "loopback_address", "127.0.0.1");
		ku_tvars_set(vars, "loopback_host", "127.0.0.1");
	}
	ku_tvars_setf(vars, "api_server_port", "%d", KU_API_SERVER_PORT);
	ku_tvars_setf(vars, "api_server_url",
	    family == AF_INET6 ? "https://[%s]:%d" : "https://%s:%d",
	    master->address, KU_API_SERVER_PORT);

	rc = ku_render_images(spec, vars, err);
	if (rc)
		goto out;

	ku_tvars_set_list(vars, "calico_crds");
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_calico_crds); i++) {
		const struct ku_crd *crd = &ku_calico_crds[i];
		struct ku_trecord *rec = ku_tvars_list_add_record(vars,
		    "calico_crds");

		ku_trecord_set(rec, "group", crd->group);
		ku_trecord_set(rec, "version", crd->version);
		ku_trecord_set(rec, "plural", crd->plural);
		ku_trecord_set(rec, "kind", crd->kind);
		ku_trecord_set(rec, "scope",
		    crd->namespaced ? "Namespaced" : "Cluster");
		ku_trecord_set(rec, "api_approved",
		    crd->api_approved ? crd->api_approved : "");
	}

	*out = vars;
	vars = NULL;
out:
	ku_tvars_free(vars);
	return rc;
}

/* The variables of one machine, on top of the cluster's. */
static struct ku_tvars *
ku_render_machine_vars(const struct ku_spec *spec,
    const struct ku_tvars *cluster, const struct ku_machine *m,
    bool is_master)
{
	struct ku_tvars *vars = ku_tvars_new(cluster);

	ku_tvars_set(vars, "machine_name", m->name);
	ku_tvars_set(vars, "machine_address", m->address);
	ku_tvars_set_bool(vars, "is_master", is_master);
	/* With no worker node at all, the master must take the workloads.
	 * The taint is a field of the kubelet's configuration, or for
	 * releases without that field a flag (versions.c). */
	bool taint = is_master && spec->n_nodes > 0;
	bool flag = ku_version_profile(spec->version)->kubelet_taints_flag;

	ku_tvars_set_bool(vars, "register_taint_field", taint && !flag);
	ku_tvars_set_bool(vars, "kubelet_taint_flag", taint && flag);
	return vars;
}

/* --- rendering --- */

const struct ku_rendered_file *
ku_render_find(const struct ku_render_set *set, const char *target,
    const char *path)
{
	for (size_t i = 0; i < set->n; i++)
		if (ku_streq(set->v[i].target, target) &&
		    ku_streq(set->v[i].path, path))
			return &set->v[i];
	return NULL;
}

static void
ku_render_set_push(struct ku_render_set *set, const char *target,
    const char *path, const char *template, mode_t mode, struct ku_buf *data)
{
	struct ku_rendered_file *f;

	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = xreallocarray(set->v, set->cap, sizeof *set->v);
	}
	f = &set->v[set->n++];
	f->target = xstrdup(target);
	f->path = xstrdup(path);
	f->template = xstrdup(template);
	f->mode = mode;
	f->len = data->len;
	f->content = ku_buf_steal(data);
}

static ku_rc
ku_render_custom(const struct ku_spec *spec, struct ku_buf *data,
    char **err)
{
	ku_rc rc;

	if (!ku_nonempty(spec->custom_manifest))
		return ku_render_fail(err,
		    _("network.manifest is needed with network.plugin = \"custom\""));
	rc = ku_read_file(spec->custom_manifest, KU_CUSTOM_MANIFEST_MAX_BYTES,
	    data);
	if (rc == KU_OK)
		return KU_OK;
	if (errno == EFBIG)
		ku_render_fail(err, _("%s: larger than %d bytes"),
		    spec->custom_manifest, KU_CUSTOM_MANIFEST_MAX_BYTES);
	else
		ku_render_fail(err, "%s: %s", spec->custom_manifest,
		    strerror(errno));
	return KU_ERR_IO;
}

static ku_rc
ku_render_one(const struct ku_spec *spec, const struct ku_render_def *def,
    const char *target, const struct ku_tvars *vars,
    const char *templates_dir, struct ku_render_set *set, char **err)
{
	struct ku_buf text, data;
	char *source = NULL;
	ku_rc rc;

	ku_buf_init(&text, 0);
	ku_buf_init(&data, 0);
	if (def->source == KU_SOURCE_CUSTOM_MANIFEST) {
		rc = ku_render_custom(spec, &data, err);
		if (rc == KU_OK)
			ku_render_set_push(set, target, def->path,
			    spec->custom_manifest, def->mode, &data);
		goto out;
	}
	rc = ku_template_load(templates_dir, def->template, &text, &source,
	    err);
	if (rc)
		goto out;
	rc = ku_template_render(source, text.data ? text.data : "", text.len,
	    vars, &data, err);
	if (rc)
		goto out;
	ku_render_set_push(set, target, def->path, def->template, def->mode,
	    &data);
out:
	free(source);
	ku_buf_free(&text);
	ku_buf_free(&data);
	return rc;
}

static bool
ku_scope_has_machine(enum ku_scope scope, bool is_master)
{
	switch (scope) {
	case KU_SCOPE_MACHINES:
		return true;
	case KU_SCOPE_MASTER:
		return is_master;
	case KU_SCOPE_NODES:
		return !is_master;
	case KU_SCOPE_CLUSTER:
		return false;
	}
	return false;
}

ku_rc
ku_render_all(const struct ku_spec *spec, const char *templates_dir,
    struct ku_render_set *out, char **err)
{
	struct ku_render_set set = { 0 };
	struct ku_tvars *cluster = NULL;
	struct stat st;
	ku_rc rc;

	*err = NULL;
	if (templates_dir != NULL) {
		if (stat(templates_dir, &st) != 0) {
			rc = ku_render_fail(err, "--templates %s: %s",
			    templates_dir, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc = ku_render_fail(err, _("--templates %s: not a folder"),
			    templates_dir);
			goto out;
		}
	}
	rc = ku_render_cluster_vars(spec, &cluster, err);
	if (rc)
		goto out;

	/* The master, then each node, then the cluster. */
	for (size_t i = 0; i <= spec->n_nodes; i++) {
		const struct ku_machine *m = i == 0 ? &spec->master :
		    &spec->nodes[i - 1];
		struct ku_tvars *vars;

		/* The master was checked with the cluster's variables. */
		if (i > 0 && (!ku_nonempty(m->name) ||
		    !ku_nonempty(m->address))) {
			rc = ku_render_fail(err,
			    _("machines.nodes[%zu]: a name and an address are needed"),
			    i - 1);
			goto out;
		}
		vars = ku_render_machine_vars(spec, cluster, m, i == 0);
		for (size_t d = 0; d < KU_ARRAY_LEN(ku_render_defs); d++) {
			const struct ku_render_def *def = &ku_render_defs[d];

			if (!ku_scope_has_machine(def->scope, i == 0) ||
			    (def->when && !def->when(spec)))
				continue;
			rc = ku_render_one(spec, def, m->name, vars,
			    templates_dir, &set, err);
			if (rc)
				break;
		}
		ku_tvars_free(vars);
		if (rc)
			goto out;
	}
	for (size_t d = 0; d < KU_ARRAY_LEN(ku_render_defs); d++) {
		const struct ku_render_def *def = &ku_render_defs[d];

		if (def->scope != KU_SCOPE_CLUSTER ||
		    (def->when && !def->when(spec)))
			continue;
		rc = ku_render_one(spec, def, KU_TARGET_CLUSTER, cluster,
		    templates_dir, &set, err);
		if (rc)
			goto out;
	}

	/* Hand the files over, after any out already holds. */
	for (size_t i = 0; i < set.n; i++) {
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 16;
			out->v = xreallocarray(out->v, out->cap,
			    sizeof *out->v);
		}
		out->v[out->n++] = set.v[i];
	}
	free(set.v);
	memset(&set, 0, sizeof set);
out:
	if (rc && *err == NULL)
		*err = xstrdup(ku_strerror(rc));
	ku_render_set_free(&set);
	ku_tvars_free(cluster);
	return rc;
}

void
ku_render_set_free(struct ku_render_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].target);
		free(set->v[i].path);
		free(set->v[i].template);
		free(set->v[i].content);
	}
	free(set->v);
	memset(set, 0, sizeof *set);
}

/* --- writing --- */

/* Components of path (a leading '/' allowed when absolute_ok) are all
 * non-empty and none is "." or "..". */
static bool
ku_safe_relative(const char *path, bool absolute_ok)
{
	const char *p = path;

	if (absolute_ok && *p == '/')
		p++;
	if (*p == '\0')
		return false;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

ku_rc
ku_render_write_tree(const struct ku_render_set *set, const char *outdir,
    char **err)
{
	ku_rc rc = KU_OK;

	*err = NULL;
	if (!ku_nonempty(outdir))
		return ku_render_fail(err, _("no folder to write the files to"));
	/* Check every name first, so that a bad one leaves nothing behind. */
	for (size_t i = 0; i < set->n; i++) {
		const struct ku_rendered_file *f = &set->v[i];

		if (f->target == NULL || strchr(f->target, '/') ||
		    !ku_safe_relative(f->target, false))
			return ku_render_fail(err,
			    _("refusing to write for target \"%s\": not a plain name"),
			    f->target ? f->target : "");
		if (f->path == NULL || !ku_safe_relative(f->path, true))
			return ku_render_fail(err,
			    _("refusing to write \"%s\" for %s: empty, \".\" or \"..\" in the path"),
			    f->path ? f->path : "", f->target);
	}
	for (size_t i = 0; i < set->n && rc == KU_OK; i++) {
		const struct ku_rendered_file *f = &set->v[i];
		const char *rel = f->path[0] == '/' ? f->path + 1 : f->path;
		char *full = xasprintf("%s/%s/%s", outdir, f->target, rel);
		char *dir = ku_dirname(full);

		if (ku_mkdir_p(dir, 0755) != KU_OK) {
			ku_render_fail(err, "%s: %s", dir, strerror(errno));
			rc = KU_ERR_IO;
		} else if (ku_write_file_atomic(full, f->content, f->len,
		    f->mode) != KU_OK) {
			ku_render_fail(err, "%s: %s", full, strerror(errno));
			rc = KU_ERR_IO;
		}
		free(full);
		free(dir);
	}
	return rc;
}
