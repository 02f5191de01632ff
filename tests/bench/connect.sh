#!/bin/bash
# Wall time and peak memory of connecting to N simulated machines and
# running one command on each, at several parallelisms. As root:
#   make tests/bench/bench_connect && tests/bench/connect.sh [N] [P...]
# Each parallelism runs 3 times; every figure printed is measured.
set -eu
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${builddir:-$PWD}
n=${1:-100}; shift || true
ps=${*:-8 32 100}
dir=$(mktemp -d /tmp/kubeup-bench-rig.XXXXXX)
trap 'timeout 120 "$srcdir/tests/sim/sim" down --dir "$dir/rig" >/dev/null 2>&1; rm -rf "$dir"' EXIT
timeout 300 "$srcdir/tests/sim/sim" up "$n" --dir "$dir/rig" --id auto >/dev/null
echo "# $(nproc) cores; $n simulated machines; kubeup $(git -C "$srcdir" describe --always --dirty 2>/dev/null)"
for p in $ps; do
	for i in 1 2 3; do
		"$builddir/tests/bench/bench_connect" "$dir/rig/answers.conf" "$p"
	done
done
