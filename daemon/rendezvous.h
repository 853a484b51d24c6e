/* Rendezvous listeners: one per `listen` address of each service; the
 * admission checks (allow, rate, max_pending, per_source) on accept. */
#ifndef SCRAMBLED_RENDEZVOUS_H
#define SCRAMBLED_RENDEZVOUS_H

#include "daemon.h"

/* Make g the current configuration: open listeners for new addresses,
 * keep those that did not change, close the others.  On failure nothing
 * changes and -1 is returned (errors logged). */
int svcs_apply(struct daemon *d, struct gen *g);
void rdv_on_accept(struct daemon *d, struct listener *l);
/* Close every listener (shutdown). */
void svcs_close_listeners(struct daemon *d);
void svcs_free(struct daemon *d);

#endif
