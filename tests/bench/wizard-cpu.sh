#!/bin/bash
# wizard-cpu.sh [N]: the CPU the wizard uses (user + system, every thread,
# from /proc/PID/stat), idle for 30 s on its first screen, then (as root,
# with N simulated machines, default 50) during an install from the
# confirmation until the first substep that needs a real cluster's API
# fails (these machines run no Kubernetes: phases 1, 2 and the machine
# side of 3 run), and idle again while it waits for the operator's
# decision. It also counts what the wizard writes to its terminal over the
# install (tmux pipe-pane): bytes per second, and the full-screen clears
# (ESC [ 2 J, or ESC [ J from the top left), which are what makes a screen
# flicker; a steady screen repaints only the cells that changed. A Ctrl-L
# at the end is the count's control: it must find that one full repaint.
# Run from the build folder: tests/bench/wizard-cpu.sh 50
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
# full-screen clears in what was written to the terminal
clears() { LC_ALL=C grep -ao $'\e\\[2J\\|\e\\[H\e\\[J\\|\e\\[1;1H\e\\[J' "$1" | wc -l; }
pid_of() { pgrep -P "$(tmx display-message -p -t t '#{pane_pid}')" | head -1; }
measure() { # LABEL SECONDS
	local pid=$(pid_of) a b
	a=$(ticks "$pid"); sleep "$2"; b=$(ticks "$pid")
	awk -v l="$1" -v t=$((b - a)) -v s="$2" -v hz="$hz" \
		'BEGIN { printf "%s: %d ticks in %d s = %.2f%% of one CPU\n", l, t, s, 100 * t / hz / s }'

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
sed -i -e 's/retries = 2;/retries = 0;/' \
    -e 's/on_failure = "abort"; };/on_failure = "abort"; wait_timeout = 5; };/' "$tmp/rig/answers.conf"
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
: >"$tmp/screen.raw"
tmx pipe-pane -o -t t "cat >> $tmp/screen.raw"
tmx send-keys -t t i
wait_for "< Retry >" 3600
b=$(ticks "$pid"); t1=$(date +%s.%N)
tmx pipe-pane -t t
awk -v n="$N" -v t=$((b - a)) -v hz="$hz" -v t0="$t0" -v t1="$t1" \
	'BEGIN { printf "install on %d machines, to the first substep that needs the API: %d ticks in %.0f s = %.2f%% of one CPU (engine, SSH and screen together)\n", n, t, t1 - t0, 100 * t / hz / (t1 - t0) }'
bytes=$(wc -c <"$tmp/screen.raw")
clears=$(clears "$tmp/screen.raw")
awk -v b="$bytes" -v c="$clears" -v t0="$t0" -v t1="$t1" \
	'BEGIN { printf "terminal output over the install: %d bytes, %.1f KiB/s; full-screen clears: %d\n", b, b / 1024 / (t1 - t0), c }'
measure "waiting for the decision" 30
# the control: Ctrl-L repaints the whole screen, which the count must see
: >"$tmp/redraw.raw"
tmx pipe-pane -o -t t "cat >> $tmp/redraw.raw"
tmx send-keys -t t C-l
end=$(( $(date +%s) + 10 ))
while [ "$(clears "$tmp/redraw.raw")" -eq 0 ] &&
      [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
tmx pipe-pane -t t
echo "control, one Ctrl-L: full-screen clears: $(clears "$tmp/redraw.raw"), $(wc -c <"$tmp/redraw.raw") bytes"
