/* benchcli: the load generators of `make bench` (tests/bench/run).
 *
 *   benchcli ttfb N HOST PORT [MAXSEC]   N x (connect, write 1 byte, read 1
 *                                        byte, close); one line of
 *                                        microseconds per session; stops
 *                                        early after MAXSEC seconds
 *   benchcli rdv N HOST PORT             N rendezvous only: connect, read to
 *                                        EOF (the decoy); microseconds each
 *   benchcli knock N HOST PORT K1,K2,.. [once]
 *                                        the same, each session first
 *                                        knocking (a SYN to each Kn), then
 *                                        retrying connect every 1 ms (once:
 *                                        one blocking connect); the i-th
 *                                        session binds 127.0.X.Y (a source
 *                                        of its own)
 *   benchcli rate N C HOST PORT [MAXSEC] N sessions by C processes (each
 *                                        stops early after MAXSEC seconds);
 *                                        prints "sessions=DONE seconds=S"
 *   benchcli sink HOST PORT PORTFILE     accept, read to EOF, close; forever
 *   benchcli blast BYTES HOST PORT       send BYTES, half-close, wait for
 *                                        EOF; prints "bytes=B seconds=S"
 *   benchcli rss HOST PORT               VmRSS (KiB) before any connect,
 *                                        after one connect, after a second
 *   benchcli spawn N FILE PROG           N rounds; each round runs PROG once
 *                                        per line of FILE ("NAME\tVAR=V\t..."
 *                                        : that environment only), in turn,
 *                                        so machine load drifts alike for
 *                                        all; prints "NAME microseconds"
 *   benchcli watch NSOCK ITER            NSOCK loopback sockets (NSOCK/2
 *                                        connections), then the cost of one
 *                                        procfs pass and of one port- and
 *                                        LISTEN-filtered NETLINK_SOCK_DIAG
 *                                        dump, in microseconds (medians)
 *   benchcli api CONF TARGET ttfb|rate|rss ...
 *                                        the same command, each session
 *                                        connecting with scramble_connect()
 *                                        (the embedding API, scramble.h) to
 *                                        target TARGET of the configuration
 *                                        file CONF (its rendezvous port; the
 *                                        PORT argument is not used), instead
 *                                        of connect()
 *
 * Loopback only; every wait is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "procfs.h"
#include "scramble.h"

/* benchcli api: every session dials this target with scramble_connect() */
static struct scramble_target *api_target;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int to_sin(const char *host, const char *port, struct sockaddr_in *in)
{
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
		fprintf(stderr, "benchcli: not an IPv4 address: %s\n", host);
		return -1;
	}
	return 0;
}

/* one byte there and back within 10 s; 0/-1 */
static int ping(int fd)
{
	char c = 'x';
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (write(fd, &c, 1) != 1)
		return -1;
	if (poll(&p, 1, 10000) != 1)
		return -1;
	return read(fd, &c, 1) == 1 ? 0 : -1;
}

static int session(const struct sockaddr_in *in)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = -1, c;
	if (api_target)
		c = scramble_connect(fd, (const struct sockaddr *)in, sizeof *in, api_target);
	else
		c = connect(fd, (const struct sockaddr *)in, sizeof *in);
	if (c == 0 && ping(fd) == 0)
		r = 0;
	close(fd);
	return r;
}

static int cmd_ttfb(long n, const struct sockaddr_in *in, double maxsec)
{
	long fails = 0;
	double end = now_us() + maxsec * 1e6;
	for (long i = 0; i < n && (maxsec <= 0 || now_us() < end); i++) {
		double t0 = now_us();
		if (session(in) < 0) {
			fails++;
			fprintf(stderr, "benchcli: session %ld failed: %s\n", i, strerror(errno));
			if (fails > 10)
				return 1;
			continue;
		}
		printf("%.1f\n", now_us() - t0);
	}
	return fails ? 1 : 0;
}

static int cmd_rdv(long n, const struct sockaddr_in *in)
{
	char buf[64];
	for (long i = 0; i < n; i++) {
		double t0 = now_us();
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)in, sizeof *in) < 0) {
			perror("benchcli: rendezvous");
			return 1;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r = 1, got = 0;
		while (r > 0 && poll(&p, 1, 10000) == 1)
			if ((r = read(fd, buf, sizeof buf)) > 0)
				got += r;
		close(fd);
		if (r != 0 || got == 0) {
			fprintf(stderr, "benchcli: rendezvous %ld: no decoy\n", i);
			return 1;
		}
		printf("%.1f\n", now_us() - t0);
	}
	return 0;
}

