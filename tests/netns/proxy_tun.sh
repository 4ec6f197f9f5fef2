#!/usr/bin/env bash
# The proxies with their MPTCP side on our userspace stack (`--tun`), against
# clients no one here wrote: curl under `mptcpize` through `mptcp proxy socks5
# --tun`, and the RFC 8803 Python client of convert.sh (Convert message sent
# with MSG_FASTOPEN) through `mptcp proxy convert-server --tun`, both to
# `python3 -m http.server` reached with the kernel's TCP. Needs root,
# iproute2 (tc), curl, mptcpize, python3, nstat, sha256sum, tshark.
#
#   proxy_tun.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB]
#
#   ptun-cli  va 10.213.1.1 ==path a (HTB RATE)== 10.213.1.2 va  ptun-prx  vs 10.213.3.1 == 10.213.3.2 ptun-srv
#             vb 10.213.2.1 ==path b (HTB RATE)== 10.213.2.2 vb  tun0: our stack    (unshaped)    http.server :8000
#                                                                owns 10.213.8.1                   (www.ptun.test)
#
# The clients' kernel has an `ip mptcp endpoint` on path b: each MPTCP
# connection to the stack's 10.213.8.1 opens a second subflow from
# 10.213.2.1 over path b (a policy rule), which the stack must take. Checks:
#   (a) SOCKS5 without authentication: curl --socks5-hostname (the name
#       resolved on the proxy's side, /etc/netns/ptun-prx/hosts), SHA-256
#       equal, the second subflow joined (client's MPTcpExtMPJoinSynAckRx);
#   (b) SOCKS5 with --auth: the right password fetches the file (SHA-256
#       equal, joined), a wrong one is refused (curl fails, auth_failures 1);
#   (c) convert-server: the Python client fetches a 3 MB file (SHA-256
#       equal), a closed port gets Error TLV Connection Reset (96); tshark
#       shows the client's SYN with data, our SYN+ACK acknowledging the SYN
#       alone, and the data sent again after the handshake with a DSS but no
#       MP_CAPABLE, on which the stack falls back to TCP (no join);
#   (d) curl -> convert-client (kernel, --no-syn-data) -> convert-server
#       --tun: the file, SHA-256 equal, MPTCP, the second path joined.
# Prints goodput over 2 x RATE Mbit/s. Exits non-zero on the first failed
# check. Every namespace is named ptun-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: proxy_tun.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB]}
RATE=${2:-50}
SIZE=${3:-30}
BIN=$(readlink -f "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/ptun-test.XXXXXX)
NSS=(ptun-cli ptun-prx ptun-srv)
STACK=10.213.8.1
PIDS=()
MADE_NETNS_DIR=0

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf /etc/netns/ptun-prx
    [ "$MADE_NETNS_DIR" = 1 ] && rmdir /etc/netns 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "proxy_tun.sh: FAIL: $*" >&2
    # The running proxy's counters as they are now.
    if [ -n "${PROXY:-}" ] && kill -USR1 "$PROXY" 2>/dev/null; then sleep 0.5; fi
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
    done
    # PTUN_KEEP=DIR keeps the logs and the capture of a failed run there.
    [ -n "${PTUN_KEEP:-}" ] && cp -r "$WORK/." "$PTUN_KEEP/" && echo "kept in $PTUN_KEEP" >&2
    exit 1
}

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 net.ipv4.tcp_fastopen=3 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add va netns ptun-cli type veth peer name va netns ptun-prx
ip link add vb netns ptun-cli type veth peer name vb netns ptun-prx
ip link add vs netns ptun-prx type veth peer name vs netns ptun-srv
ip -n ptun-cli addr add 10.213.1.1/24 dev va
ip -n ptun-cli addr add 10.213.2.1/24 dev vb
ip -n ptun-prx addr add 10.213.1.2/24 dev va
ip -n ptun-prx addr add 10.213.2.2/24 dev vb
ip -n ptun-prx addr add 10.213.3.1/24 dev vs
ip -n ptun-srv addr add 10.213.3.2/24 dev vs
for l in "ptun-cli va" "ptun-cli vb" "ptun-prx va" "ptun-prx vb" "ptun-prx vs" "ptun-srv vs"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n ptun-srv route add default via 10.213.3.1
# The client reaches the stack over path a, and over path b from 10.213.2.1.
ip -n ptun-cli route add default via 10.213.1.2 dev va
ip -n ptun-cli rule add from 10.213.2.1 lookup 102
ip -n ptun-cli route add default via 10.213.2.2 dev vb table 102
ip -n ptun-cli mptcp limits set subflow 2 add_addr_accepted 2
ip -n ptun-cli mptcp endpoint add 10.213.2.1 dev vb subflow
# ptun-prx forwards between the veths and the TUN device our stack owns.
ip netns exec ptun-prx sysctl -qw net.ipv4.ip_forward=1
ip -n ptun-prx tuntap add dev tun0 mode tun
ip -n ptun-prx link set tun0 up
ip -n ptun-prx addr add 10.213.9.1/24 dev tun0
ip -n ptun-prx route add "$STACK/32" dev tun0
# HTB at RATE on both ends of both client paths (both directions).
for ns in ptun-cli ptun-prx; do
    for dev in va vb; do
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
# The proxy resolves the server's name (curl --socks5-hostname sends it).
[ -d /etc/netns ] || { mkdir /etc/netns && MADE_NETNS_DIR=1; } || fail "cannot make /etc/netns (ip netns exec's per-namespace /etc)"
mkdir -p /etc/netns/ptun-prx || fail "cannot make /etc/netns/ptun-prx"
printf '127.0.0.1 localhost\n10.213.3.2 www.ptun.test\n' >/etc/netns/ptun-prx/hosts

