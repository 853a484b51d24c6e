/* Escaped servers: see escape.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "escape.h"
#include "log.h"

#define SWEEP_EVERY_MS 100

static uint64_t armed_until, next_sweep;

void escape_arm(uint64_t now, uint64_t ms)
{
	if (now + ms > armed_until)
		armed_until = now + ms;
	if (!next_sweep)
		next_sweep = now + SWEEP_EVERY_MS;
}

uint64_t escape_next(void)
{
	return next_sweep;
}

/* ppid and pgrp of a process from /proc/PID/stat; -1 if it is gone */
static int stat_of(const char *pid, pid_t *ppid, pid_t *pgrp, char *comm, size_t commlen)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "PID (COMM) S PPID PGRP ...": COMM may hold anything, ')' included */
	char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -1;
	size_t cl = (size_t)(close_p - open_p - 1);
	if (cl >= commlen)
		cl = commlen - 1;
	memcpy(comm, open_p + 1, cl);
	comm[cl] = '\0';
	int pp, pg;
	char state;
	if (sscanf(close_p + 1, " %c %d %d", &state, &pp, &pg) != 3)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	return 0;
}

static bool belongs(const struct daemon *d, pid_t pid, pid_t pgrp)
{
	for (const struct session *s = d->sessions; s; s = s->next)
		if (s->pid > 0 && (s->pid == pid || s->pid == pgrp))
			return true;
	return false;
}

void escape_sweep(struct daemon *d, uint64_t now)
{
	if (!next_sweep || now < next_sweep)
		return;
	if (now > armed_until) {
		next_sweep = 0;
		return;
	}
	next_sweep = now + SWEEP_EVERY_MS;
	DIR *dir = opendir("/proc");
	if (!dir)
		return;
	pid_t me = getpid();
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid_t ppid, pgrp;
		char comm[32];
		if (stat_of(de->d_name, &ppid, &pgrp, comm, sizeof comm) < 0 || ppid != me)
			continue;
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (belongs(d, pid, pgrp))
			continue;
		/* ours (we are its subreaper), outside every session: escaped */
		if (kill(pid, SIGKILL) == 0)
			log_warn("escaped pid=%d comm=\"%s\" pgrp=%d: left its session's process group, killed",
				 (int)pid, comm, (int)pgrp);
	}
	closedir(dir);
}
