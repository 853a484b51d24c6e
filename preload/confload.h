/* The one entry point of libscramble-conf.so, the part of the shim that
 * carries libconfuse.  The shim dlopen()s it only when a configuration file
 * exists, so a process that never dials a scrambled target never loads
 * libconfuse. */
#ifndef SCRAMBLE_CONFLOAD_H
#define SCRAMBLE_CONFLOAD_H

#include <stddef.h>
#include "auth.h"
#include "targets.h"

#define SCRAMBLE_CONF_LIB   "libscramble-conf.so"
#define SCRAMBLE_CONF_ENTRY "scramble_conf_load"

/* Load path (config_load + config_load_tables(CONF_SIDE_CLIENT) +
 * target_set_build).  0: *out is a new target set (never freed by the shim)
 * and err may hold warnings (unresolvable hosts), "" if none.  -1: *out is
 * NULL and err says why (untrusted file, syntax, tables...). */
typedef int (*scramble_conf_load_fn)(const char *path, struct target_set **out,
				     char *err, size_t errlen);

int scramble_conf_load(const char *path, struct target_set **out, char *err, size_t errlen);

/* Protocol v2 (auth = yes): auth_client() of common/auth.c, exported so
 * that the shim, which links no libsodium, can reach it.  The shim keeps
 * libscramble-conf.so (and with it libsodium) loaded only when a target
 * has auth = yes. */
#define SCRAMBLE_AUTH_ENTRY "scramble_auth_client"
int scramble_auth_client(const uint8_t key[AUTH_KEY_BYTES], const char *name,
			 const struct auth_line *l, time_t now, const struct ipaddr *me,
			 struct port_range r, uint8_t tag[AUTH_TAG_BYTES]);

#endif
