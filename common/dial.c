/* One connection to a scrambled service on the caller's socket (dial.h).
 * Runs inside other people's programs (the shim): it uses only the
 * descriptors it opens itself, closes them on every path, never touches
 * signal state, and restores the socket flags it changes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "authline.h"
#include "client.h"
#include "deadline.h"
#include "dial.h"

/* Has the application bound its socket (an address or a port)? */
static bool is_bound(const struct sockaddr_storage *ss, socklen_t len)
{
	static const uint8_t zero[16];

	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return in->sin_port != 0 || in->sin_addr.s_addr != htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		return in6->sin6_port != 0 || memcmp(&in6->sin6_addr, zero, 16) != 0;
	}
	return false;
}

/* 0 if fd may take part, else the reason. */
static enum dial_pass check_socket(int fd, const struct sockaddr *sa, socklen_t len,
				   struct sockaddr_storage *local, socklen_t *llen, bool *bound)
{
	struct tcp_info ti;
	socklen_t tlen;
	int type = 0;

	tlen = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
		return DIAL_NOT_STREAM;
	if (len > sizeof(struct sockaddr_storage) || len < sizeof(sa_family_t) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return DIAL_ADDR;
	/* A socket already connecting or connected (a second connect() to
	 * learn the result of a non-blocking one) needs no new rendezvous:
	 * the kernel answers EALREADY/EISCONN without using the address. */
	tlen = sizeof ti;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 && ti.tcpi_state != TCP_CLOSE)
		return DIAL_BUSY;
	/* a v4-mapped destination on an IPV6_V6ONLY socket: the kernel
	 * refuses it, so no server may be launched for it */
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		int v6only = 0;
		tlen = sizeof v6only;
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &tlen) == 0 && v6only)
			return DIAL_V6ONLY;
	}
	*bound = false;
	if (getsockname(fd, (struct sockaddr *)local, llen) == 0) {
		if (local->ss_family != sa->sa_family)
			return DIAL_FAMILY;      /* the kernel has an error for that */
		*bound = is_bound(local, *llen);
	}
	return 0;
}

int dial_prepare(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		 auth_client_fn auth, struct sockaddr_storage *out, uint8_t *tag,
		 enum dial_pass *why)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof local;
	bool bound = false;
	int valid, saved = errno;

	*why = check_socket(fd, sa, len, &local, &llen, &bound);
	if (*why != 0) {
		errno = saved;
		return 1;
	}
	valid = client_rendezvous_auth(t, sa, len, bound ? (struct sockaddr *)&local : NULL,
				       bound ? llen : 0, 0, auth, tag);
	if (valid < 0)
		return -1;
	memset(out, 0, sizeof *out);
	memcpy(out, sa, len);
	sockaddr_set_port((struct sockaddr *)out, (uint16_t)valid);
	errno = saved;
	return 0;
}

static int connect_and_send(int fd, const struct sockaddr *sa, socklen_t len, const uint8_t *tag,
			    const struct timespec *deadline, const struct dial_io *io)
{
	size_t off = 0;
	int r;

	if (io->connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -1;
		if (deadline_wait_connected(fd, deadline) != 0)
			return -1;
	}
	while (off < AUTH_TAG_BYTES) {
		ssize_t w = io->sendto(fd, tag + off, AUTH_TAG_BYTES - off, MSG_NOSIGNAL, NULL, 0);
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

int dial_connect_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      const uint8_t *tag, const struct dial_io *io)
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
	rc = connect_and_send(fd, sa, len, tag, &deadline, io);
	err = errno;
	if (!(flags & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, flags);
	errno = err;
	return rc;
}
