# make bench in its tiny quick mode (BENCH_QUICK=1): proves that the
# benchmark scripts run, fill every row and stop everything they start.
# No timing is asserted here: figures from a few iterations mean nothing.
load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "bench quick mode: every row, the goals, results.md, no process left" {
	# the bench measures the release build (callgrind cannot run ASan binaries)
	[ -z "${SCRAMBLE_SANITIZE:-}" ] || skip "make bench measures the release build"
	[ -x "$B/bench/benchcli" ] || fail "build/bench/benchcli missing: run make"
	# the run's own temporary directory lives in $T: teardown's leftover
	# check then covers every daemon, xinetd and relay it started
	run env TMPDIR="$T" BENCH_QUICK=1 BENCH_NO_INSTALL=1 BENCH_OUT="$T/out" \
		SCRAMBLE_BUILD="$B" timeout 300 "$TOP/tests/bench/run"
	[ "$status" -eq 0 ] || { echo "$output" | tail -40; fail "bench run exited $status"; }
	# the table is printed as well as written
	echo "$output" | grep -q '^## Goals' || fail "table not printed"
	local md=$T/out/results.md
	[ -s "$md" ] || fail "no results.md"
	for n in 1 2 3 4 5 6 7 8; do
		grep -Eq "^\| $n " "$md" || fail "row $n missing from results.md"
	done
	grep -q '^## Goals' "$md" || fail "no goals section"
	# a row that threw is written as "failed: ..."
	run grep -nE 'failed:|failed sessions' "$md"
	[ "$status" -ne 0 ] || fail "a row failed: $output"
	# the direct reference is always measurable
	grep -Eq '^\| 3 .*direct to a running echo server \| [0-9.]+ ' "$md" || fail "no direct TTFB figure"
	grep -Eq 'daemon RSS idle \| [0-9.]+ ' "$md" || fail "no daemon RSS figure"
	if command -v gnuplot >/dev/null; then
		[ -s "$T/out/results.png" ] || fail "gnuplot present but no chart"
		[ "$(head -c 4 "$T/out/results.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
			fail "results.png is not a PNG"
	fi
}