mkdir -p "$WORK/www"
head -c "$((SIZE * 1000 * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec ptun-srv python3 -m http.server 8000 --bind 10.213.3.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http.err" &
PIDS+=($!)
for _ in $(seq 100); do
    ip netns exec ptun-prx bash -c "exec 3<>/dev/tcp/10.213.3.2/8000" 2>/dev/null && break
    sleep 0.1
done

joins() { ip netns exec ptun-cli nstat -az MPTcpExtMPJoinSynAckRx | awk '/MPTcpExtMPJoinSynAckRx/ {print $2}'; }

# start_proxy NAME ARGS...: runs `mptcp proxy ARGS` in ptun-prx on the stack
# (--json counters in $WORK/NAME.out), waits for its "listening on" line.
start_proxy() {
    local name=$1
    shift
    ip netns exec ptun-prx "$BIN" proxy "$@" --tun tun0 --addr "$STACK" --json \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    PROXY=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/$name.err" 2>/dev/null && return 0
        kill -0 "$PROXY" 2>/dev/null || fail "$name exited: $(cat "$WORK/$name.err")"
        sleep 0.1
    done
    fail "no 'listening on' from $name"
}

# stop_proxy: SIGINT, then its exit status must be 0.
stop_proxy() {
    kill -INT "$PROXY"
    wait "$PROXY" || fail "the proxy (pid $PROXY) exited with an error"
}

# fetch LABEL CURL_ARGS...: curl under mptcpize through the proxy; checks
# the SHA-256 and the join, prints goodput.
fetch() {
    local label=$1 before after out sum speed
    shift
    before=$(joins)
    out=$(ip netns exec ptun-cli mptcpize run curl -sS --max-time 120 --socks5-hostname "$STACK:1080" "$@" \
        "http://www.ptun.test:8000/file.bin" -o "$WORK/got.bin" -w '%{speed_download} %{time_total}') \
        || fail "$label: curl"
    after=$(joins)
    sum=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
    [ "$sum" = "$WANT" ] || fail "$label: SHA-256 $sum, want $WANT"
    [ "$after" -gt "$before" ] || fail "$label: the client's second path did not join (MPJoinSynAckRx $before -> $after)"
    speed=$(awk -v b="${out% *}" 'BEGIN { printf "%.1f", b * 8 / 1e6 }')
    echo "$label: ${SIZE} MB in ${out#* } s, $speed Mbit/s over 2 x $RATE Mbit/s, joins $((after - before)), sha256 ok"
}

# PTUN_PARTS (default abcd) picks the checks to run, to study one alone.
PARTS=${PTUN_PARTS:-abcd}

