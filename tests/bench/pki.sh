#!/bin/bash
# Wall time of phase 2 (the whole PKI and every kubeconfig) for N nodes,
# ECDSA P-256 against RSA 2048, through the real binary:
#   tests/bench/pki.sh [N...]           (from the build folder; default 10 100 1000)
#   KEY_TYPES="ecdsa-p256" RUNS=3 tests/bench/pki.sh 100
# Each run starts from an empty state directory, with the answers' default
# parallelism (32 workers); nothing touches a machine. Printed per run: the
# whole of `kubeup --batch F --phases 2` (process start to exit), the part
# that generates (every substep but the exit check), the exit check
# (check-chains, which verifies every chain), the files written and peak
# memory; cpu_s is user + system time, steadier than wall time on a
# machine others share. Every figure printed is measured.
set -eu
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${builddir:-$PWD}
KUBEUP=${KUBEUP:-$builddir/kubeup}
ns=${*:-10 100 1000}
key_types=${KEY_TYPES:-ecdsa-p256 rsa-2048}
runs=${RUNS:-1}
dir=$(mktemp -d /tmp/kubeup-bench-pki.XXXXXX)
trap 'rm -rf "$dir"' EXIT

[ -x "$KUBEUP" ] || { echo "$KUBEUP: not built (run from the build folder)" >&2; exit 1; }
ssh-keygen -q -t ed25519 -N '' -C kubeup-bench -f "$dir/id_ed25519"

# answers N KEY_TYPE: the example's answers with N nodes on 10.x addresses
# outside the Pod and Service ranges (nothing is ever contacted).
answers() {
	local n=$1 kt=$2 f=$dir/answers-$1-$2.conf i
	{
		sed -n '1,/^machines = {/p' "$srcdir/examples/answers.conf" |
		    sed -e "s/node_count = 2;/node_count = $n;/" \
		        -e "s|key = \"id_ed25519\";|key = \"$dir/id_ed25519\";|"
		echo '  master = { name = "master"; address = "10.1.0.1"; };'
		echo '  nodes = ('
		for ((i = 1; i <= n; i++)); do
			printf '    { name = "node-%d"; address = "10.2.%d.%d"; }%s\n' \
			    "$i" $((i / 250)) $((i % 250 + 1)) "$([ "$i" -lt "$n" ] && echo ,)"
		done
		echo '  );'
		echo '};'
		sed -n '/^network = {/,$p' "$srcdir/examples/answers.conf" |
		    sed -e "s/key_type = \"ecdsa-p256\";/key_type = \"$kt\";/"
	} >"$f"
	echo "$f"
}

echo "# $(nproc) cores, $(uname -m), $(openssl version 2>/dev/null || echo openssl ?)"
echo "# kubeup $(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo ?)"
printf '%-11s %6s %4s %8s %8s %10s %8s %6s %9s\n' key_type nodes run total_s \
    cpu_s generate_s check_s files peak_MiB
for kt in $key_types; do
	for n in $ns; do
		a=$(answers "$n" "$kt")
		"$KUBEUP" --check "$a" >/dev/null
		for ((r = 1; r <= runs; r++)); do
			s=$dir/state-$kt-$n-$r
			start=$(date +%s%N)
			/usr/bin/time -f '%M %U %S' -o "$dir/mem" "$KUBEUP" --batch "$a" \
			    --phases 2 --state-dir "$s" --events json >"$dir/events" 2>&1 ||
				{ echo "kubeup failed:" >&2; tail -5 "$dir/events" >&2; exit 1; }
			end=$(date +%s%N)
			check_ms=$(grep '"substep":"check-chains"' "$dir/events" |
			    grep '"state":"done"' | sed 's/.*"duration_ms":\([0-9]*\).*/\1/')
			phase_ms=$(grep '"event":"phase-end"' "$dir/events" |
			    sed 's/.*"duration_ms":\([0-9]*\).*/\1/')
			files=$(find "$s/pki" "$s/kubeconfig" -type f | wc -l)
			read -r mem_kb user_s sys_s <"$dir/mem"
			printf '%-11s %6d %4d %8.2f %8.2f %10.2f %8.2f %6d %9.1f\n' \
			    "$kt" "$n" "$r" \
			    "$(echo "($end - $start) / 1000000000" | bc -l)" \
			    "$(echo "$user_s + $sys_s" | bc -l)" \
			    "$(echo "($phase_ms - $check_ms) / 1000" | bc -l)" \
			    "$(echo "$check_ms / 1000" | bc -l)" "$files" \
			    "$(echo "$mem_kb / 1024" | bc -l)"
			rm -rf "$s"
		done
	done
done
