/* fork/exec of a server (see launch.h).  Everything that may allocate or
 * consult NSS (argv, environment, getpwnam, getgrouplist) happens in the
 * parent before fork(); the child only makes async-signal-safe calls and
 * reports a failure through the close-on-exec pipe, then _exit(127). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cmdline.h"
#include "launch.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *launch_stage_name(int stage)
{
	switch (stage) {
	case LAUNCH_STAGE_SETUP: return "setup";
	case LAUNCH_STAGE_IDS: return "user/group change";
	case LAUNCH_STAGE_EXEC: return "exec";
	default: return "?";
	}
}

int launch_resolve_ids(const struct service *conf, struct launch_req *r, char *err, size_t errlen)
{
	r->set_ids = false;
	r->groups = NULL;
	r->ngroups = 0;
	if (!conf->user && !conf->group)
		return 0;
	r->set_ids = true;
	r->uid = getuid();
	r->gid = getgid();
	if (conf->user) {
		struct passwd *pw = getpwnam(conf->user);
		if (!pw) {
			snprintf(err, errlen, "unknown user \"%s\"", conf->user);
			return -1;
		}
		r->uid = pw->pw_uid;
		r->gid = pw->pw_gid;
	}
	if (conf->group) {
		struct group *gr = getgrnam(conf->group);
		if (!gr) {
			snprintf(err, errlen, "unknown group \"%s\"", conf->group);
			return -1;
		}
		r->gid = gr->gr_gid;
	}
	int n = 64;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *g = realloc(r->groups, (size_t)n * sizeof *g);
		if (!g) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->groups = g;
		if (!conf->user) {
			r->groups[0] = r->gid;
			r->ngroups = 1;
			return 0;
		}
		int want = n;
		if (getgrouplist(conf->user, r->gid, r->groups, &want) >= 0) {
			r->ngroups = want;
			return 0;
		}
		n = want > n ? want : n * 2;
	}
	snprintf(err, errlen, "cannot list the groups of user \"%s\"", conf->user);
	return -1;
}

/* Add "K=V" to env, replacing an entry with the same key. */
static int env_put(char ***env, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	char *dup = strdup(kv);
	if (!dup)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
			free((*env)[i]);
			(*env)[i] = dup;
			return 0;
		}
	}
	char **ne = realloc(*env, (*n + 2) * sizeof *ne);
	if (!ne) {
		free(dup);
		return -1;
	}
	ne[(*n)++] = dup;
	ne[*n] = NULL;
	*env = ne;
	return 0;
}

static int env_putf(char ***env, size_t *n, const char *k, const char *v)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s=%s", k, v);
	return env_put(env, n, buf);
}

static int build_env(const struct service *conf, unsigned port, const char *addr, char ***envp)
{
	char **env = NULL, portbuf[16];
	size_t n = 0;
	snprintf(portbuf, sizeof portbuf, "%u", port);
	if (env_putf(&env, &n, "PATH", DEFAULT_PATH) < 0 ||
	    env_putf(&env, &n, "SCRAMBLE_SERVICE", conf->name) < 0 ||
	    env_putf(&env, &n, "SCRAMBLE_CLIENT", addr) < 0 ||
	    env_putf(&env, &n, "SCRAMBLE_PORT", portbuf) < 0)
		goto err;
	if (conf->user) {
		struct passwd *pw = getpwnam(conf->user);
		if (pw && (env_putf(&env, &n, "HOME", pw->pw_dir) < 0 ||
			   env_putf(&env, &n, "USER", pw->pw_name) < 0 ||
			   env_putf(&env, &n, "LOGNAME", pw->pw_name) < 0))
			goto err;
	}
	for (size_t i = 0; i < conf->nenv; i++)
		if (env_put(&env, &n, conf->env[i]) < 0)
			goto err;
	*envp = env;
	return 0;
err:
	cmd_free(env);
	return -1;
}

int launch_prepare(const struct service *conf, unsigned port, const char *addr,
		   struct launch_req *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->stdio_fd = -1;
	r->argv = cmd_expand(conf->command, port, addr, err, errlen);
	if (!r->argv)
		goto err;
	if (build_env(conf, port, addr, &r->envp) < 0) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	if (launch_resolve_ids(conf, r, err, errlen) < 0)
		goto err;
	return 0;
err:
	launch_req_free(r);
	return -1;
}

