/* scrambled: the rendezvous daemon (SPEC section 5).
 * main parses arguments, loads the configuration, sets up the loop and
 * runs it; the modules do the work. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "confcheck.h"
#include "escape.h"
#include "log.h"
#include "notify.h"
#include "rendezvous.h"
#include "authgate.h"
#include "sessions.h"
#include "status.h"
#include "watch.h"

#define SHUTDOWN_MAX_MS 30000   /* hard cap on ending servers at exit */

static void usage(void)
{
	fprintf(stderr, "usage: scrambled [-c FILE] [-s NAME] [-S SOCKPATH] [-f] [-t] [-d]\n"
			"  -c FILE   configuration (default " SCRAMBLE_DEFAULT_CONF ")\n"
			"  -s NAME   serve only the service NAME\n"
			"  -S PATH   status socket (default " SCRAMBLED_STATUS_PATH ", \"\" for none)\n"
			"  -f        foreground, log to stderr\n"
			"  -t        check the configuration and tables, then exit\n"
			"  -d        debug log level (logs decoy/valid pairs: keep such logs secret)\n");
}

static void print_errors(const struct config_errors *e, bool to_log)
{
	for (size_t i = 0; i < e->n; i++) {
		if (to_log)
			log_err("%s", e->msgs[i]);
		else
			fprintf(stderr, "%s\n", e->msgs[i]);
	}
}

/* 0, 1 and 2 must be open so that pipes and sockets never land there. */
static int ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd)
			return -1;
	}
	return 0;
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	d->sig_ev = (struct evsrc){ EV_SIGNAL, NULL };
	return ep_add(d, d->sigfd, EPOLLIN, &d->sig_ev);
}

static void reload(struct daemon *d)
{
	struct config_errors errs = { 0 };
	log_info("reload config=%s", d->conf_path);
	struct gen *g = gen_load(d->conf_path, d->only_service, &errs);
	if (!g) {
		print_errors(&errs, true);
		log_err("reload failed: keeping the old configuration");
	} else if (svcs_apply(d, g) < 0) {
		log_err("reload failed: cannot open the new listeners; keeping the old configuration");
		config_free(g->conf);
		free(g);
	} else {
		log_info("reload ok");
	}
	config_errors_free(&errs);
}

static void begin_shutdown(struct daemon *d, int sig)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping signal=%d sessions=%zu", sig, d->nsessions);
	if (notify_send("STOPPING=1") < 0)
		log_warn("sd_notify: %s", strerror(errno));
	svcs_close_listeners(d);
	status_close(d);
	sessions_kill_all(d);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	for (int i = 0; i < 64; i++) {
		ssize_t r = read(d->sigfd, &si, sizeof si);
		if (r != (ssize_t)sizeof si)
			return;
		switch (si.ssi_signo) {
		case SIGCHLD:
			sessions_reap(d);
			break;
		case SIGHUP:
			d->reload_pending = true;   /* after the batch: it closes listeners */
			break;
		default:
			d->stop_pending = true;
			d->stop_signal = (int)si.ssi_signo;
			break;
		}
	}
}

static void dispatch(struct daemon *d, struct evsrc *ev)
{
	switch (ev->kind) {
	case EV_SIGNAL: on_signal(d); break;
	case EV_LISTEN: rdv_on_accept(d, ev->owner); break;
	case EV_ERRPIPE:
		if (!((struct session *)ev->owner)->dead)
			session_on_errpipe(d, ev->owner);
		break;
	case EV_OUTPIPE:
		if (!((struct session *)ev->owner)->dead)
			session_on_output(d, ev->owner);
		break;
	case EV_STATUS: status_on_accept(d); break;
	case EV_VALID:
		if (!((struct session *)ev->owner)->dead)
			session_on_valid(d, ev->owner);
		break;
	case EV_AUTH:
		if (!((struct session *)ev->owner)->dead)
			gate_on_read(d, ev->owner);
		break;
	}
}

