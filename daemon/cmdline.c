/* Command splitting and %-expansion for exec mode (no shell involved). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmdline.h"

void cmd_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* Append a word to a NULL-terminated vector of n words.  0/-1. */
static int push_word(char ***v, size_t *n, char *w)
{
	char **nv = realloc(*v, (*n + 2) * sizeof *nv);
	if (!nv)
		return -1;
	nv[(*n)++] = w;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* Read one word starting at *pp (not a blank) into a fresh string. */
static char *take_word(const char **pp, char *err, size_t errlen)
{
	const char *p = *pp;
	char *w = malloc(strlen(p) + 1);
	size_t k = 0;
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');
			if (!e)
				goto unterminated;
			memcpy(w + k, p + 1, (size_t)(e - p - 1));
			k += (size_t)(e - p - 1);
			p = e + 1;
		} else if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				w[k++] = *p++;
			}
			if (*p != '"')
				goto unterminated;
			p++;
		} else if (*p == '\\' && p[1]) {
			w[k++] = p[1];
			p += 2;
		} else {
			w[k++] = *p++;
		}
	}
	w[k] = '\0';
	*pp = p;
	return w;
unterminated:
	snprintf(err, errlen, "unterminated quote in command");
	free(w);
	return NULL;
}

char **cmd_split(const char *cmd, char *err, size_t errlen)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = cmd ? cmd : "";
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		char *w = take_word(&p, err, errlen);
		if (!w)
			goto err;
		if (push_word(&v, &n, w) < 0) {
			free(w);
			snprintf(err, errlen, "out of memory");
			goto err;
		}
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		goto err;
	}
	return v;
err:
	cmd_free(v);
	return NULL;
}

/* Expand one word into a fresh string.  addr NULL: only check. */
static char *expand_word(const char *w, unsigned port, const char *addr, char *err, size_t errlen)
{
	char portbuf[16];
	snprintf(portbuf, sizeof portbuf, "%u", port);
	size_t alen = addr ? strlen(addr) : 0;
	size_t cap = strlen(w) + 1, k = 0;
	for (const char *p = w; *p; p++)
		if (*p == '%')
			cap += alen + sizeof portbuf;
	char *out = malloc(cap);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (const char *p = w; *p; p++) {
		if (*p != '%') {
			out[k++] = *p;
			continue;
		}
		const char *sub;
		switch (p[1]) {
		case 'p': sub = portbuf; break;
		case 'a': sub = addr ? addr : ""; break;
		case '%': sub = "%"; break;
		default:
			if (p[1])
				snprintf(err, errlen, "unknown sequence %%%c in command (use %%p, %%a or %%%%)", p[1]);
			else
				snprintf(err, errlen, "lone %% at the end of a command word (use %%%% for a percent sign)");
			free(out);
			return NULL;
		}
		memcpy(out + k, sub, strlen(sub));
		k += strlen(sub);
		p++;
	}
	out[k] = '\0';
	return out;
}

char **cmd_expand(const char *cmd, unsigned port, const char *addr, char *err, size_t errlen)
{
	char **v = cmd_split(cmd, err, errlen);
	if (!v)
		return NULL;
	for (char **p = v; *p; p++) {
		char *e = expand_word(*p, port, addr, err, errlen);
		if (!e) {
			cmd_free(v);
			return NULL;
		}
		free(*p);
		*p = e;
	}
	return v;
}

int cmd_check(const char *cmd, char *err, size_t errlen)
{
	char **v = cmd_expand(cmd, 1, "::1", err, errlen);
	if (!v)
		return -1;
	int rc = 0;
	if (v[0][0] != '/') {
		snprintf(err, errlen, "command \"%s\" must start with an absolute path (no shell, no PATH search)", v[0]);
		rc = -1;
	}
	cmd_free(v);
	return rc;
}
