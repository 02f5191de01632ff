# Shared by the kubeup-sim stand-ins. Installed in each machine at
# /usr/lib/kubeup-sim/common.sh; the machine's own state is in
# /var/lib/kubeup-sim (DIR/machines/<name>/sim on the host).
KS_LIB=/usr/lib/kubeup-sim
KS_STATE=/var/lib/kubeup-sim
ks_prog=${0##*/}

ks_is_root() { [ "$(id -u)" -eq 0 ]; }

# ks_alive PID: the process exists and is not a zombie (an exited service
# waits for this host's init to reap it)
ks_alive() {
	local st=
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
	read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null
	[ -n "$st" ] && [ "$st" != Z ]
}

# ks_fault NAME DEFAULT_STATUS: when `sim fault ... fail NAME COUNT` armed
# a counter for NAME, use one up, say so on stderr and exit.
ks_fault() {
	local f=$KS_STATE/fail/$1 n st
	[ -z "${KS_NOFAULT-}" ] || return 0
	[ -s "$f" ] || return 0
	exec 8>>"$KS_STATE/fail/.lock" || return 0
	flock -w 5 8 || { exec 8>&-; return 0; }
	read -r n st <"$f" || n=0
	case $n in ''|*[!0-9]*) n=0 ;; esac
	if [ "$n" -le 0 ]; then flock -u 8; exec 8>&-; return 0; fi
	printf '%s %s\n' "$((n - 1))" "${st:-$2}" >"$f"
	flock -u 8; exec 8>&-
	printf '%s: simulated failure (kubeup-sim fault; %s more)\n' \
		"$1" "$((n - 1))" >&2
	exit "${st:-$2}"
}

# ks_lock FILE SECONDS: an exclusive lock on fd 9, or status 1.
ks_lock() { exec 9>>"$1" && flock -w "$2" 9; }

# The known packages: name|version|section|depends|description|files.
# files: PATH=STANDIN[,PATH=STANDIN...]; a stand-in is placed only when
# the machine has no such file (a real binary on the host wins).
ks_pkg_line() { grep -m1 "^$1|" "$KS_LIB/packages.db"; }
ks_pkg_field() { # LINE N
	printf '%s\n' "$1" | cut -d'|' -f"$2"
}
ks_pkg_installed() { [ -f "$KS_STATE/packages/$1" ]; }
ks_pkg_version() { cat "$KS_STATE/packages/$1" 2>/dev/null; }
