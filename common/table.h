/* Secret tables: a bijection decoy -> intermediate over [lo, hi]
 * (SPEC section 4).  Text format: one "DECOY VALID" pair a line, '#'
 * comments, blank lines allowed; every port of the range must appear once
 * as a decoy and once as a valid port. */
#ifndef SCRAMBLE_TABLE_H
#define SCRAMBLE_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "mapping.h"

struct table {
	struct port_range range;
	uint16_t *map;      /* map[decoy - lo] = intermediate, O(1) lookup */
};

/* Error text for the caller: "FILE:LINE: problem". */
struct table_error {
	char msg[256];
};

/* Parse text (not NUL-terminated; len bytes) named name in messages.
 * 0 on success (fills t, caller calls table_free), -1 with err filled. */
int table_parse(const char *buf, size_t len, const char *name, struct port_range r,
		struct table *t, struct table_error *err);

/* Open, check ownership/permissions (owned by root or the euid, not group-
 * or world-writable), read and parse. 0/-1 with err filled. */
int table_load(const char *path, struct port_range r, struct table *t, struct table_error *err);

/* Check owner/mode of an open file: 0 ok, -1 with err filled. Shared with
 * the configuration loader. */
int file_trust_check(int fd, const char *path, char *err, size_t errlen);

static inline uint16_t table_lookup(const struct table *t, uint16_t decoy)
{
	return t->map[decoy - t->range.lo];
}
static inline int table_has(const struct table *t, long decoy)
{
	return decoy >= t->range.lo && decoy <= t->range.hi;
}

void table_free(struct table *t);

/* "LO-HI" -> range, 1 <= LO <= HI <= 65535. 0/-1. */
int range_parse(const char *s, struct port_range *r);

#endif

/* The smallest and largest decoy of the well-formed lines of a table text,
 * so a table can be used without naming its range. 0/-1 (no pair). */
int table_guess_range(const char *buf, size_t len, struct port_range *r);

/* Read a trusted file (see file_trust_check) of at most max bytes into a
 * malloc'ed buffer.  NULL with err filled. */
char *file_read_trusted(const char *path, size_t max, size_t *len, struct table_error *err);
