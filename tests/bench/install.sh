#!/bin/bash
# install.sh [NODES...]: a whole install through kubeup on a --real rig of
# 1 master and N nodes (default 3 20), timed per phase, then a second
# (no-op) run of the same answers. Prints, for each N: the wall time of
# each phase and of the run (kubeup's own summary lines), kubeup's peak
# RSS (GNU time's "Maximum resident set size"), and the same for the
# second run. Root; needs kube-build and kube-images (cached). Not a test:
# it prints figures. The rig's machines share this host's CPUs with
# kubeup, so the figures include their load.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIM=$SRC/tests/sim/sim
KUBEUP=${KUBEUP:-$SRC/kubeup}
[ "$(id -u)" -eq 0 ] || { echo "install.sh: needs root" >&2; exit 1; }
[ -x "$KUBEUP" ] || { echo "install.sh: no kubeup at $KUBEUP (build it, or set KUBEUP)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "install.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
"$SRC/tests/sim/kube-build" >/dev/null && "$SRC/tests/sim/kube-images" >/dev/null ||
	{ echo "install.sh: kube-build or kube-images failed" >&2; exit 1; }
TMP=$(mktemp -d /tmp/kubeup-bench-install.XXXXXX)
RIG=$TMP/rig
trap 'timeout 600 "$SIM" down --dir "$RIG" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
export XDG_CACHE_HOME=$TMP/cache

for n in ${@:-3 20}; do
	timeout 900 "$SIM" up $((n + 1)) --real --dir "$RIG" --id auto >/dev/null &&
	timeout 120 "$SIM" mirror up --dir "$RIG" >/dev/null &&
	timeout 600 "$SIM" registry up --dir "$RIG" >/dev/null || { echo "install.sh: rig up failed" >&2; exit 1; }
	for pass in first second; do
		/usr/bin/time -f '%M %e' -o "$TMP/time" timeout 3600 "$KUBEUP" --batch "$RIG/answers.conf" \
			--state-dir "$TMP/state" >"$TMP/out" 2>&1
		st=$?
		read -r rss wall <"$TMP/time"
		echo "1+$n, $pass run: status $st, wall ${wall}s, kubeup peak RSS $((rss / 1024)) MiB"
		grep -E '^\[[0-9:]*\] (phase .* done in|run ended)' "$TMP/out" | sed 's/^\[[0-9:]*\] /  /'
		[ "$st" -eq 0 ] || { tail -n 20 "$TMP/out" >&2; exit 1; }
	done
	timeout 600 "$SIM" down --dir "$RIG" >/dev/null
	rm -rf "$TMP/state"
done
