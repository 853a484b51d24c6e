#!/usr/bin/python3
"""A rendezvous server that misbehaves slowly, for tests/stress_shim.bats.

usage: stress_fake.py HOST PORTFILE LOGFILE MODE TEXT

Listens on HOST, port 0; writes the port to PORTFILE; logs "conn ADDR PORT"
to LOGFILE for every connection, then by MODE (TEXT takes backslash escapes):
  stream  send TEXT again and again until the peer goes (a reply that
          never ends)
  hold    send TEXT once and keep the connection open (no EOF)
Each connection is served by its own thread; runs until SIGTERM.
"""
import signal
import socket
import sys
import threading

host, portfile, logfile, mode, text = sys.argv[1:6]
text = text.encode().decode("unicode_escape").encode("latin-1")
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, 0))
s.listen(128)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
__import__("os").rename(portfile + ".tmp", portfile)
held = []


def serve(c):
    try:
        if mode == "stream":
            for _ in range(1000000):
                c.sendall(text)
        else:
            c.sendall(text)
            held.append(c)
            return
    except OSError:
        pass
    c.close()


while True:
    c, addr = s.accept()
    with open(logfile, "a") as f:
        f.write("conn %s %d\n" % (addr[0], addr[1]))
    threading.Thread(target=serve, args=(c,), daemon=True).start()
