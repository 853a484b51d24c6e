/* Table parsing, errors naming file and line, trust checks, O(1) lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "table.h"

static const struct port_range R = { 1024, 1027 };

static int parse(const char *text, struct table *t, struct table_error *e)
{
	return table_parse(text, strlen(text), "t.table", R, t, e);
}

static void expect_error(const char *text, const char *msg)
{
	struct table t;
	struct table_error e = { "" };
	CHECK_EQ(parse(text, &t, &e), -1);
	int ok = strstr(e.msg, msg) != NULL;
	CHECK(ok);
	if (!ok)
		printf("#   message: %s\n#   wanted:  %s\n", e.msg, msg);
	CHECK(t.map == NULL);
}

static void test_good(void)
{
	struct table t;
	struct table_error e;
	const char *good = "# comment\n1024 1027\n\n1025   1024  # trailing comment\r\n\t1026\t1026\n1027 1025";
	CHECK_EQ(parse(good, &t, &e), 0);
	CHECK_EQ(table_lookup(&t, 1024), 1027);
	CHECK_EQ(table_lookup(&t, 1025), 1024);
	CHECK_EQ(table_lookup(&t, 1026), 1026);
	CHECK_EQ(table_lookup(&t, 1027), 1025);
	CHECK(table_has(&t, 1024));
	CHECK(!table_has(&t, 1028));
	CHECK(!table_has(&t, 1023));
	table_free(&t);
	struct port_range r;
	CHECK_EQ(table_guess_range(good, strlen(good), &r), 0);
	CHECK_EQ(r.lo, 1024);
	CHECK_EQ(r.hi, 1027);
}

static void test_errors(void)
{
	expect_error("1024 1027\nabc 1024\n", "t.table:2: decoy is not a number");
	expect_error("1024 1027\n1025 x\n", "t.table:2: valid port missing or not a number");
	expect_error("1024 1027\n1025\n", "t.table:2: valid port missing");
	expect_error("1024 99999\n", "t.table:1: valid port 99999 outside the range");
	expect_error("1024 123456\n", "t.table:1: valid port out of range");
	expect_error("1024 1027\n123456 1\n", "t.table:2: decoy port out of range");
	expect_error("1024 1028\n", "t.table:1: valid port 1028 outside the range 1024-1027");
	expect_error("1000 1024\n", "t.table:1: decoy 1000 outside the range");
	expect_error("1024 1027\n1024 1026\n", "t.table:2: duplicate decoy 1024");
	expect_error("1024 1027\n1025 1027\n", "t.table:2: duplicate valid port 1027");
	expect_error("1024 1027\n1025 1024\n", "missing entries for the range 1024-1027: 2 of 4 present, first missing decoy 1026");
	expect_error("1024 1027 5\n", "t.table:1: trailing garbage");
	expect_error("1024 1027x\n", "t.table:1: trailing garbage");
	expect_error("-1024 1027\n", "t.table:1: decoy is not a number");
	expect_error("1024,1027\n", "t.table:1: decoy is not a number");
	expect_error("", "missing entries");
	struct table t;
	struct table_error e;
	CHECK_EQ(table_parse("1024 1027\0", 10, "t.table", R, &t, &e), -1);
	CHECK(strstr(e.msg, "NUL") != NULL);
	struct port_range r;
	CHECK_EQ(table_guess_range("# nothing\n", 10, &r), -1);
}

static void test_range(void)
{
	struct port_range r;
	CHECK_EQ(range_parse("1024-65535", &r), 0);
	CHECK_EQ(r.lo, 1024);
	CHECK_EQ(r.hi, 65535);
	CHECK_EQ(range_parse("1-1", &r), 0);
	CHECK_EQ(range_parse("0-10", &r), -1);
	CHECK_EQ(range_parse("10-9", &r), -1);
	CHECK_EQ(range_parse("10-65536", &r), -1);
	CHECK_EQ(range_parse("10", &r), -1);
	CHECK_EQ(range_parse("10-", &r), -1);
	CHECK_EQ(range_parse("a-b", &r), -1);
	CHECK_EQ(range_parse("10-20x", &r), -1);
	CHECK_EQ(range_parse(" 10-20", &r), -1);
}

static char *write_tmp(const char *text, mode_t mode)
{
	static char path[64];
	strcpy(path, "/tmp/scramble-unit.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) < 0)
		abort();
	close(fd);
	return path;
}

static void test_load(void)
{
	struct table t;
	struct table_error e;
	const char *text = "1024 1025\n1025 1026\n1026 1027\n1027 1024\n";
	char *p = write_tmp(text, 0640);
	CHECK_EQ(table_load(p, R, &t, &e), 0);
	CHECK_EQ(table_lookup(&t, 1027), 1024);
	table_free(&t);
	CHECK_EQ(chmod(p, 0666), 0);
	CHECK_EQ(table_load(p, R, &t, &e), -1);
	CHECK(strstr(e.msg, "writable by everyone") != NULL);
	CHECK_EQ(chmod(p, 0660), 0);
	CHECK_EQ(table_load(p, R, &t, &e), -1);
	CHECK(strstr(e.msg, "writable by its group") != NULL);
	if (geteuid() == 0) {
		CHECK_EQ(chmod(p, 0640), 0);
		CHECK_EQ(chown(p, 12345, 0), 0);
		CHECK_EQ(table_load(p, R, &t, &e), -1);
		CHECK(strstr(e.msg, "owned by uid 12345") != NULL);
	}
	unlink(p);
	CHECK_EQ(table_load(p, R, &t, &e), -1);
	CHECK(strstr(e.msg, "No such file") != NULL);
	CHECK_EQ(table_load("/tmp", R, &t, &e), -1);
	CHECK(strstr(e.msg, "not a regular file") != NULL);
}

static void test_full_range(void)
{
	/* the default range: 64512 entries, O(1) lookup through an array */
	struct port_range r = { 1024, 65535 };
	size_t cap = 64512 * 13, o = 0;
	char *text = malloc(cap);
	for (unsigned d = 1024; d <= 65535; d++)
		o += (size_t)snprintf(text + o, cap - o, "%u %u\n", d, 65535 - (d - 1024));
	struct table t;
	struct table_error e;
	CHECK_EQ(table_parse(text, o, "full", r, &t, &e), 0);
	CHECK_EQ(table_lookup(&t, 1024), 65535);
	CHECK_EQ(table_lookup(&t, 65535), 1024);
	table_free(&t);
	free(text);
}

int main(void)
{
	test_good();
	test_errors();
	test_range();
	test_load();
	test_full_range();
	return unit_done();
}
