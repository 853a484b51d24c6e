/* Monotonic deadlines for the client's waits. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include "deadline.h"

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* cannot fail with a valid clock id */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int deadline_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

int deadline_wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		int left = deadline_ms_left(deadline);
		if (left == 0)
			return 0;
		r = poll(&p, 1, left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;        /* re-check the clock: poll may end early */
		if (errno != EINTR)
			return -1;
	}
}

int deadline_wait_connected(int fd, const struct timespec *deadline)
{
	int err = 0, r = deadline_wait_fd(fd, POLLOUT, deadline);
	socklen_t elen = sizeof err;

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
	return 0;
}
