#!/usr/bin/env bats
# The embedding API (include/scramble.h, libscramble-api, pkg-config name
# "scramble") and its two example programs, build/examples/scramble-echo-*:
# building against it, installing it, what it exports, and the example client
# and server against each other, against scrambled, the shim and
# scramble-connect, and against clients that have no table or the wrong key.
load helpers

API_RANGE=30000-30999
SRV=$B/examples/scramble-echo-server
CLI=$B/examples/scramble-echo-client
PY=/usr/bin/python3
AUTH=$TOP/tests/helpers/scramble_auth.py

setup() {
	common_setup
	"$B/scramblectl" gentable -r "$API_RANGE" "$T/t.table" >/dev/null
	(umask 022 && echo "table \"t\" { file = \"$T/t.table\" ports = \"$API_RANGE\" }" >"$T/c.conf")
}
teardown() { common_teardown; }

# api_service NAME PORT [EXTRA] [FILE]: a service section, mode embedded,
# on 127.0.0.1:PORT (FILE: $T/c.conf)
api_service() {
	(umask 022 && cat >>"${4:-$T/c.conf}" <<CONF
service "$1" {
  listen = { "127.0.0.1:$2" }
  table = "t"
  mode = "embedded"
  rate = "none"
  ${3:-}
}
CONF
	)
}

# api_target NAME RDV [PORT] [EXTRA] [FILE]: a target section for 127.0.0.1
api_target() {
	(umask 022 && cat >>"${5:-$T/c.conf}" <<CONF
target "$1" {
  host = { "127.0.0.1" }
  port = ${3:-7}
  rendezvous = $2
  table = "t"
  ${4:-}
}
CONF
	)
}

# start_server LOG [SERVICE] [CONF] [COUNT]: the example server in the
# background, standard error in $T/LOG.log; waits for its "listening" line.
# Sets SRV_PID.
start_server() {
	local log=$T/$1.log svc=${2:-echo} conf=${3:-$T/c.conf}
	"$SRV" "$conf" "$svc" ${4:+"$4"} >"$T/$1.out" 2>"$log" 3>&- &
	SRV_PID=$!
	track "$SRV_PID"
	wait_until 10 grep -q "^scramble-echo-server: listening service=$svc " "$log" || {
		cat "$log" >&2
		return 1
	}
}

# untrack PID: a process the test has reaped itself
untrack() { sed -i "/^$1\$/d" "$PIDS_FILE"; }

# listen_ports PID: the TCP ports PID listens on, one a line
listen_ports() {
	ss -Htlnp | grep -F "pid=$1," | awk '{print $4}' | sed 's/.*://' | sort -un
}
only_listens() { [ "$(listen_ports "$1")" = "$2" ]; }
listen_count_is() { [ "$(listen_ports "$1" | wc -l)" -eq "$2" ]; }

# srv_has LOG REGEX / wait_srv LOG REGEX: the example server's log
srv_has() { grep -Eq -- "$2" "$T/$1.log"; }
wait_srv() { wait_until "${3:-5}" srv_has "$1" "$2"; }
srv_count_is() { [ "$(grep -Ec -- "$2" "$T/$1.log")" -eq "$3" ]; }

# try_connect HOST PORT: ok, refused, timeout or error
try_connect() {
	$PY -c 'import socket,sys
s=socket.socket(); s.settimeout(3)
try:
    s.connect((sys.argv[1],int(sys.argv[2]))); print("ok")
except socket.timeout: print("timeout")
except ConnectionRefusedError: print("refused")
except OSError as e: print("error", e)' "$1" "$2"
}

# plain_talk PORT: a client without the table: connect, send a line,
# half-close, print everything it gets back until the server closes
plain_talk() {
	$PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
try:
    c.sendall(b"ping\n"); c.shutdown(socket.SHUT_WR)
except OSError:
    pass
got=b""
try:
    while True:
        b=c.recv(4096)
        if not b: break
        got+=b
except ConnectionResetError:
    pass
sys.stdout.write(got.decode("ascii","replace"))' "$1"
}

