/* Login verification patterns ([0026]): login_match is a POSIX extended
 * regular expression in which %a stands for the client address (inserted
 * regex-escaped) and %% for a percent sign.  Pure. */
#ifndef SCRAMBLED_LOGINMATCH_H
#define SCRAMBLED_LOGINMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* Expand match for addr into out.  0, or -1 with err filled (unknown %
 * sequence, too long). */
int login_pattern(const char *match, const char *addr, char *out, size_t outlen,
		  char *err, size_t errlen);

/* Expand and compile (REG_EXTENDED | REG_NOSUB).  0/-1 with err. */
int login_compile(regex_t *re, const char *match, const char *addr, char *err, size_t errlen);

/* Check a login_match setting (expands with a sample address, compiles). */
int login_check(const char *match, char *err, size_t errlen);

/* Does one log line (len bytes, no newline needed) match? */
bool login_line_matches(const regex_t *re, const char *line, size_t len);

#endif