void launch_req_free(struct launch_req *r)
{
	cmd_free(r->argv);
	cmd_free(r->envp);
	free(r->groups);
	r->argv = r->envp = NULL;
	r->groups = NULL;
}

/* In the child: report and die.  Never returns. */
__attribute__((noreturn)) static void child_fail(int fd, int stage)
{
	struct launch_fail f = { stage, errno };
	ssize_t w = write(fd, &f, sizeof f);
	(void)w;
	_exit(127);
}

/* dup2 that also works when the descriptor is already in place. */
static int put_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* Every disposition back to SIG_DFL.  glibc's sigaction() refuses the two
 * real-time signals it keeps for itself (32 and 33), but an ignored one
 * inherited from the daemon's own parent would survive the exec, so those
 * go through the system call directly (the kernel's struct sigaction). */
static void default_dispositions(void)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &dfl, NULL) == 0)
			continue;
		struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } k = { 0 };
		(void)syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask);
	}
}

__attribute__((noreturn)) static void child(const struct launch_req *r, int errw, int outw, pid_t parent)
{
	/* default signal state: dispositions first, then an empty mask */
	default_dispositions();
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0)
		child_fail(errw, LAUNCH_STAGE_SETUP);

	int in = r->stdio_fd, out = r->stdio_fd;
	if (in < 0) {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		out = outw;
		if (in < 0)
			child_fail(errw, LAUNCH_STAGE_SETUP);
	}
	/* the targets 0..2 may hold the pipe itself: move it up first */
	if (outw <= 2) {
		int moved = fcntl(outw, F_DUPFD_CLOEXEC, 3);
		if (moved < 0)
			child_fail(errw, LAUNCH_STAGE_SETUP);
		if (out == outw)
			out = moved;
		outw = moved;
	}
	if (put_fd(in, 0) < 0 || put_fd(out, 1) < 0 || put_fd(outw, 2) < 0)
		child_fail(errw, LAUNCH_STAGE_SETUP);
	if (r->fn) {
		/* no exec: close everything now; the closed error pipe says "started" */
		if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
			for (int fd = 3; fd < 1024; fd++)
				(void)close(fd);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		_exit(r->fn(r->arg));
	}
	/* everything else closes at exec; the error pipe is used until then */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3; fd < 1024; fd++)
			if (fd != errw)
				(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}

	if (r->set_ids) {
		if (setgroups((size_t)r->ngroups, r->groups) < 0 || setgid(r->gid) < 0 ||
		    setuid(r->uid) < 0)
			child_fail(errw, LAUNCH_STAGE_IDS);
		if (getuid() != r->uid || geteuid() != r->uid || getgid() != r->gid ||
		    getegid() != r->gid) {
			errno = EPERM;
			child_fail(errw, LAUNCH_STAGE_IDS);
		}
		if (r->uid != 0 && setuid(0) == 0) {
			errno = EPERM;
			child_fail(errw, LAUNCH_STAGE_IDS);
		}
	}
	/* after the uid change, which clears it; then check the parent did not
	 * die before the setting took effect */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(errw, LAUNCH_STAGE_SETUP);
	if (getppid() != parent)
		_exit(127);
	if (chdir("/") < 0)
		child_fail(errw, LAUNCH_STAGE_SETUP);
	execve(r->argv[0], r->argv, r->envp);
	child_fail(errw, LAUNCH_STAGE_EXEC);
}

pid_t launch_spawn(const struct launch_req *r, int *errfd, int *outfd)
{
	int ep[2] = { -1, -1 }, op[2] = { -1, -1 };
	pid_t parent = getpid();
	if (pipe2(ep, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0)
		goto err;
	/* non-blocking read ends only: the server's stderr stays blocking */
	if (fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(op[0], F_SETFL, O_NONBLOCK) < 0)
		goto err;
	pid_t pid = fork();
	if (pid < 0)
		goto err;
	if (pid == 0)
		child(r, ep[1], op[1], parent);
	close(ep[1]);
	close(op[1]);
	*errfd = ep[0];
	*outfd = op[0];
	return pid;
err:;
	int e = errno;
	for (int i = 0; i < 2; i++) {
		if (ep[i] >= 0)
			close(ep[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	errno = e;
	return -1;
}
