/* /proc/net/tcp and tcp6 text: whole buffers and single lines, both
 * families. */
#include "fuzz.h"
#include "procfs.h"

static int count(const struct tcp_entry *e, void *arg)
{
	FUZZ_ASSERT(e->local.family == 2 /* AF_INET */ || e->local.family == 10 /* AF_INET6 */);
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t seen = 0;
		size_t n = procfs_parse_buf(buf, size, v6, count, &seen);
		FUZZ_ASSERT(n == seen);
		struct tcp_entry e;
		(void)procfs_parse_line(buf, size, v6, &e);
	}
	free(buf);
	return 0;
}
