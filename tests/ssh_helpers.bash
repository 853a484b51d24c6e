# OpenSSH end-to-end helpers (tests/ssh_*.bats, netns_*.bats, rollout_*.bats).
# Loaded after helpers.bash:  load helpers; load ssh_helpers
#
# ssh_keys               throwaway host and user keys, authorized_keys, in $T
# sshd_config_for ADDR   $T/sshd_config: root with the test key only
# ssh_client_config      $T/ssh_config: the client side (key, known_hosts)
# scrambled_ssh_conf F LISTEN OFFSETS [EXTRA]   server configuration for sshd
# ssh_client_conf F HOST PORT RDV OFFSETS       client (shim) configuration
# ssh_range: the table's port range

SSH_RANGE=20000-29999

ensure_run_sshd() {
	# sshd's privilege separation directory, normally made by ssh.service
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd
}

ssh_keys() {
	ensure_run_sshd
	ssh-keygen -q -t ed25519 -N '' -C test-host -f "$T/host_key"
	ssh-keygen -q -t ed25519 -N '' -C test-user -f "$T/id_user"
	cp "$T/id_user.pub" "$T/authorized_keys"
	chmod 0600 "$T/host_key" "$T/id_user"
}

# sshd_config_for LISTENADDR
sshd_config_for() {
	cat >"$T/sshd_config" <<CONF
ListenAddress $1
HostKey $T/host_key
PidFile none
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel INFO
AcceptEnv LANG
Subsystem sftp internal-sftp
CONF
}

ssh_client_config() {
	cat >"$T/ssh_config" <<CONF
Host *
  User root
  IdentityFile $T/id_user
  IdentitiesOnly yes
  BatchMode yes
  UserKnownHostsFile $T/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking accept-new
  ConnectTimeout 10
  LogLevel ERROR
  ControlMaster no
  ControlPath none
CONF
}

ssh_table() {
	(umask 022 && "$B/scramblectl" gentable -f -r "$SSH_RANGE" "$T/t.table") >/dev/null
}

# scrambled_ssh_conf FILE LISTEN OFFSETS [EXTRA LINES]
scrambled_ssh_conf() {
	(umask 022 && cat >"$1" <<CONF
table "t" { file = "$T/t.table" ports = "$SSH_RANGE" }
service "ssh" {
  listen = { "$2" }
  table = "t"
  offsets = { $3 }
  mode = "exec"
  command = "/usr/sbin/sshd -D -e -f $T/sshd_config -p %p"
  connect_timeout = 15
  login_log = "-"
  login_match = "Accepted publickey for root from %a port"
  login_timeout = 20
  ${4:-}
}
CONF
	)
}

# ssh_client_conf FILE HOST PORT RDV OFFSETS
ssh_client_conf() {
	(umask 022 && cat >"$1" <<CONF
table "t" { file = "$T/t.table" ports = "$SSH_RANGE" }
target "ssh" {
  host = { "$2" }
  port = $3
  rendezvous = $4
  table = "t"
  offsets = { $5 }
  timeout = 5
}
CONF
	)
}

# rdv_count: how many rendezvous lines the daemon has logged
rdv_count() { grep -c '[^a-z]rendezvous service=' "$T/scrambled.log" || true; }

# last_rdv FIELD: decoy or pid of the last rendezvous
last_rdv() { grep '[^a-z]rendezvous service=' "$T/scrambled.log" | tail -n1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# map_valid DECOY CLIENT OFFSETS(comma list) [UNIXTIME]: the valid port
# (now, or at UNIXTIME)
map_valid() {
	"$B/scramblectl" map -t "$T/t.table" -r "$SSH_RANGE" --offsets "$3" --client "$2" \
		--time "${4:-$(date +%s)}" "$1" | sed -n 's/^valid=//p'
}

# valid_candidates DECOY CLIENT OFFSETS: the valid port for the hour now and
# for the hour 20 s ago (one or two lines), so that a session that straddled
# the turn of an hour is still checked correctly
valid_candidates() {
	local now
	now=$(date +%s)
	{ map_valid "$1" "$2" "$3" "$now"; map_valid "$1" "$2" "$3" $((now - 20)); } | sort -u
}

# is_valid_for PORT DECOY CLIENT OFFSETS: PORT is what the mapping gives
is_valid_for() { valid_candidates "$2" "$3" "$4" | grep -qx -- "$1"; }

# test_listeners: TCP ports listened on by processes of this test (whose
# command line mentions $T), sorted
test_listeners() {
	local pids p
	pids=$(pgrep -f -- "$T" | tr '\n' ' ')
	[ -n "$pids" ] || return 0
	ss -Htlnp | while read -r _ _ _ local _ users; do
		for p in $pids; do
			if [[ $users == *"pid=$p,"* ]]; then echo "${local##*:}"; break; fi
		done
	done | sort -un
}

# session_closed PID VALID: the server of a session is gone and its port closed
session_closed() { pid_gone "$1" && not_listening "$2"; }

# after_session: the last session's server ended and only the rendezvous
# port is left listening
after_session() {
	local pid decoy valid
	pid=$(last_rdv pid); decoy=$(last_rdv decoy)
	[ -n "$pid" ] && [ -n "$decoy" ] || { echo "no session in the log" >&2; return 1; }
	for valid in $(valid_candidates "$decoy" "${CLIENT_ADDR:-127.0.0.1}" "${OFFSETS_CSV:-hour,client-octet}"); do
		wait_until 15 session_closed "$pid" "$valid" || { echo "server $pid / port $valid still there" >&2; return 1; }
	done
	wait_log "session end service=ssh client=[0-9.]+ pid=$pid" 5 || { echo "no session end for $pid" >&2; return 1; }
	local l
	l=$(test_listeners | tr '\n' ' ')
	[ "$l" = "$RDV_PORT " ] || { echo "listening: $l (expected only $RDV_PORT)" >&2; return 1; }
}
