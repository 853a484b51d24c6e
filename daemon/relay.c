/* The forward-mode relay (see relay.h).  Each direction moves bytes
 * socket -> pipe -> socket with splice(2) (no copy through user space);
 * EOF on one side becomes shutdown(SHUT_WR) on the other once the pipe is
 * drained; the relay ends when both directions have ended or on an error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "addr.h"
#include "relay.h"

#define PIPE_CAP (1 << 20)
#define CONNECT_TIMEOUT_S 5

struct dir {
	int src, dst;
	int p[2];
	size_t inpipe;
	bool eof, done;
};

static int dir_init(struct dir *d, int src, int dst)
{
	memset(d, 0, sizeof *d);
	d->src = src;
	d->dst = dst;
	if (pipe2(d->p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	(void)fcntl(d->p[0], F_SETPIPE_SZ, PIPE_CAP);   /* best effort */
	return 0;
}

/* Move what can be moved now.  -1 on a fatal error. */
static int dir_step(struct dir *d)
{
	while (!d->done) {
		bool progress = false;
		if (!d->eof) {
			ssize_t n = splice(d->src, NULL, d->p[1], NULL, PIPE_CAP,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe += (size_t)n;
				progress = true;
			} else if (n == 0) {
				d->eof = true;
				progress = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (d->inpipe > 0) {
			ssize_t n = splice(d->p[0], NULL, d->dst, NULL, d->inpipe,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe -= (size_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (d->eof && d->inpipe == 0) {
			(void)shutdown(d->dst, SHUT_WR);   /* the half-close goes on */
			d->done = true;
		}
		if (!progress)
			break;
	}
	return 0;
}

int relay_fds(int a, int b)
{
	struct dir d[2];
	int rc = -1;
	if (fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK) < 0)
		return -1;
	if (dir_init(&d[0], a, b) < 0)
		return -1;
	if (dir_init(&d[1], b, a) < 0)
		goto out0;
	while (!d[0].done || !d[1].done) {
		if (dir_step(&d[0]) < 0 || dir_step(&d[1]) < 0)
			goto out;
		if (d[0].done && d[1].done)
			break;
		struct pollfd pf[2] = { { .fd = a }, { .fd = b } };
		for (int i = 0; i < 2; i++) {
			if (d[i].done)
				continue;
			if (!d[i].eof)
				pf[i].events |= POLLIN;            /* src of dir i is pf[i] */
			if (d[i].inpipe > 0)
				pf[1 - i].events |= POLLOUT;       /* dst of dir i */
		}
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			goto out;
		/* a socket in error or hung up with nothing more to read ends
		 * both directions through splice errors or EOF above */
	}
	rc = 0;
out:
	close(d[1].p[0]);
	close(d[1].p[1]);
out0:
	close(d[0].p[0]);
	close(d[0].p[1]);
	return rc;
}

int relay_main(void *arg)
{
	const struct listen_addr *be = arg;
	char text[96], host[64];
	struct ipaddr ba;
	uint16_t bport = 0;
	if (addr_from_sockaddr((const struct sockaddr *)&be->ss, be->len, &ba, &bport) == 0)
		snprintf(text, sizeof text, "%s port %u", addr_str(&ba, host, sizeof host), bport);
	else
		snprintf(text, sizeof text, "?");
	int s = socket(be->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
	    connect(s, (const struct sockaddr *)&be->ss, be->len) < 0) {
		fprintf(stderr, "backend %s: %s\n", text, strerror(errno));
		/* a reset tells the client at once that there is nothing there */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		(void)setsockopt(0, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(0);
		return 1;
	}
	tv.tv_sec = 0;
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int rc = relay_fds(0, s);
	close(s);
	return rc < 0 ? 2 : 0;
}
