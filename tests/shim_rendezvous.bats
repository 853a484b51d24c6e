#!/usr/bin/env bats
# libscramble.so against a fake rendezvous server (tests/helpers/
# fake_rendezvous.py): the decoy leads the application's own socket to the
# valid port; every failed rendezvous is ECONNREFUSED/ETIMEDOUT and never
# reaches the well-known port (a recording listener stands there).

load helpers

setup() {
	common_setup
	shim_table
	DECOY=20005
	# the well-known port: a listener that must never see a connection
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
}
teardown() { common_teardown; }

# rdv_setup MODE [TEXT]: a fake rendezvous on 127.0.0.1 and $T/c.conf
rdv_setup() {
	start_fake rdv 127.0.0.1 "$@"
	RDV=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$RDV" "" "${TIMEOUT:-5}"
}

# serve_valid: decoy reply + echo server on the valid port (no offsets)
serve_valid() {
	rdv_setup reply "$DECOY\n"
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
}

@test "the application's socket reaches the valid port, not the well-known one" {
	serve_valid
	run with_shim "$B/conncheck" -e hello 127.0.0.1 "$WK"
	assert_success
	assert_line "connect=0 errno=0"
	assert_line "errno-kept=yes"
	assert_line "peer-port=$VALID"
	assert_line "reply=hello"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "without the shim the same client reaches the well-known port" {
	serve_valid
	run "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	wait_until 5 test "$(fake_conns wk)" -eq 1
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "garbage, short, padded, out-of-range replies: ECONNREFUSED, well-known port untouched" {
	local n=0 reply
	for reply in 'abc\n' '20005' '020005\n' '99999\n' '1000\n' '20005\nX' '20005 \n' \
		' 20005\n' '-20005\n' '2000500\n' '\n' '20005\r\n'; do
		rm -f "$T/rdv.port"
		rdv_setup reply "$reply"
		run with_shim "$B/conncheck" 127.0.0.1 "$WK"
		assert_failure
		assert_line "connect=-1 errno=ECONNREFUSED"
		[ "$(fake_conns rdv)" -eq 1 ]   # the shim did ask
		n=$((n + 1))
	done
	[ "$n" -eq 12 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "EOF without a decoy: ECONNREFUSED" {
	rdv_setup eof
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_failure
	assert_line "connect=-1 errno=ECONNREFUSED"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "nothing listens on the rendezvous port: ECONNREFUSED" {
	local rdv
	rdv=$(free_port)
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$rdv"
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_failure
	assert_line "connect=-1 errno=ECONNREFUSED"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a silent rendezvous: ETIMEDOUT after the target's timeout" {
	TIMEOUT=1 rdv_setup silent
	local t0 t1
	t0=$(date +%s%N)
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	t1=$(date +%s%N)
	assert_failure
	assert_line "connect=-1 errno=ETIMEDOUT"
	local ms=$(( (t1 - t0) / 1000000 ))
	echo "took ${ms} ms" >&3
	[ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a non-blocking socket keeps EINPROGRESS semantics and its flags" {
	serve_valid
	run with_shim "$B/conncheck" -n -e nb 127.0.0.1 "$WK"
	assert_success
	assert_line --regexp '^connect=(-1 errno=EINPROGRESS|0 errno=0)$'
	assert_line "nonblock=yes"
	assert_line "reply=nb"
	assert_line "peer-port=$VALID"
}

@test "a rendezvous failure on a non-blocking socket is reported at connect()" {
	rdv_setup reply 'junk\n'
	run with_shim "$B/conncheck" -n 127.0.0.1 "$WK"
	assert_failure
	assert_line "connect=-1 errno=ECONNREFUSED"
	assert_line "nonblock=yes"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a bound application socket: rendezvous from the same address, client octet from it" {
	rdv_setup reply "$DECOY\n"
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$RDV" '"client-octet"'
	VALID=$(valid_for "$DECOY" --offsets client-octet --client 127.0.0.7)
	[ "$VALID" != "$(valid_for "$DECOY")" ]
	start_echo 127.0.0.1 "$VALID"
	run with_shim "$B/conncheck" -b 127.0.0.7 -e bound 127.0.0.1 "$WK"
	assert_success
	assert_line "local=127.0.0.7"
	assert_line "peer-port=$VALID"
	assert_line "reply=bound"
	grep -q '^conn 127.0.0.7 ' "$T/rdv.log"
}

@test "hour and client-octet offsets together" {
	rdv_setup reply "$DECOY\n"
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$RDV" '"hour", "client-octet"'
	# the hour may turn during the test: serve both candidates
	local now v1 v2
	now=$(date +%s)
	v1=$(valid_for "$DECOY" --offsets hour,client-octet --client 127.0.0.1 --time "$now")
	v2=$(valid_for "$DECOY" --offsets hour,client-octet --client 127.0.0.1 --time $((now + 30)))
	start_echo 127.0.0.1 "$v1"
	[ "$v2" = "$v1" ] || start_echo 127.0.0.1 "$v2"
	run with_shim "$B/conncheck" -e hour 127.0.0.1 "$WK"
	assert_success
	assert_line --regexp "^peer-port=($v1|$v2)\$"
	assert_line "reply=hour"
}

@test "a v4-mapped destination on an IPv6 socket" {
	serve_valid
	run with_shim "$B/conncheck" -6 -e mapped 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$VALID"
	assert_line "reply=mapped"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "IPv6 ::1" {
	start_fake wk6 ::1 record
	local wk6=$FAKE_PORT
	start_fake rdv ::1 reply "$DECOY\n"
	shim_conf "$T/c.conf" '"::1"' "$wk6" "$FAKE_PORT"
	VALID=$(valid_for "$DECOY")
	start_echo ::1 "$VALID"
	run with_shim "$B/conncheck" -e six ::1 "$wk6"
	assert_success
	assert_line "peer-port=$VALID"
	assert_line "reply=six"
	[ "$(fake_conns wk6)" -eq 0 ]
	grep -q '^conn ::1 ' "$T/rdv.log"
}

@test "a host name in the configuration (localhost)" {
	start_fake rdv 127.0.0.1 reply "$DECOY\n"
	shim_conf "$T/c.conf" '"localhost"' "$WK" "$FAKE_PORT"
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
	run with_shim "$B/conncheck" -e named 127.0.0.1 "$WK"
	assert_success
	assert_line "reply=named"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a datagram socket to a target passes through" {
	serve_valid
	run with_shim "$B/conncheck" -u 127.0.0.1 "$WK"
	assert_success
	assert_line "connect=0 errno=0"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "32 threads connecting at once" {
	serve_valid
	run with_shim "$B/threadconn" 32 127.0.0.1 "$WK"
	assert_success
	assert_output "ok 32 of 32"
	[ "$(fake_conns rdv)" -eq 32 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "fork children connect through the shim" {
	serve_valid
	run with_shim "$B/forkconn" 8 127.0.0.1 "$WK"
	assert_success
	assert_output "ok 8 of 8"
	[ "$(fake_conns rdv)" -eq 9 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "nc reaches the valid port" {
	serve_valid
	run with_shim timeout 10 nc -N 127.0.0.1 "$WK" <<<"via-nc"
	assert_success
	assert_output "via-nc"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "python: blocking socket, asyncio and TCP Fast Open (sendto and sendmsg with MSG_FASTOPEN)" {
	serve_valid
	run with_shim /usr/bin/python3 - "$WK" <<'PY'
import asyncio, socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"blocking\n"); print(s.recv(64).decode().strip(), s.getpeername()[1]); s.close()
async def main():
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"asyncio\n"); await w.drain()
    print((await r.readline()).decode().strip(), w.get_extra_info("peername")[1])
    w.close(); await w.wait_closed()
asyncio.run(main())
s = socket.socket()  # blocking: sendto waits for the handshake
s.sendto(b"fastopen\n", socket.MSG_FASTOPEN, ("127.0.0.1", port))
print(s.recv(64).decode().strip(), s.getpeername()[1]); s.close()
s = socket.socket()
s.sendmsg([b"fastopen-", b"msg\n"], [], socket.MSG_FASTOPEN, ("127.0.0.1", port))
print(s.recv(64).decode().strip(), s.getpeername()[1]); s.close()
PY
	assert_success
	assert_line "blocking $VALID"
	assert_line "asyncio $VALID"
	assert_line "fastopen $VALID"
	assert_line "fastopen-msg $VALID"
	[ "$(fake_conns rdv)" -eq 4 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "curl to an HTTP server on the valid port" {
	rdv_setup reply "$DECOY\n"
	VALID=$(valid_for "$DECOY")
	mkdir "$T/www" && echo "scrambled page" >"$T/www/index.html"
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$VALID" \
		>/dev/null 2>&1 3>&- &
	track $!
	wait_until 10 is_listening "$VALID"
	run with_shim curl -sS --max-time 10 "http://127.0.0.1:$WK/"
	assert_success
	assert_output "scrambled page"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "curl --tcp-fastopen through the shim" {
	rdv_setup reply "$DECOY\n"
	VALID=$(valid_for "$DECOY")
	mkdir "$T/www" && echo "fast page" >"$T/www/index.html"
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$VALID" \
		>/dev/null 2>&1 3>&- &
	track $!
	wait_until 10 is_listening "$VALID"
	run with_shim curl -sS --tcp-fastopen --max-time 10 "http://127.0.0.1:$WK/"
	assert_success
	assert_output "fast page"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a second connect() on a connecting socket makes no second rendezvous" {
	serve_valid
	run with_shim /usr/bin/python3 - "$WK" <<'PY'
import errno, select, socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setblocking(False)
codes = [s.connect_ex(("127.0.0.1", port))]
for _ in range(200):                      # poll by calling connect again, as some libraries do
    select.select([], [s], [], 0.05)
    codes.append(s.connect_ex(("127.0.0.1", port)))
    if codes[-1] in (0, errno.EISCONN):
        break
print(" ".join(errno.errorcode.get(c, str(c)) for c in codes))
print("peer", s.getpeername()[1])
PY
	assert_success
	assert_line "peer $VALID"
	assert_line --regexp '^(EINPROGRESS|0)( EALREADY)*( 0| EISCONN)?$'
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "valgrind memcheck: no error in the shim on a hit, a failure and a miss" {
	command -v valgrind >/dev/null || skip "no valgrind"
	serve_valid
	local p
	p=$(free_port)
	# nc, not a helper of ours: those are ASan builds under SANITIZE=1,
	# and the shim is never sanitized
	vg() { with_shim valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite "$@"; }
	run vg timeout 20 nc -N 127.0.0.1 "$WK" <<<"memcheck"
	assert_success
	assert_output "memcheck"
	run vg nc -z 127.0.0.1 "$p"
	[ "$status" -eq 1 ]                      # refused, but no valgrind error (9)
	shim_conf "$T/c.conf" '"127.0.0.1", "localhost"' "$WK" "$p"
	run vg nc -z 127.0.0.1 "$WK"
	[ "$status" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}
