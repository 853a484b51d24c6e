/* libscramble-conf.so: configuration loading for the shim (see confload.h).
 * Everything here runs once per process, inside the shim's pthread_once,
 * with the shim's re-entrancy flag set. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "confload.h"

/* SPEC section 2: who may read a table is who may use the service.  A
 * target whose table this process may not read (EACCES for the effective
 * ids) is not this user's: it is dropped quietly, so that a global
 * /etc/ld.so.preload does not log a refusal in every other user's
 * programs.  Any other problem with the table (owner, mode, syntax) still
 * refuses the whole configuration in config_load_tables. */
static void drop_unreadable_targets(struct config *c)
{
	size_t i, kept = 0;

	for (i = 0; i < c->ntargets; i++) {
		struct target *t = &c->targets[i];
		bool mine = t->table == NULL || t->table->file == NULL ||
			    faccessat(AT_FDCWD, t->table->file, R_OK, AT_EACCESS) == 0 ||
			    errno != EACCES;
		/* the same for the key of an auth = yes target */
		if (mine && t->auth && t->key_file != NULL &&
		    faccessat(AT_FDCWD, t->key_file, R_OK, AT_EACCESS) != 0 && errno == EACCES)
			mine = false;
		if (mine) {
			if (kept != i)
				c->targets[kept] = *t;
			kept++;
			continue;
		}
		for (size_t j = 0; j < t->nhosts; j++)
			free(t->hosts[j]);
		free(t->hosts);
		free(t->name);
		free(t->key_file);
		explicit_bzero(t->key, sizeof t->key);
	}
	c->ntargets = kept;
}

/* Join every collected message into err, "; "-separated, truncated. */
static void join_errors(const struct config_errors *errs, char *err, size_t errlen)
{
	size_t i, used = 0;

	if (errlen == 0)
		return;
	err[0] = '\0';
	for (i = 0; i < errs->n && used + 1 < errlen; i++) {
		int n = snprintf(err + used, errlen - used, "%s%s", i ? "; " : "", errs->msgs[i]);
		if (n < 0)
			break;
		used += (size_t)n;
		if (used >= errlen)
			used = errlen - 1;
	}
}

__attribute__((visibility("default")))
int scramble_conf_load(const char *path, struct target_set **out, char *err, size_t errlen)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	struct target_set *ts = NULL;
	int rc = -1;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	c = config_load(path, &errs);
	if (c == NULL)
		goto err;
	drop_unreadable_targets(c);
	if (config_load_tables(c, CONF_SIDE_CLIENT, &errs) != 0)
		goto err;
	for (size_t i = 0; i < c->ntargets; i++) {
		if (c->targets[i].auth && auth_init() < 0) {
			config_errors_add(&errs, "%s: libsodium cannot be initialised", path);
			goto err;
		}
	}
	ts = malloc(sizeof *ts);
	if (ts == NULL) {
		config_errors_add(&errs, "%s: out of memory", path);
		goto err;
	}
	/* target_set_build owns c from here on, also when it fails */
	if (target_set_build(ts, c, &errs) != 0) {
		c = NULL;
		config_errors_add(&errs, "%s: out of memory", path);
		goto err;
	}
	c = NULL;
	*out = ts;
	ts = NULL;
	rc = 0;
err:
	join_errors(&errs, err, errlen);
	config_errors_free(&errs);
	if (c != NULL)
		config_free(c);
	free(ts);
	return rc;
}

__attribute__((visibility("default")))
int scramble_auth_client(const uint8_t key[AUTH_KEY_BYTES], const char *name,
			 const struct auth_line *l, time_t now, const struct ipaddr *me,
			 struct port_range r, uint8_t tag[AUTH_TAG_BYTES])
{
	return auth_client(key, name, l, now, me, r, tag);
}
