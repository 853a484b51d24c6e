#!/usr/bin/env bats
# auth = yes (issue 7, protocol v2, scramble-protocol(7)): in inetd and
# forward modes the client proves it holds the service key before anything
# is launched or relayed.  The misbehaving clients are
# tests/helpers/scramble_auth.py, an independent Python implementation of
# the protocol; the well-behaved ones are unmodified programs through the
# shim.
load helpers
load daemon_helpers

SD_RANGE=33400-33449
AUTH=$TOP/tests/helpers/scramble_auth.py

setup() {
	common_setup
	SD_MARK=$T/inetd.sh
	cat >"$T/inetd.sh" <<'SH'
#!/bin/sh
echo "hello $SCRAMBLE_CLIENT"
echo "inetd started" >&2
exec cat
SH
	chmod 755 "$T/inetd.sh"
	SD_CMD="$T/inetd.sh"
	(umask 022 && "$B/scramblectl" keygen "$T/k.key")
}
teardown() { sd_teardown; }

# auth_conf MODE: service "echo" with auth = yes in MODE (inetd|forward)
auth_conf() {
	SD_EXTRA="auth = yes key = \"$T/k.key\" connect_timeout = 10 ${SD_EXTRA:-}"
	sd_conf
	sed -i "s|mode = \"exec\"|mode = \"$1\"|" "$T/c.conf"
	if [ "$1" = forward ]; then
		sed -i "s|mode = \"forward\"|mode = \"forward\" backend = \"127.0.0.1:$BE_PORT\"|; /command = /d" "$T/c.conf"
	fi
}

# client_target FILE PORT [EXTRA]: a target "echo" for the shim, auth = yes
client_target() {
	(umask 022 && cat >>"$1" <<CONF
target "echo" {
  host = { "127.0.0.1" }
  port = $2
  rendezvous = $RDV_PORT
  table = "t"
  auth = yes
  key = "$T/k.key"
  timeout = 5
  ${3:-}
}
CONF
	)
}

# pyc ARGS...: the Python protocol client against the daemon
pyc() { $PY "$AUTH" client --key "$T/k.key" --name echo --rdv "$RDV_PORT" --range "$SD_RANGE" "$@"; }

# a backend that records every connection and every byte it gets
start_recorder() {
	BE_PORT=$(free_port)
	: >"$T/backend.log"
	$PY - "$BE_PORT" "$T/backend.log" 3>&- <<'PY' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
log = open(sys.argv[2], "a", buffering=1)
def serve(c, a):
    log.write("conn %s\n" % a[0])
    while True:
        b = c.recv(4096)
        if not b: break
        log.write("data %r\n" % b); c.sendall(b"echo:" + b)
    c.close()
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
PY
	track $!
	wait_until 5 is_listening "$BE_PORT"
}

# scan_and_talk SRC: the attacker of issue 7 from SRC: rendezvous (it gets
# its own line), then try every port of the range on 127.0.0.1 and talk to
# the first that accepts; prints "port=P" and what it got back
scan_and_talk() {
	$PY - "$RDV_PORT" "$SD_RANGE" "$1" <<'PY'
import socket, sys, time
rdv, rng, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lo, hi = (int(x) for x in rng.split("-"))
r = socket.create_connection(("127.0.0.1", rdv), 5, source_address=(src, 0))
line = b""
while True:
    b = r.recv(64)
    if not b: break
    line += b
print("line=%r" % line)
for p in range(lo, hi + 1):
    c = socket.socket(); c.settimeout(0.5); c.bind((src, 0))
    try:
        c.connect(("127.0.0.1", p))
    except OSError:
        c.close(); continue
    print("port=%d" % p, flush=True)
    got = b""
    try:
        c.sendall(b"hello server\n" * 4)   # more than an authenticator
        c.settimeout(4)
        while len(got) < 200:
            b = c.recv(200)
            if not b: break
            got += b
            if b"hello server" in got: break
    except (ConnectionResetError, socket.timeout):
        pass
    print("got=%r" % got)
    break
else:
    print("port=none")
PY
}

