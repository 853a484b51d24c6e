/* Line numbers for configuration messages.  libconfuse reports the line of
 * its look-ahead token, which is often the wrong one, so values are located
 * again in the source text with a small tokenizer. */
#ifndef SCRAMBLE_LINEFIND_H
#define SCRAMBLE_LINEFIND_H

#include <stddef.h>

struct lf_token {
	const char *text;   /* points into the source; strings without quotes */
	size_t len;
	int line;
	int depth;          /* brace depth at the token */
	char kind;          /* 'i' identifier/number, 's' string, 'p' punctuation */
};

struct linefind {
	struct lf_token *tok;
	size_t n;
};

int linefind_init(struct linefind *lf, const char *buf, size_t len);
void linefind_free(struct linefind *lf);
/* Line of `kind "title" {`, or 0. */
int linefind_section(const struct linefind *lf, const char *kind, const char *title);
/* Line of `key` (or of the string value `value` if non-NULL) inside that
 * section; falls back to the section's line. */
int linefind_key(const struct linefind *lf, const char *kind, const char *title,
		 const char *key, const char *value);



/* Overwrite every comment of text (len bytes) with spaces, newlines
 * kept, strings untouched.  libconfuse counts the lines of comments wrong
 * (a # line as three): the parser gets text without any. */
void linefind_blank_comments(char *text, size_t len);

/* Line of a '{' that is never closed (libconfuse accepts a section cut
 * off at the end of the file), or 0. */
int linefind_unclosed(const struct linefind *lf);
#endif