@test "pkg-config: the flags build and link a program that uses the API" {
	run env PKG_CONFIG_PATH="$B/pkgconfig" pkg-config --cflags --libs scramble
	assert_success
	assert_output --regexp "(^| )-I$TOP/include( |$)"
	assert_output --regexp "(^| )-lscramble-api( |$)"
	assert_output --regexp "(^| )-L$B( |$)"
	flags=$output
	cat >"$T/tiny.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <scramble.h>
int main(void)
{
	const uint16_t table[4] = { 1026, 1024, 1027, 1025 };
	const uint16_t dup[2] = { 1024, 1024 };
	struct scramble_target *t = scramble_target_new("echo", 3000, 1024, 1027, table);
	if (t == NULL) {
		perror("scramble_target_new");
		return 1;
	}
	scramble_target_free(t);
	errno = 0;
	if (scramble_target_new("echo", 3000, 1024, 1025, dup) != NULL || errno != EINVAL) {
		fprintf(stderr, "a table that is no permutation was accepted\n");
		return 1;
	}
	scramble_target_free(NULL);
	printf("api %d ok\n", SCRAMBLE_API_VERSION);
	return 0;
}
C
	# shellcheck disable=SC2086  # the flags are words
	run cc -std=c11 -Wall -Werror -o "$T/tiny" "$T/tiny.c" $flags
	assert_success
	run env LD_LIBRARY_PATH="$B" "$T/tiny"
	assert_success
	assert_output "api 1 ok"
	run env LD_LIBRARY_PATH="$B" ldd "$T/tiny"
	assert_line --regexp "libscramble-api\.so\.1 => $B/libscramble-api\.so\.1 "
}

@test "make install: header, library and symlink, scramble.pc for the PREFIX, scramble(3)" {
	# an install with the default PREFIX first (as contrib_man.bats does),
	# so that the staged scramble.pc must follow the PREFIX of each install
	run make -C "$TOP" --no-print-directory install DESTDIR="$T/first"
	assert_success
	grep -qx 'prefix=/usr/local' "$T/first/usr/local/lib/pkgconfig/scramble.pc"
	run make -C "$TOP" --no-print-directory install DESTDIR="$T/root" PREFIX=/usr
	assert_success
	r=$T/root/usr
	cmp "$TOP/include/scramble.h" "$r/include/scramble.h"
	[ -f "$r/lib/libscramble-api.so.1" ] && [ ! -L "$r/lib/libscramble-api.so.1" ]
	cmp "$B/libscramble-api.so.1" "$r/lib/libscramble-api.so.1"
	[ "$(readlink "$r/lib/libscramble-api.so")" = libscramble-api.so.1 ]
	# every problem at once
	problems=""
	[ -f "$r/share/man/man3/scramble.3" ] || problems+=" share/man/man3/scramble.3 not installed;"
	# man scramble_connect (and every other function of the header) finds scramble(3)
	local fn
	for fn in scramble_connect scramble_target_new scramble_service_load scramble_service_accept; do
		grep -qx '.so man3/scramble.3' "$r/share/man/man3/$fn.3" 2>/dev/null ||
			problems+=" share/man/man3/$fn.3 missing;"
	done
	for l in prefix=/usr libdir=/usr/lib includedir=/usr/include; do
		grep -qx -- "$l" "$r/lib/pkgconfig/scramble.pc" ||
			problems+=" scramble.pc has no line $l ($(grep "^${l%%=*}=" "$r/lib/pkgconfig/scramble.pc"));"
	done
	[ -z "$problems" ] || fail "make install PREFIX=/usr:$problems"
	run env PKG_CONFIG_SYSROOT_DIR="$T/root" PKG_CONFIG_LIBDIR="$r/lib/pkgconfig" \
		pkg-config --libs scramble
	assert_success
	assert_output --regexp "^-L$r/lib -lscramble-api *$"
	run env PKG_CONFIG_SYSROOT_DIR="$T/root" PKG_CONFIG_LIBDIR="$r/lib/pkgconfig" \
		pkg-config --cflags scramble
	assert_success
	assert_output --regexp "^-I$r/include *$"
}

