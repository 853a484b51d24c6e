/* The exec-mode command: split into words without a shell and expand
 * %p (valid port), %a (client address), %% (a percent sign).  Pure. */
#ifndef SCRAMBLED_CMDLINE_H
#define SCRAMBLED_CMDLINE_H

#include <stddef.h>

/* Words are separated by blanks; '...' is literal; "..." is literal except
 * for \" and \\; outside quotes a backslash takes the next character
 * literally.  Returns a malloc'ed NULL-terminated vector (cmd_free) or NULL
 * with err filled (unterminated quote, empty command, no memory). */
char **cmd_split(const char *cmd, char *err, size_t errlen);

/* Check a command: it splits, argv[0] is an absolute path, and every % is
 * followed by p, a or %.  0 ok, -1 with err filled. */
int cmd_check(const char *cmd, char *err, size_t errlen);

/* Split and expand for one launch.  NULL with err filled on any error. */
char **cmd_expand(const char *cmd, unsigned port, const char *addr, char *err, size_t errlen);

void cmd_free(char **argv);

#endif
