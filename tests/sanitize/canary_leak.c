/* Sanitizer canary: memory that is never freed and no longer reachable.
 * Built only with make SANITIZE=1; canary.bats requires LeakSanitizer to
 * report it at exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lose(void)
{
	char *volatile p = malloc(4096);
	if (p)
		memset(p, 1, 4096);
	p = NULL;
}

int main(void)
{
	lose();
	printf("canary exiting\n");
	return 0;
}
