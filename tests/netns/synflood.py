#!/usr/bin/env python3
"""Spoofed MP_CAPABLE SYNs at a listener, for tests/netns/synflood.sh.

    synflood.py --dst IP --port N --count N --rate PPS --src NET [--seed S]

Every SYN comes from a random address of NET and a random port, with a random
ISN, and carries MSS, SACK-permitted, timestamps, window scale and MP_CAPABLE
v1 (kind 30, length 4, subtype 0, version 1, flag H: HMAC-SHA256), as a Linux
MPTCP client's SYN does. Scapy builds the SYN once; each copy gets its own
source address, port and ISN and scapy's checksums. They leave through a raw
socket at about PPS a second. Prints one JSON line: how many went out, and
how long that took. Run it only inside a network namespace made for it.
"""

import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, raw
from scapy.utils import checksum

# MP_CAPABLE v1 in a SYN: subtype 0 << 4 | version 1, then the flags (H).
MP_CAPABLE_SYN = (30, bytes([0x01, 0x01]))


def template(dst, port):
    """The SYN, built by scapy, as bytes to copy and patch."""
    opts = [
        ("MSS", 1460),
        ("SAckOK", b""),
        ("Timestamp", (1, 0)),
        ("NOP", None),
        ("WScale", 7),
        MP_CAPABLE_SYN,
    ]
    syn = IP(src="0.0.0.0", dst=dst, flags="DF", ttl=64) / TCP(
        sport=1, dport=port, flags="S", seq=0, window=64240, options=opts
    )
    return bytes(raw(syn))


def spoofed(tpl, src, sport, isn):
    """One copy of the SYN from src:sport with ISN isn, checksums redone."""
    b = bytearray(tpl)
    ihl = (b[0] & 0x0F) * 4
    b[12:16] = src
    b[10:12] = b"\0\0"
    struct.pack_into("!H", b, 10, checksum(bytes(b[:ihl])))
    struct.pack_into("!H", b, ihl, sport)
    struct.pack_into("!I", b, ihl + 4, isn)
    b[ihl + 16 : ihl + 18] = b"\0\0"
    pseudo = bytes(b[12:20]) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(b) - ihl)
    struct.pack_into("!H", b, ihl + 16, checksum(pseudo + bytes(b[ihl:])))
    return bytes(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--src", default="10.203.0.0/16")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    net = ipaddress.ip_network(a.src)
    rng = random.Random(a.seed)
    tpl = template(a.dst, a.port)
    hosts = net.num_addresses - 2
    syns = []
    for _ in range(a.count):
        src = (net.network_address + 1 + rng.randrange(hosts)).packed
        syns.append(spoofed(tpl, src, rng.randrange(1024, 65536), rng.getrandbits(32)))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    batch = max(1, a.rate // 100)
    start = time.monotonic()
    sent = errors = 0
    for i in range(0, len(syns), batch):
        for pkt in syns[i : i + batch]:
            try:
                s.sendto(pkt, (a.dst, 0))
                sent += 1
            except OSError:
                errors += 1
        # Keep to the rate: batch i / batch should leave at i / rate seconds.
        ahead = (i + batch) / a.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    took = time.monotonic() - start
    print(json.dumps({"sent": sent, "errors": errors, "seconds": round(took, 3), "pps": round(sent / took)}))
    return 0 if sent == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
