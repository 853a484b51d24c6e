#!/usr/bin/env bats
# scrambled: login verification ([0026]) against recorded sshd log lines,
# from a log file (with rotation and truncation) and from the server's own
# stderr (login_log = "-", like `sshd -e`).
load helpers
load daemon_helpers
setup() {
	common_setup
	SD_MARK=$T/auth
	SYSLOG_OK='Nov 26 05:12:01 host sshd[4242]: Accepted publickey for root from {addr} port {port} ssh2: ED25519 SHA256:Yf3kq1H0rYpA0n9mQ2Cq8Zl4b0JrW1v9Xx2o7Tn4p5s'
	SYSLOG_OTHER='Nov 26 05:12:01 host sshd[4242]: Accepted password for root from 10.1.2.3 port {port} ssh2'
	STDERR_OK='Accepted publickey for root from {addr} port {port} ssh2: ED25519 SHA256:Yf3kq1H0rYpA0n9mQ2Cq8Zl4b0JrW1v9Xx2o7Tn4p5s'
	STDERR_FAIL='Failed password for root from {addr} port {port} ssh2'
}
teardown() { sd_teardown; }

# login_setup LOG TEMPLATE [plain|rotate|truncate]
login_setup() {
	SD_CMD="/usr/bin/python3 $TOP/tests/helpers/fake_sshd.py $1 %p '$2' ${3:-plain} $T/auth"
	SD_EXTRA="connect_timeout = 30 login_timeout = 1 login_log = \"$1\" login_match = \"Accepted [a-z-]+ for .* from %a port\""
	sd_conf
	sd_start
	d=$(sd_rdv)
	[ -n "$d" ]
	v=$(sd_valid "$d")
	sd_hold c "$v"
	grep -q 'SSH-2.0-fake' "$T/c.out"
	wait_log "arrived service=echo"
}

@test "log file: a matching line for the client address keeps the session" {
	: >"$T/auth.log"
	login_setup "$T/auth.log" "$SYSLOG_OK"
	wait_log "login ok service=echo client=127\.0\.0\.1 pid=[0-9]+" 5
	! wait_until 2 log_has "login failed"
	servers_running
	sd_release c
	wait_log "session end service=echo"
}

@test "log file: a line for another address does not count; killed after login_timeout" {
	: >"$T/auth.log"
	login_setup "$T/auth.log" "$SYSLOG_OTHER"
	wait_log "login failed service=echo client=127\.0\.0\.1 pid=[0-9]+" 5
	wait_until 5 no_servers
	! log_has "login ok"
}

@test "log file: lines written before the launch do not count" {
	printf '%s\n' 'Nov 26 05:00:00 host sshd[1]: Accepted publickey for root from 127.0.0.1 port 1 ssh2' >"$T/auth.log"
	login_setup "$T/auth.log" "$SYSLOG_OTHER"
	wait_log "login failed service=echo" 5
}

@test "log file rotated after the launch: the new file is read" {
	: >"$T/auth.log"
	login_setup "$T/auth.log" "$SYSLOG_OK" rotate
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	[ -e "$T/auth.log.1" ]
}

@test "log file truncated after the launch: read again from the start" {
	for i in $(seq 1 200); do echo "Nov 26 05:00:00 host CRON[$i]: pam_unix(cron:session): session opened"; done >"$T/auth.log"
	login_setup "$T/auth.log" "$SYSLOG_OK" truncate
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
}

@test "login_log = \"-\": the server's stderr (sshd -e) is matched" {
	login_setup - "$STDERR_OK"
	wait_log "login ok service=echo client=127\.0\.0\.1" 5
	log_has "server service=echo pid=[0-9]+: Accepted publickey for root from 127\.0\.0\.1 port"
	! wait_until 2 log_has "login failed"
}

@test "login_log = \"-\": a failed login on stderr is killed after login_timeout" {
	login_setup - "$STDERR_FAIL"
	wait_log "login failed service=echo client=127\.0\.0\.1" 5
	wait_until 5 no_servers
}
