#!/usr/bin/env bash
# RFC 8803 (0-RTT TCP Convert) end to end: `mptcp proxy convert-server` as the
# converter in front of `python3 -m http.server`, checked by a client written
# here in Python from the RFC alone (the Convert bytes built by hand, sent with
# MSG_FASTOPEN on an IPPROTO_MPTCP socket), and by curl through
# `mptcp proxy convert-client`. Needs root, iproute2, iptables, curl, python3.
#
#   convert.sh MPTCP_BINARY [SIZE_MB]
#
#   cv-lan v0 10.212.0.2 == 10.212.0.1 v0  cv-cli  v1 10.212.1.1 == 10.212.1.2 v1  cv-cnv  v2 10.212.2.1 == 10.212.2.2 v2  cv-srv
#   curl (through TPROXY)                python client, curl,                 convert-server                http.server :8000
#                                        convert-client :8081 (fixed), :8082 (REDIRECT), :8083 (TPROXY)
#
# cv-cli is cv-lan's gateway: what cv-lan sends to 10.212.2.0/24 is taken by
# TPROXY (mangle PREROUTING) to the transparent client on :8083.
# cv-cnv does not forward: cv-cli reaches 10.212.2.0/24 only through the
# converter. net.ipv4.tcp_fastopen=3 in every namespace. Checks:
#   (a) the Python client fetches a file through the converter, SHA-256 equal,
#       its Convert message in the SYN (TcpExtTCPFastOpenPassive of cv-cnv);
#   (b) unreachable destinations get Error TLVs: a closed port Connection Reset
#       (96), an absent host Destination Unreachable (97) with ICMP code 1, a
#       network without a route code 97 with ICMP code 0;
#   (c) malformed messages: bad magic and a truncated Connect get Malformed
#       Message (1) echoing the message, version 2 gets Unsupported Version (0)
#       listing 1, a Connect to the converter itself Not Authorized (32), an
#       Info alone gets Supported TCP Extensions with MPTCP (30);
#   (d) curl -> convert-client -> convert-server -> http.server, SHA-256
#       equal: fixed destination (Convert in the SYN, and with --no-syn-data
#       after the handshake), transparent after REDIRECT (curl in cv-cli) and
#       after TPROXY (curl in cv-lan), all over IPv6, with the clients' JSON
#       counters. The converter listens dual-stack on [::]:5124;
#   (e) a second converter on :5125 requires cookies (RFC 8803 §4.2.5): a
#       Connect without one gets Missing Cookie (3) with the cookie, with it
#       the server's options, altered Not Authorized (32); curl through a
#       convert-client to it works (the client retries once with the cookie
#       and keeps it for the next connection).
# Exits non-zero on the first failed check. Every namespace is named cv-* and
# deleted at the end.
set -euo pipefail
BIN=${1:?usage: convert.sh MPTCP_BINARY [SIZE_MB]}
SIZE=${2:-20}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/cv-test.XXXXXX)
NSS=(cv-lan cv-cli cv-cnv cv-srv)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "convert.sh: FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
    done
    exit 1
}

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
done
ip link add v0 netns cv-lan type veth peer name v0 netns cv-cli
ip link add v1 netns cv-cli type veth peer name v1 netns cv-cnv
ip link add v2 netns cv-cnv type veth peer name v2 netns cv-srv
ip -n cv-lan addr add 10.212.0.2/24 dev v0
ip -n cv-cli addr add 10.212.0.1/24 dev v0
ip -n cv-cli addr add 10.212.1.1/24 dev v1
ip -n cv-cnv addr add 10.212.1.2/24 dev v1
ip -n cv-cnv addr add 10.212.2.1/24 dev v2
ip -n cv-srv addr add 10.212.2.2/24 dev v2
ip -n cv-cli addr add fd00:212:1::1/64 dev v1 nodad
ip -n cv-cnv addr add fd00:212:1::2/64 dev v1 nodad
ip -n cv-cnv addr add fd00:212:2::1/64 dev v2 nodad
ip -n cv-srv addr add fd00:212:2::2/64 dev v2 nodad
for l in "cv-lan v0" "cv-cli v0" "cv-cli v1" "cv-cnv v1" "cv-cnv v2" "cv-srv v2"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip netns exec cv-cnv sysctl -qw net.ipv4.ip_forward=0
# cv-cli routes the server's network to the converter, which does not forward
# it: only converted connections get through.
ip -n cv-cli route add 10.212.2.0/24 via 10.212.1.2
ip -n cv-srv route add default via 10.212.2.1
ip -n cv-lan route add default via 10.212.0.1
ip netns exec cv-cli sysctl -qw net.ipv4.ip_forward=1
# TPROXY: cv-lan's connections to the server's network go to :8083, unNATed.
ip netns exec cv-cli iptables -t mangle -A PREROUTING -i v0 -p tcp -d 10.212.2.0/24 \
    -j TPROXY --on-ip 0.0.0.0 --on-port 8083 --tproxy-mark 1
