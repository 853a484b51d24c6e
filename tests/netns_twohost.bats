#!/usr/bin/env bats
# Two hosts: scrambled+sshd in one network namespace (10.77.0.1), the client
# in another (10.77.0.9), an intruder in a third (10.77.0.66), joined by a
# bridge in the server's namespace.  hour and client-octet offsets are on,
# so the mapping uses a real client octet (9) that differs from loopback's.
# Only the namespaces this test makes are ever addressed.

load helpers
load ssh_helpers

setup() {
	common_setup
	SUF=$(printf '%04x' $((RANDOM % 65536)))
	NS_S=scr-s-$SUF NS_C=scr-c-$SUF NS_I=scr-i-$SUF
	echo "$NS_S $NS_C $NS_I" >"$T/netns"
	make_net
	ssh_keys
	sshd_config_for 10.77.0.1
	ssh_client_config
	ssh_table
	scrambled_ssh_conf "$T/server.conf" 10.77.0.1:0 '"hour", "client-octet"' \
		'allow = { "10.77.0.0/24" }'
	start_scrambled_in "$NS_S" "$T/server.conf"
	ssh_client_conf "$T/client.conf" 10.77.0.1 22 "$RDV_PORT" '"hour", "client-octet"'
	CLIENT_ADDR=10.77.0.9 OFFSETS_CSV=hour,client-octet
}

teardown() {
	common_teardown
	local rc=$? ns
	for ns in $(cat "$T/netns" 2>/dev/null || echo "$NS_S $NS_C $NS_I"); do
		ip netns del "$ns" 2>/dev/null
	done
	return $rc
}

make_net() {
	ip netns add "$NS_S"
	ip netns add "$NS_C"
	ip netns add "$NS_I"
	ip -n "$NS_S" link add br0 type bridge
	ip link add "c$SUF" netns "$NS_C" type veth peer name "sc$SUF" netns "$NS_S"
	ip link add "i$SUF" netns "$NS_I" type veth peer name "si$SUF" netns "$NS_S"
	ip -n "$NS_S" link set "sc$SUF" master br0
	ip -n "$NS_S" link set "si$SUF" master br0
	ip -n "$NS_S" addr add 10.77.0.1/24 dev br0
	ip -n "$NS_C" addr add 10.77.0.9/24 dev "c$SUF"
	ip -n "$NS_I" addr add 10.77.0.66/24 dev "i$SUF"
	local ns dev
	for ns in "$NS_S" "$NS_C" "$NS_I"; do ip -n "$ns" link set lo up; done
	for dev in br0 "sc$SUF" "si$SUF"; do ip -n "$NS_S" link set "$dev" up; done
	ip -n "$NS_C" link set "c$SUF" up
	ip -n "$NS_I" link set "i$SUF" up
}

