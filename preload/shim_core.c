/* The work behind the hooks of libscramble.so (SPEC section 6).
 *
 * Life of a process with the shim preloaded:
 *  - nothing happens at load time (no constructor);
 *  - the first connect() (or sendto/sendmsg with MSG_FASTOPEN) to an IPv4 or
 *    IPv6 address loads the configuration once (pthread_once): if the file
 *    exists, libscramble-conf.so (which carries libconfuse) is dlopen()ed,
 *    builds the target set and is closed again;
 *  - from then on a destination that is not a configured (address, port)
 *    costs a bit test and at most one hash lookup;
 *  - a hit does the rendezvous on a socket of its own and hands the valid
 *    port back to the hook, which connects the application's socket there
 *    with the application's own flags.
 *
 * While the shim works (configuration load, rendezvous) a thread-local flag
 * sends the connects it makes itself straight to libc. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include "addr.h"
#include "confload.h"
#include "dial.h"
#include "shim.h"
#include "targets.h"

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif

/* Set while this thread is inside the shim's own work. initial-exec: the
 * shim is preloaded, so its TLS is static and reading it costs no call. */
__thread int shim_in_shim __attribute__((tls_model("initial-exec")));

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
int shim_loaded;                           /* load_config has run (acquire/release) */
const struct target_set *shim_targets;     /* NULL: pass everything through */
static bool debug_on;                      /* SCRAMBLE_DEBUG=1, not when AT_SECURE */
static int rdv_failure_logged;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
static auth_client_fn auth_fn;             /* from libscramble-conf.so, on the first auth target */

/* ---- messages: stderr only when asked, syslog for errors ---- */

static void debug_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug_msg(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, saved = errno;

	if (!debug_on)
		return;
	n = snprintf(line, sizeof line, "libscramble[%d]: ", (int)getpid());
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nothing sensible to do */
	}
out:
	errno = saved;
}

/* One datagram to /dev/log on a socket of our own, closed at once: the
 * application's own openlog() state (ident, options, descriptor) is left
 * alone, and no descriptor outlives the call. */
static void syslog_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void syslog_msg(const char *fmt, ...)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	char line[768], text[640];
	va_list ap;
	int fd, n, saved = errno;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	if (debug_on)
		debug_msg("%s", text);
	n = snprintf(line, sizeof line, "<%d>libscramble[%d]: %s", LOG_USER | LOG_ERR,
		     (int)getpid(), text);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof line)
		n = (int)sizeof line - 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	(void)shim_real_sendto(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
			       (struct sockaddr *)&un, sizeof un);
	close(fd);
out:
	errno = saved;
}

/* ---- the next definitions of the hooked functions ---- */

connect_fn shim_next_connect;
sendto_fn shim_next_sendto;
sendmsg_fn shim_next_sendmsg;

/* Fallbacks if the dynamic linker finds no next definition (or hands back
 * our own hook, which would recurse forever). */
static int sys_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, sa, len);
}
static ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags,
			  const struct sockaddr *sa, socklen_t len)
{
	return (ssize_t)syscall(SYS_sendto, fd, buf, n, flags, sa, len);
}
static ssize_t sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return (ssize_t)syscall(SYS_sendmsg, fd, msg, flags);
}

static void *resolve_next(const char *name, void *self, void *fallback)
{
	int saved = errno;
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL || p == self)
		p = fallback;
	errno = saved;
	return p;
}

/* Racing threads may both resolve; they store the same pointer. */
connect_fn shim_resolve_connect(void)
{
	connect_fn f = (connect_fn)resolve_next("connect", (void *)connect, (void *)sys_connect);
	__atomic_store_n(&shim_next_connect, f, __ATOMIC_RELEASE);
	return f;
}

sendto_fn shim_resolve_sendto(void)
{
	sendto_fn f = (sendto_fn)resolve_next("sendto", (void *)sendto, (void *)sys_sendto);
	__atomic_store_n(&shim_next_sendto, f, __ATOMIC_RELEASE);
	return f;
}

sendmsg_fn shim_resolve_sendmsg(void)
{
	sendmsg_fn f = (sendmsg_fn)resolve_next("sendmsg", (void *)sendmsg, (void *)sys_sendmsg);
	__atomic_store_n(&shim_next_sendmsg, f, __ATOMIC_RELEASE);
	return f;
}

/* ---- configuration, once per process ---- */

/* libscramble-conf.so from the shim's own directory, else from LIBDIR. */
static void *open_conf_lib(void)
{
	char path[PATH_MAX];
	Dl_info info;
	void *h = NULL;

	if (dladdr((void *)open_conf_lib, &info) != 0 && info.dli_fname != NULL &&
	    strchr(info.dli_fname, '/') != NULL) {
		const char *slash = strrchr(info.dli_fname, '/');
		int n = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - info.dli_fname),
				 info.dli_fname, SCRAMBLE_CONF_LIB);
		if (n > 0 && (size_t)n < sizeof path)
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL)
		h = dlopen(LIBDIR "/" SCRAMBLE_CONF_LIB, RTLD_NOW | RTLD_LOCAL);
	return h;
}

