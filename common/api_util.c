/* Helpers of the embedding API (api_internal.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "ports.h"

void api_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void api_err_conf(char *err, size_t errlen, struct config_errors *e)
{
	if (e->n > 0)
		api_err(err, errlen, "%s", e->msgs[0]);
	else
		api_err(err, errlen, "configuration refused");
	config_errors_free(e);
}

int api_table_build(struct conf_table *ct, const char *name, uint16_t lo, uint16_t hi,
		    const uint16_t *table)
{
	uint8_t seen[PORT_BITMAP_BYTES];
	size_t n;

	if (table == NULL || lo == 0 || lo > hi) {
		errno = EINVAL;
		return -1;
	}
	n = (size_t)hi - lo + 1;
	memset(seen, 0, sizeof seen);
	for (size_t i = 0; i < n; i++) {
		if (table[i] < lo || table[i] > hi || port_marked(seen, table[i])) {
			errno = EINVAL;
			return -1;
		}
		port_mark(seen, table[i]);
	}
	memset(ct, 0, sizeof *ct);
	ct->table.map = malloc(n * sizeof *ct->table.map);
	ct->name = strdup(name);
	if (ct->table.map == NULL || ct->name == NULL) {
		free(ct->table.map);
		free(ct->name);
		ct->table.map = NULL;
		ct->name = NULL;
		errno = ENOMEM;
		return -1;
	}
	memcpy(ct->table.map, table, n * sizeof *ct->table.map);
	ct->range = (struct port_range){ lo, hi };
	ct->table.range = ct->range;
	ct->loaded = true;
	return 0;
}

int api_name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}
