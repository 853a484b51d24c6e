/* scramble-echo-server: a server that protects itself without scrambled
 * (scramble(3)).  It opens service SERVICE of the configuration file CONF
 * (a section with mode = "embedded", which scrambled leaves alone), polls
 * the service's one descriptor in its own event loop, and gets back from
 * scramble_service_accept() only the connections of clients that made a
 * rendezvous, each on the valid port chosen for that client.  It echoes
 * each connection until the client half-closes, then closes it.
 *
 *   scramble-echo-server CONF SERVICE [COUNT]
 *   build/examples/scramble-echo-server echo.conf echo
 *
 * Standard error gets "listening service=NAME addr=HOST:PORT" (the first
 * rendezvous address) once ready, and every event of the service as
 * "scramble-echo-server: LINE".  After COUNT connections (default: never)
 * and on SIGTERM or SIGINT it exits 0; on an error, 1; bad usage, 2.
 * The signals arrive through a signalfd polled beside the service's
 * descriptor, so none is lost between two waits.
 * Reach it with scramble-echo-client or with the shim, see
 * contrib/examples/README.md. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <scramble.h>

#define PROG "scramble-echo-server"

static _Noreturn void die(const char *what, const char *why)
{
	fprintf(stderr, PROG ": %s: %s\n", what, why);
	exit(1);
}

/* the service's events, "EVENT key=value...", one per call */
static void log_line(void *arg, const char *line) { (void)arg; fprintf(stderr, PROG ": %s\n", line); }

/* Echo connection c until the client half-closes; no read waits over 10 s. */
static void echo(int c)
{
	const struct timeval tv = { .tv_sec = 10 };
	char buf[4096];
	ssize_t n;

	if (setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		return;
	while ((n = read(c, buf, sizeof buf)) > 0)
		if (send(c, buf, (size_t)n, MSG_NOSIGNAL) != n)
			return;
}

int main(int argc, char **argv)
{
	char err[512] = "", host[NI_MAXHOST], port[NI_MAXSERV], *end = NULL;
	unsigned long count = argc == 4 ? strtoul(argv[3], &end, 10) : 0, served = 0;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct pollfd p[2] = { { .events = POLLIN }, { .events = POLLIN } };
	sigset_t sigs;
	int e, c;

	if (argc < 3 || argc > 4 || (argc == 4 && (*end || !count || argv[3][0] == '-'))) {
		fprintf(stderr, "usage: " PROG " CONF SERVICE [COUNT]\n");
		return 2;
	}
	if (sigemptyset(&sigs) < 0 || sigaddset(&sigs, SIGTERM) < 0 || sigaddset(&sigs, SIGINT) < 0 ||
	    sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 || (p[1].fd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0)
		die("signals", strerror(errno));
	struct scramble_service *s = scramble_service_load(argv[1], argv[2], err, sizeof err);
	if (s == NULL)
		die(err[0] ? err : argv[1], strerror(errno));
	scramble_service_set_log(s, log_line, NULL);
	if ((p[0].fd = scramble_service_fd(s)) < 0 ||
	    scramble_service_address(s, 0, (struct sockaddr *)&ss, &len) < 0)
		die(argv[2], strerror(errno));
	if ((e = getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
			     NI_NUMERICHOST | NI_NUMERICSERV)) != 0)
		die("rendezvous address", gai_strerror(e));
	fprintf(stderr, PROG ": listening service=%s addr=%s%s%s:%s\n", argv[2],
		ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "", port);
	/* accept until EAGAIN, then wait for the descriptor, the timeout or a signal */
	while (!count || served < count) {
		if ((c = scramble_service_accept(s, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			served++;
			echo(c);
			if (close(c) < 0)
				fprintf(stderr, PROG ": connection %lu: close: %s\n", served, strerror(errno));
			continue;
		}
		if (errno != EAGAIN)
			die("accept", strerror(errno));
		if (poll(p, 2, scramble_service_timeout(s)) < 0 && errno != EINTR)
			die("poll", strerror(errno));
		if (p[1].revents & POLLIN)
			break;   /* SIGTERM or SIGINT */
	}
	scramble_service_free(s);
	close(p[1].fd);
	return 0;
}
