/* Logging to stderr (foreground) or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"

static bool use_stderr = true;
static bool debug_on;
static const char *log_ident = "scramble";

void log_init(const char *ident, bool to_stderr, bool debug)
{
	log_ident = ident;
	use_stderr = to_stderr;
	debug_on = debug;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool log_debug_enabled(void)
{
	return debug_on;
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (use_stderr) {
		char line[1024];
		vsnprintf(line, sizeof line, fmt, ap);
		/* one write per line, so lines of concurrent writers never mix */
		fprintf(stderr, "%s: %s\n", log_ident, line);
		fflush(stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}
