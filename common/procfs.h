/* /proc/net/tcp and /proc/net/tcp6 lines: pure parsing over a buffer, plus
 * a reader for the live files. */
#ifndef SCRAMBLE_PROCFS_H
#define SCRAMBLE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

/* Kernel TCP states as in include/net/tcp_states.h */
enum tcp_state {
	TCPS_ESTABLISHED = 1, TCPS_SYN_SENT, TCPS_SYN_RECV, TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2, TCPS_TIME_WAIT, TCPS_CLOSE, TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK, TCPS_LISTEN, TCPS_CLOSING, TCPS_NEW_SYN_RECV
};

struct tcp_entry {
	struct ipaddr local, remote;   /* v4-mapped canonicalised to AF_INET */
	uint16_t lport, rport;
	uint8_t state;
	unsigned long inode;
	unsigned uid;
};

/* Parse one data line of tcp (v6 = 0) or tcp6 (v6 = 1). 0/-1 (header or
 * malformed line). The line need not be NUL-terminated. */
int procfs_parse_line(const char *line, size_t len, int v6, struct tcp_entry *e);

/* Call fn for every well-formed line of a whole file's buffer (header
 * skipped).  fn returns non-zero to stop.  Returns number of entries seen. */
typedef int (*procfs_fn)(const struct tcp_entry *e, void *arg);
size_t procfs_parse_buf(const char *buf, size_t len, int v6, procfs_fn fn, void *arg);

/* Read /proc/net/tcp and tcp6 (prefix lets tests point elsewhere; NULL for
 * "/proc/net") and call fn for each entry.  -1 if neither could be read. */
int procfs_scan(const char *prefix, procfs_fn fn, void *arg);

#endif
