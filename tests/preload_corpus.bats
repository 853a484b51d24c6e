#!/usr/bin/env bats
# Global preload corpus (issue 8), complementing tests/rollout_global.bats
# (which compares 51 everyday programs as root): inside a private mount
# namespace whose /etc is a copy with the shim in /etc/ld.so.preload and a
# system configuration with a live target, more everyday programs, and the
# privileged ones (setuid, setgid, file capabilities) run both as root and
# as an unprivileged user (secure-execution mode), give byte-identical
# stdout, stderr and exit status with and without the preload.  The host's
# /etc is never written.
load helpers

host_etc_state() {
	if [ -e /etc/ld.so.preload ]; then sha256sum </etc/ld.so.preload; else echo absent; fi
	[ -e /etc/scramble ] && ls -la --time-style=+%s /etc/scramble || echo "no /etc/scramble"
}

setup() {
	common_setup
	HOST_BEFORE=$(host_etc_state)
}

teardown() {
	local after
	after=$(host_etc_state)
	common_teardown
	[ "$after" = "$HOST_BEFORE" ] || { echo "the host's /etc changed!" >&2; return 1; }
}

@test "more programs, setuid, setgid and file-capability ones, as root and as nobody: identical with the global preload" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# a live system configuration: a target on a port nobody uses here,
	# its rendezvous a recording listener that must see nothing
	shim_table
	chmod 0644 "$T/t.table"
	start_fake rdv 127.0.0.1 record
	local wk
	wk=$(free_port)
	shim_conf "$T/client.conf" '"127.0.0.1"' "$wk" "$FAKE_PORT"
	mkdir -p "$T/fx" "$T/www" "$T/home"
	chmod 0777 "$T/home"
	printf 'alpha\nbeta\ngamma\n' >"$T/fx/a.txt"
	touch -d @1000000000 "$T/fx/a.txt" "$T/fx"
	echo "served over http" >"$T/www/f.txt"
	HP=$(free_port)
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HP" >/dev/null 2>&1 3>&- &
	track $!
	wait_until 10 is_listening "$HP"
	CLOSED=$(free_port)
	# a program with file capabilities (none ship on this system): a copy
	# of id with cap_net_bind_service
	CAPPROG=
	if command -v setcap >/dev/null && cp /usr/bin/id "$T/capid" &&
		setcap cap_net_bind_service+ep "$T/capid" 2>/dev/null; then
		CAPPROG=$T/capid
	fi
	NOBODY=$(id -u nobody)
	export HP CLOSED T B TOP CAPPROG NOBODY
	cat >"$T/progs.sh" <<'PROGS'
run_prog() {
	local n=$1; shift
	"$@" >"$OUT/$n.out" 2>"$OUT/$n.err" </dev/null
	echo $? >"$OUT/$n.rc"
}
sh_prog() { local n=$1; shift; run_prog "$n" bash -c "$*"; }
# as nobody, no groups: setuid/setgid/caps programs run in secure mode
as_nobody() { local n=$1; shift; run_prog "$n" setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups env HOME="$T/home" "$@"; }
mkdir -p "$OUT"
cd "$T/fx"
# network clients to local ports: unconfigured closed, served, configured-free
sh_prog wget-refused 'wget -q -O - --tries=1 --timeout=5 "http://127.0.0.1:$CLOSED/"; echo "rc=$?"'
run_prog wget-http wget -q -O - --tries=1 --timeout=10 "http://127.0.0.1:$HP/f.txt"
sh_prog wget-verbose 'wget --tries=1 --timeout=5 "http://127.0.0.1:$CLOSED/x" 2>&1 | sed "s/^--[0-9: -]*--/--DATE--/"'
sh_prog curl-head 'curl -sS -I --max-time 10 "http://127.0.0.1:$HP/f.txt" | grep -v -i "^date:\|^last-modified:"'
sh_prog curl-refused6 'curl -sS --max-time 5 "http://[::1]:$CLOSED/" 2>&1 | sed "s/after [0-9]* ms/after N ms/"'
run_prog apt-cache-policy apt-cache policy bash coreutils
run_prog apt-cache-show apt-cache show --no-all-versions bash
run_prog apt-config apt-config dump APT::Architecture
run_prog dpkg-query dpkg-query -W -f='${Package} ${Status}\n' bash coreutils
run_prog openssl openssl version
sh_prog openssl-dgst 'openssl dgst -sha256 a.txt'
sh_prog openssl-rand 'openssl rand -hex 0 | wc -c'
run_prog gpg gpg --homedir "$T/fx/nogpg" --version
run_prog sqlite3 sqlite3 :memory: 'select 6*7, sqlite_version() is not null;'
sh_prog zip 'zip -q -X -D - a.txt | unzip -p /dev/stdin 2>/dev/null || zip -q -X -D - a.txt | wc -c'
sh_prog xz 'xz -c a.txt | xz -dc'
sh_prog bzip2 'bzip2 -c a.txt | bzip2 -dc'
run_prog jq jq -c '.a + 1' <<<'{"a": 41}'
sh_prog jq-in 'echo "{\"a\": 41}" | jq -c ".a + 1"'
sh_prog make 'printf "all:\n\t@echo made \$\$((1+1))\n" | make -s -f -'
run_prog file file -b a.txt
run_prog ssh-keygen-help ssh-keygen -y -f /nonexistent
sh_prog scp-help 'scp 2>&1 | head -n 2'
run_prog rsync-version rsync --version
sh_prog rsync-local 'rsync -a a.txt "$T/fx/copy.txt" && cat "$T/fx/copy.txt"'
sh_prog man 'MANPAGER=cat man -P cat ls 2>/dev/null | head -n 3'
run_prog getent-passwd getent passwd root
run_prog getent-ahosts getent ahostsv4 localhost
run_prog hostname hostname
sh_prog sort-numeric 'seq 20 -1 1 | sort -n | tr "\n" " "'
run_prog realpath realpath ../fx/./a.txt
run_prog python3-socketpair /usr/bin/python3 -c 'import socket; a, b = socket.socketpair(); a.send(b"sp"); print(b.recv(2))'
run_prog perl-lwp perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ENV{HP}") ? "up\n" : "down\n"'
# privileged programs, as root
run_prog su-help su --help
run_prog passwd-help passwd --help
run_prog chfn-help chfn --help
run_prog mount-version mount --version
run_prog newgrp-missing newgrp no-such-group-xyz
run_prog chage-root chage -l root
run_prog expiry-help expiry --help
run_prog ssh-agent ssh-agent sh -c 'echo "agent ${SSH_AUTH_SOCK:+socket} ${SSH_AGENT_PID:+pid}"'
# and as nobody: setuid, setgid and file capabilities in secure-execution mode
as_nobody nb-su-help su --help
as_nobody nb-su-fail su -c true root
as_nobody nb-passwd-status passwd -S
as_nobody nb-chfn-help chfn --help
as_nobody nb-mount-version mount --version
as_nobody nb-umount-bad umount /nonexistent-mountpoint
as_nobody nb-gpasswd-help gpasswd --help
as_nobody nb-chage chage -l nobody
as_nobody nb-expiry expiry --help
as_nobody nb-id id
as_nobody nb-curl curl -sS --max-time 10 "http://127.0.0.1:$HP/f.txt"
as_nobody nb-wget wget -q -O - --tries=1 --timeout=10 "http://127.0.0.1:$HP/f.txt"
as_nobody nb-debug env SCRAMBLE_DEBUG=1 SCRAMBLE_CONF=/nonexistent su --help
if [ -n "$CAPPROG" ]; then
	run_prog cap-id "$CAPPROG" -u
	as_nobody nb-cap-id "$CAPPROG" -u
