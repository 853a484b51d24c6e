/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
#ifndef SCRAMBLED_NOTIFY_H
#define SCRAMBLED_NOTIFY_H

/* Send msg ("READY=1", "STOPPING=1", ...).  0 when sent or when there is no
 * NOTIFY_SOCKET, -1 on error. */
int notify_send(const char *msg);

#endif
