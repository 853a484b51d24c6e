/* scramblectl keygen [-f] FILE: a key for auth = yes (protocol v2), 32
 * random bytes from libsodium, written like a table (ctl_write_secret). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "auth.h"
#include "ctl_file.h"

int ctl_keygen_main(int argc, char **argv);

int ctl_keygen_main(int argc, char **argv)
{
	unsigned char key[AUTH_KEY_BYTES];
	int force = 0, opt, rc = 1;

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
	auth_random(key, sizeof key);
	if (ctl_write_secret(path, key, sizeof key, force) == 0)
		rc = 0;
	explicit_bzero(key, sizeof key);
	return rc;
}
