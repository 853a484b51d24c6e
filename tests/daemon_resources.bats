#!/usr/bin/env bats
# scrambled: no descriptor leak and no zombie over many sessions.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

sessions_gone() { [ "$("$B/scramblectl" status -S "$T/sd.sock" | wc -l)" -eq 1 ]; }

@test "the daemon's fd count after 200 full rendezvous equals its count before" {
	SD_RANGE=31300-31699
	SD_EXTRA='connect_timeout = 3 max_pending = 64 per_source = 64'
	sd_table
	sd_conf
	sd_start
	# warm up once (lazy opens such as the resolver or /dev/null reserve)
	$PY "$SDC" cycles 127.0.0.1 "$RDV_PORT" "$T/t.table" "$SD_RANGE" 1 "$T/warm.out"
	wait_until 10 sessions_gone
	before=$(fd_count_min "$SD_PID")
	$PY "$SDC" cycles 127.0.0.1 "$RDV_PORT" "$T/t.table" "$SD_RANGE" 200 "$T/cycles.out" || {
		cat "$T/cycles.out" >&2
		false
	}
	grep -qx "ok 200" "$T/cycles.out"
	wait_until 20 sessions_gone
	wait_until 10 fd_count_is "$SD_PID" "$before" ||
		fail "fds before=$before after=$(fd_count "$SD_PID")"
	# every server ended; a client that comes and goes between two ticks
	# and leaves no TIME_WAIT behind is only seen as a timeout (rare)
	[ "$(grep -c 'server exit service=echo' "$T/scrambled.log")" -eq 201 ]
	arrived=$(grep -c 'arrived service=echo' "$T/scrambled.log")
	timeouts=$(grep -c 'timeout service=echo' "$T/scrambled.log" || true)
	[ $((arrived + timeouts)) -eq 201 ]
	[ "$arrived" -ge 190 ]
	no_zombies
	no_servers
}

@test "refused and failed rendezvous leak nothing either" {
	SD_CMD="$T/missing %p"
	SD_EXTRA='allow = { "127.0.0.2/32" }'
	sd_conf
	sd_start
	[ -z "$(sd_rdv 127.0.0.2)" ]
	wait_log "start-failed"
	wait_until 10 sessions_gone
	before=$(fd_count_min "$SD_PID")
	for i in $(seq 1 30); do
		[ -z "$(sd_rdv 127.0.0.1)" ]
		[ -z "$(sd_rdv 127.0.0.2)" ]
	done
	wait_until 10 sessions_gone
	wait_until 10 fd_count_is "$SD_PID" "$before" ||
		fail "fds before=$before after=$(fd_count "$SD_PID")"
	no_zombies
}