static void source_for(long i, struct sockaddr_in *src)
{
	memset(src, 0, sizeof *src);
	src->sin_family = AF_INET;
	src->sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)((1 + i / 250) << 8) | (uint32_t)(1 + i % 250));
}

/* once: a client that calls connect() once, right after its knock */
static int knock_session(long i, const struct sockaddr_in *in, const int *kp, int nk, int once)
{
	struct sockaddr_in src, k;
	source_for(i, &src);
	for (int j = 0; j < nk; j++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
			return -1;
		k = *in;
		k.sin_port = htons((uint16_t)kp[j]);
		(void)connect(fd, (struct sockaddr *)&k, sizeof k);   /* the SYN is the knock */
		close(fd);
	}
	if (once) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timeval tv = { 10, 0 };
		if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
			return -1;
		int r = connect(fd, (const struct sockaddr *)in, sizeof *in) == 0 ? ping(fd) : -1;
		close(fd);
		return r;
	}
	double end = now_us() + 5e6;
	while (now_us() < end) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
			return -1;
		if (connect(fd, (const struct sockaddr *)in, sizeof *in) == 0) {
			int r = ping(fd);
			close(fd);
			return r;
		}
		close(fd);
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int cmd_knock(long n, const struct sockaddr_in *in, char *ports, int once)
{
	int kp[8], nk = 0;
	for (char *t = strtok(ports, ","); t && nk < 8; t = strtok(NULL, ","))
		kp[nk++] = atoi(t);
	for (long i = 0; i < n; i++) {
		double t0 = now_us();
		if (knock_session(once ? 1000 + i : i, in, kp, nk, once) < 0) {
			fprintf(stderr, "benchcli: knock session %ld failed: %s\n", i, strerror(errno));
			return 1;
		}
		printf("%.1f\n", now_us() - t0);
	}
	return 0;
}

/* each child reports how many sessions it made through a pipe */
static int cmd_rate(long n, long c, const struct sockaddr_in *in, double maxsec)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return 1;
	double t0 = now_us(), end = t0 + maxsec * 1e6;
	for (long k = 0; k < c; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			long mine = n / c + (k < n % c), i;
			close(pfd[0]);
			for (i = 0; i < mine && (maxsec <= 0 || now_us() < end); i++)
				if (session(in) < 0) {
					fprintf(stderr, "benchcli: session failed: %s\n", strerror(errno));
					_exit(1);
				}
			_exit(write(pfd[1], &i, sizeof i) == sizeof i ? 0 : 1);
		}
	}
	close(pfd[1]);
	long done = 0, got;
	while (read(pfd[0], &got, sizeof got) == sizeof got)
		done += got;
	double secs = (now_us() - t0) / 1e6;
	int bad = 0, st;
	for (long k = 0; k < c; k++)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	printf("sessions=%ld seconds=%.4f\n", done, secs);
	return bad;
}

static int listener(const char *host, const char *port, struct sockaddr_in *bound)
{
	struct sockaddr_in in;
	socklen_t len = sizeof in;
	if (to_sin(host, port, &in) < 0)
		return -1;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&in, sizeof in) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)bound, &len) < 0) {
		perror("benchcli: listen");
		return -1;
	}
	return fd;
}

