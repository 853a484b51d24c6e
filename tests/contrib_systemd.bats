#!/usr/bin/env bats
# contrib/systemd: the units pass "systemd-analyze verify", and the daemon
# behaves the way the units expect (Type=notify, -t before start, SIGHUP).

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

UNITS="scrambled.service scrambled@.service"

# units_for_test: copies of the units in $T/units whose commands point at
# build/scrambled and $T/scramble.conf, plus an instance of the template
units_for_test() {
	mkdir -p "$T/units"
	local u
	for u in $UNITS; do
		sed -e "s|/usr/local/sbin/scrambled|$B/scrambled|g" \
			-e "s|/etc/scramble/scramble.conf|$T/scramble.conf|g" \
			"$TOP/contrib/systemd/$u" >"$T/units/$u"
	done
	cp "$T/units/scrambled@.service" "$T/units/scrambled@echo.service"
}

# verify UNIT: systemd-analyze verify, man pages looked up in contrib/man
verify() {
	mkdir -p "$T/man/man5" "$T/man/man8"
	cp "$TOP"/contrib/man/*.5 "$T/man/man5/"
	cp "$TOP"/contrib/man/*.8 "$T/man/man8/"
	(cd "$T/units" && MANPATH="$T/man:" systemd-analyze verify --man=yes "./$1" 2>&1)
}

write_conf() {
	umask 022
	make_table "$T/t.table" 20000-20999 >/dev/null
	cat >"$T/scramble.conf" <<CONF
table "t" { file = "$T/t.table" ports = "20000-20999" }
service "echo" {
  listen = { "127.0.0.1:0" }
  table = "t"
  mode = "exec"
  command = "$B/echo-server 127.0.0.1 %p"
  connect_timeout = 5
}
CONF
	chmod 0644 "$T/scramble.conf"
}

@test "systemd-analyze verify accepts both units (and the man pages they name)" {
	[ -x "$B/scrambled" ]
	units_for_test
	local u out
	for u in scrambled.service scrambled@echo.service; do
		out=$(verify "$u") || fail "$u: $out"
		[ -z "$out" ] || fail "$u: $out"
	done
}

@test "verify complains about a broken copy (the check can fail)" {
	[ -x "$B/scrambled" ]
	units_for_test
	sed -e 's/^Type=notify/Type=notifyy/' "$T/units/scrambled.service" >"$T/units/bad.service"
	run verify bad.service
	assert_output --partial "Failed to parse service type"
	sed -e "s|$B/scrambled|$T/no-such-binary|" "$T/units/scrambled.service" >"$T/units/bad2.service"
	run verify bad2.service
	assert_failure
}

@test "the units ask for notify, restart, reload by SIGHUP, one service per template instance" {
	local f=$TOP/contrib/systemd
	for u in $UNITS; do
		grep -qx 'Type=notify' "$f/$u"
		grep -qx 'Restart=on-failure' "$f/$u"
		grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$f/$u"
		grep -qx 'KillMode=mixed' "$f/$u"
		grep -q '^ExecStart=/usr/local/sbin/scrambled -f ' "$f/$u"
		# the reasons for the hardening choices are written down
		grep -q '^#   ProtectSystem=strict/full  off: sshd needs /run/sshd' "$f/$u"
	done
	grep -Eq '^ExecStart=.* -s %i( |$)' "$f/scrambled@.service"
	! grep -q '^ExecStart=.* -s ' "$f/scrambled.service"
	# and the install path is where "make install" puts the daemon
	grep -Eq '^PREFIX +\?= /usr/local$' "$TOP/Makefile"
	grep -Eq '^SBINDIR +\?= \$\(PREFIX\)/sbin$' "$TOP/Makefile"
}

@test "ExecStartPre's check passes on a good configuration and exits 2 on a bad one" {
	write_conf
	run "$B/scrambled" -t -c "$T/scramble.conf" -s echo
	assert_success
	echo 'service "broken" { listen = { "127.0.0.1:0" } table = "nope" }' >>"$T/scramble.conf"
	run "$B/scrambled" -t -c "$T/scramble.conf"
	[ "$status" -eq 2 ]   # RestartPreventExitStatus=2 relies on this
}

@test "Type=notify: the template's ExecStart sends READY=1 once it listens, and survives SIGHUP" {
	write_conf
	units_for_test
	# the instance's command line, exactly as the unit has it (%i = echo,
	# the runtime directory moved into $T)
	local cmdline
	cmdline=$(sed -n 's/^ExecStart=//p' "$T/units/scrambled@.service" |
		sed -e "s|/run/scramble/%i/|$T/|g" -e 's/%i/echo/g')
	[[ $cmdline == "$B/scrambled -f -c $T/scramble.conf -s echo -S $T/scrambled.sock" ]] || fail "$cmdline"
	local -a argv
	read -ra argv <<<"$cmdline"
	/usr/bin/python3 - "$T/notify.sock" "$T/notify.log" <<'PY' 3>&- &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "a", buffering=1) as out:
    try:
        while True:
            msg = s.recv(4096).decode("utf-8", "replace")
            out.write(msg.replace("\n", " ") + "\n")
    except socket.timeout:
        pass
PY
	track $!
	wait_until 5 test -S "$T/notify.sock"
	NOTIFY_SOCKET=$T/notify.sock "${argv[@]}" >"$T/scrambled.log" 2>&1 3>&- &
	SD_PID=$!
	track "$SD_PID"
	wait_until 10 grep -q 'READY=1' "$T/notify.log" || fail "no READY=1: $(cat "$T/notify.log" "$T/scrambled.log")"
	# ready means listening
	log_has 'listening service=echo addr=127.0.0.1:[0-9]+'
	local port
	port=$(sed -n 's/.*listening .*addr=127.0.0.1:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
	is_listening "$port"
	# ExecReload
	kill -HUP "$SD_PID"
	# still alive and serving after the reload
	kill -0 "$SD_PID"
	test -S "$T/scrambled.sock"
	run rendezvous 127.0.0.1 "$port"
	assert_success
	[[ $output =~ ^[0-9]+$'\n'?$ ]] || [[ $output =~ ^[0-9]+$ ]]
}
