/* connloop N HOST PORT: N blocking connects of fresh sockets to an IPv4
 * HOST:PORT (normally a refused port), for measuring what the shim costs
 * an unconfigured connect (valgrind --tool=callgrind).  Prints how many
 * failed with ECONNREFUSED. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	long n, i, refused = 0;

	if (argc != 4 || (n = atol(argv[1])) < 1 || inet_pton(AF_INET, argv[2], &in.sin_addr) != 1) {
		fprintf(stderr, "usage: connloop N IPV4 PORT\n");
		return 2;
	}
	in.sin_port = htons((uint16_t)atoi(argv[3]));
	for (i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&in, sizeof in) != 0 && errno == ECONNREFUSED)
			refused++;
		close(fd);
	}
	printf("refused %ld of %ld\n", refused, n);
	return 0;
}
