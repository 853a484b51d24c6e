#!/usr/bin/env bats
# Global rollout: inside a private mount namespace whose /etc is a copy
# (the host's /etc is never written), scramble-rollout puts the shim into
# /etc/ld.so.preload and the client configuration is the system one,
# /etc/scramble/scramble.conf.  A plain ssh (no LD_PRELOAD, no wrapper, no
# SCRAMBLE_CONF) then reaches the scrambled sshd, and everyday programs
# behave exactly as without the preload.

load helpers
load ssh_helpers

host_preload_state() {
	if [ -e /etc/ld.so.preload ]; then sha256sum </etc/ld.so.preload; else echo absent; fi
	[ -e /etc/scramble ] && ls -la --time-style=+%s /etc/scramble || echo "no /etc/scramble"
}

setup() {
	common_setup
	HOST_BEFORE=$(host_preload_state)
	ssh_keys
	sshd_config_for 127.0.0.1
	ssh_client_config
	ssh_table
	scrambled_ssh_conf "$T/server.conf" 127.0.0.1:0 '"hour", "client-octet"'
	start_scrambled "$T/server.conf" -S "$T/status.sock"
	ssh_client_conf "$T/client.conf" 127.0.0.1 22 "$RDV_PORT" '"hour", "client-octet"'
	CLIENT_ADDR=127.0.0.1 OFFSETS_CSV=hour,client-octet
}

teardown() {
	local after
	after=$(host_preload_state)
	common_teardown
	[ "$after" = "$HOST_BEFORE" ] || { echo "the host's /etc changed!" >&2; return 1; }
}

# in_rollout SCRIPT: bash SCRIPT in a private mount namespace, /etc a copy
# with the shim rolled out and the client configuration installed
in_rollout() {
	export T B TOP
	unshare -m --propagation private env -u LD_PRELOAD -u SCRAMBLE_CONF bash -c '
		set -e
		cp -a /etc "$T/etc"
		mount --bind "$T/etc" /etc
		mkdir -p -m 0755 /etc/scramble
		install -m 0644 "$T/client.conf" /etc/scramble/scramble.conf
		"$TOP/contrib/scramble-rollout" --lib "$B/libscramble.so" install >/dev/null
		set +e
		'"$1"
}

@test "a plain ssh reaches the scrambled sshd once the shim is rolled out" {
	run in_rollout '
		grep -q libscramble /proc/self/maps && echo mapped || echo not-mapped
		ssh -F "$T/ssh_config" 127.0.0.1 "echo \"\$SSH_CONNECTION\""
	'
	assert_success
	assert_line --index 0 mapped     # the shim is in every new process
	[[ ${lines[1]} =~ ^127\.0\.0\.1\ [0-9]+\ 127\.0\.0\.1\ ([0-9]+)$ ]] || fail "$output"
	local valid=${BASH_REMATCH[1]}
	is_valid_for "$valid" "$(last_rdv decoy)" 127.0.0.1 hour,client-octet
	wait_log "login ok service=ssh client=127\.0\.0\.1"
	after_session
	# outside the namespace nothing changed: a plain ssh is refused
	run ssh -F "$T/ssh_config" 127.0.0.1 true
	assert_failure
	[ "$(rdv_count)" = 1 ]
}

