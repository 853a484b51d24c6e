/* Secret tables: parsing, trust checks, loading. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "table.h"

#define TABLE_MAX_BYTES (8u << 20)   /* a full 1024-65535 table is ~770 KB */

static void seterr(struct table_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void seterr(struct table_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

int range_parse(const char *s, struct port_range *r)
{
	unsigned long lo, hi;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	lo = strtoul(s, &end, 10);
	if (errno || *end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	hi = strtoul(end + 1, &end, 10);
	if (errno || *end || lo < 1 || hi > 65535 || lo > hi)
		return -1;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

/* Cursor over one line: skips blanks, reads a strict decimal number. */
static int read_number(const char **p, const char *end, long *v)
{
	const char *q = *p;
	long x = 0;
	int digits = 0;

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	while (q < end && *q >= '0' && *q <= '9') {
		if (++digits > 5)
			return -2;   /* out of range */
		x = x * 10 + (*q - '0');
		q++;
	}
	if (!digits)
		return -1;
	*p = q;
	*v = x;
	return 0;
}

static int parse_line(const char *line, const char *end, long *decoy, long *valid,
		      const char **why)
{
	const char *p = line;
	int rc;

	/* strip comment and trailing CR */
	const char *hash = memchr(line, '#', (size_t)(end - line));
	if (hash)
		end = hash;
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return 1;   /* blank */
	if ((rc = read_number(&p, end, decoy)) < 0) {
		*why = rc == -2 ? "decoy port out of range" : "decoy is not a number";
		return -1;
	}
	if (p < end && *p != ' ' && *p != '\t') {
		*why = "decoy is not a number";
		return -1;
	}
	if ((rc = read_number(&p, end, valid)) < 0) {
		*why = rc == -2 ? "valid port out of range" : "valid port missing or not a number";
		return -1;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end) {
		*why = "trailing garbage after the pair";
		return -1;
	}
	return 0;
}

int table_parse(const char *buf, size_t len, const char *name, struct port_range r,
		struct table *t, struct table_error *err)
{
	size_t n = (size_t)r.hi - r.lo + 1;
	uint8_t *seen_valid = NULL;
	const char *p = buf, *end = buf + len;
	int lineno = 0;
	size_t count = 0;

	memset(t, 0, sizeof *t);
	t->range = r;
	t->map = calloc(n, sizeof *t->map);
	seen_valid = calloc(n, 1);
	if (!t->map || !seen_valid) {
		seterr(err, "%s: out of memory", name);
		goto err;
	}
	/* map[] == 0 means "no entry yet": ports are >= 1 */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *why = NULL;
		long d, v;
		int rc;

		lineno++;
		if (memchr(p, '\0', (size_t)(eol - p))) {
			seterr(err, "%s:%d: NUL byte in table", name, lineno);
			goto err;
		}
		rc = parse_line(p, eol, &d, &v, &why);
		if (rc < 0) {
			seterr(err, "%s:%d: %s", name, lineno, why);
			goto err;
		}
		if (rc == 0) {
			if (d < r.lo || d > r.hi) {
				seterr(err, "%s:%d: decoy %ld outside the range %u-%u", name, lineno, d, r.lo, r.hi);
				goto err;
			}
			if (v < r.lo || v > r.hi) {
				seterr(err, "%s:%d: valid port %ld outside the range %u-%u", name, lineno, v, r.lo, r.hi);
				goto err;
			}
			if (t->map[d - r.lo]) {
				seterr(err, "%s:%d: duplicate decoy %ld", name, lineno, d);
				goto err;
			}
			if (seen_valid[v - r.lo]) {
				seterr(err, "%s:%d: duplicate valid port %ld", name, lineno, v);
				goto err;
			}
			t->map[d - r.lo] = (uint16_t)v;
			seen_valid[v - r.lo] = 1;
			count++;
		}
		p = nl ? nl + 1 : end;
	}
	if (count != n) {
		for (size_t i = 0; i < n; i++) {
			if (!t->map[i]) {
				seterr(err, "%s:%d: missing entries for the range %u-%u: %zu of %zu present, first missing decoy %zu",
				       name, lineno, r.lo, r.hi, count, n, i + r.lo);
				break;
			}
		}
		goto err;
	}
	free(seen_valid);
	return 0;
err:
	free(seen_valid);
	table_free(t);
	return -1;
}

int file_trust_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by root or the running user (%u); refusing it",
			 path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by %s (mode %04o); refusing it: chmod go-w %s",
			 path, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
			 (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

char *file_read_trusted(const char *path, size_t max, size_t *len, struct table_error *err)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		seterr(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (file_trust_check(fd, path, err->msg, sizeof err->msg) < 0)
		goto err;
	for (;;) {
		if (n == cap) {
			char *nb;
			if (cap >= max) {
				seterr(err, "%s: larger than %zu bytes", path, max);
				goto err;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				seterr(err, "%s: out of memory", path);
				goto err;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			seterr(err, "%s: %s", path, strerror(errno));
			goto err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
err:
	free(buf);
	close(fd);
	return NULL;
}

int table_load(const char *path, struct port_range r, struct table *t, struct table_error *err)
{
	size_t len = 0;
	char *buf = file_read_trusted(path, TABLE_MAX_BYTES, &len, err);
	int rc;

	memset(t, 0, sizeof *t);
	if (!buf)
		return -1;
	rc = table_parse(buf, len, path, r, t, err);
	free(buf);
	return rc;
}

void table_free(struct table *t)
{
	free(t->map);
	t->map = NULL;
}

int table_guess_range(const char *buf, size_t len, struct port_range *r)
{
	const char *p = buf, *end = buf + len;
	long lo = 65536, hi = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *why;
		long d, v;
		if (parse_line(p, eol, &d, &v, &why) == 0 && d >= 1 && d <= 65535) {
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		p = nl ? nl + 1 : end;
	}
	if (hi == 0)
		return -1;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}
