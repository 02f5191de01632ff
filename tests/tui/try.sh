#!/bin/sh
# make try: three simulated machines and the downloads mirror, the wizard
# opened with their answers (addresses, key, known_hosts) filled in, and
# everything taken down when the wizard exits. Needs root (tests/sim).
#
# Usage: try.sh SRCDIR KUBEUP RIGDIR
set -u
src=$1 kubeup=$2 rig=$3
sim=$src/tests/sim/sim

if [ "$(id -u)" -ne 0 ]; then
	echo "make try: needs root: it makes simulated machines (network namespaces, sshd); try sudo make try" >&2
	exit 2
fi
if [ ! -t 0 ] || [ ! -t 1 ]; then
	echo "make try: needs a terminal: it opens the wizard" >&2
	exit 2
fi
# A rig left by an earlier try that was killed.
timeout 120 "$sim" down --dir "$rig" >/dev/null 2>&1
trap 'echo "make try: taking the simulated machines down"; timeout 120 "$sim" down --dir "$rig" >/dev/null' EXIT
trap 'exit 3' INT TERM HUP

echo "make try: bringing up 3 simulated machines and the downloads mirror..."
timeout 180 "$sim" up 3 --dir "$rig" --id auto || exit 1
timeout 60 "$sim" mirror up --dir "$rig" || exit 1
# When the host has containerd installed, the machines (which share its
# /usr) would see the real ctr instead of the simulation's stand-in.
for m in master node-1 node-2; do
	timeout 30 "$sim" exec --dir "$rig" "$m" sh -c '
		for p in ctr containerd; do
			cmp -s /usr/lib/kubeup-sim/bin/$p /usr/bin/$p ||
				cp /usr/lib/kubeup-sim/bin/$p /usr/bin/$p
		done' >/dev/null 2>&1
done

"$kubeup" --prefill "$rig/answers.conf" --state-dir "$rig/state"
status=$?
echo "make try: the wizard ended with status $status; the state directory was $rig/state"
# The wizard ran: how the install went is on the screen above, not make's
# business. A usage error (2) still fails.
[ "$status" -eq 2 ] && exit 2
exit 0
