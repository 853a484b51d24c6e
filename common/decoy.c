/* The decoy line of wire protocol v1. */
#include <stdio.h>
#include "decoy.h"

long decoy_parse(const char *buf, size_t len, struct port_range r)
{
	size_t i = 0;
	long v = 0;

	if (len < 2 || len > 6 || buf[len - 1] != '\n')
		return -1;
	for (i = 0; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	if (buf[0] == '0' && len - 1 > 1)
		return -1;           /* leading zeros are not the canonical form */
	if (v < r.lo || v > r.hi)
		return -1;
	return v;
}

int decoy_format(char *buf, size_t size, unsigned decoy)
{
	int n = snprintf(buf, size, "%u\n", decoy);
	return (n < 0 || (size_t)n >= size) ? -1 : n;
}
