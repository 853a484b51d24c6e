/* Port mapping, decoy line, hour guard (SPEC sections 3 and 4). */
#include "unit.h"
#include "decoy.h"
#include "mapping.h"

static void test_wrap(void)
{
	struct port_range r = { 1024, 65535 };
	CHECK_EQ(map_wrap(1024, r), 1024);
	CHECK_EQ(map_wrap(65535, r), 65535);
	CHECK_EQ(map_wrap(65536, r), 1024);      /* above hi */
	CHECK_EQ(map_wrap(65536 + 22, r), 1046);
	CHECK_EQ(map_wrap(1023, r), 65535);      /* below lo */
	CHECK_EQ(map_wrap(1024 - 255, r), 65535 - 254);
	struct port_range small = { 20000, 20009 };
	CHECK_EQ(map_wrap(20010, small), 20000);
	CHECK_EQ(map_wrap(19999, small), 20009);
	CHECK_EQ(map_wrap(20000 - 25, small), 20005);
	CHECK_EQ(map_wrap(20000 + 25, small), 20005);
	struct port_range one = { 5000, 5000 };
	CHECK_EQ(map_wrap(4000, one), 5000);
}

static void test_patent_example(void)
{
	/* [0043]-[0047]: decoy 1026 -> 7029; 15:12 UTC; client 15.24.13.9 */
	struct port_range r = { 1024, 65535 };
	time_t t = 15 * 3600 + 12 * 60;           /* 1970-01-01 15:12 UTC */
	CHECK_EQ(map_hour(t), 15);
	CHECK_EQ(map_valid(7029, SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET, map_hour(t), 9, r), 7035);
	CHECK_EQ(map_valid(7029, SCRAMBLE_OFF_HOUR, 15, 9, r), 7044);
	CHECK_EQ(map_valid(7029, SCRAMBLE_OFF_OCTET, 15, 9, r), 7020);
	CHECK_EQ(map_valid(7029, 0, 15, 9, r), 7029);
	/* the patent's own arithmetic with its 12-hour "3" */
	CHECK_EQ(map_valid(7029, SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET, 3, 9, r), 7023);
}

static void test_hours(void)
{
	struct port_range r = { 1024, 65535 };
	CHECK_EQ(map_hour(0), 0);
	CHECK_EQ(map_hour(3599), 0);
	CHECK_EQ(map_hour(3600), 1);
	CHECK_EQ(map_hour(23 * 3600 + 3599), 23);
	CHECK_EQ(map_hour(24 * 3600), 0);
	CHECK_EQ(map_hour(1764115200 + 23 * 3600), 23);   /* 2025-11-26 23:00 UTC */
	/* hour 0 and 23 with a wrap at both ends */
	CHECK_EQ(map_valid(65535, SCRAMBLE_OFF_HOUR, 0, 0, r), 65535);
	CHECK_EQ(map_valid(65535, SCRAMBLE_OFF_HOUR, 23, 0, r), 1024 + 22);
	CHECK_EQ(map_valid(1024, SCRAMBLE_OFF_OCTET, 0, 255, r), 65535 - 254);
	CHECK_EQ(map_valid(1024, SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET, 23, 255, r), 65535 - 231);
}

static void test_guard(void)
{
	CHECK_EQ(map_guard_wait(0, 2), 0);
	CHECK_EQ(map_guard_wait(3597, 2), 0);
	CHECK_EQ(map_guard_wait(3598, 2), 2);
	CHECK_EQ(map_guard_wait(3599, 2), 1);
	CHECK_EQ(map_guard_wait(3600, 2), 0);
	CHECK_EQ(map_guard_wait(7199, 0), 0);
	CHECK_EQ(map_guard_wait(7190, 10), 10);
	CHECK_EQ(map_guard_wait(23 * 3600 + 3599, 2), 1);
}

static void test_decoy(void)
{
	struct port_range r = { 1024, 65535 };
#define D(s) decoy_parse(s, sizeof(s) - 1, r)
	CHECK_EQ(D("1026\n"), 1026);
	CHECK_EQ(D("65535\n"), 65535);
	CHECK_EQ(D("1024\n"), 1024);
	CHECK_EQ(D("1023\n"), -1);       /* below range */
	CHECK_EQ(D("65536\n"), -1);      /* above range */
	CHECK_EQ(D("99999\n"), -1);
	CHECK_EQ(D("100000\n"), -1);     /* 6 digits */
	CHECK_EQ(D("01026\n"), -1);      /* leading zero */
	CHECK_EQ(D("1026"), -1);         /* no newline */
	CHECK_EQ(D("1026\r\n"), -1);     /* CRLF */
	CHECK_EQ(D(" 1026\n"), -1);
	CHECK_EQ(D("+1026\n"), -1);
	CHECK_EQ(D("-1026\n"), -1);
	CHECK_EQ(D("\n"), -1);
	CHECK_EQ(D(""), -1);
	CHECK_EQ(D("1026\nX"), -1);      /* data after the newline */
	CHECK_EQ(D("10a6\n"), -1);
	CHECK_EQ(decoy_parse("1026\n", 5, (struct port_range){ 2000, 3000 }), -1);
	char buf[8];
	CHECK_EQ(decoy_format(buf, sizeof buf, 1026), 5);
	CHECK_STR(buf, "1026\n");
	CHECK_EQ(decoy_format(buf, 3, 1026), -1);
}

int main(void)
{
	test_wrap();
	test_patent_example();
	test_hours();
	test_guard();
	test_decoy();
	return unit_done();
}
