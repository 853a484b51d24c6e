/* Internals of libscramble.so.  shim.c holds the exported hooks and nothing
 * else; shim_core.c decides and does the work.  All of this is hidden
 * (-fvisibility=hidden): only connect, sendto and sendmsg are exported. */
#ifndef SCRAMBLE_SHIM_H
#define SCRAMBLE_SHIM_H

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <stdint.h>
#include "targets.h"
#include "config.h"

/* The next definitions of the hooked functions (libc's), resolved on first
 * use with dlsym(RTLD_NEXT) (never our own hook; a raw syscall if there is
 * no next definition). */
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
extern connect_fn shim_next_connect;
extern sendto_fn shim_next_sendto;
extern sendmsg_fn shim_next_sendmsg;
connect_fn shim_resolve_connect(void);
sendto_fn shim_resolve_sendto(void);
sendmsg_fn shim_resolve_sendmsg(void);

static inline int shim_real_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	connect_fn f = __atomic_load_n(&shim_next_connect, __ATOMIC_ACQUIRE);
	return (f ? f : shim_resolve_connect())(fd, sa, len);
}

static inline ssize_t shim_real_sendto(int fd, const void *buf, size_t n, int flags,
				       const struct sockaddr *sa, socklen_t len)
{
	sendto_fn f = __atomic_load_n(&shim_next_sendto, __ATOMIC_ACQUIRE);
	return (f ? f : shim_resolve_sendto())(fd, buf, n, flags, sa, len);
}

static inline ssize_t shim_real_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	sendmsg_fn f = __atomic_load_n(&shim_next_sendmsg, __ATOMIC_ACQUIRE);
	return (f ? f : shim_resolve_sendmsg())(fd, msg, flags);
}

#define SHIM_HIDDEN __attribute__((visibility("hidden")))

/* Set while this thread is inside the shim's own work. initial-exec: the
 * shim is preloaded, so its TLS is static and reading it costs no call. */
extern __thread int shim_in_shim __attribute__((tls_model("initial-exec"))) SHIM_HIDDEN;
extern int shim_loaded SHIM_HIDDEN;                      /* acquire/release */
extern const struct target_set *shim_targets SHIM_HIDDEN; /* NULL: pass all */

/* The configuration (loaded on first use) and the hash lookup behind
 * shim_lookup()'s filters. */
const struct target *shim_lookup_pair(const struct sockaddr *sa, socklen_t len);

/* Is (sa, len) a configured target?  Returns it, or NULL for everything
 * else: non-IP families, short addresses, connects the shim makes itself,
 * no or refused configuration.  Loads the configuration on the first IP
 * destination.  After that a miss is a bit test and at most one hash
 * lookup: no syscall, no allocation, errno untouched.  Inline, so that a
 * miss costs the hook no call and no stack frame. */
static inline const struct target *shim_lookup(const struct sockaddr *sa, socklen_t len)
{
	/* a pointer into the first page cannot be read: the real connect()
	 * answers EFAULT (other bad pointers cannot be told apart without a
	 * system call; see preload/README.md) */
	if ((uintptr_t)sa < 4096 || len < sizeof(struct sockaddr_in))
		return NULL;
	if (sa->sa_family != AF_INET &&
	    (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)))
		return NULL;
	if (shim_in_shim)
		return NULL;
	if (!__atomic_load_n(&shim_loaded, __ATOMIC_ACQUIRE))
		return shim_lookup_pair(sa, len);    /* the first IP connect: load */
	const struct target_set *ts = shim_targets;
	if (!ts)
		return NULL;                         /* no (or a refused) configuration */
	/* sin_port and sin6_port sit at the same offset */
	uint16_t port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (!(ts->ports[port >> 3] & (1u << (port & 7))))
		return NULL;
	return shim_lookup_pair(sa, len);
}

/* For a hit on fd: the address the application's socket must really use,
 * written to out (same family and length as sa, only the port changed).
 * Returns 0 (use out), 1 (not ours after all: pass the original through,
 * errno as the caller had it) or -1 (rendezvous failed: errno is
 * ECONNREFUSED or ETIMEDOUT; never use the original port). */
int shim_prepare(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		 struct sockaddr_storage *out);

/* The same for a target with auth = yes (protocol v2): also writes the
 * authenticator to tag (AUTH_TAG_BYTES).  shim_prepare() on such a target
 * calls this and drops the tag, so the hooks use shim_prepare_auth. */
int shim_prepare_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      struct sockaddr_storage *out, uint8_t *tag);

/* preload/shim_auth.c: connect fd to the valid port sa and write the
 * authenticator before the application sees the socket, within the
 * target's timeout, whatever the socket's O_NONBLOCK (restored after).
 * 0 (connected, authenticator sent) or -1 with errno. */
int shim_connect_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      const uint8_t *tag);

#endif
