/* Protocol v2: the rendezvous line and the keyed port/authenticator.  The
 * expected ports and tags were computed by tests/helpers/scramble_auth.py
 * (Python hashlib/hmac, written from scramble-protocol(7)), so libsodium
 * and an independent implementation agree on the wire format. */
#include <stdint.h>
#include <string.h>
#include "addr.h"
#include "auth.h"
#include "authline.h"
#include "unit.h"

static const struct port_range R = { 20000, 20099 };

static void hex2bin(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int parse(const char *s, struct auth_line *l)
{
	return authline_parse(s, strlen(s), R, l);
}

static void test_line(void)
{
	struct auth_line l, m;
	char buf[AUTH_LINE_MAX];
	int n;

	for (int i = 0; i < AUTH_NONCE_BYTES; i++)
		l.nonce[i] = (uint8_t)(0xa0 + i);
	l.decoy = 20042;
	n = authline_format(buf, sizeof buf, &l);
	CHECK_EQ(n, 41);
	CHECK_STR(buf, "2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n");
	CHECK_EQ(authline_parse(buf, (size_t)n, R, &m), 0);
	CHECK_EQ(m.decoy, 20042);
	CHECK(memcmp(m.nonce, l.nonce, AUTH_NONCE_BYTES) == 0);
	CHECK_EQ(authline_version(buf, (size_t)n), 2);
	CHECK_EQ(authline_version("20042\n", 6), 1);
	CHECK_EQ(authline_format(buf, 40, &l), -1);            /* too small a buffer */

	/* strictness: each of these is refused */
	static const char *bad[] = {
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",       /* no newline */
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n\n",   /* after the newline */
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf \n",    /* trailing space */
		"2 20042 A0A1A2A3A4A5A6A7A8A9AAABACADAEAF\n",     /* uppercase */
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaea\n",      /* 31 hex */
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0\n",    /* 33 hex */
		"2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeag\n",     /* not hex */
		"2 020042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",    /* leading zero */
		"2 19999 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",     /* below the range */
		"2 20100 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",     /* above the range */
		"2  20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",    /* two spaces */
		"2 20042  a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",
		"3 20042 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",     /* other version */
		"2 -2004 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",
		"2 200420 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",    /* six digits */
		"2 2004\0 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n",
		"20042\n",                                         /* v1 */
		"2 \n", "2", "", "\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ(parse(bad[i], &m), -1);
	/* a NUL inside the nonce (length-counted, not a C string) */
	char nul[] = "2 20042 a0a1a2a3a4a5a6a7a8a9aaabacadae\0f\n";
	CHECK_EQ(authline_parse(nul, sizeof nul - 1, R, &m), -1);
	CHECK_EQ(parse("2 20000 00000000000000000000000000000000\n", &m), 0);
	CHECK_EQ(parse("2 20099 ffffffffffffffffffffffffffffffff\n", &m), 0);
}

/* The vectors: key 00..1f, nonce a0..af, decoy 20042, step 493000, name
 * "echo", range 20000-20099. */
static const struct {
	const char *addr;
	int port;
	const char *tag;
} vec[] = {
	{ "127.0.0.1", 20035, "4a737a326f4c0d4dded84a66159504dac669587f0e5ddf5ab60ad817a5a5f48c" },
	{ "10.1.2.3", 20002, "3242a3a5aa8200ce0c4e8eb464c950a91b767c80d952c8ddd7c144b74d6bb39e" },
	{ "::1", 20082, "2ce76c2de97935d44286d1e37309f20d6d0b4bd986316d28944c80cda9f09d47" },
	{ "2001:db8::7", 20023, "d1af992e14cd1c1fbf2b0ae59dacf53ce74f9d3e26217ae6c9fe4f6d0bfc93d6" },
};

static void test_crypto(void)
{
	uint8_t key[AUTH_KEY_BYTES], other[AUTH_KEY_BYTES], tag[AUTH_TAG_BYTES], want[AUTH_TAG_BYTES];
	struct auth_line l;
	struct ipaddr a, mapped;
	char longname[300];

	CHECK_EQ(auth_init(), 0);
	for (int i = 0; i < AUTH_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < AUTH_NONCE_BYTES; i++)
		l.nonce[i] = (uint8_t)(0xa0 + i);
	l.decoy = 20042;
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		CHECK_EQ(addr_parse(vec[i].addr, &a), 0);
		CHECK_EQ(auth_port(key, &l, 493000, &a, R), vec[i].port);
		CHECK_EQ(auth_tag(tag, key, &l, &a, "echo"), 0);
		hex2bin(vec[i].tag, want, sizeof want);
		CHECK(memcmp(tag, want, sizeof tag) == 0);
		CHECK_EQ(auth_verify(want, key, &l, &a, "echo"), 0);
		/* the client's one-call step gives the same */
		uint8_t t2[AUTH_TAG_BYTES];
		CHECK_EQ(auth_client(key, "echo", &l, (time_t)493000 * 3600 + 1799, &a, R, t2),
			 vec[i].port);
		CHECK(memcmp(t2, want, sizeof t2) == 0);
	}
	/* a v4-mapped address is the IPv4 one */
	CHECK_EQ(addr_parse("::ffff:127.0.0.1", &mapped), 0);
	CHECK_EQ(auth_port(key, &l, 493000, &mapped, R), 20035);

	CHECK_EQ(addr_parse("127.0.0.1", &a), 0);
	hex2bin(vec[0].tag, want, sizeof want);
	/* every input counts: flip one thing at a time */
	memcpy(other, key, sizeof other);
	other[31] ^= 1;
	CHECK_EQ(auth_verify(want, other, &l, &a, "echo"), -1);          /* wrong key */
	CHECK_EQ(auth_verify(want, key, &l, &a, "echo2"), -1);           /* other service */
	CHECK_EQ(auth_verify(want, key, &l, &a, "ech"), -1);
	struct ipaddr b;
	CHECK_EQ(addr_parse("127.0.0.2", &b), 0);
	CHECK_EQ(auth_verify(want, key, &l, &b, "echo"), -1);            /* other client */
	struct auth_line l2 = l;
	l2.nonce[0] ^= 1;
	CHECK_EQ(auth_verify(want, key, &l2, &a, "echo"), -1);           /* other nonce */
	l2 = l;
	l2.decoy = 20043;
	CHECK_EQ(auth_verify(want, key, &l2, &a, "echo"), -1);           /* other decoy */
	uint8_t flipped[AUTH_TAG_BYTES];
	for (int i = 0; i < AUTH_TAG_BYTES; i += 31) {
		memcpy(flipped, want, sizeof flipped);
		flipped[i] ^= 0x80;
		CHECK_EQ(auth_verify(flipped, key, &l, &a, "echo"), -1);     /* one bit */
	}
	/* the port moves with the step and the nonce */
	int same = 0;
	for (uint32_t s = 0; s < 50; s++)
		same += auth_port(key, &l, 493000 + s, &a, R) == 20035;
	CHECK(same < 10);
	CHECK_EQ(auth_step((time_t)493000 * 3600), 493000);
	CHECK_EQ(auth_step((time_t)493000 * 3600 + 3599), 493000);
	/* ports stay within the range, also a one-port range */
	struct port_range one = { 4444, 4444 }, full = { 1, 65535 };
	CHECK_EQ(auth_port(key, &l, 1, &a, one), 4444);
	int inside = 1;
	for (int i = 0; i < 1000; i++) {
		auth_random(l2.nonce, sizeof l2.nonce);
		int p = auth_port(key, &l2, 1, &a, R), q = auth_port(key, &l2, 1, &a, full);
		inside &= p >= 20000 && p <= 20099 && q >= 1 && q <= 65535;
	}
	CHECK(inside);
	/* names longer than 255 bytes cannot be encoded */
	memset(longname, 'n', sizeof longname);
	longname[256] = '\0';
	CHECK_EQ(auth_tag(tag, key, &l, &a, longname), -1);
	CHECK_EQ(auth_verify(want, key, &l, &a, longname), -1);
	longname[255] = '\0';
	CHECK_EQ(auth_tag(tag, key, &l, &a, longname), 0);
	CHECK_EQ(auth_verify(tag, key, &l, &a, longname), 0);
	/* fresh nonces differ */
	uint8_t n1[16], n2[16];
	auth_random(n1, sizeof n1);
	auth_random(n2, sizeof n2);
	CHECK(memcmp(n1, n2, sizeof n1) != 0);
}

int main(void)
{
	test_line();
	test_crypto();
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
