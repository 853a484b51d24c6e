#!/usr/bin/env bats
# Memory errors, leaks and descriptor leaks under valgrind (issue 8):
# scramblectl's commands, every unit test, the daemon over a scripted set of
# rendezvous, arrivals, timeouts, intruders and kills, and a client through
# the shim.  Release build only (valgrind and ASan do not mix), so make
# check SANITIZE=1 leaves this suite out.

load helpers
load daemon_helpers

setup() { common_setup; }
teardown() { sd_teardown; }

VG_ERR=99
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --track-fds=yes
	--child-silent-after-fork=yes --error-exitcode=$VG_ERR)

# vg NAME CMD...: CMD under valgrind, its report in $T/vg-NAME.log; the
# status of CMD (or 99 for a valgrind error) is left in $status
vg() {
	local name=$1; shift
	run "${VG[@]}" --log-file="$T/vg-$name.log" "$@"
}

# vg_fds LOG: descriptors the program itself left open at exit, one "N:
# how it was made" a line.  Descriptors inherited from bats or valgrind's own
# log are not the program's; nor are the daemon's epoll and signalfd, made
# once at start and closed by exit.
vg_fds() {
	awk '/Open (file descriptor|AF_[A-Z0-9]+ socket) [0-9]+/ { if (fd != "" && !inh) print fd ": " how
			fd = $0; sub(/.*(descriptor|socket) /, "", fd); sub(/:.*/, "", fd); inh = 0; how = ""; next }
		fd != "" && /<inherited from parent>/ { inh = 1 }
		fd != "" && how == "" && /   at 0x/ { how = $0; sub(/.*: /, "", how) }
		END { if (fd != "" && !inh) print fd ": " how }' "$1" |
		grep -Ev ': (epoll_create1|signalfd) ' || true
}

# vg_clean NAME: the report has no error, no leak and no descriptor left open
vg_clean() {
	local log=$T/vg-$1.log
	if grep -Eq 'Invalid|uninitialised|definitely lost|indirectly lost|possibly lost|ERROR SUMMARY: [1-9]' "$log"; then
		cat "$log" >&2
		return 1
	fi
	grep -q 'FILE DESCRIPTORS:' "$log" || { echo "$log: no descriptor report" >&2; return 1; }
	if [ -n "$(vg_fds "$log")" ]; then
		echo "left open at exit:" >&2
		vg_fds "$log" >&2
		cat "$log" >&2
		return 1
	fi
}

@test "valgrind: scramblectl gentable, map and check are clean" {
	umask 022
	vg gentable "$B/scramblectl" gentable -f -r 20000-20999 "$T/t.table"
	assert_success
	vg_clean gentable
	vg map "$B/scramblectl" map -t "$T/t.table" -r 20000-20999 --offsets hour,client-octet \
		--client 10.1.2.3 --time 1700000000 20042
	assert_success
	assert_output --regexp 'valid=[0-9]+'
	vg_clean map
	cat >"$T/c.conf" <<CONF
table "t" { file = "$T/t.table" ports = "20000-20999" }
service "s" { listen = { "127.0.0.1:0" } table = "t" mode = "exec" command = "/bin/true %p" }
target "x" { host = { "127.0.0.1" } port = 7 rendezvous = 3000 table = "t" }
CONF
	vg check "$B/scramblectl" check -c "$T/c.conf"
	assert_success
	vg_clean check
	# error paths clean up too
	printf 'service "s" { listen = { "nonsense" } table = "nope" }\n' >"$T/bad.conf"
	vg badcheck "$B/scramblectl" check -c "$T/bad.conf"
	[ "$status" -ne 0 ] && [ "$status" -ne "$VG_ERR" ]
	vg_clean badcheck
	vg badmap "$B/scramblectl" map -t "$T/missing.table" 20042
	[ "$status" -ne 0 ] && [ "$status" -ne "$VG_ERR" ]
	vg_clean badmap
}

@test "valgrind: every unit test is clean" {
	local t n=0
	for t in "$B"/unit/test_*; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		vg "$(basename "$t")" "$t"
		[ "$status" -eq 0 ] || { echo "$output"; cat "$T/vg-$(basename "$t").log"; fail "$t: status $status"; }
		vg_clean "$(basename "$t")" || fail "$t is not clean under valgrind"
	done
	[ "$n" -ge 3 ]
}

