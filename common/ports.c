/* Decoy choice and free-port checks (see ports.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include "ports.h"
#include "procfs.h"

uint32_t ports_random(uint32_t bound)
{
	/* rejection sampling: no modulo bias */
	uint32_t limit = UINT32_MAX - (UINT32_MAX % bound), x;
	do {
		if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
			x = 0;   /* getrandom on a booted kernel does not fail for 4 bytes */
	} while (x >= limit);
	return x % bound;
}

int ports_pick(const struct table *t, unsigned offsets, int hour, int octet,
	       const uint8_t *busy, rand_fn rnd, uint16_t *decoy, uint16_t *valid)
{
	struct port_range r = t->range;
	uint32_t nfree = 0;
	for (uint32_t dcy = r.lo; dcy <= r.hi; dcy++) {
		uint16_t v = map_valid(table_lookup(t, (uint16_t)dcy), offsets, hour, octet, r);
		if (!port_marked(busy, v))
			nfree++;
	}
	if (nfree == 0)
		return -1;
	uint32_t k = rnd(nfree);
	for (uint32_t dcy = r.lo; dcy <= r.hi; dcy++) {
		uint16_t v = map_valid(table_lookup(t, (uint16_t)dcy), offsets, hour, octet, r);
		if (port_marked(busy, v))
			continue;
		if (k-- == 0) {
			*decoy = (uint16_t)dcy;
			*valid = v;
			return 0;
		}
	}
	return -1;   /* not reached */
}

/* Local ports of every socket; remote ports too, so that no socket at all
 * (e.g. a client's TIME_WAIT end of an earlier session on loopback) refers
 * to a port we hand out: the watch then sees only this session's sockets. */
static int mark_entry(const struct tcp_entry *e, void *arg)
{
	port_mark(arg, e->lport);
	port_mark(arg, e->rport);
	return 0;
}

int ports_scan_busy(const char *procfs_prefix, uint8_t *busy)
{
	return procfs_scan(procfs_prefix, mark_entry, busy) < 0 ? -1 : 0;
}

static int try_bind(int family, uint16_t port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno == EAFNOSUPPORT ? 0 : -1;
	int rc;
	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
		rc = bind(fd, (struct sockaddr *)&sin, sizeof sin);
	} else {
		int one = 1;
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		rc = bind(fd, (struct sockaddr *)&sin6, sizeof sin6);
	}
	close(fd);
	return rc;
}

int ports_bindable(uint16_t port)
{
	return try_bind(AF_INET, port) == 0 && try_bind(AF_INET6, port) == 0;
}
