#!/usr/bin/env bash
# Scale-out of RFC 8803 converters (RFC 8041 §3.12, issue 11 item 5): three
# `mptcp proxy convert-server` instances behind a layer-4 load balancer built
# from nftables (DNAT of a virtual address to the instance a jhash of the
# 4-tuple picks, as hashing load balancers do; this kernel has no IPVS).
# Each instance sets the C flag (net.mptcp.allow_join_initial_addr_port=0:
# "do not join my initial address") and announces its own address in
# ADD_ADDR (`ip mptcp endpoint ... signal port 5125`), so a client's joins, which would
# hash to any instance if sent to the virtual address, go to the instance
# that holds the connection. Needs root, iproute2, nft, curl, python3, nstat.
#
#   convert_scaleout.sh MPTCP_BINARY [DOWNLOADS] [SIZE_KB]
#
#   cs-cli  va 10.215.1.1 == 10.215.1.2 va  cs-lb  vc1 10.215.41.1 == 10.215.41.2 cs-c1 (convert-server)
#   curl,   vb 10.215.2.1 == 10.215.2.2 vb  DNAT   vc2 10.215.42.1 == 10.215.42.2 cs-c2 (convert-server)
#   convert-client                          VIP    vc3 10.215.43.1 == 10.215.43.2 cs-c3 (convert-server)
#   -> 10.215.9.1:5124                      10.215.9.1, vs 10.215.3.1 == 10.215.3.2 cs-srv (http.server)
#
# The client has a `subflow` endpoint on vb and accepts ADD_ADDR; its
# Convert message goes after the handshake (--no-syn-data: Linux 6.18 stalls
# connections opened with data in the SYN once a join comes). Checks:
# DOWNLOADS downloads through convert-client -> VIP, every SHA-256 equal;
# every instance served some; every instance counted joins and none without
# a token (MPTcpExtMPJoinNoTokenFound 0: no join reached the wrong instance).
# Every namespace is named cs-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: convert_scaleout.sh MPTCP_BINARY [DOWNLOADS] [SIZE_KB]}
N=${2:-30}
SIZE_KB=${3:-2000}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/cs-test.XXXXXX)
NSS=(cs-cli cs-lb cs-c1 cs-c2 cs-c3 cs-srv)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "convert_scaleout.sh: FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -10 "$f" >&2; }
    done
    for ns in cs-cli cs-c1 cs-c2 cs-c3; do
        echo "--- nstat MPTcp* of $ns" >&2
        ip netns exec "$ns" nstat -az 'MPTcp*' 2>/dev/null | awk '$2 != 0' >&2 || true
    done
    exit 1
}

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
done
veth() { # NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    ip -n "$1" addr add "$3/24" dev "$2"
    ip -n "$4" addr add "$6/24" dev "$5"
    ip -n "$1" link set "$2" up
    ip -n "$4" link set "$5" up
}
veth cs-cli va 10.215.1.1 cs-lb va 10.215.1.2
veth cs-cli vb 10.215.2.1 cs-lb vb 10.215.2.2
veth cs-lb vs 10.215.3.1 cs-srv vs 10.215.3.2
for i in 1 2 3; do
    veth cs-lb "vc$i" "10.215.4$i.1" "cs-c$i" vc "10.215.4$i.2"
    ip -n "cs-c$i" route add default via "10.215.4$i.1"
    # The C flag, and the instance's own address announced in ADD_ADDR. With
    # a port: the kernel never announces the address its initial subflow is
    # on without one (that endpoint is taken as the initial subflow's own), and
    # after DNAT that is this address. The kernel listens for joins there.
    ip netns exec "cs-c$i" sysctl -qw net.mptcp.allow_join_initial_addr_port=0
    ip -n "cs-c$i" mptcp limits set subflow 4 add_addr_accepted 0
    ip -n "cs-c$i" mptcp endpoint add "10.215.4$i.2" dev vc signal port 5125
done
ip -n cs-srv route add default via 10.215.3.1
ip netns exec cs-lb sysctl -qw net.ipv4.ip_forward=1
# Downloads toward the client at 100 Mbit/s a path, so that each lasts long
# enough for its join.
for dev in va vb; do
    ip netns exec cs-lb ethtool -K "$dev" gro off gso off tso off >/dev/null 2>&1 || true
    tc -n cs-lb qdisc add dev "$dev" root handle 1: htb default 10
    tc -n cs-lb class add dev "$dev" parent 1: classid 1:10 htb rate 100mbit ceil 100mbit quantum 1514
