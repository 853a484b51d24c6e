/* stresscli: client-side stress and fault probes for the shim
 * (tests/stress_shim.bats).  Every mode prints plain "key=value" lines.
 *
 *   stresscli loop N IPV4 PORT[,PORT...]
 *       N blocking connects of fresh sockets, taking the ports in turn;
 *       prints "port=P ok=A ECONNREFUSED=B ..." for each port, then
 *       "fds-before=X fds-after=Y" (open descriptors of this process
 *       before the first connect and after the last close).
 *   stresscli sockopts IPV4 PORT
 *       set SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, TCP_NODELAY, IP_TOS and
 *       SO_PRIORITY, connect, print "before NAME=V" and "after NAME=V" for
 *       each, and "peer-port=N"
 *   stresscli badargs IPV4 PORT
 *       connect() with bad arguments (NULL address, short lengths, AF_UNIX,
 *       wrong family, bad and non-socket fds), one "case=NAME rc=R
 *       errno=E" line each
 *   stresscli closeall OUTFILE IPV4 PORT
 *       close_range(3, ~0) first, then connect, send "hi\n" and read the
 *       line back; the result goes to OUTFILE (opened last, so it works
 *       when fds 0-2 are closed too): "connect=RC errno=E reply=..."
 *   stresscli rawsys IPV4 PORT
 *       connect through syscall(SYS_connect), bypassing libc (and the
 *       shim): "connect=RC errno=E peer-port=N"
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "?";
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own descriptor */
}

static int addr4(const char *ip, const char *port, struct sockaddr_in *in)
{
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, ip, &in->sin_addr) == 1 ? 0 : -1;
}

static int peer_port(int fd)
{
	struct sockaddr_in p;
	socklen_t l = sizeof p;
	if (getpeername(fd, (struct sockaddr *)&p, &l) != 0)
		return -1;
	return ntohs(p.sin_port);
}

#define MAXP 16
#define MAXE 8
static const int tally_errnos[MAXE] = { 0, ECONNREFUSED, ETIMEDOUT, ECONNRESET, EINTR,
					 EADDRNOTAVAIL, EMFILE, -1 };

static int mode_loop(int argc, char **argv)
{
	struct sockaddr_in in;
	int ports[MAXP], np = 0;
	long tally[MAXP][MAXE] = { { 0 } };
	long n;
	if (argc != 5 || (n = atol(argv[2])) < 1 || addr4(argv[3], "0", &in) != 0)
		return 2;
	for (char *p = strtok(argv[4], ","); p && np < MAXP; p = strtok(NULL, ","))
		ports[np++] = atoi(p);
	if (np == 0)
		return 2;
	int before = count_fds();
	for (long i = 0; i < n; i++) {
		int k = (int)(i % np);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		in.sin_port = htons((uint16_t)ports[k]);
		int rc = connect(fd, (struct sockaddr *)&in, sizeof in);
		int e = rc == 0 ? 0 : errno;
		int j;
		for (j = 0; j < MAXE - 1 && tally_errnos[j] != e; j++)
			;
		tally[k][j]++;
		if (close(fd) != 0) {
			perror("close");
			return 1;
		}
	}
	int after = count_fds();
	for (int k = 0; k < np; k++) {
		printf("port=%d", ports[k]);
		for (int j = 0; j < MAXE; j++)
			if (tally[k][j])
				printf(" %s=%ld", tally_errnos[j] < 0 ? "other" :
					 tally_errnos[j] == 0 ? "ok" : ename(tally_errnos[j]), tally[k][j]);
		printf("\n");
	}
	printf("fds-before=%d fds-after=%d\n", before, after);
	return 0;
}

struct opt {
	const char *name;
	int level, opt, value;
};

static const struct opt opts[] = {
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 20000 },
	{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 30000 },
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1 },
	{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 5 },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1 },
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 77 },
	{ "IP_TOS", IPPROTO_IP, IP_TOS, 0x10 },
	{ "IP_TTL", IPPROTO_IP, IP_TTL, 33 },
};

static void print_opts(int fd, const char *when)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int v = -1;
		socklen_t l = sizeof v;
		if (getsockopt(fd, opts[i].level, opts[i].opt, &v, &l) != 0)
			v = -1;
		printf("%s %s=%d\n", when, opts[i].name, v);
	}
}

