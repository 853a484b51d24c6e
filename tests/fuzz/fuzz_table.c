/* Secret table text (SPEC section 4): table_parse over a fixed small range
 * and over the range table_guess_range finds, with the bijection checked on
 * every table that is accepted. */
#include "fuzz.h"
#include "table.h"

static void check_bijection(const struct table *t)
{
	size_t n = (size_t)t->range.hi - t->range.lo + 1;
	unsigned char *seen = calloc(n, 1);
	if (!seen)
		return;
	for (size_t i = 0; i < n; i++) {
		uint16_t v = table_lookup(t, (uint16_t)(t->range.lo + i));
		FUZZ_ASSERT(v >= t->range.lo && v <= t->range.hi);
		FUZZ_ASSERT(!seen[v - t->range.lo]);
		seen[v - t->range.lo] = 1;
	}
	free(seen);
}

static void one(const char *buf, size_t len, struct port_range r)
{
	struct table t = { 0 };
	struct table_error err;
	memset(&err, 0, sizeof err);
	if (table_parse(buf, len, "fuzz", r, &t, &err) == 0) {
		FUZZ_ASSERT(t.range.lo == r.lo && t.range.hi == r.hi);
		check_bijection(&t);
		table_free(&t);
	} else {
		FUZZ_ASSERT(memchr(err.msg, '\0', sizeof err.msg) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct port_range g;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	one(buf, size, (struct port_range){ 1000, 1015 });
	if (table_guess_range(buf, size, &g) == 0) {
		FUZZ_ASSERT(g.lo >= 1 && g.lo <= g.hi);
		if (g.hi - g.lo < 4096)   /* keep each run fast */
			one(buf, size, g);
	}
	free(buf);
	return 0;
}
