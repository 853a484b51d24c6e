#!/usr/bin/env bats
# scramble CMD (the shim preloaded for one command) and scramble-connect
# HOST PORT (a stdio bridge), against a fake rendezvous server.

load helpers

setup() {
	common_setup
	shim_table
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	start_fake rdv 127.0.0.1 reply '20005\n'
	RDV=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$RDV"
	VALID=$(valid_for 20005)
	start_echo 127.0.0.1 "$VALID"
}
teardown() { common_teardown; }

@test "scramble -c FILE CMD: CMD reaches the valid port" {
	run "$B/scramble" -c "$T/c.conf" "$B/conncheck" -e via-scramble 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$VALID"
	assert_line "reply=via-scramble"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "scramble: a relative -c works after CMD changes directory; SCRAMBLE_CONF is absolute" {
	cd "$T"
	run "$B/scramble" -c c.conf sh -c 'cd / && echo "$SCRAMBLE_CONF" && "$0" -e rel 127.0.0.1 "$1"' \
		"$B/conncheck" "$WK"
	assert_success
	assert_line "$T/c.conf"
	assert_line "reply=rel"
}

@test "scramble prepends itself to an existing LD_PRELOAD" {
	local libm
	libm=$(ldconfig -p | sed -n 's/.*libm\.so\.6.*=> //p' | head -n1)
	[ -n "$libm" ]
	run env LD_PRELOAD="$libm" "$B/scramble" -c "$T/c.conf" printenv LD_PRELOAD
	assert_success
	assert_output "$B/libscramble.so $libm"
	run env -u LD_PRELOAD "$B/scramble" printenv LD_PRELOAD
	assert_output "$B/libscramble.so"
}

@test "scramble: exit status of CMD, 127 when not found, 2 on usage" {
	run "$B/scramble" sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run sh -c '"$0" /nonexistent/cmd 2>&1; echo "rc=$?"' "$B/scramble"
	assert_line "rc=127"
	assert_output --partial "/nonexistent/cmd"
	run "$B/scramble"
	[ "$status" -eq 2 ]
	run "$B/scramble" -c "$T/missing.conf" true
	[ "$status" -eq 2 ]
	# options after CMD belong to CMD
	run "$B/scramble" printf '%s\n' -c
	assert_success
	assert_output "-c"
}

@test "scramble-connect relays both ways and exits 0 after EOF both ways" {
	run "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" <<<"line one"
	assert_success
	assert_output "line one"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "scramble-connect carries binary data intact" {
	head -c 300000 /dev/urandom >"$T/blob"
	"$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" <"$T/blob" >"$T/back"
	cmp "$T/blob" "$T/back"
}

@test "scramble-connect: the server closing first ends the relay at once" {
	# the fake rendezvous itself stands in for a server that talks and hangs up;
	# stdin stays open (a FIFO nobody writes to) and must not be waited for
	start_fake talk 127.0.0.1 reply 'hello and goodbye\n'
	local p=$FAKE_PORT
	mkfifo "$T/in"
	exec 4<>"$T/in"
	run timeout 5 "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$p" <&4
	exec 4>&-
	assert_success
	assert_output "hello and goodbye"
}

@test "scramble-connect: a failed rendezvous exits 1 with a message, never dials the port" {
	start_fake bad 127.0.0.1 reply 'nonsense\n'
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$FAKE_PORT"
	run "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" </dev/null
	[ "$status" -eq 1 ]
	assert_output --partial "rendezvous"
	assert_output --partial "Connection refused"
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "scramble-connect: an unconfigured HOST PORT is dialled directly" {
	local p
	p=$(free_port)
	start_echo 127.0.0.1 "$p"
	run "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$p" <<<"direct"
	assert_success
	assert_output "direct"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "scramble-connect: usage 2, bad configuration 2, unknown host 1" {
	run "$B/scramble-connect" 127.0.0.1
	[ "$status" -eq 2 ]
	chmod 0666 "$T/c.conf"
	run "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" </dev/null
	[ "$status" -eq 2 ]
	assert_output --partial "c.conf"
	chmod 0644 "$T/c.conf"
	run "$B/scramble-connect" -c "$T/c.conf" no-such-host.invalid 22 </dev/null
	[ "$status" -eq 1 ]
	[ "$(fake_conns wk)" -eq 0 ]
}
