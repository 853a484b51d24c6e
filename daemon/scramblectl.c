/* scramblectl: gentable, map, check, status. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "config.h"
#include "mapping.h"
#include "table.h"
#include "ctl_file.h"

/* daemon/ctl_status.c: `scramblectl status`, talks to a running scrambled */
int ctl_status_main(int argc, char **argv) __attribute__((weak));
/* daemon/ctl_keygen.c: `scramblectl keygen`, a key for auth = yes */
int ctl_keygen_main(int argc, char **argv);

static void usage(void)
{
	fprintf(stderr,
		"usage: scramblectl gentable [-r LO-HI] [-f] FILE\n"
		"       scramblectl keygen [-f] FILE\n"
		"       scramblectl map -t TABLE [-r LO-HI] [--hour H | --time UNIX] [--client ADDR]\n"
		"                       [--offsets hour,client-octet] DECOY\n"
		"       scramblectl check [-c FILE]\n"
		"       scramblectl status [-S SOCKET]\n");
}

/* ---- gentable ---- */

/* uniform in [0, n) from getrandom(2), without modulo bias */
static int random_below(uint32_t n, uint32_t *out)
{
	uint32_t limit = UINT32_MAX - (UINT32_MAX % n), x;
	do {
		ssize_t r = getrandom(&x, sizeof x, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof x)
			return -1;
	} while (x >= limit);
	*out = x % n;
	return 0;
}

static char *table_text(struct port_range r, size_t *len)
{
	size_t n = (size_t)r.hi - r.lo + 1, cap = n * 13 + 128, o = 0;
	uint16_t *perm = malloc(n * sizeof *perm);
	char *out = malloc(cap);

	if (!perm || !out)
		goto err;
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint16_t)(r.lo + i);
	for (size_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
		uint32_t j;
		if (random_below((uint32_t)i + 1, &j) < 0)
			goto err;
		uint16_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	o += (size_t)snprintf(out + o, cap - o,
			      "# scramble table: decoy -> intermediate port, range %u-%u\n"
			      "# secret: readable only by those who may use the service\n", r.lo, r.hi);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%zu %u\n", r.lo + i, perm[i]);
	free(perm);
	*len = o;
	return out;
err:
	free(perm);
	free(out);
	return NULL;
}

static int cmd_gentable(int argc, char **argv)
{
	struct port_range r = { 1024, 65535 };
	int force = 0, opt, rc;
	char *text;
	size_t len;

	while ((opt = getopt(argc, argv, "r:f")) != -1) {
		if (opt == 'r' && range_parse(optarg, &r) == 0)
			continue;
		if (opt == 'f') {
			force = 1;
			continue;
		}
		if (opt == 'r')
			fprintf(stderr, "scramblectl: bad range \"%s\" (want LO-HI within 1-65535)\n", optarg);
		usage();
		return 2;
	}
	if (argc - optind != 1) {
		usage();
		return 2;
	}
	if (!(text = table_text(r, &len))) {
		fprintf(stderr, "scramblectl: cannot make a table: %s\n", strerror(errno));
		return 1;
	}
	rc = ctl_write_secret(argv[optind], text, len, force) == 0 ? 0 : 1;
	explicit_bzero(text, len);
	free(text);
	return rc;
}

/* ---- map ---- */

static int parse_long(const char *s, long min, long max, long *v)
{
	char *end;
	errno = 0;
	*v = strtol(s, &end, 10);
	return (errno || end == s || *end || *v < min || *v > max) ? -1 : 0;
}

static int parse_offsets_arg(const char *s, unsigned *off)
{
	char *copy = strdup(s), *save = NULL;
	int rc = 0;
	if (!copy)
		return -1;
	*off = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "hour") == 0)
			*off |= SCRAMBLE_OFF_HOUR;
		else if (strcmp(tok, "client-octet") == 0)
			*off |= SCRAMBLE_OFF_OCTET;
		else if (strcmp(tok, "none") != 0)
			rc = -1;
	}
	free(copy);
	return rc;
}

static int load_table_any_range(const char *path, const char *range, struct table *t)
{
	struct table_error err;
	struct port_range r;
	size_t len;
	char *buf = file_read_trusted(path, 8u << 20, &len, &err);
	int rc = -1;

	if (!buf) {
		fprintf(stderr, "scramblectl: %s\n", err.msg);
		return -1;
	}
	if (range ? range_parse(range, &r) < 0 : table_guess_range(buf, len, &r) < 0)
		fprintf(stderr, "scramblectl: %s: no range (give -r LO-HI)\n", path);
	else if (table_parse(buf, len, path, r, t, &err) < 0)
		fprintf(stderr, "scramblectl: %s\n", err.msg);
	else
		rc = 0;
	free(buf);
	return rc;
}

