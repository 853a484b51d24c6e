/* Sessions: decoy choice, launch, the state machine, kill and reaping.
 *
 *   HOLDING --guard over--> (decoy chosen, server forked) LAUNCHING
 *   LAUNCHING --exec ok--> LISTENING --LISTEN seen--> (decoy sent) WAITING
 *   WAITING --client seen--> ARRIVED --client gone--> ENDING
 *   any --timeout/intruder/login failed/exit--> ENDING --reaped--> freed
 *
 * The watch module reports what it sees in /proc/net/tcp; this module owns
 * every transition and every log line about a session. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "authgate.h"
#include "authline.h"
#include "escape.h"
#include "launch.h"
#include "log.h"
#include "login.h"
#include "mapping.h"
#include "pin.h"
#include "ports.h"
#include "relay.h"
#include "server.h"
#include "sessions.h"

#define SRV_LINE_MAX 512   /* longest server output line logged as one */

const char *session_state_name(enum sstate st)
{
	switch (st) {
	case S_HOLDING: return "holding";
	case S_LAUNCHING: return "launching";
	case S_LISTENING: return "starting";
	case S_WAITING: return "waiting";
	case S_ARRIVED: return "active";
	case S_ENDING: return "ending";
	case S_AUTH: return "auth";
	}
	return "?";
}

void gen_unref(struct gen *g)
{
	if (g && --g->refs == 0 && !g->current) {
		config_free(g->conf);
		free(g);
	}
}

static void uncount_pending(struct session *s)
{
	if (s->counted_pending) {
		s->counted_pending = false;
		s->svc->pending--;
	}
}

unsigned sessions_pending(const struct daemon *d, const struct svc *svc, const struct ipaddr *a)
{
	unsigned n = 0;
	for (const struct session *s = d->sessions; s; s = s->next)
		if (s->svc == svc && s->counted_pending && (!a || addr_equal(&s->client, a)))
			n++;
	return n;
}

static void close_valid(struct daemon *d, struct session *s)
{
	if (s->vfd >= 0) {
		ep_del(d, s->vfd);
		close_fd(&s->vfd);
	}
}

/* Log what is left in the server's output pipe, then close it. */
static void drain_output(struct daemon *d, struct session *s);

static void session_free(struct daemon *d, struct session *s)
{
	/* a server that left its process group may still run: look for it
	 * while it could yet be re-parented to us (escape.c) */
	if (s->pid > 0)
		escape_arm(now_ms(), ((uint64_t)s->conf->kill_grace + 3) * 1000);
	if (s->outfd >= 0)
		drain_output(d, s);
	if (s->pid > 0 && !s->reaped)
		HASH_DELETE(hh_pid, d->by_pid, s);
	if (s->port)
		HASH_DELETE(hh_port, d->by_port, s);
	uncount_pending(s);
	close_fd(&s->rdv_fd);
	close_fd(&s->errfd);
	close_fd(&s->outfd);
	close_valid(d, s);
	gate_free(d, s);
	login_free(s->login);
	if (s->prev)
		s->prev->next = s->next;
	else
		d->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	d->nsessions--;
	gen_unref(s->gen);
	s->gen = NULL;
	/* events for it may still be in the current epoll batch */
	s->dead = true;
	s->next = d->graveyard;
	d->graveyard = s;
}

void sessions_bury(struct daemon *d)
{
	while (d->graveyard) {
		struct session *s = d->graveyard;
		d->graveyard = s->next;
		free(s);
	}
}

/* Refuse a session before or instead of its decoy: one log line, close. */
static void refuse(struct session *s, const char *reason, const char *detail)
{
	if (detail)
		log_info("refused service=%s client=%s reason=%s error=\"%s\"", s->svc->name,
			 s->client_str, reason, detail);
	else
		log_info("refused service=%s client=%s reason=%s", s->svc->name, s->client_str, reason);
	close_fd(&s->rdv_fd);
}

