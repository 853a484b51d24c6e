/* scramble.h: the embedding API of scramble (libscramble-api, pkg-config
 * name "scramble").  See scramble(3).
 *
 * A client reaches a service that hides behind a rendezvous port with one
 * call, scramble_connect().  A server protects itself without scrambled:
 * it opens a service, polls one descriptor in its own event loop and gets
 * back, from scramble_service_accept(), only the connections of clients
 * that made a rendezvous (and, with a key, proved it), each on the valid
 * port that was chosen for that client alone.
 *
 * Conventions
 * - Every function that can fail returns -1 (or NULL) and sets errno;
 *   the loaders also write a one-line reason naming the file and line to
 *   err (errlen bytes, may be NULL/0).
 * - The types are opaque; objects are created and freed by this API only.
 * - No object shares state with another: any number of targets and
 *   services may live in one process (the only process-wide thing is a
 *   lock around the configuration parser).  A target is read-only once set up: any
 *   number of threads may call scramble_connect() with it at once.  A
 *   service is used by one thread at a time (the caller's event loop).
 *   The loaders may be called from any thread (the configuration parser,
 *   libconfuse, is serialised inside).
 * - Nothing here touches signal dispositions, installs handlers, forks or
 *   writes to stdout/stderr; every descriptor the library keeps is
 *   close-on-exec (a connection it hands back gets the flags asked for).
 * - path NULL in a loader means /etc/scramble/scramble.conf (the
 *   SCRAMBLE_CONF variable is the shim's, not read here).
 *
 * The secret: a table, a bijection over the port range [lo, hi] that maps
 * each decoy port to an intermediate port (the file format of scramblectl
 * gentable, or an array in code), offsets (SCRAMBLE_OFF_*), and, for
 * protocol v2, a 32-byte key shared by the target and the service. */
#ifndef SCRAMBLE_H
#define SCRAMBLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCRAMBLE_API_VERSION 1

/* Offsets added to the table's port (SPEC section 4). */
#define SCRAMBLE_OFF_HOUR   0x1u  /* add the current UTC hour */
#define SCRAMBLE_OFF_OCTET  0x2u  /* subtract the client's last address byte */

#define SCRAMBLE_KEY_BYTES 32     /* protocol v2 key (scramblectl keygen) */

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

struct scramble_target;

/* A target built in code.  name: the service's name (used in the v2
 * authenticator and in messages, 1..255 bytes); rendezvous: the server's
 * rendezvous port; table: hi - lo + 1 entries, table[d - lo] being the
 * intermediate port of decoy d, a permutation of [lo, hi] (copied).
 * Offsets none, timeout 5 s, no key.  With a key (protocol v2) only the
 * table's range is used, not its pairs, nor the offsets.  NULL with errno
 * EINVAL (bad argument or table) or ENOMEM. */
struct scramble_target *scramble_target_new(const char *name, uint16_t rendezvous, uint16_t lo,
					    uint16_t hi, const uint16_t *table);

/* The target section `name` of the configuration file path (NULL: the
 * default /etc/scramble/scramble.conf), with its table and key files.
 * name NULL: the file's only target.  The file must pass the same trust
 * checks as for the shim (owner root or the caller, not group/world
 * writable).  NULL with errno (ENOENT: no such file or section; EINVAL:
 * refused) and err "FILE:LINE: problem". */
struct scramble_target *scramble_target_load(const char *path, const char *name, char *err,
					     size_t errlen);

/* SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET, or 0.  0, or -1 EINVAL. */
int scramble_target_set_offsets(struct scramble_target *t, unsigned offsets);

/* The bound on the whole rendezvous (connect, decoy, and with a key the
 * authenticator), 1..3600 s.  0, or -1 EINVAL. */
int scramble_target_set_timeout(struct scramble_target *t, unsigned seconds);

/* Use protocol v2 with this key: the target then accepts only v2 answers
 * and proves itself on the valid port; the service's name must be the
 * target's.  0, or -1 EINVAL (NULL) / ENOSYS (libsodium cannot be
 * initialised). */
int scramble_target_set_key(struct scramble_target *t, const uint8_t key[SCRAMBLE_KEY_BYTES]);

/* Free a target (NULL is fine).  No call may be using it. */
void scramble_target_free(struct scramble_target *t);

/* Connect the TCP socket fd (AF_INET or AF_INET6, not yet connected) to
 * the service at sa: rendezvous with sa's address on the target's
 * rendezvous port (sa's own port is not used, nor a loaded target's host
 * and port keys, which are the shim's), compute the valid port,
 * connect fd there.  The rendezvous is made on a socket of its own,
 * bound to fd's local address if fd is bound, and is bounded by the
 * target's timeout; it is synchronous even if fd is non-blocking.
 *
 * Returns like connect(2): 0 connected; -1 with errno.  A non-blocking fd
 * without key gets -1 EINPROGRESS from the final connect, as connect(2)
 * would give; with a key the authenticator must be written first, so the
 * call waits (bounded by the timeout) and returns 0 connected.
 * errno: EBADF/ENOTSOCK (fd), EFAULT (sa NULL), EINVAL (t NULL, len too
 * short or too long for sa's family),
 * EAFNOSUPPORT (sa not AF_INET/AF_INET6 or not fd's family), EPROTOTYPE
 * (fd is not SOCK_STREAM), EISCONN/EALREADY (fd connected or connecting),
 * ECONNREFUSED (no rendezvous answer, or an answer that is not a decoy of
 * the table), ETIMEDOUT, or what connect(2) says for the valid port.
 * Thread-safe. */
