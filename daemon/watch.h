/* One pass over /proc/net/tcp{,6} per tick for all sessions that have a
 * server: is it listening, has the client arrived, is someone else there,
 * is the client gone. */
#ifndef SCRAMBLED_WATCH_H
#define SCRAMBLED_WATCH_H

#include "daemon.h"

/* Run one pass now and act on it. */
void watch_tick(struct daemon *d);
/* Keep d->next_tick right after sessions changed: scheduled while some
 * session needs watching, 0 otherwise (no wake-ups when idle). */
void watch_schedule(struct daemon *d, uint64_t now);

#endif
