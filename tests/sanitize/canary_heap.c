/* Sanitizer canary: a heap buffer overflow by one byte.  Built only with
 * make SANITIZE=1; canary.bats requires AddressSanitizer to stop it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argv;
	size_t n = 8 + (size_t)argc;      /* not a constant: no compile-time warning */
	char *p = malloc(n);
	if (!p)
		return 1;
	memset(p, 'x', n);
	volatile size_t i = n;            /* one past the end */
	p[i] = 'y';
	printf("canary survived: %c\n", p[i]);
	free(p);
	return 0;
}
