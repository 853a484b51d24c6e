/* conncheck: one connect() whose outcome is printed exactly, so a test can
 * compare a run with the shim preloaded against one without.
 *
 * usage: conncheck [-n] [-u] [-6] [-b ADDR] [-l LEN] [-e TEXT] [-r] [-P SHIM] HOST PORT
 *   -n       non-blocking socket: prints connect's result, then waits (10 s
 *            at most) for writability and prints SO_ERROR
 *   -u       a SOCK_DGRAM socket instead of SOCK_STREAM
 *   -6       an AF_INET6 socket whatever HOST is (v4-mapped for IPv4 HOST)
 *   -b ADDR  bind the socket to ADDR (port 0) first
 *   -l LEN   pass LEN as the address length
 *   -e TEXT  after connecting, send "TEXT\n" and print the line read back
 *   -r       after connecting, print everything read until EOF
 *   -P SHIM  dlopen() SHIM and call its connect() (for a setuid copy of
 *            this program, where LD_PRELOAD of a path is ignored)
 * Output lines: "connect=RC errno=NAME", "errno-kept=yes|no" (a successful
 * connect must leave errno alone), "nonblock=yes|no" (flags after the
 * call), "so_error=NAME", "local=ADDR", "peer-port=N", "reply=..." */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "?";
}

static int make_addr(const char *host, int port, int force6, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char mapped[64];

	memset(ss, 0, sizeof *ss);
	if (force6 && !strchr(host, ':')) {
		snprintf(mapped, sizeof mapped, "::ffff:%s", host);
		host = mapped;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof *in;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof *in6;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss, bs, ls;
	socklen_t len, blen, llen = sizeof ls;
	const char *bind_addr = NULL, *echo = NULL, *shim = NULL;
	int (*conn)(int, const struct sockaddr *, socklen_t) = connect;
	int opt, nonblock = 0, udp = 0, force6 = 0, readall = 0, fd, rc, e;
	long force_len = -1;
	char buf[4096], txt[INET6_ADDRSTRLEN];

	while ((opt = getopt(argc, argv, "nu6b:l:e:rP:")) != -1) {
		switch (opt) {
		case 'n': nonblock = 1; break;
		case 'u': udp = 1; break;
		case '6': force6 = 1; break;
		case 'b': bind_addr = optarg; break;
		case 'l': force_len = atol(optarg); break;
		case 'e': echo = optarg; break;
		case 'r': readall = 1; break;
		case 'P': shim = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || make_addr(argv[optind], atoi(argv[optind + 1]), force6, &ss, &len) != 0) {
		fprintf(stderr, "usage: conncheck [-n] [-u] [-6] [-b ADDR] [-l LEN] [-e TEXT] [-r] [-P SHIM] HOST PORT\n");
		return 2;
	}
	if (shim) {
		void *h = dlopen(shim, RTLD_NOW | RTLD_GLOBAL);
		if (!h || !(conn = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(h, "connect"))) {
			fprintf(stderr, "conncheck: %s: %s\n", shim, dlerror());
			return 2;
		}
	}
	fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (bind_addr) {
		if (make_addr(bind_addr, 0, force6, &bs, &blen) != 0 ||
		    bind(fd, (struct sockaddr *)&bs, blen) != 0) {
			perror("bind");
			return 1;
		}
	}
	if (force_len >= 0)
		len = (socklen_t)force_len;
	errno = 12345;
	rc = conn(fd, (struct sockaddr *)&ss, len);
	e = errno;
	printf("connect=%d errno=%s\n", rc, rc == 0 ? "0" : ename(e));
	if (rc == 0)
		printf("errno-kept=%s\n", e == 12345 ? "yes" : "no");
	printf("nonblock=%s\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) ? "yes" : "no");
	if (rc != 0 && nonblock && e == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t elen = sizeof err;
		if (poll(&p, 1, 10000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = ETIMEDOUT;
		printf("so_error=%s\n", ename(err));
		if (err == 0)
			rc = 0;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
			return 1;
	}
	if (rc == 0 && getsockname(fd, (struct sockaddr *)&ls, &llen) == 0) {
		const void *a = ls.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&ls)->sin_addr
							: (void *)&((struct sockaddr_in6 *)&ls)->sin6_addr;
		printf("local=%s\n", inet_ntop(ls.ss_family, a, txt, sizeof txt));
	}
	if (rc == 0 && !udp) {
		llen = sizeof ls;
		if (getpeername(fd, (struct sockaddr *)&ls, &llen) == 0)
			printf("peer-port=%u\n", ntohs(ls.ss_family == AF_INET ?
						      ((struct sockaddr_in *)&ls)->sin_port :
						      ((struct sockaddr_in6 *)&ls)->sin6_port));
	}
	fflush(stdout);
	if (rc == 0 && echo) {
		ssize_t n;
		size_t got = 0;
		snprintf(buf, sizeof buf, "%s\n", echo);
		if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
			return 1;
		while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
			got += (size_t)n;
			if (memchr(buf, '\n', got))
				break;
		}
		buf[got] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		printf("reply=%s\n", buf);
	}
	if (rc == 0 && readall) {
		ssize_t n;
		printf("reply=");
		fflush(stdout);
		while ((n = read(fd, buf, sizeof buf)) > 0)
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				return 1;
		printf("\n");
	}
	close(fd);
	return rc == 0 ? 0 : 1;
}