ip -n cv-cli rule add fwmark 1 lookup 100
ip -n cv-cli route add local 0.0.0.0/0 dev lo table 100

mkdir -p "$WORK/www"
head -c "$((SIZE * 1000 * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec cv-srv python3 -m http.server 8000 --bind 10.212.2.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http.err" &
PIDS+=($!)
ip netns exec cv-srv python3 -m http.server 8000 --bind fd00:212:2::2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http6.err" &
PIDS+=($!)
# Dual-stack: IPv4 clients show up on IPv4-mapped addresses.
ip netns exec cv-cnv "$BIN" proxy convert-server --listen [::]:5124 --kernel --json \
    >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
SERVER=$!
# The same converter requiring cookies (RFC 8803 §4.2.5), and a client of it.
ip netns exec cv-cnv "$BIN" proxy convert-server --listen 10.212.1.2:5125 --require-cookie --kernel --json \
    >"$WORK/cserver.out" 2>"$WORK/cserver.err" &
PIDS+=($!)
CSERVER=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen 10.212.1.1:8086 --converter 10.212.1.2:5125 \
    --destination 10.212.2.2:8000 --kernel --json >"$WORK/cclient.out" 2>"$WORK/cclient.err" &
PIDS+=($!)
CCLIENT=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen 10.212.1.1:8081 --converter 10.212.1.2:5124 \
    --destination 10.212.2.2:8000 --kernel --json >"$WORK/client.out" 2>"$WORK/client.err" &
PIDS+=($!)
CLIENT=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen 10.212.1.1:8084 --converter 10.212.1.2:5124 \
    --destination 10.212.2.2:8000 --no-syn-data --kernel --json >"$WORK/lclient.out" 2>"$WORK/lclient.err" &
PIDS+=($!)
LCLIENT=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen [fd00:212:1::1]:8085 --converter [fd00:212:1::2]:5124 \
    --destination [fd00:212:2::2]:8000 --kernel --json >"$WORK/vclient.out" 2>"$WORK/vclient.err" &
PIDS+=($!)
VCLIENT=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen 0.0.0.0:8082 --converter 10.212.1.2:5124 \
    --transparent --kernel --json >"$WORK/tclient.out" 2>"$WORK/tclient.err" &
PIDS+=($!)
TCLIENT=$!
ip netns exec cv-cli "$BIN" proxy convert-client --listen 0.0.0.0:8083 --converter 10.212.1.2:5124 \
    --transparent --kernel --json >"$WORK/pclient.out" 2>"$WORK/pclient.err" &
PIDS+=($!)
PCLIENT=$!
# Locally made connections to the server's network go to the transparent client.
ip netns exec cv-cli iptables -t nat -A OUTPUT -p tcp -d 10.212.2.0/24 -j REDIRECT --to-ports 8082

wait_port() {
    local ns=$1 host=$2 port=$3
    for _ in $(seq 300); do
        ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "nothing listens on $host:$port in $ns"
}
# The converter and the clients say when they listen (a probe connection would show in their counters).
wait_log() {
    for _ in $(seq 100); do
        grep -q "listening on" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no 'listening on' in $1"
}
wait_port cv-srv 10.212.2.2 8000
wait_log "$WORK/server.err"
wait_log "$WORK/client.err"
wait_log "$WORK/tclient.err"
wait_log "$WORK/pclient.err"
wait_log "$WORK/lclient.err"
wait_log "$WORK/vclient.err"
wait_log "$WORK/cserver.err"
wait_log "$WORK/cclient.err"
for _ in $(seq 100); do
    ip netns exec cv-srv bash -c "exec 3<>/dev/tcp/fd00:212:2::2/8000" 2>/dev/null && break
    sleep 0.1
done

