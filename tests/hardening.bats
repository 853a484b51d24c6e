#!/usr/bin/env bats
# The release build is hardened (issue 8, "Build variants"): checked on the
# built files themselves, so a regression in the Makefile fails CI.
#   programs:  PIE, full RELRO (GNU_RELRO + BIND_NOW), stack protector,
#              _FORTIFY_SOURCE, non-executable stack, no TEXTREL/RPATH
#   libraries: the same minus PIE; the shim exports only its hooks
# Not part of make check SANITIZE=1 (that build is deliberately different).

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

PROGS=(scrambled scramblectl scramble scramble-connect)
SOLIBS=(libscramble.so libscramble-conf.so)
# the embedding API: exports limited by a version script, not by -fvisibility
APILIB=libscramble-api.so.1

# each FILE...: fail unless every named built file exists
exist() {
	local f
	for f in "$@"; do
		[ -f "$B/$f" ] || fail "$B/$f is missing: run make first"
	done
}

full_relro() {
	readelf -lW "$1" | grep -q ' GNU_RELRO ' || { echo "$1: no GNU_RELRO segment" >&2; return 1; }
	readelf -dW "$1" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' ||
		{ echo "$1: no BIND_NOW" >&2; return 1; }
}

@test "programs are position-independent executables" {
	exist "${PROGS[@]}"
	local p
	for p in "${PROGS[@]}"; do
		run readelf -hW "$B/$p"
		assert_output --regexp 'Type: +DYN \(Position-Independent Executable'
		run readelf -dW "$B/$p"
		assert_output --regexp '\(FLAGS_1\).*PIE'
	done
}

@test "programs and shared objects have full RELRO (GNU_RELRO and BIND_NOW)" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		full_relro "$B/$f" || fail "$f is not full RELRO"
	done
}

@test "no executable stack, no text relocations, no RPATH or RUNPATH" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		run readelf -lW "$B/$f"
		assert_output --regexp 'GNU_STACK +(0x[0-9a-f]+ +){5}RW '
		run readelf -dW "$B/$f"
		refute_output --regexp 'TEXTREL|\(RPATH\)|\(RUNPATH\)'
	done
}

@test "stack protector: every file calls __stack_chk_fail" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		nm -D "$B/$f" | grep -q ' U __stack_chk_fail' || fail "$f: no stack protector"
	done
}

@test "_FORTIFY_SOURCE: every file uses the checked libc functions" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		nm -D "$B/$f" | grep -Eq ' U __[a-z]+_chk(@|$)' || fail "$f: no __*_chk symbols"
	done
}

# cu_producers FILE: "SOURCE<TAB>compiler flags" for each compilation unit
cu_producers() {
	readelf --debug-dump=info "$1" 2>/dev/null | awk '
		/DW_TAG_compile_unit/ { prod = ""; want = 1 }
		want && /DW_AT_producer/ { sub(/.*DW_AT_producer *: *(\(indirect[^)]*\): *)?/, ""); prod = $0 }
		want && /DW_AT_name/ { sub(/.*DW_AT_name *: *(\(indirect[^)]*\): *)?/, "");
			if (prod != "") { print $0 "\t" prod; want = 0 } }'
}

