/* Writing a secret file (a table, a key) for scramblectl. */
#ifndef SCRAMBLE_CTL_FILE_H
#define SCRAMBLE_CTL_FILE_H

#include <stddef.h>

/* Write len bytes to path atomically with mode 0640: a temporary file in
 * the same directory, synced, then linked into place (an existing path is
 * refused) or, with force, renamed over it.  Messages go to stderr.
 * 0 on success, -1 on failure (nothing left behind). */
int ctl_write_secret(const char *path, const void *data, size_t len, int force);

#endif