@test "exports: the functions of scramble.h and nothing else; the examples do not load the shim" {
	run nm -D --defined-only "$B/libscramble-api.so.1"
	assert_success
	assert_line --regexp '^0+ A SCRAMBLE_1$'
	# every line is the version node or a scramble_* function of SCRAMBLE_1
	bad=$(echo "$output" | grep -Ev '^0+ A SCRAMBLE_1$|^[0-9a-f]+ T scramble_[a-z_]+@@SCRAMBLE_1$' || true)
	[ -z "$bad" ] || fail "unexpected exports: $bad"
	refute_output --regexp ' (connect|sendto|socket|close|read|write)(@|$)'
	exported=$(echo "$output" | sed -n 's/.* T \(scramble_[a-z_]*\)@@SCRAMBLE_1$/\1/p' | sort)
	declared=$(grep -o 'scramble_[a-z_]*(' "$TOP/include/scramble.h" | tr -d '(' | sort -u)
	[ "$exported" = "$declared" ] || fail "exported: $exported / declared: $declared"
	for p in scramble-echo-client scramble-echo-server; do
		run ldd "$B/examples/$p"
		assert_success
		assert_line --regexp 'libscramble-api\.so\.1 => .*/libscramble-api\.so\.1 '
		refute_output --regexp '(^|[[:space:]/])libscramble\.so'
	done
}

@test "example client <-> example server, protocol v1; only the rendezvous port listens after" {
	P=$(free_port)
	api_service echo "$P"
	api_target echo "$P" "$(free_port)"
	start_server srv
	grep -qx "scramble-echo-server: listening service=echo addr=127.0.0.1:$P" "$T/srv.log"
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "hello from the api"
	assert_success
	assert_output "hello from the api"
	wait_srv srv "rendezvous service=echo client=127\.0\.0\.1 decoy=[0-9]+"
	srv_has srv "arrived service=echo client=127\.0\.0\.1"
	! srv_has srv "auth ok"
	# the session is over: the valid port is closed, the rendezvous remains
	wait_until 5 only_listens "$SRV_PID" "$P" || true
	run listen_ports "$SRV_PID"
	assert_output "$P"
	! srv_has srv "timeout service=|refused service=|intruder service="
}

@test "example client <-> example server, protocol v2 (auth = yes, a key on both sides)" {
	(umask 022 && "$B/scramblectl" keygen "$T/k.key")
	P=$(free_port)
	api_service echo "$P" "auth = yes key = \"$T/k.key\""
	api_target echo "$P" "$(free_port)" "auth = yes key = \"$T/k.key\""
	start_server srv
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "authenticated hello"
	assert_success
	assert_output "authenticated hello"
	wait_srv srv "arrived service=echo client=127\.0\.0\.1"
	srv_has srv "rendezvous service=echo client=127\.0\.0\.1 decoy=[0-9]+"
	srv_has srv "auth ok service=echo client=127\.0\.0\.1"
	! srv_has srv "auth failed"
	wait_until 5 only_listens "$SRV_PID" "$P" || true
	run listen_ports "$SRV_PID"
	assert_output "$P"
}

@test "example client -> scrambled: a service of the real daemon (inetd mode)" {
	cat >"$T/inetd.sh" <<'SH'
#!/bin/sh
echo "inetd started" >&2
cat
SH
	chmod 755 "$T/inetd.sh"
	(umask 022 && cat >>"$T/c.conf" <<CONF
service "echo" {
  listen = { "127.0.0.1:0" }
  table = "t"
  mode = "inetd"
  command = "$T/inetd.sh"
  poll_ms = 20
  rate = "none"
}
CONF
	)
	start_scrambled "$T/c.conf" -S ""
	api_target echo "$RDV_PORT" "$(free_port)"
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "through scrambled"
	assert_success
	assert_output "through scrambled"
	wait_log "arrived service=echo client=127\.0\.0\.1"
	log_has "rendezvous service=echo client=127\.0\.0\.1 decoy=[0-9]+"
	wait_log "server service=echo pid=[0-9]+: inetd started"
	wait_log "session end service=echo client=127\.0\.0\.1"
}

