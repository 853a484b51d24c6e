/* Sessions: one per rendezvous, from the decoy choice to the reaping of
 * its server.  See daemon.h for the states. */
#ifndef SCRAMBLED_SESSIONS_H
#define SCRAMBLED_SESSIONS_H

#include "daemon.h"

/* Take over a rendezvous connection rdv_fd from client and start: hold it
 * (hour guard) or choose a decoy and launch the server.  May free the
 * session at once (refused); the caller must not use it afterwards. */
void session_open(struct daemon *d, struct svc *svc, int rdv_fd, const struct ipaddr *client);

/* Kill the server (SIGTERM to the group, SIGKILL after kill_grace); the
 * session goes to ENDING and is freed once everything is reaped. */
void session_kill(struct daemon *d, struct session *s);

/* The server listens: send the decoy, close the rendezvous.  Goes to
 * WAITING, or kills the server if the client is gone. */
void session_ready(struct daemon *d, struct session *s);
/* The client arrived (watch saw its connection). */
void session_arrived(struct daemon *d, struct session *s);

void session_on_errpipe(struct daemon *d, struct session *s);
/* inetd/forward: a connection on the daemon's valid-port listener. */
void session_on_valid(struct daemon *d, struct session *s);
void session_on_output(struct daemon *d, struct session *s);
/* auth = yes: conn has authenticated; the client arrived, launch on conn
 * (closed here). */
void session_launch_conn(struct daemon *d, struct session *s, int conn);

/* Reap every child that has exited (waitpid(-1, WNOHANG) until none). */
void sessions_reap(struct daemon *d);
/* Fire the deadlines that have passed. */
void sessions_timers(struct daemon *d, uint64_t now);
/* The earliest deadline of any session, 0 if none. */
uint64_t sessions_next_deadline(const struct daemon *d);
/* End everything (shutdown). */
void sessions_kill_all(struct daemon *d);
/* Sessions not yet arrived, in svc from a (NULL: all of svc). */
unsigned sessions_pending(const struct daemon *d, const struct svc *svc, const struct ipaddr *a);

/* Free the sessions ended during this loop turn. */
void sessions_bury(struct daemon *d);

const char *session_state_name(enum sstate st);
void gen_unref(struct gen *g);

#endif
