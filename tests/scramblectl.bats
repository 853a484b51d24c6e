#!/usr/bin/env bats
# scramblectl gentable, map and check, including bad input.

load helpers

setup() { common_setup; cd "$T"; }
teardown() { common_teardown; }

# a table over the full default range in which decoy 1026 maps to 7029,
# as in the patent's example ([0043]-[0044])
patent_table() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
lo, hi = 1024, 65535
ports = list(range(lo, hi + 1))
m = dict(zip(ports, ports))
m[1026], m[7029] = 7029, 1026
with open(sys.argv[1], "w") as f:
    for d in ports:
        f.write("%d %d\n" % (d, m[d]))
PY
	chmod 0640 "$1"
}

@test "gentable writes a 0640 bijection over the range" {
	run "$B/scramblectl" gentable -r 2000-2999 t.table
	assert_success
	[ "$(stat -c %a t.table)" = 640 ]
	# every decoy and every valid port exactly once
	[ "$(grep -v '^#' t.table | awk '{print $1}' | sort -n | uniq | wc -l)" -eq 1000 ]
	[ "$(grep -v '^#' t.table | awk '{print $2}' | sort -n | uniq | wc -l)" -eq 1000 ]
	[ "$(grep -v '^#' t.table | awk '$1<2000||$1>2999||$2<2000||$2>2999' | wc -l)" -eq 0 ]
	# not the identity: a random permutation of 1000 has ~1 fixed point
	[ "$(grep -v '^#' t.table | awk '$1==$2' | wc -l)" -lt 20 ]
	# no temporary file left behind
	[ "$(ls -A | grep -c scramble-secret)" -eq 0 ]
}

@test "gentable: two tables differ, default range is 1024-65535" {
	"$B/scramblectl" gentable a.table
	"$B/scramblectl" gentable b.table
	[ "$(grep -vc '^#' a.table)" -eq 64512 ]
	! cmp -s a.table b.table
}

@test "gentable refuses to overwrite without -f, replaces with -f" {
	"$B/scramblectl" gentable -r 2000-2099 t.table
	cp t.table before
	run "$B/scramblectl" gentable -r 2000-2099 t.table
	assert_failure
	assert_output --partial "t.table exists; use -f to replace it"
	cmp t.table before
	run "$B/scramblectl" gentable -f -r 2000-2099 t.table
	assert_success
	! cmp -s t.table before
}

@test "gentable: bad range and unwritable place" {
	run "$B/scramblectl" gentable -r 5-1 t.table
	assert_failure 2
	assert_output --partial 'bad range "5-1"'
	run "$B/scramblectl" gentable -r 0-10 t.table
	assert_failure 2
	run "$B/scramblectl" gentable /nonexistent/dir/t.table
	assert_failure 1
	assert_output --partial "/nonexistent/dir"
}

@test "map: the patent's worked example" {
	patent_table p.table
	run "$B/scramblectl" map -t p.table --hour 15 --client 15.24.13.9 --offsets hour,client-octet 1026
	assert_success
	assert_line "intermediate=7029"
	assert_line "valid=7035"
	# 15:12 UTC given as a unix time
	run "$B/scramblectl" map -t p.table --time $((15 * 3600 + 12 * 60)) --client 15.24.13.9 --offsets hour,client-octet 1026
	assert_line "valid=7035"
	# v4-mapped client and no offsets
	run "$B/scramblectl" map -t p.table --hour 15 --client ::ffff:15.24.13.9 --offsets hour,client-octet 1026
	assert_line "valid=7035"
	run "$B/scramblectl" map -t p.table 1026
	assert_line "valid=7029"
	# IPv6 client: last byte of the address
	run "$B/scramblectl" map -t p.table --hour 0 --client 2001:db8::ff --offsets client-octet 1026
	assert_line "valid=$((7029 - 255))"
}

@test "map: wraps below the range's low end and above its high end" {
	seq 1024 1033 | awk '{print $1, $1}' >w.table
	chmod 0640 w.table
	run "$B/scramblectl" map -t w.table --client 10.0.0.3 --offsets client-octet 1025
	assert_line "valid=1032"
	run "$B/scramblectl" map -t w.table --client 10.0.0.1 --offsets client-octet 1025
	assert_line "valid=1024"
	run "$B/scramblectl" map -t w.table --hour 23 --offsets hour 1033
	assert_line "valid=$((1024 + 22 % 10))"
}

