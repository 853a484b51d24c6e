/* The client side's lookup table: every (address, port) pair a target
 * names, with host names resolved once when the set is built.  After that
 * the set is read-only, so the shim's threads look it up without a lock. */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>

/* uthash must never exit() inside someone else's program: out of memory
 * while adding is reported to us instead. */
static bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)

#include <stdlib.h>
#include <string.h>
#include "targets.h"

/* Add (a, port) -> t.  A pair claimed by two targets keeps the first one
 * (the configuration order) and reports the second.  0/-1 (no memory). */
static int add_pair(struct target_set *ts, const struct ipaddr *a, const struct target *t,
		    struct config_errors *errs)
{
	struct target_entry *e, *old = NULL;
	char txt[64];

	e = calloc(1, sizeof *e);
	if (e == NULL)
		return -1;
	e->key.addr.family = a->family;
	memcpy(e->key.addr.bytes, a->bytes, a->family == AF_INET ? 4 : 16);
	e->key.port = t->port;
	e->target = t;
	HASH_FIND(hh, ts->hash, &e->key, sizeof e->key, old);
	if (old != NULL) {
		if (old->target != t && errs != NULL)
			config_errors_add(errs, "%s:%d: target \"%s\": %s port %u is already target \"%s\"",
					  ts->conf->path ? ts->conf->path : "config", t->line, t->name,
					  addr_str(a, txt, sizeof txt), t->port, old->target->name);
		free(e);
		return 0;
	}
	hash_oom = false;
	HASH_ADD(hh, ts->hash, key, sizeof e->key, e);
	if (hash_oom) {
		free(e);
		return -1;
	}
	ts->ports[t->port >> 3] |= (uint8_t)(1u << (t->port & 7));
	return 0;
}

/* Resolve one host (literal or name) and add each address. 0/-1. */
static int add_host(struct target_set *ts, const struct target *t, const char *host,
		    struct config_errors *errs)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct ipaddr a;
	uint16_t port;
	int rc;

	if (addr_parse(host, &a) == 0)
		return add_pair(ts, &a, t, errs);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		if (errs != NULL)
			config_errors_add(errs, "%s:%d: target \"%s\": cannot resolve \"%s\": %s",
					  ts->conf->path ? ts->conf->path : "config", t->line, t->name,
					  host, gai_strerror(rc));
		return 0;            /* skipped: the other hosts still count */
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a, &port) != 0)
			continue;
		if (add_pair(ts, &a, t, errs) != 0) {
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

int target_set_build(struct target_set *ts, struct config *c, struct config_errors *errs)
{
	size_t i, j;

	memset(ts, 0, sizeof *ts);
	ts->conf = c;
	if (c == NULL)
		return 0;
	for (i = 0; i < c->ntargets; i++) {
		const struct target *t = &c->targets[i];
		for (j = 0; j < t->nhosts; j++) {
			if (add_host(ts, t, t->hosts[j], errs) != 0) {
				target_set_free(ts);
				errno = ENOMEM;
				return -1;
			}
		}
	}
	return 0;
}

void target_set_free(struct target_set *ts)
{
	struct target_entry *e, *tmp;

	HASH_ITER(hh, ts->hash, e, tmp) {
		HASH_DEL(ts->hash, e);
		free(e);
	}
	if (ts->conf != NULL)
		config_free(ts->conf);
	memset(ts, 0, sizeof *ts);
}