static int cmd_map(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hour", required_argument, NULL, 'H' },
		{ "time", required_argument, NULL, 'T' },
		{ "client", required_argument, NULL, 'C' },
		{ "offsets", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	const char *tpath = NULL, *range = NULL;
	long hour = -1, unix_time = -1, decoy;
	struct ipaddr client;
	int have_client = 0, opt;
	unsigned off = 0;
	struct table t;

	while ((opt = getopt_long(argc, argv, "t:r:", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': tpath = optarg; break;
		case 'r': range = optarg; break;
		case 'H':
			if (parse_long(optarg, 0, 23, &hour) < 0) {
				fprintf(stderr, "scramblectl: --hour wants 0-23\n");
				return 2;
			}
			break;
		case 'T':
			if (parse_long(optarg, 0, (long)INT64_MAX / 2, &unix_time) < 0) {
				fprintf(stderr, "scramblectl: --time wants a unix time\n");
				return 2;
			}
			break;
		case 'C':
			if (addr_parse(optarg, &client) < 0) {
				fprintf(stderr, "scramblectl: --client: bad address \"%s\"\n", optarg);
				return 2;
			}
			have_client = 1;
			break;
		case 'O':
			if (parse_offsets_arg(optarg, &off) < 0) {
				fprintf(stderr, "scramblectl: --offsets wants hour,client-octet\n");
				return 2;
			}
			break;
		default: usage(); return 2;
		}
	}
	if (!tpath || argc - optind != 1) {
		usage();
		return 2;
	}
	if (load_table_any_range(tpath, range, &t) < 0)
		return 1;
	if (parse_long(argv[optind], t.range.lo, t.range.hi, &decoy) < 0) {
		fprintf(stderr, "scramblectl: decoy \"%s\" is not a port in %u-%u\n", argv[optind], t.range.lo, t.range.hi);
		table_free(&t);
		return 2;
	}
	if ((off & SCRAMBLE_OFF_OCTET) && !have_client) {
		fprintf(stderr, "scramblectl: the client-octet offset needs --client ADDR\n");
		table_free(&t);
		return 2;
	}
	if (hour < 0)
		hour = map_hour(unix_time >= 0 ? (time_t)unix_time : time(NULL));
	int octet = have_client ? addr_last_byte(&client) : 0;
	uint16_t inter = table_lookup(&t, (uint16_t)decoy);
	printf("decoy=%ld\nintermediate=%u\nhour=%ld%s\nclient-octet=%d%s\nvalid=%u\n", decoy, inter,
	       hour, (off & SCRAMBLE_OFF_HOUR) ? "" : " (offset off)",
	       octet, (off & SCRAMBLE_OFF_OCTET) ? "" : " (offset off)",
	       map_valid(inter, off, (int)hour, octet, t.range));
	table_free(&t);
	return 0;
}

/* ---- check ---- */

static void check_accounts(const struct config *c, struct config_errors *errs)
{
	for (size_t i = 0; i < c->nservices; i++) {
		const struct service *s = &c->services[i];
		if (s->user && !getpwnam(s->user))
			config_errors_add(errs, "%s:%d: service \"%s\": no such user \"%s\"", c->path, s->line, s->name, s->user);
		if (s->group && !getgrnam(s->group))
			config_errors_add(errs, "%s:%d: service \"%s\": no such group \"%s\"", c->path, s->line, s->name, s->group);
	}
}

static int cmd_check(int argc, char **argv)
{
	const char *path = SCRAMBLE_DEFAULT_CONF;
	struct config_errors errs = { 0 };
	struct config *c;
	int opt;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			usage();
			return 2;
		}
		path = optarg;
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	c = config_load(path, &errs);
	if (c) {
		config_load_tables(c, CONF_SIDE_SERVER | CONF_SIDE_CLIENT, &errs);
		check_accounts(c, &errs);
	}
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	int rc = errs.n ? 2 : 0;
	if (!rc)
		printf("%s: ok (%zu tables, %zu services, %zu targets)\n", path, c->ntables, c->nservices, c->ntargets);
	else
		fprintf(stderr, "%s: %zu error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
	config_errors_free(&errs);
	config_free(c);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "gentable") == 0)
		return cmd_gentable(argc, argv);
	if (strcmp(cmd, "keygen") == 0)
		return ctl_keygen_main(argc, argv);
	if (strcmp(cmd, "map") == 0)
		return cmd_map(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "status") == 0 && ctl_status_main)
		return ctl_status_main(argc, argv);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage();
		return 0;
	}
	fprintf(stderr, "scramblectl: unknown command \"%s\"\n", cmd);
	usage();
	return 2;
}