# The client written from RFC 8803. Usage:
#   rfc8803_client.py fetch HOST PORT PATH OUT   -> prints nothing, writes the body
#   rfc8803_client.py raw HEXBYTES               -> prints the reply's TLVs
#   rfc8803_client.py connect HOST PORT          -> a Connect alone, prints the reply's TLVs
#   rfc8803_client.py connect-cookie HOST PORT HEX -> a Connect and a Cookie TLV, prints the reply's TLVs
# (to the converter on CONVERTER_PORT, 5124 unless set)
cat >"$WORK/rfc8803_client.py" <<'PY'
import ipaddress, os, socket, struct, sys

CONVERTER = ("10.212.1.2", int(os.environ.get("CONVERTER_PORT", "5124")))
IPPROTO_MPTCP = 262
TCP_FASTOPEN_NO_COOKIE = 34

def header(words):
    # Version 1, Total Length in 32-bit words (header included), Magic 0x2263.
    return struct.pack("!BBH", 1, words, 0x2263)

def connect_tlv(host, port):
    # Type 10, Length 5 words: Remote Peer Port, Remote Peer IP (IPv4-mapped IPv6).
    addr = ipaddress.IPv6Address("::ffff:" + host).packed
    return struct.pack("!BBH", 10, 5, port) + addr

def message(*tlvs):
    body = b"".join(tlvs)
    assert len(body) % 4 == 0
    return header(1 + len(body) // 4) + body

def open_with(data):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1)
    s.settimeout(10)
    sent = s.sendto(data, socket.MSG_FASTOPEN, CONVERTER)
    if sent < len(data):
        s.sendall(data[sent:])
    return s

