/* The status socket: a Unix stream socket (mode 0600) that writes the
 * session list to each connecting root (or same-uid) peer and closes. */
#ifndef SCRAMBLED_STATUS_H
#define SCRAMBLED_STATUS_H

#include "daemon.h"

#define SCRAMBLED_STATUS_PATH "/run/scrambled.sock"

/* Bind d->status_path.  A live daemon already there: warning, no socket
 * (returns 0); a stale socket file is replaced.  -1 on other errors. */
int status_open(struct daemon *d);
void status_on_accept(struct daemon *d);
void status_close(struct daemon *d);

#endif