static int cmd_sink(const char *host, const char *port, const char *portfile)
{
	struct sockaddr_in b;
	static char buf[1 << 17];
	int lfd = listener(host, port, &b);
	if (lfd < 0)
		return 1;
	FILE *f = fopen(portfile, "w");
	if (!f || fprintf(f, "%d\n", ntohs(b.sin_port)) < 0 || fclose(f) != 0)
		return 1;
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		ssize_t r;
		while ((r = read(c, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
			;
		close(c);
	}
}

static int cmd_blast(long long bytes, const struct sockaddr_in *in)
{
	static char buf[1 << 17];
	memset(buf, 'b', sizeof buf);
	double t0 = now_us();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)in, sizeof *in) < 0) {
		perror("benchcli: blast connect");
		return 1;
	}
	long long left = bytes;
	while (left > 0) {
		size_t n = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("benchcli: blast write");
			return 1;
		}
		left -= w;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		return 1;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	if (poll(&p, 1, 30000) != 1 || read(fd, &c, 1) != 0)   /* the sink closes after EOF */
		return 1;
	printf("bytes=%lld seconds=%.4f\n", bytes, (now_us() - t0) / 1e6);
	close(fd);
	return 0;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int cmd_rss(const struct sockaddr_in *in)
{
	long before = rss_kib();
	int r1 = session(in);
	long after1 = rss_kib();
	int r2 = session(in);
	long after2 = rss_kib();
	printf("before=%ld after_first=%ld after_second=%ld ok=%d\n", before, after1, after2,
	       r1 == 0 && r2 == 0);
	return r1 == 0 && r2 == 0 ? 0 : 1;
}

static int count_entry(const struct tcp_entry *e, void *arg)
{
	(void)e;
	(*(long *)arg)++;
	return 0;
}

/* one NETLINK_SOCK_DIAG dump of TCP sockets in `states` on local port
 * `port` (both families), the way a diag watcher would ask; entries seen */
static long diag_pass(int nl, uint16_t port, uint32_t states)
{
	static char buf[1 << 16];
	long seen = 0;
	for (int fam = 0; fam < 2; fam++) {
		struct {
			struct nlmsghdr nh;
			struct inet_diag_req_v2 r;
			struct nlattr na;
			struct inet_diag_bc_op op[2];
		} req = { 0 };
		req.nh.nlmsg_len = sizeof req;
		req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.r.sdiag_family = fam ? AF_INET6 : AF_INET;
		req.r.sdiag_protocol = IPPROTO_TCP;
		req.r.idiag_states = states;
		req.na.nla_len = sizeof req.na + sizeof req.op;
		req.na.nla_type = INET_DIAG_REQ_BYTECODE;
		/* sport == port: GE port and LE port */
		req.op[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_EQ, 8, 12 };
		req.op[1] = (struct inet_diag_bc_op){ 0, 0, port };
		if (send(nl, &req, sizeof req, 0) < 0)
			return -1;
		for (int done = 0; !done;) {
			ssize_t n = recv(nl, buf, sizeof buf, 0);
			if (n <= 0)
				return -1;
			for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
			     h = NLMSG_NEXT(h, n)) {
				if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
					done = 1;
					break;
				}
				seen++;
			}
		}
	}
	return seen;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_watch(long nsock, long iter)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct sockaddr_in b;
	int lfd = listener("127.0.0.1", "0", &b);
	if (lfd < 0)
		return 1;
	for (long i = 0; i < nsock / 2; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&b, sizeof b) < 0 ||
		    accept4(lfd, NULL, NULL, SOCK_CLOEXEC) < 0) {
			fprintf(stderr, "benchcli: socket %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0) {
		perror("benchcli: netlink");
		return 1;
	}
	double *tp = calloc((size_t)iter, sizeof *tp), *td = calloc((size_t)iter, sizeof *td);
	double *ta = calloc((size_t)iter, sizeof *ta);
	long entries = 0, dseen = 0;
	if (!tp || !td || !ta)
		return 1;
	for (long i = 0; i < iter; i++) {
		long cnt = 0;
		double t0 = now_us();
		if (procfs_scan(NULL, count_entry, &cnt) < 0)
			return 1;
		tp[i] = now_us() - t0;
		entries = cnt;
		t0 = now_us();
		dseen = diag_pass(nl, ntohs(b.sin_port), 1u << TCPS_LISTEN);
		td[i] = now_us() - t0;
		t0 = now_us();
		long all = diag_pass(nl, ntohs(b.sin_port), ~0u);
		ta[i] = now_us() - t0;
		if (dseen < 0 || all < 0)
			return 1;
	}
	qsort(tp, (size_t)iter, sizeof *tp, cmp_d);
	qsort(td, (size_t)iter, sizeof *td, cmp_d);
	qsort(ta, (size_t)iter, sizeof *ta, cmp_d);
	printf("entries=%ld procfs_us=%.1f procfs_p90=%.1f diag_listen_us=%.1f diag_listen_p90=%.1f "
	       "diag_port_us=%.1f diag_port_p90=%.1f diag_seen=%ld\n",
	       entries, tp[iter / 2], tp[iter * 9 / 10], td[iter / 2], td[iter * 9 / 10],
	       ta[iter / 2], ta[iter * 9 / 10], dseen);
	free(tp);
	free(td);
	free(ta);
	close(nl);
	return 0;
}

