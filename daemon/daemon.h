/* scrambled: the state shared by the daemon's modules.
 *
 * One process, one epoll loop.  Every fd registered with epoll carries a
 * pointer to a struct evsrc whose kind says which module owns the event.
 * Sessions live in two hashes (by pid and by valid port) and one list; the
 * configuration is reference-counted per generation so that a SIGHUP reload
 * can replace it while older sessions keep the settings they started with.
 * Each step of a rendezvous itself (admission, the offer of decoy, nonce
 * and valid port, the line, the pinned listener, the one client, the
 * authenticator) is common/server.c, which libscramble-api's services run
 * too; the daemon adds the event loop, launching, watching and logging.
 *
 * Decisions where SPEC is silent (also for the README / man page):
 * - max_pending and per_source count sessions that have no client yet
 *   (holding, launching, starting, waiting); an arrived session does not.
 * - rate "N/Ws": a fixed window per source address; the (N+1)th rendezvous
 *   in a window denies that address for deny_time, after which it gets a
 *   fresh window; attempts while denied are refused and do not extend it.
 *   At most 4096 addresses are tracked (the oldest is dropped).
 * - A valid port is "free" if no socket in /proc/net/tcp{,6} uses it at
 *   either end (any state), it binds on the wildcard address (v4 and v6),
 *   and no session holds it.  So every socket later seen on it is the
 *   session's.
 * - exec mode watch: arrival = any socket on the valid port whose remote is
 *   the client (TIME_WAIT too); intruder = any other non-LISTEN socket
 *   there, in any state and also after the arrival (the server is killed);
 *   a peer on this host is also judged by its own end (a socket to our
 *   rendezvous address and the valid port); end = no socket from the
 *   client left except TIME_WAIT, in two passes in a row (a read of
 *   /proc/net/tcp is not atomic: under socket churn one pass can miss a
 *   live connection).  A remote client that connects and leaves
 *   within one tick leaves no trace: its server ends at connect_timeout.
 * - The watch ticks every 20 ms while a server is starting (the client is
 *   waiting for its decoy), every poll_ms otherwise, never when idle.
 * - login_timeout runs from the arrival; lines count from the launch on.
 * - The server's environment: PATH, SCRAMBLE_SERVICE, SCRAMBLE_CLIENT,
 *   SCRAMBLE_PORT (and HOME, USER, LOGNAME with `user`), then `env`
 *   entries, which may override them.  command must start with an absolute
 *   path (no PATH search).
 * - Daemon killed outright: each launched leader has PR_SET_PDEATHSIG
 *   SIGKILL (set after the uid change, then the parent is checked); no
 *   state file.  The daemon is a child subreaper and reaps orphans.
 * - Status socket: /run/scrambled.sock by default, peers must be root or
 *   the daemon's uid; if the default one is taken by a live daemon or
 *   cannot be made, this daemon runs without one (an explicit -S must work).
 * - The hour guard holds the rendezvous connection ("hold" line) until the
 *   hour has turned; a held connection counts as pending.
 * - inetd/forward: the valid-port listener is bound to the local address the
 *   rendezvous arrived on, with the BPF pin filter attached before listen;
 *   a connection from another address (filter unavailable) is closed and
 *   logged as an intruder and the listener stays for the client.  The
 *   forward relay is a forked child (splice, 5 s backend connect timeout; a
 *   backend that is down gives the client a reset, exit status 1).
 * - Log events beyond the man page's list: launch (pid of a new server),
 *   hold, abandoned (client gone before its decoy), retired (service gone
 *   on reload), server service=S pid=P: LINE (server output), ready,
 *   stopping, stopped. */
#ifndef SCRAMBLED_DAEMON_H
#define SCRAMBLED_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>
#include "addr.h"
#include "config.h"
#include "deadline.h"
#include "ratelimit.h"
#include "server.h"

enum ev_kind { EV_SIGNAL, EV_LISTEN, EV_ERRPIPE, EV_OUTPIPE, EV_STATUS, EV_VALID, EV_AUTH };

struct evsrc {
	enum ev_kind kind;
	void *owner;
};

