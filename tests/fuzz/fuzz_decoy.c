/* The decoy line (SPEC section 3) as a client reads it from the network. */
#include "fuzz.h"
#include "decoy.h"

static void one(const char *buf, size_t len, struct port_range r)
{
	long d = decoy_parse(buf, len, r);
	if (d < 0) {
		FUZZ_ASSERT(d == -1);
		return;
	}
	/* accepted: in range, and exactly the canonical form the daemon sends */
	FUZZ_ASSERT(d >= r.lo && d <= r.hi);
	char out[8];
	int n = decoy_format(out, sizeof out, (unsigned)d);
	FUZZ_ASSERT(n > 0 && (size_t)n == len && memcmp(out, buf, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exactly sized heap copy so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	one(buf, size, (struct port_range){ 1, 65535 });
	one(buf, size, (struct port_range){ 1024, 65535 });
	one(buf, size, (struct port_range){ 20000, 20099 });
	one(buf, size, (struct port_range){ 0, 0 });
	free(buf);
	return 0;
}