/* Choose the decoy and reserve its valid port (server.c).  0/-1. */
static int choose_port(struct daemon *d, struct session *s)
{
	static uint8_t busy[PORT_BITMAP_BYTES];
	memset(busy, 0, sizeof busy);
	if (ports_scan_busy(d->procfs_prefix, busy) < 0) {
		log_err("cannot read /proc/net/tcp: %s", strerror(errno));
		return -1;
	}
	for (struct session *o = d->sessions; o; o = o->next)
		if (o->port)
			port_mark(busy, o->port);
	if (s->conf->auth && gate_new(s) < 0)
		return -1;
	if (server_offer(s->conf, &s->client, busy, &s->offer) < 0) {
		if (s->conf->auth)
			log_err("service %s: no free port, no key or libsodium unusable", s->svc->name);
		return -1;
	}
	s->decoy = s->offer.decoy;
	s->port = s->offer.port;
	HASH_ADD(hh_port, d->by_port, port, sizeof s->port, s);
	log_debug("debug service=%s client=%s decoy=%u valid=%u%s", s->svc->name, s->client_str,
		  s->decoy, s->port, s->offer.auth ? " auth=v2" : "");
	return 0;
}

static int start_login(struct session *s)
{
	char err[256];
	if (!s->conf->login_log || !s->conf->login_match)
		return 0;
	s->login = login_start(s->conf->login_log, s->conf->login_match, s->client_str, err, sizeof err);
	if (!s->login) {
		log_err("login watch service=%s: %s", s->svc->name, err);
		return -1;
	}
	return 0;
}

/* inetd/forward: listen on the valid port ourselves, pinned to the
 * client, and send the decoy at once.  Frees s on failure. */
static void start_pinned(struct daemon *d, struct session *s)
{
	if (s->local_len == 0) {
		refuse(s, "start-failed", "local address of the rendezvous unknown");
		session_free(d, s);
		return;
	}
	s->vfd = pin_listen(&s->local, s->local_len, s->port, &s->client, &s->pinned);
	if (s->vfd < 0) {
		refuse(s, "start-failed", strerror(errno));
		session_free(d, s);
		return;
	}
	if (!s->pinned)
		log_warn("pin filter unavailable service=%s: other addresses are closed after accept",
			 s->svc->name);
	if (ep_add(d, s->vfd, EPOLLIN, &s->valid_ev) < 0) {
		refuse(s, "start-failed", strerror(errno));
		session_free(d, s);
		return;
	}
	session_ready(d, s);
}

/* inetd/forward: the client is here on conn; launch the command with it
 * as stdin/stdout, or the relay to the backend. */
static void launch_on_conn(struct daemon *d, struct session *s, int conn)
{
	char err[256];
	struct launch_req r;
	if (s->conf->mode == MODE_INETD) {
		if (launch_prepare(s->conf, s->port, s->client_str, &r, err, sizeof err) < 0) {
			log_info("start failed service=%s client=%s error=\"%s\"", s->svc->name, s->client_str, err);
			session_free(d, s);
			return;
		}
	} else {
		memset(&r, 0, sizeof r);
		if (launch_resolve_ids(s->conf, &r, err, sizeof err) < 0) {
			log_info("start failed service=%s client=%s error=\"%s\"", s->svc->name, s->client_str, err);
			session_free(d, s);
			return;
		}
		r.fn = relay_main;
		r.arg = (void *)&s->conf->backend;
	}
	r.stdio_fd = conn;
	if (start_login(s) < 0) {
		launch_req_free(&r);
		session_free(d, s);
		return;
	}
	if (s->login)   /* the client is here already: the clock runs from now */
		s->login_deadline = now_ms() + (uint64_t)s->conf->login_timeout * 1000;
	s->pid = launch_spawn(&r, &s->errfd, &s->outfd);
	int e = errno;
	launch_req_free(&r);
	if (s->pid < 0) {
		s->pid = 0;
		log_info("start failed service=%s client=%s error=\"%s\"", s->svc->name, s->client_str, strerror(e));
		session_free(d, s);
		return;
	}
	HASH_ADD(hh_pid, d->by_pid, pid, sizeof s->pid, s);
	if (ep_add(d, s->errfd, EPOLLIN, &s->err_ev) < 0 || ep_add(d, s->outfd, EPOLLIN, &s->out_ev) < 0) {
		log_err("epoll: %s", strerror(errno));
		session_kill(d, s);
		return;
	}
	log_info("launch service=%s client=%s pid=%d", s->svc->name, s->client_str, (int)s->pid);
}

void session_on_valid(struct daemon *d, struct session *s)
{
	for (int i = 0; i < 16 && s->vfd >= 0; i++) {
		char as[64] = "?";
		int c = server_accept_client(s->vfd, &s->client, SOCK_CLOEXEC, as, sizeof as);
		if (c == -1 && (errno == EMFILE || errno == ENFILE)) {
			/* the level-triggered listener would spin: give it up */
			log_err("service=%s: out of file descriptors, session of %s ended", s->svc->name,
				s->client_str);
			session_kill(d, s);
			return;
		}
		if (c == -1)
			return;
		if (c == -2) {
			log_info("intruder service=%s client=%s intruder=%s pid=0", s->svc->name,
				 s->client_str, as);
			continue;
		}
		/* exactly one connection: the listener goes at once */
		close_valid(d, s);
		if (s->gate) {       /* auth = yes: nothing before the authenticator */
			gate_start(d, s, c);
			return;
		}
		session_arrived(d, s);
		launch_on_conn(d, s, c);
		close(c);
		return;
	}
}

