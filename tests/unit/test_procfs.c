/* procfs parsing over captured lines of a real /proc/net/tcp{,6}. */
#include <stdlib.h>
#include "unit.h"
#include "procfs.h"

#ifndef FIXTURES
#define FIXTURES "tests/unit/fixtures/procnet"
#endif

static int collect(const struct tcp_entry *e, void *arg)
{
	struct { struct tcp_entry e[16]; int n; } *c = arg;
	if (c->n < 16)
		c->e[c->n++] = *e;
	return 0;
}

static void test_lines(void)
{
	struct tcp_entry e;
	char buf[64];
	const char *l4 = "   1: 0100007F:07E8 0100007F:EBA6 04 00000001:00000000 01:00000014 00000000     0        0 0 2 00000000a9333dad 20 0 0 10 -1";
	CHECK_EQ(procfs_parse_line(l4, strlen(l4), 0, &e), 0);
	CHECK_STR(addr_str(&e.local, buf, sizeof buf), "127.0.0.1");
	CHECK_EQ(e.lport, 2024);
	CHECK_EQ(e.rport, 60326);
	CHECK_EQ(e.state, TCPS_FIN_WAIT1);
	const char *l6 = "   0: 00000000000000000000000001000000:8433 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 14004 1 0000000001623ca8 100 0 0 10 0";
	CHECK_EQ(procfs_parse_line(l6, strlen(l6), 1, &e), 0);
	CHECK_EQ(e.local.family, AF_INET6);
	CHECK_STR(addr_str(&e.local, buf, sizeof buf), "::1");
	CHECK_EQ(e.lport, 33843);
	CHECK_EQ(e.state, TCPS_LISTEN);
	CHECK_EQ(e.inode, 14004);
	const char *lm = "   2: 0000000000000000FFFF00000100007F:EBA6 0000000000000000FFFF00000100007F:07E8 08 00000000:00000001 00:00000000 00000000     0        0 14006 3 00000000811cd107 20 0 1 10 -1";
	CHECK_EQ(procfs_parse_line(lm, strlen(lm), 1, &e), 0);
	CHECK_EQ(e.local.family, AF_INET);      /* v4-mapped canonicalised */
	CHECK_STR(addr_str(&e.remote, buf, sizeof buf), "127.0.0.1");
	CHECK_EQ(e.state, TCPS_CLOSE_WAIT);
	/* header and damaged lines */
	const char *hdr = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
	CHECK_EQ(procfs_parse_line(hdr, strlen(hdr), 0, &e), -1);
	CHECK_EQ(procfs_parse_line(l4, 20, 0, &e), -1);          /* truncated */
	CHECK_EQ(procfs_parse_line(l6, strlen(l6), 0, &e), -1);  /* v6 line read as v4 */
	const char *badst = "   1: 0100007F:07E8 0100007F:EBA6 0F 00000001:00000000 01:00000014 00000000     0        0 0 2";
	CHECK_EQ(procfs_parse_line(badst, strlen(badst), 0, &e), -1);
	const char *badhex = "   1: 0100007G:07E8 0100007F:EBA6 04 00000001:00000000 01:00000014 00000000     0        0 0 2";
	CHECK_EQ(procfs_parse_line(badhex, strlen(badhex), 0, &e), -1);
}

static void test_files(void)
{
	struct { struct tcp_entry e[16]; int n; } c = { .n = 0 };
	CHECK_EQ(procfs_scan(FIXTURES, collect, &c), 0);
	CHECK_EQ(c.n, 6);
	CHECK_EQ(c.e[2].lport, 20000);
	CHECK_EQ(c.e[2].state, TCPS_ESTABLISHED);
	CHECK_EQ(c.e[2].uid, 1000);
	CHECK_EQ(addr_last_byte(&c.e[2].remote), 2);
	CHECK_EQ(c.e[2].rport, 50000);
	/* buffer form */
	const char buf[] = "hdr\n   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 116 1\n";
	CHECK_EQ(procfs_parse_buf(buf, sizeof buf - 1, 0, NULL, NULL), 1);
	/* the live files parse */
	c.n = 0;
	CHECK_EQ(procfs_scan(NULL, collect, &c), 0);
	CHECK_EQ(procfs_scan("/nonexistent", collect, &c), -1);
}

int main(void)
{
	test_lines();
	test_files();
	return unit_done();
}
