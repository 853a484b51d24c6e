/* The server half of the embedding API (scramble.h): a service with its
 * own epoll descriptor, its rendezvous listeners and its rendezvous under
 * way, each step done by server.c as in scrambled's inetd mode.
 *
 *   accepted --admitted--> HOLD (hour guard) --> offer sent, pinned
 *   listener on the valid port: WAIT --the client connects--> (auth) AUTH
 *   --authenticator right--> ready queue --> scramble_service_accept()
 *
 * Every state but the ready queue has a deadline; nothing blocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "api_internal.h"
#include "auth.h"
#include "deadline.h"
#include "pin.h"
#include "ports.h"
#include "server.h"

#define MAX_LISTEN   16
#define ACCEPT_BURST 64

enum ev_kind { EV_RDV, EV_VALID, EV_AUTH };

struct evref {
	enum ev_kind kind;
	void *owner;
};

struct rdv_listener {
	struct evref ev;
	int fd;
	struct sockaddr_storage ss;
	socklen_t len;
};

enum pstate { P_HOLD, P_WAIT, P_AUTH };

/* One rendezvous, from its accept to the client's arrival. */
struct pend {
	enum pstate state;
	struct evref ev;
	struct ipaddr client;
	char client_str[64];
	int fd;                       /* HOLD: rendezvous; WAIT: pinned listener; AUTH: client */
	struct sockaddr_storage local;/* where the rendezvous arrived */
	socklen_t local_len;
	struct offer offer;
	struct tag_reader tag;
	uint64_t deadline;            /* monotonic ms */
	struct pend *prev, *next;
};

/* A connection ready for the caller. */
struct ready {
	int fd;
	struct ready *next;
};

struct scramble_service {
	struct service conf;          /* settings (code-built or copied from a file) */
	struct conf_table table;      /* code-built */
	struct config *file;          /* loaded: owns what conf points to */
	int epfd;
	int reserve;                  /* closed to accept-and-drop when out of fds */
	struct rdv_listener listeners[MAX_LISTEN];
	unsigned nlisteners;
	struct pend *pends;
	unsigned npend;
	struct ready *ready, **ready_tail;
	struct rate_table rate;
	uint8_t busy[PORT_BITMAP_BYTES];
	struct cidr *allow;           /* conf.allow: always ours */
	size_t nallow;
	scramble_log_fn log;
	void *log_arg;
};

static void slog(struct scramble_service *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void slog(struct scramble_service *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int saved = errno;

	if (s->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->log(s->log_arg, line);
	errno = saved;
}

static int allow_add(struct scramble_service *s, const struct cidr *c, size_t n);

/* ---- creation ---- */

static struct scramble_service *service_alloc(void)
{
	struct scramble_service *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->epfd < 0 || s->reserve < 0) {
		int e = errno;
		if (s->epfd >= 0)
			close(s->epfd);
		free(s);
		errno = e;
		return NULL;
	}
	s->ready_tail = &s->ready;
	return s;
}

struct scramble_service *scramble_service_new(const char *name, uint16_t lo, uint16_t hi,
					      const uint16_t *table)
{
	struct scramble_service *s;

	if (!api_name_ok(name)) {
		errno = EINVAL;
		return NULL;
	}
	s = service_alloc();
	if (s == NULL)
		return NULL;
	if (api_table_build(&s->table, name, lo, hi, table) < 0) {
		int e = errno;
		close(s->epfd);
		close(s->reserve);
		free(s);
		errno = e;
		return NULL;
	}
	/* the defaults of a service section of scramble.conf(5) */
	s->conf.name = s->table.name;
	s->conf.table = &s->table;
	s->conf.mode = MODE_EMBEDDED;
	s->conf.connect_timeout = 60;
	s->conf.guard = 2;
	s->conf.max_pending = 16;
	s->conf.per_source = 4;
	s->conf.rate_count = 5;
	s->conf.rate_window = 10;
	s->conf.deny_time = 60;
	return s;
}

static int add_listener(struct scramble_service *s, const struct sockaddr *sa, socklen_t len)
{
	struct rdv_listener *l;
	struct epoll_event e = { .events = EPOLLIN };

	if (s->nlisteners >= MAX_LISTEN) {
		errno = ENOSPC;
		return -1;
	}
	l = &s->listeners[s->nlisteners];
	l->fd = server_listen(sa, len);
	if (l->fd < 0)
		return -1;
	l->len = sizeof l->ss;
	l->ev = (struct evref){ EV_RDV, l };
	e.data.ptr = &l->ev;
	if (getsockname(l->fd, (struct sockaddr *)&l->ss, &l->len) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, l->fd, &e) < 0) {
		int err = errno;
		close(l->fd);
		errno = err;
		return -1;
	}
	s->nlisteners++;
	return 0;
}

