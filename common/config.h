/* Configuration (SPEC section 7), parsed with libconfuse.  One file holds
 * table, service (server side) and target (client side) sections. */
#ifndef SCRAMBLE_CONFIG_H
#define SCRAMBLE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "addr.h"
#include "table.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define SCRAMBLE_DEFAULT_CONF SYSCONFDIR "/scramble/scramble.conf"

/* MODE_EMBEDDED: served by a program through libscramble-api; scrambled
 * skips it. */
enum service_mode { MODE_EXEC, MODE_INETD, MODE_FORWARD, MODE_EMBEDDED };
enum watch_kind { WATCH_PROCFS, WATCH_DIAG };

struct conf_table {
	char *name;
	char *file;
	struct port_range range;
	struct table table;        /* loaded by config_load_tables() */
	bool loaded;
	int line;
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct service {
	char *name;
	int line;
	struct listen_addr *listen;
	size_t nlisten;
	struct conf_table *table;  /* points into config->tables */
	unsigned offsets;          /* SCRAMBLE_OFF_* */
	enum service_mode mode;
	char *command;             /* exec/inetd */
	struct listen_addr backend;/* forward */
	bool has_backend;
	char *user, *group;        /* NULL: the daemon's own */
	char **env;                /* "K=V", NULL-terminated */
	size_t nenv;
	unsigned connect_timeout;  /* s, default 60 */
	unsigned start_timeout;    /* s, default 5 */
	unsigned login_timeout;    /* s, default 30 */
	char *login_log;           /* path, "-" = the server's stderr, NULL = off */
	char *login_match;         /* regex (POSIX ERE) with %a */
	struct cidr *allow;        /* empty list: every address allowed */
	size_t nallow;
	unsigned max_pending;      /* default 16 */
	unsigned per_source;       /* default 4 */
	unsigned rate_count;       /* "5/10s": 5 rendezvous ... */
	unsigned rate_window;      /* ... per 10 s; 0/0 = no limit */
	unsigned deny_time;        /* s, default 60 */
	unsigned guard;            /* s, default 2 */
	unsigned kill_grace;       /* s, default 2 */
	unsigned poll_ms;          /* default 200 */
	enum watch_kind watch;
	bool auth;                 /* protocol v2 (inetd/forward only) */
	char *key_file;            /* required with auth */
	unsigned char key[32];     /* loaded by config_load_tables() */
	bool key_loaded;
};

struct target {
	char *name;
	int line;
	char **hosts;              /* names or literals, resolved by the shim */
	size_t nhosts;
	uint16_t port;             /* the well-known port the application dials */
	uint16_t rendezvous;
	struct conf_table *table;
	unsigned offsets;
	unsigned timeout;          /* s, default 5 */
	bool auth;                 /* expect protocol v2, refuse v1 */
	char *key_file;            /* required with auth */
	unsigned char key[32];     /* loaded by config_load_tables() */
	bool key_loaded;
};

struct config {
	char *path;
	struct conf_table *tables;
	size_t ntables;
	struct service *services;
	size_t nservices;
	struct target *targets;
	size_t ntargets;
};

/* Errors are collected, each "FILE:LINE: problem", so a check can print them
 * all. */
struct config_errors {
	char **msgs;
	size_t n;
};
void config_errors_add(struct config_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void config_errors_free(struct config_errors *e);

/* Parse and validate path.  On success returns a config (free with
 * config_free) and errs is empty; on any error returns NULL and errs holds
 * every problem found. */
struct config *config_load(const char *path, struct config_errors *errs);

/* Same, from a buffer (name used in messages).  Used by tests and fuzzing;
 * does not check file ownership. */
struct config *config_parse_buf(const char *buf, size_t len, const char *name,
				struct config_errors *errs);

/* Load every table file the configuration names (and every key file of
 * the sections with auth = yes) (only those used by the
 * wanted side: services, targets or both).  Errors appended; -1 if any. */
#define CONF_SIDE_SERVER 1
#define CONF_SIDE_CLIENT 2
int config_load_tables(struct config *c, int sides, struct config_errors *errs);

/* The same for one service or one target only (the embedding API). */
int config_load_service(struct config *c, struct service *s, struct config_errors *errs);
int config_load_target(struct config *c, struct target *t, struct config_errors *errs);

struct service *config_find_service(struct config *c, const char *name);
void config_free(struct config *c);

const char *mode_name(enum service_mode m);

#endif
