#!/usr/bin/env bats
# contrib/scramble-rollout, run only inside a private mount namespace whose
# /etc is a bind-mounted copy: the host's /etc/ld.so.preload is never
# written, and every test checks that it is unchanged.

load helpers

ROLLOUT=$BATS_TEST_DIRNAME/../contrib/scramble-rollout

host_preload_state() {
	if [ -e /etc/ld.so.preload ]; then
		stat -c '%a %u %g %s %Y' /etc/ld.so.preload && sha256sum </etc/ld.so.preload
	else
		echo absent
	fi
}

setup() {
	common_setup
	HOST_BEFORE=$(host_preload_state)
	LIB=$B/libscramble.so
	[ -f "$LIB" ] || fail "build/libscramble.so is not built"
	# a harmless second preload library, as another admin's entry
	printf 'static void __attribute__((constructor)) init(void) {}\n' >"$T/noop.c"
	cc -shared -fPIC -o "$T/libnoop.so" "$T/noop.c"
	# a library that talks: must never reach ld.so.preload
	printf '#include <stdio.h>\nstatic void __attribute__((constructor)) init(void) { fputs("hello from a bad lib\\n", stderr); }\n' >"$T/loud.c"
	cc -shared -fPIC -o "$T/libloud.so" "$T/loud.c"
}

teardown() {
	local after
	after=$(host_preload_state)
	common_teardown
	[ "$after" = "$HOST_BEFORE" ] || { echo "host /etc/ld.so.preload changed!" >&2; return 1; }
}

# in_ns SCRIPT: run bash SCRIPT with a private copy of /etc over /etc;
# ROLLOUT, LIB, T exported
in_ns() {
	export ROLLOUT LIB T
	unshare -m --propagation private bash -c '
		set -e
		cp -a /etc "$T/etc"
		mount --bind "$T/etc" /etc
		[ "$(findmnt -n -o TARGET /etc)" = /etc ]   # really our copy
		set +e
		'"$1"
}

@test "install into no file, status, uninstall removes the file it created" {
	run in_ns '
		rm -rf /etc/ld.so.preload /etc/scramble
		"$ROLLOUT" --lib "$LIB" status; echo "status1=$?"
		"$ROLLOUT" --lib "$LIB" install || exit 1
		printf "file=[%s]\n" "$(cat /etc/ld.so.preload)"
		stat -c "mode=%a owner=%u" /etc/ld.so.preload
		"$ROLLOUT" --lib "$LIB" status; echo "status2=$?"
		/bin/true && echo "true ran with the global preload"
		grep -q libscramble /proc/self/maps && echo "new processes map the shim"
		"$ROLLOUT" --lib "$LIB" uninstall || exit 1
		[ -e /etc/ld.so.preload ] && echo "file left" || echo "file removed"
		[ -e /etc/scramble ] && echo "state dir left" || echo "state dir removed"
		"$ROLLOUT" --lib "$LIB" status; echo "status3=$?"
		ls -A /etc | grep -c "^\.ld\.so\.preload" || true
	'
	assert_success
	assert_line "status1=3"
	assert_line "file=[$LIB]"
	assert_line "mode=644 owner=0"
	assert_line "installed: $LIB in /etc/ld.so.preload"
	assert_line "status2=0"
	assert_line "true ran with the global preload"
	assert_line "new processes map the shim"
	assert_line "file removed"
	assert_line "state dir removed"
	assert_line "status3=3"
	assert_line "0"   # no temporary files left in /etc
}

@test "keeps other entries, adds no duplicate, uninstall restores the file byte for byte" {
	run in_ns '
		printf "%s" "$T/libnoop.so" >/etc/ld.so.preload      # no final newline
		chmod 0640 /etc/ld.so.preload
		cp -p /etc/ld.so.preload "$T/orig"
		"$ROLLOUT" --lib "$LIB" install || exit 1
		"$ROLLOUT" --lib "$LIB" install || exit 1
		echo "lines=$(grep -c . /etc/ld.so.preload)"
		echo "ours=$(grep -cxF "$LIB" /etc/ld.so.preload)"
		grep -qxF "$T/libnoop.so" /etc/ld.so.preload && echo "other kept"
		stat -c "mode=%a" /etc/ld.so.preload
		"$ROLLOUT" --lib "$LIB" uninstall || exit 1
		cmp /etc/ld.so.preload "$T/orig" && echo identical
		[ "$(stat -c %a%u%g /etc/ld.so.preload)" = "$(stat -c %a%u%g "$T/orig")" ] && echo "same mode and owner"
	'
	assert_success
	assert_line "lines=2"
	assert_line "ours=1"
	assert_line "other kept"
	assert_line "mode=640"
	assert_line "identical"
	assert_line "same mode and owner"
}

@test "an entry added by someone else after install survives uninstall" {
	run in_ns '
		rm -f /etc/ld.so.preload
		"$ROLLOUT" --lib "$LIB" install || exit 1
		echo "$T/libnoop.so" >>/etc/ld.so.preload
		"$ROLLOUT" --lib "$LIB" uninstall || exit 1
		printf "file=[%s]\n" "$(cat /etc/ld.so.preload)"
	'
	assert_success
	assert_line "file=[$T/libnoop.so]"
}

@test "refuses a library that does not load cleanly, and leaves the file alone" {
	run in_ns '
		echo "$T/libnoop.so" >/etc/ld.so.preload
		sha256sum /etc/ld.so.preload >"$T/sum"
		"$ROLLOUT" --lib "$T/libloud.so" install; echo "loud=$?"
		"$ROLLOUT" --lib "$T/missing.so" install; echo "missing=$?"
		printf "not an ELF\n" >"$T/fake.so"
		"$ROLLOUT" --lib "$T/fake.so" install; echo "fake=$?"
		cp "$LIB" "$T/gw.so"; chmod 0664 "$T/gw.so"
		"$ROLLOUT" --lib "$T/gw.so" install; echo "groupwritable=$?"
		"$ROLLOUT" --lib relative.so install; echo "relative=$?"
		"$ROLLOUT" frobnicate; echo "usage=$?"
		sha256sum -c --quiet "$T/sum" && echo unchanged
	'
	assert_success
	assert_line "loud=1"
	assert_line "missing=1"
	assert_line "fake=1"
	assert_line "groupwritable=1"
	assert_line "relative=1"
	assert_line "usage=2"
	assert_line "unchanged"
	assert_output --partial "does not load cleanly"
	assert_output --partial "writable by group or others"
}

@test "the rollout never ran outside the namespace" {
	# the same sequence as above, and the host file is as it was (teardown
	# checks it too); the namespace copy really was a different file
	run in_ns '
		"$ROLLOUT" --lib "$LIB" install >/dev/null || exit 1
		stat -c %i /etc/ld.so.preload
	'
	assert_success
	[ "$(host_preload_state)" = "$HOST_BEFORE" ]
	if [ -e /etc/ld.so.preload ]; then ! grep -qF "$LIB" /etc/ld.so.preload; fi
}
