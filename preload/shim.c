/* The exported hooks of libscramble.so.  Each one only asks shim_lookup()
 * whether the destination is a scrambled target and otherwise calls
 * through; the work is in shim_core.c.  The hit paths are out of line so
 * that a miss runs no stack-protector prologue. */
#include <errno.h>
#include <string.h>
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))
#define SLOW   __attribute__((noinline, cold))

static SLOW int connect_hit(const struct target *t, int fd, const struct sockaddr *sa,
			    socklen_t len)
{
	struct sockaddr_storage valid;

	switch (shim_prepare(t, fd, sa, len, &valid)) {
	case 0:
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

	switch (shim_prepare(t, fd, sa, len, &valid)) {
	case 0:
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
	struct msghdr m;

	switch (shim_prepare(t, fd, msg->msg_name, msg->msg_namelen, &valid)) {
	case 0:
		m = *msg;
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
