/* The daemon's side of protocol v2 (see authgate.h).
 *
 * Nonces: each session draws its own fresh nonce when its port is chosen
 * (server_offer) and keeps it in its offer; the nonce is good for exactly
 * one connection to the valid port (the pinned listener is closed at the
 * first accept) and is forgotten with the session: after that connection
 * has been judged, or at connect_timeout.  So a recorded authenticator is
 * worthless: its nonce is gone, and a new rendezvous has a new nonce and a
 * new valid port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "authgate.h"
#include "log.h"
#include "server.h"
#include "sessions.h"

struct auth_gate {
	struct evsrc ev;
	int fd;                     /* the client's connection while S_AUTH */
	struct tag_reader r;
};

int gate_new(struct session *s)
{
	struct auth_gate *g = calloc(1, sizeof *g);

	if (!g)
		return -1;
	g->fd = -1;
	g->ev = (struct evsrc){ EV_AUTH, s };
	s->gate = g;
	return 0;
}

static void fail(struct daemon *d, struct session *s, const char *reason)
{
	log_info("auth failed service=%s client=%s reason=%s bytes=%zu", s->svc->name,
		 s->client_str, reason, s->gate->r.got);
	gate_free(d, s);
	session_kill(d, s);   /* nothing was launched: this frees the session */
}

void gate_start(struct daemon *d, struct session *s, int conn)
{
	struct auth_gate *g = s->gate;

	g->fd = conn;
	g->r.got = 0;
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
	const char *reason = "error";

	if (!g || g->fd < 0 || s->state != S_AUTH)
		return;
	switch (server_read_tag(g->fd, &g->r, &reason)) {
	case 0:
		return;
	case -1:
		fail(d, s, reason);
		return;
	}
	if (server_check_tag(s->conf, &s->offer, &s->client, &g->r) != 0) {
		fail(d, s, "mismatch");
		return;
	}
	int conn = g->fd;
	ep_del(d, conn);
	g->fd = -1;
	server_offer_forget(&s->offer, &g->r);   /* the nonce is used up */
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
	}
	server_offer_forget(&s->offer, &g->r);
	free(g);
	s->gate = NULL;
}
