/* threadconn N HOST PORT: N threads, released together by a barrier, each
 * connect() to HOST:PORT, send "thread-I\n" and expect it echoed back.
 * With -s the server's first line (a banner) is read and dropped.
 * Prints "ok K of N"; exit 0 only if every thread succeeded. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct sockaddr_storage dst;
static socklen_t dstlen;
static int skip_banner;     /* -s: the server first sends one line */

/* Read and drop one line (a banner).  1 ok, 0 EOF or error. */
static int drop_line(int fd)
{
	char c;
	while (read(fd, &c, 1) == 1)
		if (c == '\n')
			return 1;
	return 0;
}
static pthread_barrier_t start;

static int exchange(int i)
{
	char out[32], in[64];
	size_t got = 0;
	ssize_t n;
	int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) != 0) {
		fprintf(stderr, "thread %d: connect: %s\n", i, strerror(errno));
		goto out;
	}
	if (skip_banner && !drop_line(fd))
		goto out;
	snprintf(out, sizeof out, "thread-%d\n", i);
	if (write(fd, out, strlen(out)) != (ssize_t)strlen(out))
		goto out;
	while (got < strlen(out) && (n = read(fd, in + got, sizeof in - got)) > 0)
		got += (size_t)n;
	ok = got == strlen(out) && memcmp(in, out, got) == 0;
	if (!ok)
		fprintf(stderr, "thread %d: bad echo\n", i);
out:
	close(fd);
	return ok;
}

static void *run(void *arg)
{
	int i = (int)(long)arg;
	pthread_barrier_wait(&start);
	return (void *)(long)exchange(i);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		skip_banner = 1;
		argv++;
		argc--;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&dst;
	pthread_t th[256];
	int n, i, ok = 0;

	if (argc != 4 || (n = atoi(argv[1])) < 1 || n > 256) {
		fprintf(stderr, "usage: threadconn [-s] N HOST PORT\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(argv[3]));
		dstlen = sizeof *in;
	} else if (inet_pton(AF_INET6, argv[2], &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(argv[3]));
		dstlen = sizeof *in6;
	} else {
		return 2;
	}
	if (pthread_barrier_init(&start, NULL, (unsigned)n) != 0)
		return 1;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, run, (void *)(long)i) != 0)
			return 1;
	for (i = 0; i < n; i++) {
		void *r;
		if (pthread_join(th[i], &r) == 0 && r)
			ok++;
	}
	printf("ok %d of %d\n", ok, n);
	return ok == n ? 0 : 1;
}
