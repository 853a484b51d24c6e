/* Rendezvous listeners and admission (SPEC section 5, first paragraph).
 * The daemon never reads from a rendezvous connection. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "rendezvous.h"
#include "sessions.h"

#define ACCEPT_BURST 64

static int reserve_fd = -1;   /* closed to accept-and-drop when out of fds */

static void sockaddr_text(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t blen)
{
	struct ipaddr a;
	uint16_t port = 0;
	char h[64];
	if (addr_from_sockaddr((const struct sockaddr *)ss, len, &a, &port) < 0) {
		snprintf(buf, blen, "?");
		return;
	}
	addr_str(&a, h, sizeof h);
	if (ss->ss_family == AF_INET6 && a.family == AF_INET6)
		snprintf(buf, blen, "[%s]:%u", h, port);
	else
		snprintf(buf, blen, "%s:%u", h, port);
}

static struct listener *listener_open(struct svc *svc, const struct listen_addr *la)
{
	struct listener *l = calloc(1, sizeof *l);
	char text[96];
	if (!l)
		return NULL;
	l->ev = (struct evsrc){ EV_LISTEN, l };
	l->svc = svc;
	l->cfg = *la;
	sockaddr_text(&la->ss, la->len, text, sizeof text);
	l->fd = server_listen((const struct sockaddr *)&la->ss, la->len);
	if (l->fd < 0) {
		log_err("service %s: cannot listen on %s: %s", svc->name, text, strerror(errno));
		goto err;
	}
	l->len = sizeof l->ss;
	if (getsockname(l->fd, (struct sockaddr *)&l->ss, &l->len) < 0) {
		log_err("service %s: getsockname: %s", svc->name, strerror(errno));
		goto err;
	}
	return l;
err:
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return NULL;
}

static void listener_close(struct daemon *d, struct listener *l)
{
	if (l->fd >= 0) {
		ep_del(d, l->fd);
		close(l->fd);
	}
	free(l);
}

static struct svc *svc_find(struct daemon *d, const char *name)
{
	for (struct svc *s = d->svcs; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static bool same_addr(const struct listen_addr *a, const struct listen_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* The listener of svc configured as la, if it has one. */
static struct listener *svc_listener(struct svc *svc, const struct listen_addr *la)
{
	for (size_t i = 0; i < svc->nlisteners; i++)
		if (same_addr(&svc->listeners[i]->cfg, la))
			return svc->listeners[i];
	return NULL;
}

/* What the new configuration g will need, built aside; committed or
 * thrown away by svcs_apply. */
struct plan_svc {
	struct svc *svc;            /* existing or new */
	bool fresh;
	const struct service *conf;
	struct listener **ls;
	size_t n;
	bool *opened;               /* ls[i] is new */
};

static void plan_free(struct daemon *d, struct plan_svc *p, size_t n, bool rollback)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; rollback && j < p[i].n; j++)
			if (p[i].opened[j])
				listener_close(d, p[i].ls[j]);
		if (rollback && p[i].fresh) {
			free(p[i].svc->name);
			free(p[i].svc);
		}
		free(p[i].ls);
		free(p[i].opened);
	}
	free(p);
}

/* mode = "embedded": a program serves it with libscramble-api */
static bool wanted(const struct daemon *d, const struct service *s)
{
	return s->mode != MODE_EMBEDDED && (!d->only_service || strcmp(d->only_service, s->name) == 0);
}

static int plan_build(struct daemon *d, struct gen *g, struct plan_svc **out, size_t *nout)
{
	struct config *c = g->conf;
	struct plan_svc *p = calloc(c->nservices + 1, sizeof *p);
	size_t n = 0;
	if (!p)
		return -1;
	for (size_t i = 0; i < c->nservices; i++) {
		const struct service *sc = &c->services[i];
		if (!wanted(d, sc))
			continue;
		struct plan_svc *ps = &p[n++];
		ps->conf = sc;
		ps->svc = svc_find(d, sc->name);
		if (!ps->svc) {
			ps->svc = calloc(1, sizeof *ps->svc);
			if (!ps->svc || !(ps->svc->name = strdup(sc->name))) {
				free(ps->svc);
				ps->svc = NULL;
				n--;
				goto err;
			}
			ps->fresh = true;
		}
		ps->ls = calloc(sc->nlisten + 1, sizeof *ps->ls);
		ps->opened = calloc(sc->nlisten + 1, sizeof *ps->opened);
		if (!ps->ls || !ps->opened)
			goto err;
		for (size_t j = 0; j < sc->nlisten; j++) {
			struct listener *l = ps->fresh ? NULL : svc_listener(ps->svc, &sc->listen[j]);
			if (!l) {
				l = listener_open(ps->svc, &sc->listen[j]);
				if (!l)
					goto err;
				if (ep_add(d, l->fd, EPOLLIN, &l->ev) < 0) {
					log_err("epoll: %s", strerror(errno));
					listener_close(d, l);
					goto err;
				}
				ps->opened[ps->n] = true;
			}
			ps->ls[ps->n++] = l;
		}
	}
	*out = p;
	*nout = n;
	return 0;
err:
	plan_free(d, p, n, true);
	return -1;
}

