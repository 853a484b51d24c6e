/* Minimal TAP producer for the C unit tests: one "ok"/"not ok" line per
 * CHECK, a plan at the end, exit status 1 on any failure. */
#ifndef SCRAMBLE_UNIT_H
#define SCRAMBLE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond) unit_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) unit_check_eq((long long)(a), (long long)(b), #a " == " #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) unit_check_str((a), (b), #a " == " #b, __FILE__, __LINE__)

static inline void unit_check(int ok, const char *what, const char *file, int line)
{
	unit_n++;
	if (ok) {
		printf("ok %d - %s\n", unit_n, what);
	} else {
		unit_failed++;
		printf("not ok %d - %s (%s:%d)\n", unit_n, what, file, line);
	}
}

static inline void unit_check_eq(long long a, long long b, const char *what, const char *file, int line)
{
	unit_check(a == b, what, file, line);
	if (a != b)
		printf("#   got %lld, expected %lld\n", a, b);
}

static inline void unit_check_str(const char *a, const char *b, const char *what, const char *file, int line)
{
	int ok = a && b && strcmp(a, b) == 0;
	unit_check(ok, what, file, line);
	if (!ok)
		printf("#   got \"%s\", expected \"%s\"\n", a ? a : "(null)", b ? b : "(null)");
}

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
