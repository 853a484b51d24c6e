/* The exported hooks of libscramble.so.  Each one only asks shim_lookup()
 * whether the destination is a scrambled target and otherwise calls
 * through; the work is in shim_core.c.  The hit paths are out of line so
 * that a miss runs no stack-protector prologue. */
#include <errno.h>
#include <string.h>
#include "authline.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))
#define SLOW   __attribute__((noinline, cold))

static SLOW int connect_hit(const struct target *t, int fd, const struct sockaddr *sa,
			    socklen_t len)
{
	struct sockaddr_storage valid;
	uint8_t tag[AUTH_TAG_BYTES];

	switch (shim_prepare_auth(t, fd, sa, len, &valid, tag)) {
	case 0:
		if (t->auth)
			return shim_connect_auth(t, fd, (struct sockaddr *)&valid, len, tag);
		return shim_real_connect(fd, (struct sockaddr *)&valid, len);
	case 1:
		return shim_real_connect(fd, sa, len);
	default:
		return -1;
	}
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct target *t = shim_lookup(sa, len);

	if (__builtin_expect(t == NULL, 1))
		return shim_real_connect(fd, sa, len);
	return connect_hit(t, fd, sa, len);
}

static SLOW ssize_t sendto_hit(const struct target *t, int fd, const void *buf, size_t n,
			       int flags, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage valid;
	uint8_t tag[AUTH_TAG_BYTES];

	switch (shim_prepare_auth(t, fd, sa, len, &valid, tag)) {
	case 0:
		/* auth: no data in the SYN; connect, authenticate, then send */
		if (t->auth)
			return shim_connect_auth(t, fd, (struct sockaddr *)&valid, len, tag) < 0 ? -1 :
			       shim_real_sendto(fd, buf, n, flags & ~MSG_FASTOPEN, NULL, 0);
		return shim_real_sendto(fd, buf, n, flags, (struct sockaddr *)&valid, len);
	case 1:
		return shim_real_sendto(fd, buf, n, flags, sa, len);
	default:
		return -1;
	}
}

/* TCP Fast Open: sendto(MSG_FASTOPEN) connects and sends in one call. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *sa, socklen_t len)
{
	const struct target *t = NULL;

	if (__builtin_expect(flags & MSG_FASTOPEN, 0))
		t = shim_lookup(sa, len);
	if (__builtin_expect(t == NULL, 1))
		return shim_real_sendto(fd, buf, n, flags, sa, len);
	return sendto_hit(t, fd, buf, n, flags, sa, len);
}

static SLOW ssize_t sendmsg_hit(const struct target *t, int fd, const struct msghdr *msg,
				int flags)
{
	struct sockaddr_storage valid;
	uint8_t tag[AUTH_TAG_BYTES];
	struct msghdr m;

	switch (shim_prepare_auth(t, fd, msg->msg_name, msg->msg_namelen, &valid, tag)) {
	case 0:
		m = *msg;
		if (t->auth) {
			if (shim_connect_auth(t, fd, (struct sockaddr *)&valid, msg->msg_namelen, tag) < 0)
				return -1;
			m.msg_name = NULL;
			m.msg_namelen = 0;
			return shim_real_sendmsg(fd, &m, flags & ~MSG_FASTOPEN);
		}
		m.msg_name = &valid;
		return shim_real_sendmsg(fd, &m, flags);
	case 1:
		return shim_real_sendmsg(fd, msg, flags);
	default:
		return -1;
	}
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const struct target *t = NULL;

	if (__builtin_expect((flags & MSG_FASTOPEN) && msg != NULL && msg->msg_name != NULL, 0))
		t = shim_lookup(msg->msg_name, msg->msg_namelen);
	if (__builtin_expect(t == NULL, 1))
		return shim_real_sendmsg(fd, msg, flags);
	return sendmsg_hit(t, fd, msg, flags);
}
