/* rdvflood: load generator against the scrambled rendezvous port
 * (tests/stress_daemon.bats, tests/security_basics.bats).
 *
 *   rdvflood flood N SECS IPV4 PORT [SRC] [DECOYFILE]
 *       up to N rendezvous (connect from SRC, read to EOF, close) within
 *       SECS seconds; "done=D decoys=A empty=B errors=C secs=S"; the decoys
 *       one a line in DECOYFILE
 *   rdvflood cycles N SECS IPV4 PORT TABLE LO-HI [DECOYFILE]
 *       up to N full cycles within SECS: rendezvous, valid port (hour
 *       offset) from TABLE, connect, send "x\n", read to EOF (inetd
 *       /bin/cat echoes and ends when we shut down), close;
 *       "done=D ok=A failed=B secs=S"; decoys one a line in DECOYFILE
 *   rdvflood arrive N SECS IPV4 PORT TABLE LO-HI [DECOYFILE]
 *       the same, but close as soon as the valid port is connected
 *   (cycles and arrive leave from $RDVFLOOD_SRC when it is set)
 *   rdvflood idle N IPV4 PORT READYFILE RELEASEFILE
 *       open N connections and keep them open, silent, until RELEASEFILE
 *       exists (60 s at most); "open=N" goes to READYFILE once connected
 *   rdvflood reset N IPV4 PORT      N connects closed at once with RST
 *                                   (SO_LINGER 0)
 *   rdvflood halfclose N IPV4 PORT  N connects, shutdown(SHUT_WR) at once,
 *                                   read to EOF, close
 *   rdvflood send IPV4 PORT FILE    connect, send FILE (errors after the
 *                                   daemon closed are fine), print what
 *                                   came back: "reply=..." "bytes-sent=N" */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "mapping.h"
#include "table.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr4(const char *ip, int port, struct sockaddr_in *in)
{
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &in->sin_addr) == 1 ? 0 : -1;
}

