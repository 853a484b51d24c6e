#!/usr/bin/python3
"""Protocol v2 (scramble-protocol(7)) written again from the man page with
Python's hashlib/hmac, independently of libsodium: the unit test vectors
come from here, and the bats suites use it as a client that can misbehave.

  scramble_auth.py vectors
  scramble_auth.py client --key FILE --name NAME --host ADDR --rdv PORT
        [--src ADDR] [--range LO-HI] [--mode good|none|short|prefix|wrong-key]
        [--tag-out FILE] [--tag-in FILE] [--tag-key FILE] [--send TEXT] [--expect-close]
        [--timeout S]
Prints "valid=PORT" after the rendezvous, then "reply=..." (what the server
sent back, repr) or "closed" / "reset"."""
import hashlib, hmac, socket, struct, sys, time

PORT_LABEL = b"scramble v2 port"
TAG_LABEL = b"scramble v2 auth"


def addr_bytes(addr):
    if ":" in addr:
        b = socket.inet_pton(socket.AF_INET6, addr)
        if b[:12] == b"\0" * 10 + b"\xff\xff":
            return b"\x04" + b[12:] + b"\0" * 12
        return b"\x06" + b
    return b"\x04" + socket.inet_aton(addr) + b"\0" * 12


def port(key, decoy, nonce, step, addr, lo, hi):
    msg = PORT_LABEL + struct.pack(">H", decoy) + nonce + struct.pack(">I", step) + addr_bytes(addr)
    h = hashlib.blake2b(msg, key=key, digest_size=8).digest()
    return lo + int.from_bytes(h, "little") % (hi - lo + 1)


def tag(key, nonce, decoy, addr, name):
    n = name.encode()
    msg = TAG_LABEL + nonce + struct.pack(">H", decoy) + addr_bytes(addr) + bytes([len(n)]) + n
    return hmac.new(key, msg, hashlib.sha512).digest()[:32]


def parse_line(line, lo, hi):
    if not line.endswith(b"\n") or not line.startswith(b"2 "):
        raise ValueError("not a v2 line: %r" % line)
    parts = line[:-1].split(b" ")
    if len(parts) != 3 or len(parts[2]) != 32:
        raise ValueError("bad v2 line: %r" % line)
    decoy = int(parts[1])
    if not lo <= decoy <= hi:
        raise ValueError("decoy out of range: %r" % line)
    return decoy, bytes.fromhex(parts[2].decode())


def vectors():
    key = bytes(range(32))
    nonce = bytes(range(0xa0, 0xb0))
    for addr in ("127.0.0.1", "10.1.2.3", "::1", "2001:db8::7"):
        print("port %s %d" % (addr, port(key, 20042, nonce, 493000, addr, 20000, 20099)))
        print("tag %s %s" % (addr, tag(key, nonce, 20042, addr, "echo").hex()))


def recv_line(s, deadline):
    buf = b""
    while b"\n" not in buf and len(buf) < 64:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        d = s.recv(64 - len(buf))
        if not d:
            break
        buf += d
    return buf


def client(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rdv", type=int, required=True)
    ap.add_argument("--src")
    ap.add_argument("--range", default="20000-20099")
    ap.add_argument("--mode", default="good")
    ap.add_argument("--tag-out")
    ap.add_argument("--tag-in")
    ap.add_argument("--tag-key")
    ap.add_argument("--send", default="")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args(argv)
    lo, hi = (int(x) for x in a.range.split("-"))
    key = open(a.key, "rb").read()
    if a.mode == "wrong-key":
        key = bytes(b ^ 0x55 for b in key)
    deadline = time.monotonic() + a.timeout
    s = socket.create_connection((a.host, a.rdv), timeout=a.timeout,
                                 source_address=(a.src, 0) if a.src else None)
    me = s.getsockname()[0]
    line = recv_line(s, deadline)
    s.close()
    decoy, nonce = parse_line(line, lo, hi)
    valid = port(key, decoy, nonce, int(time.time()) // 3600, me, lo, hi)
    print("valid=%d" % valid, flush=True)
    tkey = open(a.tag_key, "rb").read() if a.tag_key else key
    t = tag(tkey, nonce, decoy, me, a.name)
    if a.tag_out:
        open(a.tag_out, "wb").write(t)
    if a.tag_in:
        t = open(a.tag_in, "rb").read()
    # short: 31 bytes then EOF; prefix: 33 bytes (one too many in front)
    payload = {"good": t, "wrong-key": t, "none": b"", "short": t[:31],
               "prefix": b"X" + t}[a.mode]
    c = socket.create_connection((a.host, valid), timeout=a.timeout,
                                 source_address=(a.src, 0) if a.src else None)
    if a.mode == "short":
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
    else:
        c.sendall(payload + a.send.encode())
    got = b""
    try:
        c.settimeout(max(0.01, deadline - time.monotonic()))
        while True:
            d = c.recv(4096)
            if not d:
                break
            got += d
            if a.send and a.send.encode() in got:
                break
    except ConnectionResetError:
        pass
    except socket.timeout:
        print("timeout")
    # a reset (we had sent more than the daemon read) counts as closed
    print("reply=%r" % got if got else "closed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["vectors"]:
        vectors()
    elif sys.argv[1:2] == ["client"]:
        sys.exit(client(sys.argv[2:]))
    else:
        print(__doc__)
        sys.exit(2)
