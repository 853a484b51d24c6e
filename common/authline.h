/* Wire protocol v2 (contrib/man/scramble-protocol.7): the rendezvous line
 * of an authenticated service, "2 DECOY NONCE\n".  Pure text handling, no
 * cryptography: the shim (which must not link libsodium) parses it here. */
#ifndef SCRAMBLE_AUTHLINE_H
#define SCRAMBLE_AUTHLINE_H

#include <stddef.h>
#include <stdint.h>
#include "mapping.h"

#define AUTH_KEY_BYTES   32   /* the service key file: exactly this many bytes */
#define AUTH_NONCE_BYTES 16   /* fresh random per rendezvous */
#define AUTH_TAG_BYTES   32   /* the authenticator the client writes first */
/* "2 " + 5 digits + " " + 32 hex + "\n" = 41; the client reads at most: */
#define AUTH_LINE_MAX    48

struct auth_line {
	uint16_t decoy;
	uint8_t nonce[AUTH_NONCE_BYTES];
};

/* Strict parse of what the client read (len bytes, until newline or EOF):
 * exactly "2 " DECOY " " NONCE "\n" where DECOY is [0-9]{1,5} without a
 * leading zero, in [r.lo, r.hi], and NONCE is 32 lowercase hex digits;
 * nothing after the newline.  0 and *out filled, or -1. */
int authline_parse(const char *buf, size_t len, struct port_range r, struct auth_line *out);

/* Format the line into buf (>= AUTH_LINE_MAX bytes); returns its length
 * or -1. */
int authline_format(char *buf, size_t size, const struct auth_line *l);

/* The wire version of a reply: 2 if it starts with "2 ", else 1. */
static inline int authline_version(const char *buf, size_t len)
{
	return len >= 2 && buf[0] == '2' && buf[1] == ' ' ? 2 : 1;
}

#endif