@test "keygen: 32 random bytes, mode 0640, no overwrite without -f" {
	[ "$(stat -c %s "$T/k.key")" = 32 ]
	[ "$(stat -c %a "$T/k.key")" = 640 ]
	cp "$T/k.key" "$T/k.old"
	run "$B/scramblectl" keygen "$T/k.key"
	assert_failure
	assert_output --partial "exists; use -f"
	cmp "$T/k.key" "$T/k.old"
	run "$B/scramblectl" keygen -f "$T/k.key"
	assert_success
	! cmp -s "$T/k.key" "$T/k.old"
	[ "$(stat -c %s "$T/k.key")" = 32 ]
	[ -z "$(find "$T" -name '.scramble-secret.*')" ]
}

@test "config: auth needs inetd/forward and a trusted key of exactly 32 bytes" {
	sd_table
	SD_EXTRA="auth = yes key = \"$T/k.key\"" sd_conf
	run "$B/scramblectl" check -c "$T/c.conf"
	assert_failure
	assert_output --partial "auth = yes needs mode inetd or forward"
	SD_EXTRA="auth = yes" sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	run "$B/scramblectl" check -c "$T/c.conf"
	assert_failure
	assert_output --partial "needs a key file"
	(umask 022 && head -c 31 /dev/urandom >"$T/short.key")
	SD_EXTRA="auth = yes key = \"$T/short.key\"" sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	run "$B/scramblectl" check -c "$T/c.conf"
	assert_failure
	assert_output --partial "exactly 32 bytes, not 31"
	chmod 0660 "$T/k.key"
	SD_EXTRA="auth = yes key = \"$T/k.key\"" sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	run "$B/scramblectl" check -c "$T/c.conf"
	assert_failure
	assert_output --partial "writable"
	chmod 0640 "$T/k.key"
	run "$B/scramblectl" check -c "$T/c.conf"
	assert_success
}

@test "inetd + auth: v2 line, right authenticator: the command talks to the client" {
	auth_conf inetd
	sd_start
	run rendezvous 127.0.0.1 "$RDV_PORT"
	[[ "$output" =~ ^2\ (334[0-4][0-9])\ [0-9a-f]{32}$ ]]
	# that rendezvous is never used: its session times out, nothing launched
	run pyc --send "ping"
	assert_success
	assert_line --index 0 --regexp '^valid=334[0-4][0-9]$'
	assert_line --index 1 "reply=b'hello 127.0.0.1\\nping'"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	wait_log "launch service=echo client=127\.0\.0\.1 pid=[0-9]+"
	wait_log "session end service=echo client=127\.0\.0\.1"
	[ "$(grep -c 'launch service=' "$T/scrambled.log")" = 1 ]
}

@test "attacker vs auth (forward): scan finds the port, gets nothing; the backend never sees a byte" {
	start_recorder
	auth_conf forward
	sd_start
	run scan_and_talk 127.0.0.2
	assert_success
	assert_line --index 0 --regexp "^line=b'2 334[0-4][0-9] [0-9a-f]{32}\\\\n'$"
	assert_line --index 1 --regexp '^port=334[0-4][0-9]$'      # the scan does find it ...
	assert_line --index 2 "got=b''"                            # ... and gets nothing
	wait_log "auth failed service=echo client=127\.0\.0\.2 reason=mismatch bytes=32"
	! log_has "launch service="
	! log_has "arrived service="
	[ ! -s "$T/backend.log" ]
	# the port is gone after the one try
	port=$(echo "$output" | sed -n 's/^port=//p')
	wait_until 5 not_listening "$port"
}