int scramble_connect(int fd, const struct sockaddr *sa, socklen_t len,
		     const struct scramble_target *t);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

struct scramble_service;

/* A service built in code, with no rendezvous address yet (add them with
 * scramble_service_listen).  name, lo, hi, table as for
 * scramble_target_new.  The defaults are those of a service section of
 * scramble.conf(5): offsets none, connect_timeout 60 s, guard 2 s,
 * max_pending 16, per_source 4, rate 5 per 10 s (deny 60 s), every address
 * allowed, no key (the guard has no setter: a file's `guard` sets it).
 * NULL with errno EINVAL or ENOMEM. */
struct scramble_service *scramble_service_new(const char *name, uint16_t lo, uint16_t hi,
					      const uint16_t *table);

/* The service section `name` of the configuration file path (NULL: the
 * default file), listening at once on its `listen` addresses.  Of the
 * section only the rendezvous settings are used (listen, table, offsets,
 * connect_timeout, guard, allow, max_pending, per_source, rate, deny_time,
 * auth, key).  Any mode is taken, but only mode = "embedded" keeps
 * scrambled from serving the same section too.  NULL with errno and err ("FILE:LINE: problem", or the address
 * that cannot be bound); errno ENOENT (no such file or section), EINVAL
 * (name NULL, or the file refused) or what bind(2) said. */
struct scramble_service *scramble_service_load(const char *path, const char *name, char *err,
					       size_t errlen);

/* Listen for rendezvous on sa (AF_INET or AF_INET6; port 0 picks one,
 * see scramble_service_address).  At most 16 addresses.  0, or -1 with
 * errno (EAFNOSUPPORT, EADDRINUSE, ENOSPC...). */
int scramble_service_listen(struct scramble_service *s, const struct sockaddr *sa,
			    socklen_t len);

/* The address of rendezvous listener i (0-based) into sa/len, truncated
 * to *len as by getsockname(2), *len set to its full size.  0, or -1
 * ENOENT (no such listener) / EINVAL (a NULL argument). */
int scramble_service_address(const struct scramble_service *s, unsigned i, struct sockaddr *sa,
			     socklen_t *len);

/* Settings, each 0 or -1 EINVAL.  offsets as for targets; connect_timeout:
 * seconds a client has to come to its valid port (1..86400); the key as
 * for targets (both sides need it; ENOSYS: libsodium unusable). */
int scramble_service_set_offsets(struct scramble_service *s, unsigned offsets);
int scramble_service_set_timeout(struct scramble_service *s, unsigned connect_timeout);
int scramble_service_set_key(struct scramble_service *s, const uint8_t key[SCRAMBLE_KEY_BYTES]);

/* Admit rendezvous only from cidr ("10.0.0.0/8", "::1/128", "192.0.2.7");
 * each call adds one; none means every address.  0, or -1 EINVAL. */
int scramble_service_allow(struct scramble_service *s, const char *cidr);

/* Limits: pending rendezvous (clients not arrived yet) in all and per
 * address (0 = no limit); at most count rendezvous per address per window
 * seconds (1..86400), else that address is refused for deny seconds
 * (count 0 = no rate limit, window then ignored).  0, or -1 EINVAL. */
int scramble_service_set_limits(struct scramble_service *s, unsigned max_pending,
				unsigned per_source, unsigned count, unsigned window,
				unsigned deny);

/* Each event (refused, hold, rendezvous, abandoned, intruder, auth ok,
 * auth failed, timeout, arrived) as one line of text, "event key=value
 * ...", the same words as scrambled's log.  fn is called from inside
 * scramble_service_accept() and must not call the API on this service.
 * fn NULL: silence (the default). */
typedef void (*scramble_log_fn)(void *arg, const char *line);
void scramble_service_set_log(struct scramble_service *s, scramble_log_fn fn, void *arg);

/* The one descriptor to poll for reading (an epoll descriptor that covers
 * every socket of the service).  Owned by the service. */
int scramble_service_fd(const struct scramble_service *s);

/* Milliseconds until scramble_service_accept() must be called even if
 * the descriptor stays quiet (timeouts, the hour guard); -1: none. */
int scramble_service_timeout(const struct scramble_service *s);

/* Do the work that is due (accept rendezvous, send decoys, judge
 * connections to valid ports, expire what timed out), never blocking, and
 * return the next connection of an authorised client: a connected TCP
 * socket (flags: SOCK_NONBLOCK and/or SOCK_CLOEXEC as for accept4(2)) whose
 * peer address is written to peer/peerlen if not NULL.  With a key, the
 * client's authenticator has been read and checked: the first byte the
 * caller reads is the client's own.  Call it until it returns -1 with
 * errno EAGAIN.  Other errno: EINVAL (s NULL or bad flags).  Failures
 * inside are not returned: out of descriptors, the connection that cannot
 * be accepted is dropped and its rendezvous refused (logged as refused
 * reason=out-of-descriptors), so the descriptor does not stay readable;
 * out of memory, that rendezvous is refused. */
int scramble_service_accept(struct scramble_service *s, struct sockaddr *peer,
			    socklen_t *peerlen, int flags);

/* Rendezvous under way (decoy sent or held, client not yet arrived). */
unsigned scramble_service_pending(const struct scramble_service *s);

/* Close every descriptor of the service and free it (NULL is fine).
 * Connections already returned by accept are the caller's and stay. */
void scramble_service_free(struct scramble_service *s);

#ifdef __cplusplus
}
#endif

#endif
