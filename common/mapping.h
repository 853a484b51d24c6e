/* The port mapping of SPEC section 4 (patent [0041]-[0050]): pure
 * functions, no I/O. */
#ifndef SCRAMBLE_MAPPING_H
#define SCRAMBLE_MAPPING_H

#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#define SCRAMBLE_OFF_HOUR   0x1u  /* add the current UTC hour ([0045]) */
#define SCRAMBLE_OFF_OCTET  0x2u  /* subtract the client's last address byte ([0047]) */

struct port_range {
	uint16_t lo, hi;
};

/* lo + ((x - lo) mod (hi - lo + 1)), non-negative modulo. */
uint16_t map_wrap(long x, struct port_range r);

/* The UTC hour (0..23) of a unix time. */
int map_hour(time_t unix_time);

/* valid = wrap(intermediate + H - O) with H, O switched by the offsets. */
uint16_t map_valid(uint16_t intermediate, unsigned offsets, int hour, int octet,
		   struct port_range r);

/* Hour-boundary guard: 0 if a decoy may be issued at unix_time, else the
 * number of seconds to wait until the hour has turned (issuing is refused in
 * the last guard seconds of each hour). */
unsigned map_guard_wait(time_t unix_time, unsigned guard);

#endif
