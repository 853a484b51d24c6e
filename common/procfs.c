/* /proc/net/tcp{,6} parsing.  Addresses are printed by the kernel as 32-bit
 * words in host byte order ("%08X" of the raw word), so each word is copied
 * back into memory as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfs.h"

struct cursor {
	const char *p, *end;
};

static void skip_spaces(struct cursor *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* exactly n hex digits */
static int get_hex(struct cursor *c, int n, uint32_t *v)
{
	uint32_t x = 0;
	if (c->end - c->p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		int h = hexval(c->p[i]);
		if (h < 0)
			return -1;
		x = (x << 4) | (uint32_t)h;
	}
	c->p += n;
	*v = x;
	return 0;
}

/* a run of decimal digits (at most 20) */
static int get_dec(struct cursor *c, unsigned long *v)
{
	unsigned long x = 0;
	int n = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (++n > 20)
			return -1;
		x = x * 10 + (unsigned long)(*c->p - '0');
		c->p++;
	}
	if (!n)
		return -1;
	*v = x;
	return 0;
}

static int expect(struct cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* skip one whitespace-separated field */
static int skip_field(struct cursor *c)
{
	skip_spaces(c);
	const char *start = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	return c->p > start ? 0 : -1;
}

static int get_addr(struct cursor *c, int v6, struct ipaddr *a, uint16_t *port)
{
	uint8_t raw[16];
	uint32_t w, p;
	int words = v6 ? 4 : 1;

	for (int i = 0; i < words; i++) {
		if (get_hex(c, 8, &w) < 0)
			return -1;
		memcpy(raw + 4 * i, &w, 4);
	}
	if (expect(c, ':') < 0 || get_hex(c, 4, &p) < 0)
		return -1;
	memset(a, 0, sizeof *a);
	if (v6) {
		static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
		if (memcmp(raw, mapped, 12) == 0) {
			a->family = AF_INET;
			memcpy(a->bytes, raw + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->bytes, raw, 16);
		}
	} else {
		a->family = AF_INET;
		memcpy(a->bytes, raw, 4);
	}
	*port = (uint16_t)p;
	return 0;
}

int procfs_parse_line(const char *line, size_t len, int v6, struct tcp_entry *e)
{
	struct cursor c = { line, line + len };
	unsigned long sl, uid, inode;
	uint32_t st;

	skip_spaces(&c);
	if (get_dec(&c, &sl) < 0 || expect(&c, ':') < 0)
		return -1;
	skip_spaces(&c);
	if (get_addr(&c, v6, &e->local, &e->lport) < 0)
		return -1;
	skip_spaces(&c);
	if (get_addr(&c, v6, &e->remote, &e->rport) < 0)
		return -1;
	skip_spaces(&c);
	if (get_hex(&c, 2, &st) < 0 || st < 1 || st > TCPS_NEW_SYN_RECV)
		return -1;
	/* tx_queue:rx_queue tr:tm->when retrnsmt */
	for (int i = 0; i < 3; i++)
		if (skip_field(&c) < 0)
			return -1;
	skip_spaces(&c);
	if (get_dec(&c, &uid) < 0)
		return -1;
	if (skip_field(&c) < 0)   /* timeout */
		return -1;
	skip_spaces(&c);
	if (get_dec(&c, &inode) < 0)
		return -1;
	e->state = (uint8_t)st;
	e->uid = (unsigned)uid;
	e->inode = inode;
	return 0;
}

size_t procfs_parse_buf(const char *buf, size_t len, int v6, procfs_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		struct tcp_entry e;
		if (procfs_parse_line(p, (size_t)(eol - p), v6, &e) == 0) {
			n++;
			if (fn && fn(&e, arg))
				break;
		}
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* Read one file in chunks; lines are handed to the parser whole. */
static int scan_file(const char *path, int v6, procfs_fn fn, void *arg, int *stopped)
{
	char buf[65536];
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof buf - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		have += (size_t)r;
		/* parse complete lines */
		const char *last_nl = have ? memrchr(buf, '\n', have) : NULL;
		size_t used = last_nl ? (size_t)(last_nl - buf) + 1 : (r == 0 ? have : 0);
		if (used) {
			const char *p = buf, *end = buf + used;
			while (p < end && !*stopped) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				const char *eol = nl ? nl : end;
				struct tcp_entry e;
				if (procfs_parse_line(p, (size_t)(eol - p), v6, &e) == 0 && fn && fn(&e, arg))
					*stopped = 1;
				p = nl ? nl + 1 : end;
			}
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (r == 0 || *stopped || (have == sizeof buf))
			break;
	}
	close(fd);
	return 0;
}

int procfs_scan(const char *prefix, procfs_fn fn, void *arg)
{
	char path[256];
	int ok = 0, stopped = 0;

	if (!prefix)
		prefix = "/proc/net";
	snprintf(path, sizeof path, "%s/tcp", prefix);
	if (scan_file(path, 0, fn, arg, &stopped) == 0)
		ok = 1;
	if (!stopped) {
		snprintf(path, sizeof path, "%s/tcp6", prefix);
		if (scan_file(path, 1, fn, arg, &stopped) == 0)
			ok = 1;
	}
	return ok ? 0 : -1;
}