@test "attacker vs auth (inetd): the command is never launched" {
	auth_conf inetd
	sd_start
	run scan_and_talk 127.0.0.2
	assert_success
	assert_line --index 1 --regexp '^port=334[0-4][0-9]$'
	assert_line --index 2 "got=b''"
	wait_log "auth failed service=echo client=127\.0\.0\.2 reason=mismatch"
	! log_has "launch service="
	! servers_running
}

@test "attacker vs exec mode (no auth): the same scan reaches the server (the patent's trade-off)" {
	SD_CMD="$B/echo-server -b $T/banner 127.0.0.1 %p"
	SD_MARK=$T/banner
	sd_conf
	sd_start
	run scan_and_talk 127.0.0.2
	assert_success
	assert_line --index 0 --regexp "^line=b'334[0-4][0-9]\\\\n'$"
	assert_line --index 1 --regexp '^port=334[0-4][0-9]$'
	# the attacker gets the banner and its own line echoed by the real server
	[[ "$output" == *"$T/banner"* ]]
	[[ "$output" == *"hello server"* ]]
	wait_log "launch service=echo client=127\.0\.0\.2"
}

@test "replay: a recorded authenticator is refused on a new rendezvous; the old port is gone" {
	auth_conf inetd
	sd_start
	run pyc --send ping --tag-out "$T/tag"
	assert_success
	assert_line --index 1 --partial "ping"
	old=$(echo "$output" | sed -n 's/^valid=//p')
	[ "$(stat -c %s "$T/tag")" = 32 ]
	wait_log "session end service=echo"
	not_listening "$old"
	run pyc --tag-in "$T/tag" --send ping
	assert_success
	assert_line --index 1 "closed"
	wait_log "auth failed service=echo client=127\.0\.0\.1 reason=mismatch bytes=32"
	[ "$(grep -c 'launch service=' "$T/scrambled.log")" = 1 ]
}

@test "wrong key, truncated and oversized authenticators are refused, nothing launched" {
	auth_conf inetd
	sd_start
	# wrong key: the valid port comes from the key too, so the client
	# misses it (connection refused) or, rarely, lands on it and fails
	run pyc --mode wrong-key --send ping
	[[ "$output" != *"hello"* ]]
	run pyc --mode short
	assert_line --index 1 "closed"
	wait_log "auth failed service=echo client=127\.0\.0\.1 reason=short bytes=31"
	run pyc --mode prefix --send ping
	assert_line --index 1 "closed"
	wait_log "auth failed service=echo client=127\.0\.0\.1 reason=mismatch bytes=32"
	! log_has "launch service="
	! servers_running
}

@test "a tag made with another key is refused at the right port" {
	auth_conf inetd
	sd_start
	(umask 022 && "$B/scramblectl" keygen "$T/other.key")
	run pyc --tag-key "$T/other.key" --send ping
	assert_success
	assert_line --index 1 "closed"
	wait_log "auth failed service=echo client=127\.0\.0\.1 reason=mismatch bytes=32"
	! log_has "launch service="
}

@test "a client that connects and sends nothing is closed at the 2 s deadline" {
	auth_conf inetd
	sd_start
	start=$(date +%s%N)
	run pyc --mode none --timeout 8
	end=$(date +%s%N)
	assert_success
	assert_line --index 1 "closed"
	ms=$(( (end - start) / 1000000 ))
	[ "$ms" -ge 1500 ] && [ "$ms" -lt 5000 ]
	wait_log "auth failed service=echo client=127\.0\.0\.1 reason=timeout bytes=0"
	! log_has "launch service="
}

