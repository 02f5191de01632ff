#!/bin/bash
# wizard-cpu.sh [N]: the CPU the wizard uses (user + system, every thread,
# from /proc/PID/stat), idle for 30 s on its first screen, then (as root,
# with N simulated machines, default 50) during an install from the
# confirmation until phase 2 stops it (phase 1 is the only real one), and
# idle again while it waits for the operator's decision. Run from the build
# folder: tests/bench/wizard-cpu.sh 50
set -u
N=${1:-50}
src=$(cd "$(dirname "$0")/../.." && pwd)
kubeup=${KUBEUP:-$PWD/kubeup}
sim=$src/tests/sim/sim
tmp=$(mktemp -d /tmp/kubeup-cpu.XXXXXX)
sock=kubeup-cpu-$$
tmx() { tmux -L "$sock" "$@"; }
trap 'tmx kill-server 2>/dev/null; [ -d "$tmp/rig" ] && timeout 300 "$sim" down --dir "$tmp/rig" >/dev/null; rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_for() { # TEXT SECONDS
	local end=$(( $(date +%s) + $2 ))
	until tmx capture-pane -p -t t | grep -qF -- "$1"; do
		[ "$(date +%s)" -lt "$end" ] || { echo "timed out waiting for: $1"; tmx capture-pane -p -t t; exit 1; }
		sleep 0.1
	done
}
pid_of() { pgrep -P "$(tmx display-message -p -t t '#{pane_pid}')" | head -1; }
measure() { # LABEL SECONDS
	local pid=$(pid_of) a b
	a=$(ticks "$pid"); sleep "$2"; b=$(ticks "$pid")
	printf '%s: %d ticks in %d s = %.2f%% of one CPU\n' "$1" $((b - a)) "$2" \
		"$(echo "100 * ($b - $a) / $hz / $2" | bc -l)"
}
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state XDG_CACHE_HOME=$tmp/cache
mkdir -p "$HOME"

tmx -f /dev/null new-session -d -s t -x 100 -y 30 "$kubeup; sleep 600"
wait_for "You need:" 10
measure "idle, welcome screen" 30
tmx kill-server

[ "$(id -u)" -eq 0 ] || { echo "not root: no install measured"; exit 0; }
timeout 600 "$sim" up "$N" --dir "$tmp/rig" --id auto >/dev/null || exit 1
timeout 60 "$sim" mirror up --dir "$tmp/rig" >/dev/null || exit 1
sed -i 's/retries = 2;/retries = 0;/' "$tmp/rig/answers.conf"
for m in $(cut -f1 "$tmp/rig/machines.tsv"); do   # see tests/tui/try.sh
	timeout 30 "$sim" exec --dir "$tmp/rig" "$m" sh -c 'for p in ctr containerd; do cmp -s /usr/lib/kubeup-sim/bin/$p /usr/bin/$p || cp /usr/lib/kubeup-sim/bin/$p /usr/bin/$p; done' >/dev/null 2>&1 &
done
wait
tmx -f /dev/null new-session -d -s t -x 100 -y 30 \
	"$kubeup --prefill $tmp/rig/answers.conf --state-dir $tmp/s; sleep 600"
wait_for "You need:" 10
tmx send-keys -t t Enter Enter Enter; wait_for "Cluster name" 10
tmx send-keys -t t Enter Enter Enter Enter Enter; wait_for "SSH user" 10
for i in $(seq $((2 * N + 20))); do tmx send-keys -t t Tab; done
tmx send-keys -t t BTab Enter; wait_for "Pod CIDR" 30
tmx send-keys -t t Tab Tab Tab Tab Tab Enter; wait_for "Metrics" 10
tmx send-keys -t t Tab Tab Tab Enter; wait_for "step 7 of 7" 10
tmx send-keys -t t Enter; wait_for "Start the install?" 10
pid=$(pid_of); a=$(ticks "$pid"); t0=$(date +%s.%N)
tmx send-keys -t t i
wait_for "implemented yet" 3600
b=$(ticks "$pid"); t1=$(date +%s.%N)
printf 'install on %d machines, phase 1 to the phase 2 pause: %d ticks in %.0f s = %.2f%% of one CPU (engine, SSH and screen together)\n' \
	"$N" $((b - a)) "$(echo "$t1 - $t0" | bc -l)" "$(echo "100 * ($b - $a) / $hz / ($t1 - $t0)" | bc -l)"
measure "waiting for the decision" 30
