/* Servers that leave their session's process group (double fork and
 * setsid(), as daemonizing servers do) survive the group kill.  Being the
 * child subreaper, scrambled inherits them when their parent exits; for a
 * while after each session ends it looks for such children and kills them. */
#ifndef SCRAMBLED_ESCAPE_H
#define SCRAMBLED_ESCAPE_H

#include <stdint.h>
#include "daemon.h"

/* A session ended: look for escaped children until now + ms. */
void escape_arm(uint64_t now, uint64_t ms);

/* When the next sweep is due (monotonic ms), 0 if none. */
uint64_t escape_next(void);

/* If a sweep is due: kill every child of ours that is neither a session's
 * leader nor in a session's process group. */
void escape_sweep(struct daemon *d, uint64_t now);

#endif
