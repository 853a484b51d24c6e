#!/usr/bin/env bats
# scrambled, exec mode: the watch over the valid port ([0024]): timeout,
# intruder, arrival from the rendezvous address, end of session.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

@test "no arrival within connect_timeout: the server is killed and its port closed" {
	# long enough for the checks below under a sanitizer build
	SD_EXTRA='connect_timeout = 3'
	sd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	is_listening "$v"
	servers_running
	wait_log "timeout service=echo client=127\.0\.0\.1 pid=[0-9]+" 8
	wait_until 5 not_listening "$v"
	wait_until 5 no_servers
	wait_log "server exit service=echo pid=[0-9]+ status=(exit 0|signal 15)"
	run "$B/scramblectl" status -S "$T/sd.sock"
	[ "${#lines[@]}" -eq 1 ]
}

@test "an intruder from 127.0.0.2 while the rendezvous came from 127.0.0.1 is killed" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d=$(sd_rdv 127.0.0.1)
	v=$(sd_valid "$d")
	sd_hold intruder "$v" 127.0.0.2
	grep -q connected "$T/intruder.out"
	wait_log "intruder service=echo client=127\.0\.0\.1 intruder=127\.0\.0\.2 pid=[0-9]+" 5
	wait_until 5 not_listening "$v"
	wait_until 5 no_servers
	# the real client now finds nothing there
	run $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),3)' "$v"
	assert_failure
	! log_has "arrived service=echo"
}

@test "the client is recognised by the address it used for the rendezvous" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d=$(sd_rdv 127.0.0.2)
	v=$(sd_valid "$d")
	sd_hold c "$v" 127.0.0.2
	wait_log "arrived service=echo client=127\.0\.0\.2 pid=[0-9]+" 5
	! log_has "intruder"
	is_listening "$v"
	sd_release c
	wait_log "session end service=echo client=127\.0\.0\.2"
}

@test "session end: once the client leaves, the server and its listener go" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	sd_hold c "$v"
	wait_log "arrived service=echo"
	# while the client is there, the session stays
	run "$B/scramblectl" status -S "$T/sd.sock"
	assert_line --regexp " active$"
	is_listening "$v"
	sd_release c
	wait_log "session end service=echo client=127\.0\.0\.1 pid=[0-9]+" 5
	wait_until 5 not_listening "$v"
	wait_until 5 no_servers
	wait_log "server exit service=echo pid=[0-9]+ status="
	wait_until 3 no_zombies
}

@test "a server that ignores SIGTERM is killed with SIGKILL after kill_grace" {
	SD_CMD="/usr/bin/python3 -c 'import signal,socket,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); s=socket.socket(); s.bind((\\\"127.0.0.1\\\", int(sys.argv[1]))); s.listen(1); time.sleep(120)' %p $T/banner"
	SD_EXTRA='connect_timeout = 1 kill_grace = 1'
	sd_conf
	sd_start
	d=$(sd_rdv)
	[ -n "$d" ]
	wait_log "timeout service=echo" 5
	wait_log "server exit service=echo pid=[0-9]+ status=signal 9" 5
	wait_until 5 no_servers
}

@test "a server that forks: its whole process group ends with the session" {
	SD_CMD="/bin/sh -c '/usr/bin/python3 -c \\\"import time; time.sleep(120)\\\" $T/banner-child & exec \$0 -b $T/banner 127.0.0.1 \$1' $B/echo-server %p"
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	pgrep -f -- "$T/banner-child" >/dev/null
	sd_hold c "$v"
	wait_log "arrived service=echo"
	sd_release c
	wait_log "session end service=echo"
	SD_MARK=$T/banner wait_until 5 no_servers
	wait_until 5 no_process_mentions "$T/banner-child"
}

@test "watch = diag: a starting server's LISTEN is seen through sock_diag, not procfs" {
	SD_EXTRA='watch = "diag" connect_timeout = 30'
	sd_conf
	sd_start
	strace -f -p "$SD_PID" -e trace=socket,openat,write,sendto -o "$T/strace.out" 2>"$T/strace.err" &
	local st=$!
	track "$st"
	wait_until 10 grep -q attached "$T/strace.err"
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	sd_hold c "$v"
	grep -q "$T/banner" "$T/c.out"
	wait_log "arrived service=echo"
	kill "$st"
	wait_gone "$st"
	# the listeners were asked of the kernel by netlink ...
	grep -q 'socket(AF_NETLINK, .*NETLINK_SOCK_DIAG' "$T/strace.out"
	# ... and procfs was not read from the first listener query until the
	# decoy went out
	awk -v d="\"$d\\\\n\"" '
		/NETLINK_SOCK_DIAG/ { on = 1 }
		on && /openat\(.*"\/proc\/net\/tcp/ { bad = 1 }
		on && (/write\(/ || /sendto\(/) && index($0, d) { sent = 1; exit }
		END { exit !(sent && !bad) }' "$T/strace.out"
	sd_release c
	wait_log "session end service=echo"
}
