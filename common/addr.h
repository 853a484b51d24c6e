/* Address helpers: host:port and [v6]:port parsing, CIDR lists, the last
 * byte of an address ([0047]), and a family-independent key. */
#ifndef SCRAMBLE_ADDR_H
#define SCRAMBLE_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An IP address in canonical form: IPv4 (and v4-mapped IPv6) are stored as
 * family AF_INET, so the two spellings compare equal. */
struct ipaddr {
	uint8_t family;     /* AF_INET or AF_INET6 */
	uint8_t bytes[16];  /* network order; IPv4 uses the first 4 */
};

struct cidr {
	struct ipaddr net;
	uint8_t prefix;     /* bits */
};

/* Parse a literal address ("10.0.0.5", "::1", "::ffff:1.2.3.4"). 0/-1. */
int addr_parse(const char *s, struct ipaddr *out);
/* "a.b.c.d:port", "[v6]:port", "*:port" (any, IPv4). Port 0..65535. 0/-1. */
int addr_parse_hostport(const char *s, struct sockaddr_storage *out, socklen_t *len);
/* "10.0.0.0/8", "::1/128", or a bare address (full-length prefix). 0/-1. */
int cidr_parse(const char *s, struct cidr *out);
bool cidr_match(const struct cidr *c, const struct ipaddr *a);
/* true if a matches any of n CIDRs (n == 0: nothing matches). */
bool cidr_list_match(const struct cidr *list, size_t n, const struct ipaddr *a);

/* From/to sockaddr; v4-mapped IPv6 becomes AF_INET.  -1 on other families. */
int addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ipaddr *out, uint16_t *port);
bool addr_equal(const struct ipaddr *a, const struct ipaddr *b);
/* Last octet of IPv4 / v4-mapped, last byte of IPv6. */
int addr_last_byte(const struct ipaddr *a);
/* Text form (no brackets); buf of at least INET6_ADDRSTRLEN. */
const char *addr_str(const struct ipaddr *a, char *buf, size_t len);
/* Port of a sockaddr (host order) or -1. */
int sockaddr_port(const struct sockaddr *sa);
void sockaddr_set_port(struct sockaddr *sa, uint16_t port);

#endif
