/* Per-source rate limit with back-off, in the manner of xinetd's cps:
 * more than `count` rendezvous from one address within `window` ms makes
 * that address refused for `deny` ms.  Pure: time is passed in. */
#ifndef SCRAMBLE_RATELIMIT_H
#define SCRAMBLE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include "addr.h"

#define RATE_MAX_ENTRIES 4096   /* oldest entry evicted past this */

struct rate_entry {
	uint8_t key[17];            /* family + 16 address bytes, zero-padded */
	uint64_t win_start;
	unsigned count;
	uint64_t deny_until;
	UT_hash_handle hh;
};

struct rate_table {
	struct rate_entry *hash;
};

/* Count one attempt from a at time now (ms).  true: allowed; false: the
 * address is (now) denied.  count == 0 disables the limit. */
bool rate_allow(struct rate_table *t, const struct ipaddr *a, uint64_t now,
		unsigned count, uint64_t window, uint64_t deny);

/* Drop entries whose window and deny time are both over. */
void rate_expire(struct rate_table *t, uint64_t now, uint64_t window);

size_t rate_size(const struct rate_table *t);
void rate_free(struct rate_table *t);

#endif