void session_launch_conn(struct daemon *d, struct session *s, int conn)
{
	session_arrived(d, s);
	launch_on_conn(d, s, conn);
	close(conn);
}

/* Choose a port and launch the server.  Frees s on failure. */
static void session_start(struct daemon *d, struct session *s)
{
	char err[256];
	struct launch_req r;
	if (choose_port(d, s) < 0) {
		refuse(s, "no-free-port", NULL);
		goto free;
	}
	if (s->conf->mode != MODE_EXEC) {
		start_pinned(d, s);
		return;
	}
	if (launch_prepare(s->conf, s->port, s->client_str, &r, err, sizeof err) < 0) {
		refuse(s, "start-failed", err);
		goto free;
	}
	if (start_login(s) < 0) {
		launch_req_free(&r);
		refuse(s, "start-failed", "login watch");
		goto free;
	}
	s->pid = launch_spawn(&r, &s->errfd, &s->outfd);
	int e = errno;
	launch_req_free(&r);
	if (s->pid < 0) {
		s->pid = 0;
		refuse(s, "start-failed", strerror(e));
		goto free;
	}
	HASH_ADD(hh_pid, d->by_pid, pid, sizeof s->pid, s);
	s->state = S_LAUNCHING;
	s->deadline = now_ms() + (uint64_t)s->conf->start_timeout * 1000;
	if (s->errfd < 0 || ep_add(d, s->errfd, EPOLLIN, &s->err_ev) < 0 ||
	    ep_add(d, s->outfd, EPOLLIN, &s->out_ev) < 0) {
		refuse(s, "start-failed", "epoll");
		session_kill(d, s);
		return;
	}
	log_info("launch service=%s client=%s pid=%d", s->svc->name, s->client_str, (int)s->pid);
	return;
free:
	session_free(d, s);
}

/* Start now, or hold the connection until the hour has turned. */
static void session_begin(struct daemon *d, struct session *s)
{
	unsigned wait = map_guard_wait(time(NULL), s->conf->guard);
	if (wait > 0) {
		s->state = S_HOLDING;
		s->deadline = now_ms() + (uint64_t)wait * 1000 + 20;
		log_info("hold service=%s client=%s wait=%us", s->svc->name, s->client_str, wait);
		return;
	}
	session_start(d, s);
}

void session_open(struct daemon *d, struct svc *svc, int rdv_fd, const struct ipaddr *client)
{
	struct session *s = calloc(1, sizeof *s);
	if (!s) {
		log_err("out of memory: rendezvous closed");
		close(rdv_fd);
		return;
	}
	s->svc = svc;
	s->gen = d->gen;
	s->gen->refs++;
	s->conf = svc->conf;
	s->client = *client;
	addr_str(client, s->client_str, sizeof s->client_str);
	s->rdv_fd = rdv_fd;
	s->errfd = s->outfd = s->vfd = -1;
	s->valid_ev = (struct evsrc){ EV_VALID, s };
	s->local_len = sizeof s->local;
	uint16_t lport;
	if (getsockname(rdv_fd, (struct sockaddr *)&s->local, &s->local_len) < 0)
		s->local_len = 0;   /* inetd/forward then refuse; the watch does without */
	else
		s->has_local = addr_from_sockaddr((struct sockaddr *)&s->local, s->local_len,
						  &s->local_ip, &lport) == 0;
	s->err_ev = (struct evsrc){ EV_ERRPIPE, s };
	s->out_ev = (struct evsrc){ EV_OUTPIPE, s };
	s->t_start = now_ms();
	s->counted_pending = true;
	svc->pending++;
	s->next = d->sessions;
	if (d->sessions)
		d->sessions->prev = s;
	d->sessions = s;
	d->nsessions++;
	session_begin(d, s);
}