fi
PROGS
	run unshare -m --propagation private env -u LD_PRELOAD -u SCRAMBLE_CONF -u SCRAMBLE_DEBUG bash -c '
		set -e
		cp -a /etc "$T/etc"
		mount --bind "$T/etc" /etc
		mkdir -p -m 0755 /etc/scramble
		install -m 0644 "$T/client.conf" /etc/scramble/scramble.conf
		set +e
		echo "before: $(grep -c libscramble /proc/self/maps)"
		OUT=$T/base bash "$T/progs.sh"
		"$TOP/contrib/scramble-rollout" --lib "$B/libscramble.so" install >/dev/null || exit 1
		grep -q libscramble /proc/self/maps && echo "after: mapped"
		setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups su --help >/dev/null 2>&1
		# the shim is really in the setuid program (secure mode) too
		setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
			/usr/bin/python3 -c "import sys; print(\"nobody-mapped\" if \"libscramble\" in open(\"/proc/self/maps\").read() else \"nobody-not-mapped\")"
		OUT=$T/pre bash "$T/progs.sh"
	'
	assert_success
	assert_line "before: 0"
	assert_line "after: mapped"
	assert_line "nobody-mapped"
	local n=0 bad="" f x
	for f in "$T"/base/*.rc; do
		f=$(basename "$f" .rc)
		n=$((n + 1))
		for x in out err rc; do
			cmp -s "$T/base/$f.$x" "$T/pre/$f.$x" ||
				bad="$bad $f.$x[$(head -c 200 "$T/base/$f.$x")|$(head -c 200 "$T/pre/$f.$x")]"
		done
	done
	[ -z "$bad" ] || fail "differ:$bad"
	echo "$n programs compared (CAPPROG=${CAPPROG:-none})" >&3
	[ "$n" -ge 55 ] || fail "only $n programs"
	# the fixtures worked (not all failures): spot checks
	[ "$(cat "$T/pre/wget-http.out")" = "served over http" ]
	[ "$(cat "$T/pre/nb-wget.out")" = "served over http" ]
	[ "$(cat "$T/pre/nb-curl.out")" = "served over http" ]
	grep -q "^bash:" "$T/pre/apt-cache-policy.out"
	grep -q "rc=4" "$T/pre/wget-refused.out"
	grep -q "^Usage" "$T/pre/su-help.out"
	[ "$(cat "$T/pre/nb-su-fail.rc")" != 0 ]
	grep -q "uid=$NOBODY" "$T/pre/nb-id.out"
	# the shim printed nothing anywhere (even asked to, in a setuid program)
	! grep -l -i scramble "$T"/pre/*.err
	[ ! -s "$T/pre/nb-debug.err" ]
	# the configured target was never contacted
	[ "$(fake_conns rdv)" -eq 0 ]
}
