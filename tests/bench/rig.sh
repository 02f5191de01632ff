#!/bin/bash
# rig.sh [NODES...]: how long a hand-made real cluster of 1 master and N
# nodes takes to come up on a --real rig, and how much memory the rig then
# holds. For each N (default 3 10): sim up 1+N --real, mirror and
# registry, the control plane by hand (tests/sim/handmade.sh), a kubelet on
# every node, networking by hand; times from `sim up` to the apiserver's
# /readyz and to every Node Ready; memory as the rig's memory cgroup's
# total_rss and total_cache (every process of every machine, containers
# included), read once all Nodes are Ready. Root; needs kube-build and
# kube-images (cached). Not a test: it prints figures.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIM=$SRC/tests/sim/sim
[ "$(id -u)" -eq 0 ] || { echo "rig.sh: needs root" >&2; exit 1; }
"$SRC/tests/sim/kube-build" >/dev/null && "$SRC/tests/sim/kube-images" >/dev/null ||
	{ echo "rig.sh: kube-build or kube-images failed" >&2; exit 1; }
KB=$("$SRC/tests/sim/kube-build" --print-dir)/v1.20.2
TMP=$(mktemp -d /tmp/kubeup-bench-rig.XXXXXX)
RIG=$TMP/rig
trap 'timeout 300 "$SIM" down --dir "$RIG" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
. "$SRC/tests/sim/handmade.sh"

mib() { echo $(( $1 / 1048576 )); }

for n in "${@:-3 10}"; do
	for n1 in $n; do
		t0=$(date +%s)
		timeout 600 "$SIM" up $((n1 + 1)) --real --dir "$RIG" --id auto >/dev/null &&
		timeout 120 "$SIM" mirror up --dir "$RIG" >/dev/null &&
		timeout 600 "$SIM" registry up --dir "$RIG" >/dev/null || { echo "rig.sh: rig up failed" >&2; exit 1; }
		hm_rig
		nodes=$(awk '$1 != "master" && $1 != "name" { print $1 }' "$RIG/machines.tsv")
		hm_pki >/dev/null 2>&1
		for m in master $nodes; do hm_node_certs "$m" >/dev/null 2>&1; done
		for m in master $nodes; do hm_runtime "$m" >/dev/null 2>&1 || { echo "runtime on $m failed" >&2; exit 1; }; done
		hm_control_plane
		hm_kubelet master
		hm_wait 600 "readyz" kubectl_admin get --raw /readyz || exit 1
		t_api=$(( $(date +%s) - t0 ))
		for m in $nodes; do hm_kubelet "$m"; done
		hm_wait 600 "all Nodes" sh -c "[ \$('$HM_KUBECTL' --kubeconfig '$HM_PKI/admin.conf' get nodes -o name | wc -l) -eq $((n1 + 1)) ]" || exit 1
		for m in master $nodes; do
			hm_cni "$m" "$(kubectl_admin get node "$m" -o 'jsonpath={.spec.podCIDR}')"
		done
		hm_wait 600 "all Nodes Ready" sh -c "! '$HM_KUBECTL' --kubeconfig '$HM_PKI/admin.conf' get nodes --no-headers | grep -q NotReady" || exit 1
		t_ready=$(( $(date +%s) - t0 ))
		st=/sys/fs/cgroup/memory/kusim$HM_ID/memory.stat
		rss=$(awk '$1 == "total_rss" { print $2 }' "$st")
		cache=$(awk '$1 == "total_cache" { print $2 }' "$st")
		printf '1+%d machines: apiserver ready %d s, all Nodes Ready %d s after sim up; memory rss %d MiB (%d MiB a machine), page cache %d MiB\n' \
			"$n1" "$t_api" "$t_ready" "$(mib "$rss")" "$(mib $((rss / (n1 + 1))))" "$(mib "$cache")"
		timeout 300 "$SIM" down --dir "$RIG" >/dev/null
		rm -rf "$TMP/pki"
	done
done