struct scramble_service *scramble_service_load(const char *path, const char *name, char *err,
					       size_t errlen)
{
	struct config_errors errs = { 0 };
	struct scramble_service *s;
	struct service *sc;
	struct config *c;
	char text[96];

	if (path == NULL)
		path = SCRAMBLE_DEFAULT_CONF;
	if (name == NULL) {
		api_err(err, errlen, "%s: no service name", path);
		errno = EINVAL;
		return NULL;
	}
	c = config_load(path, &errs);
	if (c == NULL) {
		api_err_conf(err, errlen, &errs);
		errno = access(path, F_OK) != 0 ? ENOENT : EINVAL;
		return NULL;
	}
	sc = config_find_service(c, name);
	if (sc == NULL) {
		api_err(err, errlen, "%s: no service \"%s\"", path, name);
		config_free(c);
		errno = ENOENT;
		return NULL;
	}
	if (config_load_service(c, sc, &errs) < 0 || (sc->auth && auth_init() < 0)) {
		if (errs.n == 0)
			config_errors_add(&errs, "%s:%d: libsodium cannot be initialised", path, sc->line);
		api_err_conf(err, errlen, &errs);
		config_free(c);
		errno = EINVAL;
		return NULL;
	}
	config_errors_free(&errs);
	s = service_alloc();
	if (s == NULL) {
		config_free(c);
		return NULL;
	}
	s->conf = *sc;
	s->file = c;
	s->conf.allow = NULL;
	s->conf.nallow = 0;
	if (sc->nallow > 0 && allow_add(s, sc->allow, sc->nallow) < 0) {
		scramble_service_free(s);
		return NULL;
	}
	for (size_t i = 0; i < sc->nlisten; i++) {
		if (add_listener(s, (struct sockaddr *)&sc->listen[i].ss, sc->listen[i].len) < 0) {
			int e = errno;
			struct ipaddr a;
			uint16_t port = 0;
			if (addr_from_sockaddr((struct sockaddr *)&sc->listen[i].ss, sc->listen[i].len,
					       &a, &port) == 0)
				addr_str(&a, text, sizeof text);
			else
				snprintf(text, sizeof text, "?");
			api_err(err, errlen, "%s:%d: service \"%s\": cannot listen on %s port %u: %s",
				path, sc->line, name, text, port, strerror(e));
			scramble_service_free(s);
			errno = e;
			return NULL;
		}
	}
	return s;
}

