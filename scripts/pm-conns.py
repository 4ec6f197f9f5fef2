#!/usr/bin/env python3
"""Many concurrent kernel MPTCP connections, for scripts/bench-pm-conns.sh.

  pm-conns.py serve ADDR PORT          accept connections, echo a byte a second, until killed
  pm-conns.py open ADDR PORT N HOLD    open N connections at once, keep them HOLD seconds
                                       (a byte each way a second), close them; prints one
                                       JSON line: connected, seconds to connect them all
"""
import json
import resource
import selectors
import socket
import sys
import time

IPPROTO_MPTCP = 262


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(addr, port):
    raise_nofile()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ, None)
    print("listening", flush=True)
    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "c")
            else:
                c = key.fileobj
                try:
                    d = c.recv(4096)
                except (BlockingIOError, ConnectionError):
                    d = None
                if d:
                    try:
                        c.send(d)
                    except OSError:
                        pass
                elif d is not None:
                    sel.unregister(c)
                    c.close()


def open_many(addr, port, n, hold):
    raise_nofile()
    sel = selectors.DefaultSelector()
    socks = []
    start = time.monotonic()
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        c.setblocking(False)
        c.connect_ex((addr, port))
        sel.register(c, selectors.EVENT_WRITE)
        socks.append(c)
    pending, connected = n, 0
    deadline = start + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(1.0):
            c = key.fileobj
            sel.unregister(c)
            pending -= 1
            if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
    took = time.monotonic() - start
    end = time.monotonic() + hold
    while time.monotonic() < end:
        for c in socks:
            try:
                c.send(b"x")
                c.recv(16)
            except OSError:
                pass
        time.sleep(1.0)
    for c in socks:
        c.close()
    print(json.dumps({"connected": connected, "connect_s": round(took, 3)}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 6 and sys.argv[1] == "open":
        open_many(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