static void load_config(void)
{
	const char *dbg = secure_getenv("SCRAMBLE_DEBUG");
	const char *path = secure_getenv("SCRAMBLE_CONF");
	bool from_env = path != NULL && path[0] != '\0';
	struct target_set *ts = NULL;
	scramble_conf_load_fn load;
	char err[1024];
	void *h;
	int saved = errno;

	shim_in_shim = 1;
	debug_on = dbg != NULL && strcmp(dbg, "1") == 0;
	if (!from_env)
		path = SCRAMBLE_DEFAULT_CONF;
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0) {
		/* no configuration, or one this user may not read, is the
		 * normal case for most programs of a machine with a global
		 * preload: silence, unless asked for */
		if (from_env && errno != EACCES)
			syslog_msg("configuration %s: %s; passing every connection through",
				   path, strerror(errno));
		else
			debug_msg("configuration %s: %s; passing every connection through", path,
				  strerror(errno));
		goto out;
	}
	h = open_conf_lib();
	if (h == NULL) {
		syslog_msg("cannot load %s: %s; passing every connection through",
			   SCRAMBLE_CONF_LIB, dlerror());
		goto out;
	}
	load = (scramble_conf_load_fn)dlsym(h, SCRAMBLE_CONF_ENTRY);
	if (load == NULL) {
		syslog_msg("%s has no %s; passing every connection through", SCRAMBLE_CONF_LIB,
			   SCRAMBLE_CONF_ENTRY);
	} else if (load(path, &ts, err, sizeof err) != 0) {
		syslog_msg("configuration refused: %s; passing every connection through", err);
	} else {
		if (err[0] != '\0')
			syslog_msg("configuration %s: %s", path, err);
		debug_msg("configuration %s loaded: %zu target(s), %u address/port pair(s)",
			  path, ts->conf ? ts->conf->ntargets : 0, HASH_COUNT(ts->hash));
		shim_targets = ts;
	}
	/* the target set is plain heap memory; libconfuse is not needed any more */
	dlclose(h);
out:
	shim_in_shim = 0;
	__atomic_store_n(&shim_loaded, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* auth = yes: the first connect to such a target loads libscramble-conf.so
 * again (with libconfuse and libsodium) for good, for scramble_auth_client.
 * Processes that never dial an auth target never map libsodium. */
static void load_auth(void)
{
	void *h = open_conf_lib();
	int saved = errno;

	if (h == NULL) {
		syslog_msg("cannot load %s: %s; auth targets are refused", SCRAMBLE_CONF_LIB, dlerror());
	} else {
		auth_fn = (auth_client_fn)dlsym(h, SCRAMBLE_AUTH_ENTRY);
		if (auth_fn == NULL) {
			syslog_msg("%s has no %s; auth targets are refused", SCRAMBLE_CONF_LIB,
				   SCRAMBLE_AUTH_ENTRY);
			dlclose(h);
		}
	}
	errno = saved;
}

/* ---- the decision and the work ---- */

/* The hash lookup, out of line: its locals would give the fast path a
 * stack-protector prologue. */
static __attribute__((noinline)) const struct target *
lookup_pair(const struct target_set *ts, const struct sockaddr *sa, socklen_t len)
{
	struct ipaddr a;
	uint16_t port;
	int saved = errno, rc;

	rc = addr_from_sockaddr(sa, len, &a, &port);
	errno = saved;
	if (rc != 0)
		return NULL;
	return target_set_find(ts, &a, port);
}

const struct target *shim_lookup_pair(const struct sockaddr *sa, socklen_t len)
{
	if (!__atomic_load_n(&shim_loaded, __ATOMIC_ACQUIRE))
		pthread_once(&load_once, load_config);
	const struct target_set *ts = shim_targets;
	return ts ? lookup_pair(ts, sa, len) : NULL;
}

int shim_prepare(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		 struct sockaddr_storage *out)
{
	uint8_t tag[AUTH_TAG_BYTES];
	int rc = shim_prepare_auth(t, fd, sa, len, out, tag);

	explicit_bzero(tag, sizeof tag);
	return rc;
}

int shim_prepare_auth(const struct target *t, int fd, const struct sockaddr *sa, socklen_t len,
		      struct sockaddr_storage *out, uint8_t *tag)
{
	char txt[INET6_ADDRSTRLEN] = "?";
	enum dial_pass why;
	struct ipaddr a;
	uint16_t port = 0;
	int rc, err, saved = errno;

	shim_in_shim = 1;
	if (t->auth)
		pthread_once(&auth_once, load_auth);
	rc = dial_prepare(t, fd, sa, len, auth_fn, out, tag, &why);
	err = errno;
	if (rc != 1 && addr_from_sockaddr(sa, len, &a, &port) == 0)
		addr_str(&a, txt, sizeof txt);
	if (rc < 0) {
		debug_msg("target %s: rendezvous with %s port %u failed: %s", t->name, txt,
			  t->rendezvous, strerror(err));
		if (__atomic_exchange_n(&rdv_failure_logged, 1, __ATOMIC_RELAXED) == 0)
			syslog_msg("target %s: rendezvous with %s port %u failed: %s "
				   "(further failures are not logged)",
				   t->name, txt, t->rendezvous, strerror(err));
		shim_in_shim = 0;
		errno = err;
		return -1;
	}
	if (rc == 0)
		debug_msg("target %s: %s port %u -> valid port %d", t->name, txt, port,
			  sockaddr_port((struct sockaddr *)out));
	shim_in_shim = 0;
	errno = saved;
	return rc;
}
