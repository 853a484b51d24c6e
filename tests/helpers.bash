# Shared helpers for the bats suites.  Every suite does:
#   load helpers
#   setup()    { common_setup; }
#   teardown() { common_teardown; }
# Processes started through these helpers are tracked by PID and stopped in
# teardown; teardown fails the test if anything the test started (found by
# its private temporary directory in the command line) is still running.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
B=$TOP/build
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

common_setup() {
	T=$(mktemp -d /tmp/scramble-test.XXXXXX)
	chmod 0755 "$T"
	PIDS_FILE=$T/pids
	: >"$PIDS_FILE"
	export T
}

common_teardown() {
	local pid
	if [ -s "$PIDS_FILE" ]; then
		while read -r pid; do
			kill -TERM "$pid" 2>/dev/null
		done <"$PIDS_FILE"
		while read -r pid; do
			wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
		done <"$PIDS_FILE"
	fi
	# launched servers carry $T in their command line: none may survive
	local left
	wait_until 5 no_process_mentions "$T" || true
	left=$(pgrep -af -- "$T" || true)
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; fi
	if [ -n "$left" ]; then
		echo "leftover processes: $left" >&2
		pgrep -f -- "$T" | xargs -r kill -KILL 2>/dev/null
		return 1
	fi
}

no_process_mentions() { ! pgrep -f -- "$1" >/dev/null; }

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds or the
# deadline passes (then return 1).
wait_until() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	local start_ns
	start_ns=$(date +%s%N)
	local limit_ns=$((limit * 1000000000))
	while :; do
		"$@" && return 0
		[ $(( $(date +%s%N) - start_ns )) -ge "$limit_ns" ] && return 1
		sleep 0.05
	done
}

wait_gone() { wait_until "${2:-5}" pid_gone "$1"; }
pid_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }

# track PID: stop it in teardown
track() { echo "$1" >>"$PIDS_FILE"; }

# A TCP port that was free a moment ago (the kernel's choice for port 0).
free_port() {
	/usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

# is_listening PORT: some socket listens on TCP PORT (any address)
is_listening() { ss -Htln "sport = :$1" | grep -q .; }
not_listening() { ! is_listening "$1"; }

# make_table FILE [LO-HI]: a fresh secret table
make_table() {
	"$B/scramblectl" gentable -f -r "${2:-1024-65535}" "$1"
}

# start_scrambled CONF [ARGS...]: run the daemon in the foreground, log to
# $T/scrambled.log, wait until every service listens.  Sets SD_PID and
# RDV_PORT (the port of the first "listening" line, useful with port 0).
start_scrambled() {
	local conf=$1; shift
	"$B/scrambled" -f -c "$conf" "$@" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_until 10 grep -q 'listening ' "$T/scrambled.log" || {
		cat "$T/scrambled.log" >&2
		return 1
	}
	RDV_PORT=$(sed -n 's/.*listening .*addr=.*:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
	export SD_PID RDV_PORT
}

# log_has REGEX: the daemon's log has a matching line
log_has() { grep -Eq -- "$1" "$T/scrambled.log"; }
wait_log() { wait_until "${2:-10}" log_has "$1"; }

# rendezvous HOST PORT [SRC]: connect, print what the daemon sent
rendezvous() {
	/usr/bin/python3 - "$@" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam)
s.settimeout(10)
if len(sys.argv) > 3:
    s.bind((sys.argv[3], 0))
s.connect((host, port))
data = b""
while True:
    b = s.recv(64)
    if not b:
        break
    data += b
sys.stdout.write(data.decode("ascii", "replace"))
PY
}

# fd_count PID
fd_count() { ls "/proc/$1/fd" | wc -l; }

# zombies_of PID: children of PID in state Z
zombies_of() { ps -o stat= --ppid "$1" | grep -c '^Z' || true; }
