/* scramblectl status [-S SOCKPATH]: print the pending and active sessions
 * of a running scrambled, read from its status socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "status.h"

int ctl_status_main(int argc, char **argv);

/* Print the daemon's tab-separated text as aligned columns. */
static void print_line(char *line)
{
	char *f[7] = { 0 };
	int n = 0;
	for (char *p = line; n < 7; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n < 7) {
		printf("%s\n", line);
		return;
	}
	printf("%-12s %-24s %6s %6s %8s %6s %s\n", f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
}

int ctl_status_main(int argc, char **argv)
{
	const char *path = SCRAMBLED_STATUS_PATH;
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "S:h")) != -1) {
		if (opt == 'S') {
			path = optarg;
		} else {
			fprintf(stderr, "usage: scramblectl status [-S SOCKPATH]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: scramblectl status [-S SOCKPATH]\n");
		return 2;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "scramblectl: %s: path too long\n", path);
		return 2;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fprintf(stderr, "scramblectl: cannot reach scrambled at %s: %s (is it running? use -S)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char buf[65536], line[1024];
	size_t ll = 0;
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "scramblectl: reading %s: %s\n", path, strerror(errno));
			rc = 1;
			break;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == '\n' || ll == sizeof line - 1) {
				line[ll] = '\0';
				print_line(line);
				ll = 0;
			}
			if (buf[i] != '\n')
				line[ll++] = buf[i];
		}
	}
	close(fd);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
