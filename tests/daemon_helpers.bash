# Helpers for the scrambled suites (tests/daemon_*.bats), on top of
# helpers.bash.  A suite does:  load helpers; load daemon_helpers
#
# sd_conf writes $T/c.conf with one exec-mode service "echo" whose server is
# build/echo-server with a banner naming $T (so teardown's leftover check
# sees it).  Variables: SD_RANGE (ports), SD_CMD (command), SD_LISTEN,
# SD_EXTRA (more service lines).

SD_RANGE=${SD_RANGE:-31000-31099}
PY=/usr/bin/python3
SDC="$TOP/tests/helpers/sd_client.py"

sd_table() { (umask 022 && "$B/scramblectl" gentable -f -r "${1:-$SD_RANGE}" "$T/t.table") >/dev/null; }

sd_conf() {
	local out=${1:-$T/c.conf}
	(umask 022 && cat >"$out" <<CONF
table "t" { file = "$T/t.table" ports = "$SD_RANGE" }
service "echo" {
  listen = { ${SD_LISTEN:-"127.0.0.1:0"} }
  table = "t"
  offsets = { "hour" }
  mode = "exec"
  command = "${SD_CMD:-$B/echo-server -b $T/banner 127.0.0.1 %p}"
  poll_ms = 20
  rate = "none"
  ${SD_EXTRA:-}
}
CONF
	)
}

# sd_start [ARGS]: table, config (unless present), daemon with its status
# socket in $T
sd_start() {
	[ -e "$T/t.table" ] || sd_table
	[ -e "$T/c.conf" ] || sd_conf
	start_scrambled "$T/c.conf" -S "$T/sd.sock" "$@"
}

# sd_rdv [SRC]: rendezvous with the daemon, print the decoy (or nothing)
sd_rdv() { rendezvous 127.0.0.1 "$RDV_PORT" "$@" | tr -d '\n'; }

# sd_valid DECOY: the valid port, computed independently by scramblectl
sd_valid() {
	"$B/scramblectl" map -t "$T/t.table" -r "$SD_RANGE" --offsets hour "$1" | sed -n 's/^valid=//p'
}

# sd_hold NAME PORT [SRC]: a client connected to PORT until sd_release NAME;
# $T/NAME.out gets "connected" and the banner.  Waits for the connect.
sd_hold() {
	local name=$1 port=$2; shift 2
	rm -f "$T/$name.release" "$T/$name.out"
	$PY "$SDC" hold 127.0.0.1 "$port" "$T/$name.out" "$T/$name.release" "$@" 3>&- &
	track $!
	wait_until 10 test -s "$T/$name.out"
}
sd_release() { touch "$T/$1.release"; }

# listeners in the table range owned by this test's processes ($T in their
# command line; other suites may run at the same time), one port a line
range_listeners() {
	local lo=${SD_RANGE%-*} hi=${SD_RANGE#*-} port pid
	ss -Htlnp | while read -r _ _ _ local _ users; do
		port=${local##*:}
		[ "$port" -ge "$lo" ] && [ "$port" -le "$hi" ] || continue
		for pid in $(echo "$users" | grep -o 'pid=[0-9]*' | cut -d= -f2); do
			if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$T"; then
				echo "$port"
				break
			fi
		done
	done | sort -u
}
no_range_listener() { [ -z "$(range_listeners)" ]; }

# launched servers still running (their command line has SD_MARK)
servers_running() { pgrep -f -- "${SD_MARK:-$T/banner}" >/dev/null; }
no_servers() { ! servers_running; }

no_zombies() { [ "$(zombies_of "$SD_PID")" -eq 0 ]; }

# sd_teardown: no zombie left under the daemon, then the common teardown
sd_teardown() {
	local zrc=0
	if [ -n "${SD_PID:-}" ] && kill -0 "$SD_PID" 2>/dev/null; then
		wait_until 3 no_zombies || zrc=1
	fi
	[ "$zrc" -eq 0 ] || echo "zombies under scrambled $SD_PID" >&2
	common_teardown || return 1
	return "$zrc"
}