int scramble_service_listen(struct scramble_service *s, const struct sockaddr *sa, socklen_t len)
{
	if (s == NULL || sa == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (len < sizeof(sa_family_t) || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (len < (sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6)) ||
	    len > sizeof(struct sockaddr_storage)) {
		errno = EINVAL;
		return -1;
	}
	return add_listener(s, sa, len);
}

int scramble_service_address(const struct scramble_service *s, unsigned i, struct sockaddr *sa,
			     socklen_t *len)
{
	if (s == NULL || sa == NULL || len == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (i >= s->nlisteners) {
		errno = ENOENT;
		return -1;
	}
	const struct rdv_listener *l = &s->listeners[i];
	memcpy(sa, &l->ss, *len < l->len ? *len : l->len);
	*len = l->len;
	return 0;
}

/* ---- settings ---- */

int scramble_service_set_offsets(struct scramble_service *s, unsigned offsets)
{
	if (s == NULL || (offsets & ~(SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET))) {
		errno = EINVAL;
		return -1;
	}
	s->conf.offsets = offsets;
	return 0;
}

int scramble_service_set_timeout(struct scramble_service *s, unsigned connect_timeout)
{
	if (s == NULL || connect_timeout == 0 || connect_timeout > 86400) {
		errno = EINVAL;
		return -1;
	}
	s->conf.connect_timeout = connect_timeout;
	return 0;
}

int scramble_service_set_key(struct scramble_service *s, const uint8_t key[SCRAMBLE_KEY_BYTES])
{
	if (s == NULL || key == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (auth_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	memcpy(s->conf.key, key, SCRAMBLE_KEY_BYTES);
	s->conf.key_loaded = true;
	s->conf.auth = true;
	return 0;
}

/* The allow list is always the service's own (a loaded one is copied):
 * scramble_service_allow may add to either. */
static int allow_add(struct scramble_service *s, const struct cidr *c, size_t n)
{
	struct cidr *list = realloc(s->allow, (s->nallow + n) * sizeof *list);

	if (list == NULL)
		return -1;
	memcpy(list + s->nallow, c, n * sizeof *c);
	s->allow = list;
	s->nallow += n;
	s->conf.allow = s->allow;
	s->conf.nallow = s->nallow;
	return 0;
}

int scramble_service_allow(struct scramble_service *s, const char *cidr)
{
	struct cidr c;

	if (s == NULL || cidr == NULL || cidr_parse(cidr, &c) < 0) {
		errno = EINVAL;
		return -1;
	}
	return allow_add(s, &c, 1);
}

int scramble_service_set_limits(struct scramble_service *s, unsigned max_pending,
				unsigned per_source, unsigned count, unsigned window, unsigned deny)
{
	if (s == NULL || max_pending > 100000 || per_source > 100000 ||
	    (count > 0 && (window == 0 || window > 86400)) || deny > 86400) {
		errno = EINVAL;
		return -1;
	}
	s->conf.max_pending = max_pending;
	s->conf.per_source = per_source;
	s->conf.rate_count = count;
	s->conf.rate_window = count ? window : 0;
	s->conf.deny_time = deny;
	return 0;
}

void scramble_service_set_log(struct scramble_service *s, scramble_log_fn fn, void *arg)
{
	if (s == NULL)
		return;
	s->log = fn;
	s->log_arg = arg;
}

int scramble_service_fd(const struct scramble_service *s)
{
	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	return s->epfd;
}

unsigned scramble_service_pending(const struct scramble_service *s)
{
	return s ? s->npend : 0;
}

int scramble_service_timeout(const struct scramble_service *s)
{
	uint64_t next = 0, now;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (s->ready)
		return 0;
	for (const struct pend *p = s->pends; p; p = p->next)
		if (!next || p->deadline < next)
			next = p->deadline;
	if (!next)
		return -1;
	now = now_ms();
	if (next <= now)
		return 0;
	return next - now > 86400000u ? 86400000 : (int)(next - now);
}

/* ---- rendezvous under way ---- */

static int ep_add(struct scramble_service *s, int fd, struct evref *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = ev };
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e);
}

static void pend_free(struct scramble_service *s, struct pend *p)
{
	if (p->fd >= 0) {
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	server_offer_forget(&p->offer, &p->tag);
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pends = p->next;
	if (p->next)
		p->next->prev = p->prev;
	s->npend--;
	free(p);
}

static void refuse(struct scramble_service *s, struct pend *p, const char *reason, int err)
{
	if (err)
		slog(s, "refused service=%s client=%s reason=%s error=\"%s\"", s->conf.name,
		     p->client_str, reason, strerror(err));
	else
		slog(s, "refused service=%s client=%s reason=%s", s->conf.name, p->client_str, reason);
	pend_free(s, p);
}

/* Choose the offer, listen pinned on its valid port, send the line. */
static void pend_start(struct scramble_service *s, struct pend *p)
{
	char line[AUTH_LINE_MAX];
	bool pinned;
	int vfd, n;

	memset(s->busy, 0, sizeof s->busy);
	if (ports_scan_busy(NULL, s->busy) < 0) {
		refuse(s, p, "no-free-port", errno);
		return;
	}
	for (const struct pend *o = s->pends; o; o = o->next)
		if (o->offer.port)
			port_mark(s->busy, o->offer.port);
	if (server_offer(&s->conf, &p->client, s->busy, &p->offer) < 0) {
		refuse(s, p, "no-free-port", 0);
		return;
	}
	vfd = pin_listen(&p->local, p->local_len, p->offer.port, &p->client, &pinned);
	if (vfd < 0) {
		refuse(s, p, "start-failed", errno);
		return;
	}
	n = server_offer_line(&p->offer, line, sizeof line);
	if (n < 0 || send(p->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		close(vfd);
		slog(s, "abandoned service=%s client=%s", s->conf.name, p->client_str);
		pend_free(s, p);
		return;
	}
	(void)shutdown(p->fd, SHUT_WR);
	close(p->fd);
	p->fd = vfd;
	p->ev = (struct evref){ EV_VALID, p };
	if (ep_add(s, vfd, &p->ev) < 0) {
		refuse(s, p, "start-failed", errno);
		return;
	}
	p->state = P_WAIT;
	p->deadline = now_ms() + (uint64_t)s->conf.connect_timeout * 1000;
	slog(s, "rendezvous service=%s client=%s decoy=%u%s", s->conf.name, p->client_str,
	     p->offer.decoy, pinned ? "" : " pinned=no");
}

/* Admitted: hold until the hour has turned, or start now. */
static void pend_open(struct scramble_service *s, int fd, const struct ipaddr *client)
{
	struct pend *p = calloc(1, sizeof *p);
	unsigned wait;

	if (p == NULL) {
		close(fd);
		return;
	}
	p->fd = fd;
	p->client = *client;
	addr_str(client, p->client_str, sizeof p->client_str);
	p->local_len = sizeof p->local;
	p->next = s->pends;
	if (s->pends)
		s->pends->prev = p;
	s->pends = p;
	s->npend++;
	if (getsockname(fd, (struct sockaddr *)&p->local, &p->local_len) < 0) {
		refuse(s, p, "start-failed", errno);
		return;
	}
	wait = map_guard_wait(time(NULL), s->conf.guard);
	if (wait > 0) {
		p->state = P_HOLD;
		p->deadline = now_ms() + (uint64_t)wait * 1000 + 20;
		slog(s, "hold service=%s client=%s wait=%us", s->conf.name, p->client_str, wait);
		return;
	}
	pend_start(s, p);
}

static unsigned pending_from(const struct scramble_service *s, const struct ipaddr *a)
{
	unsigned n = 0;
	for (const struct pend *p = s->pends; p; p = p->next)
		n += addr_equal(&p->client, a);
	return n;
}

static void on_rendezvous(struct scramble_service *s, struct rdv_listener *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		struct ipaddr a;
		uint16_t port;
		char as[64];
		const char *why;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* out of descriptors: drop one, or the caller's loop spins */
			if ((errno == EMFILE || errno == ENFILE) && server_drop_one(l->fd, &s->reserve) == 0)
				slog(s, "refused service=%s client=? reason=out-of-descriptors",
				     s->conf.name);
			return;
		}
		if (addr_from_sockaddr((struct sockaddr *)&ss, len, &a, &port) < 0) {
			close(fd);
			continue;
		}
		why = server_admit(&s->conf, &s->rate, s->npend,
				   s->conf.per_source ? pending_from(s, &a) : 0, &a, now_ms());
		if (why) {
			slog(s, "refused service=%s client=%s reason=%s", s->conf.name,
			     addr_str(&a, as, sizeof as), why);
			close(fd);
			continue;
		}
		pend_open(s, fd, &a);
	}
}

static void make_ready(struct scramble_service *s, struct pend *p, int conn)
{
	struct ready *r = malloc(sizeof *r);

	if (r == NULL) {
		close(conn);
		pend_free(s, p);
		return;
	}
	r->fd = conn;
	r->next = NULL;
	*s->ready_tail = r;
	s->ready_tail = &r->next;
	slog(s, "arrived service=%s client=%s", s->conf.name, p->client_str);
	pend_free(s, p);
}

static void on_valid(struct scramble_service *s, struct pend *p)
{
	for (int i = 0; i < 16; i++) {
		char as[64] = "?";
		int c = server_accept_client(p->fd, &p->client, SOCK_NONBLOCK | SOCK_CLOEXEC, as,
					     sizeof as);
		if (c == -1 && (errno == EMFILE || errno == ENFILE)) {
			refuse(s, p, "out-of-descriptors", 0);   /* else the listener spins */
			return;
		}
		if (c == -1)
			return;
		if (c == -2) {
			slog(s, "intruder service=%s client=%s intruder=%s", s->conf.name,
			     p->client_str, as);
			continue;
		}
		/* exactly one connection: the listener goes at once */
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
		p->fd = -1;
		if (!p->offer.auth) {
			make_ready(s, p, c);
			return;
		}
		p->fd = c;
		p->state = P_AUTH;
		p->ev = (struct evref){ EV_AUTH, p };
		p->deadline = now_ms() + AUTH_GATE_MS;
		if (ep_add(s, c, &p->ev) < 0)
			pend_free(s, p);
		return;
	}
}

static void auth_failed(struct scramble_service *s, struct pend *p, const char *reason)
{
	slog(s, "auth failed service=%s client=%s reason=%s bytes=%zu", s->conf.name,
	     p->client_str, reason, p->tag.got);
	pend_free(s, p);
}

static void on_auth(struct scramble_service *s, struct pend *p)
{
	const char *reason = "error";
	int c;

	switch (server_read_tag(p->fd, &p->tag, &reason)) {
	case 0:
		return;
	case -1:
		auth_failed(s, p, reason);
		return;
	}
	if (server_check_tag(&s->conf, &p->offer, &p->client, &p->tag) != 0) {
		auth_failed(s, p, "mismatch");
		return;
	}
	slog(s, "auth ok service=%s client=%s", s->conf.name, p->client_str);
	c = p->fd;
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c, NULL);
	p->fd = -1;
	make_ready(s, p, c);
}

static void on_deadlines(struct scramble_service *s)
{
	uint64_t now = now_ms();
	struct pend *p = s->pends, *next;

	for (; p; p = next) {
		next = p->next;
		if (p->deadline > now)
			continue;
		switch (p->state) {
		case P_HOLD:
			pend_start(s, p);   /* may free p */
			break;
		case P_WAIT:
			slog(s, "timeout service=%s client=%s", s->conf.name, p->client_str);
			pend_free(s, p);
			break;
		case P_AUTH:
			auth_failed(s, p, "timeout");
			break;
		}
	}
}

/* One batch of events; how many there were. */
static int on_events(struct scramble_service *s)
{
	struct epoll_event evs[32];
	int n = epoll_wait(s->epfd, evs, 32, 0);

	for (int i = 0; i < n; i++) {
		struct evref *ev = evs[i].data.ptr;
		if (ev->kind == EV_RDV)
			on_rendezvous(s, ev->owner);
	}
	/* a pend may be freed by an earlier event of the batch: find each
	 * again by its evref before use */
	for (int i = 0; i < n; i++) {
		struct evref *ev = evs[i].data.ptr;
		if (ev->kind == EV_RDV)
			continue;
		for (struct pend *p = s->pends; p; p = p->next) {
			if (&p->ev != ev)
				continue;
			if (ev->kind == EV_VALID && p->state == P_WAIT)
				on_valid(s, p);
			else if (ev->kind == EV_AUTH && p->state == P_AUTH)
				on_auth(s, p);
			break;
		}
	}
	return n < 0 ? 0 : n;
}

/* The caller's flags on a ready connection (ours are NONBLOCK|CLOEXEC). */
static int set_flags(int fd, int flags)
{
	if (!(flags & SOCK_NONBLOCK)) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return -1;
	}
	if (!(flags & SOCK_CLOEXEC) && fcntl(fd, F_SETFD, 0) < 0)
		return -1;
	return 0;
}