done
# The client: path a by default, path b for what leaves from 10.215.2.1.
ip -n cs-cli route add default via 10.215.1.2
ip -n cs-cli rule add from 10.215.2.1 lookup 102
ip -n cs-cli route add default via 10.215.2.2 dev vb table 102
ip -n cs-cli mptcp limits set subflow 4 add_addr_accepted 4
ip -n cs-cli mptcp endpoint add 10.215.2.1 dev vb subflow
# The load balancer: the virtual address is local to cs-lb's routing (so
# replies to ARP are not needed: the client routes it to cs-lb), and new
# connections to it are DNATed to the instance a jhash of the 4-tuple picks;
# conntrack keeps each connection's later packets on the same instance.
ip -n cs-lb addr add 10.215.9.1/32 dev lo
ip netns exec cs-lb nft -f - <<'NFT'
table ip cs_lb {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 10.215.9.1 tcp dport 5124 dnat to jhash ip saddr . tcp sport . ip daddr . tcp dport mod 3 seed 0x5eed map { 0 : 10.215.41.2, 1 : 10.215.42.2, 2 : 10.215.43.2 }
    }
}
NFT

mkdir -p "$WORK/www"
head -c "$((SIZE_KB * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec cs-srv python3 -m http.server 8000 --bind 10.215.3.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http.log" &
PIDS+=($!)
SERVERS=()
for i in 1 2 3; do
    ip netns exec "cs-c$i" "$BIN" proxy convert-server --listen 0.0.0.0:5124 --kernel --json \
        >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
    PIDS+=($!)
    SERVERS+=($!)
done
ip netns exec cs-cli "$BIN" proxy convert-client --listen 127.0.0.1:8081 --converter 10.215.9.1:5124 \
    --destination 10.215.3.2:8000 --no-syn-data --kernel --json >"$WORK/client.out" 2>"$WORK/client.err" &
PIDS+=($!)
CLIENT=$!
wait_log() {
    for _ in $(seq 300); do
        grep -q "listening on" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no 'listening on' in $1"
}
for f in c1 c2 c3 client; do wait_log "$WORK/$f.err"; done
for _ in $(seq 300); do
    ip netns exec cs-srv bash -c "exec 3<>/dev/tcp/10.215.3.2/8000" 2>/dev/null && break
    sleep 0.1
done

counter() { ip netns exec "$1" nstat -az "$2" | awk -v n="$2" '$1 == n {print $2}'; }
for i in 1 2 3; do
    eval "join0_$i=$(counter "cs-c$i" MPTcpExtMPJoinAckRx)"
    eval "notoken0_$i=$(counter "cs-c$i" MPTcpExtMPJoinNoTokenFound)"
done
ok=0
for k in $(seq "$N"); do
    ip netns exec cs-cli curl -sS --max-time 60 -o "$WORK/got.bin" http://127.0.0.1:8081/file.bin \
        2>"$WORK/curl.txt" || fail "download $k: $(cat "$WORK/curl.txt")"
    got=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
    [ "$got" = "$WANT" ] || fail "download $k: SHA-256 $got, want $WANT"
    ok=$((ok + 1))
done
# Let the last joins and closes settle before the counters are read.
sleep 1
echo "downloads: $ok of $N, ${SIZE_KB} kB each, every sha256 ok"
kill -INT "${SERVERS[@]}" "$CLIENT"
for p in "${SERVERS[@]}" "$CLIENT"; do
    wait "$p" || fail "a converter or the client (pid $p) exited with an error"
done
total=0
for i in 1 2 3; do
    c=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["connected"])' "$WORK/c$i.out")
    eval "j0=\$join0_$i; t0=\$notoken0_$i"
    joins=$(( $(counter "cs-c$i" MPTcpExtMPJoinAckRx) - j0 ))
    notoken=$(( $(counter "cs-c$i" MPTcpExtMPJoinNoTokenFound) - t0 ))
    echo "instance $i (10.215.4$i.2): $c connections, joins $joins, joins without a token $notoken"
    [ "$c" -ge 1 ] || fail "instance $i served no connection: the hash did not spread them"
    [ "$joins" -ge 1 ] || fail "instance $i counted no join"
    [ "$notoken" = 0 ] || fail "instance $i got $notoken joins for connections it does not hold"
    total=$((total + c))
done
[ "$total" = "$N" ] || fail "the instances served $total connections, want $N"
echo "convert_scaleout.sh: all checks passed"
