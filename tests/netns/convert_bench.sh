#!/usr/bin/env bash
# A download through RFC 8803 converters over two shaped client paths: curl ->
# `mptcp proxy convert-client` -> (MPTCP, two subflows) -> `mptcp proxy
# convert-server` -> `python3 -m http.server`, with the Convert message in the
# SYN (Fast Open) and after the handshake (--no-syn-data), next to the same
# chain with the client reaching the converter over plain TCP (one path).
# Needs root, iproute2 (tc), curl, python3.
#
#   convert_bench.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB] [RUNS]
#
#   cv-bcli va 10.213.1.1 ==path a (HTB RATE)== 10.213.1.2 va  cv-bcnv  vs 10.213.3.1 == 10.213.3.2 cv-bsrv
#   curl,   vb 10.213.2.1 ==path b (HTB RATE)== 10.213.2.2 vb           (unshaped)       http.server
#   convert-client
#
# The client has an `ip mptcp endpoint` on path b, so its MPTCP connection to
# the converter (10.213.1.2) opens a second subflow from 10.213.2.1, routed
# over path b by a policy rule. Prints Mbit/s, joins and SHA-256 checks. Every
# namespace is named cv-b* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: convert_bench.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB]}
RATE=${2:-50}
SIZE=${3:-30}
RUNS=${4:-3}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/cv-bench.XXXXXX)
NSS=(cv-bcli cv-bcnv cv-bsrv)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3
done
ip link add va netns cv-bcli type veth peer name va netns cv-bcnv
ip link add vb netns cv-bcli type veth peer name vb netns cv-bcnv
ip link add vs netns cv-bcnv type veth peer name vs netns cv-bsrv
ip -n cv-bcli addr add 10.213.1.1/24 dev va
ip -n cv-bcli addr add 10.213.2.1/24 dev vb
ip -n cv-bcnv addr add 10.213.1.2/24 dev va
ip -n cv-bcnv addr add 10.213.2.2/24 dev vb
ip -n cv-bcnv addr add 10.213.3.1/24 dev vs
ip -n cv-bsrv addr add 10.213.3.2/24 dev vs
for l in "cv-bcli va" "cv-bcli vb" "cv-bcnv va" "cv-bcnv vb" "cv-bcnv vs" "cv-bsrv vs"; do
    set -- $l
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" gro off gso off tso off >/dev/null 2>&1 || true
done
ip -n cv-bsrv route add default via 10.213.3.1
# Path b: what leaves from 10.213.2.1 goes over vb.
ip -n cv-bcli rule add from 10.213.2.1 lookup 102
ip -n cv-bcli route add default via 10.213.2.2 dev vb table 102
for ns in cv-bcli cv-bcnv; do
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
    ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2
    for dev in va vb; do
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
ip -n cv-bcli mptcp endpoint add 10.213.2.1 dev vb subflow

mkdir -p "$WORK/www"
head -c "$((SIZE * 1000 * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec cv-bsrv python3 -m http.server 8000 --bind 10.213.3.2 --directory "$WORK/www" >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec cv-bcnv "$BIN" proxy convert-server --listen 10.213.1.2:5124 --kernel --json \
    >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
SERVER=$!
ip netns exec cv-bcli "$BIN" proxy convert-client --listen 127.0.0.1:8081 --converter 10.213.1.2:5124 \
    --destination 10.213.3.2:8000 --kernel >/dev/null 2>"$WORK/mptcp.err" &
PIDS+=($!)
ip netns exec cv-bcli "$BIN" proxy convert-client --listen 127.0.0.1:8083 --converter 10.213.1.2:5124 \
    --destination 10.213.3.2:8000 --kernel --no-syn-data >/dev/null 2>"$WORK/late.err" &
PIDS+=($!)
ip netns exec cv-bcli "$BIN" proxy convert-client --listen 127.0.0.1:8082 --converter 10.213.1.2:5124 \
    --destination 10.213.3.2:8000 --kernel --no-mptcp >/dev/null 2>"$WORK/tcp.err" &
PIDS+=($!)
for _ in $(seq 100); do
    ip netns exec cv-bcnv bash -c "exec 3<>/dev/tcp/10.213.3.2/8000" 2>/dev/null && break
    sleep 0.1
done
for f in server mptcp late tcp; do
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/$f.err" 2>/dev/null && break
        sleep 0.1
    done
done

joins() { ip netns exec cv-bcnv nstat -az MPTcpExtMPJoinAckRx | awk '/MPTcpExtMPJoinAckRx/ {print $2}'; }

run() {
    local label=$1 port=$2
    local before after out speed sum
    before=$(joins)
    if ! out=$(ip netns exec cv-bcli curl -sS "http://127.0.0.1:$port/file.bin" -o "$WORK/got.bin" \
        -w '%{speed_download} %{time_total}'); then
        echo "$label: curl failed" >&2
        for f in "$WORK"/*.err; do echo "--- $f" >&2; tail -n 5 "$f" >&2; done
        exit 1
    fi
    after=$(joins)
    sum=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
    speed=$(awk -v b="${out% *}" 'BEGIN { printf "%.1f", b * 8 / 1e6 }')
    echo "$label: ${SIZE} MB in ${out#* } s, $speed Mbit/s over 2 x $RATE Mbit/s, joins $((after - before)), sha256 $([ "$sum" = "$WANT" ] && echo ok || echo MISMATCH)"
}

for i in $(seq "$RUNS"); do
    run "convert-client over MPTCP, Convert in the SYN (run $i)" 8081
    run "convert-client over MPTCP, --no-syn-data (run $i)" 8083
    run "convert-client over TCP, Convert in the SYN (run $i)" 8082
done
kill -INT "$SERVER"
wait "$SERVER" || true
echo "converter counters:"
cat "$WORK/server.out"
