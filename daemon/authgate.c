/* The daemon's side of protocol v2 (see authgate.h).
 *
 * Nonces: each session draws its own fresh nonce when its port is chosen
 * and keeps it in its gate; the nonce is good for exactly one connection to
 * the valid port (the pinned listener is closed at the first accept) and is
 * forgotten with the session: after that connection has been judged, or at
 * connect_timeout.  So a recorded authenticator is worthless: its nonce is
 * gone, and a new rendezvous has a new nonce and a new valid port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "auth.h"
#include "authgate.h"
#include "log.h"
#include "ports.h"
#include "sessions.h"

struct auth_gate {
	struct auth_line line;      /* decoy and nonce as sent */
	struct evsrc ev;
	int fd;                     /* the client's connection while S_AUTH */
	uint8_t tag[AUTH_TAG_BYTES];
	size_t got;
};

int gate_choose_port(struct daemon *d, struct session *s, const uint8_t *busy)
{
	const struct conf_table *ct = s->conf->table;
	struct port_range r = ct->range;
	struct auth_gate *g;

	if (!s->conf->key_loaded || auth_init() < 0) {
		log_err("service %s: no key or libsodium cannot be initialised", s->svc->name);
		return -1;
	}
	g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	g->fd = -1;
	g->ev = (struct evsrc){ EV_AUTH, s };
	uint32_t step = auth_step(time(NULL));
	for (int tries = 0; tries < 64; tries++) {
		g->line.decoy = (uint16_t)(r.lo + ports_random((uint32_t)r.hi - r.lo + 1));
		auth_random(g->line.nonce, sizeof g->line.nonce);
		uint16_t valid = auth_port(s->conf->key, &g->line, step, &s->client, r);
		if (port_marked(busy, valid) || !ports_bindable(valid))
			continue;
		s->gate = g;
		s->decoy = g->line.decoy;
		s->port = valid;
		HASH_ADD(hh_port, d->by_port, port, sizeof s->port, s);
		log_debug("debug service=%s client=%s decoy=%u valid=%u auth=v2", s->svc->name,
			  s->client_str, s->decoy, valid);
		return 0;
	}
	free(g);
	return -1;
}

int gate_line(const struct session *s, char *buf, size_t size)
{
	return s->gate ? authline_format(buf, size, &s->gate->line) : -1;
}

static void fail(struct daemon *d, struct session *s, const char *reason)
{
	log_info("auth failed service=%s client=%s reason=%s bytes=%zu", s->svc->name,
		 s->client_str, reason, s->gate->got);
	gate_free(d, s);
	session_kill(d, s);   /* nothing was launched: this frees the session */
}

void gate_start(struct daemon *d, struct session *s, int conn)
{
	struct auth_gate *g = s->gate;

	g->fd = conn;
	g->got = 0;
	s->state = S_AUTH;
	s->deadline = now_ms() + AUTH_GATE_MS;
	if (ep_add(d, conn, EPOLLIN, &g->ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		fail(d, s, "internal");
	}
}

void gate_on_read(struct daemon *d, struct session *s)
{
	struct auth_gate *g = s->gate;

	if (!g || g->fd < 0 || s->state != S_AUTH)
		return;
	while (g->got < AUTH_TAG_BYTES) {
		/* exactly the authenticator: what follows is the server's */
		ssize_t n = recv(g->fd, g->tag + g->got, AUTH_TAG_BYTES - g->got, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			fail(d, s, n == 0 ? "short" : "error");
			return;
		}
		g->got += (size_t)n;
	}
	if (auth_verify(g->tag, s->conf->key, &g->line, &s->client, s->svc->name) != 0) {
		fail(d, s, "mismatch");
		return;
	}
	int conn = g->fd;
	ep_del(d, conn);
	g->fd = -1;
	sodium_memzero(&g->line, sizeof g->line);   /* the nonce is used up */
	log_info("auth ok service=%s client=%s", s->svc->name, s->client_str);
	session_launch_conn(d, s, conn);
}

void gate_timeout(struct daemon *d, struct session *s)
{
	if (s->gate)
		fail(d, s, "timeout");
	else
		session_kill(d, s);
}

void gate_free(struct daemon *d, struct session *s)
{
	struct auth_gate *g = s->gate;

	if (!g)
		return;
	if (g->fd >= 0) {
		ep_del(d, g->fd);
		close(g->fd);
		g->fd = -1;
	}
	sodium_memzero(g, sizeof *g);
	g->fd = -1;
	free(g);
	s->gate = NULL;
}
