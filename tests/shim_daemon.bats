#!/usr/bin/env bats
# Unmodified clients through libscramble.so against the real scrambled in
# exec mode: one server per client, on the valid port, reached from the
# well-known port the client dials (where a recording listener must see
# nothing).  The banner names $T, so a reply with it proves the client
# reached the server scrambled launched.  (Arrival lines are not asserted:
# the daemon watches by polling, and these sessions can be shorter than a
# poll tick.)

load helpers

setup() {
	common_setup
	shim_table
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	BANNER="banner $T"
}
teardown() { common_teardown; }

# serve [CMD] [LISTEN] [HOSTS] [EXTRA]: scrambled with one exec service
# (default: an echo server with a banner naming $T, so teardown sees any
# leftover), then $T/c.conf with a target for the well-known port.
serve() {
	local cmd=${1:-$B/echo-server -b \\\"$BANNER\\\" 127.0.0.1 %p}
	(umask 022 && cat >"$T/sd.conf" <<CONF
table "t" { file = "$T/t.table" ports = "$SHIM_RANGE" }
service "s" {
  listen = { "${2:-127.0.0.1:0}" }
  table = "t"
  offsets = { "hour", "client-octet" }
  mode = "exec"
  command = "$cmd"
  poll_ms = 20
  connect_timeout = 10
  max_pending = 64
  per_source = 64
  rate = "none"
  ${4:-}
}
CONF
	)
	start_scrambled "$T/sd.conf" -S ""
	shim_conf "$T/c.conf" "${3:-\"127.0.0.1\"}" "$WK" "$RDV_PORT" '"hour", "client-octet"'
}

@test "conncheck: the first line comes from the server scrambled launched" {
	serve
	run with_shim "$B/conncheck" -e x 127.0.0.1 "$WK"
	assert_success
	assert_line "reply=$BANNER"
	log_has "rendezvous service=s client=127\.0\.0\.1 decoy=[0-9]+ pid=[0-9]+"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "curl to python's http.server launched per client" {
	mkdir "$T/www" && echo "behind scrambled" >"$T/www/index.html"
	serve "/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory $T/www %p"
	run with_shim curl -sS --max-time 15 "http://127.0.0.1:$WK/"
	assert_success
	assert_output "behind scrambled"
	log_has "rendezvous service=s client=127\.0\.0\.1 "
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "nc, python blocking and asyncio" {
	serve
	run with_shim timeout 15 nc -N 127.0.0.1 "$WK" <<<"via-nc"
	assert_success
	assert_output "$BANNER
via-nc"
	run with_shim /usr/bin/python3 - "$WK" <<'PY'
import asyncio, socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=15)
f = s.makefile("rwb")
f.readline(); f.write(b"blocking\n"); f.flush(); print(f.readline().decode().strip()); s.close()
async def main():
    r, w = await asyncio.open_connection("127.0.0.1", port)
    await r.readline()
    w.write(b"asyncio\n"); await w.drain()
    print((await r.readline()).decode().strip())
    w.close(); await w.wait_closed()
asyncio.run(main())
PY
	assert_success
	assert_output "blocking
asyncio"
	[ "$(grep -c 'rendezvous service=s' "$T/scrambled.log")" -eq 3 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "32 threads at once, each with its own server" {
	serve
	run with_shim "$B/threadconn" -s 32 127.0.0.1 "$WK"
	assert_success
	assert_output "ok 32 of 32"
	[ "$(grep -c 'rendezvous service=s' "$T/scrambled.log")" -eq 32 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a forking client" {
	serve
	run with_shim "$B/forkconn" -s 6 127.0.0.1 "$WK"
	assert_success
	assert_output "ok 6 of 6"
	wait_until 10 test "$(grep -c 'rendezvous service=s' "$T/scrambled.log")" -eq 7
}

@test "IPv6 ::1" {
	start_fake wk6 ::1 record
	local wk6=$FAKE_PORT
	serve "$B/echo-server -b \\\"$BANNER\\\" ::1 %p" "[::1]:0" '"::1"'
	shim_conf "$T/c.conf" '"::1"' "$wk6" "$RDV_PORT" '"hour", "client-octet"'
	run with_shim "$B/conncheck" -e x ::1 "$wk6"
	assert_success
	assert_line "reply=$BANNER"
	log_has "rendezvous service=s client=::1 "
	[ "$(fake_conns wk6)" -eq 0 ]
}

@test "a host name (localhost) in the target" {
	serve "" "" '"localhost"'
	run with_shim "$B/conncheck" -e x 127.0.0.1 "$WK"
	assert_success
	assert_line "reply=$BANNER"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "a client the daemon refuses: ECONNREFUSED, the well-known port sees nothing" {
	serve "" "" "" 'allow = { "10.0.0.0/8" }'
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_failure
	assert_line "connect=-1 errno=ECONNREFUSED"
	wait_log "refused service=s client=127\.0\.0\.1 reason=not-allowed"
	run with_shim curl -sS --max-time 10 "http://127.0.0.1:$WK/"
	assert_failure
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "scramble CMD and scramble-connect against scrambled" {
	serve
	run "$B/scramble" -c "$T/c.conf" "$B/conncheck" -e x 127.0.0.1 "$WK"
	assert_success
	assert_line "reply=$BANNER"
	run "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" <<<"relayed"
	assert_success
	assert_output "$BANNER
relayed"
	[ "$(grep -c 'rendezvous service=s' "$T/scrambled.log")" -eq 2 ]
	[ "$(fake_conns wk)" -eq 0 ]
}
