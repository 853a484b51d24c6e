/* Protocol v2 in the shim: after the rendezvous, connect the application's
 * socket to the valid port and write the authenticator on it before the
 * application gets it back.  The application may have made the socket
 * non-blocking: the shim makes it non-blocking for its own wait (bounded
 * by the target's timeout), then restores the flags, so a non-blocking
 * connect returns 0 here (connected), which is legal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include "authline.h"
#include "deadline.h"
#include "shim.h"

static int connect_and_send(int fd, const struct sockaddr *sa, socklen_t len, const uint8_t *tag,
			    const struct timespec *deadline)
{
	size_t off = 0;
	int err = 0, r;
	socklen_t elen = sizeof err;

	if (shim_real_connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -1;
		r = deadline_wait_fd(fd, POLLOUT, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	while (off < AUTH_TAG_BYTES) {
		ssize_t w = shim_real_sendto(fd, tag + off, AUTH_TAG_BYTES - off, MSG_NOSIGNAL, NULL, 0);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		r = deadline_wait_fd(fd, POLLOUT, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

int shim_connect_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      const uint8_t *tag)
{
	struct timespec deadline;
	int flags, rc, err;

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
		return -1;
	deadline.tv_sec += t->timeout ? t->timeout : 5;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -1;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return -1;
	rc = connect_and_send(fd, sa, len, tag, &deadline);
	err = errno;
	if (!(flags & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, flags);
	errno = err;
	return rc;
}
