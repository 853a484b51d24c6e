# Shared by contrib/demo and contrib/demo-ssh: a throwaway directory, the
# processes we start (stopped by PID on exit), bounded waits, the story.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$TOP/build
PY=/usr/bin/python3
START_NS=$(date +%s%N)
STARTED=()

# a throwaway directory, removed on exit
D=$(mktemp -d /tmp/scramble-demo.XXXXXX) || exit 1
chmod 0755 "$D"

say() { printf '%s\n' "$*"; }
step() { STEP=$((${STEP:-0} + 1)); printf '\n%2d. %s\n' "$STEP" "$*"; }
show() { sed 's/^/      /'; }
die() { printf '\ndemo failed: %s\n' "$*" >&2; exit 1; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds, at most
# SECONDS
wait_for() {
	local limit_ns=$(($1 * 1000000000)) t0
	shift
	t0=$(date +%s%N)
	until "$@"; do
		[ $(($(date +%s%N) - t0)) -ge "$limit_ns" ] && return 1
		sleep 0.1
	done
}

pid_alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
pid_dead() { ! pid_alive "$1"; }
listening() { ss -Htln "sport = :$1" | grep -q .; }
not_listening() { ! listening "$1"; }
log_has() { grep -Eq -- "$1" "$D/scrambled.log"; }

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cleanup [RC]: stop what we started (by PID), then anything still running
# from our directory, then remove it
cleanup() {
	local rc=${1:-$?} pid
	for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${STARTED[@]}"; do
		wait_for 5 pid_dead "$pid" || kill -KILL "$pid" 2>/dev/null
	done
	local left
	left=$(pgrep -f -- "$D" || true)
	if [ -n "$left" ]; then
		kill -KILL $left 2>/dev/null
		rc=1
		echo "demo: had to kill leftover processes $left" >&2
	fi
	rm -rf -- "$D"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() {
	local x
	for x in "$@"; do
		[ -x "$x" ] || command -v "$x" >/dev/null || die "$x is missing (run: make deps all)"
	done
}

# make_table LO-HI: the demo's secret table
make_table() {
	(umask 027 && "$B/scramblectl" gentable -f -r "$1" "$D/demo.table" >/dev/null) ||
		die "scramblectl gentable failed"
}

# start_daemon: scrambled -f with $D/server.conf; sets SD_PID and RDV
start_daemon() {
	"$B/scrambled" -f -c "$D/server.conf" -S "$D/status.sock" >"$D/scrambled.log" 2>&1 </dev/null &
	SD_PID=$!
	STARTED+=("$SD_PID")
	wait_for 10 log_has 'listening ' || { cat "$D/scrambled.log" >&2; die "scrambled did not start"; }
	RDV=$(sed -n 's/.*listening .*addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$D/scrambled.log" | head -n1)
	[ -n "$RDV" ] || die "no rendezvous port in the daemon's log"
}

# log_field EVENT KEY: the value of KEY in the last EVENT line
log_field() {
	grep -E "^(.*[^a-z])?$1 " "$D/scrambled.log" | tail -n1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

elapsed() { echo $((($(date +%s%N) - START_NS) / 1000000)); }
