#!/usr/bin/env bats
# libscramble.so is a polite guest: a destination that is not a configured
# (address, port) behaves byte-for-byte and errno-for-errno as without the
# shim; the shim is silent; a configuration it cannot trust, or one handed
# to a setuid program, changes nothing.

load helpers

setup() {
	common_setup
	shim_table
	# a configured target elsewhere, so the shim is loaded and active
	start_fake wk 127.0.0.1 record
	WK=$FAKE_PORT
	start_fake rdv 127.0.0.1 reply '20005\n'
	RDV=$FAKE_PORT
	shim_conf "$T/c.conf" '"127.0.0.1"' "$WK" "$RDV"
	VALID=$(valid_for 20005)
}
teardown() { common_teardown; }

# same_as_without CMD...: run CMD without and with the shim; stdout, stderr
# and exit status must be identical (curl's "after N ms" aside)
same_as_without() {
	"$@" >"$T/plain.out" 2>"$T/plain.err"
	local rc1=$?
	with_shim "$@" >"$T/shim.out" 2>"$T/shim.err"
	local rc2=$?
	sed -i 's/after [0-9]* ms/after N ms/' "$T/plain.err" "$T/shim.err"
	echo "plain rc=$rc1: $(cat "$T/plain.out" "$T/plain.err")"
	echo "shim  rc=$rc2: $(cat "$T/shim.out" "$T/shim.err")"
	[ "$rc1" = "$rc2" ] && cmp "$T/plain.out" "$T/shim.out" && cmp "$T/plain.err" "$T/shim.err"
}

