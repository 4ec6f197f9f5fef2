#!/usr/bin/env bash
# Seeds the fuzz corpora from the real captures in shared/captures:
#
#   corpus/packet/   IP packets (Ethernet stripped), one per distinct shape
#                    (family, TCP flags, option kinds / MPTCP subtypes and
#                    lengths), the payload cut to 16 bytes with the IP length,
#                    IPv4 header checksum and TCP checksum fixed up
#   corpus/options/  TCP option areas of those packets, and each MPTCP
#                    option's bytes after kind and length (what the options
#                    target puts behind its own kind/length prefix)
#   corpus/pcap/     small capture files: the first records of each capture,
#                    in the four classic pcap variants (µs/ns, little/big
#                    endian), and as pcapng when editcap is installed
#   corpus/endpoints/ action sequences for the endpoints target (written
#                    first, captures or not): handshakes, data both ways,
#                    loss and timers, crafted MPTCP options, closes
#
# Usage: fuzz/seed-corpus.sh [CAPTURE_DIR]   (default: ../shared/captures
# next to the repository, or /work/shared/captures). Needs python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

# The endpoints target's actions (fuzz_targets/endpoints/world.rs): the low
# nibble of a byte is the kind, bit 4 the side or direction (0x10: B, or B to A).
mkdir -p "$here/corpus/endpoints"
python3 - "$here/corpus/endpoints" <<'PY'
import hashlib, os, struct, sys

out = sys.argv[1]
A, B = 0x00, 0x10
def deliver(d, n=1): return bytes([d]) * n
def write(s, n): return bytes([s | 6]) + struct.pack("!H", n)
def read(s, n=0xffff): return bytes([s | 7]) + struct.pack("!H", n)
def advance(v): return bytes([5]) + struct.pack("!H", v)  # v*v/4 microseconds
def both(n): return (deliver(A) + deliver(B)) * n
# An injected segment: flags, seq and ack deltas, payload, fill, REMOVE_ADDR
# ids, then the option kind, its bits and its fields (zeros past the end).
def inject(d, flags, kind, bits, fields=b""):
    return bytes([d | 11, flags]) + bytes(4) + bytes([0, 0]) + bytes([1, 2, 3, 0]) + bytes([kind, bits]) + fields

hs = deliver(A) + deliver(B) + deliver(A) + both(4)
data = write(A, 4096) + both(8) + read(B) + write(B, 4096) + both(8) + read(A)
seeds = {
    "handshake": hs,
    "data": hs + data,
    "loss": hs + write(A, 8000) + bytes([1]) + both(4) + advance(2000) + both(8) + read(B),
    "reorder": hs + write(B, 8000) + bytes([B | 3]) + both(8) + read(A),
    "corrupt": hs + write(A, 3000) + bytes([4, 0, 40, 0x55]) + both(4) + advance(2000) + both(6) + read(B),
    "close": hs + data + bytes([8]) + both(4) + bytes([B | 8]) + both(4) + read(A) + read(B) + bytes([9, B | 9]) + both(4),
    "abort": hs + data + bytes([10]) + both(4),
    "timers": hs + write(A, 2000) + advance(4000) + advance(8000) + advance(30000) + both(8) + read(B),
}
for kind in range(10):
    seeds["inject%d" % kind] = hs + data + inject(A, 0x10, kind, 0x07) + both(4) + data
    seeds["inject%d-b" % kind] = hs + data + inject(B, 0x10, kind, 0x01) + both(4) + data
seeds["inject-rst"] = hs + inject(B, 0x14, 9, 0x01, bytes([0, 2])) + both(4)
seeds["inject-syn-join"] = hs + inject(A, 0x02, 1, 0x00) + both(4)
# The target's first two crashes (forged ACKs that made the server fall back
# to TCP: tests/mptcp_forged.rs), kept as seeds.
seeds["crash-out-of-window-ack"] = bytes.fromhex(
    "061000eb1000eb0010001000100054555555555555050010001007ffff0b10f71087100010001000"
    "100010ffffffffffffff0710f7000010108710100010080006")
