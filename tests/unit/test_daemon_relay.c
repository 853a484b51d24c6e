/* Unit tests: the forward-mode splice relay (daemon/relay.c) and the pin
 * filter program (daemon/pin.c), on socketpairs and a loopback socket. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "../../daemon/relay.c"
#include "../../common/pin.c"
#include "unit.h"

#define SIZE (8u << 20)

/* Read until EOF; returns bytes read, checksum in *sum. */
static size_t drain_all(int fd, unsigned long *sum)
{
	static unsigned char buf[65536];
	size_t n = 0;
	*sum = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			return r < 0 ? (size_t)-1 : n;
		for (ssize_t i = 0; i < r; i++)
			*sum = *sum * 31 + buf[i];
		n += (size_t)r;
	}
}

static void test_relay(void)
{
	int a[2], b[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) == 0);
	pid_t relay = fork();
	if (relay == 0) {
		close(a[0]);
		close(b[1]);
		_exit(relay_fds(a[1], b[0]) == 0 ? 0 : 3);
	}
	close(a[1]);
	close(b[0]);
	/* the writer: SIZE bytes into one end, then a half-close */
	pid_t writer = fork();
	if (writer == 0) {
		unsigned char *p = malloc(SIZE);
		if (!p)
			_exit(4);
		for (size_t i = 0; i < SIZE; i++)
			p[i] = (unsigned char)(i * 7 + (i >> 13));
		size_t off = 0;
		while (off < SIZE) {
			ssize_t w = write(a[0], p + off, SIZE - off);
			if (w <= 0)
				_exit(5);
			off += (size_t)w;
		}
		/* freed before _exit: under valgrind a block whose pointer was
		 * lost from the registers counts as a leak (exit status 99) */
		free(p);
		shutdown(a[0], SHUT_WR);
		/* then read the answer that comes back after our EOF */
		unsigned long s;
		size_t n = drain_all(a[0], &s);
		_exit(n == 5 ? 0 : 6);
	}
	unsigned long sum, want = 0;
	size_t n = drain_all(b[1], &sum);
	for (size_t i = 0; i < SIZE; i++)
		want = want * 31 + (unsigned char)(i * 7 + (i >> 13));
	CHECK_EQ(n, SIZE);           /* EOF propagated after all the bytes */
	CHECK(sum == want);
	/* the other direction still works after the half-close */
	CHECK_EQ(write(b[1], "reply", 5), 5);
	shutdown(b[1], SHUT_WR);
	int st;
	CHECK_EQ(waitpid(writer, &st, 0), writer);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(waitpid(relay, &st, 0), relay);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);   /* both directions ended */
	close(a[0]);
	close(b[1]);
}

static void test_pin_program(void)
{
	struct sock_filter prog[16];
	struct ipaddr v4 = { .family = AF_INET, .bytes = { 127, 0, 0, 2 } };
	int n = pin_program(&v4, prog);
	CHECK_EQ(n, 4);
	CHECK_EQ(prog[0].k, (uint32_t)(SKF_NET_OFF + 12));
	CHECK_EQ(prog[1].k, 0x7f000002u);
	CHECK_EQ(prog[1].jf, 1);          /* to the drop */
	CHECK_EQ(prog[3].k, 0);           /* drop */
	struct ipaddr v6 = { .family = AF_INET6 };
	v6.bytes[15] = 1;
	n = pin_program(&v6, prog);
	CHECK_EQ(n, 10);
	CHECK_EQ(prog[0].k, (uint32_t)(SKF_NET_OFF + 8));
	CHECK_EQ(prog[6].k, (uint32_t)(SKF_NET_OFF + 20));
	CHECK_EQ(prog[7].k, 1u);
	/* every mismatch jumps exactly to the final drop */
	int ok = 1;
	for (int i = 1; i < 8; i += 2)
		ok &= i + 1 + prog[i].jf == n - 1;
	CHECK(ok);
	/* the kernel accepts it on a listening socket */
	struct sockaddr_storage ss;
	socklen_t len;
	CHECK(addr_parse_hostport("127.0.0.1:0", &ss, &len) == 0);
	bool pinned = false;
	int fd = pin_listen(&ss, len, 0, &v4, &pinned);
	CHECK(fd >= 0);
	CHECK(pinned);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_relay();
	test_pin_program();
	return unit_done();
}
