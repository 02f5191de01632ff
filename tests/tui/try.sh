#!/bin/sh
# make try: three simulated machines running real Kubernetes components
# (tests/sim/README.md: the 1.20.2 binaries built from Debian's source,
# once, about 30 minutes on 2 cores, then cached; the images, about a
# minute), with their downloads mirror and image registry; the wizard
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

echo "make try: building Kubernetes 1.20.2 from Debian's source (cached after the first time)..."
"$src/tests/sim/kube-build" || exit 1
echo "make try: building the images..."
timeout 3600 "$src/tests/sim/kube-images" >/dev/null || exit 1
echo "make try: bringing up 3 simulated machines, the downloads mirror and the registry..."
timeout 300 "$sim" up 3 --real --dir "$rig" --id auto || exit 1
timeout 120 "$sim" mirror up --dir "$rig" || exit 1
timeout 600 "$sim" registry up --dir "$rig" || exit 1

"$kubeup" --prefill "$rig/answers.conf" --state-dir "$rig/state"
status=$?
echo "make try: the wizard ended with status $status; the state directory was $rig/state"
# The wizard ran: how the install went is on the screen above, not make's
# business. A usage error (2) still fails.
[ "$status" -eq 2 ] && exit 2
exit 0
