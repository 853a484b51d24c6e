#!/usr/bin/env bats
# The man pages in contrib/man render without warnings, describe every
# configuration key and are installed by "make install".

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

PAGES="scrambled.8 scramblectl.8 scramble.1 scramble-connect.1 libscramble.7 scramble.conf.5 scramble-protocol.7"

# render_warnings FILE: what groff and man say about FILE on stderr
# as_text FILE: the page as plain text, 200 columns (no col(1) needed)
as_text() { groff -man -Tutf8 -P-cbou -rLL=200n "$1" 2>/dev/null; }

render_warnings() {
	groff -man -ww -z "$1" 2>&1 >/dev/null
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null
}

@test "every man page exists and renders without warnings" {
	local p out
	for p in $PAGES; do
		[ -s "$TOP/contrib/man/$p" ] || fail "missing contrib/man/$p"
		out=$(render_warnings "$TOP/contrib/man/$p")
		[ -z "$out" ] || fail "$p: $out"
	done
}

@test "the warning check catches a broken page" {
	sed 's/^\.SH DESCRIPTION/.SH DESCRIPTION\n.BOGUSMACRO x\n\\fQoops/' \
		"$TOP/contrib/man/scrambled.8" >"$T/broken.8"
	run render_warnings "$T/broken.8"
	[ -n "$output" ]
}

@test "every page has a NAME line for whatis and renders as text" {
	local p name sec out
	for p in $PAGES; do
		name=${p%.*}; sec=${p##*.}
		out=$(lexgrog "$TOP/contrib/man/$p")
		[[ $out == *"\"$name - "* ]] || fail "$p: NAME section: $out"
		out=$(as_text "$TOP/contrib/man/$p")
		[[ $out == *SYNOPSIS* && $out == *DESCRIPTION* ]] || fail "$p: no SYNOPSIS/DESCRIPTION"
		grep -q "^\.TH $(echo "$name" | tr a-z- A-Z-| sed 's/-/\\\\-/') $sec " "$TOP/contrib/man/$p" ||
			grep -qi "^\.TH ${name} $sec " "$TOP/contrib/man/$p" || fail "$p: .TH does not name section $sec"
	done
}

@test "scramble.conf(5) documents every key with its default" {
	local page out k
	page=$(as_text "$TOP/contrib/man/scramble.conf.5")
	for k in file ports listen table offsets mode command backend user group env \
		connect_timeout start_timeout login_log login_match login_timeout allow \
		max_pending per_source rate deny_time guard kill_grace poll_ms watch \
		host port rendezvous timeout auth key; do
		grep -Eq "^ {5,9}([a-z_]+, )?$k( |,|\$)" <<<"$page" || fail "key $k not described"
	done
	for out in "Default 60" "Default 5" "Default 30" "Default 16" "Default 4" \
		"Default 2" "Default 200" "1024-65535" "hour" "client-octet"; do
		grep -qF -- "$out" <<<"$page" || fail "missing: $out"
	done
}

@test "scrambled(8) warns that the debug level may log decoy/valid pairs" {
	local page
	page=$(as_text "$TOP/contrib/man/scrambled.8")
	grep -q 'may contain decoy and valid port pairs' <<<"$page"
	for o in -c -s -f -t -d SIGHUP SIGTERM 'EXIT STATUS' SECURITY FILES; do
		grep -qF -- "$o" <<<"$page" || fail "scrambled(8) lacks $o"
	done
}

@test "the limits of the shim are documented (static binaries, raw syscall)" {
	local p
	for p in libscramble.7 scramble.1; do
		grep -q 'Statically linked\|statically linked' "$TOP/contrib/man/$p" || fail "$p: static"
		grep -q 'SYS_connect' "$TOP/contrib/man/$p" || fail "$p: SYS_connect"
		grep -q 'scramble\\-connect' "$TOP/contrib/man/$p" || fail "$p: scramble-connect"
	done
}

@test "make install puts every page in its section" {
	# default PREFIX, so that the objects in build/ stay those of "make"
	run make -C "$TOP" --no-print-directory install DESTDIR="$T/root"
	assert_success
	local p
	for p in $PAGES; do
		cmp "$TOP/contrib/man/$p" "$T/root/usr/local/share/man/man${p##*.}/$p" || fail "$p not installed"
	done
	# and man finds them there by name
	run env MANPATH="$T/root/usr/local/share/man" man -w scramble.conf
	assert_success
	assert_output "$T/root/usr/local/share/man/man5/scramble.conf.5"
}

@test "the BUGS note about unimplemented modes is true of the daemon as built" {
	umask 022
	make_table "$T/t.table" 20000-20099 >/dev/null
	local mode note
	for mode in inetd forward; do
		cat >"$T/c.conf" <<CONF
table "t" { file = "$T/t.table" ports = "20000-20099" }
service "x" { listen = { "127.0.0.1:0" } table = "t" mode = "$mode" command = "/bin/cat" backend = "127.0.0.1:9" }
CONF
		run "$B/scrambled" -t -c "$T/c.conf"
		note=no
		grep -q "^\.B $mode\$" <(sed -n '/^\.SH BUGS/,/^\.SH SEE ALSO/p' "$TOP/contrib/man/scramble.conf.5") && note=yes
		if [[ $output == *"mode $mode is not supported"* ]]; then
			[ $note = yes ] || fail "scrambled refuses $mode but scramble.conf(5) BUGS does not say so"
		else
			[ $note = no ] || fail "scrambled accepts $mode now: remove it from BUGS in scramble.conf(5) and scrambled(8)"
		fi
	done
}
