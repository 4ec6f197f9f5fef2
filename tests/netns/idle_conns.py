#!/usr/bin/env python3
"""Idle connections through a proxy, for memory figures.

    idle_conns.py hold PORT                       (the server: accepts and keeps connections, reads nothing)
    idle_conns.py convert N CONVERTER_HOST PORT DST_HOST DST_PORT READY_FILE
    idle_conns.py socks5  N PROXY_HOST PORT DST_HOST DST_PORT READY_FILE

convert: N MPTCP connections to an RFC 8803 converter, each sending a Connect
TLV after the handshake and reading the converter's reply; socks5: N MPTCP
connections to a SOCKS5 proxy, each through an RFC 1928 CONNECT. Then it
writes the count to READY_FILE and keeps every connection open, idle, until
killed. Exits non-zero if a connection fails.
"""
import ipaddress
import resource
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise SystemExit("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def open_convert(host, port, dst, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.settimeout(30)
    s.connect((host, port))
    # RFC 8803: header (version 1, 6 words, magic 0x2263), Connect TLV (type 10, 5 words).
    addr = ipaddress.IPv6Address("::ffff:" + dst).packed
    s.sendall(struct.pack("!BBH", 1, 6, 0x2263) + struct.pack("!BBH", 10, 5, dport) + addr)
    head = read_exact(s, 4)
    if head[0] != 1 or head[2:4] != b"\x22\x63":
        raise SystemExit("not a Convert reply: %r" % head)
    body = read_exact(s, head[1] * 4 - 4)
    if body[:1] == b"\x1e":
        raise SystemExit("Error TLV: %s" % body.hex())
    return s


def open_socks5(host, port, dst, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.settimeout(30)
    s.connect((host, port))
    s.sendall(b"\x05\x01\x00")
    if read_exact(s, 2) != b"\x05\x00":
        raise SystemExit("SOCKS5: no acceptable method")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dst) + struct.pack("!H", dport))
    reply = read_exact(s, 10)
    if reply[1] != 0:
        raise SystemExit("SOCKS5: CONNECT refused, reply %d" % reply[1])
    return s


def hold(port):
    import selectors
    sel = selectors.DefaultSelector()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    sel.register(ls, selectors.EVENT_READ)
    kept = []
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                c, _ = ls.accept()
                kept.append(c)


def main():
    raise_fd_limit()
    if sys.argv[1] == "hold":
        hold(int(sys.argv[2]))
        return
    mode, n, host, port, dst, dport, ready = sys.argv[1:8]
    opener = {"convert": open_convert, "socks5": open_socks5}[mode]
    conns = []
    for _ in range(int(n)):
        conns.append(opener(host, int(port), dst, int(dport)))
    with open(ready, "w") as f:
        f.write("%d\n" % len(conns))
    while True:
        time.sleep(3600)


main()
