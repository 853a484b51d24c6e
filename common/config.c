/* Configuration loading and validation (SPEC section 7).  libconfuse
 * parses the syntax; every value is then checked here, and every problem
 * is collected as "FILE:LINE: problem" so a check can report them all. */
#include <confuse.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "linefind.h"

#define CONF_MAX_BYTES (1u << 20)

void config_errors_add(struct config_errors *e, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	char **nm;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	nm = realloc(e->msgs, (e->n + 1) * sizeof *nm);
	if (!nm) {
		free(msg);
		return;
	}
	e->msgs = nm;
	e->msgs[e->n++] = msg;
}

void config_errors_free(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

const char *mode_name(enum service_mode m)
{
	return m == MODE_EXEC ? "exec" : m == MODE_INETD ? "inetd" :
	       m == MODE_FORWARD ? "forward" : "embedded";
}

/* ---- libconfuse schema ---- */

static cfg_opt_t table_opts[] = {
	CFG_STR("file", NULL, CFGF_NODEFAULT),
	CFG_STR("ports", "1024-65535", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t service_opts[] = {
	CFG_STR_LIST("listen", NULL, CFGF_NODEFAULT),
	CFG_STR("table", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("offsets", "{}", CFGF_NONE),
	CFG_STR("mode", "exec", CFGF_NONE),
	CFG_STR("command", NULL, CFGF_NODEFAULT),
	CFG_STR("backend", NULL, CFGF_NODEFAULT),
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("group", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("env", "{}", CFGF_NONE),
	CFG_INT("connect_timeout", 60, CFGF_NONE),
	CFG_INT("start_timeout", 5, CFGF_NONE),
	CFG_INT("login_timeout", 30, CFGF_NONE),
	CFG_STR("login_log", NULL, CFGF_NODEFAULT),
	CFG_STR("login_match", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("allow", "{}", CFGF_NONE),
	CFG_INT("max_pending", 16, CFGF_NONE),
	CFG_INT("per_source", 4, CFGF_NONE),
	CFG_STR("rate", "5/10s", CFGF_NONE),
	CFG_INT("deny_time", 60, CFGF_NONE),
	CFG_INT("guard", 2, CFGF_NONE),
	CFG_INT("kill_grace", 2, CFGF_NONE),
	CFG_INT("poll_ms", 200, CFGF_NONE),
	CFG_STR("watch", "procfs", CFGF_NONE),
	CFG_BOOL("auth", cfg_false, CFGF_NONE),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t target_opts[] = {
	CFG_STR_LIST("host", NULL, CFGF_NODEFAULT),
	CFG_INT("port", 0, CFGF_NODEFAULT),
	CFG_INT("rendezvous", 0, CFGF_NODEFAULT),
	CFG_STR("table", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("offsets", "{}", CFGF_NONE),
	CFG_INT("timeout", 5, CFGF_NONE),
	CFG_BOOL("auth", cfg_false, CFGF_NONE),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t root_opts[] = {
	CFG_SEC("table", table_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("service", service_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("target", target_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

/* ---- parse context ---- */

struct ctx {
	const char *name;
	struct config_errors *errs;
	struct linefind lf;
	const char *kind, *title;   /* section being converted */
};

/* libconfuse has no user pointer on its error callback, and its lexer
 * keeps global state: parsing is serialised here, so that the embedding
 * API's loaders may be called from any thread. */
static struct ctx *cur_ctx;
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (cur_ctx)
		config_errors_add(cur_ctx->errs, "%s:%d: %s", cur_ctx->name, cfg ? cfg->line : 0, msg);
}

static void bad(struct ctx *c, const char *key, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void bad(struct ctx *c, const char *key, const char *value, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int line = key ? linefind_key(&c->lf, c->kind, c->title, key, value)
		       : linefind_section(&c->lf, c->kind, c->title);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	config_errors_add(c->errs, "%s:%d: %s \"%s\": %s", c->name, line, c->kind, c->title, msg);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static long get_uint(struct ctx *c, cfg_t *sec, const char *key, long min, long max)
{
	long v = cfg_getint(sec, key);
	if (v < min || v > max) {
		bad(c, key, NULL, "%s = %ld is out of range (%ld-%ld)", key, v, min, max);
		return min;
	}
	return v;
}

static unsigned parse_offsets(struct ctx *c, cfg_t *sec)
{
	unsigned off = 0;
	for (unsigned i = 0; i < cfg_size(sec, "offsets"); i++) {
		const char *o = cfg_getnstr(sec, "offsets", i);
		if (strcmp(o, "hour") == 0)
			off |= SCRAMBLE_OFF_HOUR;
		else if (strcmp(o, "client-octet") == 0)
			off |= SCRAMBLE_OFF_OCTET;
		else
			bad(c, "offsets", o, "unknown offset \"%s\" (use \"hour\", \"client-octet\")", o);
	}
	return off;
}

static struct conf_table *find_table(struct config *cf, const char *name)
{
	for (size_t i = 0; name && i < cf->ntables; i++)
		if (strcmp(cf->tables[i].name, name) == 0)
			return &cf->tables[i];
	return NULL;
}

static struct conf_table *get_table_ref(struct ctx *c, struct config *cf, cfg_t *sec)
{
	const char *tn = cfg_getstr(sec, "table");
	struct conf_table *t;
	if (!tn) {
		bad(c, NULL, NULL, "no table given");
		return NULL;
	}
	t = find_table(cf, tn);
	if (!t)
		bad(c, "table", NULL, "unknown table \"%s\"", tn);
	return t;
}

static void convert_table(struct ctx *c, cfg_t *sec, struct conf_table *t)
{
	const char *file = cfg_getstr(sec, "file");
	const char *ports = cfg_getstr(sec, "ports");

	t->name = strdup(cfg_title(sec));
	t->line = linefind_section(&c->lf, "table", t->name);
	t->file = dup_or_null(file);
	if (!file)
		bad(c, NULL, NULL, "no file given");
	if (range_parse(ports, &t->range) < 0) {
		bad(c, "ports", NULL, "ports = \"%s\" is not a range LO-HI within 1-65535", ports);
		t->range.lo = 1024;
		t->range.hi = 65535;
	}
}

/* Only %p, %a and %% may appear in a command. */
static int check_percents(const char *s)
{
	for (; *s; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s != 'p' && *s != 'a' && *s != '%')
			return -1;
	}
	return 0;
}

static int parse_rate(const char *s, unsigned *count, unsigned *window)
{
	unsigned long n, w;
	char *end;
	if (strcmp(s, "0") == 0 || strcmp(s, "none") == 0) {
		*count = *window = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	n = strtoul(s, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	w = strtoul(end + 1, &end, 10);
	if (strcmp(end, "s") != 0 && *end)
		return -1;
	if (n < 1 || n > 100000 || w < 1 || w > 86400)
		return -1;
	*count = (unsigned)n;
	*window = (unsigned)w;
	return 0;
}

/* glibc's regcomp() takes exponential time on stacked repetitions
 * ("a+++++...") and large nested bounds, and the daemon compiles the
 * pattern at every launch: allow plain patterns only.  Returns a reason or
 * NULL. */
static const char *regex_too_costly(const char *m)
{
	int prev_rep = 0;
	if (strlen(m) > 256)
		return "is longer than 256 characters";
	for (const char *p = m; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				break;
			prev_rep = 0;
		} else if (*p == '[') {     /* a bracket expression is literal */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
			prev_rep = 0;
		} else if (*p == '{') {
			return "uses a bounded repetition {n,m}";
		} else if (*p == '*' || *p == '+' || *p == '?') {
			if (prev_rep)
				return "stacks repetition operators";
			prev_rep = 1;
		} else {
			prev_rep = 0;
		}
	}
	return NULL;
}

static void check_login_match(struct ctx *c, const char *m)
{
	/* compile with a sample address, as the daemon will */
	char buf[1024];
	const char *why = regex_too_costly(m);
	if (why) {
		bad(c, "login_match", NULL, "login_match %s (not allowed: it can make regcomp() run for ever)", why);
		return;
	}
	size_t o = 0;
	regex_t re;
	for (const char *p = m; *p && o + 32 < sizeof buf; p++) {
		if (p[0] == '%' && p[1] == 'a') {
			o += (size_t)snprintf(buf + o, sizeof buf - o, "127\\.0\\.0\\.1");
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf[o++] = '%';
			p++;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = 0;
	if (regcomp(&re, buf, REG_EXTENDED | REG_NOSUB) != 0) {
		bad(c, "login_match", NULL, "login_match is not a valid extended regular expression");
		return;
	}
	regfree(&re);
}

static void convert_listen(struct ctx *c, cfg_t *sec, struct service *s)
{
	unsigned n = cfg_size(sec, "listen");
	if (n == 0) {
		bad(c, NULL, NULL, "no listen address given");
		return;
	}
	s->listen = calloc(n, sizeof *s->listen);
	if (!s->listen)
		return;
	for (unsigned i = 0; i < n; i++) {
		const char *a = cfg_getnstr(sec, "listen", i);
		struct listen_addr *l = &s->listen[s->nlisten];
		if (addr_parse_hostport(a, &l->ss, &l->len) < 0)
			bad(c, "listen", a, "bad listen address \"%s\" (want A.B.C.D:PORT or [V6]:PORT)", a);
		else
			s->nlisten++;
	}
}

static void convert_allow(struct ctx *c, cfg_t *sec, struct service *s)
{
	unsigned n = cfg_size(sec, "allow");
	if (!n)
		return;
	s->allow = calloc(n, sizeof *s->allow);
	if (!s->allow)
		return;
	for (unsigned i = 0; i < n; i++) {
		const char *a = cfg_getnstr(sec, "allow", i);
		if (cidr_parse(a, &s->allow[s->nallow]) < 0)
			bad(c, "allow", a, "bad CIDR \"%s\" (want ADDR/BITS with the host bits zero)", a);
		else
			s->nallow++;
	}
}

static void convert_env(struct ctx *c, cfg_t *sec, struct service *s)
{
	unsigned n = cfg_size(sec, "env");
	s->env = calloc(n + 1, sizeof *s->env);
	if (!s->env)
		return;
	for (unsigned i = 0; i < n; i++) {
		const char *e = cfg_getnstr(sec, "env", i);
		const char *eq = strchr(e, '=');
		size_t k = eq ? (size_t)(eq - e) : 0;
		int ok = k > 0 && strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == k &&
			 !(e[0] >= '0' && e[0] <= '9');
		if (!ok)
			bad(c, "env", e, "env entry \"%s\" is not NAME=VALUE", e);
		else
			s->env[s->nenv++] = strdup(e);
	}
}

static void convert_service(struct ctx *c, struct config *cf, cfg_t *sec, struct service *s)
{
	const char *mode = cfg_getstr(sec, "mode");
	const char *watch = cfg_getstr(sec, "watch");
	const char *rate = cfg_getstr(sec, "rate");

	s->name = strdup(cfg_title(sec));
	s->line = linefind_section(&c->lf, "service", s->name);
	convert_listen(c, sec, s);
	s->table = get_table_ref(c, cf, sec);
	s->offsets = parse_offsets(c, sec);
	if (strcmp(mode, "exec") == 0)
		s->mode = MODE_EXEC;
	else if (strcmp(mode, "inetd") == 0)
		s->mode = MODE_INETD;
	else if (strcmp(mode, "forward") == 0)
		s->mode = MODE_FORWARD;
	else if (strcmp(mode, "embedded") == 0)
		s->mode = MODE_EMBEDDED;
	else
		bad(c, "mode", NULL, "unknown mode \"%s\" (use exec, inetd, forward or embedded)", mode);

	s->command = dup_or_null(cfg_getstr(sec, "command"));
	if (s->mode != MODE_FORWARD && s->mode != MODE_EMBEDDED && !s->command)
		bad(c, NULL, NULL, "mode %s needs a command", mode);
	if (s->mode == MODE_EMBEDDED && (s->command || cfg_getstr(sec, "backend")))
		bad(c, NULL, NULL, "mode embedded takes no command and no backend (a program serves it)");
	if (s->command && check_percents(s->command) < 0)
		bad(c, "command", NULL, "command may use only %%p, %%a and %%%%");
	const char *backend = cfg_getstr(sec, "backend");
	if (backend) {
		if (addr_parse_hostport(backend, &s->backend.ss, &s->backend.len) < 0 ||
		    sockaddr_port((struct sockaddr *)&s->backend.ss) == 0)
			bad(c, "backend", NULL, "bad backend address \"%s\"", backend);
		else
			s->has_backend = true;
	} else if (s->mode == MODE_FORWARD) {
		bad(c, NULL, NULL, "mode forward needs a backend");
	}
	s->user = dup_or_null(cfg_getstr(sec, "user"));
	s->group = dup_or_null(cfg_getstr(sec, "group"));
	convert_env(c, sec, s);
	s->connect_timeout = (unsigned)get_uint(c, sec, "connect_timeout", 1, 86400);
	s->start_timeout = (unsigned)get_uint(c, sec, "start_timeout", 1, 3600);
	s->login_timeout = (unsigned)get_uint(c, sec, "login_timeout", 1, 86400);
	s->login_log = dup_or_null(cfg_getstr(sec, "login_log"));
	s->login_match = dup_or_null(cfg_getstr(sec, "login_match"));
	if (!!s->login_log != !!s->login_match)
		bad(c, NULL, NULL, "login_log and login_match go together");
	if (s->login_match)
		check_login_match(c, s->login_match);
	convert_allow(c, sec, s);
	s->max_pending = (unsigned)get_uint(c, sec, "max_pending", 1, 100000);
	s->per_source = (unsigned)get_uint(c, sec, "per_source", 1, 100000);
	if (parse_rate(rate, &s->rate_count, &s->rate_window) < 0)
		bad(c, "rate", NULL, "rate = \"%s\" is not COUNT/SECONDSs (e.g. \"5/10s\") or \"none\"", rate);
	s->deny_time = (unsigned)get_uint(c, sec, "deny_time", 0, 86400);
	s->guard = (unsigned)get_uint(c, sec, "guard", 0, 600);
	s->kill_grace = (unsigned)get_uint(c, sec, "kill_grace", 0, 600);
	s->poll_ms = (unsigned)get_uint(c, sec, "poll_ms", 10, 60000);
	if (strcmp(watch, "procfs") == 0)
		s->watch = WATCH_PROCFS;
	else if (strcmp(watch, "diag") == 0)
		s->watch = WATCH_DIAG;
	else
		bad(c, "watch", NULL, "unknown watch \"%s\" (use procfs or diag)", watch);
	s->auth = cfg_getbool(sec, "auth");
	s->key_file = dup_or_null(cfg_getstr(sec, "key"));
	if (s->auth && s->mode == MODE_EXEC)
		bad(c, "auth", NULL, "auth = yes needs mode inetd or forward");
	if (s->auth && !s->key_file)
		bad(c, NULL, NULL, "auth = yes needs a key file (key = \"FILE\")");
	if (s->auth && strlen(s->name) > 255)
		bad(c, NULL, NULL, "auth = yes needs a service name of at most 255 bytes");
}

static void convert_target(struct ctx *c, struct config *cf, cfg_t *sec, struct target *t)
{
	unsigned n = cfg_size(sec, "host");

	t->name = strdup(cfg_title(sec));
	t->line = linefind_section(&c->lf, "target", t->name);
	if (n == 0)
		bad(c, NULL, NULL, "no host given");
	t->hosts = calloc(n + 1, sizeof *t->hosts);
	for (unsigned i = 0; t->hosts && i < n; i++) {
		const char *h = cfg_getnstr(sec, "host", i);
		if (!*h || strlen(h) > 253 || strpbrk(h, " \t/"))
			bad(c, "host", h, "bad host \"%s\"", h);
		else
			t->hosts[t->nhosts++] = strdup(h);
	}
	if (cfg_size(sec, "port") == 0)
		bad(c, NULL, NULL, "no port given");
	else
		t->port = (uint16_t)get_uint(c, sec, "port", 1, 65535);
	if (cfg_size(sec, "rendezvous") == 0)
		bad(c, NULL, NULL, "no rendezvous port given");
	else
		t->rendezvous = (uint16_t)get_uint(c, sec, "rendezvous", 1, 65535);
	t->table = get_table_ref(c, cf, sec);
	t->offsets = parse_offsets(c, sec);
	t->timeout = (unsigned)get_uint(c, sec, "timeout", 1, 3600);
	t->auth = cfg_getbool(sec, "auth");
	t->key_file = dup_or_null(cfg_getstr(sec, "key"));
	if (t->auth && !t->key_file)
		bad(c, NULL, NULL, "auth = yes needs a key file (key = \"FILE\")");
	if (t->auth && strlen(t->name) > 255)
		bad(c, NULL, NULL, "auth = yes needs a target name of at most 255 bytes");
}

static void convert(struct ctx *c, cfg_t *cfg, struct config *cf)
{
	unsigned nt = cfg_size(cfg, "table"), ns = cfg_size(cfg, "service"), ng = cfg_size(cfg, "target");

	cf->tables = calloc(nt ? nt : 1, sizeof *cf->tables);
	cf->services = calloc(ns ? ns : 1, sizeof *cf->services);
	cf->targets = calloc(ng ? ng : 1, sizeof *cf->targets);
	if (!cf->tables || !cf->services || !cf->targets) {
		config_errors_add(c->errs, "%s: out of memory", c->name);
		return;
	}
	c->kind = "table";
	for (unsigned i = 0; i < nt; i++, cf->ntables++) {
		cfg_t *sec = cfg_getnsec(cfg, "table", i);
		c->title = cfg_title(sec);
		convert_table(c, sec, &cf->tables[i]);
	}
	c->kind = "service";
	for (unsigned i = 0; i < ns; i++, cf->nservices++) {
		cfg_t *sec = cfg_getnsec(cfg, "service", i);
		c->title = cfg_title(sec);
		convert_service(c, cf, sec, &cf->services[i]);
	}
	c->kind = "target";
	for (unsigned i = 0; i < ng; i++, cf->ntargets++) {
		cfg_t *sec = cfg_getnsec(cfg, "target", i);
		c->title = cfg_title(sec);
		convert_target(c, cf, sec, &cf->targets[i]);
	}
}

struct config *config_parse_buf(const char *buf, size_t len, const char *name,
				struct config_errors *errs)
{
	struct ctx c = { .name = name, .errs = errs };
	struct config *cf = NULL;
	cfg_t *cfg = NULL;
	char *text = NULL;
	size_t before = errs->n;
	bool locked = false;

	if (memchr(buf, '\0', len)) {
		config_errors_add(errs, "%s: contains a NUL byte", name);
		return NULL;
	}
	text = malloc(len + 1);
	if (!text || linefind_init(&c.lf, buf, len) < 0) {
		free(text);
		config_errors_add(errs, "%s: out of memory", name);
		return NULL;
	}
	memcpy(text, buf, len);
	text[len] = 0;

	int unclosed = linefind_unclosed(&c.lf);
	if (unclosed) {
		config_errors_add(errs, "%s:%d: '{' is never closed", name, unclosed);
		goto out;
	}
	/* libconfuse's comment rules miscount lines: it sees none */
	linefind_blank_comments(text, len);
	/* from cfg_init to cfg_free: cfg_free also frees the lexer's buffer */
	if (pthread_mutex_lock(&parse_lock) != 0) {
		config_errors_add(errs, "%s: cannot lock the parser", name);
		goto out;
	}
	locked = true;
	cfg = cfg_init(root_opts, CFGF_NONE);
	if (!cfg) {
		config_errors_add(errs, "%s: out of memory", name);
		goto out;
	}
	cur_ctx = &c;
	cfg_set_error_function(cfg, confuse_error);
	int rc = cfg_parse_buf(cfg, text);
	cur_ctx = NULL;
	if (rc != CFG_SUCCESS) {
		if (errs->n == before)
			config_errors_add(errs, "%s: syntax error", name);
		goto out;
	}
	cf = calloc(1, sizeof *cf);
	if (!cf) {
		config_errors_add(errs, "%s: out of memory", name);
		goto out;
	}
	cf->path = strdup(name);
	convert(&c, cfg, cf);
	if (errs->n != before) {
		config_free(cf);
		cf = NULL;
	}
out:
	if (cfg)
		cfg_free(cfg);
	if (locked)
		(void)pthread_mutex_unlock(&parse_lock);
	linefind_free(&c.lf);
	free(text);
	return cf;
}

struct config *config_load(const char *path, struct config_errors *errs)
{
	struct table_error err;
	size_t n = 0;
	struct config *cf;
	char *buf = file_read_trusted(path, CONF_MAX_BYTES, &n, &err);

	if (!buf) {
		config_errors_add(errs, "%s", err.msg);
		return NULL;
	}
	cf = config_parse_buf(buf, n, path, errs);
	free(buf);
	return cf;
}

/* A key file: trusted like a table (file_trust_check), exactly 32 bytes.
 * 0/-1 with a message added. */
static int load_key(struct config *c, const char *path, const char *kind, const char *name,
		    int line, unsigned char key[32], struct config_errors *errs)
{
	struct table_error err;
	size_t len = 0;
	char *buf = file_read_trusted(path, 4096, &len, &err);

	if (!buf) {
		config_errors_add(errs, "%s (key of %s \"%s\", %s:%d)", err.msg, kind, name, c->path, line);
		return -1;
	}
	if (len != 32) {
		config_errors_add(errs, "%s: a key file holds exactly 32 bytes, not %zu "
				  "(scramblectl keygen) (key of %s \"%s\", %s:%d)",
				  path, len, kind, name, c->path, line);
		explicit_bzero(buf, len);
		free(buf);
		return -1;
	}
	memcpy(key, buf, 32);
	explicit_bzero(buf, len);
	free(buf);
	return 0;
}

static int load_one_table(struct config *c, struct conf_table *t, struct config_errors *errs)
{
	struct table_error err;
	if (t->loaded)
		return 0;
	if (table_load(t->file, t->range, &t->table, &err) < 0) {
		config_errors_add(errs, "%s (table \"%s\", %s:%d)", err.msg, t->name, c->path, t->line);
		return -1;
	}
	t->loaded = true;
	return 0;
}

static int load_service_key(struct config *c, struct service *s, struct config_errors *errs)
{
	if (!s->auth || s->key_loaded)
		return 0;
	if (load_key(c, s->key_file, "service", s->name, s->line, s->key, errs) < 0)
		return -1;
	s->key_loaded = true;
	return 0;
}

static int load_target_key(struct config *c, struct target *t, struct config_errors *errs)
{
	if (!t->auth || t->key_loaded)
		return 0;
	if (load_key(c, t->key_file, "target", t->name, t->line, t->key, errs) < 0)
		return -1;
	t->key_loaded = true;
	return 0;
}

int config_load_tables(struct config *c, int sides, struct config_errors *errs)
{
	int rc = 0;
	for (size_t i = 0; i < c->ntables; i++) {
		struct conf_table *t = &c->tables[i];
		bool used = false;
		for (size_t j = 0; (sides & CONF_SIDE_SERVER) && j < c->nservices; j++)
			used |= c->services[j].table == t;
		for (size_t j = 0; (sides & CONF_SIDE_CLIENT) && j < c->ntargets; j++)
			used |= c->targets[j].table == t;
		if (used && load_one_table(c, t, errs) < 0)
			rc = -1;
	}
	for (size_t j = 0; (sides & CONF_SIDE_SERVER) && j < c->nservices; j++)
		if (load_service_key(c, &c->services[j], errs) < 0)
			rc = -1;
	for (size_t j = 0; (sides & CONF_SIDE_CLIENT) && j < c->ntargets; j++)
		if (load_target_key(c, &c->targets[j], errs) < 0)
			rc = -1;
	return rc;
}

int config_load_service(struct config *c, struct service *s, struct config_errors *errs)
{
	int rc = load_one_table(c, s->table, errs);
	return load_service_key(c, s, errs) < 0 ? -1 : rc;
}

int config_load_target(struct config *c, struct target *t, struct config_errors *errs)
{
	int rc = load_one_table(c, t->table, errs);
	return load_target_key(c, t, errs) < 0 ? -1 : rc;
}

struct service *config_find_service(struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntables; i++) {
		free(c->tables[i].name);
		free(c->tables[i].file);
		table_free(&c->tables[i].table);
	}
	for (size_t i = 0; i < c->nservices; i++) {
		struct service *s = &c->services[i];
		free(s->name);
		free(s->listen);
		free(s->command);
		free(s->user);
		free(s->group);
		free_strv(s->env, s->nenv);
		free(s->login_log);
		free(s->login_match);
		free(s->allow);
		free(s->key_file);
		explicit_bzero(s->key, sizeof s->key);
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		free(c->targets[i].name);
		free_strv(c->targets[i].hosts, c->targets[i].nhosts);
		free(c->targets[i].key_file);
		explicit_bzero(c->targets[i].key, sizeof c->targets[i].key);
	}
	free(c->tables);
	free(c->services);
	free(c->targets);
	free(c->path);
	free(c);
}
