/* The client side of wire protocol v1 (SPEC section 3): connect to the
 * rendezvous port, read the decoy line, compute the valid port.
 *
 * Everything here runs inside other people's programs (the shim), so it
 * uses only its own descriptor, closes it on every path, never touches
 * signal state and waits on the monotonic clock only. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "addr.h"
#include "authline.h"
#include "client.h"
#include "deadline.h"
#include "decoy.h"
#include "mapping.h"

/* Non-blocking connect bounded by the deadline.  0 connected, -1 with errno. */
static int connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
			    const struct timespec *deadline)
{
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	return deadline_wait_connected(fd, deadline);
}

/* Read the decoy line: at most max bytes, until a newline, EOF or a full
 * buffer.  Returns the byte count or -1 with errno. */
static ssize_t read_decoy(int fd, char *buf, size_t max, const struct timespec *deadline)
{
	size_t got = 0;

	while (got < max) {
		int r = deadline_wait_fd(fd, POLLIN, deadline);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0)
			return -1;
		ssize_t n = recv(fd, buf + got, max - got, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	return (ssize_t)got;
}

/* Bind the rendezvous socket to the application's local address (never its
 * port, which the application's own socket holds). */
static int bind_local(int fd, const struct sockaddr *local, socklen_t locallen)
{
	struct sockaddr_storage ss;
	int one = 1;

	if (locallen > sizeof ss || locallen < sizeof(sa_family_t))
		return -1;
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, local, locallen);
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return -1;
	sockaddr_set_port((struct sockaddr *)&ss, 0);
	/* the port is chosen at connect time: no ephemeral port is held for
	 * an address we merely want to leave from */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	return bind(fd, (struct sockaddr *)&ss, locallen);
}

int client_rendezvous(const struct target *t, const struct sockaddr *dst, socklen_t dstlen,
		      const struct sockaddr *local, socklen_t locallen, time_t now)
{
	return client_rendezvous_auth(t, dst, dstlen, local, locallen, now, NULL, NULL);
}

int client_rendezvous_auth(const struct target *t, const struct sockaddr *dst, socklen_t dstlen,
			   const struct sockaddr *local, socklen_t locallen, time_t now,
			   auth_client_fn auth, uint8_t tag[AUTH_TAG_BYTES])
{
	struct sockaddr_storage peer, self;
	socklen_t selflen = sizeof self;
	struct timespec deadline;
	struct ipaddr me;
	uint16_t myport;
	char buf[AUTH_LINE_MAX];
	struct auth_line line;
	ssize_t n;
	long decoy;
	int fd = -1, octet, result = -1, err = ECONNREFUSED;

	if (t == NULL || t->table == NULL || !t->table->loaded || dst == NULL ||
	    (t->auth && (auth == NULL || tag == NULL || !t->key_loaded)) ||
	    dstlen > sizeof peer || dstlen < sizeof(sa_family_t) ||
	    (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
		goto out;
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
		goto out;
	deadline.tv_sec += t->timeout ? t->timeout : 5;

	memset(&peer, 0, sizeof peer);
	memcpy(&peer, dst, dstlen);
	sockaddr_set_port((struct sockaddr *)&peer, t->rendezvous);

	fd = socket(dst->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out;
	if (local != NULL && bind_local(fd, local, locallen) != 0)
		goto out;
	if (connect_deadline(fd, (struct sockaddr *)&peer, dstlen, &deadline) != 0) {
		if (errno == ETIMEDOUT)
			err = ETIMEDOUT;
		goto out;
	}
	n = read_decoy(fd, buf, t->auth ? AUTH_LINE_MAX : DECOY_MAX_READ, &deadline);
	if (n < 0) {
		if (errno == ETIMEDOUT)
			err = ETIMEDOUT;
		goto out;
	}
	/* an auth target takes only a v2 line (no downgrade to v1), any
	 * other target only a v1 line */
	if (t->auth) {
		if (authline_parse(buf, (size_t)n, t->table->range, &line) != 0)
			goto out;
		decoy = line.decoy;
	} else {
		decoy = decoy_parse(buf, (size_t)n, t->table->range);
	}
	if (decoy < 0 || !table_has(&t->table->table, decoy))
		goto out;
	/* the hour is read when the decoy arrives, not before the connect:
	 * the daemon holds a rendezvous made in the last guard seconds of an
	 * hour and maps it with the new hour */
	if (now == 0)
		now = time(NULL);
	/* the client octet is our own address as the server sees it */
	if (getsockname(fd, (struct sockaddr *)&self, &selflen) != 0 ||
	    addr_from_sockaddr((struct sockaddr *)&self, selflen, &me, &myport) != 0)
		goto out;
	octet = addr_last_byte(&me);
	if (octet < 0)
		goto out;
	if (t->auth) {
		result = auth(t->key, t->name, &line, now, &me, t->table->range, tag);
		goto out;
	}
	result = map_valid(table_lookup(&t->table->table, (uint16_t)decoy), t->offsets,
			   map_hour(now), octet, t->table->range);
out:
	if (fd >= 0)
		close(fd);
	if (result < 0)
		errno = err;
	return result;
}
