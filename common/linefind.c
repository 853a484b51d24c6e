/* A tokenizer just good enough to find lines in libconfuse syntax: comments
 * (#, //, / * * /), double-quoted strings with backslash escapes, braces. */
#include <stdlib.h>
#include <string.h>
#include "linefind.h"

static int push(struct linefind *lf, size_t *cap, struct lf_token t)
{
	if (lf->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct lf_token *nt = realloc(lf->tok, nc * sizeof *nt);
		if (!nt)
			return -1;
		lf->tok = nt;
		*cap = nc;
	}
	lf->tok[lf->n++] = t;
	return 0;
}

int linefind_init(struct linefind *lf, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t cap = 0;
	int line = 1, depth = 0;

	lf->tok = NULL;
	lf->n = 0;
	while (p < end) {
		char c = *p;
		struct lf_token t = { p, 1, line, depth, 'p' };
		if (c == '\n') {
			line++;
			p++;
		} else if (c == '#' || (c == '/' && p + 1 < end && p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
		} else if (c == '/' && p + 1 < end && p[1] == '*') {
			p += 2;
			while (p + 1 < end && !(p[0] == '*' && p[1] == '/')) {
				if (*p == '\n')
					line++;
				p++;
			}
			p = p + 2 < end ? p + 2 : end;
		} else if (c == '"') {
			const char *s = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\n')
					line++;
				p++;
			}
			t.text = s;
			t.len = (size_t)(p - s);
			t.kind = 's';
			if (p < end)
				p++;
			if (push(lf, &cap, t) < 0)
				goto err;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			p++;
		} else if (c == '{' || c == '}' || c == '=' || c == ',' || c == '(' || c == ')') {
			if (c == '}')
				depth--;
			t.depth = depth;
			if (c == '{')
				depth++;
			if (push(lf, &cap, t) < 0)
				goto err;
			p++;
		} else {
			const char *s = p;
			while (p < end && !strchr(" \t\r\n{}=,()\"#", *p))
				p++;
			t.len = (size_t)(p - s);
			t.kind = 'i';
			if (push(lf, &cap, t) < 0)
				goto err;
		}
	}
	return 0;
err:
	linefind_free(lf);
	return -1;
}

void linefind_free(struct linefind *lf)
{
	free(lf->tok);
	lf->tok = NULL;
	lf->n = 0;
}

static int tok_is(const struct lf_token *t, char kind, const char *s)
{
	return t->kind == kind && t->len == strlen(s) && memcmp(t->text, s, t->len) == 0;
}

/* index of the section's opening brace, or -1 */
static long section_index(const struct linefind *lf, const char *kind, const char *title)
{
	for (size_t i = 0; i + 2 < lf->n; i++) {
		if (lf->tok[i].depth == 0 && tok_is(&lf->tok[i], 'i', kind) &&
		    (lf->tok[i + 1].kind == 's' || lf->tok[i + 1].kind == 'i') &&
		    tok_is(&lf->tok[i + 1], lf->tok[i + 1].kind, title) &&
		    tok_is(&lf->tok[i + 2], 'p', "{"))
			return (long)i;
	}
	return -1;
}

int linefind_section(const struct linefind *lf, const char *kind, const char *title)
{
	long i = section_index(lf, kind, title);
	return i < 0 ? 0 : lf->tok[i].line;
}

int linefind_key(const struct linefind *lf, const char *kind, const char *title,
		 const char *key, const char *value)
{
	long s = section_index(lf, kind, title);
	if (s < 0)
		return 0;
	int in_key = 0;
	for (size_t i = (size_t)s + 3; i < lf->n && lf->tok[i].depth >= 1; i++) {
		const struct lf_token *t = &lf->tok[i];
		if (t->depth == 1 && t->kind == 'i' && i + 1 < lf->n && tok_is(&lf->tok[i + 1], 'p', "=")) {
			in_key = tok_is(t, 'i', key);
			if (in_key && !value)
				return t->line;
			continue;
		}
		if (in_key && value && (t->kind == 's' || t->kind == 'i') && tok_is(t, t->kind, value))
			return t->line;
	}
	return lf->tok[s].line;
}

int linefind_unclosed(const struct linefind *lf)
{
	int open_line[64], depth = 0;
	for (size_t i = 0; i < lf->n; i++) {
		const struct lf_token *t = &lf->tok[i];
		if (tok_is(t, 'p', "{")) {
			if (depth < 64)
				open_line[depth] = t->line;
			depth++;
		} else if (tok_is(t, 'p', "}") && depth > 0) {
			depth--;
		}
	}
	return depth > 0 ? open_line[depth - 1 < 64 ? depth - 1 : 63] : 0;
}

/* Past the string that starts at p (quote q, backslash escapes). */
static char *skip_string(char *p, char *end, char q)
{
	for (p++; p < end && *p != q; p++)
		if (*p == '\\' && p + 1 < end)
			p++;
	return p < end ? p + 1 : end;
}

static void blank(char *from, char *to)
{
	for (; from < to; from++)
		if (*from != '\n')
			*from = ' ';
}

void linefind_blank_comments(char *text, size_t len)
{
	char *p = text, *end = text + len;

	while (p < end) {
		char *s = p;
		if (*p == '"' || *p == '\'') {
			p = skip_string(p, end, *p);
		} else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
			blank(s, p);
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			p += 2;
			while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
				p++;
			p = p + 2 < end ? p + 2 : end;
			blank(s, p);
		} else if (strchr(" \t\r\n{}=,()", *p)) {
			p++;
		} else {   /* a word: a // inside it is no comment */
			while (p < end && !strchr(" \t\r\n{}=,()\"#", *p))
				p++;
		}
	}
}
