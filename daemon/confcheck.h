/* Loading a configuration generation for the daemon: the common loader,
 * the tables, and the checks only the daemon can make (users and groups
 * exist, the command starts with an absolute path, -s names a service). */
#ifndef SCRAMBLED_CONFCHECK_H
#define SCRAMBLED_CONFCHECK_H

#include "daemon.h"

/* Load path.  NULL with every problem in errs ("FILE:LINE: problem"). */
struct gen *gen_load(const char *path, const char *only_service, struct config_errors *errs);

#endif
