#!/usr/bin/env bash
# A 30 MB download through a SOCKS5 proxy over two shaped client paths:
# `mptcp proxy socks5` against dante-server (danted) under `mptcpize`, on the
# same chain. Needs root, iproute2 (tc), curl, python3, mptcpize, danted.
#
#   socks5_bench.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB]
#
#   px-cli  va 10.210.1.1 ==path a (HTB RATE)== 10.210.1.2 va  px-prx  vs 10.210.3.1 == 10.210.3.2 px-srv
#           vb 10.210.2.1 ==path b (HTB RATE)== 10.210.2.2 vb          (unshaped)       python3 -m http.server
#
# The client (curl under mptcpize) has an `ip mptcp endpoint` on path b, so
# its MPTCP connection to the proxy (10.210.1.2) opens a second subflow from
# 10.210.2.1, routed over path b by a policy rule. Prints Mbit/s and joins for
# each proxy. Every namespace is named px-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: socks5_bench.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB]}
RATE=${2:-50}
SIZE=${3:-30}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/px-bench.XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in px-cli px-prx px-srv; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in px-cli px-prx px-srv; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip link add va netns px-cli type veth peer name va netns px-prx
ip link add vb netns px-cli type veth peer name vb netns px-prx
ip link add vs netns px-prx type veth peer name vs netns px-srv
ip -n px-cli addr add 10.210.1.1/24 dev va
ip -n px-cli addr add 10.210.2.1/24 dev vb
ip -n px-prx addr add 10.210.1.2/24 dev va
ip -n px-prx addr add 10.210.2.2/24 dev vb
ip -n px-prx addr add 10.210.3.1/24 dev vs
ip -n px-srv addr add 10.210.3.2/24 dev vs
for l in "px-cli va" "px-cli vb" "px-prx va" "px-prx vb" "px-prx vs" "px-srv vs"; do
    set -- $l
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" gro off gso off tso off >/dev/null 2>&1 || true
done
ip -n px-srv route add default via 10.210.3.1
ip netns exec px-prx sysctl -qw net.ipv4.ip_forward=1
# Path b: what leaves from 10.210.2.1 goes over vb.
ip -n px-cli rule add from 10.210.2.1 lookup 102
ip -n px-cli route add default via 10.210.2.2 dev vb table 102
for ns in px-cli px-prx; do
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
    ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2
    # HTB at RATE on both ends of both client paths (both directions).
    for dev in va vb; do
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
ip -n px-cli mptcp endpoint add 10.210.2.1 dev vb subflow

mkdir -p "$WORK/www"
head -c "$((SIZE * 1000 * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec px-srv python3 -m http.server 8000 --bind 10.210.3.2 --directory "$WORK/www" >/dev/null 2>&1 &
PIDS+=($!)

ip netns exec px-prx "$BIN" proxy socks5 --listen 10.210.1.2:1080 --access-log "$WORK/access.log" \
    >"$WORK/ours.out" 2>"$WORK/ours.err" &
PIDS+=($!)
OURS=$!

cat >"$WORK/danted.conf" <<CONF
logoutput: $WORK/danted.log
internal: 10.210.1.2 port = 1081
external: 10.210.3.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
CONF
ip netns exec px-prx mptcpize run danted -f "$WORK/danted.conf" -p "$WORK/danted.pid" >/dev/null 2>&1 &
PIDS+=($!)

for port in 8000 1080 1081; do
    host=10.210.1.2
    [ "$port" = 8000 ] && host=10.210.3.2
    for _ in $(seq 100); do
        ip netns exec px-cli bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && break
        sleep 0.1
    done
done

joins() { ip netns exec px-prx nstat -az MPTcpExtMPJoinAckRx | awk '/MPTcpExtMPJoinAckRx/ {print $2}'; }

run() {
    local label=$1 port=$2
    local before after out speed sum
    before=$(joins)
    out=$(ip netns exec px-cli mptcpize run curl -s -x "socks5h://10.210.1.2:$port" \
        "http://10.210.3.2:8000/file.bin" -o "$WORK/got.bin" -w '%{speed_download} %{time_total}')
    after=$(joins)
    sum=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
    speed=$(awk -v b="${out% *}" 'BEGIN { printf "%.1f", b * 8 / 1e6 }')
    echo "$label: ${SIZE} MB in ${out#* } s, $speed Mbit/s over 2 x $RATE Mbit/s, joins $((after - before)), sha256 $([ "$sum" = "$WANT" ] && echo ok || echo MISMATCH)"
}

for i in 1 2 3; do
    run "mptcp proxy socks5 (run $i)" 1080
    run "danted under mptcpize (run $i)" 1081
done
kill -INT "$OURS"
wait "$OURS" || true
echo "our counters:"
cat "$WORK/ours.out"
