/* Unit tests: per-source rate limit with back-off (daemon/ratelimit.c). */
#include "../../common/ratelimit.c"
#include "unit.h"

static struct ipaddr v4(unsigned last)
{
	struct ipaddr a;
	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	a.bytes[0] = 10;
	a.bytes[3] = (uint8_t)last;
	return a;
}

int main(void)
{
	struct rate_table t = { 0 };
	struct ipaddr a = v4(1), b = v4(2);
	/* 3 per 10 s, deny 60 s */
	CHECK(rate_allow(&t, &a, 1000, 3, 10000, 60000));
	CHECK(rate_allow(&t, &a, 1100, 3, 10000, 60000));
	CHECK(rate_allow(&t, &a, 1200, 3, 10000, 60000));
	CHECK(!rate_allow(&t, &a, 1300, 3, 10000, 60000));      /* 4th in the window */
	CHECK(rate_allow(&t, &b, 1300, 3, 10000, 60000));       /* others unaffected */
	CHECK(!rate_allow(&t, &a, 30000, 3, 10000, 60000));     /* still backing off */
	CHECK(!rate_allow(&t, &a, 61299, 3, 10000, 60000));
	CHECK(rate_allow(&t, &a, 61300, 3, 10000, 60000));      /* deny over: fresh window */
	CHECK(rate_allow(&t, &a, 61400, 3, 10000, 60000));
	CHECK(rate_allow(&t, &a, 61500, 3, 10000, 60000));
	CHECK(!rate_allow(&t, &a, 61600, 3, 10000, 60000));
	/* a window that passes resets the count */
	struct ipaddr c = v4(3);
	for (int i = 0; i < 10; i++)
		CHECK(rate_allow(&t, &c, 100000 + (uint64_t)i * 5000, 2, 10000, 60000) || i % 2 == 1);
	/* disabled */
	for (int i = 0; i < 100; i++)
		CHECK(rate_allow(&t, &a, 200000, 0, 0, 0));
	/* expiry drops idle entries */
	CHECK_EQ(rate_size(&t), 3);
	rate_expire(&t, 1000000, 10000);
	CHECK_EQ(rate_size(&t), 0);
	/* bounded: many sources evict the oldest */
	for (unsigned i = 0; i < RATE_MAX_ENTRIES + 100; i++) {
		struct ipaddr x;
		memset(&x, 0, sizeof x);
		x.family = AF_INET6;
		memcpy(x.bytes + 12, &i, sizeof i);
		rate_allow(&t, &x, 2000000, 5, 10000, 60000);
	}
	CHECK(rate_size(&t) <= RATE_MAX_ENTRIES);
	/* v4 and v6 keys do not collide */
	struct ipaddr v6 = a;
	v6.family = AF_INET6;
	rate_free(&t);
	CHECK(rate_allow(&t, &a, 0, 1, 10000, 60000));
	CHECK(rate_allow(&t, &v6, 0, 1, 10000, 60000));
	rate_free(&t);
	return unit_done();
}
