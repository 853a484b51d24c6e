#!/usr/bin/python3
"""A fake rendezvous server (or a recording listener) for the shim tests.

usage: fake_rendezvous.py HOST PORTFILE LOGFILE MODE [TEXT]

Listens on HOST, port 0; writes the port to PORTFILE once listening; for
every connection appends "conn ADDR PORT" to LOGFILE, then by MODE:
  reply TEXT  send TEXT (backslash escapes such as \\n allowed) and close
  eof         close at once
  silent      keep the connection open, send nothing
  record      like eof (a "well-known port" that must see nothing)
Runs until SIGTERM.
"""
import os
import signal
import socket
import sys

host, portfile, logfile, mode = sys.argv[1:5]
text = sys.argv[5].encode().decode("unicode_escape").encode("latin-1") if len(sys.argv) > 5 else b""
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, 0))
s.listen(128)
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(tmp, portfile)
held = []
while True:
    c, addr = s.accept()
    with open(logfile, "a") as f:
        f.write("conn %s %d\n" % (addr[0], addr[1]))
    if mode == "reply":
        c.sendall(text)
        c.close()
    elif mode == "silent":
        held.append(c)
    else:
        c.close()