int svcs_apply(struct daemon *d, struct gen *g)
{
	struct plan_svc *p;
	size_t n;
	if (plan_build(d, g, &p, &n) < 0)
		return -1;
	for (struct svc *s = d->svcs; s; s = s->next)
		s->keep = false;
	for (size_t i = 0; i < n; i++) {
		struct svc *s = p[i].svc;
		/* close the listeners the new configuration does not have */
		for (size_t j = 0; j < s->nlisteners; j++) {
			bool kept = false;
			for (size_t k = 0; k < p[i].n; k++)
				kept |= p[i].ls[k] == s->listeners[j];
			if (!kept)
				listener_close(d, s->listeners[j]);
		}
		free(s->listeners);
		s->listeners = p[i].ls;
		s->nlisteners = p[i].n;
		p[i].ls = NULL;
		s->conf = p[i].conf;
		s->keep = true;
		if (p[i].fresh) {
			s->next = d->svcs;
			d->svcs = s;
		}
		for (size_t j = 0; j < s->nlisteners; j++) {
			char text[96];
			sockaddr_text(&s->listeners[j]->ss, s->listeners[j]->len, text, sizeof text);
			if (p[i].opened[j])
				log_info("listening service=%s addr=%s", s->name, text);
		}
	}
	plan_free(d, p, n, false);
	/* services gone from the configuration: no new rendezvous; their
	 * sessions go on with the old settings */
	for (struct svc *s = d->svcs; s; s = s->next) {
		if (s->keep)
			continue;
		for (size_t j = 0; j < s->nlisteners; j++)
			listener_close(d, s->listeners[j]);
		s->nlisteners = 0;
		if (s->conf)
			log_info("retired service=%s", s->name);
		s->conf = NULL;
	}
	if (d->gen) {
		d->gen->current = false;
		d->gen->refs++;
		gen_unref(d->gen);   /* frees it unless sessions still use it */
	}
	d->gen = g;
	g->current = true;
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

/* Admission (server.c): NULL if the connection may proceed, else the
 * reason. */
static const char *admit(struct daemon *d, struct svc *svc, const struct ipaddr *a)
{
	const struct service *c = svc->conf;
	unsigned from_a = c->per_source ? sessions_pending(d, svc, a) : 0;
	return server_admit(c, &svc->rate, svc->pending, from_a, a, now_ms());
}

void rdv_on_accept(struct daemon *d, struct listener *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				log_err("service=%s: out of file descriptors, connection dropped", l->svc->name);
				(void)server_drop_one(l->fd, &reserve_fd);
			} else if (errno != EAGAIN) {
				log_err("service=%s: accept: %s", l->svc->name, strerror(errno));
			}
			return;
		}
		struct ipaddr a;
		uint16_t port;
		char as[64];
		if (d->stopping || !l->svc->conf ||
		    addr_from_sockaddr((struct sockaddr *)&ss, len, &a, &port) < 0) {
			close(fd);
			continue;
		}
		const char *why = admit(d, l->svc, &a);
		if (why) {
			log_info("refused service=%s client=%s reason=%s", l->svc->name,
				 addr_str(&a, as, sizeof as), why);
			close(fd);
			continue;
		}
		session_open(d, l->svc, fd, &a);
	}
}

void svcs_close_listeners(struct daemon *d)
{
	for (struct svc *s = d->svcs; s; s = s->next) {
		for (size_t j = 0; j < s->nlisteners; j++)
			listener_close(d, s->listeners[j]);
		s->nlisteners = 0;
	}
}

void svcs_free(struct daemon *d)
{
	svcs_close_listeners(d);
	while (d->svcs) {
		struct svc *s = d->svcs;
		d->svcs = s->next;
		rate_free(&s->rate);
		free(s->listeners);
		free(s->name);
		free(s);
	}
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
	}
}
