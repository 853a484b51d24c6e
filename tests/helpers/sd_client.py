#!/usr/bin/python3
"""Client side helpers for the scrambled tests.

usage:
  sd_client.py hold HOST PORT OUTFILE RELEASEFILE [SRC]
      connect (from SRC if given), write "connected" and the first line the
      server sends to OUTFILE, keep the connection until RELEASEFILE exists
      (at most 60 s), then close.  Exit 1 if the connect fails (OUTFILE
      then holds "error ERRNO-NAME").
  sd_client.py cycles HOST RDVPORT TABLE LO-HI N OUTFILE
      N times: rendezvous, compute the valid port (hour offset), connect,
      read the banner line, close.  Writes "ok N" or "fail I why" to OUTFILE.
"""
import errno
import os
import socket
import sys
import time


def connect(host, port, src=None, timeout=10):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def readline(s):
    data = b""
    while not data.endswith(b"\n") and len(data) < 4096:
        b = s.recv(4096)
        if not b:
            break
        data += b
    return data


def hold(host, port, out, release, src=None):
    try:
        s = connect(host, int(port), src)
    except OSError as e:
        with open(out, "w") as f:
            f.write("error %s\n" % errno.errorcode.get(e.errno, str(e.errno)))
        return 1
    line = readline(s)
    with open(out, "w") as f:
        f.write("connected\n")
        f.write(line.decode("ascii", "replace"))
    end = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < end:
        time.sleep(0.05)
    s.close()
    return 0


def load_table(path):
    t = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) == 2:
                t[int(line[0])] = int(line[1])
    return t


def cycles(host, rdv, table, rng, n, out):
    t = load_table(table)
    lo, hi = (int(x) for x in rng.split("-"))
    for i in range(int(n)):
        try:
            s = connect(host, int(rdv))
            d = readline(s)
            s.close()
            hour = (int(time.time()) // 3600) % 24
            v = lo + ((t[int(d)] + hour - lo) % (hi - lo + 1))
            c = connect(host, v)
            banner = readline(c)
            c.close()
            if not banner:
                raise OSError("no banner on %d" % v)
        except (OSError, ValueError, KeyError) as e:
            with open(out, "w") as f:
                f.write("fail %d %s\n" % (i, e))
            return 1
    with open(out, "w") as f:
        f.write("ok %s\n" % n)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        sys.exit(hold(*sys.argv[2:]))
    if sys.argv[1] == "cycles":
        sys.exit(cycles(*sys.argv[2:]))
    sys.exit(2)
