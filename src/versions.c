#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "versions.h"

/* Pins for 1.35.0 come from kubespray, which records the digest of every
 * kubelet and kubectl it supports: repository kubernetes-sigs/kubespray,
 * file roles/kubespray_defaults/vars/main/checksums.yml (added by commit
 * a77221d12, "Support Kubernetes v1.35.0"; kubelet_checksums and
 * kubectl_checksums, keys amd64 and arm64, 1.35.0). The kubectl digests
 * also match those pinned for dl.k8s.io/release/v1.35.0 by other public
 * projects. Add a pin only when found in such a record, never a guess.
 *
 * 1.20.2 has none: the test machines run binaries built locally from
 * Debian's source, checked against the test mirror's .sha256. */
static const struct ku_version ku_versions[] = {
	{
		.version = "1.35.0",
		.pins = {
			{
				.arch = "amd64",
				.kubelet = "2f4ed7778681649b81244426c29c5d98"
				    "df60ccabf83d561d69e61c1cbb943ddf",
				.kubectl = "a2e984a18a0c063279d692533031c1ef"
				    "f93a262afcc0afdc517375432d060989",
			},
			{
				.arch = "arm64",
				.kubelet = "aa658d077348b43d238f50966a583f42"
				    "44b2a7d45590c77b3b165b7d44983ab8",
				.kubectl = "58f82f9fe796c375c5c4b8439850b0f3"
				    "f4d401a52434052f2df46035a8789e25",
			},
		},
		.tags = {
			[KU_VIMG_ETCD] = "3.6.6-0",
			[KU_VIMG_PAUSE] = "3.10.1",
			[KU_VIMG_COREDNS] = "v1.13.1",
			[KU_VIMG_FLANNEL] = "v0.27.4",
			[KU_VIMG_FLANNEL_CNI] = "v1.8.0-flannel1",
			[KU_VIMG_CALICO] = "v3.31.3",
			[KU_VIMG_DASHBOARD] = "v2.7.0",
			[KU_VIMG_METRICS_SCRAPER] = "v1.0.8",
			[KU_VIMG_METRICS_SERVER] = "v0.8.0",
			[KU_VIMG_CHECK] = "1.36.1-1",
		},
	},
	{
		/* Debian 12's kubernetes source package: the newest release
		 * whose control plane and kubelet can be built offline here.
		 * The image tags are those kubeadm 1.20 and the add-ons of
		 * early 2021 used; the test rig builds its images under them. */
		.version = "1.20.2",
		.test_only = true,
		.note = "the release the simulated test machines run",
		.tags = {
			[KU_VIMG_ETCD] = "3.4.13-0",
			[KU_VIMG_PAUSE] = "3.2",
			[KU_VIMG_COREDNS] = "v1.7.0",
			[KU_VIMG_FLANNEL] = "v0.13.0",
			[KU_VIMG_FLANNEL_CNI] = "v1.0.0",
			[KU_VIMG_CALICO] = "v3.17.1",
			[KU_VIMG_DASHBOARD] = "v2.1.0",
			[KU_VIMG_METRICS_SCRAPER] = "v1.0.6",
			[KU_VIMG_METRICS_SERVER] = "v0.4.1",
			[KU_VIMG_CHECK] = "1.36.1-1",
		},
		.close_insecure_ports = true,
		.scheduler_healthz_only = true,
		.kubelet_runtime_flags = true,
		.kubelet_taints_flag = true,
		.etcd_3_4 = true,
	},
};

const char *
ku_version_default(void)
{
	return ku_versions[0].version;
}

const struct ku_version *
ku_version_find(const char *version)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_versions); i++)
		if (strcmp(ku_versions[i].version, version) == 0)
			return &ku_versions[i];
	return NULL;
}

const struct ku_version *
ku_version_profile(const char *version)
{
	const struct ku_version *v = version ? ku_version_find(version) : NULL;

	return v ? v : &ku_versions[0];
}

const char *
ku_version_pin(const struct ku_version *v, const char *arch,
    const char *binary)
{
	if (v == NULL || arch == NULL || binary == NULL)
		return NULL;
	for (size_t i = 0; i < KU_ARRAY_LEN(v->pins); i++) {
		const struct ku_version_pins *p = &v->pins[i];
		if (p->arch == NULL)
			break;
		if (strcmp(p->arch, arch) != 0)
			continue;
		if (strcmp(binary, "kubelet") == 0)
			return p->kubelet;
		if (strcmp(binary, "kubectl") == 0)
			return p->kubectl;
		return NULL;
	}
	return NULL;
}

static bool
ku_parse_number(const char **s, int *out)
{
	const char *p = *s;
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return false;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return false;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		if (v > 100000)
			return false;
		p++;
	}
	*out = (int)v;
	*s = p;
	return true;
}

bool
ku_version_parse(const char *s, int *major, int *minor, int *patch)
{
	if (!ku_parse_number(&s, major) || *s++ != '.' ||
	    !ku_parse_number(&s, minor) || *s++ != '.' ||
	    !ku_parse_number(&s, patch))
		return false;
	return *s == '\0';
}