# vg_scrambled: sd_start under valgrind (daemon log in $T/scrambled.log)
vg_scrambled() {
	[ -e "$T/t.table" ] || sd_table
	[ -e "$T/c.conf" ] || sd_conf
	"${VG[@]}" --log-file="$T/vg-scrambled.log" "$B/scrambled" -f -c "$T/c.conf" -S "$T/sd.sock" \
		>"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_until 30 grep -q 'listening ' "$T/scrambled.log" || { cat "$T/scrambled.log"; return 1; }
	RDV_PORT=$(sed -n 's/.*listening .*addr=.*:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
}

@test "valgrind: the daemon over rendezvous, arrival, timeout, intruder and kill is clean" {
	SD_EXTRA='connect_timeout = 4'
	sd_conf
	vg_scrambled
	# 1. a client arrives, talks, leaves
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	sd_hold c1 "$v"
	wait_log "arrived service=echo client=127\.0\.0\.1" 10
	sd_release c1
	wait_log "session end service=echo" 10
	# 2. nobody arrives: timeout
	d=$(sd_rdv)
	wait_log "timeout service=echo" 20
	# 3. the wrong host arrives: intruder
	d=$(sd_rdv 127.0.0.1)
	v=$(sd_valid "$d")
	sd_hold c3 "$v" 127.0.0.2
	wait_log "intruder service=echo" 10
	# 4. the server is killed from outside while it waits
	d=$(sd_rdv)
	wait_until 10 servers_running
	local spid
	spid=$(sed -n "s/.*rendezvous service=echo .*decoy=$d pid=\([0-9]*\).*/\1/p" "$T/scrambled.log" | tail -n1)
	[ -n "$spid" ] || { cat "$T/scrambled.log"; fail "no pid for decoy $d"; }
	kill -KILL "$spid"
	wait_log "server exit service=echo pid=[0-9]+ status=signal 9" 10
	# 5. a client that sends garbage to the rendezvous port and one that resets
	head -c 100000 /dev/urandom | /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
try:
    s.sendall(sys.stdin.buffer.read())
except OSError:
    pass
s.close()' "$RDV_PORT"
	/usr/bin/python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$RDV_PORT"
	"$B/scramblectl" status -S "$T/sd.sock" >/dev/null
	wait_until 10 no_servers
	# stop: valgrind writes its report when the daemon exits
	kill -TERM "$SD_PID"
	wait_until 30 pid_gone "$SD_PID"
	wait "$SD_PID" && rc=0 || rc=$?
	[ "$rc" -ne "$VG_ERR" ] || { cat "$T/vg-scrambled.log"; fail "valgrind found errors in scrambled"; }
	[ "$rc" -eq 0 ] || { cat "$T/scrambled.log"; fail "scrambled exited with $rc on SIGTERM"; }
	vg_clean scrambled || fail "scrambled is not clean under valgrind"
}

@test "valgrind: a client through libscramble.so is clean" {
	shim_table
	start_fake wk 127.0.0.1 record
	local wk=$FAKE_PORT
	(umask 022 && cat >"$T/sd.conf" <<CONF
table "t" { file = "$T/t.table" ports = "$SHIM_RANGE" }
service "s" {
  listen = { "127.0.0.1:0" }
  table = "t"
  offsets = { "hour" }
  mode = "exec"
  command = "$B/echo-server -b \"banner $T\" 127.0.0.1 %p"
  poll_ms = 20
  connect_timeout = 10
  rate = "none"
}
CONF
	)
	start_scrambled "$T/sd.conf" -S ""
	shim_conf "$T/c.conf" '"127.0.0.1"' "$wk" "$RDV_PORT" '"hour"'
	# a scrambled connect, then a connect the shim leaves alone
	SCRAMBLE_CONF=$T/c.conf LD_PRELOAD=$SHIM vg shimmed "$B/conncheck" -e x 127.0.0.1 "$wk"
	assert_success
	assert_output --partial "banner $T"
	vg_clean shimmed || fail "shimmed conncheck is not clean under valgrind"
	[ "$(fake_conns wk)" -eq 0 ]
	p=$(free_port)
	SCRAMBLE_CONF=$T/c.conf LD_PRELOAD=$SHIM vg passthrough "$B/conncheck" 127.0.0.1 "$p"
	assert_output --partial "connect=-1 errno=ECONNREFUSED"
	vg_clean passthrough || fail "pass-through conncheck is not clean under valgrind"
}

# api_conf AUTH: a config with service and target "echo" (mode embedded) on
# a free rendezvous port, protocol v2 if AUTH is yes
api_conf() {
	umask 022
	"$B/scramblectl" gentable -f -r 21000-21999 "$T/t.table" >/dev/null
	"$B/scramblectl" keygen -f "$T/k.key" >/dev/null
	API_PORT=$(free_port)
	cat >"$T/api.conf" <<CONF
table "t" { file = "$T/t.table" ports = "21000-21999" }
service "echo" { listen = { "127.0.0.1:$API_PORT" } table = "t" mode = "embedded"
  rate = "none" offsets = { "hour", "client-octet" } auth = $1 key = "$T/k.key" }
target "echo" { host = { "127.0.0.1" } port = 7 rendezvous = $API_PORT table = "t"
  offsets = { "hour", "client-octet" } auth = $1 key = "$T/k.key" }
CONF
}

# the embedding API (libscramble-api) in both example programs: served
# clients, a rendezvous left pending at exit, a refused client
api_round() {
	api_conf "$1"
	"${VG[@]}" --log-file="$T/vg-srv-$1.log" "$B/examples/scramble-echo-server" "$T/api.conf" echo 2 \
		2>"$T/srv.log" 3>&- &
	local pid=$!
	track "$pid"
	wait_until 30 grep -q listening "$T/srv.log"
	rendezvous 127.0.0.1 "$API_PORT" >/dev/null   # made, never followed: pending at exit
	vg "cli1-$1" "$B/examples/scramble-echo-client" "$T/api.conf" echo 127.0.0.1 one
	assert_success
	assert_output one
	vg_clean "cli1-$1"
	vg "cli2-$1" "$B/examples/scramble-echo-client" "$T/api.conf" echo 127.0.0.1 two
	assert_success
	assert_output two
	wait "$pid"
	grep -q 'rendezvous service=echo' "$T/srv.log"
	vg_clean "srv-$1"
}

@test "valgrind: the API's example server and client are clean (protocol v1)" {
	api_round no
}

@test "valgrind: the API's example server and client are clean (protocol v2)" {
	api_round yes
	grep -q 'auth ok service=echo' "$T/srv.log"
}
