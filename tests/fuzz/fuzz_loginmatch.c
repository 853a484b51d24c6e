/* The login-line matcher (daemon/loginmatch.c): the first line of the input
 * is a login_match pattern, the second a client address, the rest log lines
 * matched against the compiled pattern. */
#include "fuzz.h"
#include "loginmatch.h"

/* glibc's regcomp duplicates a subexpression for every repetition operator
 * applied to it, so stacked or nested quantifiers ("a++++...", "((a+)+)+")
 * and bounded repeats ("a{99}{99}") cost exponential time and memory.  That
 * is glibc's, and reachable only from the administrator's login_match (see
 * the report of issue 8), so patterns with more than a few of them are
 * expanded but not compiled: the fuzzing stays on our code. */
static int tame(const char *pat)
{
	int ops = 0;
	for (const char *p = pat; *p; p++) {
		if (*p == '{')
			return 0;
		if (*p == '*' || *p == '+' || *p == '?')
			ops++;
	}
	return ops <= 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *nl = memchr(p, '\n', size);
	char err[256], out[2048];
	regex_t re;

	if (!nl || nl - p > 64)      /* glibc regcomp is exponential in the worst case */
		return 0;
	char *pat = fuzz_strdup(data, (size_t)(nl - p));
	p = nl + 1;
	nl = memchr(p, '\n', (size_t)(end - p));
	const char *aend = nl ? nl : end;
	char *addr = fuzz_strdup((const uint8_t *)p, (size_t)(aend - p));
	p = nl ? nl + 1 : end;
	if (!pat || !addr)
		goto out;

	if (login_pattern(pat, addr, out, sizeof out, err, sizeof err) == 0)
		FUZZ_ASSERT(strlen(out) < sizeof out);
	else
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL);
	if (!tame(pat))
		goto out;
	(void)login_check(pat, err, sizeof err);
	if (login_compile(&re, pat, addr, err, sizeof err) == 0) {
		int lines = 0;
		while (p < end && lines++ < 16) {
			nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			/* an exactly sized heap copy, so reading past len is caught */
			char *line = malloc(eol > p ? (size_t)(eol - p) : 1);
			if (!line)
				break;
			memcpy(line, p, (size_t)(eol - p));
			(void)login_line_matches(&re, line, (size_t)(eol - p));
			free(line);
			p = nl ? nl + 1 : end;
		}
		regfree(&re);
	}
out:
	free(pat);
	free(addr);
	return 0;
}
