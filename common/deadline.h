/* Waiting on a descriptor until a monotonic deadline (client side). */
#ifndef SCRAMBLE_DEADLINE_H
#define SCRAMBLE_DEADLINE_H

#include <time.h>

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds (the daemon's and the services' clock). */
uint64_t now_ms(void);

/* Milliseconds left until deadline (CLOCK_MONOTONIC), 0 if it has passed. */
int deadline_ms_left(const struct timespec *deadline);

/* poll() fd for events until the deadline.  1 ready, 0 timed out, -1 error.
 * EINTR restarts the wait with what is left of the deadline. */
int deadline_wait_fd(int fd, short events, const struct timespec *deadline);

/* The end of a non-blocking connect on fd, waited for until the deadline:
 * 0 connected; -1 with errno ETIMEDOUT or the connect's error. */
int deadline_wait_connected(int fd, const struct timespec *deadline);

#endif
