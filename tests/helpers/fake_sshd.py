#!/usr/bin/python3
"""A stand-in for sshd in the login-verification tests: listens on
127.0.0.1 PORT and, for each client, writes a recorded sshd log line (with
{addr} and {port} filled from the peer) to LOG ("-" = stderr, like
`sshd -e`), then echoes until the client closes.

usage: fake_sshd.py LOG PORT TEMPLATE [plain|rotate|truncate]
  rotate:   before writing, rename LOG to LOG.1 and create a new LOG
  truncate: before writing, truncate LOG to 0 bytes
"""
import os
import signal
import socket
import sys

log, port, template = sys.argv[1], int(sys.argv[2]), sys.argv[3]
how = sys.argv[4] if len(sys.argv) > 4 else "plain"
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
sys.stderr.write("Server listening on 127.0.0.1 port %d.\n" % port)
sys.stderr.flush()
while True:
    c, peer = s.accept()
    line = template.format(addr=peer[0], port=peer[1]) + "\n"
    if log == "-":
        sys.stderr.write(line)
        sys.stderr.flush()
    else:
        if how == "rotate":
            os.rename(log, log + ".1")
        mode = "w" if how in ("rotate", "truncate") else "a"
        with open(log, mode) as f:
            f.write(line)
    c.sendall(b"SSH-2.0-fake\n")
    while True:
        b = c.recv(4096)
        if not b:
            break
        c.sendall(b)
    c.close()