@test "unconfigured refused port: same result and errno" {
	local p
	p=$(free_port)
	run same_as_without "$B/conncheck" 127.0.0.1 "$p"
	assert_success
	grep -qx "connect=-1 errno=ECONNREFUSED" "$T/shim.out"
	run same_as_without "$B/conncheck" -n 127.0.0.1 "$p"
	assert_success
	grep -qx "so_error=ECONNREFUSED" "$T/shim.out"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "unconfigured listening port: same success, errno left alone" {
	local p
	p=$(free_port)
	start_echo 127.0.0.1 "$p"
	run same_as_without "$B/conncheck" -e same 127.0.0.1 "$p"
	assert_success
	grep -qx "errno-kept=yes" "$T/shim.out"
	grep -qx "reply=same" "$T/shim.out"
	run same_as_without "$B/conncheck" -6 -e same 127.0.0.1 "$p"
	assert_success
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "the configured address on another port is not ours" {
	run same_as_without "$B/conncheck" 127.0.0.1 "$RDV"
	assert_success
	grep -qx "connect=0 errno=0" "$T/shim.out"
	# only the two direct connections above reached the fake
	[ "$(fake_conns rdv)" -eq 2 ]
}

@test "bad arguments: same errno (short and oversized lengths, datagram)" {
	local p
	p=$(free_port)
	for args in "-l 3 127.0.0.1 $p" "-l 0 127.0.0.1 $p" "-l 200 127.0.0.1 $p" \
		"-l 3 127.0.0.1 $WK" "-l 200 127.0.0.1 $WK" "-6 -l 20 ::1 $p" "-u 127.0.0.1 $p"; do
		# shellcheck disable=SC2086
		run same_as_without "$B/conncheck" $args
		assert_success
	done
	grep -qx "connect=0 errno=0" "$T/shim.out"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "unreachable network (empty namespace): same errno" {
	unshare -n true 2>/dev/null || skip "no network namespaces here"
	run unshare -n sh -c 'ip link set lo up &&
		"$0" "$3" "$4" >"$1/p.out" 2>&1; echo "rc=$?" >>"$1/p.out";
		SCRAMBLE_CONF=$1/c.conf LD_PRELOAD=$2 "$0" "$3" "$4" >"$1/s.out" 2>&1
		echo "rc=$?" >>"$1/s.out"' \
		"$B/conncheck" "$T" "$SHIM" 10.1.2.3 80
	assert_success
	cat "$T/p.out" "$T/s.out"
	grep -qx "connect=-1 errno=ENETUNREACH" "$T/s.out"
	cmp "$T/p.out" "$T/s.out"
}

@test "stderr of real clients is identical with and without the shim" {
	local p
	p=$(free_port)
	run same_as_without curl -sS --max-time 5 "http://127.0.0.1:$p/"
	assert_success
	grep -q "Failed to connect" "$T/shim.err"
	run same_as_without /usr/bin/python3 -c 'import socket,sys
try: socket.create_connection(("127.0.0.1", int(sys.argv[1])))
except OSError as e: sys.exit("python: %s" % e)' "$p"
	assert_success
	grep -q "Connection refused" "$T/shim.err"
	# and a client that goes through a rendezvous prints nothing extra
	start_echo 127.0.0.1 "$VALID"
	run with_shim "$B/conncheck" -e quiet 127.0.0.1 "$WK"
	assert_success
	refute_output --partial libscramble
	with_shim "$B/conncheck" 127.0.0.1 "$WK" 2>"$T/err" >/dev/null
	[ ! -s "$T/err" ]
}

@test "SCRAMBLE_DEBUG=1 explains, and only then" {
	start_echo 127.0.0.1 "$VALID"
	SCRAMBLE_DEBUG=1 with_shim "$B/conncheck" 127.0.0.1 "$WK" 2>"$T/err" >/dev/null
	cat "$T/err"
	grep -q "libscramble.*valid port $VALID" "$T/err"
}

@test "no configuration file: everything passes through, silently" {
	run env SCRAMBLE_CONF="$T/none.conf" LD_PRELOAD="$SHIM" "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	refute_output --partial libscramble
	wait_until 5 test "$(fake_conns wk)" -eq 1
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "a world-writable configuration is refused: pass-through, nothing on stderr" {
	chmod 0666 "$T/c.conf"
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	refute_output --partial libscramble
	[ "$(fake_conns rdv)" -eq 0 ]
	SCRAMBLE_DEBUG=1 with_shim "$B/conncheck" 127.0.0.1 "$WK" 2>"$T/err" >/dev/null
	cat "$T/err"
	grep -q "libscramble.*configuration refused" "$T/err"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "a group-writable table is refused: pass-through" {
	chmod 0664 "$T/t.table"
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "a configuration owned by another user is refused" {
	chown nobody "$T/c.conf"
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "SCRAMBLE_CONF and SCRAMBLE_DEBUG are ignored in a setuid program" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a setuid copy"
	command -v setpriv >/dev/null || skip "no setpriv"
	[ -e /etc/scramble/scramble.conf ] && skip "a system configuration exists"
	start_echo 127.0.0.1 "$VALID"
	chmod 0644 "$T/t.table"         # nobody must be able to read it
	cp "$B/conncheck" "$T/conncheck-suid"
	chmod 0755 "$T/conncheck-suid"
	# control: not setuid, the shim reads SCRAMBLE_CONF (loaded with dlopen:
	# ld.so ignores an LD_PRELOAD path in a setuid program anyway)
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SCRAMBLE_CONF="$T/c.conf" SCRAMBLE_DEBUG=1 "$T/conncheck-suid" -P "$SHIM" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$VALID"
	assert_output --partial libscramble
	[ "$(fake_conns rdv)" -eq 1 ]
	# setuid root, run by nobody: AT_SECURE
	chmod 4755 "$T/conncheck-suid"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SCRAMBLE_CONF="$T/c.conf" SCRAMBLE_DEBUG=1 "$T/conncheck-suid" -P "$SHIM" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	refute_output --partial libscramble
	[ "$(fake_conns rdv)" -eq 1 ]
}

@test "libconfuse is not loaded before the first connect, nor kept afterwards" {
	run with_shim /usr/bin/python3 -c 'import socket,sys
def confuse(): return "confuse" in open("/proc/self/maps").read()
before = confuse()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.close()
print("before=%s after=%s" % (before, confuse()))' "$RDV"
	assert_success
	assert_output "before=False after=False"
	[ "$(fake_conns rdv)" -eq 1 ]
}

@test "a rendezvous leaves no descriptor behind" {
	start_echo 127.0.0.1 "$VALID"
	run with_shim /usr/bin/python3 -c 'import os,socket,sys
n0 = len(os.listdir("/proc/self/fd"))
for i in range(5):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.close()
print(len(os.listdir("/proc/self/fd")) - n0)' "$WK"
	assert_success
	assert_output "0"
	[ "$(fake_conns rdv)" -eq 5 ]
}

@test "a miss makes no system call of its own (strace, 100 more connects)" {
	command -v strace >/dev/null || skip "no strace"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0   # LSan cannot run under ptrace
	local p n100 n200 s100 s200
	p=$(free_port)
	count() { strace -f -qq -c -o "$T/st" "$@" >/dev/null 2>&1; awk '$NF == "total" { print $(NF-2) }' "$T/st"; }
	n100=$(count "$B/connloop" 100 127.0.0.1 "$p")
	n200=$(count "$B/connloop" 200 127.0.0.1 "$p")
	s100=$(count env SCRAMBLE_CONF="$T/c.conf" LD_PRELOAD="$SHIM" "$B/connloop" 100 127.0.0.1 "$p")
	s200=$(count env SCRAMBLE_CONF="$T/c.conf" LD_PRELOAD="$SHIM" "$B/connloop" 200 127.0.0.1 "$p")
	echo "plain: $n100 -> $n200; shim: $s100 -> $s200"
	[ $((n200 - n100)) -eq 300 ]            # socket, connect, close
	[ $((s200 - s100)) -eq 300 ]
}

@test "a table this user may not read drops only its targets, quietly" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
	chmod 0640 "$T/t.table"                 # root's group only: not nobody's service
	(umask 022 && "$B/scramblectl" gentable -f -r "$SHIM_RANGE" "$T/t2.table" >/dev/null)
	chmod 0644 "$T/t2.table"
	start_fake wk2 127.0.0.1 record
	local wk2=$FAKE_PORT valid2
	valid2=$("$B/scramblectl" map -t "$T/t2.table" -r "$SHIM_RANGE" 20005 | sed -n 's/^valid=//p')
	start_echo 127.0.0.1 "$valid2"
	(umask 022 && cat >"$T/c.conf" <<CONF
table "t" { file = "$T/t.table" ports = "$SHIM_RANGE" }
table "t2" { file = "$T/t2.table" ports = "$SHIM_RANGE" }
target "theirs" { host = { "127.0.0.1" } port = $WK rendezvous = $RDV table = "t" }
target "mine" { host = { "127.0.0.1" } port = $wk2 rendezvous = $RDV table = "t2" }
CONF
	)
	asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SCRAMBLE_CONF="$T/c.conf" LD_PRELOAD="$SHIM" "$@"; }
	run asnobody "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	refute_output --partial libscramble
	[ "$(fake_conns rdv)" -eq 0 ]
	run asnobody env SCRAMBLE_DEBUG=1 "$B/conncheck" -e mine 127.0.0.1 "$wk2"
	assert_success
	assert_output --partial "loaded: 1 target(s)"     # "theirs" dropped
	refute_output --partial "refused"                 # and nothing for syslog
	assert_line "peer-port=$valid2"
	assert_line "reply=mine"
	[ "$(fake_conns rdv)" -eq 1 ]
	[ "$(fake_conns wk2)" -eq 0 ]
	# root reads both tables: its connection to WK is scrambled
	start_echo 127.0.0.1 "$VALID"
	run with_shim "$B/conncheck" 127.0.0.1 "$WK"
	assert_line "peer-port=$VALID"
}

@test "a configuration this user may not read: quiet pass-through" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
	chmod 0640 "$T/c.conf"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SCRAMBLE_CONF="$T/c.conf" LD_PRELOAD="$SHIM" "$B/conncheck" 127.0.0.1 "$WK"
	assert_success
	assert_line "peer-port=$WK"
	refute_output --partial libscramble
	[ "$(fake_conns rdv)" -eq 0 ]
}

@test "no work at load time: a program that never connects never looks at the configuration" {
	command -v strace >/dev/null || skip "no strace"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0   # LSan cannot run under ptrace
	with_shim strace -f -qq -e trace=file,network -o "$T/st" /bin/echo hi >/dev/null
	! grep -E "c\.conf|scramble\.conf|libscramble-conf|socket\(" "$T/st"
	grep -q "libscramble.so" "$T/st"           # it was loaded, though
	# the first connect is what loads it
	local p
	p=$(free_port)
	with_shim strace -f -qq -e trace=file,network -o "$T/st2" "$B/conncheck" 127.0.0.1 "$p" >/dev/null || true
	grep -q "c\.conf" "$T/st2"
	grep -q "libscramble-conf.so" "$T/st2"
}

@test "a v4-mapped target on an IPV6_V6ONLY socket: the kernel's error, no rendezvous" {
	run same_as_without /usr/bin/python3 -c 'import errno,socket,sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
print(errno.errorcode[s.connect_ex(("::ffff:127.0.0.1", int(sys.argv[1])))])' "$WK"
	assert_success
	cat "$T/shim.out"
	[ "$(cat "$T/shim.out")" != 0 ]
	[ "$(fake_conns rdv)" -eq 0 ]
	[ "$(fake_conns wk)" -eq 0 ]
}
