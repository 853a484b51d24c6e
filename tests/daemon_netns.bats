#!/usr/bin/env bats
# scrambled in a network namespace of the test's own, to have more than one
# IPv6 address: inetd mode pins the valid port to the rendezvous client's
# IPv6 address; exec mode catches an IPv6 intruder.
load helpers
load daemon_helpers

setup() {
	common_setup
	command -v ip >/dev/null || skip "iproute2 not installed"
	NS=scrtest-$$-$RANDOM
	ip netns add "$NS" || skip "cannot create a network namespace"
	echo "$NS" >"$T/netns"
	in_ns ip link set lo up
	in_ns ip addr add fd00::1/128 dev lo nodad
	in_ns ip addr add fd00::2/128 dev lo nodad
	SD_LISTEN='"[fd00::1]:0"'
}
teardown() {
	sd_teardown
	local rc=$?
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	return $rc
}

in_ns() { ip netns exec "$NS" "$@"; }

ns_start() {
	sd_table
	nsenter --net="/run/netns/$NS" "$B/scrambled" -f -c "$T/c.conf" -S "$T/sd.sock" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_until 10 grep -q 'listening ' "$T/scrambled.log"
	RDV_PORT=$(sed -n 's/.*listening .*addr=.*:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
}

ns_rdv() { in_ns /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6); s.settimeout(10); s.bind((sys.argv[2],0))
s.connect(("fd00::1",int(sys.argv[1]))); print(s.recv(16).decode().strip())' "$RDV_PORT" "$1"; }

ns_try() { in_ns /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6); s.settimeout(2); s.bind((sys.argv[2],0))
try:
    s.connect(("fd00::1",int(sys.argv[1]))); print("ok")
except socket.timeout: print("timeout")
except ConnectionRefusedError: print("refused")' "$1" "$2"; }

@test "netns, IPv6 inetd: the pinned port is filtered for fd00::2, open for fd00::1" {
	printf '#!/bin/sh\necho "hello $SCRAMBLE_CLIENT"\n' >"$T/inetd.sh"
	chmod 755 "$T/inetd.sh"
	SD_CMD="$T/inetd.sh" SD_EXTRA='connect_timeout = 30'
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	ns_start
	d=$(ns_rdv fd00::1)
	[ -n "$d" ]
	v=$(sd_valid "$d")
	run ns_try "$v" fd00::2
	assert_output "timeout"
	run in_ns /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6); s.settimeout(5); s.bind(("fd00::1",0))
s.connect(("fd00::1",int(sys.argv[1]))); print(s.makefile().readline().strip())' "$v"
	assert_output "hello fd00::1"
	wait_log "session end service=echo client=fd00::1"
}

@test "netns, IPv6 exec: an intruder from fd00::2 is caught and the server killed" {
	SD_CMD="$B/echo-server -b $T/banner fd00::1 %p" SD_EXTRA='connect_timeout = 30'
	sd_conf
	ns_start
	d=$(ns_rdv fd00::1)
	v=$(sd_valid "$d")
	# the intruder stays until the server goes (a peer that sends RST at once
	# may leave no trace at all)
	run in_ns /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6); s.settimeout(10); s.bind(("fd00::2",0))
s.connect(("fd00::1",int(sys.argv[1]))); print("ok")
while s.recv(4096): pass' "$v"
	assert_output "ok"
	wait_log "intruder service=echo client=fd00::1 intruder=fd00::2 pid=[0-9]+" 5
	wait_until 5 no_servers
}
