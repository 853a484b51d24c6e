/* auth = yes (protocol v2, scramble-protocol(7)) in the daemon: the keyed
 * valid port, the v2 rendezvous line, and the authenticator gate between
 * the client's connection to the valid port and the launch.  sessions.c
 * calls in at three points: choosing the port, a
 * connection accepted on the valid port, a deadline.  The offer (decoy,
 * nonce, valid port) and the check of the authenticator are server.c's,
 * shared with libscramble-api. */
#ifndef SCRAMBLED_AUTHGATE_H
#define SCRAMBLED_AUTHGATE_H

#include <stddef.h>
#include <stdint.h>
#include "daemon.h"

/* Give s a gate (before its offer is chosen).  0/-1 (no memory). */
int gate_new(struct session *s);

/* The client's connection conn (ours now) arrived on the valid port: wait,
 * in the event loop, for the authenticator.  State S_AUTH. */
void gate_start(struct daemon *d, struct session *s, int conn);

/* conn is readable (EV_AUTH). */
void gate_on_read(struct daemon *d, struct session *s);

/* The S_AUTH deadline passed. */
void gate_timeout(struct daemon *d, struct session *s);

/* Close what the gate holds (session_free). */
void gate_free(struct daemon *d, struct session *s);

#endif
