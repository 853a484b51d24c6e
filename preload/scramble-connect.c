/* scramble-connect [-c FILE] HOST PORT: rendezvous for HOST:PORT, connect to
 * the valid port and relay stdin/stdout to the connection, for
 *   ssh -o ProxyCommand='scramble-connect %h %p' host
 * and for static or setuid clients that LD_PRELOAD cannot reach.
 *
 * HOST:PORT that no target names is connected to directly (like nc), so a
 * ProxyCommand for "Host *" keeps working for ordinary hosts.  EOF on stdin
 * becomes shutdown(SHUT_WR) on the socket and the server's answer is still
 * relayed until it closes; EOF from the socket ends the relay at once (the
 * server is done: waiting for stdin would hang an interactive user).  Exit
 * 0 on a clean end, 1 on any failure (message on stderr), 2 on a usage or
 * configuration error. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"
#include "api_internal.h"
#include "config.h"
#include "targets.h"

#define BUFSZ 65536

static void usage(void)
{
	fprintf(stderr, "usage: scramble-connect [-c FILE] HOST PORT\n");
	exit(2);
}

static int load_targets(const char *path, struct target_set *ts)
{
	struct config_errors errs = { 0 };
	struct config *c;
	size_t i;
	int rc = -1;

	c = config_load(path, &errs);
	if (c != NULL && config_load_tables(c, CONF_SIDE_CLIENT, &errs) == 0) {
		rc = target_set_build(ts, c, &errs);   /* owns c now */
		c = NULL;
	}
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "scramble-connect: %s\n", errs.msgs[i]);
	if (c != NULL)
		config_free(c);
	config_errors_free(&errs);
	return rc;
}

/* Connect to one resolved address: through a rendezvous if it is a target
 * (api_connect, the body of scramble_connect(3)), directly otherwise.
 * Returns the socket or -1 (message printed). */
static int dial(const struct target_set *ts, const struct addrinfo *ai, const char *host,
		const char *port)
{
	struct ipaddr a;
	uint16_t p;
	const struct target *t;
	char txt[INET6_ADDRSTRLEN];
	int fd, rc;

	if (addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a, &p) != 0)
		return -1;
	addr_str(&a, txt, sizeof txt);
	t = target_set_find(ts, &a, p);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "scramble-connect: socket: %s\n", strerror(errno));
		return -1;
	}
	do
		rc = t ? api_connect(fd, ai->ai_addr, ai->ai_addrlen, t)
		       : connect(fd, ai->ai_addr, ai->ai_addrlen);
	while (rc != 0 && errno == EINTR && !t);
	if (rc != 0) {
		if (t)
			fprintf(stderr, "scramble-connect: %s (%s) port %s: through rendezvous port %u: %s\n",
				host, txt, port, t->rendezvous, strerror(errno));
		else
			fprintf(stderr, "scramble-connect: %s (%s) port %s: %s\n", host, txt, port,
				strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy stdin -> sock and sock -> stdout until the socket has ended. 0/-1. */
static int relay(int sock)
{
	static char buf[BUFSZ];
	struct pollfd p[2];
	int in_open = 1, out_open = 1;

	while (out_open) {
		p[0] = (struct pollfd){ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = out_open ? sock : -1, .events = POLLIN };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("scramble-connect: poll");
			return -1;
		}
		if (in_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("scramble-connect: stdin");
				return -1;
			}
			if (n == 0) {
				in_open = 0;
				if (shutdown(sock, SHUT_WR) != 0 && errno != ENOTCONN) {
					perror("scramble-connect: shutdown");
					return -1;
				}
			} else if (n > 0 && write_all(sock, buf, (size_t)n) != 0) {
				perror("scramble-connect: send");
				return -1;
			}
		}
		if (out_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(sock, buf, sizeof buf);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("scramble-connect: receive");
				return -1;
			}
			if (n == 0) {
				out_open = 0;
				close(STDOUT_FILENO);
			} else if (n > 0 && write_all(STDOUT_FILENO, buf, (size_t)n) != 0) {
				perror("scramble-connect: stdout");
				return -1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *host, *port;
	struct addrinfo hints, *res = NULL, *ai;
	struct target_set ts;
	int c, fd = -1, rc;

	while ((c = getopt(argc, argv, "c:h")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	host = argv[optind];
	port = argv[optind + 1];
	if (path == NULL)
		path = secure_getenv("SCRAMBLE_CONF");
	if (path == NULL || path[0] == '\0')
		path = SCRAMBLE_DEFAULT_CONF;
	/* a peer gone while we write must be an error, not a silent death */
	signal(SIGPIPE, SIG_IGN);

	if (load_targets(path, &ts) != 0)
		return 2;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "scramble-connect: %s port %s: %s\n", host, port, gai_strerror(rc));
		target_set_free(&ts);
		return 1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = dial(&ts, ai, host, port);
	freeaddrinfo(res);
	target_set_free(&ts);
	if (fd < 0)
		return 1;
	rc = relay(fd);
	close(fd);
	return rc == 0 ? 0 : 1;
}
