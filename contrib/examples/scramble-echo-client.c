/* scramble-echo-client: a client that reaches a service hidden behind a
 * rendezvous port with one call, scramble_connect() (scramble(3)), instead
 * of the LD_PRELOAD shim.
 *
 *   scramble-echo-client CONF TARGET HOST [MESSAGE]
 *
 * It loads target TARGET from the configuration file CONF (table, offsets,
 * timeout, key), resolves HOST (a name or an address, IPv4 or IPv6) and
 * tries each address in turn: socket(), then scramble_connect() makes the
 * rendezvous on the target's rendezvous port and connects the socket to the
 * valid port.  It sends MESSAGE (default "hello") and a newline,
 * half-closes, and copies what the server sends to standard output until
 * the server closes.  For example, with scramble-echo-server running:
 *
 *   build/examples/scramble-echo-client echo.conf echo 127.0.0.1 'hi there'
 *
 * See contrib/examples/README.md.  Exit status: 0 done, 1 error (a message
 * "scramble-echo-client: WHAT: REASON" on standard error), 2 usage. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <scramble.h>

#define PROG "scramble-echo-client"

static _Noreturn void die(const char *what, const char *arg, const char *why)
{
	fprintf(stderr, PROG ": %s%s: %s\n", what, arg, why);
	exit(1);
}

int main(int argc, char **argv)
{
	const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	struct scramble_target *t;
	char err[512] = "", buf[4096];
	ssize_t n;
	int fd = -1, e = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: " PROG " CONF TARGET HOST [MESSAGE]\n");
		return 2;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)   /* a server gone early: EPIPE, not death */
		die("signal", "", strerror(errno));
	if (!(t = scramble_target_load(argv[1], argv[2], err, sizeof err))) {
		fprintf(stderr, PROG ": %s\n", err[0] ? err : strerror(errno));   /* FILE:LINE: why */
		return 1;
	}
	if ((e = getaddrinfo(argv[3], NULL, &hints, &res)) != 0)
		die("resolve ", argv[3], e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	/* each address in turn: the rendezvous, then the valid port */
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0 || scramble_connect(fd, ai->ai_addr, ai->ai_addrlen, t) < 0) {
			e = errno;
			if (fd >= 0)
				(void)close(fd);   /* a failed attempt: e is what matters */
			fd = -1;
		}
	}
	if (fd < 0)
		die("connect to ", argv[3], strerror(e));
	freeaddrinfo(res);
	scramble_target_free(t);   /* only the rendezvous needs it */
	if (dprintf(fd, "%s\n", argc == 5 ? argv[4] : "hello") < 0 || shutdown(fd, SHUT_WR) < 0)
		die("send", "", strerror(errno));
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) == EOF)
			die("standard output", "", strerror(errno));
	if (n < 0)
		die("receive", "", strerror(errno));
	if (close(fd) < 0)
		die("close", "", strerror(errno));
	return 0;
}
