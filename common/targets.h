/* The client side's lookup: which (address, port) pairs are scrambled.
 * Built once from the configuration (host names resolved then), read-only
 * afterwards, so lookups need no lock. */
#ifndef SCRAMBLE_TARGETS_H
#define SCRAMBLE_TARGETS_H

#include <stdint.h>
#include <sys/socket.h>
#include <uthash.h>
#include "config.h"

struct target_key {
	struct ipaddr addr;        /* canonical: v4-mapped stored as AF_INET */
	uint8_t pad;
	uint16_t port;             /* host order */
};

struct target_entry {
	struct target_key key;     /* zero-filled before use: hashed as bytes */
	const struct target *target;
	UT_hash_handle hh;
};

struct target_set {
	struct target_entry *hash;
	uint8_t ports[65536 / 8];  /* pre-filter: bit set if any target uses the port */
	struct config *conf;       /* owned */
};

/* Resolve every target's hosts (getaddrinfo for names) and fill ts; takes
 * ownership of c.  Unresolvable names are skipped (errs gets a line).
 * 0/-1. */
int target_set_build(struct target_set *ts, struct config *c, struct config_errors *errs);

/* The target for a destination, or NULL.  No syscall, no allocation. */
static inline const struct target *target_set_find(const struct target_set *ts,
						   const struct ipaddr *a, uint16_t port)
{
	if (!(ts->ports[port >> 3] & (1u << (port & 7))))
		return NULL;
	struct target_key k;
	__builtin_memset(&k, 0, sizeof k);
	k.addr.family = a->family;
	__builtin_memcpy(k.addr.bytes, a->bytes, a->family == AF_INET ? 4 : 16);
	k.port = port;
	struct target_entry *e = NULL;
	HASH_FIND(hh, ts->hash, &k, sizeof k, e);
	return e ? e->target : NULL;
}

void target_set_free(struct target_set *ts);

#endif
