/* Configuration loading for the daemon (see confcheck.h). */
#include <stdlib.h>
#include <string.h>
#include "cmdline.h"
#include "confcheck.h"
#include "launch.h"

static void check_service(const struct config *c, const struct service *s, struct config_errors *errs)
{
	char err[256];
	if (s->command && cmd_check(s->command, err, sizeof err) < 0)
		config_errors_add(errs, "%s:%d: service \"%s\": %s", c->path, s->line, s->name, err);
	struct launch_req r = { .stdio_fd = -1 };
	if (launch_resolve_ids(s, &r, err, sizeof err) < 0)
		config_errors_add(errs, "%s:%d: service \"%s\": %s", c->path, s->line, s->name, err);
	free(r.groups);
	if (s->nlisten == 0)
		config_errors_add(errs, "%s:%d: service \"%s\": no listen address", c->path, s->line, s->name);
	if (!s->table)
		config_errors_add(errs, "%s:%d: service \"%s\": no table", c->path, s->line, s->name);
}

struct gen *gen_load(const char *path, const char *only_service, struct config_errors *errs)
{
	struct config *c = config_load(path, errs);
	if (!c)
		return NULL;
	size_t before = errs->n, used = 0;
	for (size_t i = 0; i < c->nservices; i++) {
		if (only_service && strcmp(c->services[i].name, only_service) != 0)
			continue;
		used++;
		check_service(c, &c->services[i], errs);
	}
	if (only_service && used == 0)
		config_errors_add(errs, "%s: no service \"%s\"", path, only_service);
	else if (used == 0)
		config_errors_add(errs, "%s: no service section: nothing to serve", path);
	if (errs->n == before)
		(void)config_load_tables(c, CONF_SIDE_SERVER, errs);
	if (errs->n != before) {
		config_free(c);
		return NULL;
	}
	struct gen *g = calloc(1, sizeof *g);
	if (!g) {
		config_errors_add(errs, "%s: out of memory", path);
		config_free(c);
		return NULL;
	}
	g->conf = c;
	return g;
}
