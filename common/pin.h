/* inetd/forward modes: the daemon's own listener on the valid port, pinned
 * to the rendezvous client by a classic BPF socket filter. */
#ifndef SCRAMBLE_PIN_H
#define SCRAMBLE_PIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include "addr.h"

/* Fill prog (at most 16 instructions) with a filter that accepts packets
 * whose IP source address is client and drops all others.  Returns the
 * number of instructions.  Pure. */
int pin_program(const struct ipaddr *client, struct sock_filter *prog);

/* Listen (backlog 1, non-blocking) on the address local (its port replaced
 * by port), with the pin filter attached.  *pinned says whether the filter
 * took.  fd or -1 with errno. */
int pin_listen(const struct sockaddr_storage *local, socklen_t len, uint16_t port,
	       const struct ipaddr *client, bool *pinned);

#endif