# (a)
if [[ $PARTS == *a* ]]; then
start_proxy socks5 socks5 --listen "$STACK:1080"
fetch "(a) curl --socks5-hostname -> socks5 --tun, no auth"
stop_proxy
python3 - "$WORK/socks5.out" <<'PY' || fail "(a) counters"
import json, sys
c = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert c["accepted"] == 1 and c["accepted_mptcp"] == 1, c
print("(a) counters:", json.dumps(c))
PY
fi

# (b)
if [[ $PARTS == *b* ]]; then
start_proxy auth socks5 --listen "$STACK:1080" --auth alice:s3cret
fetch "(b) curl --socks5-hostname --proxy-user alice:s3cret -> socks5 --tun --auth" --proxy-user alice:s3cret
if ip netns exec ptun-cli mptcpize run curl -sS --max-time 20 --socks5-hostname "$STACK:1080" --proxy-user alice:wrong \
    "http://www.ptun.test:8000/file.bin" -o /dev/null 2>"$WORK/refused.txt"; then
    fail "(b) a wrong password was let through"
fi
echo "(b) wrong password refused: $(tr -d '\n' <"$WORK/refused.txt")"
stop_proxy
python3 - "$WORK/auth.out" <<'PY' || fail "(b) counters"
import json, sys
c = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert c["auth_failures"] == 1 and c["accepted_mptcp"] == 2, c
print("(b) counters:", json.dumps(c))
PY
fi

# (c) The Python client of convert.sh, pointed at the stack's address. Its
# Fast Open SYN makes the connection fall back to TCP (see below), and such a
# connection of our stack stalls once 4 MiB are in flight
# (tfo_fallback_repro.sh shows it without the proxy): it fetches a 3 MB file.
if [[ $PARTS == *c* ]]; then
head -c 3000000 /dev/urandom >"$WORK/www/small.bin"
WANT_SMALL=$(sha256sum "$WORK/www/small.bin" | cut -d' ' -f1)
sed -n "/rfc8803_client.py\" <<'PY'/,/^PY\$/p" "$HERE/convert.sh" | sed '1d;$d' \
    | sed "s/^CONVERTER = .*/CONVERTER = (\"$STACK\", 5124)/" >"$WORK/rfc8803_client.py"
grep -q "MSG_FASTOPEN" "$WORK/rfc8803_client.py" || fail "(c) no RFC 8803 client found in convert.sh"
py() { ip netns exec ptun-cli python3 "$WORK/rfc8803_client.py" "$@"; }
start_proxy convert convert-server --listen "$STACK:5124"
ip netns exec ptun-prx tshark -i va -f "tcp port 5124" -s 200 -w "$WORK/convert.pcap" >/dev/null 2>"$WORK/tshark.log" &
PIDS+=($!)
TSHARK=$!
for _ in $(seq 100); do
    grep -q "Capturing on" "$WORK/tshark.log" 2>/dev/null && break
    sleep 0.1
done
py fetch 10.213.3.2 8000 /small.bin "$WORK/c.bin" || fail "(c) the Python client's fetch through convert-server --tun"
got=$(sha256sum "$WORK/c.bin" | cut -d' ' -f1)
[ "$got" = "$WANT_SMALL" ] || fail "(c) SHA-256 $got, want $WANT_SMALL"
echo "(c) python RFC 8803 client (MSG_FASTOPEN) -> convert-server --tun -> http.server: 3 MB, sha256 ok"
reply=$(py connect 10.213.3.2 9)
echo "$reply" | grep -qx "30 6000.*" || fail "(c) closed port: want Error TLV 96, got: $reply"
echo "(c) closed port -> Error TLV 96 (Connection Reset)"
sleep 0.5
kill -INT "$TSHARK"
wait "$TSHARK" 2>/dev/null || true
stop_proxy
# The fetch's first segments: what the client's SYN carried, what our SYN+ACK
# acknowledged, and which MPTCP option came with the data sent again.
ip netns exec ptun-prx tshark -r "$WORK/convert.pcap" -o tcp.relative_sequence_numbers:TRUE -Y "tcp.stream == 0" \
    -T fields -E separator=' ' -e frame.number -e ip.src -e tcp.flags.str -e tcp.seq -e tcp.ack -e tcp.len \
    -e tcp.options.mptcp.subtype >"$WORK/wire.all" 2>/dev/null || fail "(c) tshark could not read its capture"