int scramble_service_accept(struct scramble_service *s, struct sockaddr *peer,
			    socklen_t *peerlen, int flags)
{
	if (s == NULL || (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) ||
	    (peer != NULL && peerlen == NULL)) {
		errno = EINVAL;
		return -1;
	}
	for (int round = 0; s->ready == NULL && round < 64; round++) {
		int n = on_events(s);
		on_deadlines(s);
		if (n == 0)
			break;
	}
	while (s->ready != NULL) {
		struct ready *r = s->ready;
		int fd = r->fd;
		s->ready = r->next;
		if (s->ready == NULL)
			s->ready_tail = &s->ready;
		free(r);
		if (set_flags(fd, flags) < 0 ||
		    (peer != NULL && getpeername(fd, peer, peerlen) < 0)) {
			close(fd);   /* gone already (ENOTCONN): the next one */
			continue;
		}
		return fd;
	}
	errno = EAGAIN;
	return -1;
}

void scramble_service_free(struct scramble_service *s)
{
	if (s == NULL)
		return;
	while (s->pends)
		pend_free(s, s->pends);
	while (s->ready) {
		struct ready *r = s->ready;
		s->ready = r->next;
		close(r->fd);
		free(r);
	}
	for (unsigned i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].fd);
	close(s->epfd);
	if (s->reserve >= 0)
		close(s->reserve);
	rate_free(&s->rate);
	sodium_memzero(s->conf.key, sizeof s->conf.key);
	if (s->file) {
		for (size_t i = 0; i < s->file->nservices; i++)
			sodium_memzero(s->file->services[i].key, sizeof s->file->services[i].key);
		config_free(s->file);
	}
	table_free(&s->table.table);
	free(s->table.name);
	free(s->allow);
	free(s);
}