# start_scrambled_in NS CONF: like start_scrambled, inside NS
start_scrambled_in() {
	ip netns exec "$1" "$B/scrambled" -f -c "$2" -S "$T/status.sock" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_until 10 grep -q 'listening ' "$T/scrambled.log" || { cat "$T/scrambled.log" >&2; return 1; }
	RDV_PORT=$(sed -n 's/.*listening .*addr=10\.77\.0\.1:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
	[ -n "$RDV_PORT" ]
}

in_client() { ip netns exec "$NS_C" env SCRAMBLE_CONF="$T/client.conf" "$@"; }

# server_listeners: every listening TCP port in the server's namespace
server_listeners() { ip netns exec "$NS_S" ss -Htln | awk '{n=$4; sub(/.*:/, "", n); print n}' | sort -un; }

# only_rdv_listens: ss -ltn on the server host shows only the rendezvous port
only_rdv_listens() { [ "$(server_listeners | tr '\n' ' ')" = "$RDV_PORT " ]; }

@test "the client host reaches sshd on the server host; the mapping uses its real octet (9)" {
	only_rdv_listens
	run in_client "$B/scramble" ssh -F "$T/ssh_config" 10.77.0.1 'echo "$SSH_CONNECTION"'
	assert_success
	[[ $output =~ ^10\.77\.0\.9\ [0-9]+\ 10\.77\.0\.1\ ([0-9]+)$ ]] || fail "output: $output"
	local valid=${BASH_REMATCH[1]} decoy
	decoy=$(last_rdv decoy)
	log_has "rendezvous service=ssh client=10\.77\.0\.9 decoy=$decoy "
	is_valid_for "$valid" "$decoy" 10.77.0.9 hour,client-octet
	# the octet matters: with loopback's octet the port would be another
	! is_valid_for "$valid" "$decoy" 127.0.0.1 hour,client-octet
	wait_log "login ok service=ssh client=10\.77\.0\.9 pid=$(last_rdv pid)"
	# the session is over: on the server host only the rendezvous port listens
	wait_until 15 only_rdv_listens || fail "listening: $(server_listeners)"
	wait_until 10 pid_gone "$(last_rdv pid)"
}

@test "scp between the hosts, both ways" {
	head -c 500000 /dev/urandom >"$T/f.bin"
	run in_client "$B/scramble" scp -F "$T/ssh_config" -q "$T/f.bin" "10.77.0.1:$T/f-remote.bin"
	assert_success
	wait_until 15 only_rdv_listens
	run in_client "$B/scramble" scp -F "$T/ssh_config" -q "10.77.0.1:$T/f-remote.bin" "$T/f-back.bin"
	assert_success
	cmp "$T/f.bin" "$T/f-remote.bin"
	cmp "$T/f.bin" "$T/f-back.bin"
	wait_until 15 only_rdv_listens
}

@test "an intruder connecting to the valid port of a pending session gets the server killed" {
	# the client does the rendezvous by hand and does not go on yet
	local decoy valid pid
	decoy=$(ip netns exec "$NS_C" /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=10)
d = b""
while True:
    b = s.recv(16)
    if not b: break
    d += b
print(d.decode().strip())' "$RDV_PORT")
	[[ $decoy =~ ^[0-9]+$ ]]
	pid=$(last_rdv pid)
	log_has "rendezvous service=ssh client=10\.77\.0\.9 decoy=$decoy pid=$pid"
	# the server is up for the client, on the valid port
	local v
	for v in $(valid_candidates "$decoy" 10.77.0.9 hour,client-octet); do
		server_listeners | grep -qx "$v" && valid=$v
	done
	[ -n "$valid" ] || fail "no server on the valid port: $(server_listeners)"
	# the intruder (who somehow learnt the valid port) connects first
	ip netns exec "$NS_I" /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=10)
s.settimeout(10)
try:
    while s.recv(4096): pass
except OSError:
    pass' "$valid" 3>&- &
	track $!
	wait_log "intruder service=ssh client=10\.77\.0\.9 intruder=10\.77\.0\.66 pid=$pid" 10 ||
		fail "no intruder line: $(cat "$T/scrambled.log")"
	wait_until 10 pid_gone "$pid"
	wait_until 5 only_rdv_listens || fail "still listening: $(server_listeners)"
	# and the rightful client now finds the door shut
	run ip netns exec "$NS_C" /usr/bin/python3 -c '
import socket, sys
socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=5)' "$valid"
	assert_failure
	assert_output --partial "Connection refused"
}

@test "an address outside allow gets no decoy and no server" {
	sed -i 's|allow = { "10.77.0.0/24" }|allow = { "10.77.0.9/32" }|' "$T/server.conf"
	kill -HUP "$SD_PID"
	wait_log 'reload ok' 10
	run ip netns exec "$NS_I" /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("10.77.0.1", int(sys.argv[1])), timeout=5)
print("got [%s]" % s.recv(16).decode())' "$RDV_PORT"
	assert_success
	assert_output "got []"
	wait_log "refused service=ssh client=10\.77\.0\.66 reason=not-allowed" 5
	only_rdv_listens
	! log_has "rendezvous service=ssh client=10\.77\.0\.66"
}
