#!/usr/bin/env bats
# OpenSSH end to end on loopback: sshd launched by scrambled in exec mode,
# login checked on sshd's own -e output, unmodified OpenSSH clients through
# the shim (and through scramble-connect as a ProxyCommand).  The clients
# dial the usual port 22; nothing ever listens there.

load helpers
load ssh_helpers

setup() {
	common_setup
	ssh_keys
	sshd_config_for 127.0.0.1
	ssh_client_config
	ssh_table
	scrambled_ssh_conf "$T/server.conf" 127.0.0.1:0 '"hour", "client-octet"'
	start_scrambled "$T/server.conf" -S "$T/status.sock"
	ssh_client_conf "$T/client.conf" 127.0.0.1 22 "$RDV_PORT" '"hour", "client-octet"'
	export SCRAMBLE_CONF=$T/client.conf
	CLIENT_ADDR=127.0.0.1 OFFSETS_CSV=hour,client-octet
}
teardown() { common_teardown; }

# sc CMD...: CMD through the shim
sc() { "$B/scramble" "$@"; }
SSH() { ssh -F "$T/ssh_config" "$@"; }

@test "ssh host true: exit 0, one rendezvous, arrival and login seen, server gone afterwards" {
	run sc ssh -F "$T/ssh_config" 127.0.0.1 true
	assert_success
	assert_output ""
	[ "$(rdv_count)" = 1 ]
	local pid
	pid=$(last_rdv pid)
	log_has "arrived service=ssh client=127\.0\.0\.1 pid=$pid"
	wait_log "login ok service=ssh client=127\.0\.0\.1 pid=$pid"
	after_session
	# nothing ever listened on 22 for us, and a plain ssh is refused there
	run SSH -p 22 127.0.0.1 true
	assert_failure
	[ "$(rdv_count)" = 1 ]
}

@test "ssh host 'command': stdout, stderr and status byte-identical to a direct session" {
	local cmd='printf "a\tb\\\\n\\001\\377\\n"; seq 1 20000; echo to-stderr >&2; printf "%s|" "$(whoami)" "$HOME" "$SHELL"; exit 3'
	# the same sshd configuration, started directly on a free port
	local dport
	dport=$(free_port)
	/usr/sbin/sshd -D -e -f "$T/sshd_config" -p "$dport" 2>"$T/direct.log" 3>&- &
	local direct=$!
	track "$direct"
	wait_until 10 is_listening "$dport"
	local rc=0
	SSH -p "$dport" 127.0.0.1 "$cmd" >"$T/direct.out" 2>"$T/direct.err" || rc=$?
	echo "$rc" >"$T/direct.rc"
	rc=0
	sc ssh -F "$T/ssh_config" 127.0.0.1 "$cmd" >"$T/scr.out" 2>"$T/scr.err" || rc=$?
	echo "$rc" >"$T/scr.rc"
	[ "$(cat "$T/direct.rc")" = 3 ]
	cmp "$T/direct.out" "$T/scr.out"
	cmp "$T/direct.err" "$T/scr.err"
	cmp "$T/direct.rc" "$T/scr.rc"
	[ "$(wc -c <"$T/scr.out")" -gt 100000 ]
	kill "$direct"
	wait_until 5 pid_gone "$direct"
	after_session
}

@test "the server sees the client arrive on the valid port that the mapping gives" {
	run sc ssh -F "$T/ssh_config" 127.0.0.1 'echo "$SSH_CONNECTION"'
	assert_success
	local decoy valid
	decoy=$(last_rdv decoy)
	[[ $output =~ ^127\.0\.0\.1\ [0-9]+\ 127\.0\.0\.1\ ([0-9]+)$ ]]
	valid=${BASH_REMATCH[1]}
	is_valid_for "$valid" "$decoy" 127.0.0.1 hour,client-octet
	[ "$valid" != 22 ] && [ "$valid" != "$decoy" ]
	after_session
}

@test "scp both ways: checksums equal" {
	head -c 3000000 /dev/urandom >"$T/up.bin"
	mkdir "$T/remote"
	run sc scp -F "$T/ssh_config" -q "$T/up.bin" "127.0.0.1:$T/remote/up.bin"
	assert_success
	after_session
	run sc scp -F "$T/ssh_config" -q "127.0.0.1:$T/remote/up.bin" "$T/down.bin"
	assert_success
	after_session
	[ "$(sha256sum <"$T/up.bin")" = "$(sha256sum <"$T/remote/up.bin")" ]
	[ "$(sha256sum <"$T/up.bin")" = "$(sha256sum <"$T/down.bin")" ]
	[ "$(rdv_count)" = 2 ]
}

