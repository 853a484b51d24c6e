#!/usr/bin/env bats
# scrambled: the hour guard (SPEC section 4): no decoy in the last `guard`
# seconds of an hour; the rendezvous is held and answered once the hour has
# turned, with the new hour's mapping.  The daemon's wall clock is moved
# with libfaketime (its monotonic clock is left alone).
load helpers
load daemon_helpers

FAKELIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

setup() {
	common_setup
	[ -e "$FAKELIB" ] || skip "libfaketime not installed"
}
teardown() { sd_teardown; }

@test "a rendezvous in the guard window is held until the hour turns, then mapped with the new hour" {
	SD_EXTRA='guard = 5 connect_timeout = 30'
	sd_conf
	sd_table
	# the daemon's clock starts at 06:59:56 UTC today and runs on from there
	LD_PRELOAD=$FAKELIB FAKETIME="@$(date -u +%F) 06:59:56" TZ=UTC \
		FAKETIME_DONT_FAKE_MONOTONIC=1 DONT_FAKE_MONOTONIC=1 sd_start
	start=$(date +%s%N)
	d=$(sd_rdv)
	elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ -n "$d" ]
	log_has "hold service=echo client=127\.0\.0\.1 wait=[1-5]s"
	[ "$elapsed_ms" -ge 1000 ]
	v7=$("$B/scramblectl" map -t "$T/t.table" -r "$SD_RANGE" --offsets hour --hour 7 "$d" | sed -n 's/^valid=//p')
	is_listening "$v7"
	sd_hold c "$v7"
	wait_log "arrived service=echo"
}

@test "a client through the shim in the guard window maps with the hour the decoy came in" {
	# both clocks start at 06:59:57: the daemon holds the rendezvous until
	# 07:00:00, so the client must read the hour after the decoy arrives
	SD_EXTRA='guard = 5 connect_timeout = 30'
	sd_conf
	sd_table
	day=$(date -u +%F)
	LD_PRELOAD=$FAKELIB FAKETIME="@$day 06:59:57" TZ=UTC \
		FAKETIME_DONT_FAKE_MONOTONIC=1 DONT_FAKE_MONOTONIC=1 sd_start
	rdv=$RDV_PORT
	(umask 022 && cat >"$T/client.conf" <<CONF
table "t" { file = "$T/t.table" ports = "$SD_RANGE" }
target "echo" { host = { "127.0.0.1" } port = 7 rendezvous = $rdv table = "t" offsets = { "hour" } timeout = 10 }
CONF
	)
	LD_PRELOAD="$FAKELIB $B/libscramble.so" FAKETIME="@$day 06:59:57" TZ=UTC \
		FAKETIME_DONT_FAKE_MONOTONIC=1 DONT_FAKE_MONOTONIC=1 SCRAMBLE_CONF="$T/client.conf" \
		run \
		/usr/bin/python3 -c 'import socket
s = socket.create_connection(("127.0.0.1", 7), 10)
print(s.makefile().readline().strip())'
	assert_success
	assert_output "$T/banner"
	log_has "hold service=echo client=127\.0\.0\.1"
	wait_log "arrived service=echo"
}
