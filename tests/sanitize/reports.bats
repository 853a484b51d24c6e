#!/usr/bin/env bats
# Last suite of make check SANITIZE=1: no process of the whole pass (unit
# tests, daemons, servers, clients) wrote a sanitizer report.  The pass sets
# ASAN_OPTIONS/UBSAN_OPTIONS log_path=$B/sanlog/..., so a report from a
# daemon that a test only killed is not lost in a log nobody reads.

load ../helpers
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
B=${SCRAMBLE_BUILD:-$TOP/build-san}

@test "sanitizer pass: no AddressSanitizer, LeakSanitizer or UBSan report was written" {
	local d=$B/sanlog
	if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
		for f in "$d"/*; do
			echo "=== $f"
			head -n 40 "$f"
		done
		fail "sanitizer reports in $d"
	fi
}
