/* The server side of one rendezvous, shared by scrambled (daemon/) and the
 * embedding API (libscramble-api, common/api_service.c), so there is one
 * implementation of each step:
 *   admission (allow, rate, max_pending, per_source) -> the offer (decoy,
 *   nonce, valid port free in procfs and bindable) -> the line sent ->
 *   the pinned listener on the valid port -> the one connection from the
 *   client (others are intruders) -> with auth, its authenticator.
 * No event loop, no logging, no global state: callers own those. */
#ifndef SCRAMBLE_SERVER_H
#define SCRAMBLE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "addr.h"
#include "authline.h"
#include "config.h"
#include "ratelimit.h"

/* The authenticator must be complete within this many ms of the accept. */
#define AUTH_GATE_MS 2000

/* NULL if a rendezvous from a may proceed, else the reason word of the
 * log ("not-allowed", "rate-limited", "max-pending", "per-source").
 * pending: the service's sessions not yet arrived, from_a: those of a.
 * Counts the attempt in rt. */
const char *server_admit(const struct service *c, struct rate_table *rt, unsigned pending,
			 unsigned from_a, const struct ipaddr *a, uint64_t now_ms);

/* A rendezvous listener on sa: non-blocking, close-on-exec, SO_REUSEADDR,
 * IPV6_V6ONLY for AF_INET6, backlog 128.  fd, or -1 with errno. */
int server_listen(const struct sockaddr *sa, socklen_t len);

/* Out of descriptors on listener lfd: close *reserve (a descriptor kept
 * for this), accept one connection and close it, open the reserve again,
 * so that a level-triggered listener does not spin.  -1 if there was no
 * reserve. */
int server_drop_one(int lfd, int *reserve);

/* What a rendezvous offers its client. */
struct offer {
	uint16_t decoy, port;       /* port: the valid port */
	bool auth;                  /* line is a v2 line (decoy and nonce) */
	struct auth_line line;
};

/* Choose the decoy (and with auth the nonce) of a rendezvous from client
 * to c so that the valid port is not marked in busy and is bindable.  The
 * caller marks in busy every port of /proc/net/tcp{,6} (ports_scan_busy)
 * and every valid port it holds itself.  0, or -1 (no free port; with
 * auth also: no key, libsodium unusable). */
int server_offer(const struct service *c, const struct ipaddr *client, uint8_t *busy,
		 struct offer *o);

/* The line to send (v1 "DECOY\n" or v2).  Its length, or -1. */
int server_offer_line(const struct offer *o, char *buf, size_t size);

/* Accept one connection on the pinned listener vfd of client.  Returns the
 * connection (flags as accept4) if it comes from client; -1 with errno
 * EAGAIN when none is waiting; -2 if it came from another address (closed
 * at once, that address into intruder). */
int server_accept_client(int vfd, const struct ipaddr *client, int flags, char *intruder,
			 size_t ilen);

/* The authenticator, read exactly (what follows is the server's). */
struct tag_reader {
	uint8_t tag[AUTH_TAG_BYTES];
	size_t got;
};

/* Read what fd holds of it, never blocking: 1 complete, 0 more to come,
 * -1 the client closed ("short") or failed ("error"; reason set). */
int server_read_tag(int fd, struct tag_reader *r, const char **reason);

/* Is the authenticator right for offer o to client of c?  0 yes, -1 no. */
int server_check_tag(const struct service *c, const struct offer *o, const struct ipaddr *client,
		     const struct tag_reader *r);

/* Forget the nonce (used up) and the tag. */
void server_offer_forget(struct offer *o, struct tag_reader *r);

#endif