static int dial(const struct sockaddr_in *dst, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (src) {
		struct sockaddr_in b;
		if (addr4(src, 0, &b) != 0 || bind(fd, (struct sockaddr *)&b, sizeof b) != 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof *dst) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* read to EOF, at most size-1 bytes kept; -1 on error */
static ssize_t slurp(int fd, char *buf, size_t size)
{
	size_t got = 0;
	for (;;) {
		char tmp[4096];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		size_t take = (size_t)r;
		if (take > size - 1 - got)
			take = size - 1 - got;
		memcpy(buf + got, tmp, take);
		got += take;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static int rendezvous(const struct sockaddr_in *dst, const char *src, long *decoy)
{
	char buf[64];
	int fd = dial(dst, src);
	if (fd < 0)
		return -1;
	ssize_t n = slurp(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return -1;
	*decoy = n > 0 ? strtol(buf, NULL, 10) : -1;
	return 0;
}

static int mode_flood(int argc, char **argv)
{
	struct sockaddr_in dst;
	if (argc < 6 || addr4(argv[4], atoi(argv[5]), &dst) != 0)
		return 2;
	long n = atol(argv[2]);
	double secs = atof(argv[3]), t0 = now_s();
	const char *src = argc > 6 && argv[6][0] ? argv[6] : NULL;
	FILE *out = argc > 7 ? fopen(argv[7], "w") : NULL;
	long done = 0, decoys = 0, empty = 0, errors = 0;
	for (; done < n && now_s() - t0 < secs; done++) {
		long d;
		if (rendezvous(&dst, src, &d) < 0) {
			errors++;
		} else if (d < 0) {
			empty++;
		} else {
			decoys++;
			if (out)
				fprintf(out, "%ld\n", d);
		}
	}
	if (out && fclose(out) != 0)
		return 1;
	printf("done=%ld decoys=%ld empty=%ld errors=%ld secs=%.2f\n", done, decoys, empty, errors,
	       now_s() - t0);
	return 0;
}

static int mode_cycles(int argc, char **argv, int quick)
{
	struct sockaddr_in dst, vdst;
	struct port_range r;
	struct table t;
	struct table_error err;
	if (argc < 8 || addr4(argv[4], atoi(argv[5]), &dst) != 0 || range_parse(argv[7], &r) != 0)
		return 2;
	if (table_load(argv[6], r, &t, &err) != 0) {
		fprintf(stderr, "rdvflood: %s\n", err.msg);
		return 1;
	}
	long n = atol(argv[2]);
	double secs = atof(argv[3]), t0 = now_s();
	const char *src = getenv("RDVFLOOD_SRC");   /* leave from this address */
	FILE *out = argc > 8 ? fopen(argv[8], "w") : NULL;
	long done = 0, ok = 0, failed = 0;
	for (; done < n && now_s() - t0 < secs; done++) {
		long d;
		char buf[64];
		if (rendezvous(&dst, src, &d) < 0 || d < 0 || !table_has(&t, d)) {
			failed++;
			continue;
		}
		if (out)
			fprintf(out, "%ld\n", d);
		uint16_t v = map_valid(table_lookup(&t, (uint16_t)d), SCRAMBLE_OFF_HOUR,
				       map_hour(time(NULL)), 0, r);
		vdst = dst;
		vdst.sin_port = htons(v);
		int fd = dial(&vdst, src);
		if (fd < 0) {
			failed++;
			continue;
		}
		if (quick) {
			ok++;   /* arrived; leave at once, the server sees EOF */
		} else if (write(fd, "x\n", 2) != 2 || shutdown(fd, SHUT_WR) != 0 ||
			   slurp(fd, buf, sizeof buf) != 2) {
			failed++;
		} else {
			ok++;
		}
		close(fd);
	}
	table_free(&t);
	if (out && fclose(out) != 0)
		return 1;
	printf("done=%ld ok=%ld failed=%ld secs=%.2f\n", done, ok, failed, now_s() - t0);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int mode_idle(int argc, char **argv)
{
	struct sockaddr_in dst;
	if (argc != 7 || addr4(argv[3], atoi(argv[4]), &dst) != 0)
		return 2;
	long n = atol(argv[2]), open_n = 0;
	for (long i = 0; i < n; i++)
		if (dial(&dst, NULL) >= 0)
			open_n++;
	FILE *f = fopen(argv[5], "w");
	if (!f)
		return 1;
	fprintf(f, "open=%ld\n", open_n);
	if (fclose(f) != 0)
		return 1;
	struct stat st;
	for (int i = 0; i < 1200 && stat(argv[6], &st) != 0; i++)
		usleep(50000);
	return 0;
}

static int mode_close(int argc, char **argv, int reset)
{
	struct sockaddr_in dst;
	if (argc != 5 || addr4(argv[3], atoi(argv[4]), &dst) != 0)
		return 2;
	long n = atol(argv[2]), done = 0, errors = 0;
	char buf[64];
	for (long i = 0; i < n; i++) {
		int fd = dial(&dst, NULL);
		if (fd < 0) {
			errors++;
			continue;
		}
		if (reset) {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };
			if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
				errors++;
		} else if (shutdown(fd, SHUT_WR) != 0 || slurp(fd, buf, sizeof buf) < 0) {
			errors++;
		}
		close(fd);
		done++;
	}
	printf("done=%ld errors=%ld\n", done, errors);
	return 0;
}

static int mode_send(int argc, char **argv)
{
	struct sockaddr_in dst;
	char reply[256], chunk[65536];
	if (argc != 5 || addr4(argv[2], atoi(argv[3]), &dst) != 0)
		return 2;
	int in = open(argv[4], O_RDONLY);
	int fd = dial(&dst, NULL);
	if (in < 0 || fd < 0)
		return 1;
	long sent = 0;
	for (;;) {
		ssize_t r = read(in, chunk, sizeof chunk);
		if (r <= 0)
			break;
		ssize_t w = send(fd, chunk, (size_t)r, MSG_NOSIGNAL);
		if (w < 0)
			break;   /* the daemon has closed: it owes us nothing more */
		sent += w;
		if (w < r)
			break;
	}
	ssize_t n = slurp(fd, reply, sizeof reply);
	if (n < 0 && errno == ECONNRESET)
		n = 0;   /* our unread bytes made the close a reset; the line may be lost */
	printf("reply=");
	for (ssize_t i = 0; i < n; i++)
		printf(reply[i] == '\n' ? "\\n" : "%c", reply[i]);
	printf("\nbytes-sent=%ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2) {
		if (!strcmp(argv[1], "flood"))
			return mode_flood(argc, argv);
		if (!strcmp(argv[1], "cycles"))
			return mode_cycles(argc, argv, 0);
		if (!strcmp(argv[1], "arrive"))
			return mode_cycles(argc, argv, 1);
		if (!strcmp(argv[1], "idle"))
			return mode_idle(argc, argv);
		if (!strcmp(argv[1], "reset"))
			return mode_close(argc, argv, 1);
		if (!strcmp(argv[1], "halfclose"))
			return mode_close(argc, argv, 0);
		if (!strcmp(argv[1], "send"))
			return mode_send(argc, argv);
	}
	fprintf(stderr, "usage: rdvflood flood|cycles|idle|reset|halfclose|send ...\n");
	return 2;
}
