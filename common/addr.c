/* Address helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

static const uint8_t v4mapped_prefix[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

static void canon_v6(const uint8_t b[16], struct ipaddr *out)
{
	memset(out, 0, sizeof *out);
	if (memcmp(b, v4mapped_prefix, 12) == 0) {
		out->family = AF_INET;
		memcpy(out->bytes, b + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->bytes, b, 16);
	}
}

int addr_parse(const char *s, struct ipaddr *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!s)
		return -1;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		out->family = AF_INET;
		memcpy(out->bytes, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		canon_v6(a6.s6_addr, out);
		return 0;
	}
	return -1;
}

/* Strict decimal 0..max, no sign, no spaces, no leading zeros beyond "0". */
static int parse_uint(const char *s, long max, long *v)
{
	long x = 0;
	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		x = x * 10 + (*s - '0');
		if (x > max)
			return -1;
	}
	*v = x;
	return 0;
}

int addr_parse_hostport(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	long p;
	size_t hl;

	if (!s)
		return -1;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -1;
		hl = (size_t)(end - s - 1);
		if (hl == 0 || hl >= sizeof host)
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		port = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;   /* bare IPv6 needs brackets */
		hl = (size_t)(colon - s);
		if (hl == 0 || hl >= sizeof host)
			return -1;
		memcpy(host, s, hl);
		host[hl] = 0;
		port = colon + 1;
	}
	if (parse_uint(port, 65535, &p) < 0)
		return -1;

	memset(out, 0, sizeof *out);
	if (s[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		*len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		*len = sizeof *sin6;
	}
	return 0;
}

int cidr_parse(const char *s, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	long prefix;
	int max;

	if (!s || strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (addr_parse(buf, &out->net) < 0)
		return -1;
	max = out->net.family == AF_INET ? 32 : 128;
	/* "::ffff:10.0.0.0/104" names IPv4 space: rebase the prefix */
	int mapped = out->net.family == AF_INET && strchr(buf, ':') != NULL;
	if (!slash) {
		prefix = max;
	} else {
		if (parse_uint(slash + 1, mapped ? 128 : max, &prefix) < 0)
			return -1;
		if (mapped) {
			if (prefix < 96)
				return -1;
			prefix -= 96;
		}
	}
	out->prefix = (uint8_t)prefix;
	/* host bits must be zero: "10.0.0.1/8" is most likely a typo */
	for (int bit = (int)prefix; bit < max; bit++)
		if (out->net.bytes[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

bool cidr_match(const struct cidr *c, const struct ipaddr *a)
{
	int full, rest;
	if (c->net.family != a->family)
		return false;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->net.bytes, a->bytes, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((c->net.bytes[full] & mask) != (a->bytes[full] & mask))
			return false;
	}
	return true;
}

bool cidr_list_match(const struct cidr *list, size_t n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], a))
			return true;
	return false;
}

int addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ipaddr *out, uint16_t *port)
{
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memset(out, 0, sizeof *out);
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		canon_v6(sin6->sin6_addr.s6_addr, out);
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

bool addr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

int addr_last_byte(const struct ipaddr *a)
{
	return a->family == AF_INET ? a->bytes[3] : a->bytes[15];
}

const char *addr_str(const struct ipaddr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

void sockaddr_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}
