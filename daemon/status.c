/* Status socket (see status.h).  Text, one session a line, tab-separated:
 * SERVICE CLIENT DECOY VALID PID AGE STATE; first line a header. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "sessions.h"
#include "status.h"

static int fill_sun(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* Is a daemon answering at path? */
static bool live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return ok;
}

int status_open(struct daemon *d)
{
	struct sockaddr_un sun;
	d->status_fd = -1;
	d->status_owned = false;
	d->status_ev = (struct evsrc){ EV_STATUS, NULL };
	if (!d->status_path || !*d->status_path)
		return 0;
	if (fill_sun(d->status_path, &sun) < 0)
		goto err;
	if (live(&sun)) {
		log_warn("status socket %s is in use by another daemon; scramblectl status will not see this one",
			 d->status_path);
		return 0;
	}
	struct stat st;
	if (lstat(d->status_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("status socket %s: exists and is not a socket", d->status_path);
			return -1;
		}
		if (unlink(d->status_path) < 0)
			goto err;
	}
	d->status_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->status_fd < 0)
		goto err;
	mode_t old = umask(077);
	int rc = bind(d->status_fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc < 0 || chmod(d->status_path, 0600) < 0 || listen(d->status_fd, 16) < 0)
		goto err;
	d->status_owned = true;
	if (ep_add(d, d->status_fd, EPOLLIN, &d->status_ev) < 0)
		goto err;
	return 0;
err:
	log_err("status socket %s: %s", d->status_path, strerror(errno));
	status_close(d);
	return -1;
}

static void format_sessions(struct daemon *d, FILE *f)
{
	uint64_t now = now_ms();
	fprintf(f, "SERVICE\tCLIENT\tDECOY\tVALID\tPID\tAGE\tSTATE\n");
	for (struct session *s = d->sessions; s; s = s->next)
		fprintf(f, "%s\t%s\t%u\t%u\t%d\t%llus\t%s\n", s->svc->name, s->client_str, s->decoy,
			s->port, (int)s->pid, (unsigned long long)((now - s->t_start) / 1000),
			session_state_name(s->state));
}

void status_on_accept(struct daemon *d)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(d->status_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct ucred cr;
		socklen_t cl = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
		    (cr.uid != 0 && cr.uid != geteuid())) {
			close(fd);
			continue;
		}
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			format_sessions(d, f);
			if (fclose(f) == 0) {
				/* the socket buffer holds far more than a status list
				 * under max_pending; a reader that does not read loses it */
				struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
				(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
				ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
				(void)w;
			}
			free(buf);
		}
		close(fd);
	}
}

void status_close(struct daemon *d)
{
	if (d->status_fd >= 0) {
		ep_del(d, d->status_fd);
		close(d->status_fd);
		d->status_fd = -1;
	}
	if (d->status_owned) {
		(void)unlink(d->status_path);
		d->status_owned = false;
	}
}
