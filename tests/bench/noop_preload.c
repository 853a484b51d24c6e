/* The floor for any connect() preload: a connect that only calls the next
 * one (row 1 and 2 of `make bench`).  Resolved once, on first use. */
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

__attribute__((visibility("default"))) int connect(int fd, const struct sockaddr *sa, socklen_t len);

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn next;
	if (!next)
		next = (connect_fn)dlsym(RTLD_NEXT, "connect");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, sa, len);
}
