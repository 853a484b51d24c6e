/* The procfs watch (SPEC section 5, steps 2, 4 and 6).
 *
 * For every socket whose local port is the valid port of a session:
 *   LISTEN                          -> the server is ready
 *   remote == the rendezvous client -> the client arrived (any state; a
 *                                      client may come and go within a tick);
 *                                      it is still there unless TIME_WAIT
 *   remote == anything else         -> intruder
 * and, for a peer on this host, its own end (remote = our address and the
 * valid port) counts the same way: client arrived, or intruder.
 * Ports were free (absent from procfs in any state) when they were chosen,
 * so every socket seen on them belongs to the session. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "procfs.h"
#include "sessions.h"
#include "watch.h"
#include "login.h"
#include "diag.h"

#define STARTUP_POLL_MS 20   /* while a server is starting: the client is waiting */

struct seen {
	bool listen, client, client_live, intruder;
	struct ipaddr who;
};

struct pass {
	struct daemon *d;
	struct seen *seen;         /* parallel to the sessions array */
	struct session **list;
	size_t n;
};

static bool watched(const struct session *s)
{
	if (s->conf->mode != MODE_EXEC)
		return false;   /* the daemon itself holds the valid port */
	return s->state == S_LAUNCHING || s->state == S_LISTENING || s->state == S_WAITING ||
	       s->state == S_ARRIVED;
}

/* The connecting end of a socket to the valid port, when that end is on
 * this host (loopback, or a local process): remote = the address the
 * rendezvous came in on, remote port = the valid port.  From the client's
 * address it shows the client came (in TIME_WAIT after a client that came
 * and went between two ticks); from any other address it is an intruder
 * that may already have closed its connection. */
static void connecting_end(struct pass *p, const struct tcp_entry *e)
{
	struct session *s = NULL;
	uint16_t port = e->rport;
	HASH_FIND(hh_port, p->d->by_port, &port, sizeof port, s);
	if (!s || !watched(s) || e->state == TCPS_LISTEN || !s->has_local ||
	    !addr_equal(&e->remote, &s->local_ip))
		return;
	size_t i = s->widx;
	if (i >= p->n || p->list[i] != s)
		return;
	if (addr_equal(&e->local, &s->client)) {
		/* the client's own end is a socket from the client like the
		 * server's end: it keeps the session alive unless TIME_WAIT (a
		 * pass may see it before, or without, the server's end) */
		p->seen[i].client = true;
		if (e->state != TCPS_TIME_WAIT)
			p->seen[i].client_live = true;
	} else if (!p->seen[i].intruder) {
		p->seen[i].intruder = true;
		p->seen[i].who = e->local;
	}
}

static int on_entry(const struct tcp_entry *e, void *arg)
{
	struct pass *p = arg;
	struct session *s = NULL;
	uint16_t port = e->lport;
	connecting_end(p, e);
	HASH_FIND(hh_port, p->d->by_port, &port, sizeof port, s);
	if (!s || !watched(s))
		return 0;
	size_t i = s->widx;
	if (i >= p->n || p->list[i] != s)
		return 0;
	struct seen *sn = &p->seen[i];
	if (e->state == TCPS_LISTEN) {
		sn->listen = true;
	} else if (addr_equal(&e->remote, &s->client)) {
		sn->client = true;
		if (e->state != TCPS_TIME_WAIT)
			sn->client_live = true;
	} else if (!sn->intruder) {
		sn->intruder = true;
		sn->who = e->remote;
	}
	return 0;
}

static void act(struct daemon *d, struct session *s, const struct seen *sn)
{
	if (sn->intruder) {
		char who[64];
		addr_str(&sn->who, who, sizeof who);
		log_info("intruder service=%s client=%s intruder=%s pid=%d", s->svc->name, s->client_str,
			 who, (int)s->pid);
		session_kill(d, s);
		return;
	}
	if ((s->state == S_LAUNCHING || s->state == S_LISTENING) && sn->listen) {
		session_ready(d, s);
		return;
	}
	if (s->state == S_WAITING && sn->client)
		session_arrived(d, s);
	if (s->state == S_ARRIVED) {
		if (s->login && !login_uses_stderr(s->login) && s->login_deadline &&
		    login_poll(s->login)) {
			s->login_deadline = 0;
			log_info("login ok service=%s client=%s pid=%d", s->svc->name, s->client_str,
				 (int)s->pid);
		}
		s->client_missed = sn->client_live ? 0 : s->client_missed + 1;
		if (s->client_missed >= 2) {
			log_info("session end service=%s client=%s pid=%d", s->svc->name, s->client_str,
				 (int)s->pid);
			session_kill(d, s);
		}
	}
}

/* Every watched session is a server still starting, of a service with
 * watch = "diag": a kernel-filtered dump of listeners is enough. */
static bool only_starting_diag(const struct pass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct session *s = p->list[i];
		if (s->conf->watch != WATCH_DIAG ||
		    (s->state != S_LAUNCHING && s->state != S_LISTENING))
			return false;
	}
	return true;
}

void watch_tick(struct daemon *d)
{
	struct pass p = { .d = d };
	p.list = calloc(d->nsessions + 1, sizeof *p.list);
	p.seen = calloc(d->nsessions + 1, sizeof *p.seen);
	if (!p.list || !p.seen) {
		log_err("out of memory in the watch pass");
		goto out;
	}
	for (struct session *s = d->sessions; s; s = s->next)
		if (watched(s) && s->port) {
			s->widx = p.n;
			p.list[p.n++] = s;
		}
	if (p.n == 0)
		goto out;
	if (only_starting_diag(&p)) {
		/* watch = "diag": only LISTEN matters until the decoy is sent */
		if (diag_listeners(on_entry, &p) == 0)
			goto act;
		log_warn("sock_diag failed (%s): reading procfs instead", strerror(errno));
	}
	if (procfs_scan(d->procfs_prefix, on_entry, &p) < 0) {
		log_err("cannot read /proc/net/tcp: %s", strerror(errno));
		goto out;
	}
act:
	/* act may free sessions, but only the one it is given */
	for (size_t i = 0; i < p.n; i++)
		act(d, p.list[i], &p.seen[i]);
out:
	free(p.list);
	free(p.seen);
}

void watch_schedule(struct daemon *d, uint64_t now)
{
	unsigned ms = 0;
	for (const struct session *s = d->sessions; s; s = s->next) {
		if (!watched(s))
			continue;
		unsigned m = s->conf->poll_ms;
		if ((s->state == S_LAUNCHING || s->state == S_LISTENING) && m > STARTUP_POLL_MS)
			m = STARTUP_POLL_MS;
		if (!ms || m < ms)
			ms = m;
	}
	if (!ms) {
		d->next_tick = 0;
		return;
	}
	if (!d->next_tick || d->next_tick > now + ms)
		d->next_tick = now + ms;
}
