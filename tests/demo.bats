#!/usr/bin/env bats
# "make demo" and "make demo-ssh": the story is told, it is true (the ports
# it names were open and are closed again), it takes under a minute, and
# nothing is left running or lying around.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

# run_demo TARGET: make TARGET, timed; sets output/status, DEMO_MS
run_demo() {
	local t0
	t0=$(date +%s%N)
	run timeout 90 make -C "$TOP" --no-print-directory "$1"
	DEMO_MS=$((($(date +%s%N) - t0) / 1000000))
	echo "$output" >"$T/story"
}

# story_port REGEX: the first number captured by sed REGEX in the story
story_field() { sed -n "$1" "$T/story" | head -n1; }

assert_nothing_left() {
	local dir=$1
	# the throwaway directory is gone, and nothing runs from it
	[ ! -e "$dir" ] || fail "$dir left behind"
	! pgrep -af -- "$dir" || fail "processes left from $dir"
	! pgrep -af -- '/tmp/scramble-demo\.' || fail "processes left from a demo"
}

@test "make demo tells the story with curl and leaves nothing running" {
	run_demo demo
	echo "$output"
	assert_success
	[ "$DEMO_MS" -lt 60000 ] || fail "took $DEMO_MS ms"
	local dir rdv wk decoy valid
	dir=$(story_field 's/^(throwaway files in \(.*\))$/\1/p')
	rdv=$(story_field 's/.*listens on the rendezvous port \([0-9]*\):$/\1/p')
	wk=$(story_field "s/.*nothing listens on the web server's well-known port \([0-9]*\);.*/\1/p")
	decoy=$(story_field 's/^ *decoy port: \([0-9]*\) .*/\1/p')
	valid=$(story_field 's/^ *valid=\([0-9]*\)$/\1/p')
	[ -n "$dir" ] && [ -n "$rdv" ] && [ -n "$wk" ] && [ -n "$decoy" ] && [ -n "$valid" ] ||
		fail "story incomplete: dir=$dir rdv=$rdv wk=$wk decoy=$decoy valid=$valid"
	# each step of the story
	assert_output --regexp "ss: LISTEN 127\.0\.0\.1:$rdv"
	assert_output --regexp "(Connection refused|Couldn't connect)"
	assert_output --partial "ss: no listener on port $wk"
	assert_output --partial "scramble curl http://127.0.0.1:$wk/cgi-bin/hello"
	assert_output --regexp "rendezvous service=web client=127\.0\.0\.1 decoy=$decoy pid=[0-9]+"
	assert_output --partial "curl's answer (exit status 0), written by the server:"
	assert_output --partial "I am python3 http.server on port $valid; you came from 127.0.0.1."
	assert_output --partial "Hello from the server behind a scrambled port."
	assert_output --partial "server exit service=web"
	assert_output --partial "only the rendezvous port listens"
	assert_output --partial "nothing left running"
	[ "$decoy" != "$valid" ] && [ "$valid" != "$wk" ]
	(( valid >= 20000 && valid <= 29999 && decoy >= 20000 && decoy <= 29999 ))
	# and it is still true now: the ports it used are closed
	not_listening "$rdv"
	not_listening "$valid"
	not_listening "$wk"
	assert_nothing_left "$dir"
}

@test "make demo-ssh tells the story with sshd and ssh and leaves nothing running" {
	local had_run_sshd=no
	[ -d /run/sshd ] && had_run_sshd=yes
	run_demo demo-ssh
	echo "$output"
	assert_success
	[ "$DEMO_MS" -lt 60000 ] || fail "took $DEMO_MS ms"
	local dir rdv wk valid
	dir=$(story_field 's/^(throwaway keys and files in \(.*\))$/\1/p')
	rdv=$(story_field 's/.*listens on the rendezvous port \([0-9]*\):$/\1/p')
	wk=$(story_field 's/.*no sshd listens on the well-known port \([0-9]*\);.*/\1/p')
	valid=$(story_field 's/^ *valid=\([0-9]*\)$/\1/p')
	[ -n "$dir" ] && [ -n "$rdv" ] && [ -n "$wk" ] && [ -n "$valid" ] || fail "story incomplete"
	assert_output --partial "ss: no listener on port $wk"
	assert_output --partial "Connection refused"
	assert_output --partial "scramble ssh -p $wk root@127.0.0.1 echo hello"
	assert_output --regexp "login ok service=ssh client=127\.0\.0\.1"
	assert_line --regexp "^ +hello$"
	assert_line --regexp "sshd sees me coming from 127\.0\.0\.1 [0-9]+ to port $valid$"
	assert_output --regexp "\[127\.0\.0\.1\]:$wk ssh-ed25519"
	assert_output --partial "nothing left running"
	not_listening "$rdv"
	not_listening "$valid"
	assert_nothing_left "$dir"
	# /run/sshd is as it was
	local has_run_sshd=no
	[ -d /run/sshd ] && has_run_sshd=yes
	[ "$has_run_sshd" = "$had_run_sshd" ]
}

@test "a demo interrupted half way still stops everything" {
	# SIGTERM while the daemon runs: the trap must clean up (a background
	# job ignores SIGINT, so TERM stands in for ^C here)
	"$TOP/contrib/demo" >"$T/story" 2>&1 3>&- &
	local pid=$!
	track "$pid"
	wait_until 30 grep -q 'listens on the rendezvous port' "$T/story"
	kill -TERM "$pid"
	wait_until 15 pid_gone "$pid"
	local dir
	dir=$(story_field 's/^(throwaway files in \(.*\))$/\1/p')
	[ -n "$dir" ]
	wait_until 5 no_process_mentions "$dir"
	assert_nothing_left "$dir"
}