head -6 "$WORK/wire.all" >"$WORK/wire.txt"
echo "(c) on the wire on path a (frame, source, flags, seq, ack, payload bytes, MPTCP subtype: 0 MP_CAPABLE, 2 DSS):"
sed 's/^/    /' "$WORK/wire.txt"
syn_len=$(awk '$3 ~ /S/ && $3 !~ /A/ {print $6; exit}' "$WORK/wire.txt")
synack_ack=$(awk '$3 ~ /S/ && $3 ~ /A/ {print $5; exit}' "$WORK/wire.txt")
data_seq=$(awk '$2 == "10.213.1.1" && $3 !~ /S/ && $6 > 0 {print $4; exit}' "$WORK/wire.txt")
data_opt=$(awk '$2 == "10.213.1.1" && $3 !~ /S/ && $6 > 0 {print $7; exit}' "$WORK/wire.txt")
echo "(c) the client's SYN carried ${syn_len:-?} bytes (Convert message and HTTP request); our SYN+ACK acknowledged" \
    "the SYN alone (ack ${synack_ack:-?}); the client sent the bytes again after the handshake from seq ${data_seq:-?}," \
    "with MPTCP subtype ${data_opt:-none} (2: a DSS with a DATA_ACK, no MP_CAPABLE), so the stack fell back to TCP"
[ "${syn_len:-0}" -gt 0 ] || fail "(c) the client's SYN carried no data"
[ "${synack_ack:-}" = 1 ] || fail "(c) our SYN+ACK acknowledged data in the SYN (ack ${synack_ack:-?}): the stack takes no Fast Open"
[ "${data_seq:-}" = 1 ] || fail "(c) the Convert message was not sent from the start after the handshake"
python3 - "$WORK/convert.out" <<'PY' || fail "(c) counters"
import json, sys
c = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
# Both connections fell back to TCP at the client's first data segment.
assert c["connected"] == 1 and c["accepted"] == 2 and c["data_in_syn"] == 0, c
assert c["errors"].get("connection_reset") == 1, c
print("(c) counters:", json.dumps(c))
PY
fi

# (d) curl -> convert-client (kernel MPTCP, the Convert message after the
# handshake: no Fast Open, so MPTCP holds) -> convert-server --tun -> http.server.
if [[ $PARTS == *d* ]]; then
start_proxy convert2 convert-server --listen "$STACK:5124"
ip netns exec ptun-cli "$BIN" proxy convert-client --listen 127.0.0.1:8081 --converter "$STACK:5124" \
    --destination 10.213.3.2:8000 --no-syn-data --kernel --json >"$WORK/client.out" 2>"$WORK/client.err" &
PIDS+=($!)
CLIENT=$!
for _ in $(seq 100); do
    grep -q "listening on" "$WORK/client.err" 2>/dev/null && break
    sleep 0.1
done
before=$(joins)
out=$(ip netns exec ptun-cli curl -sS --max-time 120 -o "$WORK/d.bin" http://127.0.0.1:8081/file.bin \
    -w '%{speed_download} %{time_total}') || fail "(d) curl through convert-client and convert-server --tun"
after=$(joins)
got=$(sha256sum "$WORK/d.bin" | cut -d' ' -f1)
[ "$got" = "$WANT" ] || fail "(d) SHA-256 $got, want $WANT"
[ "$after" -gt "$before" ] || fail "(d) the convert-client's second path did not join"
speed=$(awk -v b="${out% *}" 'BEGIN { printf "%.1f", b * 8 / 1e6 }')
echo "(d) curl -> convert-client --no-syn-data -> convert-server --tun: ${SIZE} MB in ${out#* } s, $speed Mbit/s over 2 x $RATE Mbit/s, joins $((after - before)), sha256 ok"
kill -INT "$CLIENT"
wait "$CLIENT" || fail "(d) convert-client exited with an error"
stop_proxy
python3 - "$WORK/convert2.out" <<'PY' || fail "(d) counters"
import json, sys
c = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert c["connected"] == 1 and c["accepted_mptcp"] == 1 and c["data_in_syn"] == 0, c
print("(d) counters:", json.dumps(c))
PY
fi
echo "proxy_tun.sh: all checks passed"