static int mode_sockopts(int argc, char **argv)
{
	struct sockaddr_in in;
	if (argc != 4 || addr4(argv[2], argv[3], &in) != 0)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (setsockopt(fd, opts[i].level, opts[i].opt, &opts[i].value, sizeof(int)) != 0) {
			perror(opts[i].name);
			return 1;
		}
	print_opts(fd, "before");
	int rc = connect(fd, (struct sockaddr *)&in, sizeof in);
	printf("connect=%d errno=%s\n", rc, rc == 0 ? "0" : ename(errno));
	print_opts(fd, "after");
	printf("peer-port=%d\n", peer_port(fd));
	return rc == 0 ? 0 : 1;
}

static void one(const char *name, int fd, const void *addr, socklen_t len)
{
	errno = 0;
	int rc = connect(fd, addr, len);
	int e = errno;
	printf("case=%s rc=%d errno=%s\n", name, rc, rc == 0 ? "0" : ename(e));
}

static int mode_badargs(int argc, char **argv)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	if (argc != 4 || addr4(argv[2], argv[3], &in) != 0)
		return 2;
	in6.sin6_port = in.sin_port;
	in6.sin6_addr.s6_addr[15] = 1;
	snprintf(un.sun_path, sizeof un.sun_path, "/nonexistent/scramble-stress.sock");
#define FRESH() socket(AF_INET, SOCK_STREAM, 0)
	one("null-addr", FRESH(), NULL, sizeof in);
	one("null-addr-zero-len", FRESH(), NULL, 0);
	one("first-page-addr", FRESH(), (const void *)16, sizeof in);
	one("len-0", FRESH(), &in, 0);
	one("len-2", FRESH(), &in, 2);
	one("len-15", FRESH(), &in, 15);
	one("len-huge", FRESH(), &in, 1 << 20);
	one("af-unix-on-inet", FRESH(), &un, sizeof un);
	one("af-inet6-on-inet", FRESH(), &in6, sizeof in6);
	int ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	one("af-unix-socket", ufd, &un, sizeof un);
	one("inet-on-unix-socket", socket(AF_UNIX, SOCK_STREAM, 0), &in, sizeof in);
	one("fd-minus-1", -1, &in, sizeof in);
	one("fd-9999", 9999, &in, sizeof in);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	one("fd-pipe", p[0], &in, sizeof in);
	int devnull = open("/dev/null", O_RDONLY);
	one("fd-file", devnull, &in, sizeof in);
	int closed = FRESH();
	close(closed);
	one("fd-closed", closed, &in, sizeof in);
	int lst = FRESH();
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(lst, (struct sockaddr *)&lo, sizeof lo) != 0 || listen(lst, 1) != 0)
		return 1;
	one("listening-socket", lst, &in, sizeof in);
	return 0;
}

static int mode_closeall(int argc, char **argv)
{
	struct sockaddr_in in;
	char buf[64] = "";
	if (argc != 5 || addr4(argv[3], argv[4], &in) != 0)
		return 2;
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
		return 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	int rc = connect(fd, (struct sockaddr *)&in, sizeof in);
	int e = rc == 0 ? 0 : errno;
	ssize_t got = 0;
	if (rc == 0 && write(fd, "hi\n", 3) == 3) {
		while (got < (ssize_t)sizeof buf - 1) {
			ssize_t r = read(fd, buf + got, sizeof buf - 1 - (size_t)got);
			if (r <= 0)
				break;
			got += r;
			if (buf[got - 1] == '\n')
				break;
		}
	}
	buf[got > 0 && buf[got - 1] == '\n' ? got - 1 : got] = '\0';
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fprintf(f, "sockfd=%d connect=%d errno=%s reply=%s peer-port=%d\n", fd, rc, ename(e), buf,
		rc == 0 ? peer_port(fd) : -1);
	return fclose(f) == 0 && rc == 0 ? 0 : 1;
}

static int mode_rawsys(int argc, char **argv)
{
	struct sockaddr_in in;
	if (argc != 4 || addr4(argv[2], argv[3], &in) != 0)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	long rc = syscall(SYS_connect, fd, (struct sockaddr *)&in, (socklen_t)sizeof in);
	printf("connect=%ld errno=%s peer-port=%d\n", rc, rc == 0 ? "0" : ename(errno),
	       rc == 0 ? peer_port(fd) : -1);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2) {
		if (!strcmp(argv[1], "loop"))
			return mode_loop(argc, argv);
		if (!strcmp(argv[1], "sockopts"))
			return mode_sockopts(argc, argv);
		if (!strcmp(argv[1], "badargs"))
			return mode_badargs(argc, argv);
		if (!strcmp(argv[1], "closeall"))
			return mode_closeall(argc, argv);
		if (!strcmp(argv[1], "rawsys"))
			return mode_rawsys(argc, argv);
	}
	fprintf(stderr, "usage: stresscli loop|sockopts|badargs|closeall|rawsys ...\n");
	return 2;
}
