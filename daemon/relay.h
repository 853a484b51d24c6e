/* Forward mode: relay one accepted connection to the service's backend
 * with splice(2), half-close propagated both ways. */
#ifndef SCRAMBLED_RELAY_H
#define SCRAMBLED_RELAY_H

#include "config.h"

/* Child entry point (launch_req.fn): the client connection is fd 0, arg a
 * struct listen_addr (the backend).  Returns the exit status: 0 after a
 * normal end, 1 if the backend cannot be reached (the client gets a reset
 * and a line on stderr says why), 2 on a relay error. */
int relay_main(void *arg);

/* Relay between two connected sockets until both directions have ended.
 * 0 or -1. */
int relay_fds(int a, int b);

#endif
