/* NETLINK_SOCK_DIAG: the listening TCP sockets only, filtered by state in
 * the kernel.  Much cheaper than a /proc/net/tcp pass, which makes the
 * kernel walk (and print) every connection; used by watch = "diag" while
 * servers are starting. */
#ifndef SCRAMBLE_DIAG_H
#define SCRAMBLE_DIAG_H

#include "procfs.h"

/* Call fn for every listening TCP socket (IPv4 and IPv6), as a tcp_entry
 * with state TCPS_LISTEN.  0, or -1 with errno set. */
int diag_listeners(procfs_fn fn, void *arg);

#endif
