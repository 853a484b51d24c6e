/* Sanitizer canary: signed integer overflow (undefined behaviour).  Built
 * only with make SANITIZE=1; canary.bats requires UBSan to stop it. */
#include <limits.h>
#include <stdio.h>

int main(void)
{
	volatile int big = INT_MAX;
	int r = big + 1;
	printf("canary survived: %d\n", r);
	return 0;
}