#define MAXV 8
#define MAXE 8

static int cmd_spawn(long n, const char *file, char *prog)
{
	static char lines[MAXV][1024];
	char *name[MAXV], *envs[MAXV][MAXE + 1];
	int nv = 0;
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return 1;
	}
	while (nv < MAXV && fgets(lines[nv], sizeof lines[nv], f)) {
		char *save = NULL, *t = strtok_r(lines[nv], "\t\n", &save);
		int ne = 0;
		if (!t)
			continue;
		name[nv] = t;
		while (ne < MAXE && (t = strtok_r(NULL, "\t\n", &save)))
			envs[nv][ne++] = t;
		envs[nv][ne] = NULL;
		nv++;
	}
	fclose(f);
	char *argv[] = { prog, NULL };
	for (long i = 0; i < n; i++)
		for (int v = 0; v < nv; v++) {
			pid_t pid;
			int st;
			double t0 = now_us();
			if (posix_spawn(&pid, prog, NULL, NULL, argv, envs[v]) != 0 ||
			    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "benchcli: %s failed (%s)\n", prog, name[v]);
				return 1;
			}
			printf("%s %.1f\n", name[v], now_us() - t0);
		}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: benchcli [api CONF TARGET] ttfb|rdv|knock|rate|sink|blast|rss|spawn|watch ..."
			" (see the source)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in in;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	/* api CONF TARGET CMD ...: CMD's sessions use scramble_connect() */
	if (!strcmp(argv[1], "api")) {
		char err[512] = "";
		if (argc < 5 || (strcmp(argv[4], "ttfb") && strcmp(argv[4], "rate") && strcmp(argv[4], "rss")))
			usage();
		api_target = scramble_target_load(argv[2], argv[3], err, sizeof err);
		if (api_target == NULL) {
			fprintf(stderr, "benchcli: target %s: %s (%s)\n", argv[3], err[0] ? err : argv[2],
				strerror(errno));
			return 2;
		}
		argc -= 3;
		argv += 3;
	}
	const char *c = argv[1];
	if (!strcmp(c, "ttfb") && (argc == 5 || argc == 6))
		return to_sin(argv[3], argv[4], &in) < 0 ? 2 :
		       cmd_ttfb(atol(argv[2]), &in, argc == 6 ? atof(argv[5]) : 0);
	if (!strcmp(c, "rdv") && argc == 5)
		return to_sin(argv[3], argv[4], &in) < 0 ? 2 : cmd_rdv(atol(argv[2]), &in);
	if (!strcmp(c, "knock") && (argc == 6 || (argc == 7 && !strcmp(argv[6], "once"))))
		return to_sin(argv[3], argv[4], &in) < 0 ? 2 : cmd_knock(atol(argv[2]), &in, argv[5], argc == 7);
	if (!strcmp(c, "rate") && (argc == 6 || argc == 7) && atol(argv[3]) > 0)
		return to_sin(argv[4], argv[5], &in) < 0 ? 2 :
		       cmd_rate(atol(argv[2]), atol(argv[3]), &in, argc == 7 ? atof(argv[6]) : 0);
	if (!strcmp(c, "sink") && argc == 5)
		return cmd_sink(argv[2], argv[3], argv[4]);
	if (!strcmp(c, "blast") && argc == 5)
		return to_sin(argv[3], argv[4], &in) < 0 ? 2 : cmd_blast(atoll(argv[2]), &in);
	if (!strcmp(c, "rss") && argc == 4)
		return to_sin(argv[2], argv[3], &in) < 0 ? 2 : cmd_rss(&in);
	if (!strcmp(c, "spawn") && argc == 5)
		return cmd_spawn(atol(argv[2]), argv[3], argv[4]);
	if (!strcmp(c, "watch") && argc == 4 && atol(argv[3]) > 0)
		return cmd_watch(atol(argv[2]), atol(argv[3]));
	usage();
	return 2;
}
