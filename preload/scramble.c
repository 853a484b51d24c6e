/* scramble [-c FILE] CMD [ARGS...]: run CMD with libscramble.so preloaded
 * (like torsocks CMD).  The shim is the one next to this binary, else the
 * installed one in LIBDIR.  Exit status: CMD's own (we exec it), 127 if
 * CMD was not found, 126 if it could not be run, 2 on a usage error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif
#define SHIM "libscramble.so"

static void usage(void)
{
	fprintf(stderr, "usage: scramble [-c FILE] CMD [ARGS...]\n");
	exit(2);
}

/* Absolute path of the shim into buf. 0/-1. */
static int find_shim(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			int m = snprintf(buf, size, "%s/%s", exe, SHIM);
			if (m > 0 && (size_t)m < size && access(buf, R_OK) == 0)
				return 0;
		}
	}
	int m = snprintf(buf, size, "%s/%s", LIBDIR, SHIM);
	if (m < 0 || (size_t)m >= size || access(buf, R_OK) != 0)
		return -1;
	return 0;
}

/* LD_PRELOAD = shim, then whatever was preloaded already. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	int rc;

	if (old == NULL || old[0] == '\0')
		return setenv("LD_PRELOAD", shim, 1);
	if (asprintf(&val, "%s %s", shim, old) < 0)
		return -1;
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

int main(int argc, char **argv)
{
	char shim[PATH_MAX], conf[PATH_MAX];
	const char *conf_arg = NULL;
	int c;

	/* '+': options end at CMD, whose own options are its business */
	while ((c = getopt(argc, argv, "+c:h")) != -1) {
		switch (c) {
		case 'c':
			conf_arg = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (conf_arg != NULL) {
		/* absolute, so that CMD may change directory */
		if (realpath(conf_arg, conf) == NULL) {
			fprintf(stderr, "scramble: %s: %s\n", conf_arg, strerror(errno));
			return 2;
		}
		if (setenv("SCRAMBLE_CONF", conf, 1) != 0) {
			fprintf(stderr, "scramble: setenv: %s\n", strerror(errno));
			return 1;
		}
	}
	if (find_shim(shim, sizeof shim) != 0) {
		fprintf(stderr, "scramble: cannot find %s next to this program or in %s\n",
			SHIM, LIBDIR);
		return 1;
	}
	/* ld.so splits LD_PRELOAD at spaces and colons */
	if (strpbrk(shim, " :") != NULL) {
		fprintf(stderr, "scramble: %s: a space or colon in the path cannot go in LD_PRELOAD\n",
			shim);
		return 1;
	}
	if (set_preload(shim) != 0) {
		fprintf(stderr, "scramble: setenv: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[optind], argv + optind);
	c = errno;
	fprintf(stderr, "scramble: %s: %s\n", argv[optind], strerror(c));
	return c == ENOENT ? 127 : 126;
}
