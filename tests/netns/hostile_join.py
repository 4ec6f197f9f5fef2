#!/usr/bin/env python3
"""Joins with a bad HMAC in the third ACK, for tests/netns/hostile.sh.

    hostile_join.py --dst IP --port N --count N --first-port P [--wait S]

Watches, on a packet socket, a client's MP_CAPABLE third ACK to DST:PORT
(RFC 8684 §3.1: it carries both keys in the clear), computes the server's
token from the server's key (the first 32 bits of its SHA-256), then opens
COUNT joins from the client's address, ports P, P+1...: an MP_JOIN SYN with
that token, and to the server's SYN/ACK a third ACK whose HMAC is garbage.
The server must reset each join (RST, MP_TCPRST) and count it; the client's
own connection must not notice. The caller keeps the client's kernel from
answering the SYN/ACKs (they are to ports it never opened). Prints one JSON
line: SYN/ACKs and RSTs received. Run it only inside a network namespace
made for it.
"""

import argparse
import hashlib
import json
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, raw

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def packets(s, deadline):
    """Yields IPv4/TCP packets (either direction) until the deadline."""
    while time.monotonic() < deadline:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[1] == ETH_P_IP and len(pkt) >= 40 and pkt[9] == socket.IPPROTO_TCP:
            yield pkt


def tcp_fields(pkt):
    ihl = (pkt[0] & 0x0F) * 4
    sport, dport, seq, ack = struct.unpack_from("!HHII", pkt, ihl)
    doff = (pkt[ihl + 12] >> 4) * 4
    return ihl, sport, dport, seq, ack, pkt[ihl + 13], pkt[ihl + 20 : ihl + doff]


def mp_capable_keys(opts):
    """(sender key, receiver key) of an MP_CAPABLE third ACK's option, if any."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        n = opts[i + 1]
        body = opts[i : i + n]
        if kind == 30 and n >= 20 and body[2] >> 4 == 0:
            return struct.unpack_from("!QQ", body, 4)
        i += n
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--first-port", type=int, default=40000)
    ap.add_argument("--wait", type=float, default=20.0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.settimeout(0.1)
    print("watching", file=sys.stderr, flush=True)
    want = socket.inet_aton(a.dst)
    client = keys = None
    for pkt in packets(s, time.monotonic() + a.wait):
        ihl, sport, dport, seq, ack, flags, opts = tcp_fields(pkt)
        if pkt[16:20] == want and dport == a.port and flags & 0x12 == 0x10:
            keys = mp_capable_keys(opts)
            if keys:
                client = socket.inet_ntoa(pkt[12:16])
                break
    if keys is None:
        print(json.dumps({"seen": False}))
        return 1
    token = struct.unpack("!I", hashlib.sha256(struct.pack("!Q", keys[1])).digest()[:4])[0]
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    synacks = rsts = 0
    for k in range(a.count):
        sport = a.first_port + k
        isn = 1000 + 7919 * k
        # MP_JOIN SYN (length 12): subtype 1, address id 9, token, nonce.
        join = (30, bytes([0x10, 9]) + struct.pack("!II", token, 0x5EED0000 + k))
        syn = IP(src=client, dst=a.dst, ttl=64) / TCP(
            sport=sport, dport=a.port, flags="S", seq=isn, window=64240, options=[("MSS", 1460), join]
        )
        out.sendto(bytes(raw(syn)), (a.dst, 0))
        answer = None
        for pkt in packets(s, time.monotonic() + 2):
            ihl, ps, pd, pseq, pack, flags, _ = tcp_fields(pkt)
            if pkt[12:16] == want and ps == a.port and pd == sport:
                answer = (flags, pseq)
                break
        if answer is None or answer[0] & 0x12 != 0x12:
            continue
        synacks += 1
        # The third ACK (length 24): subtype 1, then 20 bytes of a wrong HMAC.
        bad = (30, bytes([0x10, 0]) + bytes([0xA5]) * 20)
        third = IP(src=client, dst=a.dst, ttl=64) / TCP(
            sport=sport, dport=a.port, flags="A", seq=isn + 1, ack=answer[1] + 1, window=64240, options=[bad]
        )
        out.sendto(bytes(raw(third)), (a.dst, 0))
        for pkt in packets(s, time.monotonic() + 2):
            ihl, ps, pd, _, _, flags, _ = tcp_fields(pkt)
            if pkt[12:16] == want and ps == a.port and pd == sport and flags & 0x04:
                rsts += 1
                break
    print(json.dumps({"seen": True, "client": client, "joins": a.count, "synacks": synacks, "rsts": rsts}))
    return 0 if rsts == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
