#!/usr/bin/env bats
# scrambled with a real OpenSSH sshd in exec mode (`sshd -D -e -p %p`) and
# login verification on its own stderr (login_log = "-").
load helpers
load daemon_helpers

setup() {
	common_setup
	[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || skip "openssh not installed"
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id"
	ssh-keygen -q -t ed25519 -N '' -f "$T/other_id"
	cp "$T/id.pub" "$T/authorized_keys"
	cat >"$T/sshd_config" <<CONF
ListenAddress 127.0.0.1
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
	SD_CMD="/usr/sbin/sshd -D -e -f $T/sshd_config -p %p"
	SD_EXTRA='connect_timeout = 20 login_timeout = 3 login_log = "-" login_match = "Accepted publickey for [^ ]+ from %a port"'
	sd_conf
	sd_start
}
teardown() { sd_teardown; }

ssh_to() {
	ssh -F none -i "$1" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=10 -o LogLevel=ERROR -p "$2" "$(id -un)@127.0.0.1" echo "hello-from-sshd"
}

@test "sshd: launched on the valid port for one client, login ok, ended with the session" {
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run ssh_to "$T/id" "$v"
	assert_success
	assert_output "hello-from-sshd"
	wait_log "arrived service=echo client=127\.0\.0\.1"
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	log_has "server service=echo pid=[0-9]+: Accepted publickey for $(id -un) from 127\.0\.0\.1 port [0-9]+ ssh2"
	wait_log "session end service=echo" 5
	wait_until 5 not_listening "$v"
	wait_until 5 no_servers
}

@test "sshd: a client that does not log in is killed after login_timeout" {
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	sd_hold c "$v"
	grep -q '^SSH-2.0-OpenSSH' "$T/c.out"
	wait_log "arrived service=echo"
	wait_log "login failed service=echo client=127\.0\.0\.1" 8
	wait_until 5 not_listening "$v"
	wait_until 5 no_servers
}

@test "sshd: a wrong key fails authentication; the session still ends with the client" {
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	run ssh_to "$T/other_id" "$v"
	assert_failure
	wait_until 8 no_servers
	! log_has "login ok"
}

@test "sshd -i in inetd mode: one connection, listener closed at the accept, login ok" {
	kill -TERM "$SD_PID"
	wait_gone "$SD_PID"
	SD_CMD="/usr/sbin/sshd -i -e -f $T/sshd_config"
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	sd_start
	d=$(sd_rdv)
	v=$(sd_valid "$d")
	is_listening "$v"
	run ssh_to "$T/id" "$v"
	assert_success
	assert_output "hello-from-sshd"
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	wait_log "session end service=echo" 5
	not_listening "$v"
	wait_until 5 no_servers
}

@test "end to end: unmodified ssh through the shim (scramble) to sshd -i in inetd mode" {
	[ -x "$B/scramble" ] && [ -e "$B/libscramble.so" ] || skip "shim not built"
	kill -TERM "$SD_PID"
	wait_gone "$SD_PID"
	SD_CMD="/usr/sbin/sshd -i -e -f $T/sshd_config"
	sd_conf
	sed -i 's/mode = "exec"/mode = "inetd"/' "$T/c.conf"
	sd_start
	wellknown=$(free_port)
	cat >>"$T/c.conf" <<CONF
target "ssh" {
  host = { "127.0.0.1" }
  port = $wellknown
  rendezvous = $RDV_PORT
  table = "t"
  offsets = { "hour" }
  timeout = 5
}
CONF
	not_listening "$wellknown"
	run "$B/scramble" -c "$T/c.conf" ssh -F none -i "$T/id" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$wellknown" "$(id -un)@127.0.0.1" echo via-shim
	assert_success
	assert_output "via-shim"
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	wait_log "session end service=echo" 5
	wait_until 5 no_servers
}
