/* Wire protocol v1 (SPEC section 3): the decoy line. */
#ifndef SCRAMBLE_DECOY_H
#define SCRAMBLE_DECOY_H

#include <stddef.h>
#include "mapping.h"

#define DECOY_MAX_READ 8  /* the client reads at most this many bytes */

/* Strict parse of what the client read (len bytes, until newline or EOF):
 * exactly [0-9]{1,5}\n, no leading zero unless the number is 0, the value in
 * [r.lo, r.hi], nothing after the newline.  Returns the decoy or -1. */
long decoy_parse(const char *buf, size_t len, struct port_range r);

/* Format "DECOY\n" into buf (>= 7 bytes); returns the length. */
int decoy_format(char *buf, size_t size, unsigned decoy);

#endif