seeds["crash-ack-of-nothing-sent"] = bytes.fromhex(
    "0610c600eb1000eb001000100010000073faffff1000100010001007ffff0b10f710871000100010"
    "001000100010001007ffff0b10f7108710001000100010080006")
n = 0
for name, data in seeds.items():
    path = os.path.join(out, name)
    if not os.path.exists(path):
        open(path, "wb").write(data)
        n += 1
print("new seeds: endpoints %d" % n)
PY
captures="${1:-}"
if [[ -z "$captures" ]]; then
    for c in "$here/../../shared/captures" "$here/../shared/captures" /work/shared/captures; do
        if [[ -d "$c" ]]; then captures="$c"; break; fi
    done
fi
if [[ -z "$captures" || ! -d "$captures" ]]; then
    echo "seed-corpus.sh: no capture directory found; pass one as the first argument" >&2
    exit 1
fi

mkdir -p "$here/corpus/packet" "$here/corpus/options" "$here/corpus/pcap"

python3 - "$captures" "$here/corpus" <<'PY'
import glob, hashlib, os, struct, sys

captures, out = sys.argv[1], sys.argv[2]

def save(kind, data):
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(out, kind, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0

def read_pcap(path):
    """Returns (header, endianness, link type, [((sec, nanosec, incl, orig), data)])."""
    raw = open(path, "rb").read()
    magic = raw[:4]
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(path + ": not a classic pcap file")
    link = struct.unpack(e + "I", raw[20:24])[0]
    recs, at = [], 24
    while at + 16 <= len(raw):
        ts, frac, incl, orig = struct.unpack(e + "IIII", raw[at:at + 16])
        ns = frac if nano else frac * 1000
        recs.append(((ts, ns, incl, orig), raw[at + 16:at + 16 + incl]))
        at += 16 + incl
    return raw[:24], e, link, recs

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ip_of_ethernet(frame):
    at, ethertype = 12, None
    while at + 2 <= len(frame):
        ethertype = struct.unpack("!H", frame[at:at + 2])[0]
        if ethertype in (0x8100, 0x88a8):
            at += 4
            continue
        break
    if ethertype not in (0x0800, 0x86dd):
        return None
    return frame[at + 2:]

def split_tcp(ip):
    """(family, src, dst, ip header, tcp segment) of an unfragmented TCP packet."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or len(ip) < total:
            return None
        return 4, ip[12:16], ip[16:20], ip[:ihl], ip[ihl:total]
    if v == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        if ip[6] != 6:
            return None
        return 6, ip[8:24], ip[24:40], ip[:40], ip[40:40 + plen]
    return None

def options_shape(area):
    shape, at = [], 0
    while at < len(area):
        k = area[at]
        if k == 0:
            shape.append((0,))
            break
        if k == 1:
            shape.append((1,))
            at += 1
            continue
        if at + 1 >= len(area) or area[at + 1] < 2:
            shape.append(("bad",))
            break
        l = area[at + 1]
        if k == 30 and l >= 3 and at + 2 < len(area):
            sub = area[at + 2] >> 4
            extra = area[at + 3] if l > 3 and at + 3 < len(area) and sub == 2 else None
            shape.append((k, l, sub, extra))
        else:
            shape.append((k, l))
        at += l
    return tuple(shape)

def mptcp_bodies(area):
    at = 0
    while at < len(area):
        k = area[at]
        if k == 0:
            return
        if k == 1:
            at += 1
            continue
        if at + 1 >= len(area) or area[at + 1] < 2:
            return
        l = area[at + 1]
        if k == 30:
            yield area[at + 2:at + l]
        at += l

def shortened(fam, src, dst, iph, seg, keep=16):
    off = (seg[12] >> 4) * 4
    seg = bytearray(seg[:off + keep])
    seg[16:18] = b"\0\0"
    if fam == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack("!I", len(seg)) + b"\0\0\0\x06"
    seg[16:18] = struct.pack("!H", csum(pseudo + bytes(seg)))
    iph = bytearray(iph)
    if fam == 4:
        iph[2:4] = struct.pack("!H", len(iph) + len(seg))
        iph[10:12] = b"\0\0"
        iph[10:12] = struct.pack("!H", csum(bytes(iph)))
    else:
        iph[4:6] = struct.pack("!H", len(seg))
    return bytes(iph) + bytes(seg)

def pcap_variants(e, link, recs):
    """The records in each classic variant: (µs|ns) x (little|big endian)."""
    for endian in "<>":
        for nano in (False, True):
            magic = 0xa1b23c4d if nano else 0xa1b2c3d4
            head = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)
            body = b""
            for (ts, ns, incl, orig), data in recs:
                frac = ns if nano else ns // 1000
                body += struct.pack(endian + "IIII", ts, frac, len(data), orig) + data
            yield head + body

counts = {"packet": 0, "options": 0, "pcap": 0}
seen_packet, seen_opts = set(), {}
for path in sorted(glob.glob(os.path.join(captures, "*.pcap"))):
    try:
        head, e, link, recs = read_pcap(path)
    except ValueError as err:
        # pcapng (named .pcap): the pcap target gets such files from editcap below.
        print("seed-corpus: skipped", err, file=sys.stderr)
        continue
    for _, frame in recs:
        ip = ip_of_ethernet(frame) if link == 1 else frame
        parts = split_tcp(ip)
        if not parts:
            continue
        fam, src, dst, iph, seg = parts
        if len(seg) < 20:
            continue
        off = (seg[12] >> 4) * 4
        area = seg[20:off]
        shape = (fam, seg[13], options_shape(area))
        if shape not in seen_packet:
            seen_packet.add(shape)
            counts["packet"] += save("packet", shortened(fam, src, dst, iph, seg))
        # Up to three distinct option areas per shape (values differ).
        n = seen_opts.get(shape[2], 0)
        if n < 3:
            seen_opts[shape[2]] = n + 1
            counts["options"] += save("options", area)
            for body in mptcp_bodies(area):
                counts["options"] += save("options", body)
    # Small captures: the first 1, 2 and 4 records; and a window around each
    # distinct MPTCP subtype's first appearance.
    windows = [recs[:1], recs[:2], recs[:4]]
    first = {}
    for i, (_, frame) in enumerate(recs):
        ip = ip_of_ethernet(frame) if link == 1 else frame
        parts = split_tcp(ip)
        if parts and len(parts[4]) >= 20:
            for body in mptcp_bodies(parts[4][20:(parts[4][12] >> 4) * 4]):
                if body and body[0] >> 4 not in first:
                    first[body[0] >> 4] = i
    for i in first.values():
        windows.append(recs[i:i + 2])
    for w in windows:
        for v in pcap_variants(e, link, w):
            counts["pcap"] += save("pcap", v)

print("new seeds: packet %(packet)d, options %(options)d, pcap %(pcap)d" % counts)
PY

# pcapng copies of the small classic captures, when editcap is there.
if command -v editcap >/dev/null 2>&1; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    n=0
    for f in "$here"/corpus/pcap/*; do
        # Only the little-endian microsecond variants: pcapng has one form.
        if [[ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" != "d4c3b2a1" ]]; then continue; fi
        if editcap -F pcapng "$f" "$tmp/out.pcapng" >/dev/null 2>&1; then
            h="$(sha1sum "$tmp/out.pcapng" | cut -d' ' -f1)"
            if [[ ! -e "$here/corpus/pcap/$h" ]]; then
                cp "$tmp/out.pcapng" "$here/corpus/pcap/$h"
                n=$((n + 1))
            fi
        fi
    done
    echo "new pcapng seeds: $n"
else
    echo "editcap not found: no pcapng seeds" >&2
fi

for t in packet options pcap endpoints; do
    echo "corpus/$t: $(find "$here/corpus/$t" -type f | wc -l) files"
done
