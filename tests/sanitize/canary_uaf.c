/* Sanitizer canary: reading freed memory.  Built only with make SANITIZE=1;
 * canary.bats requires AddressSanitizer to stop it. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	int *p = malloc(16 * sizeof *p);
	if (!p)
		return 1;
	p[3] = 42;
	int *volatile q = p;
	free(p);
	printf("canary survived: %d\n", q[3]);
	return 0;
}
