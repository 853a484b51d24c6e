#!/usr/bin/env bats
# scrambled: SIGHUP reload, SIGTERM shutdown, SIGKILL of the daemon,
# sd_notify.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

@test "SIGHUP with a good new config: applied; pending sessions continue; the listener stays" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d=$(sd_rdv 127.0.0.1)
	v=$(sd_valid "$d")
	SD_EXTRA='connect_timeout = 30 allow = { "127.0.0.2/32" }'
	sd_conf "$T/new.conf"
	mv "$T/new.conf" "$T/c.conf"
	kill -HUP "$SD_PID"
	wait_log "reload ok"
	# the new allow list is in force, on the same rendezvous port
	run sd_rdv 127.0.0.1
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=not-allowed"
	run sd_rdv 127.0.0.2
	assert_output --regexp '^[0-9]+$'
	# the session from before the reload is still served
	sd_hold c "$v" 127.0.0.1
	grep -q "$T/banner" "$T/c.out"
	wait_log "arrived service=echo client=127\.0\.0\.1"
}

@test "SIGHUP with a bad new config: logged with file:line, the old one kept" {
	sd_start
	printf 'service "echo" {\n  listen = { "127.0.0.1:0" }\n  bogus_key = 1\n}\n' >"$T/c.conf"
	kill -HUP "$SD_PID"
	wait_log "reload failed"
	log_has "$T/c.conf:[0-9]+: "
	kill -0 "$SD_PID"
	run sd_rdv
	assert_output --regexp '^[0-9]+$'
}

@test "SIGTERM: listeners closed, every server ended, exit 0, nothing left behind" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d1=$(sd_rdv)
	d2=$(sd_rdv)
	sd_hold c "$(sd_valid "$d2")"
	wait_log "arrived service=echo"
	[ "$(pgrep -fc -- "$T/banner")" -eq 2 ]
	[ -S "$T/sd.sock" ]
	kill -TERM "$SD_PID"
	rc=0
	wait "$SD_PID" || rc=$?
	[ "$rc" -eq 0 ]
	no_servers
	no_range_listener
	not_listening "$RDV_PORT"
	[ ! -e "$T/sd.sock" ]
	log_has "stopping signal=15"
	log_has "stopped"
}

@test "SIGINT ends the daemon like SIGTERM" {
	sd_start
	[ -n "$(sd_rdv)" ]
	kill -INT "$SD_PID"
	rc=0
	wait "$SD_PID" || rc=$?
	[ "$rc" -eq 0 ]
	no_servers
}

@test "SIGKILL of the daemon: its servers do not stay (PR_SET_PDEATHSIG)" {
	SD_EXTRA='connect_timeout = 2'
	sd_conf
	sd_start
	d1=$(sd_rdv)
	d2=$(sd_rdv)
	v1=$(sd_valid "$d1")
	v2=$(sd_valid "$d2")
	is_listening "$v1"
	kill -KILL "$SD_PID"
	wait_gone "$SD_PID"
	wait_until 3 no_range_listener
	wait_until 3 no_servers
	not_listening "$v2"
}

@test "sd_notify: READY=1 once listening, STOPPING=1 at shutdown" {
	$PY -c 'import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
with open(sys.argv[2],"w") as f:
    for i in range(2):
        f.write(s.recv(256).decode()+"\n"); f.flush()' "$T/notify" "$T/notify.out" 3>&- &
	track $!
	wait_until 5 test -S "$T/notify"
	NOTIFY_SOCKET=$T/notify sd_start
	wait_until 5 grep -qx "READY=1" "$T/notify.out"
	kill -TERM "$SD_PID"
	wait_until 5 grep -qx "STOPPING=1" "$T/notify.out"
}

@test "sd_notify: abstract socket names (@...) work" {
	name="scramble-test-$$-$RANDOM"
	$PY -c 'import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("\0"+sys.argv[1]); s.settimeout(20)
open(sys.argv[2],"w").write(s.recv(256).decode()+"\n")' "$name" "$T/notify.out" 3>&- &
	track $!
	wait_until 5 grep -q "@$name" /proc/net/unix
	NOTIFY_SOCKET=@$name sd_start
	wait_until 5 grep -qx "READY=1" "$T/notify.out"
}
