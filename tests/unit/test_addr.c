/* Address helpers: host:port, CIDR, last byte, canonical v4-mapped. */
#include <arpa/inet.h>
#include "unit.h"
#include "addr.h"

static void test_parse(void)
{
	struct ipaddr a, b;
	CHECK_EQ(addr_parse("15.24.13.9", &a), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(addr_last_byte(&a), 9);
	CHECK_EQ(addr_parse("::ffff:15.24.13.9", &b), 0);
	CHECK_EQ(b.family, AF_INET);           /* v4-mapped canonicalised */
	CHECK(addr_equal(&a, &b));
	CHECK_EQ(addr_last_byte(&b), 9);
	CHECK_EQ(addr_parse("2001:db8::12ab", &a), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK_EQ(addr_last_byte(&a), 0xab);
	CHECK_EQ(addr_parse("::1", &a), 0);
	CHECK_EQ(addr_last_byte(&a), 1);
	CHECK_EQ(addr_parse("1.2.3", &a), -1);
	CHECK_EQ(addr_parse("1.2.3.4.5", &a), -1);
	CHECK_EQ(addr_parse("", &a), -1);
	CHECK_EQ(addr_parse("host.example", &a), -1);
	char buf[64];
	addr_parse("::ffff:127.0.0.2", &a);
	CHECK_STR(addr_str(&a, buf, sizeof buf), "127.0.0.2");
}

static void test_hostport(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	CHECK_EQ(addr_parse_hostport("0.0.0.0:3000", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET);
	CHECK_EQ(sockaddr_port((struct sockaddr *)&ss), 3000);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(addr_parse_hostport("[::]:3000", &ss, &len), 0);
	CHECK_EQ(ss.ss_family, AF_INET6);
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
	CHECK_EQ(addr_parse_hostport("[::1]:0", &ss, &len), 0);
	CHECK_EQ(sockaddr_port((struct sockaddr *)&ss), 0);
	CHECK_EQ(addr_parse_hostport("*:22", &ss, &len), 0);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:65535", &ss, &len), 0);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:65536", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:-1", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("127.0.0.1", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("::1:22", &ss, &len), -1);      /* v6 needs brackets */
	CHECK_EQ(addr_parse_hostport("[::1]22", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("[1.2.3.4]:22", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:022", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("127.0.0.1:22x", &ss, &len), -1);
	CHECK_EQ(addr_parse_hostport("example.com:22", &ss, &len), -1);
	sockaddr_set_port((struct sockaddr *)&ss, 4242);
	CHECK_EQ(sockaddr_port((struct sockaddr *)&ss), 4242);
}

static void test_cidr(void)
{
	struct cidr c[3];
	struct ipaddr a;
	CHECK_EQ(cidr_parse("10.0.0.0/8", &c[0]), 0);
	CHECK_EQ(cidr_parse("2001:db8::/32", &c[1]), 0);
	CHECK_EQ(cidr_parse("127.0.0.1", &c[2]), 0);
	CHECK_EQ(c[2].prefix, 32);
	addr_parse("10.200.3.4", &a);
	CHECK(cidr_match(&c[0], &a));
	addr_parse("::ffff:10.200.3.4", &a);
	CHECK(cidr_match(&c[0], &a));           /* v4-mapped client vs IPv4 rule */
	addr_parse("11.0.0.1", &a);
	CHECK(!cidr_match(&c[0], &a));
	addr_parse("2001:db8:1::5", &a);
	CHECK(cidr_match(&c[1], &a));
	CHECK(!cidr_match(&c[0], &a));
	addr_parse("2001:db9::5", &a);
	CHECK(!cidr_list_match(c, 3, &a));
	addr_parse("127.0.0.1", &a);
	CHECK(cidr_list_match(c, 3, &a));
	addr_parse("127.0.0.2", &a);
	CHECK(!cidr_list_match(c, 3, &a));
	CHECK(!cidr_list_match(c, 0, &a));
	CHECK_EQ(cidr_parse("10.0.0.0/33", &c[0]), -1);
	CHECK_EQ(cidr_parse("10.0.0.1/8", &c[0]), -1);   /* host bits set */
	CHECK_EQ(cidr_parse("10.0.0.0/", &c[0]), -1);
	CHECK_EQ(cidr_parse("10.0.0.0/x", &c[0]), -1);
	CHECK_EQ(cidr_parse("::/0", &c[0]), 0);
	CHECK_EQ(cidr_parse("0.0.0.0/0", &c[0]), 0);
	CHECK(cidr_match(&c[0], &a));
	CHECK_EQ(cidr_parse("10.1.0.0/12", &c[0]), -1);
	CHECK_EQ(cidr_parse("10.16.0.0/12", &c[0]), 0);
	addr_parse("10.31.255.255", &a);
	CHECK(cidr_match(&c[0], &a));
	addr_parse("10.32.0.0", &a);
	CHECK(!cidr_match(&c[0], &a));
}

static void test_sockaddr(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(22) };
	struct ipaddr a;
	uint16_t port;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	CHECK_EQ(addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6, &a, &port), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(port, 22);
	CHECK_EQ(addr_last_byte(&a), 7);
	CHECK_EQ(addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6 - 1, &a, &port), -1);
	struct sockaddr sa = { .sa_family = AF_UNIX };
	CHECK_EQ(addr_from_sockaddr(&sa, sizeof sa, &a, &port), -1);
	CHECK_EQ(addr_from_sockaddr(NULL, 0, &a, &port), -1);
}

int main(void)
{
	test_parse();
	test_hostport();
	test_cidr();
	test_sockaddr();
	return unit_done();
}
