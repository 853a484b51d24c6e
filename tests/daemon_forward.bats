#!/usr/bin/env bats
# scrambled, forward mode: the client's one connection on the pinned valid
# port is relayed (splice) to a backend that runs all the time on loopback.
load helpers
load daemon_helpers

setup() {
	common_setup
	SD_MARK=$T/backend
	BE_PORT=$(free_port)
}
teardown() { sd_teardown; }

forward_conf() {
	sd_conf
	sed -i "s|mode = \"exec\"|mode = \"forward\" backend = \"127.0.0.1:$BE_PORT\"|; /command = /d" "$T/c.conf"
}

start_backend() {
	"$@" 3>&- &
	track $!
	wait_until 5 is_listening "$BE_PORT"
}

@test "forward: the client reaches the backend through the valid port, both ways" {
	start_backend "$B/echo-server" -b "$T/backend" 127.0.0.1 "$BE_PORT"
	forward_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
f=c.makefile("rb")
print(f.readline().decode().strip())
c.sendall(b"ping\n"); print(f.readline().decode().strip())' "$v"
	assert_line --index 0 "$T/backend"
	assert_line --index 1 "ping"
	wait_log "arrived service=echo client=127\.0\.0\.1"
	wait_log "session end service=echo client=127\.0\.0\.1" 5
	wait_log "server exit service=echo pid=[0-9]+ status=exit 0"
	not_listening "$v"
}

@test "forward: 200 MiB with a half-close arrive intact (checksum at both ends)" {
	start_backend $PY "$TOP/tests/helpers/sink_server.py" "$BE_PORT" "$T/backend"
	forward_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run $PY -c 'import hashlib,os,socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),10)
block=os.urandom(1<<20); h=hashlib.sha256(); n=0
for i in range(200):
    c.sendall(block); h.update(block); n+=len(block)
c.shutdown(socket.SHUT_WR)      # half-close: the sink answers only after EOF
r=b""
while True:
    b=c.recv(4096)
    if not b: break
    r+=b
print(r.decode().strip()); print("%d %s" % (n, h.hexdigest()))' "$v"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "${lines[1]}" ]
	[[ "${lines[0]}" == "209715200 "* ]]
}

@test "forward: the backend down gives the client a reset and a log line" {
	forward_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run $PY -c 'import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5)
c.settimeout(5)
try:
    b=c.recv(10); print("eof" if not b else "data")
except ConnectionResetError: print("reset")' "$v"
	assert_output "reset"
	wait_log "server service=echo pid=[0-9]+: backend 127\.0\.0\.1 port $BE_PORT: Connection refused"
	wait_log "server exit service=echo pid=[0-9]+ status=exit 1"
}

@test "forward: a real PostgreSQL through the relay (psql)" {
	# Debian keeps initdb and pg_ctl out of PATH
	for dir in /usr/lib/postgresql/*/bin; do if [ -x "$dir/initdb" ]; then PATH=$PATH:$dir; fi; done
	command -v psql >/dev/null && command -v initdb >/dev/null || skip "postgresql not installed"
	id postgres >/dev/null 2>&1 || skip "no postgres user"
	mkdir "$T/pg" && chown postgres "$T/pg"
	su postgres -s /bin/sh -c "PATH='$PATH' initdb -D '$T/pg/data' -A trust -U postgres >/dev/null" || skip "initdb failed"
	su postgres -s /bin/sh -c "PATH='$PATH' pg_ctl -D '$T/pg/data' -o '-k $T/pg -p $BE_PORT -c listen_addresses=127.0.0.1' -l '$T/pg/log' -w start >/dev/null"
	forward_conf
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run psql -h 127.0.0.1 -p "$v" -U postgres -Atc "select 40 + 2"
	su postgres -s /bin/sh -c "PATH='$PATH' pg_ctl -D '$T/pg/data' -m fast -w stop >/dev/null"
	assert_success
	assert_output "42"
	wait_log "session end service=echo"
}
