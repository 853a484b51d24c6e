/* Unit tests: decoy choice among free valid ports (daemon/ports.c). */
#include "../../common/ports.c"
#include "unit.h"

static uint32_t next_k;
static uint32_t fixed(uint32_t bound)
{
	return next_k % bound;
}

int main(void)
{
	/* a table over 100-109: decoy d -> intermediate 100 + (d - 100 + 3) % 10 */
	uint16_t map[10];
	for (int i = 0; i < 10; i++)
		map[i] = (uint16_t)(100 + (i + 3) % 10);
	struct table t = { .range = { 100, 109 }, .map = map };
	static uint8_t busy[PORT_BITMAP_BYTES];
	uint16_t d, v;

	next_k = 0;
	CHECK_EQ(ports_pick(&t, 0, 0, 0, busy, fixed, &d, &v), 0);
	CHECK_EQ(d, 100);
	CHECK_EQ(v, 103);
	/* with the hour offset: valid = wrap(103 + 5) = 108 */
	CHECK_EQ(ports_pick(&t, SCRAMBLE_OFF_HOUR, 5, 0, busy, fixed, &d, &v), 0);
	CHECK_EQ(v, 108);
	/* all but one valid port busy: always that one */
	for (uint16_t p = 100; p <= 109; p++)
		if (p != 106)
			port_mark(busy, p);
	for (next_k = 0; next_k < 20; next_k++) {
		CHECK_EQ(ports_pick(&t, 0, 0, 0, busy, fixed, &d, &v), 0);
		CHECK_EQ(v, 106);
		CHECK_EQ(d, 103);
	}
	port_mark(busy, 106);
	CHECK_EQ(ports_pick(&t, 0, 0, 0, busy, fixed, &d, &v), -1);
	/* uniform: the k-th free port for k = 0..n-1 covers each once */
	memset(busy, 0, sizeof busy);
	port_mark(busy, 101);
	port_mark(busy, 105);
	int hits[110] = { 0 };
	for (next_k = 0; next_k < 8; next_k++) {
		CHECK_EQ(ports_pick(&t, 0, 0, 0, busy, fixed, &d, &v), 0);
		hits[v]++;
	}
	int ok = 1;
	for (int p = 100; p <= 109; p++)
		ok &= hits[p] == ((p == 101 || p == 105) ? 0 : 1);
	CHECK(ok);
	/* the random source stays in bounds */
	int inb = 1;
	for (int i = 0; i < 1000; i++)
		inb &= ports_random(7) < 7;
	CHECK(inb);
	/* the full range works (no 16-bit overflow at 65535) */
	static uint16_t big[65535 - 1024 + 1];
	for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++)
		big[i] = (uint16_t)(1024 + i);
	struct table tb = { .range = { 1024, 65535 }, .map = big };
	memset(busy, 0, sizeof busy);
	for (unsigned p = 1024; p < 65535; p++)
		port_mark(busy, (uint16_t)p);
	next_k = 12345;
	CHECK_EQ(ports_pick(&tb, 0, 0, 0, busy, fixed, &d, &v), 0);
	CHECK_EQ(v, 65535);
	CHECK_EQ(d, 65535);
	return unit_done();
}