@test "at least 30 everyday programs behave the same with the global preload" {
	# fixtures with fixed contents and times
	mkdir -p "$T/fx/sub" "$T/www"
	printf 'banana\napple\ncherry\napple\nroot:x:0:0\n' >"$T/fx/a.txt"
	printf 'one\ntwo\n' >"$T/fx/sub/b.txt"
	printf 'one\nTWO\n' >"$T/fx/c.txt"
	touch -d @1000000000 "$T/fx/a.txt" "$T/fx/sub/b.txt" "$T/fx/c.txt" "$T/fx/sub" "$T/fx"
	echo "served over http" >"$T/www/f.txt"
	git init -q "$T/repo"
	(cd "$T/repo" && echo x >x && git add x &&
		GIT_AUTHOR_DATE=@1000000000 GIT_COMMITTER_DATE=@1000000000 \
		git -c user.name=t -c user.email=t@t commit -q -m fixed)
	HP=$(free_port)
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HP" >/dev/null 2>&1 3>&- &
	track $!
	wait_until 10 is_listening "$HP"
	CLOSED=$(free_port)
	export HP CLOSED T B TOP
	cat >"$T/progs.sh" <<'PROGS'
# run_prog NAME CMD...: stdout, stderr and exit status of CMD into $OUT
run_prog() {
	local n=$1; shift
	"$@" >"$OUT/$n.out" 2>"$OUT/$n.err" </dev/null
	echo $? >"$OUT/$n.rc"
}
sh_prog() { local n=$1; shift; run_prog "$n" bash -c "$*"; }
mkdir -p "$OUT"
cd "$T/fx"
run_prog true /bin/true
run_prog false /bin/false
run_prog echo /bin/echo hello world
run_prog printf /usr/bin/printf '%s-%d\n' a 7
run_prog ls ls -lR --time-style=+%s "$T/fx"
run_prog cat cat a.txt sub/b.txt
run_prog sort sort a.txt
sh_prog uniq 'sort a.txt | uniq -c'
run_prog wc wc a.txt sub/b.txt
run_prog head head -n 3 a.txt
run_prog tail tail -n 2 a.txt
run_prog cut cut -d: -f1,3 a.txt
sh_prog tr 'tr a-z A-Z <a.txt'
run_prog sed sed -n 's/an/AN/gp' a.txt
run_prog awk awk '{n += length($0)} END {print NR, n}' a.txt
run_prog grep grep -n apple a.txt
run_prog grep-miss grep nothing a.txt
sh_prog find 'find . -print | sort'
sh_prog tar 'tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - . | sha256sum'
sh_prog gzip 'gzip -n -c a.txt | gunzip -c'
run_prog sha256sum sha256sum a.txt
run_prog md5sum md5sum a.txt
run_prog base64 base64 a.txt
run_prog date date -u -d @0 '+%F %T %Z'
sh_prog bash 'echo $((6*7)); type cd; x=(a b c); echo ${#x[@]}'
run_prog sh sh -c 'echo dash $((2+2))'
run_prog python3 /usr/bin/python3 -c 'import sys, json; print(json.dumps({"s": sum(range(100))}), sys.version_info[0])'
run_prog python3-refused /usr/bin/python3 -c '
import socket, os
try:
    socket.create_connection(("127.0.0.1", int(os.environ["CLOSED"])), timeout=5)
except OSError as e:
    print(type(e).__name__, e.errno)'
run_prog python3-http /usr/bin/python3 -c '
import urllib.request, os
print(urllib.request.urlopen("http://127.0.0.1:%s/f.txt" % os.environ["HP"], timeout=10).read().decode(), end="")'
run_prog perl perl -e 'print join(",", map { $_ * 2 } 1..5), "\n"'
run_prog perl-socket perl -MIO::Socket::INET -e '
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ENV{CLOSED}, Timeout => 5);
print defined $s ? "connected\n" : "failed\n"'
run_prog git-version git --version
run_prog git-log git -C "$T/repo" log --format='%H %an %s'
run_prog git-status git -C "$T/repo" status --porcelain
run_prog curl-http curl -sS --max-time 10 "http://127.0.0.1:$HP/f.txt"
sh_prog curl-refused 'curl -sS --max-time 5 "http://127.0.0.1:$CLOSED/" 2>&1 | sed "s/after [0-9]* ms/after N ms/"; exit ${PIPESTATUS[0]}'
run_prog ssh-V ssh -V
run_prog ps ps -o comm= -p 1
run_prog id id -un
run_prog stat stat -c '%s %a %Y' a.txt
sh_prog xargs 'seq 1 6 | xargs -n 2 echo'
run_prog diff diff sub/b.txt c.txt
run_prog cmp cmp sub/b.txt c.txt
run_prog getent getent hosts localhost
run_prog uname uname -s
sh_prog dd 'dd if=/dev/zero bs=1k count=4 status=none | wc -c'
run_prog nc-closed nc -z -w 2 127.0.0.1 "$CLOSED"
sh_prog socat 'printf "GET /f.txt HTTP/1.0\r\n\r\n" | socat -t 5 - TCP:127.0.0.1:$HP | tail -n 1'
sh_prog fds 'ls /proc/$$/fd | wc -l'
run_prog env-LD env -u _ sh -c 'echo "LD_PRELOAD=[${LD_PRELOAD-unset}]"'
run_prog missing /nonexistent/program
PROGS
	run unshare -m --propagation private env -u LD_PRELOAD -u SCRAMBLE_CONF bash -c '
		set -e
		cp -a /etc "$T/etc"
		mount --bind "$T/etc" /etc
		mkdir -p -m 0755 /etc/scramble
		install -m 0644 "$T/client.conf" /etc/scramble/scramble.conf
		set +e
		echo "before: $(grep -c libscramble /proc/self/maps)"   # 0, or the mappings
		OUT=$T/base bash "$T/progs.sh"
		"$TOP/contrib/scramble-rollout" --lib "$B/libscramble.so" install >/dev/null || exit 1
		grep -q libscramble /proc/self/maps && echo "after: mapped"
		OUT=$T/pre bash "$T/progs.sh"
	'
	assert_success
	assert_line "before: 0"
	assert_line "after: mapped"
	local n=0 bad="" f
	for f in "$T"/base/*.rc; do
		f=$(basename "$f" .rc)
		n=$((n + 1))
		local x
		for x in out err rc; do
			cmp -s "$T/base/$f.$x" "$T/pre/$f.$x" ||
				bad="$bad $f.$x[$(head -c 200 "$T/base/$f.$x")|$(head -c 200 "$T/pre/$f.$x")]"
		done
	done
	[ -z "$bad" ] || fail "differ:$bad"
	[ "$n" -ge 30 ] || fail "only $n programs"
	echo "# $n programs compared" >&3
	# the fixtures did work (not all empty): spot checks
	[ "$(cat "$T/pre/python3-http.out")" = "served over http" ]
	[ "$(cat "$T/pre/curl-http.out")" = "served over http" ]
	[ "$(cat "$T/pre/false.rc")" = 1 ]
	[ "$(cat "$T/pre/missing.rc")" = 127 ]
	grep -q ConnectionRefusedError "$T/pre/python3-refused.out"
	grep -q OpenSSH "$T/pre/ssh-V.err"
	# no scrambling happened for any of them
	[ "$(rdv_count)" = 0 ]
}
