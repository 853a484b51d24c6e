/* The server side of one rendezvous (see server.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sodium.h>
#include "auth.h"
#include "decoy.h"
#include "mapping.h"
#include "ports.h"
#include "server.h"

const char *server_admit(const struct service *c, struct rate_table *rt, unsigned pending,
			 unsigned from_a, const struct ipaddr *a, uint64_t now_ms)
{
	if (c->nallow > 0 && !cidr_list_match(c->allow, c->nallow, a))
		return "not-allowed";
	if (!rate_allow(rt, a, now_ms, c->rate_count, (uint64_t)c->rate_window * 1000,
			(uint64_t)c->deny_time * 1000))
		return "rate-limited";
	if (c->max_pending && pending >= c->max_pending)
		return "max-pending";
	if (c->per_source && from_a >= c->per_source)
		return "per-source";
	return NULL;
}

int server_listen(const struct sockaddr *sa, socklen_t len)
{
	int one = 1, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(fd, sa, len) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int server_drop_one(int lfd, int *reserve)
{
	if (*reserve < 0)
		return -1;
	close(*reserve);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	*reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

/* Protocol v2: decoy and nonce at random, the valid port from the key. */
static int offer_auth(const struct service *c, const struct ipaddr *client, uint8_t *busy,
		      struct offer *o)
{
	struct port_range r = c->table->range;

	if (!c->key_loaded || auth_init() < 0)
		return -1;
	uint32_t step = auth_step(time(NULL));
	for (int tries = 0; tries < 64; tries++) {
		o->line.decoy = (uint16_t)(r.lo + ports_random((uint32_t)r.hi - r.lo + 1));
		auth_random(o->line.nonce, sizeof o->line.nonce);
		uint16_t valid = auth_port(c->key, &o->line, step, client, r);
		if (port_marked(busy, valid) || !ports_bindable(valid))
			continue;
		o->auth = true;
		o->decoy = o->line.decoy;
		o->port = valid;
		return 0;
	}
	sodium_memzero(&o->line, sizeof o->line);
	return -1;
}

int server_offer(const struct service *c, const struct ipaddr *client, uint8_t *busy,
		 struct offer *o)
{
	memset(o, 0, sizeof *o);
	if (c->auth)
		return offer_auth(c, client, busy, o);
	int hour = map_hour(time(NULL)), octet = addr_last_byte(client);
	for (int tries = 0; tries < 32; tries++) {
		uint16_t decoy, valid;
		if (ports_pick(&c->table->table, c->offsets, hour, octet, busy, ports_random,
			       &decoy, &valid) < 0)
			return -1;
		if (!ports_bindable(valid)) {
			port_mark(busy, valid);
			continue;
		}
		o->decoy = decoy;
		o->port = valid;
		return 0;
	}
	return -1;
}

int server_offer_line(const struct offer *o, char *buf, size_t size)
{
	return o->auth ? authline_format(buf, size, &o->line) : decoy_format(buf, size, o->decoy);
}

int server_accept_client(int vfd, const struct ipaddr *client, int flags, char *intruder,
			 size_t ilen)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		struct ipaddr a;
		uint16_t port;
		int c = accept4(vfd, (struct sockaddr *)&ss, &len, flags);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return -1;
		}
		bool known = addr_from_sockaddr((struct sockaddr *)&ss, len, &a, &port) == 0;
		if (known && addr_equal(&a, client))
			return c;
		if (ilen > 0) {
			if (known)
				addr_str(&a, intruder, ilen);
			else
				snprintf(intruder, ilen, "?");
		}
		close(c);
		return -2;
	}
}

int server_read_tag(int fd, struct tag_reader *r, const char **reason)
{
	while (r->got < AUTH_TAG_BYTES) {
		ssize_t n = recv(fd, r->tag + r->got, AUTH_TAG_BYTES - r->got, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			*reason = n == 0 ? "short" : "error";
			return -1;
		}
		r->got += (size_t)n;
	}
	return 1;
}

int server_check_tag(const struct service *c, const struct offer *o, const struct ipaddr *client,
		     const struct tag_reader *r)
{
	if (!o->auth || r->got != AUTH_TAG_BYTES)
		return -1;
	return auth_verify(r->tag, c->key, &o->line, client, c->name);
}

void server_offer_forget(struct offer *o, struct tag_reader *r)
{
	sodium_memzero(&o->line, sizeof o->line);
	if (r)
		sodium_memzero(r, sizeof *r);
}
