#!/usr/bin/env python3
"""A stream over a kernel MPTCP socket, and the longest pause in its delivery.

  pm-gap.py serve ADDR PORT            accept one connection, send until the peer closes
  pm-gap.py recv ADDR PORT SECONDS     connect, read for SECONDS, print one JSON line:
                                       bytes, the longest gap between two reads after
                                       the first second (ms) and when it began (s)
"""
import json
import socket
import sys
import time

IPPROTO_MPTCP = 262


def serve(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    print("listening", flush=True)
    c, _ = s.accept()
    buf = b"\0" * 65536
    try:
        while True:
            c.sendall(buf)
    except OSError:
        pass


def recv(addr, port, seconds):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.connect((addr, port))
    start = time.monotonic()
    last = start
    total = 0
    gap, gap_at = 0.0, 0.0
    s.settimeout(0.5)
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        try:
            n = len(s.recv(1 << 16))
        except socket.timeout:
            continue
        if n == 0:
            break
        now = time.monotonic()
        total += n
        if last - start >= 1.0 and now - last > gap:
            gap, gap_at = now - last, last - start
        last = now
    s.close()
    print(json.dumps({"bytes": total, "max_gap_ms": round(gap * 1000, 1), "gap_at_s": round(gap_at, 3)}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
