/* Shared by the files of the embedding API (common/api_*.c): argument
 * checks and the error text of the loaders. */
#ifndef SCRAMBLE_API_INTERNAL_H
#define SCRAMBLE_API_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "scramble.h"

#define API_EXPORT __attribute__((visibility("default")))

/* errlen bytes of text into err (if any), printf-style. */
void api_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The first collected configuration error into err; frees e. */
void api_err_conf(char *err, size_t errlen, struct config_errors *e);

/* A conf_table built from an array (scramble_*_new): range and map.
 * 0, or -1 with errno EINVAL (not a permutation of [lo, hi]) / ENOMEM. */
int api_table_build(struct conf_table *ct, const char *name, uint16_t lo, uint16_t hi,
		    const uint16_t *table);

/* A name for a section: 1..255 bytes, no control characters. */
int api_name_ok(const char *name);

/* scramble_connect on an internal target (scramble-connect(1) uses it
 * with the target its configuration matched). */
int api_connect(int fd, const struct sockaddr *sa, socklen_t len, const struct target *t);

#endif
