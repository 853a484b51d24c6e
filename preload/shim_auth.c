/* Protocol v2 in the shim: after the rendezvous, connect the application's
 * socket to the valid port and write the authenticator on it before the
 * application gets it back (common/dial.c, through libc's next connect and
 * sendto).  A non-blocking connect returns 0 here (connected), which is
 * legal. */
#include "dial.h"
#include "shim.h"

int shim_connect_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      const uint8_t *tag)
{
	static const struct dial_io io = { shim_real_connect, shim_real_sendto };

	return dial_connect_auth(t, fd, sa, len, tag, &io);
}
