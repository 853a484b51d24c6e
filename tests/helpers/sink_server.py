#!/usr/bin/python3
"""A backend for the forward-mode tests: listens on 127.0.0.1 PORT; for each
client, reads until EOF (the client's half-close), then answers
"BYTES SHA256\n" of what it got and closes.  One client at a time.

usage: sink_server.py PORT TAG
"""
import hashlib
import signal
import socket
import sys

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(b"%d %s\n" % (n, h.hexdigest().encode()))
    c.close()
