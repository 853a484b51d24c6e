/* A tiny test server: listens on ADDR PORT and echoes every byte back to
 * every client until SIGTERM.  With -b TEXT it first sends TEXT and a
 * newline to each client (so a client can see the first byte without
 * writing).  Single process, poll loop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"

#define MAXC 256

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int listen_on(const char *addr, const char *port)
{
	char hp[128];
	struct sockaddr_storage ss;
	socklen_t len;
	snprintf(hp, sizeof hp, strchr(addr, ':') ? "[%s]:%s" : "%s:%s", addr, port);
	if (addr_parse_hostport(hp, &ss, &len) < 0) {
		fprintf(stderr, "echo-server: bad address %s\n", hp);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		fprintf(stderr, "echo-server: %s: %s\n", hp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *banner = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt == 'b')
			banner = optarg;
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: echo-server [-b BANNER] ADDR PORT\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct pollfd p[MAXC + 1];
	int n = 1;
	p[0].fd = listen_on(argv[optind], argv[optind + 1]);
	if (p[0].fd < 0)
		return 1;
	p[0].events = POLLIN;
	while (!stop) {
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if ((p[0].revents & POLLIN) && n <= MAXC) {
			int c = accept4(p[0].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				if (banner && (write(c, banner, strlen(banner)) < 0 || write(c, "\n", 1) < 0)) {
					close(c);
				} else {
					p[n].fd = c;
					p[n].events = POLLIN;
					p[n].revents = 0;
					n++;
				}
			}
		}
		for (int i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			char buf[65536];
			ssize_t r = read(p[i].fd, buf, sizeof buf);
			if (r > 0 && write(p[i].fd, buf, (size_t)r) == r)
				continue;
			if (r < 0 && errno == EINTR)
				continue;
			close(p[i].fd);
			p[i] = p[--n];
			i--;
		}
	}
	for (int i = 0; i < n; i++)
		close(p[i].fd);
	return 0;
}
