/* Wire protocol v2: the keyed valid port and the authenticator
 * (contrib/man/scramble-protocol.7).  Pure functions over libsodium: no
 * I/O, no state.  Linked into the daemon, scramblectl, scramble-connect and
 * libscramble-conf.so; never into libscramble.so, which reaches these
 * through the function pointer that libscramble-conf.so hands it.
 *
 *   valid = lo + (LE64(BLAKE2b-64(key; "scramble v2 port" || DECOY ||
 *                 NONCE || STEP || ADDR)) mod (hi - lo + 1))
 *   tag   = HMAC-SHA-512-256(key; "scramble v2 auth" || NONCE || DECOY ||
 *                 ADDR || LEN || NAME)
 *
 * DECOY: 2 bytes big-endian; STEP: the UTC hour count (unix time / 3600),
 * 4 bytes big-endian; ADDR: the client's address as the server sees it,
 * 1 byte 4 or 6 then 16 bytes (IPv4 in the first 4, the rest zero; a
 * v4-mapped IPv6 address is IPv4); LEN: 1 byte, the length of NAME, the
 * service name (= the target name on the client side). */
#ifndef SCRAMBLE_AUTH_H
#define SCRAMBLE_AUTH_H

#include <stdint.h>
#include <time.h>
#include "addr.h"
#include "authline.h"
#include "mapping.h"

#define AUTH_NAME_MAX 255

/* sodium_init(); 0/-1.  Call once before anything below. */
int auth_init(void);

/* Fresh random bytes (randombytes_buf). */
void auth_random(void *buf, size_t n);

/* The time step of a unix time (hours since the epoch). */
uint32_t auth_step(time_t unix_time);

/* The valid port for (decoy, nonce, step, client) within r. */
uint16_t auth_port(const uint8_t key[AUTH_KEY_BYTES], const struct auth_line *l, uint32_t step,
		   const struct ipaddr *client, struct port_range r);

/* The authenticator.  0, or -1 if name is longer than AUTH_NAME_MAX. */
int auth_tag(uint8_t tag[AUTH_TAG_BYTES], const uint8_t key[AUTH_KEY_BYTES],
	     const struct auth_line *l, const struct ipaddr *client, const char *name);

/* Constant-time check of a received authenticator: 0 good, -1 bad. */
int auth_verify(const uint8_t tag[AUTH_TAG_BYTES], const uint8_t key[AUTH_KEY_BYTES],
		const struct auth_line *l, const struct ipaddr *client, const char *name);

/* The client's whole step, in one call so that the shim can reach it
 * through one pointer: the valid port (returned, 1..65535) and the
 * authenticator, or -1. */
typedef int (*auth_client_fn)(const uint8_t key[AUTH_KEY_BYTES], const char *name,
			      const struct auth_line *l, time_t now, const struct ipaddr *me,
			      struct port_range r, uint8_t tag[AUTH_TAG_BYTES]);
int auth_client(const uint8_t key[AUTH_KEY_BYTES], const char *name, const struct auth_line *l,
		time_t now, const struct ipaddr *me, struct port_range r,
		uint8_t tag[AUTH_TAG_BYTES]);

#endif