void session_kill(struct daemon *d, struct session *s)
{
	if (s->state == S_ENDING)
		return;
	close_fd(&s->rdv_fd);
	uncount_pending(s);
	if (s->login_deadline)
		s->login_deadline = 0;
	s->state = S_ENDING;
	s->deadline = now_ms() + (uint64_t)s->conf->kill_grace * 1000;
	if (s->pid <= 0) {
		session_free(d, s);
		return;
	}
	/* the group may outlive its leader; once both are gone the pid could be
	 * reused, so a reaped leader whose group is empty ends here */
	if (kill(-s->pid, SIGTERM) < 0 && errno == ESRCH) {
		if (s->reaped) {
			session_free(d, s);
			return;
		}
		(void)kill(s->pid, SIGTERM);
	}
}

void session_ready(struct daemon *d, struct session *s)
{
	char buf[AUTH_LINE_MAX];
	int n = server_offer_line(&s->offer, buf, sizeof buf);
	ssize_t w = send(s->rdv_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w != n) {
		log_info("abandoned service=%s client=%s pid=%d reason=\"%s\"", s->svc->name,
			 s->client_str, (int)s->pid, w < 0 ? strerror(errno) : "short write");
		session_kill(d, s);
		return;
	}
	(void)shutdown(s->rdv_fd, SHUT_WR);   /* the client may be gone already: fine */
	close_fd(&s->rdv_fd);
	s->state = S_WAITING;
	s->deadline = now_ms() + (uint64_t)s->conf->connect_timeout * 1000;
	log_info("rendezvous service=%s client=%s decoy=%u pid=%d", s->svc->name, s->client_str,
		 s->decoy, (int)s->pid);
}

void session_arrived(struct daemon *d, struct session *s)
{
	(void)d;
	uncount_pending(s);
	s->state = S_ARRIVED;
	s->deadline = 0;
	log_info("arrived service=%s client=%s pid=%d", s->svc->name, s->client_str, (int)s->pid);
	if (s->login) {
		if (login_uses_stderr(s->login) ? login_matched(s->login) : login_poll(s->login))
			log_info("login ok service=%s client=%s pid=%d", s->svc->name, s->client_str,
				 (int)s->pid);
		else
			s->login_deadline = now_ms() + (uint64_t)s->conf->login_timeout * 1000;
	}
}

void session_on_errpipe(struct daemon *d, struct session *s)
{
	struct launch_fail f;
	ssize_t r = read(s->errfd, &f, sizeof f);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	ep_del(d, s->errfd);
	close_fd(&s->errfd);
	if (r == (ssize_t)sizeof f) {
		char detail[256];
		snprintf(detail, sizeof detail, "%s failed: %s", launch_stage_name(f.stage),
			 strerror(f.err));
		refuse(s, "start-failed", detail);
		/* the child is on its way to _exit(127): let it say so itself */
		uncount_pending(s);
		s->state = S_ENDING;
		s->deadline = now_ms() + (uint64_t)s->conf->kill_grace * 1000;
		return;
	}
	if (s->state == S_LAUNCHING)
		s->state = S_LISTENING;
}

/* Log one line of server output; feed it to a stderr login watch. */
static void output_line(struct session *s, char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;   /* sshd -i -e ends its lines with CR LF */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	log_info("server service=%s pid=%d: %.*s", s->svc->name, (int)s->pid, (int)len, line);
	if (s->login && login_uses_stderr(s->login) && !login_matched(s->login) &&
	    login_feed(s->login, line, len) && s->state == S_ARRIVED) {
		s->login_deadline = 0;
		log_info("login ok service=%s client=%s pid=%d", s->svc->name, s->client_str, (int)s->pid);
	}
}

/* Read what the pipe holds (bounded).  true at EOF or error. */
static bool read_output(struct session *s, size_t budget)
{
	while (budget > 0) {
		ssize_t r = read(s->outfd, s->outbuf + s->outlen, sizeof s->outbuf - s->outlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0) {
			if (s->outlen)
				output_line(s, s->outbuf, s->outlen);
			s->outlen = 0;
			return true;
		}
		budget -= (size_t)r < budget ? (size_t)r : budget;
		s->outlen += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < s->outlen; i++) {
			if (s->outbuf[i] == '\n') {
				output_line(s, s->outbuf + start, i - start);
				start = i + 1;
			} else if (i - start + 1 >= SRV_LINE_MAX) {
				output_line(s, s->outbuf + start, i - start + 1);
				start = i + 1;
			}
		}
		memmove(s->outbuf, s->outbuf + start, s->outlen - start);
		s->outlen -= start;
	}
	return false;
}

static void drain_output(struct daemon *d, struct session *s)
{
	(void)read_output(s, 1 << 16);
	ep_del(d, s->outfd);
	close_fd(&s->outfd);
}

