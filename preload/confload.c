/* libscramble-conf.so: configuration loading for the shim (see confload.h).
 * Everything here runs once per process, inside the shim's pthread_once,
 * with the shim's re-entrancy flag set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "confload.h"

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
	if (config_load_tables(c, CONF_SIDE_CLIENT, &errs) != 0)
		goto err;
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
