/* The client side of wire protocol v1: the rendezvous and the valid port.
 * Shared by the shim and scramble-connect. */
#ifndef SCRAMBLE_CLIENT_H
#define SCRAMBLE_CLIENT_H

#include <sys/socket.h>
#include <time.h>
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

#endif
