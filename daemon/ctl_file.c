/* Atomic writes of secret files for scramblectl gentable and keygen. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl_file.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int ctl_write_secret(const char *path, const void *data, size_t len, int force)
{
	char tmp[4096], *dirc = strdup(path);
	int fd = -1, rc = -1;

	if (!dirc) {
		fprintf(stderr, "scramblectl: out of memory\n");
		return -1;
	}
	int n = snprintf(tmp, sizeof tmp, "%s/.scramble-secret.XXXXXX", dirname(dirc));
	free(dirc);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		fprintf(stderr, "scramblectl: %s: path too long\n", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "scramblectl: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0640) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "scramblectl: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (force ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "scramblectl: %s exists; use -f to replace it\n", path);
		else
			fprintf(stderr, "scramblectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (rc < 0 || !force)
		unlink(tmp);   /* after a rename the name is gone already */
	return rc;
}
