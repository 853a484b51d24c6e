/* The rendezvous line of wire protocol v2 (see authline.h). */
#include <stdio.h>
#include <string.h>
#include "authline.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;       /* uppercase is not the canonical form */
}

int authline_parse(const char *buf, size_t len, struct port_range r, struct auth_line *out)
{
	size_t i = 2, start;
	long v = 0;

	if (len < 2 + 1 + 1 + 2 * AUTH_NONCE_BYTES + 1 || len > AUTH_LINE_MAX ||
	    buf[0] != '2' || buf[1] != ' ' || buf[len - 1] != '\n')
		return -1;
	start = i;
	while (i < len && buf[i] >= '0' && buf[i] <= '9' && i - start < 5)
		v = v * 10 + (buf[i++] - '0');
	if (i == start || (buf[start] == '0' && i - start > 1) || v < r.lo || v > r.hi)
		return -1;
	if (buf[i++] != ' ' || len - i != 2 * AUTH_NONCE_BYTES + 1)
		return -1;
	for (size_t k = 0; k < AUTH_NONCE_BYTES; k++) {
		int hi = hexval(buf[i + 2 * k]), lo = hexval(buf[i + 2 * k + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out->nonce[k] = (uint8_t)(hi << 4 | lo);
	}
	out->decoy = (uint16_t)v;
	return 0;
}

int authline_format(char *buf, size_t size, const struct auth_line *l)
{
	static const char hex[] = "0123456789abcdef";
	char nonce[2 * AUTH_NONCE_BYTES + 1];
	int n;

	for (size_t k = 0; k < AUTH_NONCE_BYTES; k++) {
		nonce[2 * k] = hex[l->nonce[k] >> 4];
		nonce[2 * k + 1] = hex[l->nonce[k] & 15];
	}
	nonce[2 * AUTH_NONCE_BYTES] = '\0';
	n = snprintf(buf, size, "2 %u %s\n", (unsigned)l->decoy, nonce);
	return (n < 0 || (size_t)n >= size) ? -1 : n;
}
