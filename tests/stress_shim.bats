#!/usr/bin/env bats
# libscramble.so under stress and faults (issue 8): 1000 connects over every
# outcome leak no descriptor; programs with fds 0-2 closed or everything
# above 2 closed still work; socket options survive the rendezvous; bad
# connect() arguments give libc's own answer; the decoy-line grammar, case by
# case (README "Decoy line grammar"); syscall(SYS_connect) and static
# binaries bypass the shim (README says: use scramble-connect).
# Helpers: build/stresscli (tests/helpers/stresscli.c), tests/helpers/
# fake_rendezvous.py and stress_fake.py.

load helpers

setup() {
	common_setup
	shim_table
	DECOY=20005
}
teardown() { common_teardown; }

# conns_are NAME N: the fake NAME has accepted N connections
conns_are() { [ "$(fake_conns "$1")" -eq "$2" ]; }

# start_sfake NAME MODE TEXT: tests/helpers/stress_fake.py on 127.0.0.1
start_sfake() {
	: >"$T/$1.log"
	/usr/bin/python3 "$TOP/tests/helpers/stress_fake.py" 127.0.0.1 "$T/$1.port" "$T/$1.log" "$2" "$3" 3>&- &
	track $!
	wait_until 10 test -s "$T/$1.port" || return 1
	FAKE_PORT=$(cat "$T/$1.port")
}

# target NAME WK RDV [TIMEOUT]: one target block for $T/c.conf
target() {
	cat <<CONF
target "$1" {
  host = { "127.0.0.1" }
  port = $2
  rendezvous = $3
  table = "t"
  offsets = { }
  timeout = ${4:-5}
}
CONF
}

@test "1000 connects over success, daemon down, garbage, refused valid port, and timeouts leak no fd" {
	# ok: a decoy whose valid port echoes
	start_fake rdv_ok 127.0.0.1 reply "$DECOY\n";        R_OK=$FAKE_PORT
	start_echo 127.0.0.1 "$(valid_for "$DECOY")"
	# refused valid port: a decoy whose valid port has no listener
	local d2=20006
	[ "$(valid_for $d2)" != "$(valid_for "$DECOY")" ] || d2=20007
	! is_listening "$(valid_for $d2)"
	start_fake rdv_novalid 127.0.0.1 reply "$d2\n";      R_NOVALID=$FAKE_PORT
	start_fake rdv_junk 127.0.0.1 reply 'junk\n';        R_JUNK=$FAKE_PORT
	start_fake rdv_silent 127.0.0.1 silent;               R_SILENT=$FAKE_PORT
	R_DOWN=$(free_port)
	# the well-known ports: recording listeners that must see nothing
	local i
	for i in ok down junk novalid silent; do
		start_fake "wk_$i" 127.0.0.1 record
		eval "WK_$i=$FAKE_PORT"
	done
	(umask 022 && {
		echo "table \"t\" { file = \"$T/t.table\" ports = \"$SHIM_RANGE\" }"
		target ok "$WK_ok" "$R_OK"
		target down "$WK_down" "$R_DOWN"
		target junk "$WK_junk" "$R_JUNK"
		target novalid "$WK_novalid" "$R_NOVALID"
		target silent "$WK_silent" "$R_SILENT" 1
	} >"$T/c.conf")
	run with_shim "$B/stresscli" loop 1000 127.0.0.1 "$WK_ok,$WK_down,$WK_junk,$WK_novalid"
	echo "$output" >&3
	assert_success
	assert_line "port=$WK_ok ok=250"
	assert_line "port=$WK_down ECONNREFUSED=250"
	assert_line "port=$WK_junk ECONNREFUSED=250"
	assert_line "port=$WK_novalid ECONNREFUSED=250"
	[[ ${lines[4]} =~ ^fds-before=([0-9]+)\ fds-after=([0-9]+)$ ]] || fail "${lines[4]}"
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	# timeouts are slow (1 s each): a few, mixed with the others
	run with_shim "$B/stresscli" loop 8 127.0.0.1 "$WK_silent,$WK_ok"
	echo "$output" >&3
	assert_success
	assert_line "port=$WK_silent ETIMEDOUT=4"
	assert_line "port=$WK_ok ok=4"
	[[ ${lines[2]} =~ ^fds-before=([0-9]+)\ fds-after=([0-9]+)$ ]] || fail "${lines[2]}"
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	[ "$(fake_conns rdv_ok)" -eq 254 ]
	[ "$(fake_conns rdv_junk)" -eq 250 ]
	for i in ok down junk novalid silent; do
		[ "$(fake_conns "wk_$i")" -eq 0 ] || fail "well-known port of $i was dialled"
	done
}

