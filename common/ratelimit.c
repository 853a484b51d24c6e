/* Per-source rate limiting (see ratelimit.h). */
#include <stdlib.h>
#include <string.h>

/* uthash must never exit(): this runs inside programs that embed the API.
 * An add that runs out of memory leaves the entry out; the flag says so. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (added = false)

#include "ratelimit.h"

static void make_key(uint8_t key[17], const struct ipaddr *a)
{
	memset(key, 0, 17);
	key[0] = a->family;
	memcpy(key + 1, a->bytes, a->family == AF_INET ? 4 : 16);
}

bool rate_allow(struct rate_table *t, const struct ipaddr *a, uint64_t now,
		unsigned count, uint64_t window, uint64_t deny)
{
	if (count == 0 || window == 0)
		return true;
	uint8_t key[17];
	make_key(key, a);
	struct rate_entry *e = NULL;
	HASH_FIND(hh, t->hash, key, sizeof key, e);
	if (!e) {
		if (HASH_COUNT(t->hash) >= RATE_MAX_ENTRIES)
			rate_expire(t, now, window);
		if (HASH_COUNT(t->hash) >= RATE_MAX_ENTRIES) {
			struct rate_entry *old = t->hash;   /* oldest inserted */
			HASH_DEL(t->hash, old);
			free(old);
		}
		e = calloc(1, sizeof *e);
		if (!e)
			return false;   /* no memory: refuse rather than launch */
		memcpy(e->key, key, sizeof key);
		e->win_start = now;
		bool added = true;
		HASH_ADD(hh, t->hash, key, sizeof e->key, e);
		if (!added) {
			free(e);
			return false;   /* likewise */
		}
	}
	if (e->deny_until > now)
		return false;
	if (now - e->win_start >= window) {
		e->win_start = now;
		e->count = 0;
	}
	if (++e->count > count) {
		e->deny_until = now + deny;
		e->win_start = now + deny;   /* a fresh window after the back-off */
		e->count = 0;
		return false;
	}
	return true;
}

void rate_expire(struct rate_table *t, uint64_t now, uint64_t window)
{
	struct rate_entry *e, *tmp;
	HASH_ITER(hh, t->hash, e, tmp) {
		if (e->deny_until <= now && now >= e->win_start && now - e->win_start >= window) {
			HASH_DEL(t->hash, e);
			free(e);
		}
	}
}

size_t rate_size(const struct rate_table *t)
{
	return HASH_COUNT(t->hash);
}

void rate_free(struct rate_table *t)
{
	struct rate_entry *e, *tmp;
	HASH_ITER(hh, t->hash, e, tmp) {
		HASH_DEL(t->hash, e);
		free(e);
	}
}
