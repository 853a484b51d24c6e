/* Small helpers shared by the daemon's modules. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "daemon.h"

int ep_add(struct daemon *d, int fd, uint32_t events, struct evsrc *ev)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &e);
}

void ep_del(struct daemon *d, int fd)
{
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);   /* closing removes it anyway */
}

void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}
