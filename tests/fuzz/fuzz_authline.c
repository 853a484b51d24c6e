/* The protocol v2 rendezvous line (scramble-protocol(7)) as a client with
 * auth = yes reads it from the network. */
#include "fuzz.h"
#include "authline.h"

static void one(const char *buf, size_t len, struct port_range r)
{
	struct auth_line l;
	int rc = authline_parse(buf, len, r, &l);
	if (rc != 0) {
		FUZZ_ASSERT(rc == -1);
		return;
	}
	/* accepted: in range, and exactly the canonical form the daemon sends */
	FUZZ_ASSERT(l.decoy >= r.lo && l.decoy <= r.hi);
	char out[AUTH_LINE_MAX];
	int n = authline_format(out, sizeof out, &l);
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
	one(buf, size, (struct port_range){ 20000, 20099 });
	one(buf, size, (struct port_range){ 0, 0 });
	free(buf);
	return 0;
}
