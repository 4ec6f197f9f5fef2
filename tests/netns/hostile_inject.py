#!/usr/bin/env python3
"""Blind injection into a live subflow (RFC 5961), for tests/netns/hostile.sh.

    hostile_inject.py --dst IP --port N --count N [--wait S]

Watches, on a packet socket, the first subflow's segments from a client to
DST:PORT (an attacker beside the path sees the addresses, ports and where
the sequence numbers are, not the exact next one at the receiver), then
sends COUNT segments of each kind, built with scapy from the client's
address and port, a millisecond apart:

  rst   RST, its sequence number 100 kB + an odd offset ahead of the last
        seen (in the receive window, never the exact next one);
  syn   SYN, in the window the same way;
  data  100 bytes of garbage at the next sequence number, acknowledging
        1 GB beyond what the server sent.

A stack that follows RFC 5961 answers the first two with (rate-limited)
challenge ACKs and drops the third; none of them may change the stream.
Prints one JSON line: what was seen and sent. Run it only inside a network
namespace made for it.
"""

import argparse
import json
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, Raw, raw

ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003


def watch(dst, port, deadline):
    """Yields (src, sport, seq, ack, payload length) of TCP segments to dst:port."""
    # ETH_P_ALL: the packets a host sends reach only the taps of all protocols.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.settimeout(0.2)
    print("watching", file=sys.stderr, flush=True)
    want = socket.inet_aton(dst)
    while time.monotonic() < deadline:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[1] != ETH_P_IP or len(pkt) < 40 or pkt[9] != socket.IPPROTO_TCP or pkt[16:20] != want:
            continue
        ihl = (pkt[0] & 0x0F) * 4
        sport, dport, seq, ack = struct.unpack_from("!HHII", pkt, ihl)
        if dport != port:
            continue
        doff = (pkt[ihl + 12] >> 4) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        yield socket.inet_ntoa(pkt[12:16]), sport, seq, ack, total - ihl - doff


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--wait", type=float, default=20.0)
    a = ap.parse_args()
    deadline = time.monotonic() + a.wait
    seen = None
    # The first data segment of the connection: its subflow is the one attacked.
    for src, sport, seq, ack, n in watch(a.dst, a.port, deadline):
        if n > 0:
            seen = (src, sport, seq, ack, n)
            break
    if seen is None:
        print(json.dumps({"seen": False}))
        return 1
    src, sport, seq, ack, n = seen
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = {"rst": 0, "syn": 0, "data": 0}
    latest = [seq, ack, n]
    watcher = watch(a.dst, a.port, time.monotonic() + 10)
    for k in range(a.count):
        # Keep up with the stream: the last segment the client sent.
        for s2, p2, q2, k2, n2 in watcher:
            if (s2, p2) == (src, sport):
                latest = [q2, k2, n2]
            break
        q, ackv, ln = latest
        base = IP(src=src, dst=a.dst, ttl=64)
        ahead = (q + 100_003 + 7 * k) & 0xFFFFFFFF
        forged = {
            "rst": base / TCP(sport=sport, dport=a.port, flags="R", seq=ahead, window=0),
            "syn": base / TCP(sport=sport, dport=a.port, flags="S", seq=ahead, window=64240),
            "data": base
            / TCP(
                sport=sport,
                dport=a.port,
                flags="PA",
                seq=(q + ln) & 0xFFFFFFFF,
                ack=(ackv + (1 << 30)) & 0xFFFFFFFF,
                window=64240,
            )
            / Raw(b"\xee" * 100),
        }
        for kind, p in forged.items():
            try:
                out.sendto(bytes(raw(p)), (a.dst, 0))
                sent[kind] += 1
            except OSError:
                pass
        time.sleep(0.001)
    print(json.dumps({"seen": True, "src": f"{src}:{sport}", "sent": sent}))
    return 0 if all(v == a.count for v in sent.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
