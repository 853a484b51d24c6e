/* Port mapping (SPEC section 4). */
#include "mapping.h"

uint16_t map_wrap(long x, struct port_range r)
{
	long span = (long)r.hi - (long)r.lo + 1;
	long m = (x - (long)r.lo) % span;
	if (m < 0)
		m += span;
	return (uint16_t)(r.lo + m);
}

int map_hour(time_t unix_time)
{
	long h = (long)((unix_time / 3600) % 24);
	return (int)(h < 0 ? h + 24 : h);
}

uint16_t map_valid(uint16_t intermediate, unsigned offsets, int hour, int octet,
		   struct port_range r)
{
	long x = intermediate;
	if (offsets & SCRAMBLE_OFF_HOUR)
		x += hour;
	if (offsets & SCRAMBLE_OFF_OCTET)
		x -= octet;
	return map_wrap(x, r);
}

unsigned map_guard_wait(time_t unix_time, unsigned guard)
{
	long into = (long)(unix_time % 3600);
	if (into < 0)
		into += 3600;
	long left = 3600 - into;     /* seconds until the hour turns */
	return left <= (long)guard ? (unsigned)left : 0;
}
