/* Launching a server (exec mode; inetd mode reuses it with a connection as
 * stdin/stdout): no shell, chosen user/group, own session, clean
 * environment, closed fds, default signal state, PR_SET_PDEATHSIG. */
#ifndef SCRAMBLED_LAUNCH_H
#define SCRAMBLED_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "config.h"

struct launch_req {
	char **argv;          /* NULL-terminated, argv[0] absolute */
	char **envp;          /* NULL-terminated */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int stdio_fd;         /* -1: stdin /dev/null and stdout to the log pipe;
			       * else the connection for stdin and stdout (inetd) */
	int (*fn)(void *);    /* instead of exec: run fn(arg) in the child and
			       * _exit with its value (the forward relay); every
			       * fd but 0..2 is closed first */
	void *arg;
};

/* What the exec-error pipe carries when the child fails before exec. */
struct launch_fail {
	int stage;            /* LAUNCH_STAGE_* */
	int err;              /* errno */
};
enum { LAUNCH_STAGE_SETUP = 1, LAUNCH_STAGE_IDS, LAUNCH_STAGE_EXEC };
const char *launch_stage_name(int stage);

/* Resolve user/group of conf into r (set_ids, uid, gid, groups).  0/-1 with
 * err filled.  Used both at configuration check and before each launch. */
int launch_resolve_ids(const struct service *conf, struct launch_req *r, char *err, size_t errlen);

/* Build argv (command with %p/%a expanded), environment and ids. */
int launch_prepare(const struct service *conf, unsigned port, const char *addr,
		   struct launch_req *r, char *err, size_t errlen);
void launch_req_free(struct launch_req *r);

/* fork + exec.  Returns the child's pid (leader of a new session and
 * process group) with *errfd the read end of the exec-error pipe (EOF with
 * no data = exec succeeded; a struct launch_fail otherwise) and *outfd the
 * read end of the server's stdout/stderr, both O_NONBLOCK|O_CLOEXEC; or -1
 * with errno set. */
pid_t launch_spawn(const struct launch_req *r, int *errfd, int *outfd);

#endif
