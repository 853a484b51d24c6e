/* Login verification: follow a log file (or the server's own stderr) for
 * a line matching login_match for one client. */
#ifndef SCRAMBLED_LOGIN_H
#define SCRAMBLED_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

struct login_watch;

/* Start watching: match (login_match) for addr, in the file path from its
 * current size on, or path "-" for lines given to login_feed().  NULL with
 * err filled on error. */
struct login_watch *login_start(const char *path, const char *match, const char *addr,
				char *err, size_t errlen);
/* Read what was appended to the file since the last call (handles
 * truncation and rotation).  Returns true once a line has matched. */
bool login_poll(struct login_watch *w);
/* Offer one line (the server's stderr for "-").  true once matched. */
bool login_feed(struct login_watch *w, const char *line, size_t len);
bool login_matched(const struct login_watch *w);
bool login_uses_stderr(const struct login_watch *w);
void login_free(struct login_watch *w);

#endif
