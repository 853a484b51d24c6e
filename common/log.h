/* Logging: stderr in the foreground, syslog otherwise.  One line per event. */
#ifndef SCRAMBLE_LOG_H
#define SCRAMBLE_LOG_H

#include <syslog.h>
#include <stdbool.h>

void log_init(const char *ident, bool to_stderr, bool debug);
bool log_debug_enabled(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
