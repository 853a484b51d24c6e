#!/usr/bin/env bats
# scrambled: admission of rendezvous connections: allow, max_pending,
# per_source, rate with back-off.  Refused connections get no decoy and
# launch nothing.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

launches() { grep -c "launch service=" "$T/scrambled.log" || true; }

@test "allow: an address outside the CIDRs is closed at once, without a decoy" {
	SD_EXTRA='allow = { "127.0.0.2/32", "10.0.0.0/8" } connect_timeout = 30'
	sd_conf
	sd_start
	run sd_rdv 127.0.0.1
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=not-allowed"
	[ "$(launches)" -eq 0 ]
	run sd_rdv 127.0.0.2
	assert_output --regexp '^[0-9]+$'
	wait_log "rendezvous service=echo client=127\.0\.0\.2"
}

@test "max_pending: over the limit the rendezvous is closed without a decoy" {
	SD_EXTRA='max_pending = 2 per_source = 10 connect_timeout = 30'
	sd_conf
	sd_start
	d1=$(sd_rdv 127.0.0.1)
	d2=$(sd_rdv 127.0.0.2)
	[ -n "$d1" ] && [ -n "$d2" ]
	run sd_rdv 127.0.0.3
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.3 reason=max-pending"
	[ "$(launches)" -eq 2 ]
	# an arrived session is no longer pending: room for one more
	sd_hold c "$(sd_valid "$d1")" 127.0.0.1
	wait_log "arrived service=echo client=127\.0\.0\.1"
	run sd_rdv 127.0.0.3
	assert_output --regexp '^[0-9]+$'
}

@test "per_source: one address cannot hold more than per_source pending sessions" {
	SD_EXTRA='max_pending = 10 per_source = 2 connect_timeout = 30'
	sd_conf
	sd_start
	[ -n "$(sd_rdv 127.0.0.1)" ]
	[ -n "$(sd_rdv 127.0.0.1)" ]
	run sd_rdv 127.0.0.1
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=per-source"
	# another source is not affected
	run sd_rdv 127.0.0.2
	assert_output --regexp '^[0-9]+$'
}

@test "rate: past COUNT per window the source is denied for deny_time, others are not" {
	SD_EXTRA='rate = "3/60s" deny_time = 2 connect_timeout = 1 max_pending = 50 per_source = 50'
	sd_conf
	sed -i '/rate = "none"/d' "$T/c.conf"
	sd_start
	for i in 1 2 3; do [ -n "$(sd_rdv 127.0.0.1)" ]; done
	run sd_rdv 127.0.0.1
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=rate-limited"
	[ "$(launches)" -eq 3 ]
	# still denied while backing off, even though the attempts go on
	run sd_rdv 127.0.0.1
	assert_output ""
	run sd_rdv 127.0.0.2
	assert_output --regexp '^[0-9]+$'
	# after deny_time the source gets a fresh window
	wait_until 5 sh -c "[ -n \"\$(/usr/bin/python3 -c 'import socket,sys
s=socket.create_connection((\"127.0.0.1\",int(sys.argv[1])),5,(\"127.0.0.1\",0))
print(s.recv(16).decode().strip())' $RDV_PORT)\" ]"
}