/* One loaded configuration; freed when it is no longer current and no
 * session refers to it. */
struct gen {
	struct config *conf;
	unsigned refs;
	bool current;
};

struct svc;

struct listener {
	struct evsrc ev;
	int fd;
	struct listen_addr cfg;     /* as configured (port 0 kept) */
	struct sockaddr_storage ss; /* the address actually bound */
	socklen_t len;
	struct svc *svc;
};

/* Per service name, across reloads. */
struct svc {
	char *name;
	const struct service *conf; /* in d->gen */
	struct listener **listeners;
	size_t nlisteners;
	struct rate_table rate;
	unsigned pending;           /* sessions not yet arrived */
	bool keep;
	struct svc *next;
};

/* LAUNCHING: forked, exec not yet confirmed (exec-error pipe open);
 * LISTENING: exec'd, waiting for the server to listen on the valid port;
 * WAITING: decoy sent, waiting for the client;  ARRIVED: client connected;
 * ENDING: SIGTERM sent to the group, SIGKILL at the deadline.  HOLDING is
 * before all of them: the hour guard holds the rendezvous connection. */
/* S_AUTH (auth = yes): the client's connection is accepted, its
 * authenticator not yet read (authgate.c). */
enum sstate { S_HOLDING, S_LAUNCHING, S_LISTENING, S_WAITING, S_ARRIVED, S_ENDING, S_AUTH };

struct login_watch;
struct auth_gate;

struct session {
	enum sstate state;
	struct svc *svc;
	struct gen *gen;
	const struct service *conf;  /* in gen */
	struct ipaddr client;
	char client_str[64];
	int rdv_fd;                  /* the rendezvous connection until the decoy is sent */
	uint16_t decoy, port;        /* port: the valid port (0 while HOLDING) */
	struct offer offer;          /* decoy, valid port, v2 nonce (server.c) */
	pid_t pid;                   /* the server, leader of its process group */
	bool reaped;
	int wstatus;
	struct evsrc err_ev, out_ev, valid_ev;
	int errfd, outfd;            /* exec-error pipe, server stdout/stderr */
	int vfd;                     /* inetd/forward: our listener on the valid port */
	bool pinned;                 /* the BPF pin filter is attached to vfd */
	struct auth_gate *gate;      /* auth = yes: nonce and authenticator (authgate.c) */
	struct sockaddr_storage local; /* where the rendezvous arrived */
	socklen_t local_len;
	struct ipaddr local_ip;      /* the same, canonical */
	bool has_local;
	char outbuf[1024];
	size_t outlen;
	uint64_t t_start;            /* monotonic ms */
	uint64_t deadline;           /* meaning depends on state; 0 = none */
	uint64_t login_deadline;     /* 0 = no login check pending */
	struct login_watch *login;
	bool login_ok;
	bool counted_pending;
	unsigned client_missed;      /* passes in a row without a live client socket */
	size_t widx;                 /* index in the current watch pass */
	bool dead;                   /* freed at the end of this loop turn */
	struct session *prev, *next;
	UT_hash_handle hh_pid, hh_port;
};

struct daemon {
	int epfd;
	int sigfd;
	struct evsrc sig_ev;
	const char *conf_path;
	const char *only_service;    /* -s */
	struct gen *gen;             /* current */
	struct svc *svcs;
	struct session *sessions;    /* list */
	struct session *by_pid, *by_port;
	struct session *graveyard;   /* freed after the current event batch */
	bool reload_pending, stop_pending;
	int stop_signal;
	size_t nsessions;
	uint64_t next_tick;          /* 0: no watch pass scheduled */
	bool stopping;
	/* status socket */
	const char *status_path;
	bool status_explicit;        /* -S given */
	int status_fd;
	bool status_owned;
	struct evsrc status_ev;
	const char *procfs_prefix;   /* NULL = /proc/net */
};

/* util.c */
int ep_add(struct daemon *d, int fd, uint32_t events, struct evsrc *ev);
void ep_del(struct daemon *d, int fd);
void close_fd(int *fd);

#endif