@test "the shim and scramble-connect -> the example server" {
	P=$(free_port)
	start_fake wk 127.0.0.1 record     # the port the clients dial: must see nothing
	WK=$FAKE_PORT
	api_service echo "$P"
	api_target echo "$P" "$WK"
	start_server srv
	run with_shim timeout 15 $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),10)
c.sendall(b"via the shim\n"); c.shutdown(socket.SHUT_WR)
got=b""
while True:
    b=c.recv(4096)
    if not b: break
    got+=b
sys.stdout.write(got.decode())' "$WK"
	assert_success
	assert_output "via the shim"
	run timeout 15 "$B/scramble-connect" -c "$T/c.conf" 127.0.0.1 "$WK" <<<"via scramble-connect"
	assert_success
	assert_output "via scramble-connect"
	wait_until 5 srv_count_is srv 'arrived service=echo client=127\.0\.0\.1' 2
	[ "$(grep -c 'rendezvous service=echo' "$T/srv.log")" -eq 2 ]
	[ "$(fake_conns wk)" -eq 0 ]
}

@test "no table: a decoy line only; the decoy port is closed; a wrong key gets nothing; the server goes on" {
	(umask 022 && "$B/scramblectl" keygen "$T/k.key" && "$B/scramblectl" keygen "$T/other.key")
	P=$(free_port)
	api_service echo "$P" "auth = yes key = \"$T/k.key\" per_source = 16 max_pending = 16"
	api_target echo "$P" "$(free_port)" "auth = yes key = \"$T/k.key\""
	start_server srv
	# a plain client gets one line "2 DECOY NONCE" and the connection ends:
	# its "ping" is never echoed
	for i in 1 2 3; do
		run plain_talk "$P"
		assert_success
		assert_output --regexp '^2 [0-9]+ [0-9a-f]{32}$'
		refute_output --partial ping
		d=$(echo "$output" | cut -d' ' -f2)
		[ "$d" -ge "${API_RANGE%-*}" ] && [ "$d" -le "${API_RANGE#*-}" ]
		# a valid port opened for one of these rendezvous may, rarely, be the
		# decoy's number: then take another decoy
		is_listening "$d" || break
	done
	run try_connect 127.0.0.1 "$d"
	assert_output "refused"
	wait_srv srv "rendezvous service=echo client=127\.0\.0\.1 decoy=$d"
	! srv_has srv "arrived"
	# the example client with another key: the keyed valid port is another
	# one, so it finds nothing (or, rarely, is refused at the authenticator)
	(umask 022 && sed "s|$T/k.key|$T/other.key|" "$T/c.conf" >"$T/bad.conf")
	run timeout 15 "$CLI" "$T/bad.conf" echo 127.0.0.1 "wrong key"
	assert_failure 1
	refute_output --partial "wrong key"
	! srv_has srv "auth ok"
	! srv_has srv "arrived"
	# right port, authenticator made with another key: "auth failed"
	run $PY "$AUTH" client --key "$T/k.key" --tag-key "$T/other.key" --name echo \
		--rdv "$P" --range "$API_RANGE" --send ping
	assert_success
	assert_line --index 1 "closed"
	wait_srv srv "auth failed service=echo client=127\.0\.0\.1 reason=mismatch bytes=32"
	! srv_has srv "auth ok"
	# and the next good client is served
	kill -0 "$SRV_PID"
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "good after bad"
	assert_success
	assert_output "good after bad"
	wait_srv srv "auth ok service=echo client=127\.0\.0\.1"
	[ "$(grep -c 'arrived service=echo' "$T/srv.log")" -eq 1 ]
}