@test "every compilation unit of ours was built with -O2 and -fstack-protector-strong" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f n=0 src flags
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		while IFS=$'\t' read -r src flags; do
			case "$src" in common/*|daemon/*|preload/*) ;; *) continue ;; esac
			n=$((n + 1))
			[[ " $flags " == *" -O2 "* ]] || fail "$f: $src built without -O2: $flags"
			[[ " $flags " == *" -fstack-protector-strong "* || " $flags " == *" -fstack-protector-all "* ]] ||
				fail "$f: $src built without -fstack-protector-strong: $flags"
			[[ " $flags " != *" -fsanitize="* ]] || fail "$f: $src is sanitized in the release build"
		done < <(cu_producers "$B/$f")
	done
	[ "$n" -ge 10 ] || fail "only $n compilation units found: no debug info?"
}

@test "every shim compilation unit was built with -fvisibility=hidden" {
	exist "${SOLIBS[@]}"
	local f n=0 src flags
	for f in "${SOLIBS[@]}"; do
		while IFS=$'\t' read -r src flags; do
			n=$((n + 1))
			[[ " $flags " == *" -fvisibility=hidden "* ]] || fail "$f: $src not hidden: $flags"
		done < <(cu_producers "$B/$f")
	done
	[ "$n" -ge 3 ]
}

@test "every compile command of the release build has the hardening flags" {
	# what make would run from scratch (-n: nothing is built)
	run make -s -n -B -C "$TOP" B="$T/b" SANITIZE= all
	assert_success
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[[ "$line" =~ -D_FORTIFY_SOURCE=[23] ]] || fail "no _FORTIFY_SOURCE: $line"
		[[ "$line" == *-fstack-protector-strong* ]] || fail "no stack protector: $line"
		[[ "$line" == *" -O2 "* ]] || fail "no -O2 (FORTIFY needs optimisation): $line"
		[[ "$line" == *-Werror* ]] || fail "no -Werror: $line"
	done < <(grep -E -- ' -c( |$)' <<<"$output")
	[ "$n" -ge 10 ] || fail "only $n compile commands found"
	# and every link of a program is PIE with full RELRO
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[[ "$line" == *-Wl,-z,relro* && "$line" == *-z,now* ]] || fail "no full RELRO: $line"
	done < <(grep -E -- ' -pie ' <<<"$output")
	[ "$n" -ge 4 ]
}

@test "libscramble.so exports only its hooks" {
	exist libscramble.so
	run nm -D --defined-only "$B/libscramble.so"
	assert_success
	local syms
	syms=$(awk '{ print $NF }' <<<"$output" | sed 's/@.*//' | sort -u)
	echo "exported: $syms"
	grep -qx connect <<<"$syms" || fail "connect is not exported"
	local bad
	bad=$(grep -Evx 'connect|sendto|sendmsg|scramble_[a-z0-9_]+' <<<"$syms" || true)
	[ -z "$bad" ] || fail "unexpected exports: $bad"
}

@test "libscramble-conf.so exports only scramble_* entry points" {
	exist libscramble-conf.so
	run nm -D --defined-only "$B/libscramble-conf.so"
	assert_success
	local syms bad
	syms=$(awk '{ print $NF }' <<<"$output" | sed 's/@.*//' | sort -u)
	echo "exported: $syms"
	[ -n "$syms" ] || fail "exports nothing"
	bad=$(grep -Evx 'scramble_[a-z0-9_]+' <<<"$syms" || true)
	[ -z "$bad" ] || fail "unexpected exports: $bad"
}

@test "libscramble.so needs nothing but libc (libconfuse stays in libscramble-conf.so)" {
	exist libscramble.so
	run readelf -dW "$B/libscramble.so"
	local needed bad
	needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$output")
	echo "needed: $needed"
	bad=$(grep -Evx 'lib(c|dl|pthread)\.so\.[0-9]+' <<<"$needed" || true)
	[ -z "$bad" ] || fail "libscramble.so pulls in: $bad"
}

@test "no sanitizer runtime in the release build" {
	exist "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"
	local f
	for f in "${PROGS[@]}" "${SOLIBS[@]}" "$APILIB"; do
		run nm -D "$B/$f"
		refute_output --regexp '__(asan|ubsan)_'
	done
}

@test "libscramble-api exports exactly the functions of scramble.h, and no hook" {
	exist "$APILIB"
	run nm -D --defined-only "$B/$APILIB"
	assert_success
	local syms want
	syms=$(awk '$2 == "T" { print $NF }' <<<"$output" | sed 's/@.*//' | sort -u)
	want=$(grep -oE '^(int|void|unsigned|struct scramble_[a-z]+ \*)[ ]*(scramble_[a-z_]+)\(' "$TOP/include/scramble.h" |
		grep -oE 'scramble_[a-z_]+\($' | tr -d '(' | sort -u)
	echo "exported: $syms"
	echo "declared: $want"
	[ "$(wc -l <<<"$want")" -ge 20 ] || fail "header parse found too few functions"
	[ "$syms" = "$want" ] || fail "exports differ from the header"
	run awk '$2 != "T" && $2 != "A" { print }' <<<"$(nm -D --defined-only "$B/$APILIB")"
	assert_output ""
}
