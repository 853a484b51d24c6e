#!/usr/bin/env bats
# scrambled, exec mode: the decoy, the valid port, and what is closed when.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

@test "nothing listens on the valid ports and no server runs before a rendezvous" {
	sd_start
	run range_listeners
	assert_output ""
	! servers_running
}

@test "the decoy is in the range and its valid port (scramblectl map) echoes" {
	sd_start
	decoy=$(sd_rdv)
	[[ "$decoy" =~ ^[0-9]+$ ]]
	[ "$decoy" -ge 31000 ] && [ "$decoy" -le 31099 ]
	valid=$(sd_valid "$decoy")
	[ -n "$valid" ]
	# the server listens on exactly that port, nothing else in the range
	run range_listeners
	assert_output "$valid"
	run $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
f=c.makefile("rb")
print(f.readline().decode().strip())
c.sendall(b"ping\n"); print(f.readline().decode().strip())' "$valid"
	assert_success
	assert_line --index 0 "$T/banner"
	assert_line --index 1 "ping"
	wait_log "rendezvous service=echo client=127\.0\.0\.1 decoy=$decoy pid=[0-9]+"
	wait_log "arrived service=echo client=127\.0\.0\.1 pid=[0-9]+"
}

@test "the default log level never pairs a decoy with its valid port" {
	sd_start
	decoy=$(sd_rdv)
	valid=$(sd_valid "$decoy")
	sd_hold c1 "$valid"
	wait_log "arrived service=echo"
	sd_release c1
	wait_log "session end service=echo"
	run grep -E "valid=" "$T/scrambled.log"
	assert_failure
	if [ "$valid" != "$decoy" ]; then   # a decoy may map to itself
		run grep -E "(^|[^0-9])$valid([^0-9]|$)" "$T/scrambled.log"
		assert_failure
	fi
	run grep -E "decoy=$decoy" "$T/scrambled.log"
	assert_success
}

@test "-d logs the pair on a debug line" {
	sd_start -d
	decoy=$(sd_rdv)
	valid=$(sd_valid "$decoy")
	wait_log "debug service=echo client=127\.0\.0\.1 decoy=$decoy valid=$valid"
}

@test "the decoy is chosen at random among the free ports" {
	SD_EXTRA='connect_timeout = 30 max_pending = 64 per_source = 64'
	sd_conf
	sd_start
	declare -A seen
	for i in $(seq 1 12); do
		d=$(sd_rdv)
		[ -n "$d" ]
		seen[$d]=1
	done
	# 12 pending sessions: 12 distinct valid ports, so 12 distinct decoys
	[ "${#seen[@]}" -eq 12 ]
	run range_listeners
	[ "$(echo "$output" | wc -l)" -eq 12 ]
}

@test "scramblectl status lists the pending and active sessions" {
	SD_EXTRA='connect_timeout = 30'
	sd_conf
	sd_start
	d1=$(sd_rdv)
	d2=$(sd_rdv)
	sd_hold c1 "$(sd_valid "$d2")"
	wait_log "arrived service=echo"
	run "$B/scramblectl" status -S "$T/sd.sock"
	assert_success
	assert_line --index 0 --regexp '^SERVICE +CLIENT +DECOY +VALID +PID +AGE +STATE$'
	assert_line --regexp "^echo +127\.0\.0\.1 +$d1 +$(sd_valid "$d1") +[0-9]+ +[0-9]+s +waiting$"
	assert_line --regexp "^echo +127\.0\.0\.1 +$d2 +$(sd_valid "$d2") +[0-9]+ +[0-9]+s +active$"
	[ "$(stat -c %a "$T/sd.sock")" = 600 ]
}

@test "IPv6: listen on [::1], the server on ::1 is reached at the valid port" {
	SD_LISTEN='"[::1]:0"' SD_CMD="$B/echo-server -b $T/banner ::1 %p"
	sd_conf
	sd_start
	d=$(rendezvous ::1 "$RDV_PORT" | tr -d '\n')
	[ -n "$d" ]
	v=$(sd_valid "$d")
	run $PY -c 'import socket,sys
c=socket.create_connection(("::1",int(sys.argv[1])),5)
print(c.makefile("rb").readline().decode().strip())' "$v"
	assert_output "$T/banner"
	wait_log "arrived service=echo client=::1 "
}
