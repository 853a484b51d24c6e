# Shared helpers for the bats suites.  Every suite does:
#   load helpers
#   setup()    { common_setup; }
#   teardown() { common_teardown; }
# Processes started through these helpers are tracked by PID and stopped in
# teardown; teardown fails the test if anything the test started (found by
# its private temporary directory in the command line) is still running.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# SCRAMBLE_BUILD: another build directory (make check SANITIZE=1 uses build-san)
B=${SCRAMBLE_BUILD:-$TOP/build}
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

# ---- client side (libscramble.so, scramble, scramble-connect) ----
SHIM=$B/libscramble.so
SHIM_RANGE=20000-29999

# start_fake NAME HOST MODE [TEXT]: tests/helpers/fake_rendezvous.py on
# HOST, port 0 (MODE reply TEXT | eof | silent | record).  Sets FAKE_PORT;
# every connection it gets is a line in $T/NAME.log (see fake_conns).
start_fake() {
	local name=$1 host=$2; shift 2
	: >"$T/$name.log"
	/usr/bin/python3 "$TOP/tests/helpers/fake_rendezvous.py" "$host" "$T/$name.port" \
		"$T/$name.log" "$@" 3>&- &
	track $!
	wait_until 10 test -s "$T/$name.port" || return 1
	FAKE_PORT=$(cat "$T/$name.port")
}

# fake_conns NAME: how many connections the fake NAME has accepted
fake_conns() { wc -l <"$T/$1.log"; }

# shim_table: a fresh table $T/t.table over SHIM_RANGE
shim_table() { (umask 022 && "$B/scramblectl" gentable -f -r "$SHIM_RANGE" "$T/t.table") >/dev/null; }

# shim_conf FILE HOSTS PORT RDV [OFFSETS] [TIMEOUT]: a client configuration
# with one target; HOSTS like '"127.0.0.1", "::1"', OFFSETS like '"hour"'.
shim_conf() {
	(umask 022 && cat >"$1" <<CONF
table "t" { file = "$T/t.table" ports = "$SHIM_RANGE" }
target "t1" {
  host = { $2 }
  port = $3
  rendezvous = $4
  table = "t"
  offsets = { ${5:-} }
  timeout = ${6:-5}
}
CONF
	)
}

# valid_for DECOY [scramblectl map options...]: the valid port for DECOY
valid_for() {
	local d=$1; shift
	"$B/scramblectl" map -t "$T/t.table" -r "$SHIM_RANGE" "$@" "$d" | sed -n 's/^valid=//p'
}

# start_echo ADDR PORT: build/echo-server there, tracked, listening
start_echo() {
	"$B/echo-server" "$1" "$2" 3>&- &
	track $!
	wait_until 10 is_listening "$2"
}

# with_shim CMD...: run CMD with the shim preloaded and $T/c.conf
with_shim() { SCRAMBLE_CONF=$T/c.conf LD_PRELOAD=$SHIM "$@"; }

# fd_count_min PID: the smallest of a few readings of PID's fd count.  The
# daemon opens /proc for a moment while it looks for escaped servers after
# a session, so one reading may catch that descriptor.
fd_count_min() {
	local m=1000000 n i
	for i in 1 2 3 4 5 6 7 8; do
		n=$(fd_count "$1")
		[ "$n" -lt "$m" ] && m=$n
		sleep 0.02
	done
	echo "$m"
}
# fd_count_is PID N: for wait_until
fd_count_is() { [ "$(fd_count "$1")" -eq "$2" ]; }
