#!/usr/bin/env bats
# scrambled: command line and configuration errors.
load helpers
load daemon_helpers
setup() {
	common_setup
	sd_table
}
teardown() { sd_teardown; }

@test "-t: a good configuration passes, exit 0, nothing started" {
	sd_conf
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_success
	assert_output --partial "configuration ok"
}

@test "a syntax error is refused with FILE:LINE, exit 2" {
	sd_conf
	printf 'service "x" {\n  listen = { "127.0.0.1:0" \n' >>"$T/c.conf"
	run "$B/scrambled" -f -c "$T/c.conf"
	assert_failure 2
	assert_output --regexp "$T/c\.conf(:[0-9]+)?: "
}

@test "a % sequence other than %p %a %% in the command: FILE:LINE, exit 2" {
	SD_CMD="$B/echo-server 127.0.0.1 %x"
	sd_conf
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_failure 2
	assert_output --regexp "$T/c\.conf:[0-9]+: .*%"
}

@test "a relative command, an unknown user or group: every problem reported, exit 2" {
	SD_CMD="echo-server 127.0.0.1 %p"
	SD_EXTRA='user = "no-such-user-scramble" group = "no-such-group-scramble"'
	sd_conf
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_failure 2
	assert_line --regexp "^$T/c\.conf:[0-9]+: service \"echo\": command \"echo-server\" must start with an absolute path"
	assert_line --regexp "^$T/c\.conf:[0-9]+: service \"echo\": unknown user \"no-such-user-scramble\""
}

@test "a missing or unsafe table is refused" {
	sd_conf
	rm "$T/t.table"
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_failure 2
	assert_output --partial "$T/t.table"
	sd_table
	chmod 0666 "$T/t.table"
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_failure 2
	assert_output --partial "$T/t.table"
}

@test "a missing configuration file: exit 2 with its name" {
	run "$B/scrambled" -t -c "$T/nope.conf"
	assert_failure 2
	assert_output --partial "$T/nope.conf"
}

@test "-s NAME serves one service; an unknown NAME is a configuration error" {
	sd_conf
	cat >>"$T/c.conf" <<CONF
service "other" {
  listen = { "127.0.0.1:0" }
  table = "t"
  command = "$B/echo-server -b $T/banner 127.0.0.1 %p"
}
CONF
	run "$B/scrambled" -t -s nope -c "$T/c.conf"
	assert_failure 2
	assert_output --partial 'no service "nope"'
	sd_start -s other
	[ "$(grep -c 'listening service=' "$T/scrambled.log")" -eq 1 ]
	log_has "listening service=other "
}

@test "two services in one daemon each get their listener" {
	sd_conf
	cat >>"$T/c.conf" <<CONF
service "other" {
  listen = { "127.0.0.1:0", "[::1]:0" }
  table = "t"
  command = "$B/echo-server -b $T/banner 127.0.0.1 %p"
}
CONF
	sd_start
	wait_until 5 sh -c "[ \$(grep -c 'listening service=' '$T/scrambled.log') -eq 3 ]"
	log_has "listening service=other addr=\[::1\]:[0-9]+"
}

@test "a listen address already in use: runtime error, exit 1" {
	port=$(free_port)
	$PY -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$port" "$T/busy" 3>&- &
	track $!
	wait_until 5 is_listening "$port"
	SD_LISTEN="\"127.0.0.1:$port\""
	sd_conf
	run "$B/scrambled" -f -c "$T/c.conf" -S "$T/sd.sock"
	assert_failure 1
	assert_output --partial "cannot listen on 127.0.0.1:$port"
}

@test "usage errors exit 2" {
	run "$B/scrambled" -x
	assert_failure 2
	run "$B/scrambled" extra-arg
	assert_failure 2
}

@test "mode = \"embedded\": scrambled leaves the section to a program (no listener, no log)" {
	local port
	port=$(free_port)
	sd_conf
	cat >>"$T/c.conf" <<CONF
service "emb" {
  listen = { "127.0.0.1:$port" }
  table = "t"
  mode = "embedded"
}
CONF
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_success
	sd_start
	log_has 'listening service=echo '
	! log_has 'service=emb'
	not_listening "$port"
	# the same section with a command is refused: a program serves it
	sed -i 's|  mode = "embedded"|  mode = "embedded"\n  command = "/bin/cat"|' "$T/c.conf"
	run "$B/scrambled" -t -c "$T/c.conf"
	assert_failure 2
	assert_output --regexp "$T/c\.conf:[0-9]+: service \"emb\": mode embedded takes no command"
}