/* Milliseconds until the next deadline, -1 for none. */
static int loop_timeout(struct daemon *d, uint64_t now)
{
	uint64_t next = sessions_next_deadline(d);
	if (d->next_tick && (!next || d->next_tick < next))
		next = d->next_tick;
	uint64_t esc = escape_next();
	if (esc && (!next || esc < next))
		next = esc;
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

static int run(struct daemon *d)
{
	uint64_t stop_by = 0;
	while (!(d->stopping && d->nsessions == 0)) {
		uint64_t now = now_ms();
		if (d->stopping && !stop_by)
			stop_by = now + SHUTDOWN_MAX_MS;
		if (stop_by && now > stop_by) {
			log_err("giving up on %zu session(s) at shutdown", d->nsessions);
			return 1;
		}
		watch_schedule(d, now);
		struct epoll_event evs[32];
		int n = epoll_wait(d->epfd, evs, 32, loop_timeout(d, now));
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return 1;
		}
		/* sessions ended in this batch stay allocated (dead) until it is
		 * done; listeners are only closed after it (reload, shutdown) */
		for (int i = 0; i < n; i++)
			dispatch(d, evs[i].data.ptr);
		if (d->stop_pending && !d->stopping)
			begin_shutdown(d, d->stop_signal);
		if (d->reload_pending && !d->stopping)
			reload(d);
		d->reload_pending = false;
		now = now_ms();
		sessions_timers(d, now);
		escape_sweep(d, now);
		if (d->next_tick && d->next_tick <= now) {
			d->next_tick = 0;
			watch_tick(d);
		}
		sessions_bury(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon dd = { .epfd = -1, .sigfd = -1, .status_fd = -1,
			     .conf_path = SCRAMBLE_DEFAULT_CONF, .status_path = SCRAMBLED_STATUS_PATH };
	struct daemon *d = &dd;
	bool fg = false, test = false, debug = false;
	int opt;
	/* the tables are secrets: no core dump, no /proc/PID/mem for others */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		fprintf(stderr, "scrambled: PR_SET_DUMPABLE: %s\n", strerror(errno));
		return 1;
	}
	while ((opt = getopt(argc, argv, "c:s:S:ftdh")) != -1) {
		switch (opt) {
		case 'c': d->conf_path = optarg; break;
		case 's': d->only_service = optarg; break;
		case 'S': d->status_path = optarg; d->status_explicit = true; break;
		case 'f': fg = true; break;
		case 't': test = true; break;
		case 'd': debug = true; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("scrambled", fg || test, debug);
	struct config_errors errs = { 0 };
	struct gen *g = gen_load(d->conf_path, d->only_service, &errs);
	if (!g) {
		print_errors(&errs, false);
		if (!fg && !test)
			print_errors(&errs, true);
		config_errors_free(&errs);
		return 2;
	}
	if (test) {
		fprintf(stderr, "%s: configuration ok\n", d->conf_path);
		config_free(g->conf);
		free(g);
		return 0;
	}
	if (ensure_stdio() < 0 || (d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || setup_signals(d) < 0) {
		log_err("setup: %s", strerror(errno));
		return 1;
	}
	/* orphaned descendants of our servers are re-parented to us and reaped */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (svcs_apply(d, g) < 0) {
		config_free(g->conf);
		free(g);
		return 1;
	}
	/* the default socket is a convenience: without it (not root, another
	 * daemon) the daemon still serves; an explicit -S must work */
	if (status_open(d) < 0 && d->status_explicit)
		return 1;
	if (notify_send("READY=1") < 0)
		log_warn("sd_notify: %s", strerror(errno));
	log_info("ready services=%zu", d->gen->conf->nservices);
	int rc = run(d);
	status_close(d);
	svcs_free(d);
	if (d->gen) {
		d->gen->current = false;
		d->gen->refs++;
		gen_unref(d->gen);
	}
	log_info("stopped");
	return rc;
}
