# Helpers for the wizard's tests: the real kubeup in a private tmux server.
# Sourced after tests/lib.sh. Every wait polls the screen with a deadline;
# a failed wait prints the screen.

if [ -z "${TMUX_BIN:-}" ]; then
	TMUX_BIN=$(command -v tmux 2>/dev/null || true)
fi
if [ -z "$TMUX_BIN" ]; then
	echo "1..0 # SKIP tmux is not installed (build-aux/install-deps installs it)"
	exit 0
fi
tui_n=0
TSOCK=kubeup-test-$$-0
unset TMUX
tmx() { "$TMUX_BIN" -L "$TSOCK" "$@"; }

# tui_start COLS ROWS COMMAND...: runs the command in a fresh window; when
# it ends, "EXIT=<status>" is printed and the window stays.
tui_start() {
	cols=$1 rows=$2; shift 2
	# a server of its own each time: one being killed may linger
	tmx kill-server 2>/dev/null
	tui_n=$((tui_n + 1))
	TSOCK=kubeup-test-$$-$tui_n
	printf '%s\n' "$*" >"$TMP/tui.cmd"
	tmx -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
		"env $*; echo EXIT=\$?; exec sh"
	tmx set-option -t t status off >/dev/null
}

tui_stop() { tmx kill-server 2>/dev/null; }

tui_screen() { tmx capture-pane -p -t t; }

# tui_dump: the screen into the TAP stream, for a failure.
tui_dump() {
	echo "# screen:"
	tui_screen | sed 's/^/#   |/'
}

# tui_wait TEXT [SECONDS]: polls until TEXT is on the screen.
tui_wait() {
	deadline=$(( $(date +%s) + ${2:-10} ))
	while :; do
		if tui_screen | grep -qF -- "$1"; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "# timed out waiting for: $1"
			tui_dump
			return 1
		fi
		sleep 0.05
	done
}

# tui_gone TEXT [SECONDS]: polls until TEXT is no longer on the screen.
tui_gone() {
	deadline=$(( $(date +%s) + ${2:-10} ))
	while tui_screen | grep -qF -- "$1"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "# timed out waiting for this to go: $1"
			tui_dump
			return 1
		fi
		sleep 0.05
	done
}

# tui_keys KEY...: one tmux key name each (Enter, Tab, Escape, F1, "x").
tui_keys() {
	for k in "$@"; do
		tmx send-keys -t t "$k"
	done
}

# tui_type TEXT: literal text.
tui_type() { tmx send-keys -t t -l -- "$1"; }

# tui_resize COLS ROWS
tui_resize() { tmx resize-window -t t -x "$1" -y "$2"; }

# tui_pid: the pid of the program in the window (the pane's child).
tui_pid() {
	shell=$(tmx display-message -p -t t '#{pane_pid}')
	pgrep -P "$shell" | head -1
}

# tui_ok DESCRIPTION COMMAND...: like ok, and prints the screen on failure.
tui_ok() {
	desc=$1; shift
	ku_n=$((ku_n + 1))
	if "$@"; then
		echo "ok $ku_n - $desc"
	else
		echo "not ok $ku_n - $desc"
		ku_failed=$((ku_failed + 1))
		tui_dump
	fi
}

# tui_field_clear: empties the focused text field.
tui_field_clear() {
	tmx send-keys -t t C-e
	i=0
	while [ $i -lt 60 ]; do
		tmx send-keys -t t BSpace
		i=$((i + 1))
	done
}

# tui_to_confirm: walks the wizard, opened with a rig's answers of three
# machines (--prefill), from the welcome screen to the install's
# confirmation, keeping every answer.
tui_to_confirm() {
	tui_wait "You need:" || return 1
	tui_keys Enter Enter Enter
	tui_wait "Cluster name" || return 1
	tui_keys Enter Enter Enter Enter Enter
	tui_wait "SSH user" || return 1
	# Machines: from the last item (Back) up to Next
	tui_keys PPage
	i=0; while [ $i -lt 40 ]; do tui_keys Tab; i=$((i + 1)); done
	tui_keys BTab Enter
	tui_wait "Pod CIDR" || return 1
	tui_keys Tab Tab Tab Tab Tab Enter
	tui_wait "Metrics" || return 1
	tui_keys Tab Tab Tab Enter
	tui_wait "step 7 of 7: Review" || return 1
	tui_keys Enter
	tui_wait "Start the install?"
}
