/* The client side of wire protocol v1: the rendezvous and the valid port.
 * Shared by the shim and scramble-connect. */
#ifndef SCRAMBLE_CLIENT_H
#define SCRAMBLE_CLIENT_H

#include <sys/socket.h>
#include <time.h>
#include "auth.h"
#include "config.h"

/* Rendezvous with the server at dst (its address; the port is replaced by
 * t->rendezvous) on a fresh socket of dst's family, bound to local if
 * local != NULL (the application socket's bound address), within
 * t->timeout seconds.  Returns the valid port (1..65535) or -1 with errno
 * ECONNREFUSED (no decoy: refused, EOF, garbage) or ETIMEDOUT.  Every fd it
 * opens is closed before it returns.  now is the unix time used for the
 * hour offset (0 = time(NULL)). */
int client_rendezvous(const struct target *t, const struct sockaddr *dst, socklen_t dstlen,
		      const struct sockaddr *local, socklen_t locallen, time_t now);

/* The same for a target with auth = yes (protocol v2): the reply must be a
 * v2 line; auth (auth_client, reached through a pointer so that the shim
 * does not link libsodium) derives the valid port and writes the
 * authenticator to tag, which the caller sends first on its connection to
 * the valid port.  For other targets auth and tag are unused. */
int client_rendezvous_auth(const struct target *t, const struct sockaddr *dst, socklen_t dstlen,
			   const struct sockaddr *local, socklen_t locallen, time_t now,
			   auth_client_fn auth, uint8_t tag[AUTH_TAG_BYTES]);

#endif
