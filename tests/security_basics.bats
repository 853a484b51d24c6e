#!/usr/bin/env bats
# Security basics (issue 8): the rendezvous port reads nothing from the
# client and answers one decoy line whatever it is sent; no configuration in
# the current directory or $HOME is ever read (daemon, shim, scramble,
# scramble-connect); % sequences other than %p %a %% are refused at
# configuration check; shell metacharacters in the command reach the server
# literally (no shell).
load helpers
load daemon_helpers
setup() { common_setup; }
teardown() { sd_teardown; }

inetd_conf() {
	SD_CMD=/bin/cat
	SD_EXTRA="connect_timeout = 2 ${1:-}"
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
}

# send_and_read FILE: what the daemon answers a client that sends FILE
send_and_read() { "$B/rdvflood" send 127.0.0.1 "$RDV_PORT" "$1"; }

@test "10 MB of garbage, a TLS ClientHello, an HTTP request: one decoy line each, nothing read" {
	SD_RANGE=63000-63999
	inetd_conf 'max_pending = 64 per_source = 64'
	sd_start
	head -c 10485760 /dev/urandom >"$T/garbage"
	# a TLS 1.2 ClientHello as openssl sends it, or a fixed one
	printf '\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03%s\x00\x00\x02\x00\x2f\x01\x00' \
		"$(head -c 32 /dev/zero | tr '\0' 'A')" >"$T/hello"
	printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8\r\n\r\n' >"$T/http"
	printf '%s\n' 1 2 3 >"$T/digits"   # something that looks like a protocol
	local f out
	for f in hello http digits garbage; do
		out=$(send_and_read "$T/$f")
		echo "$f: $(echo "$out" | tr '\n' ' ')" >&3
		[[ $out =~ reply=([0-9]+)\\n$'\n'bytes-sent= ]] ||
			[[ $f = garbage && $out =~ reply=$'\n' ]] || fail "$f: $out"
	done
	# the daemon never read: the decoys were handed out as for anyone
	[ "$(grep -c 'rendezvous service=echo' "$T/scrambled.log")" -ge 3 ]
	# a well-behaved client right after still gets its line and a server
	run "$B/rdvflood" cycles 1 10 127.0.0.1 "$RDV_PORT" "$T/t.table" "$SD_RANGE"
	assert_output --regexp '^done=1 ok=1 failed=0'
	kill -0 "$SD_PID"
}

@test "the 10 MB sender does not get more than one line, even when it reads while sending" {
	inetd_conf
	sd_start
	run /usr/bin/python3 - "$RDV_PORT" <<'PY'
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(10)
def flood():
    try:
        blob = b"\x00\xff" * 65536
        for _ in range(80):      # 10 MiB
            s.sendall(blob)
    except OSError:
        pass
threading.Thread(target=flood, daemon=True).start()
data = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
except ConnectionResetError:
    pass
print(repr(data))
PY
	assert_success
	assert_output --regexp "^b'[0-9]+\\\\n'$"
}

# files a careless implementation might read, in the cwd and $HOME
plant_configs() {
	mkdir -p "$T/cwd" "$T/home/.scramble" "$T/home/.config/scramble"
	local f
	for f in "$T/cwd/scramble.conf" "$T/cwd/.scramble.conf" "$T/home/.scramble.conf" \
		"$T/home/.scramblerc" "$T/home/.scramble/scramble.conf" \
		"$T/home/.config/scramble/scramble.conf"; do
		echo 'target "evil" { host = { "127.0.0.1" } port = 1 rendezvous = 2 table = "x" }' >"$f"
	done
}

# opened_planted TRACE: the planted files (or any path under cwd/home, or a
# relative scramble path) that appear in an strace log
opened_planted() {
	grep -E "\"($T/(cwd|home)/|[^/\"]*scramble[^\"]*\")" "$1" | grep -v 'execve(' || true
}

