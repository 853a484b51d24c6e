/* Listening sockets through NETLINK_SOCK_DIAG (see diag.h). */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "diag.h"

static int request(int fd, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = 1u << TCPS_LISTEN },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	return sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) ==
	       (ssize_t)sizeof msg ? 0 : -1;
}

static void to_entry(const struct inet_diag_msg *m, struct tcp_entry *e)
{
	memset(e, 0, sizeof *e);
	struct sockaddr_storage ss = { 0 };
	if (m->idiag_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, m->id.idiag_src, 4);
		addr_from_sockaddr((struct sockaddr *)sin, sizeof *sin, &e->local, NULL);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, m->id.idiag_src, 16);
		addr_from_sockaddr((struct sockaddr *)sin6, sizeof *sin6, &e->local, NULL);
	}
	e->remote.family = e->local.family;
	e->lport = ntohs(m->id.idiag_sport);
	e->state = TCPS_LISTEN;
	e->inode = m->idiag_inode;
	e->uid = m->idiag_uid;
}

/* Read the dump's replies until NLMSG_DONE. */
static int collect(int fd, procfs_fn fn, void *arg)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int stop = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = EPROTO;
				return -1;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || stop ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			struct tcp_entry e;
			to_entry(NLMSG_DATA(h), &e);
			if (fn(&e, arg))
				stop = 1;
		}
	}
}

int diag_listeners(procfs_fn fn, void *arg)
{
	int rc = -1;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	if (request(fd, AF_INET) == 0 && collect(fd, fn, arg) == 0 &&
	    request(fd, AF_INET6) == 0 && collect(fd, fn, arg) == 0)
		rc = 0;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