@test "example client misuse: usage 2, unknown target 1 naming the file, nothing listening 1" {
	api_target echo "$(free_port)"
	run "$CLI"
	assert_failure 2
	assert_output --partial "usage: scramble-echo-client CONF TARGET HOST [MESSAGE]"
	run "$CLI" "$T/c.conf" echo 127.0.0.1 msg extra
	assert_failure 2
	assert_output --partial "usage:"
	run "$CLI" "$T/c.conf" nosuch 127.0.0.1
	assert_failure 1
	assert_output --regexp "^scramble-echo-client: $T/c\.conf: .*nosuch"
	run "$CLI" "$T/missing.conf" echo 127.0.0.1
	assert_failure 1
	assert_output --partial "$T/missing.conf"
	# the rendezvous port of target "echo" is a free port: nobody answers
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1
	assert_failure 1
	assert_output "scramble-echo-client: connect to 127.0.0.1: Connection refused"
}

@test "two example servers in parallel, each serving its own clients" {
	P1=$(free_port)
	P2=$(free_port)
	[ "$P1" != "$P2" ]
	api_service echo1 "$P1"
	api_service echo2 "$P2"
	api_target echo1 "$P1" "$(free_port)"
	api_target echo2 "$P2" "$(free_port)"
	start_server s1 echo1
	S1=$SRV_PID
	start_server s2 echo2
	S2=$SRV_PID
	pids=()
	for i in 1 2 3; do
		for s in 1 2; do
			timeout 15 "$CLI" "$T/c.conf" "echo$s" 127.0.0.1 "to $s number $i" \
				>"$T/c$s-$i.out" 2>&1 3>&- &
			pids+=($!)
		done
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for i in 1 2 3; do
		for s in 1 2; do
			[ "$(cat "$T/c$s-$i.out")" = "to $s number $i" ] || fail "c$s-$i: $(cat "$T/c$s-$i.out")"
		done
	done
	wait_until 5 srv_count_is s1 'arrived service=echo1 client=127\.0\.0\.1' 3
	wait_until 5 srv_count_is s2 'arrived service=echo2 client=127\.0\.0\.1' 3
	! grep -q 'service=echo2' "$T/s1.log"
	! grep -q 'service=echo1' "$T/s2.log"
	kill -0 "$S1" && kill -0 "$S2"
	wait_until 5 only_listens "$S1" "$P1"
	wait_until 5 only_listens "$S2" "$P2"
}

@test "the example server: no descriptor leak over 20 clients, SIGTERM exits 0, nothing left listening" {
	P=$(free_port)
	api_service echo "$P"
	api_target echo "$P" "$(free_port)"
	start_server srv
	run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "round 1"
	assert_success
	assert_output "round 1"
	wait_srv srv "arrived service=echo"
	wait_until 5 only_listens "$SRV_PID" "$P"
	first=$(fd_count_min "$SRV_PID")
	for i in $(seq 2 20); do
		run timeout 15 "$CLI" "$T/c.conf" echo 127.0.0.1 "round $i"
		assert_success
		assert_output "round $i"
	done
	wait_until 5 srv_count_is srv 'arrived service=echo' 20
	wait_until 5 fd_count_is "$SRV_PID" "$first" || true
	after=$(fd_count_min "$SRV_PID")
	[ "$after" -eq "$first" ] || fail "fds: $first after one client, $after after 20: $(ls -l /proc/$SRV_PID/fd)"
	# a rendezvous left pending (a listener on its valid port) at the signal
	run plain_talk "$P"
	assert_output --regexp '^[0-9]+$'
	wait_until 5 listen_count_is "$SRV_PID" 2
	v=$(listen_ports "$SRV_PID" | grep -vx "$P")
	kill -TERM "$SRV_PID"
	rc=0
	wait "$SRV_PID" || rc=$?
	untrack "$SRV_PID"
	[ "$rc" -eq 0 ] || fail "exit status $rc after SIGTERM: $(cat "$T/srv.log")"
	not_listening "$P"
	not_listening "$v"
}