def read_exact(s, n, buf):
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("converter closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf

def read_reply(s):
    buf = read_exact(s, 4, b"")
    version, words, magic = struct.unpack("!BBH", buf[:4])
    if version != 1 or magic != 0x2263 or words == 0:
        raise SystemExit("not a Convert reply: %r" % buf[:4])
    buf = read_exact(s, words * 4, buf)
    tlvs, pos = [], 4
    while pos < words * 4:
        kind, length = buf[pos], buf[pos + 1] * 4
        if length == 0:
            raise SystemExit("TLV of length 0")
        tlvs.append((kind, buf[pos + 2:pos + length]))
        pos += length
    return tlvs, buf[words * 4:]

def show(tlvs):
    for kind, value in tlvs:
        print(kind, value.hex())

cmd = sys.argv[1]
if cmd == "fetch":
    host, port, path, out = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    request = ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode()
    s = open_with(message(connect_tlv(host, port)) + request)
    tlvs, rest = read_reply(s)
    if [k for k, _ in tlvs if k == 30]:
        raise SystemExit("Error TLV: %r" % tlvs)
    if not any(k == 20 for k, _ in tlvs):
        raise SystemExit("no Extended TCP Header TLV in %r" % tlvs)
    data = rest
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise SystemExit("HTTP answer: %r" % head[:80])
    open(out, "wb").write(body)
elif cmd == "connect":
    s = open_with(message(connect_tlv(sys.argv[2], int(sys.argv[3]))))
    show(read_reply(s)[0])
elif cmd == "connect-cookie":
    # A Connect, then a Cookie TLV: Type 22, Zero(16), the cookie (a whole number of words here).
    cookie = bytes.fromhex(sys.argv[4])
    cookie_tlv = struct.pack("!BBH", 22, 1 + len(cookie) // 4, 0) + cookie
    s = open_with(message(connect_tlv(sys.argv[2], int(sys.argv[3])), cookie_tlv))
    show(read_reply(s)[0])
elif cmd == "raw":
    s = open_with(bytes.fromhex(sys.argv[2]))
    show(read_reply(s)[0])
PY
py() { ip netns exec cv-cli python3 "$WORK/rfc8803_client.py" "$@"; }
passive() { ip netns exec cv-cnv nstat -az TcpExtTCPFastOpenPassive | awk '/TcpExtTCPFastOpenPassive/ {print $2}'; }

# (a)
before=$(passive)
py fetch 10.212.2.2 8000 /file.bin "$WORK/a.bin" || fail "(a) the Python client's fetch"
after=$(passive)
got=$(sha256sum "$WORK/a.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(a) SHA-256 $got, want $WANT"
[ "$after" -gt "$before" ] || fail "(a) the Convert message did not come in the SYN (TcpExtTCPFastOpenPassive $before -> $after)"
echo "(a) python RFC 8803 client: ${SIZE} MB, sha256 ok, Convert message in the SYN (TFO passive $before -> $after)"

# (b) The Error TLV is type 30; its value starts with the code.
expect() {
    local what=$1 want=$2 got=$3
    echo "$got" | grep -qx "$want" || fail "$what: want a TLV '$want', got: $got"
}
expect "(b) closed port" "30 6000.*" "$(py connect 10.212.2.2 9)"
expect "(b) absent host" "30 6101.*" "$(py connect 10.212.2.99 80)"
# cv-cnv has no default route: 10.212.9.9 has no route at all.
expect "(b) no route" "30 6100.*" "$(py connect 10.212.9.9 80)"
echo "(b) errors: closed port -> 96 Connection Reset; absent host -> 97 (ICMP 1); no route -> 97 (ICMP 0)"

# (c) Bad magic: the Malformed Message value echoes the message.
bad_magic=0102226400000000
expect "(c) bad magic" "30 01${bad_magic}.*" "$(py raw "$bad_magic")"
# A Connect TLV whose length (1 word) is too short for its address.
short_connect=010222630a010050
expect "(c) short Connect" "30 01${short_connect}.*" "$(py raw "$short_connect")"
expect "(c) version 2" "30 0001.*" "$(py raw 02012263)"
# A loopback destination is refused as malformed (RFC 8803 §4.2.2).
expect "(c) loopback destination" "30 01.*" "$(py connect 127.0.0.1 8000)"
# A Connect to the converter itself is a hairpin: Not Authorized (32 = 0x20).
expect "(c) hairpin" "30 2000.*" "$(py connect 10.212.1.2 5124)"
# Info alone: Supported TCP Extensions (21) listing MPTCP (30 = 0x1e).
expect "(c) Info" "21 0000.*1e.*" "$(py raw 0102226301010000)"
echo "(c) malformed -> 1 with the echo; version 2 -> 0 listing 1; loopback -> 1; hairpin -> 32; Info -> Supported TCP Extensions with 30"

# (e) Cookies: none -> Missing Cookie (3) with a zero byte and the cookie;
# with it -> the server's SYN+ACK options (Extended TCP Header, 20); altered
# -> Not Authorized (32).
reply=$(CONVERTER_PORT=5125 py connect 10.212.2.2 8000)
cookie=$(echo "$reply" | sed -n 's/^30 0300\([0-9a-f]*\)$/\1/p')
[ ${#cookie} -eq 32 ] || fail "(e) no Missing Cookie with a 16-byte cookie: $reply"
expect "(e) with the cookie" "20 .*" "$(CONVERTER_PORT=5125 py connect-cookie 10.212.2.2 8000 "$cookie")"
bad="ff${cookie:2}"
[ "$bad" != "$cookie" ] || bad="00${cookie:2}"
expect "(e) a wrong cookie" "30 2000.*" "$(CONVERTER_PORT=5125 py connect-cookie 10.212.2.2 8000 "$bad")"
for k in 1 2; do
    ip netns exec cv-cli curl -sS --max-time 60 -o "$WORK/e.bin" http://10.212.1.1:8086/file.bin \
        || fail "(e) curl $k through convert-client to the converter requiring cookies"
    got=$(sha256sum "$WORK/e.bin" | cut -d' ' -f1)
    [ "$got" = "$WANT" ] || fail "(e) cookies: SHA-256 $got, want $WANT"
done
echo "(e) cookies: none -> 3 with a 16-byte cookie; with it -> 20; altered -> 32; curl through convert-client twice (it retried once with the cookie, then kept it): sha256 ok"

# (d)
ip netns exec cv-cli curl -sS --max-time 60 -o "$WORK/d.bin" http://10.212.1.1:8081/file.bin \
    -w '%{speed_download} %{time_total}\n' >"$WORK/d.speed" || fail "(d) curl through convert-client"
got=$(sha256sum "$WORK/d.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) SHA-256 $got, want $WANT"
read -r speed secs <"$WORK/d.speed"
echo "(d) curl -> convert-client -> convert-server -> http.server: ${SIZE} MB in ${secs} s ($(awk -v b="$speed" 'BEGIN { printf "%.0f", b * 8 / 1e6 }') Mbit/s), sha256 ok"
ip netns exec cv-cli curl -sS --max-time 60 -o "$WORK/l.bin" http://10.212.1.1:8084/file.bin \
    || fail "(d) curl through convert-client --no-syn-data"
got=$(sha256sum "$WORK/l.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) --no-syn-data: SHA-256 $got, want $WANT"
echo "(d) curl -> convert-client --no-syn-data -> convert-server: sha256 ok"
ip netns exec cv-cli curl -sS --max-time 60 -o "$WORK/v.bin" "http://[fd00:212:1::1]:8085/file.bin" \
    || fail "(d) curl through convert-client over IPv6"
got=$(sha256sum "$WORK/v.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) IPv6: SHA-256 $got, want $WANT"
echo "(d) IPv6: curl -> convert-client -> convert-server -> http.server, all over IPv6: sha256 ok"
ip netns exec cv-cli curl -sS --max-time 60 -o "$WORK/t.bin" http://10.212.2.2:8000/file.bin \
    || fail "(d) curl redirected to the transparent convert-client"
got=$(sha256sum "$WORK/t.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) transparent: SHA-256 $got, want $WANT"
echo "(d) curl -> REDIRECT -> convert-client --transparent -> convert-server: sha256 ok"
ip netns exec cv-lan curl -sS --max-time 60 -o "$WORK/p.bin" http://10.212.2.2:8000/file.bin \
    || fail "(d) curl from cv-lan through TPROXY to the transparent convert-client"
got=$(sha256sum "$WORK/p.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) TPROXY: SHA-256 $got, want $WANT"
echo "(d) curl in cv-lan -> TPROXY -> convert-client --transparent -> convert-server: sha256 ok"
# A refused destination resets the client's connection.
if ip netns exec cv-cli curl -sS --max-time 20 -o /dev/null http://10.212.2.2:9/ 2>"$WORK/refused.txt"; then
    fail "(d) curl to a closed port through the transparent client succeeded"
fi
echo "(d) closed port through the transparent client: curl fails ($(tr -d '\n' <"$WORK/refused.txt"))"

# SIGUSR1: the counters as one JSON line on stderr, the converter goes on.
kill -USR1 "$SERVER"
for _ in $(seq 50); do
    grep -q '^{"accepted":' "$WORK/server.err" && break
    sleep 0.1
done
grep -q '^{"accepted":' "$WORK/server.err" || fail "no JSON counters on stderr after SIGUSR1"
kill -0 "$SERVER" 2>/dev/null || fail "the converter stopped on SIGUSR1"
echo "SIGUSR1: $(grep '^{"accepted":' "$WORK/server.err" | tail -1 | cut -c1-60)..."
kill -INT "$CLIENT" "$TCLIENT" "$PCLIENT" "$LCLIENT" "$VCLIENT" "$SERVER" "$CCLIENT" "$CSERVER"
for p in "$CLIENT" "$TCLIENT" "$PCLIENT" "$LCLIENT" "$VCLIENT" "$SERVER" "$CCLIENT" "$CSERVER"; do
    wait "$p" || fail "a converter or client (pid $p) exited with an error"
done
python3 - "$WORK/client.out" "$WORK/tclient.out" "$WORK/pclient.out" "$WORK/lclient.out" "$WORK/vclient.out" \
    "$WORK/server.out" "$WORK/cclient.out" "$WORK/cserver.out" <<'PY' || fail "counters"
import json, sys
client, tclient, pclient, lclient, vclient, server, cclient, cserver = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:])
# The cookie client was told once (its first connection), then kept the cookie.
assert cclient["connected"] == 2 and cclient["errors"] == {"missing_cookie": 1}, cclient
assert cserver["errors"] == {"missing_cookie": 2, "not_authorized": 1} and cserver["connected"] == 3, cserver
assert client["connected"] == 1 and client["upstream_mptcp"] == 1, client
assert client["data_in_syn"] == 1, client
assert tclient["connected"] == 1 and tclient["errors"].get("connection_reset") == 1, tclient
assert pclient["connected"] == 1 and pclient["upstream_mptcp"] == 1, pclient
assert lclient["connected"] == 1 and lclient["upstream_mptcp"] == 1 and lclient["data_in_syn"] == 0, lclient
assert server["errors"].get("connection_reset") == 2, server
assert server["errors"].get("destination_unreachable") == 2, server
assert server["errors"].get("malformed_message") == 3, server
assert server["errors"].get("unsupported_version") == 1, server
assert server["errors"].get("not_authorized") == 1, server
assert vclient["connected"] == 1 and vclient["upstream_mptcp"] == 1 and vclient["data_in_syn"] == 1, vclient
assert server["info"] == 1 and server["connected"] == 6, server
assert server["accepted_mptcp"] == server["accepted"], server
assert server["data_in_syn"] == server["accepted"] - 1, server
print("counters: client", json.dumps(client))
print("counters: transparent client (REDIRECT)", json.dumps(tclient))
print("counters: transparent client (TPROXY)", json.dumps(pclient))
print("counters: server", json.dumps(server))
PY
echo "convert.sh: all checks passed"
