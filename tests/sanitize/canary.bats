#!/usr/bin/env bats
# The sanitizer pass (make check SANITIZE=1) really catches errors: planted
# canaries must be stopped, and the programs under test are instrumented.
# Run with the other suites by make check SANITIZE=1 only.

load ../helpers
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
B=${SCRAMBLE_BUILD:-$TOP/build-san}

setup() { common_setup; }
teardown() { common_teardown; }

# run_canary NAME: run it with sanitizer reports on stderr (not in the log
# files the rest of the pass writes, which tests/sanitize/reports.bats checks)
run_canary() {
	[ -x "$B/canary/$1" ] || fail "$B/canary/$1 missing: build with make SANITIZE=1"
	run env ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$B/canary/$1"
}

@test "canary: a one-byte heap overflow is stopped by AddressSanitizer" {
	run_canary canary_heap
	assert_failure
	assert_output --partial "ERROR: AddressSanitizer: heap-buffer-overflow"
	assert_output --partial "canary_heap.c:16"
	refute_output --partial "canary survived"
}

@test "canary: a use after free is stopped by AddressSanitizer" {
	run_canary canary_uaf
	assert_failure
	assert_output --partial "ERROR: AddressSanitizer: heap-use-after-free"
	refute_output --partial "canary survived"
}

@test "canary: signed overflow is stopped by UndefinedBehaviorSanitizer" {
	run_canary canary_ub
	assert_failure
	assert_output --partial "runtime error: signed integer overflow"
	refute_output --partial "canary survived"
}

@test "canary: a lost allocation is reported by LeakSanitizer at exit" {
	run_canary canary_leak
	assert_failure
	assert_output --partial "ERROR: LeakSanitizer: detected memory leaks"
	assert_output --partial "4096 byte(s) leaked"
}

# instrumented FILE: it calls into both ASan and UBSan
instrumented() {
	nm -D "$1" | grep -q '__asan_report_' || { echo "$1: no ASan" >&2; return 1; }
	nm -D "$1" | grep -q '__ubsan_handle_' || { echo "$1: no UBSan" >&2; return 1; }
}

@test "sanitizer build: the daemon, scramblectl and every unit test are instrumented" {
	local f n=0
	for f in "$B/scrambled" "$B/scramblectl" "$B"/unit/test_*; do
		[ -x "$f" ] || fail "$f missing"
		instrumented "$f" || fail "$f is not built with -fsanitize=address,undefined"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}

@test "sanitizer build: the shim is never sanitized (it is loaded into other programs)" {
	local f
	for f in "$B/libscramble.so" "$B/libscramble-conf.so"; do
		[ -f "$f" ] || fail "$f missing"
		run nm -D "$f"
		refute_output --partial "__asan"
		refute_output --partial "__ubsan"
		run readelf -d "$f"
		refute_output --regexp 'NEEDED.*(libasan|libubsan)'
	done
}