@test "shim + auth: an unmodified client (blocking and non-blocking sockets) through forward mode" {
	start_recorder
	auth_conf forward
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run with_shim $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
c.sendall(b"ping"); print(c.recv(100).decode())' "$wk"
	assert_success
	assert_output "echo:ping"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	# non-blocking: connect returns 0 (connected, authenticator written),
	# the flags are as the application set them
	run with_shim $PY -c 'import fcntl,os,select,socket,sys
c=socket.socket(); c.setblocking(False)
rc=c.connect_ex(("127.0.0.1",int(sys.argv[1])))
nb=bool(fcntl.fcntl(c.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
select.select([],[c],[],5); c.send(b"pong")
select.select([c],[],[],5); print(rc, nb, c.recv(100).decode())' "$wk"
	assert_success
	assert_output "0 True echo:pong"
	# the backend saw exactly the two sessions' data, no authenticator
	grep -c '^conn ' "$T/backend.log" | grep -qx 2
	run grep '^data ' "$T/backend.log"
	assert_output "data b'ping'
data b'pong'"
}

@test "shim: no downgrade; a target without auth cannot use an auth service" {
	auth_conf inetd
	sd_start
	wk=$(free_port)
	# the target without auth reads a v2 line: refused
	client_target "$T/c.conf" "$wk"
	sed -i '/^  auth = yes$/d' "$T/c.conf"
	run with_shim $PY -c 'import socket,sys
try: socket.create_connection(("127.0.0.1",int(sys.argv[1])),5); print("connected")
except OSError as e: print(e.errno)' "$wk"
	assert_output "111"
	! log_has "launch service="
	# an auth target facing a v1 service (exec mode): refused too
	kill "$SD_PID"; wait_gone "$SD_PID"
	rm -f "$T/c.conf"
	SD_CMD="$B/echo-server -b $T/banner 127.0.0.1 %p" SD_MARK=$T/banner SD_EXTRA=""
	sd_conf
	: >"$T/scrambled.log"
	sd_start
	client_target "$T/c.conf" "$wk"
	run with_shim $PY -c 'import socket,sys
try: socket.create_connection(("127.0.0.1",int(sys.argv[1])),5); print("connected")
except OSError as e: print(e.errno)' "$wk"
	assert_output "111"
	wait_log "rendezvous service=echo client=127\.0\.0\.1"
}

@test "shim + auth: libsodium is loaded only with a scrambled connect to an auth target" {
	! readelf -d "$B/libscramble.so" | grep -q sodium
	readelf -d "$B/libscramble-conf.so" | grep -q 'libsodium'
	auth_conf inetd
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	other=$(free_port)
	run with_shim $PY -c 'import socket,sys
def libs(): m=open("/proc/self/maps").read(); return "%s/%s" % ("sodium" in m, "confuse" in m)
before=libs()
try: socket.create_connection(("127.0.0.1",int(sys.argv[2])),2)
except OSError: pass
miss=libs()
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
print(before, miss, libs(), c.recv(100).decode().strip())' "$wk" "$other"
	assert_success
	assert_output "False/False False/False True/True hello 127.0.0.1"
}

@test "curl through the shim, forward mode with auth, python http.server backend" {
	command -v curl >/dev/null || skip "no curl"
	BE_PORT=$(free_port)
	mkdir "$T/www" && echo "auth-page" >"$T/www/index.html"
	$PY -m http.server -b 127.0.0.1 -d "$T/www" "$BE_PORT" >"$T/http.log" 2>&1 3>&- &
	track $!
	wait_until 5 is_listening "$BE_PORT"
	auth_conf forward
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run with_shim curl -sS --max-time 10 "http://127.0.0.1:$wk/index.html"
	assert_success
	assert_output "auth-page"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	# without the shim the well-known port is just closed
	run curl -sS --max-time 5 "http://127.0.0.1:$wk/index.html"
	assert_failure
}

@test "ssh through the shim to sshd -i in inetd mode with auth" {
	[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || skip "openssh not installed"
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id"
	cp "$T/id.pub" "$T/authorized_keys"
	cat >"$T/sshd_config" <<CONF
HostKey $T/host_key
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PidFile none
LogLevel INFO
CONF
	SD_MARK=$T/sshd_config
	SD_CMD="/usr/sbin/sshd -i -e -f $T/sshd_config"
	SD_EXTRA='login_timeout = 10 login_log = "-" login_match = "Accepted publickey for [^ ]+ from %a port"'
	auth_conf inetd
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run "$B/scramble" -c "$T/c.conf" ssh -F none -i "$T/id" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$wk" "$(id -un)@127.0.0.1" echo via-auth
	assert_success
	assert_output "via-auth"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	wait_log "session end service=echo" 5
	wait_until 5 no_servers
}

@test "psql through the shim, forward mode with auth" {
	for dir in /usr/lib/postgresql/*/bin; do if [ -x "$dir/initdb" ]; then PATH=$PATH:$dir; fi; done
	command -v psql >/dev/null && command -v initdb >/dev/null || skip "postgresql not installed"
	id postgres >/dev/null 2>&1 || skip "no postgres user"
	BE_PORT=$(free_port)
	mkdir "$T/pg" && chown postgres "$T/pg"
	su postgres -s /bin/sh -c "PATH='$PATH' initdb -D '$T/pg/data' -A trust -U postgres >/dev/null" || skip "initdb failed"
	su postgres -s /bin/sh -c "PATH='$PATH' pg_ctl -D '$T/pg/data' -o '-k $T/pg -p $BE_PORT -c listen_addresses=127.0.0.1' -l '$T/pg/log' -w start >/dev/null"
	auth_conf forward
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run with_shim psql -h 127.0.0.1 -p "$wk" -U postgres -Atc "select 40 + 2"
	su postgres -s /bin/sh -c "PATH='$PATH' pg_ctl -D '$T/pg/data' -m fast -w stop >/dev/null"
	assert_success
	assert_output "42"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	wait_log "session end service=echo"
}

@test "scramble-connect (ProxyCommand) with an auth target" {
	auth_conf inetd
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run bash -c 'printf "ping\n" | "$1" -c "$2" 127.0.0.1 "$3"' _ "$B/scramble-connect" "$T/c.conf" "$wk"
	assert_success
	assert_output "hello 127.0.0.1
ping"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	wait_log "session end service=echo client=127\.0\.0\.1"
}

@test "failed and good authentications leave no descriptor behind in the daemon" {
	auth_conf inetd
	sd_start
	base=$(fd_count_min "$SD_PID")
	for mode in short prefix short prefix; do
		pyc --mode "$mode" --send ping >/dev/null 2>&1 || true
	done
	pyc --send ping >/dev/null
	wait_log "session end service=echo"
	[ "$(grep -c 'auth failed service=echo' "$T/scrambled.log")" -ge 4 ]
	fds_back() { [ "$(fd_count "$SD_PID")" -eq "$base" ]; }
	wait_until 5 fds_back || { ls -l "/proc/$SD_PID/fd"; echo "base $base"; false; }
}

@test "IPv6: auth over ::1 (the client address in the MAC is the v6 one)" {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null || skip "no ::1"
	SD_LISTEN='"[::1]:0"'
	auth_conf inetd
	sd_start
	run pyc --host ::1 --send ping6
	assert_success
	assert_line --index 1 "reply=b'hello ::1\\nping6'"
	wait_log "auth ok service=echo client=::1"
}

@test "shim + auth: TCP Fast Open (sendto MSG_FASTOPEN) connects, authenticates, then sends" {
	start_recorder
	auth_conf forward
	sd_start
	wk=$(free_port)
	client_target "$T/c.conf" "$wk"
	run with_shim $PY -c 'import socket,sys
c=socket.socket()
n=c.sendto(b"fast", socket.MSG_FASTOPEN, ("127.0.0.1",int(sys.argv[1])))
c.settimeout(5); print(n, c.recv(100).decode())' "$wk"
	assert_success
	assert_output "4 echo:fast"
	wait_log "auth ok service=echo client=127\.0\.0\.1"
	run grep '^data ' "$T/backend.log"
	assert_output "data b'fast'"
}