void session_on_output(struct daemon *d, struct session *s)
{
	if (read_output(s, 1 << 16)) {
		ep_del(d, s->outfd);
		close_fd(&s->outfd);
	}
}

static void describe_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status 0x%x", (unsigned)st);
}

/* The server (leader) exited. */
static void session_exited(struct daemon *d, struct session *s, int st)
{
	char desc[32];
	describe_status(st, desc, sizeof desc);
	HASH_DELETE(hh_pid, d->by_pid, s);
	s->reaped = true;
	s->wstatus = st;
	if (s->errfd >= 0)
		session_on_errpipe(d, s);        /* an exec failure explains the exit */
	if (s->outfd >= 0)
		(void)read_output(s, 1 << 16);   /* its last words before ours */
	log_info("server exit service=%s pid=%d status=%s", s->svc->name, (int)s->pid, desc);
	if (s->state == S_LAUNCHING || s->state == S_LISTENING) {
		char detail[64];
		snprintf(detail, sizeof detail, "server ended before listening: %s", desc);
		refuse(s, "start-failed", detail);
	} else if (s->state == S_ARRIVED) {
		log_info("session end service=%s client=%s pid=%d", s->svc->name, s->client_str,
			 (int)s->pid);
	}
	if (s->state != S_ENDING) {
		session_kill(d, s);   /* the rest of its group, if any */
		return;
	}
	/* already ending: is anything of the group left? */
	if (kill(-s->pid, 0) < 0 && errno == ESRCH)
		session_free(d, s);
}

void sessions_reap(struct daemon *d)
{
	for (int i = 0; i < 100000; i++) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		struct session *s = NULL;
		HASH_FIND(hh_pid, d->by_pid, &pid, sizeof pid, s);
		if (s)
			session_exited(d, s, st);
		else
			log_debug("debug reaped pid=%d (not a session leader)", (int)pid);
	}
}

/* A session's deadline has passed. */
static void session_deadline(struct daemon *d, struct session *s)
{
	char detail[64];
	switch (s->state) {
	case S_HOLDING:
		s->deadline = 0;
		session_begin(d, s);
		break;
	case S_LAUNCHING:
	case S_LISTENING:
		snprintf(detail, sizeof detail, "not listening after %us", s->conf->start_timeout);
		refuse(s, "start-failed", detail);
		session_kill(d, s);
		break;
	case S_WAITING:
		log_info("timeout service=%s client=%s pid=%d", s->svc->name, s->client_str, (int)s->pid);
		session_kill(d, s);
		break;
	case S_ARRIVED:
		s->deadline = 0;
		break;
	case S_AUTH:
		gate_timeout(d, s);
		break;
	case S_ENDING:
		(void)kill(-s->pid, SIGKILL);
		if (!s->reaped) {
			(void)kill(s->pid, SIGKILL);
			s->deadline = now_ms() + 1000;   /* look again; the reap frees it */
		} else {
			session_free(d, s);
		}
		break;
	}
}

void sessions_timers(struct daemon *d, uint64_t now)
{
	struct session *s = d->sessions, *next;
	for (; s; s = next) {
		next = s->next;
		if (s->state == S_ARRIVED && s->login_deadline && s->login_deadline <= now) {
			if (s->login && !login_uses_stderr(s->login) && login_poll(s->login)) {
				s->login_deadline = 0;
				log_info("login ok service=%s client=%s pid=%d", s->svc->name, s->client_str,
					 (int)s->pid);
				continue;
			}
			log_info("login failed service=%s client=%s pid=%d", s->svc->name, s->client_str,
				 (int)s->pid);
			session_kill(d, s);
			continue;
		}
		if (s->deadline && s->deadline <= now)
			session_deadline(d, s);
	}
}

uint64_t sessions_next_deadline(const struct daemon *d)
{
	uint64_t m = 0;
	for (const struct session *s = d->sessions; s; s = s->next) {
		if (s->deadline && (!m || s->deadline < m))
			m = s->deadline;
		if (s->login_deadline && (!m || s->login_deadline < m))
			m = s->login_deadline;
	}
	return m;
}

void sessions_kill_all(struct daemon *d)
{
	struct session *s = d->sessions, *next;
	for (; s; s = next) {
		next = s->next;
		if (s->state == S_HOLDING || s->state == S_LAUNCHING || s->state == S_LISTENING)
			refuse(s, "shutdown", NULL);
		session_kill(d, s);
	}
}
