/* scrambled: the state shared by the daemon's modules.
 *
 * One process, one epoll loop.  Every fd registered with epoll carries a
 * pointer to a struct evsrc whose kind says which module owns the event.
 * Sessions live in two hashes (by pid and by valid port) and one list; the
 * configuration is reference-counted per generation so that a SIGHUP reload
 * can replace it while older sessions keep the settings they started with. */
#ifndef SCRAMBLED_DAEMON_H
#define SCRAMBLED_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>
#include "addr.h"
#include "config.h"
#include "ratelimit.h"

enum ev_kind { EV_SIGNAL, EV_LISTEN, EV_ERRPIPE, EV_OUTPIPE, EV_STATUS, EV_VALID };

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
enum sstate { S_HOLDING, S_LAUNCHING, S_LISTENING, S_WAITING, S_ARRIVED, S_ENDING };

struct login_watch;

struct session {
	enum sstate state;
	struct svc *svc;
	struct gen *gen;
	const struct service *conf;  /* in gen */
	struct ipaddr client;
	char client_str[64];
	int rdv_fd;                  /* the rendezvous connection until the decoy is sent */
	uint16_t decoy, port;        /* port: the valid port (0 while HOLDING) */
	pid_t pid;                   /* the server, leader of its process group */
	bool reaped;
	int wstatus;
	struct evsrc err_ev, out_ev, valid_ev;
	int errfd, outfd;            /* exec-error pipe, server stdout/stderr */
	int vfd;                     /* inetd/forward: our listener on the valid port */
	bool pinned;                 /* the BPF pin filter is attached to vfd */
	struct sockaddr_storage local; /* where the rendezvous arrived (inetd/forward) */
	socklen_t local_len;
	char outbuf[1024];
	size_t outlen;
	uint64_t t_start;            /* monotonic ms */
	uint64_t deadline;           /* meaning depends on state; 0 = none */
	uint64_t login_deadline;     /* 0 = no login check pending */
	struct login_watch *login;
	bool login_ok;
	bool counted_pending;
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
	int status_fd;
	bool status_owned;
	struct evsrc status_ev;
	const char *procfs_prefix;   /* NULL = /proc/net */
};

/* util.c */
uint64_t now_ms(void);
int ep_add(struct daemon *d, int fd, uint32_t events, struct evsrc *ev);
void ep_del(struct daemon *d, int fd);
void close_fd(int *fd);

#endif
