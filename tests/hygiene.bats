#!/usr/bin/env bats
# Child hygiene (issue 8): whatever the daemon inherited (ignored and
# blocked signals, NOTIFY_SOCKET, LD_PRELOAD, open descriptors, root's
# groups), a launched server starts clean; the daemon itself is not
# dumpable (it holds the secret tables).  tests/daemon_launch.bats covers
# the plain case (env entries, /dev/null stdin, fds of an exec server).
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

# probe_script NAME: a server script that records its state, then serves
probe_script() {
	mkdir -p -m 1777 "$T/st"
	cat >"$T/$1.sh" <<SH
#!/bin/sh
# each command appends on its own: the shell's own fds stay untouched
ls -l /proc/\$\$/fd | awk 'NR > 1 {print "FD", \$9, \$11}' >>"$T/st/$1.tmp"
grep -E '^(SigBlk|SigIgn|Uid|Gid|Groups|NoNewPrivs):' /proc/\$\$/status >>"$T/st/$1.tmp"
env | sed 's/^/ENV /' >>"$T/st/$1.tmp"
mv "$T/st/$1.tmp" "$T/st/$1.state"
$2
SH
	chmod 755 "$T/$1.sh"
}

uid_is() { [ "$(awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = "$2" ]; }
state_has() { grep -Eq -- "$2" "$T/st/$1.state"; }

# a daemon started from a messy parent: signals ignored (also glibc's own
# real-time signals 32 and 33) and blocked, extra
# descriptors, NOTIFY_SOCKET and LD_PRELOAD in the environment
messy_start() {
	[ -e "$T/t.table" ] || sd_table
	exec 7>"$T/leak7" 8<"$T/leak7"
	/usr/bin/python3 "$TOP/tests/helpers/ignore_rt.py" \
	env --ignore-signal=PIPE,HUP,USR1,QUIT --block-signal=USR2,ALRM,WINCH \
		NOTIFY_SOCKET="$T/no-such-notify" LD_PRELOAD=/nonexistent-preload.so SCRAMBLE_CONF=/x \
		"$B/scrambled" -f -c "$T/c.conf" -S "$T/sd.sock" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	exec 7>&- 8<&-
	wait_log 'listening ' || { cat "$T/scrambled.log" >&2; return 1; }
	RDV_PORT=$(sed -n 's/.*listening .*addr=.*:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
}

@test "exec mode: the server has fds 0-2 only, default signals, an empty mask, no NOTIFY_SOCKET" {
	env --ignore-signal=PIPE true 2>/dev/null || skip "env has no --ignore-signal"
	probe_script probe "exec $B/echo-server -b $T/banner 127.0.0.1 \"\$1\""
	SD_CMD="$T/probe.sh %p"
	sd_conf
	messy_start
	# the daemon did inherit the mess
	grep -q '^SigIgn:.*[1-9a-f]' "/proc/$SD_PID/status"
	[ -n "$(sd_rdv)" ]
	wait_until 10 test -s "$T/st/probe.state"
	wait_until 5 servers_running
	cat "$T/st/probe.state" >&3
	# fds: 0 /dev/null, 1 and 2 the log pipe, nothing else (sh's own
	# script descriptor excepted: it is >= 10)
	state_has probe '^FD 0 /dev/null$'
	state_has probe '^FD 1 pipe:'
	state_has probe '^FD 2 pipe:'
	! grep -E '^FD ([3-9]) ' "$T/st/probe.state"
	! grep -q leak7 "$T/st/probe.state"
	state_has probe '^SigBlk:\s+0+$'
	state_has probe '^SigIgn:\s+0+$'
	! state_has probe '^ENV (NOTIFY_SOCKET|LD_PRELOAD|SCRAMBLE_CONF)='
	# the server itself (after exec) too; echo-server ignores SIGPIPE on
	# its own, nothing else
	local pid
	pid=$(pgrep -f -- "$T/banner")
	grep -Eq '^SigBlk:\s+0+$' "/proc/$pid/status"
	grep -Eq '^SigIgn:\s+0+1000$' "/proc/$pid/status"
	! tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^NOTIFY_SOCKET='
	! ls -l "/proc/$pid/fd" | grep -q leak7
}

@test "inetd mode: the command has the connection on 0 and 1, the log pipe on 2, nothing else" {
	env --ignore-signal=PIPE true 2>/dev/null || skip "env has no --ignore-signal"
	probe_script inetd "echo hello; exec cat"
	SD_CMD="$T/inetd.sh"
	SD_MARK=$T/inetd.sh
	SD_EXTRA='connect_timeout = 10'
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	messy_start
	d=$(sd_rdv)
	[ -n "$d" ]
	sd_hold c "$(sd_valid "$d")"
	wait_until 10 test -s "$T/st/inetd.state"
	cat "$T/st/inetd.state" >&3
	state_has inetd '^FD 0 socket:'
	state_has inetd '^FD 1 socket:'
	[ "$(awk '$1 == "FD" && $2 == "0" {print $3}' "$T/st/inetd.state")" = "$(awk '$1 == "FD" && $2 == "1" {print $3}' "$T/st/inetd.state")" ]
	state_has inetd '^FD 2 pipe:'
	! grep -E '^FD ([3-9]) ' "$T/st/inetd.state"
	state_has inetd '^SigBlk:\s+0+$'
	state_has inetd '^SigIgn:\s+0+$'
	! state_has inetd '^ENV (NOTIFY_SOCKET|LD_PRELOAD)='
	sd_release c
}

@test "user and group: the configured ids, no supplementary group of root, no way back to root" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	getent group daemon >/dev/null || skip "no group daemon"
	probe_script ids "exec $B/echo-server -b $T/banner 127.0.0.1 \"\$1\""
	SD_CMD="$T/ids.sh %p"
	SD_EXTRA='user = "nobody" group = "daemon"'
	sd_conf
	sd_start
	[ -n "$(sd_rdv)" ]
	wait_until 10 test -s "$T/st/ids.state"
	cat "$T/st/ids.state" >&3
	local u g
	u=$(id -u nobody) g=$(getent group daemon | cut -d: -f3)
	state_has ids "^Uid:\s+$u\s+$u\s+$u\s+$u$"
	state_has ids "^Gid:\s+$g\s+$g\s+$g\s+$g$"
	# the supplementary groups are nobody's own, never root's
	local groups
	groups=$(sed -n 's/^Groups:\s*//p' "$T/st/ids.state")
	for grp in $groups; do
		[ "$grp" != 0 ] || fail "root's group 0 kept: $groups"
		id -G nobody | tr ' ' '\n' | grep -qx "$grp" || [ "$grp" = "$g" ] || fail "group $grp is not nobody's"
	done
	# and none of root's own supplementary groups (other than shared ones)
	for grp in $(id -G); do
		id -G nobody | tr ' ' '\n' | grep -qx "$grp" && continue
		[ "$grp" = "$g" ] && continue
		! echo " $groups " | grep -q " $grp " || fail "root's group $grp leaked: $groups"
	done
}

@test "the daemon is not dumpable: its /proc files stay root's even when it runs as another user" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	command -v setpriv >/dev/null || skip "no setpriv"
	sd_table
	sd_conf
	chmod 0644 "$T/t.table" "$T/c.conf"
	mkdir -m 0755 "$T/nb" && chown nobody "$T/nb"
	local u
	u=$(id -u nobody)
	setpriv --reuid="$u" --regid="$(id -g nobody)" --clear-groups \
		"$B/scrambled" -f -c "$T/c.conf" -S "$T/nb/sd.sock" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_log 'listening '
	# a non-dumpable process's /proc files belong to root, not to its uid
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$SD_PID/status")" = "$u" ]
	[ "$(stat -c %u "/proc/$SD_PID/environ")" = 0 ] || fail "environ owned by $(stat -c %U "/proc/$SD_PID/environ")"
	[ "$(stat -c %u "/proc/$SD_PID/mem")" = 0 ]
	# so the same user cannot read its memory or environment
	run setpriv --reuid="$u" --regid="$(id -g nobody)" --clear-groups cat "/proc/$SD_PID/environ"
	assert_failure
	# control: an ordinary process of that user is readable by it
	setpriv --reuid="$u" --regid="$(id -g nobody)" --clear-groups sleep 30 3>&- &
	local sp=$!
	track "$sp"
	wait_until 5 uid_is "$sp" "$u"
	[ "$(stat -c %u "/proc/$sp/environ")" = "$u" ]
	run setpriv --reuid="$u" --regid="$(id -g nobody)" --clear-groups cat "/proc/$sp/environ"
	assert_success
}
