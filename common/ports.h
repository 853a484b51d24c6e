/* Choosing the decoy (SPEC section 4): uniform among the decoys whose valid
 * port is free. */
#ifndef SCRAMBLE_PORTS_H
#define SCRAMBLE_PORTS_H

#include <stdint.h>
#include "table.h"

#define PORT_BITMAP_BYTES (65536 / 8)

static inline void port_mark(uint8_t *bm, uint16_t p) { bm[p >> 3] |= (uint8_t)(1u << (p & 7)); }
static inline int port_marked(const uint8_t *bm, uint16_t p) { return bm[p >> 3] & (1u << (p & 7)); }

/* A uniform random number in [0, bound) (bound > 0). */
typedef uint32_t (*rand_fn)(uint32_t bound);
uint32_t ports_random(uint32_t bound);   /* getrandom(2) */

/* Pure: pick a decoy of t uniformly among those whose valid port (under
 * offsets, hour, octet) is not marked in busy.  0 and *decoy, *valid set;
 * -1 if every valid port is busy. */
int ports_pick(const struct table *t, unsigned offsets, int hour, int octet,
	       const uint8_t *busy, rand_fn rnd, uint16_t *decoy, uint16_t *valid);

/* Mark every port present in /proc/net/tcp{,6} (any state, local or
 * remote).  0/-1. */
int ports_scan_busy(const char *procfs_prefix, uint8_t *busy);

/* Can a TCP socket be bound to the wildcard address on port (IPv4, and
 * IPv6 where available)? */
int ports_bindable(uint16_t port);

#endif
