/* forkconn N HOST PORT: connect and exchange a line once in the parent
 * (so the shim has loaded its configuration), then fork N children that
 * each do the same; exit 0 only if the parent and every child succeeded.
 * With -s the server's first line (a banner) is read and dropped.
 * Prints "ok K of N". */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

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

static int exchange(const char *tag)
{
	char out[64], in[64];
	size_t got = 0;
	ssize_t n;
	int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&dst, dstlen) != 0) {
		perror(tag);
		goto out;
	}
	if (skip_banner && !drop_line(fd))
		goto out;
	snprintf(out, sizeof out, "%s\n", tag);
	if (write(fd, out, strlen(out)) != (ssize_t)strlen(out))
		goto out;
	while (got < strlen(out) && (n = read(fd, in + got, sizeof in - got)) > 0)
		got += (size_t)n;
	ok = got == strlen(out) && memcmp(in, out, got) == 0;
out:
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		skip_banner = 1;
		argv++;
		argc--;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)&dst;
	int n, i, ok = 0, st;
	char tag[32];

	if (argc != 4 || (n = atoi(argv[1])) < 1 || n > 64 ||
	    inet_pton(AF_INET, argv[2], &in->sin_addr) != 1) {
		fprintf(stderr, "usage: forkconn [-s] N IPV4 PORT\n");
		return 2;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)atoi(argv[3]));
	dstlen = sizeof *in;
	if (!exchange("parent")) {
		fprintf(stderr, "forkconn: parent failed\n");
		return 1;
	}
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			snprintf(tag, sizeof tag, "child-%d", i);
			_exit(exchange(tag) ? 0 : 1);
		}
	}
	for (i = 0; i < n; i++)
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	printf("ok %d of %d\n", ok, n);
	return ok == n ? 0 : 1;
}
