/* The client half of the embedding API (scramble.h): targets and
 * scramble_connect, on the same dial as the shim (dial.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "api_internal.h"
#include "auth.h"
#include "dial.h"

struct scramble_target {
	struct target t;            /* what dial.c reads */
	struct conf_table table;    /* built in code */
	struct config *conf;        /* loaded: owns what t points to */
};

struct scramble_target *scramble_target_new(const char *name, uint16_t rendezvous, uint16_t lo,
					    uint16_t hi, const uint16_t *table)
{
	struct scramble_target *st;

	if (!api_name_ok(name) || rendezvous == 0) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return NULL;
	if (api_table_build(&st->table, name, lo, hi, table) < 0) {
		free(st);
		return NULL;
	}
	st->t.name = st->table.name;    /* one copy of the name, freed with the table */
	st->t.table = &st->table;
	st->t.rendezvous = rendezvous;
	st->t.timeout = 5;
	return st;
}

static struct target *find_target(struct config *c, const char *name)
{
	if (name == NULL)
		return c->ntargets == 1 ? &c->targets[0] : NULL;
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}

struct scramble_target *scramble_target_load(const char *path, const char *name, char *err,
					     size_t errlen)
{
	struct config_errors errs = { 0 };
	struct scramble_target *st;
	struct config *c;
	struct target *t;

	if (path == NULL)
		path = SCRAMBLE_DEFAULT_CONF;
	c = config_load(path, &errs);
	if (c == NULL) {
		api_err_conf(err, errlen, &errs);
		errno = access(path, F_OK) != 0 ? ENOENT : EINVAL;
		return NULL;
	}
	t = find_target(c, name);
	if (t == NULL) {
		if (name)
			api_err(err, errlen, "%s: no target \"%s\"", path, name);
		else
			api_err(err, errlen, "%s: %zu targets, name one", path, c->ntargets);
		config_free(c);
		errno = ENOENT;
		return NULL;
	}
	if (config_load_target(c, t, &errs) < 0 || (t->auth && auth_init() < 0)) {
		if (errs.n == 0)
			config_errors_add(&errs, "%s:%d: libsodium cannot be initialised", path, t->line);
		api_err_conf(err, errlen, &errs);
		config_free(c);
		errno = EINVAL;
		return NULL;
	}
	config_errors_free(&errs);
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		config_free(c);
		return NULL;
	}
	st->t = *t;
	st->conf = c;
	return st;
}

int scramble_target_set_offsets(struct scramble_target *t, unsigned offsets)
{
	if (t == NULL || (offsets & ~(SCRAMBLE_OFF_HOUR | SCRAMBLE_OFF_OCTET))) {
		errno = EINVAL;
		return -1;
	}
	t->t.offsets = offsets;
	return 0;
}

int scramble_target_set_timeout(struct scramble_target *t, unsigned seconds)
{
	if (t == NULL || seconds == 0 || seconds > 3600) {
		errno = EINVAL;
		return -1;
	}
	t->t.timeout = seconds;
	return 0;
}

int scramble_target_set_key(struct scramble_target *t, const uint8_t key[SCRAMBLE_KEY_BYTES])
{
	if (t == NULL || key == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (auth_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	memcpy(t->t.key, key, SCRAMBLE_KEY_BYTES);
	t->t.key_loaded = true;
	t->t.auth = true;
	return 0;
}

void scramble_target_free(struct scramble_target *t)
{
	if (t == NULL)
		return;
	sodium_memzero(t->t.key, sizeof t->t.key);
	if (t->conf) {
		for (size_t i = 0; i < t->conf->ntargets; i++)
			sodium_memzero(t->conf->targets[i].key, sizeof t->conf->targets[i].key);
		config_free(t->conf);
	}
	table_free(&t->table.table);
	free(t->table.name);
	free(t);
}

/* The checks connect(2) would make, with its errno, before any traffic. */
static int check_args(int fd, const struct sockaddr *sa, socklen_t len, const struct target *t)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof local, tlen;
	int type = 0;

	if (t == NULL) {
		errno = EINVAL;
		return -1;
	}
	tlen = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
		return -1;                       /* EBADF, ENOTSOCK */
	if (sa == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage)) {
		errno = EINVAL;
		return -1;
	}
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (len < (sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					    : sizeof(struct sockaddr_in6))) {
		errno = EINVAL;
		return -1;
	}
	if (type != SOCK_STREAM) {
		errno = EPROTOTYPE;
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
		return -1;
	if (local.ss_family != sa->sa_family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

int api_connect(int fd, const struct sockaddr *sa, socklen_t len, const struct target *t)
{
	static const struct dial_io io = { connect, sendto };
	struct sockaddr_storage valid;
	uint8_t tag[AUTH_TAG_BYTES];
	enum dial_pass why;
	int rc;

	if (check_args(fd, sa, len, t) < 0)
		return -1;
	if (t->auth && auth_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	rc = dial_prepare(t, fd, sa, len, t->auth ? auth_client : NULL, &valid, tag, &why);
	if (rc == 1)    /* connecting or connected, v4-mapped on v6-only: as connect(2) says */
		return connect(fd, sa, len);
	if (rc < 0)
		return -1;
	if (t->auth)
		rc = dial_connect_auth(t, fd, (struct sockaddr *)&valid, len, tag, &io);
	else
		rc = connect(fd, (struct sockaddr *)&valid, len);
	sodium_memzero(tag, sizeof tag);
	return rc;
}

int scramble_connect(int fd, const struct sockaddr *sa, socklen_t len,
		     const struct scramble_target *t)
{
	return api_connect(fd, sa, len, t ? &t->t : NULL);
}
