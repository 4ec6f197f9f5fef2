#!/usr/bin/env python3
"""One HTTP/1.0 download through a proxy chain, timing the longest pause.

    failover_gap.py plain HOST PORT PATH
    failover_gap.py socks5 PROXY_HOST PROXY_PORT DST_HOST DST_PORT PATH

plain: a TCP connection to HOST:PORT (a Convert client's listener).
socks5: an MPTCP connection (IPPROTO_MPTCP) to the SOCKS5 proxy, then an
RFC 1928 CONNECT (no authentication) to DST_HOST:DST_PORT.
Prints one line: bytes=N sha256=HEX seconds=S longest_gap_ms=G, where G is
the longest time between two reads that brought body bytes (the pause a
failover causes). Exits non-zero if the connection fails or is cut short.
"""
import hashlib
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262


def open_plain(host, port):
    return socket.create_connection((host, port), timeout=30)


def open_socks5(proxy_host, proxy_port, dst_host, dst_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.settimeout(30)
    s.connect((proxy_host, proxy_port))
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise SystemExit("SOCKS5: no acceptable method")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dst_host) + struct.pack("!H", dst_port))
    reply = b""
    while len(reply) < 10:
        chunk = s.recv(10 - len(reply))
        if not chunk:
            raise SystemExit("SOCKS5: closed during CONNECT")
        reply += chunk
    if reply[1] != 0:
        raise SystemExit("SOCKS5: CONNECT refused, reply %d" % reply[1])
    return s


def main():
    mode = sys.argv[1]
    if mode == "plain":
        host, port, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        s = open_plain(host, port)
    elif mode == "socks5":
        s = open_socks5(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
        host, path = sys.argv[4], sys.argv[6]
    else:
        raise SystemExit("mode: plain or socks5")
    start = time.monotonic()
    s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("closed before the HTTP header")
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise SystemExit("HTTP answer: %r" % head[:60])
    length = None
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    digest = hashlib.sha256(body)
    got = len(body)
    last = time.monotonic()
    gap = 0.0
    while True:
        chunk = s.recv(1 << 20)
        now = time.monotonic()
        if not chunk:
            break
        gap = max(gap, now - last)
        last = now
        got += len(chunk)
        digest.update(chunk)
    if length is not None and got != length:
        raise SystemExit("cut short: %d of %d bytes" % (got, length))
    print("bytes=%d sha256=%s seconds=%.3f longest_gap_ms=%.0f"
          % (got, digest.hexdigest(), time.monotonic() - start, gap * 1000))


main()
