/* The client side of one connection to a scrambled service, on the
 * caller's socket: decide whether the socket can take part, rendezvous
 * (client.c), then connect to the valid port and, with protocol v2, write
 * the authenticator first.  Shared by the shim (preload/) and the
 * embedding API (scramble_connect, common/api_client.c): the shim passes
 * libc's next definitions of connect and sendto, the API libc's own. */
#ifndef SCRAMBLE_DIAL_H
#define SCRAMBLE_DIAL_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "auth.h"
#include "config.h"

struct dial_io {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
};

/* Why a socket does not take part (dial_prepare returned 1). */
enum dial_pass {
	DIAL_NOT_STREAM = 1,   /* not a SOCK_STREAM socket, or not a socket */
	DIAL_BUSY,             /* already connecting or connected: the kernel answers */
	DIAL_V6ONLY,           /* v4-mapped destination on an IPV6_V6ONLY socket */
	DIAL_FAMILY,           /* bound to another family than sa's */
	DIAL_ADDR,             /* sa is not an IP socket address */
};

/* For t on fd: the address fd must really connect to, written to out
 * (sa with the valid port), and with auth the authenticator to tag
 * (AUTH_TAG_BYTES; auth is auth_client or a pointer to it).  Returns 0
 * (use out), 1 (fd does not take part: *why says why; errno unchanged) or
 * -1 (the rendezvous failed: errno ECONNREFUSED or ETIMEDOUT). */
int dial_prepare(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		 auth_client_fn auth, struct sockaddr_storage *out, uint8_t *tag,
		 enum dial_pass *why);

/* auth: connect fd to the valid address sa and write the authenticator
 * before the caller sees the socket, within the target's timeout, whatever
 * the socket's O_NONBLOCK (restored after).  0 (connected, authenticator
 * sent) or -1 with errno. */
int dial_connect_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      const uint8_t *tag, const struct dial_io *io);

#endif
