# Shared helpers for kubeup's shell tests, which speak TAP.
# Sourced by tests/*/*.test; the Makefile exports srcdir, builddir, KUBEUP.
set -u

: "${srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${builddir:=$srcdir}"
: "${KUBEUP:=$builddir/kubeup}"

ku_n=0
ku_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kubeup-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export HOME="$TMP/home" XDG_STATE_HOME="$TMP/home/.local/state"
export XDG_CACHE_HOME="$TMP/home/.cache"
mkdir -p "$HOME"

plan() { echo "1..$1"; }

# ok DESCRIPTION COMMAND...: runs the command, one TAP line for it.
ok() {
	desc=$1; shift
	ku_n=$((ku_n + 1))
	if "$@"; then
		echo "ok $ku_n - $desc"
	else
		echo "not ok $ku_n - $desc"
		ku_failed=$((ku_failed + 1))
		if [ -f "$TMP/out" ]; then
			# its start and its end, where a run says what failed
			echo "# last output:"
			if [ "$(wc -l < "$TMP/out")" -le 60 ]; then
				sed 's/^/#   /' "$TMP/out"
			else
				head -n 20 "$TMP/out" | sed 's/^/#   /'
				echo "#   [...]"
				tail -n 40 "$TMP/out" | sed 's/^/#   /'
			fi
		fi
	fi
}

# run CMD...: runs kubeup-like commands, keeping output and status.
run() {
	"$@" >"$TMP/out" 2>&1
	status=$?
	return 0
}

status_is() { [ "$status" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
out_lacks() { ! grep -qF -- "$1" "$TMP/out"; }

# A folder with a throwaway key and the example answers, which take paths
# from their own folder. The example's machine addresses and download site
# are moved to loopback (127.0.2.x and 127.0.0.1:9, where nothing listens):
# a test never sends traffic beyond this machine. No automatic retries,
# and 5 seconds for anything the cluster would have to do.
make_answers() {
	dir=$1
	mkdir -p "$dir"
	[ -f "$dir/id_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -C kubeup-test -f "$dir/id_ed25519"
	sed -e 's/"192\.0\.2\./"127.0.2./' \
	    -e 's|base_url = "https://dl.k8s.io/release"|base_url = "https://127.0.0.1:9/release"|' \
	    -e 's|retries = 2;|retries = 0;|' \
	    -e 's|wait_timeout = 300;|wait_timeout = 5;|' \
		"$srcdir/examples/answers.conf" > "$dir/answers.conf"
	if grep -q '192\.0\.2\.\|dl\.k8s\.io' "$dir/answers.conf"; then
		echo "Bail out! examples/answers.conf: an address was not moved to loopback"
		exit 1
	fi
	mkdir -p "$HOME/.ssh"
}

# set_key FILE KEY VALUE: replaces `KEY = ...;` (first match) in FILE.
set_key() {
	sed -i "0,\|^\([[:space:]]*\)$2 = .*;|s||\1$2 = $3;|" "$1"
}
