/* scramblectl keygen [-f] FILE: a key for auth = yes (protocol v2), 32
 * random bytes from libsodium, written like a table (cmd_gentable): to a
 * temporary file in the same directory with mode 0640, synced, then
 * linked into place (refusing an existing FILE) or renamed over it (-f). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "auth.h"

int ctl_keygen_main(int argc, char **argv);

static int write_all(int fd, const unsigned char *buf, size_t len)
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

int ctl_keygen_main(int argc, char **argv)
{
	unsigned char key[AUTH_KEY_BYTES];
	char tmp[4096], *dirc = NULL;
	int force = 0, opt, fd = -1, rc = 1;

	while ((opt = getopt(argc, argv, "f")) != -1) {
		if (opt == 'f') {
			force = 1;
			continue;
		}
		fprintf(stderr, "usage: scramblectl keygen [-f] FILE\n");
		return 2;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: scramblectl keygen [-f] FILE\n");
		return 2;
	}
	const char *path = argv[optind];
	if (auth_init() < 0) {
		fprintf(stderr, "scramblectl: libsodium cannot be initialised\n");
		return 1;
	}
	if (!(dirc = strdup(path)))
		return 1;
	int n = snprintf(tmp, sizeof tmp, "%s/.scramble-key.XXXXXX", dirname(dirc));
	if (n < 0 || (size_t)n >= sizeof tmp) {
		fprintf(stderr, "scramblectl: %s: path too long\n", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "scramblectl: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	auth_random(key, sizeof key);
	if (fchmod(fd, 0640) < 0 || write_all(fd, key, sizeof key) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "scramblectl: %s: %s\n", tmp, strerror(errno));
		goto out_unlink;
	}
	if (force ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "scramblectl: %s exists; use -f to replace it\n", path);
		else
			fprintf(stderr, "scramblectl: %s: %s\n", path, strerror(errno));
		goto out_unlink;
	}
	if (!force)
		unlink(tmp);
	rc = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	explicit_bzero(key, sizeof key);
	if (fd >= 0)
		close(fd);
	free(dirc);
	return rc;
}
