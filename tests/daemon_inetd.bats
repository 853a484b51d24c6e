#!/usr/bin/env bats
# scrambled, inetd mode: the daemon listens on the valid port itself, pinned
# to the rendezvous client, accepts one connection, closes the listener and
# runs the command with the connection as stdin/stdout.
load helpers
load daemon_helpers

setup() {
	common_setup
	SD_MARK=$T/inetd.sh
	cat >"$T/inetd.sh" <<'SH'
#!/bin/sh
echo "hello $SCRAMBLE_CLIENT"
echo "inetd started" >&2
cat
SH
	chmod 755 "$T/inetd.sh"
	SD_CMD="$T/inetd.sh"
}
teardown() { sd_teardown; }

inetd_conf() {
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
}

@test "inetd: the command talks to the client on stdin/stdout; the listener goes at the accept" {
	SD_EXTRA='connect_timeout = 30'
	inetd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	is_listening "$v"
	! servers_running                        # nothing launched before the client
	sd_hold c "$v"
	grep -qx "hello 127.0.0.1" "$T/c.out"
	wait_log "arrived service=echo client=127\.0\.0\.1"
	wait_log "launch service=echo client=127\.0\.0\.1 pid=[0-9]+"
	wait_log "server service=echo pid=[0-9]+: inetd started"
	# the valid port is closed while the session runs
	not_listening "$v"
	servers_running
	run $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),3)' "$v"
	assert_failure
	sd_release c
	wait_log "session end service=echo client=127\.0\.0\.1" 5
	wait_until 5 no_servers
}

@test "inetd: data flows both ways through the launched command" {
	inetd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
f=c.makefile("rb")
print(f.readline().decode().strip())
c.sendall(b"ping\n"); print(f.readline().decode().strip())' "$v"
	assert_line --index 0 "hello 127.0.0.1"
	assert_line --index 1 "ping"
}

# try_connect PORT SRC: prints ok, timeout, refused or reset
try_connect() {
	$PY -c 'import socket,sys
s=socket.socket(); s.settimeout(2); s.bind((sys.argv[2],0))
try:
    s.connect(("127.0.0.1",int(sys.argv[1]))); print("ok")
except socket.timeout: print("timeout")
except ConnectionRefusedError: print("refused")
except OSError as e: print("error", e)' "$1" "$2"
}

@test "inetd: another address cannot complete a handshake on the pinned port (BPF filter)" {
	SD_EXTRA='connect_timeout = 30'
	inetd_conf
	sd_start
	d=$(sd_rdv 127.0.0.1)
	v=$(sd_valid "$d")
	is_listening "$v"
	run try_connect "$v" 127.0.0.2
	assert_output "timeout"                  # filtered, not open and not refused
	! log_has "pin filter unavailable"
	# the client itself still gets in
	sd_hold c "$v" 127.0.0.1
	grep -qx "hello 127.0.0.1" "$T/c.out"
	wait_log "arrived service=echo client=127\.0\.0\.1"
}

@test "control: without a pin filter the same connection from 127.0.0.2 completes" {
	port=$(free_port)
	$PY -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$port" "$T/inetd.sh-control" 3>&- &
	track $!
	wait_until 5 is_listening "$port"
	run try_connect "$port" 127.0.0.2
	assert_output "ok"
}

@test "inetd: no arrival within connect_timeout: listener closed, nothing launched" {
	SD_EXTRA='connect_timeout = 1'
	inetd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	is_listening "$v"
	wait_log "timeout service=echo client=127\.0\.0\.1" 5
	wait_until 5 not_listening "$v"
	! log_has "launch service="
	! servers_running
}
