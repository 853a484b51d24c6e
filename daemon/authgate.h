/* auth = yes (protocol v2, scramble-protocol(7)) in the daemon: the keyed
 * valid port, the v2 rendezvous line, and the authenticator gate between
 * the client's connection to the valid port and the launch.  sessions.c
 * calls in at four points: choosing the port, sending the line, a
 * connection accepted on the valid port, a deadline. */
#ifndef SCRAMBLED_AUTHGATE_H
#define SCRAMBLED_AUTHGATE_H

#include <stddef.h>
#include <stdint.h>
#include "daemon.h"

/* The authenticator must be complete within this many ms of the accept. */
#define AUTH_GATE_MS 2000

/* Choose decoy, nonce and valid port (free in busy, bindable) for s, add
 * s to d->by_port.  0/-1 (no free port in 64 tries). */
int gate_choose_port(struct daemon *d, struct session *s, const uint8_t *busy);

/* The v2 line for s into buf; its length or -1. */
int gate_line(const struct session *s, char *buf, size_t size);

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