@test "map: bad input" {
	"$B/scramblectl" gentable -r 2000-2099 t.table
	run "$B/scramblectl" map -t t.table 1999
	assert_failure 2
	assert_output --partial 'decoy "1999" is not a port in 2000-2099'
	run "$B/scramblectl" map -t t.table --offsets client-octet 2000
	assert_failure 2
	assert_output --partial "needs --client"
	run "$B/scramblectl" map -t t.table --hour 24 2000
	assert_failure 2
	run "$B/scramblectl" map -t t.table --client 1.2.3 2000
	assert_failure 2
	run "$B/scramblectl" map -t t.table --offsets minute 2000
	assert_failure 2
	run "$B/scramblectl" map -t missing.table 2000
	assert_failure 1
	assert_output --partial "missing.table: No such file or directory"
	printf '2000 2001\nhello\n2001 2000\n' >g.table
	chmod 0640 g.table
	run "$B/scramblectl" map -t g.table 2000
	assert_failure 1
	assert_output --partial "g.table:2: decoy is not a number"
	chmod 0646 t.table
	run "$B/scramblectl" map -t t.table 2000
	assert_failure 1
	assert_output --partial "writable by everyone"
}

@test "map: unreadable table (as an unprivileged user)" {
	"$B/scramblectl" gentable -r 2000-2099 t.table
	chmod 0600 t.table
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$B/scramblectl" map -t "$T/t.table" 2000
	assert_failure 1
	assert_output --partial "Permission denied"
}

write_conf() {
	cat >"$T/s.conf"
	chmod 0644 "$T/s.conf"
}

@test "check: a good configuration" {
	"$B/scramblectl" gentable -r 2000-2099 t.table
	write_conf <<EOF
table "t" { file = "$T/t.table" ports = "2000-2099" }
service "s" {
  listen = { "127.0.0.1:3000", "[::1]:3000" }
  table = "t"
  command = "/bin/cat %p"
}
target "c" { host = { "localhost" } port = 22 rendezvous = 3000 table = "t" }
EOF
	run "$B/scramblectl" check -c s.conf
	assert_success
	assert_output --partial "s.conf: ok (1 tables, 1 services, 1 targets)"
}

@test "check: every error is reported with file and line" {
	write_conf <<EOF
table "t" { file = "$T/none.table" ports = "2000-2099" }
service "s" {
  listen = { "127.0.0.1:3000", "nowhere:1" }
  table = "t"
  mode = "spawn"
  command = "/bin/cat %x"
  allow = { "10.0.0.1/8" }
  user = "no-such-user-here"
}
target "c" {
  host = { "localhost" }
  port = 70000
  rendezvous = 3000
  table = "u"
}
EOF
	run "$B/scramblectl" check -c s.conf
	assert_failure 2
	assert_output --partial 's.conf:3: service "s": bad listen address "nowhere:1"'
	assert_output --partial 's.conf:5: service "s": unknown mode "spawn"'
	assert_output --partial 's.conf:6: service "s": command may use only %p, %a and %%'
	assert_output --partial 's.conf:7: service "s": bad CIDR "10.0.0.1/8"'
	assert_output --partial 's.conf:12: target "c": port = 70000 is out of range'
	assert_output --partial 's.conf:14: target "c": unknown table "u"'
	assert_output --partial "6 errors"
}

@test "check: table problems name the table file and the config line" {
	printf '2000 2001\n2001 2000\n2002 2002\n' >t.table
	chmod 0640 t.table
	write_conf <<EOF
table "t" { file = "$T/t.table" ports = "2000-2003" }
target "c" { host = { "h" } port = 22 rendezvous = 3000 table = "t" }
EOF
	run "$B/scramblectl" check -c s.conf
	assert_failure 2
	assert_output --partial "t.table:3: missing entries for the range 2000-2003"
	assert_output --partial 's.conf:1'
	chmod 0666 t.table
	run "$B/scramblectl" check -c s.conf
	assert_failure 2
	assert_output --partial "writable by everyone"
}

@test "check: syntax errors, wrong modes, unreadable and missing files" {
	write_conf <<'EOF'
service "s" {
  listen = { "127.0.0.1:3000" }
  colour = "blue"
}
EOF
	run "$B/scramblectl" check -c s.conf
	assert_failure 2
	assert_output --partial "s.conf:3: no such option 'colour'"
	chmod 0666 s.conf
	run "$B/scramblectl" check -c s.conf
	assert_failure 2
	assert_output --partial "writable by everyone (mode 0666)"
	run "$B/scramblectl" check -c "$T/missing.conf"
	assert_failure 2
	assert_output --partial "missing.conf: No such file or directory"
	chmod 0600 s.conf
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$B/scramblectl" check -c "$T/s.conf"
	assert_failure 2
	assert_output --partial "Permission denied"
}

@test "scramblectl: usage errors" {
	run "$B/scramblectl"
	assert_failure 2
	assert_output --partial "usage:"
	run "$B/scramblectl" frobnicate
	assert_failure 2
	assert_output --partial 'unknown command "frobnicate"'
}