@test "rsync -e ssh copies a tree exactly" {
	mkdir -p "$T/src/a/b" "$T/dst"
	head -c 200000 /dev/urandom >"$T/src/a/b/blob"
	echo hello >"$T/src/a/file"
	ln -s file "$T/src/a/link"
	chmod 0751 "$T/src/a/b"
	run sc rsync -a -e "ssh -F $T/ssh_config" "$T/src/" "127.0.0.1:$T/dst/"
	assert_success
	run diff -r --no-dereference "$T/src" "$T/dst"
	assert_success
	[ "$(stat -c %a "$T/dst/a/b")" = 751 ]
	[ "$(readlink "$T/dst/a/link")" = file ]
	after_session
}

@test "git clone over ssh of a repository made in the test" {
	git init -q --bare "$T/repo.git"
	git init -q "$T/work"
	(cd "$T/work" && echo "scrambled content" >README &&
		git add README && git -c user.name=t -c user.email=t@t commit -q -m first &&
		git push -q "$T/repo.git" HEAD:refs/heads/main)
	GIT_SSH_COMMAND="ssh -F $T/ssh_config" run sc git clone -q -b main "ssh://127.0.0.1$T/repo.git" "$T/clone"
	assert_success
	[ "$(cat "$T/clone/README")" = "scrambled content" ]
	[ "$(git -C "$T/clone" rev-parse HEAD)" = "$(git -C "$T/work" rev-parse HEAD)" ]
	after_session
}

@test "sftp in batch mode: put, ls, get" {
	echo "sftp payload $RANDOM" >"$T/s.txt"
	mkdir "$T/sftpdir"
	cat >"$T/batch" <<B
cd $T/sftpdir
put $T/s.txt
ls -1
get s.txt $T/s-back.txt
B
	run sc sftp -F "$T/ssh_config" -b "$T/batch" 127.0.0.1
	assert_success
	assert_output --partial "s.txt"
	cmp "$T/s.txt" "$T/sftpdir/s.txt"
	cmp "$T/s.txt" "$T/s-back.txt"
	after_session
}

@test "ssh -o ProxyCommand='scramble-connect -c CONF %h %p' (no shim)" {
	run ssh -F "$T/ssh_config" -o ProxyCommand="$B/scramble-connect -c $T/client.conf %h %p" \
		127.0.0.1 'echo via-proxy; echo "$SSH_CLIENT"'
	assert_success
	assert_line via-proxy
	[ "$(rdv_count)" = 1 ]
	after_session
	# known_hosts: the host under its usual name, no port
	run cut -d' ' -f1 "$T/known_hosts"
	assert_output 127.0.0.1
}

@test "known_hosts: one entry for the host under its usual port, none for valid ports" {
	local i
	for i in 1 2 3; do
		run sc ssh -F "$T/ssh_config" 127.0.0.1 true
		assert_success
		after_session
	done
	[ "$(rdv_count)" = 3 ]
	# three sessions, three (very likely different) valid ports, one entry
	run cat "$T/known_hosts"
	[ "${#lines[@]}" = 1 ]
	[[ ${lines[0]} == "127.0.0.1 ssh-ed25519 "* ]]
	! grep -q '^\[' "$T/known_hosts"
	# and it is the host key of the scrambled sshd: strict checking passes
	run sc ssh -F "$T/ssh_config" -o StrictHostKeyChecking=yes 127.0.0.1 true
	assert_success
	after_session
	# a changed host key is detected like on any ssh server
	ssh-keygen -q -t ed25519 -N '' -f "$T/host_key2"
	sed -i "s|^HostKey .*|HostKey $T/host_key2|" "$T/sshd_config"
	run sc ssh -F "$T/ssh_config" -o StrictHostKeyChecking=yes 127.0.0.1 true
	assert_failure
	assert_output --partial "REMOTE HOST IDENTIFICATION HAS CHANGED"
}

@test "a failed login (wrong key) ends the server too" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
	grep -v 'id_user' "$T/ssh_config" >"$T/ssh_config2"
	run sc ssh -F "$T/ssh_config2" -i "$T/wrong_key" 127.0.0.1 true
	assert_failure
	assert_output --partial "Permission denied"
	! log_has 'login ok '
	local pid
	pid=$(last_rdv pid)
	wait_until 15 pid_gone "$pid"
	[ -z "$(test_listeners | grep -vx "$RDV_PORT")" ]
}
