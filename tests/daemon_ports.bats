#!/usr/bin/env bats
# scrambled: decoy choice among free valid ports only (SPEC section 4).
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

log_count_ge() { [ "$(grep -c -- "$1" "$T/scrambled.log")" -ge "$2" ]; }

# occupy PORT with a plain listener that mentions $T
occupy() {
	$PY -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$1" "$T/occupy" 3>&- &
	track $!
	wait_until 5 is_listening "$1"
}

@test "with a tiny range and occupied ports, the decoy always maps to the free port" {
	SD_RANGE=31200-31203
	SD_EXTRA='connect_timeout = 1'
	sd_table
	sd_conf
	occupy 31200
	occupy 31201
	occupy 31203
	sd_start
	for i in 1 2 3; do
		d=$(sd_rdv)
		[ -n "$d" ]
		[ "$(sd_valid "$d")" = 31202 ]
		wait_until 5 log_count_ge "timeout service=echo" "$i"
		wait_until 5 not_listening 31202
		wait_until 5 log_count_ge "server exit service=echo" "$i"
	done
}

@test "every valid port busy: refused no-free-port, no decoy, nothing launched" {
	SD_RANGE=31210-31211
	sd_table
	sd_conf
	occupy 31210
	occupy 31211
	sd_start
	run sd_rdv
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=no-free-port"
	! log_has "launch service"
}

@test "a port reserved by a pending session is not handed out twice" {
	SD_RANGE=31220-31221
	SD_EXTRA='connect_timeout = 30'
	sd_table
	sd_conf
	sd_start
	d1=$(sd_rdv)
	d2=$(sd_rdv)
	[ -n "$d1" ] && [ -n "$d2" ]
	[ "$(sd_valid "$d1")" != "$(sd_valid "$d2")" ]
	run sd_rdv
	assert_output ""
	wait_log "reason=no-free-port"
}

@test "a port in TIME_WAIT (or any state) is not chosen" {
	SD_RANGE=31230-31231
	SD_EXTRA='connect_timeout = 30'
	sd_table
	sd_conf
	# leave a TIME_WAIT on 31230: server side closes first
	$PY -c 'import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1",31230)); s.listen(1)
c=socket.create_connection(("127.0.0.1",31230)); a,_=s.accept(); a.close(); c.close(); s.close()'
	ss -Htan state time-wait | grep -q ':31230 '
	sd_start
	d=$(sd_rdv)
	[ "$(sd_valid "$d")" = 31231 ]
}
