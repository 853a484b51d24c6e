/* Login-line patterns (see loginmatch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loginmatch.h"

int login_pattern(const char *match, const char *addr, char *out, size_t outlen,
		  char *err, size_t errlen)
{
	size_t k = 0;
	for (const char *p = match; *p; p++) {
		char tmp[2 * 64 + 1];
		const char *sub;
		size_t sl;
		if (*p != '%') {
			tmp[0] = *p;
			sub = tmp;
			sl = 1;
		} else if (p[1] == '%') {
			sub = "%";
			sl = 1;
			p++;
		} else if (p[1] == 'a') {
			size_t j = 0;
			for (const char *a = addr; *a && j + 2 < sizeof tmp; a++) {
				if (strchr(".[]{}()\\*+?^$|", *a))
					tmp[j++] = '\\';
				tmp[j++] = *a;
			}
			sub = tmp;
			sl = j;
			p++;
		} else {
			snprintf(err, errlen, "unknown sequence %%%c in login_match (use %%a or %%%%)",
				 p[1] ? p[1] : ' ');
			return -1;
		}
		if (k + sl + 1 > outlen) {
			snprintf(err, errlen, "login_match too long");
			return -1;
		}
		memcpy(out + k, sub, sl);
		k += sl;
	}
	out[k] = '\0';
	return 0;
}

int login_compile(regex_t *re, const char *match, const char *addr, char *err, size_t errlen)
{
	char pat[2048];
	if (login_pattern(match, addr, pat, sizeof pat, err, errlen) < 0)
		return -1;
	int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char m[128];
		regerror(rc, re, m, sizeof m);
		snprintf(err, errlen, "bad login_match regular expression: %s", m);
		return -1;
	}
	return 0;
}

int login_check(const char *match, char *err, size_t errlen)
{
	regex_t re;
	if (login_compile(&re, match, "2001:db8::1", err, errlen) < 0)
		return -1;
	regfree(&re);
	return 0;
}

bool login_line_matches(const regex_t *re, const char *line, size_t len)
{
	char buf[2048];
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return regexec(re, buf, 0, NULL, 0) == 0;
}
