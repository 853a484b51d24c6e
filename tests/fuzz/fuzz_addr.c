/* Address, host:port, CIDR and port-range strings from the configuration,
 * with round trips through the text form. */
#include <arpa/inet.h>
#include "fuzz.h"
#include "addr.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct ipaddr a, b;
	struct cidr c;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct port_range r;
	char text[INET6_ADDRSTRLEN];

	if (!s)
		return 0;
	if (addr_parse(s, &a) == 0) {
		FUZZ_ASSERT(a.family == AF_INET || a.family == AF_INET6);
		FUZZ_ASSERT(addr_str(&a, text, sizeof text) != NULL);
		FUZZ_ASSERT(addr_parse(text, &b) == 0 && addr_equal(&a, &b));
		int lb = addr_last_byte(&a);
		FUZZ_ASSERT(lb >= 0 && lb <= 255);
	}
	if (addr_parse_hostport(s, &ss, &len) == 0) {
		FUZZ_ASSERT(len <= sizeof ss);
		int port = sockaddr_port((struct sockaddr *)&ss);
		FUZZ_ASSERT(port >= 0 && port <= 65535);
		uint16_t p2;
		FUZZ_ASSERT(addr_from_sockaddr((struct sockaddr *)&ss, len, &b, &p2) == 0);
		FUZZ_ASSERT(p2 == port);
	}
	if (cidr_parse(s, &c) == 0) {
		FUZZ_ASSERT(c.prefix <= (c.net.family == AF_INET ? 32 : 128));
		FUZZ_ASSERT(cidr_match(&c, &c.net));
		FUZZ_ASSERT(cidr_list_match(&c, 1, &c.net));
	}
	if (range_parse(s, &r) == 0)
		FUZZ_ASSERT(r.lo >= 1 && r.lo <= r.hi);
	free(s);
	return 0;
}
