/* The pin filter (see pin.h).  On a TCP socket the filter runs with the
 * packet's data at the TCP header; the IP header is reached through the
 * SKF_NET_OFF negative offset.  A SYN it drops never gets an answer, so a
 * host other than the client cannot even complete a handshake: to it the
 * port looks filtered, not open. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "pin.h"

int pin_program(const struct ipaddr *client, struct sock_filter *prog)
{
	int n = 0;
	int words = client->family == AF_INET ? 1 : 4;
	int off = client->family == AF_INET ? 12 : 8;   /* saddr in the IPv4 / IPv6 header */
	for (int i = 0; i < words; i++) {
		const uint8_t *b = client->bytes + 4 * i;
		uint32_t w = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							 (uint32_t)(SKF_NET_OFF + off + 4 * i));
		/* equal: next word; else jump to the drop at the end */
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w, 0,
							 (uint8_t)(2 * (words - i) - 1));
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return n;
}

int pin_listen(const struct sockaddr_storage *local, socklen_t len, uint16_t port,
	       const struct ipaddr *client, bool *pinned)
{
	struct sockaddr_storage ss = *local;
	sockaddr_set_port((struct sockaddr *)&ss, port);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	struct sock_filter prog[16];
	struct sock_fprog fp = { .len = (unsigned short)pin_program(client, prog), .filter = prog };
	*pinned = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) == 0;
	/* the filter is attached before listen(): no SYN gets through unfiltered */
	if ((ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