@test "close_range(3, ~0) before the connect, and fds 0-2 closed: the rendezvous still works" {
	start_fake rdv 127.0.0.1 reply "$DECOY\n"
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$(cat "$T/rdv.port")"
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
	with_shim "$B/stresscli" closeall "$T/ca.out" 127.0.0.1 "$WK"
	grep -qx "sockfd=3 connect=0 errno=0 reply=hi peer-port=$VALID" "$T/ca.out" || fail "$(cat "$T/ca.out")"
	# no stdin, stdout or stderr at all: the application socket is fd 0
	with_shim "$B/stresscli" closeall "$T/ca0.out" 127.0.0.1 "$WK" <&- >&- 2>&-
	grep -qx "sockfd=0 connect=0 errno=0 reply=hi peer-port=$VALID" "$T/ca0.out" || fail "$(cat "$T/ca0.out")"
	[ "$(fake_conns rdv)" -eq 2 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "socket options set before connect are still set after the rendezvous" {
	start_fake rdv 127.0.0.1 reply "$DECOY\n"
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$(cat "$T/rdv.port")"
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
	run with_shim "$B/stresscli" sockopts 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$VALID"
	local o before after
	for o in SO_RCVBUF SO_SNDBUF SO_KEEPALIVE SO_PRIORITY TCP_NODELAY TCP_KEEPIDLE IP_TOS IP_TTL; do
		before=$(printf '%s\n' "$output" | sed -n "s/^before $o=//p")
		after=$(printf '%s\n' "$output" | sed -n "s/^after $o=//p")
		[ -n "$before" ] && [ "$before" != -1 ] || fail "$o not set"
		[ "$before" = "$after" ] || fail "$o: $before before, $after after"
	done
	assert_line "after TCP_NODELAY=1"
	assert_line "after IP_TOS=16"
	assert_line "after IP_TTL=33"
	# the same program without the shim reports the same values
	run "$B/stresscli" sockopts 127.0.0.1 "$VALID"
	assert_success
	assert_line "after IP_TOS=16"
}

@test "bad connect() arguments: exactly libc's return and errno, no rendezvous" {
	start_fake rdv 127.0.0.1 reply "$DECOY\n"
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$(cat "$T/rdv.port")"
	"$B/stresscli" badargs 127.0.0.1 "$WK" >"$T/plain.out"
	with_shim "$B/stresscli" badargs 127.0.0.1 "$WK" >"$T/shim.out"
	cat "$T/shim.out" >&3
	[ "$(wc -l <"$T/plain.out")" -eq 17 ]
	diff "$T/plain.out" "$T/shim.out"
	grep -qx "case=null-addr rc=-1 errno=EFAULT" "$T/shim.out"
	grep -qx "case=first-page-addr rc=-1 errno=EFAULT" "$T/shim.out"
	grep -qx "case=fd-9999 rc=-1 errno=EBADF" "$T/shim.out"
	grep -qx "case=fd-pipe rc=-1 errno=ENOTSOCK" "$T/shim.out"
	grep -qx "case=af-unix-on-inet rc=-1 errno=EAFNOSUPPORT" "$T/shim.out"
	# the len-0 / short-length cases never made the shim rendezvous
	[ "$(fake_conns rdv)" -eq 0 ]
}

# grammar_case REPLY MODE EXPECT: the shim's outcome for one decoy reply
# sent by a fake in MODE (reply: TEXT then close; hold: TEXT, no EOF;
# stream: TEXT repeated without end).  EXPECT: ok | ECONNREFUSED | ETIMEDOUT
grammar_case() {
	local reply=$1 mode=$2 expect=$3
	rm -f "$T/rdv.port" "$T/rdv.log"
	if [ "$mode" = reply ]; then
		start_fake rdv 127.0.0.1 reply "$reply"
	else
		start_sfake rdv "$mode" "$reply"
	fi
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$FAKE_PORT" "" 1
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	printf '%-14s %-6s -> %s\n' "$reply" "$mode" "${lines[0]}" >&3
	if [ "$expect" = ok ]; then
		assert_line "connect=0 errno=0"
		assert_line "peer-port=$VALID"
	else
		assert_line "connect=-1 errno=$expect"
	fi
	[ "$(fake_conns rdv)" -eq 1 ]
}

@test "decoy-line grammar: every case of the README table" {
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
	# the table in README.md "Decoy line grammar", row by row
	grammar_case '20005\n'    reply ok             # canonical
	grammar_case '20005\n'    hold  ok             # no EOF needed after the newline
	grammar_case '20005'      reply ECONNREFUSED   # EOF before the newline
	grammar_case ''           reply ECONNREFUSED   # empty reply
	grammar_case '\n'         reply ECONNREFUSED   # empty line
	grammar_case '20005\r\n'  reply ECONNREFUSED   # CRLF
	grammar_case '020005\n'   reply ECONNREFUSED   # leading zero
	grammar_case '+20005\n'   reply ECONNREFUSED   # sign
	grammar_case '-20005\n'   reply ECONNREFUSED
	grammar_case ' 20005\n'   reply ECONNREFUSED   # spaces
	grammar_case '20005 \n'   reply ECONNREFUSED
	grammar_case '200050\n'   reply ECONNREFUSED   # 6 digits
	grammar_case '1234567\n'  reply ECONNREFUSED   # 7 digits
	grammar_case '1000\n'     reply ECONNREFUSED   # out of the table's range
	grammar_case '65536\n'    reply ECONNREFUSED   # not a port
	grammar_case '0\n'        reply ECONNREFUSED
	grammar_case '20005\nX'   reply ECONNREFUSED   # data after the newline, same read
	grammar_case '20005\n20005\n' reply ECONNREFUSED
	grammar_case '2'          hold  ETIMEDOUT      # a line that never ends: target timeout
	grammar_case '2'          stream ECONNREFUSED  # a reply that never ends: 8 bytes, no newline
	grammar_case '\x00\xff'   stream ECONNREFUSED  # binary garbage without end
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "bypasses: syscall(SYS_connect) and a static binary reach the well-known port (use scramble-connect)" {
	start_fake rdv 127.0.0.1 reply "$DECOY\n"
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$(cat "$T/rdv.port")"
	# a raw system call does not go through libc's connect(): no rendezvous
	run with_shim "$B/stresscli" rawsys 127.0.0.1 "$WK"
	assert_success
	assert_output "connect=0 errno=0 peer-port=$WK"
	wait_until 5 conns_are wk 1
	[ "$(fake_conns rdv)" -eq 0 ]
	# a static binary ignores LD_PRELOAD altogether
	command -v cc >/dev/null || skip "no C compiler"
	cc -D_GNU_SOURCE -static -o "$T/stresscli-static" "$TOP/tests/helpers/stresscli.c" 2>"$T/cc.err" ||
		skip "no static libc: $(head -n1 "$T/cc.err")"
	! readelf -d "$T/stresscli-static" | grep -q NEEDED
	run with_shim "$T/stresscli-static" sockopts 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	wait_until 5 conns_are wk 2
	[ "$(fake_conns rdv)" -eq 0 ]
	# the documented way for both: scramble-connect does the rendezvous
	VALID=$(valid_for "$DECOY")
	start_echo 127.0.0.1 "$VALID"
	run sh -c "echo via-relay | '$B/scramble-connect' -c '$T/c.conf' 127.0.0.1 $WK"
	assert_success
	assert_output "via-relay"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk)" -eq 2 ]
	grep -q 'syscall(SYS_connect)' "$TOP/README.md"
	grep -q 'scramble-connect' "$TOP/README.md"
}