@test "no configuration from the current directory or \$HOME: daemon, shim, scramble, scramble-connect" {
	command -v strace >/dev/null || skip "no strace"
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0   # LSan cannot run under ptrace
	plant_configs
	sd_table
	sd_conf
	cd "$T/cwd"
	# the daemon: configuration check and a real start with a rendezvous
	HOME=$T/home strace -f -e trace=%file -o "$T/sd-t.trace" "$B/scrambled" -t -c "$T/c.conf"
	HOME=$T/home strace -f -e trace=%file -o "$T/sd.trace" \
		"$B/scrambled" -f -c "$T/c.conf" -S "$T/sd.sock" >"$T/scrambled.log" 2>&1 3>&- &
	local strace_pid=$!
	wait_log 'listening '
	SD_PID=$(pgrep -P "$strace_pid" -x scrambled)
	track "$SD_PID"
	track "$strace_pid"
	RDV_PORT=$(sed -n 's/.*listening .*addr=.*:\([0-9]*\).*/\1/p' "$T/scrambled.log" | head -n1)
	[ -n "$(sd_rdv)" ]
	# the shim without SCRAMBLE_CONF (the system path only), with
	# SCRAMBLE_CONF, and the two tools without -c
	shim_conf "$T/client.conf" '"127.0.0.1"' 1 "$RDV_PORT"
	HOME=$T/home strace -f -e trace=%file -o "$T/shim.trace" \
		env LD_PRELOAD="$B/libscramble.so" "$B/conncheck" 127.0.0.1 1 || true
	HOME=$T/home strace -f -e trace=%file -o "$T/shim2.trace" \
		env LD_PRELOAD="$B/libscramble.so" SCRAMBLE_CONF="$T/client.conf" "$B/conncheck" 127.0.0.1 1 || true
	HOME=$T/home strace -f -e trace=%file -o "$T/scramble.trace" "$B/scramble" true || true
	HOME=$T/home strace -f -e trace=%file -o "$T/sc.trace" "$B/scramble-connect" 127.0.0.1 1 </dev/null || true
	cd /
	local t
	for t in sd-t sd shim shim2 scramble sc; do
		[ -s "$T/$t.trace" ] || fail "no trace $t"
		run opened_planted "$T/$t.trace"
		assert_output ""
	done
	# the traces are real: the configurations that count were opened
	grep -q "\"$T/c.conf\"" "$T/sd.trace"
	grep -q "\"$T/client.conf\"" "$T/shim2.trace"
	grep -q '"/etc/scramble/scramble.conf"' "$T/shim.trace"
}

@test "% sequences other than %p %a %% are refused by scrambled -t (and scramblectl check)" {
	sd_table
	local cmd
	for cmd in '%x' '%s' '%n' '%d' '%P' '%A' '%' 'a%' '%%%' '%{p}' '%1p' "%'"; do
		SD_CMD="$B/echo-server 127.0.0.1 %p $cmd"
		sd_conf
		run "$B/scrambled" -t -c "$T/c.conf"
		[ "$status" -eq 2 ] || fail "accepted: $cmd"
		assert_output --regexp "$T/c\.conf:[0-9]+: "
		run "$B/scramblectl" check -c "$T/c.conf"
		[ "$status" -ne 0 ] || fail "scramblectl check accepted: $cmd"
	done
	for cmd in '%p' '%a' '%%' 'x%%y' '%%p' '%a:%p'; do
		SD_CMD="$B/echo-server 127.0.0.1 %p $cmd"
		sd_conf
		run "$B/scrambled" -t -c "$T/c.conf"
		[ "$status" -eq 0 ] || fail "refused: $cmd: $output"
	done
}

@test "; \$(...) \`...\` | > * and spaces in the command reach the server literally" {
	cat >"$T/argv.py" <<PY
#!/usr/bin/python3
import socket, sys
with open("$T/argv.out", "w") as f:
    for a in sys.argv[1:]:
        f.write("ARG[%s]\\n" % a)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(30)
try:
    s.accept()
except OSError:
    pass
PY
	chmod 755 "$T/argv.py"
	SD_MARK=$T/argv.py
	# as written in the configuration file (libconfuse string, then the
	# daemon's word splitting: '...' literal, "..." literal)
	SD_CMD="$T/argv.py %p ';' '\$(touch $T/pwned1)' '\`touch $T/pwned2\`' 'a b  c' '|' '>$T/pwned3' '*' '%a'"
	SD_EXTRA='connect_timeout = 2'
	sd_conf
	grep command "$T/c.conf" >&3
	sd_start
	[ -n "$(sd_rdv)" ]
	wait_until 10 test -s "$T/argv.out"
	cat "$T/argv.out" >&3
	run cat "$T/argv.out"
	assert_line --index 1 'ARG[;]'
	assert_line --index 2 "ARG[\$(touch $T/pwned1)]"
	assert_line --index 3 "ARG[\`touch $T/pwned2\`]"
	assert_line --index 4 'ARG[a b  c]'
	assert_line --index 5 'ARG[|]'
	assert_line --index 6 "ARG[>$T/pwned3]"
	assert_line --index 7 'ARG[*]'
	assert_line --index 8 'ARG[127.0.0.1]'
	[ "${#lines[@]}" -eq 9 ]
	[ ! -e "$T/pwned1" ] && [ ! -e "$T/pwned2" ] && [ ! -e "$T/pwned3" ]
}
