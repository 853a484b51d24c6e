/* Following a log file for the login line ([0026]).  The file is read from
 * its size when the server was launched; a shrinking file (truncation) is
 * read again from the start; a new inode at the path (rotation) is read
 * from the start after the rest of the old one.  Reads are bounded per
 * call so a huge log cannot stall the loop. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "login.h"
#include "loginmatch.h"

#define LOGIN_READ_MAX (1 << 20)   /* bytes per poll */

struct login_watch {
	regex_t re;
	char *path;          /* NULL: lines come from login_feed() */
	int fd;
	dev_t dev;
	ino_t ino;
	off_t off;
	char line[2048];
	size_t len;
	bool overlong;       /* current line exceeded the buffer */
	bool matched;
};

struct login_watch *login_start(const char *path, const char *match, const char *addr,
				char *err, size_t errlen)
{
	struct login_watch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fd = -1;
	if (login_compile(&w->re, match, addr, err, errlen) < 0) {
		free(w);
		return NULL;
	}
	if (path && strcmp(path, "-") != 0) {
		w->path = strdup(path);
		if (!w->path) {
			login_free(w);
			return NULL;
		}
		w->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		if (w->fd >= 0 && fstat(w->fd, &st) == 0) {
			w->dev = st.st_dev;
			w->ino = st.st_ino;
			w->off = st.st_size;
		} else if (w->fd >= 0) {
			close(w->fd);
			w->fd = -1;
		}
	}
	return w;
}

bool login_feed(struct login_watch *w, const char *line, size_t len)
{
	if (!w->matched && login_line_matches(&w->re, line, len))
		w->matched = true;
	return w->matched;
}

/* Split bytes into lines and match them. */
static void feed_bytes(struct login_watch *w, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n') {
			if (!w->overlong)
				login_feed(w, w->line, w->len);
			w->len = 0;
			w->overlong = false;
		} else if (w->len < sizeof w->line) {
			w->line[w->len++] = b[i];
		} else {
			w->overlong = true;   /* cannot be judged; skipped */
		}
	}
}

/* Read from the current fd up to EOF (bounded). */
static void drain(struct login_watch *w)
{
	char buf[8192];
	size_t total = 0;
	while (w->fd >= 0 && total < LOGIN_READ_MAX) {
		ssize_t r = pread(w->fd, buf, sizeof buf, w->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		w->off += r;
		total += (size_t)r;
		feed_bytes(w, buf, (size_t)r);
	}
}

bool login_poll(struct login_watch *w)
{
	if (w->matched || !w->path)
		return w->matched;
	struct stat st;
	if (stat(w->path, &st) < 0) {
		drain(w);              /* rotated away, not yet recreated */
		return w->matched;
	}
	if (w->fd >= 0 && (st.st_dev != w->dev || st.st_ino != w->ino)) {
		drain(w);              /* the rest of the old file first */
		close(w->fd);
		w->fd = -1;
	}
	if (w->fd < 0) {
		w->fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (w->fd < 0)
			return w->matched;
		struct stat fst;
		if (fstat(w->fd, &fst) < 0) {
			close(w->fd);
			w->fd = -1;
			return w->matched;
		}
		w->dev = fst.st_dev;
		w->ino = fst.st_ino;
		w->off = 0;            /* a new file: all of it is new */
		w->len = 0;
	} else if (st.st_size < w->off) {
		w->off = 0;            /* truncated */
		w->len = 0;
	}
	drain(w);
	return w->matched;
}

bool login_matched(const struct login_watch *w)
{
	return w->matched;
}

bool login_uses_stderr(const struct login_watch *w)
{
	return w->path == NULL;
}

void login_free(struct login_watch *w)
{
	if (!w)
		return;
	regfree(&w->re);
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w);
}
