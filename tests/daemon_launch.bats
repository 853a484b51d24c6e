#!/usr/bin/env bats
# scrambled: launching the server, and what happens when it cannot start.
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

@test "a command that does not exist: no decoy, one log line with the exec error" {
	SD_CMD="$T/no-such-server %p"
	sd_conf
	sd_start
	run sd_rdv
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=start-failed error=\"exec failed: No such file or directory\""
	wait_log "server exit service=echo pid=[0-9]+ status=exit 127"
	! log_has "rendezvous service="
}

@test "a server that exits at once: no decoy, the exit status is logged" {
	SD_CMD="/bin/sh -c 'exit 3' $T/banner"
	sd_conf
	sd_start
	run sd_rdv
	assert_output ""
	wait_log "refused service=echo client=127\.0\.0\.1 reason=start-failed error=\"server ended before listening: exit 3\""
	! log_has "rendezvous service="
}

@test "a server that never listens: killed after start_timeout, no decoy" {
	SD_CMD="/usr/bin/python3 -c 'import time; time.sleep(120)' $T/banner"
	SD_EXTRA='start_timeout = 1'
	sd_conf
	sd_start
	start=$SECONDS
	run sd_rdv
	assert_output ""
	[ $((SECONDS - start)) -ge 1 ]
	wait_log "refused service=echo client=127\.0\.0\.1 reason=start-failed error=\"not listening after 1s\""
	wait_until 5 no_servers
}

@test "the server's stdout and stderr go to the daemon's log, line by line" {
	SD_CMD="/bin/sh -c 'echo out-line; echo err-line >&2; exec \$0 -b $T/banner 127.0.0.1 \$1' $B/echo-server %p"
	sd_conf
	sd_start
	d=$(sd_rdv)
	[ -n "$d" ]
	wait_log "server service=echo pid=[0-9]+: out-line"
	wait_log "server service=echo pid=[0-9]+: err-line"
}

@test "the server gets a clean environment, env entries, /dev/null stdin and no extra fds" {
	cat >"$T/srv.sh" <<SH
#!/bin/sh
env | sort | sed 's/^/ENV:/'
ls /proc/\$\$/fd | sed 's/^/FD:/;s/\$/=/'
echo "FD:0=\$(readlink /proc/\$\$/fd/0)"
grep -E '^(SigBlk|SigIgn)' /proc/self/status
exec $B/echo-server -b $T/banner 127.0.0.1 "\$1"
SH
	chmod 755 "$T/srv.sh"
	SD_CMD="$T/srv.sh %p"
	SD_EXTRA='env = { "FOO=bar baz", "PATH=/usr/bin:/bin" }'
	sd_conf
	SECRET_OF_TEST=leak sd_start
	d=$(sd_rdv)
	[ -n "$d" ]
	wait_log "ENV:SCRAMBLE_PORT="
	log_has "ENV:FOO=bar baz"
	log_has "ENV:PATH=/usr/bin:/bin$"
	log_has "ENV:SCRAMBLE_CLIENT=127\.0\.0\.1$"
	log_has "ENV:SCRAMBLE_SERVICE=echo$"
	! log_has "SECRET_OF_TEST"
	! log_has "ENV:T="
	log_has "FD:0=/dev/null$"
	# 0, 1, 2 and the script itself (sh keeps it open, >= 10): nothing inherited
	run sh -c "grep -o 'FD:[0-9]*=' '$T/scrambled.log' | sort -u | grep -vE '^FD:(0|1|2|1[0-9])=$'"
	assert_output ""
	log_has "FD:2="
	log_has "SigBlk:.0+$"
	log_has "SigIgn:.0+$"
}

@test "user and group: the server runs as the configured user" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	SD_CMD="/bin/sh -c 'echo IDS \$(id -u):\$(id -g):\$(id -G); exec \$0 -b $T/banner 127.0.0.1 \$1' $B/echo-server %p"
	SD_EXTRA='user = "nobody"'
	sd_conf
	sd_start
	d=$(sd_rdv)
	[ -n "$d" ]
	wait_log "IDS "
	u=$(id -u nobody) g=$(id -g nobody)
	log_has "IDS $u:$g:"
	! log_has "IDS 0:"
	pid=$(pgrep -f -- "$T/banner")
	[ "$(ps -o uid= -p "$pid" | tr -d ' ')" = "$u" ]
	# own session and process group
	[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ]
}
