#!/usr/bin/env bash
# Memory with N idle connections (issue 11, Must show): N MPTCP connections
# held open through `mptcp proxy convert-server` (each after a Connect TLV),
# then N through dante-server (danted) under `mptcpize` (each after a SOCKS5
# CONNECT), to a server that keeps them and reads nothing. Prints each
# proxy's memory before and with the connections: RSS and PSS summed over
# its processes (danted forks children; PSS shares their common pages
# fairly), and per connection. A script for figures: it checks only that
# every connection was made. Needs root, iproute2, python3, mptcpize, danted.
#
#   convert_memory.sh MPTCP_BINARY [N]
#
#   cm-cli 10.217.1.1 == 10.217.1.2 cm-prx 10.217.2.1 == 10.217.2.2 cm-srv
#   idle_conns.py             convert-server :5124, danted :1081   idle_conns.py hold :8000
#
# Every namespace is named cm-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: convert_memory.sh MPTCP_BINARY [N]}
N=${2:-10000}
BIN=$(readlink -f "$BIN")
HERE=$(dirname "$(readlink -f "$0")")
WORK=$(mktemp -d /tmp/cm-test.XXXXXX)
NSS=(cm-cli cm-prx cm-srv)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -s "$WORK/danted.pid" ] && kill "$(cat "$WORK/danted.pid")" 2>/dev/null || true
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "convert_memory.sh: FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -10 "$f" >&2; }
    done
    exit 1
}
DANTED=$(command -v danted || echo /usr/sbin/danted)
[ -x "$DANTED" ] || fail "danted not installed (scripts/setup.sh installs dante-server)"
# A relayed connection holds two descriptors in the proxy: N is capped by the
# hard limit on open files (raising it needs CAP_SYS_RESOURCE).
ulimit -n "$(ulimit -Hn)"
CAP=$(( ($(ulimit -Hn) - 200) / 2 ))
if [ "$N" -gt "$CAP" ]; then
    echo "convert_memory.sh: $N connections capped to $CAP by the open-files limit (ulimit -Hn = $(ulimit -Hn))"
    N=$CAP
fi

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
    ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_syn_backlog=8192
done
ip link add v1 netns cm-cli type veth peer name v1 netns cm-prx
ip link add v2 netns cm-prx type veth peer name v2 netns cm-srv
ip -n cm-cli addr add 10.217.1.1/24 dev v1
ip -n cm-prx addr add 10.217.1.2/24 dev v1
ip -n cm-prx addr add 10.217.2.1/24 dev v2
ip -n cm-srv addr add 10.217.2.2/24 dev v2
for l in "cm-cli v1" "cm-prx v1" "cm-prx v2" "cm-srv v2"; do
    set -- $l
    ip -n "$1" link set "$2" up
done
ip -n cm-srv route add default via 10.217.2.1
ip netns exec cm-prx sysctl -qw net.ipv4.tcp_fastopen=3

ip netns exec cm-srv python3 "$HERE/idle_conns.py" hold 8000 2>"$WORK/hold.err" &
PIDS+=($!)
ip netns exec cm-prx "$BIN" proxy convert-server --listen 10.217.1.2:5124 --kernel --json \
    --max-connections $((N * 2)) --idle-timeout 3600s >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
OURS=$!
cat >"$WORK/danted.conf" <<CONF
logoutput: $WORK/danted.log
internal: 10.217.1.2 port = 1081
external: 10.217.2.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
CONF
for target in "cm-srv 10.217.2.2 8000"; do
    set -- $target
    for _ in $(seq 300); do
        ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && break
        sleep 0.1
    done
done
for _ in $(seq 100); do
    grep -q "listening on" "$WORK/server.err" 2>/dev/null && break
    sleep 0.1
done

# mem PID...: "RSS_KB PSS_KB" summed over the processes and their descendants.
tree() {
    local p
    for p in "$@"; do
        echo "$p"
        tree $(cat /proc/"$p"/task/*/children 2>/dev/null)
    done
}
mem() {
    local rss=0 pss=0 p r s
    for p in $(tree "$@" | sort -u); do
        r=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null || echo 0)
        s=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)
        rss=$((rss + ${r:-0}))
        pss=$((pss + ${s:-0}))
    done
    echo "$rss $pss"
}
# hold_through LABEL MODE PORT PIDS...: N connections, memory before and with them.
hold_through() {
    local label=$1 mode=$2 port=$3
    shift 3
    local before with t0 t1
    before=$(mem "$@")
    rm -f "$WORK/ready"
    t0=$(date +%s.%N)
    ip netns exec cm-cli python3 "$HERE/idle_conns.py" "$mode" "$N" 10.217.1.2 "$port" 10.217.2.2 8000 \
        "$WORK/ready" 2>"$WORK/$mode.err" &
    local client=$!
    PIDS+=($client)
    while [ ! -s "$WORK/ready" ]; do
        kill -0 "$client" 2>/dev/null || fail "$label: the client failed: $(tail -3 "$WORK/$mode.err")"
        sleep 0.5
    done
    t1=$(date +%s.%N)
    sleep 2
    with=$(mem "$@")
    set -- $before $with
    awk -v l="$label" -v n="$N" -v r0="$1" -v p0="$2" -v r1="$3" -v p1="$4" -v t="$(echo "$t1 - $t0" | bc)" 'BEGIN {
        printf "%s: %d idle connections (made in %.1f s): RSS %.1f -> %.1f MB, PSS %.1f -> %.1f MB; %.2f kB RSS, %.2f kB PSS per connection\n",
            l, n, t, r0 / 1024, r1 / 1024, p0 / 1024, p1 / 1024, (r1 - r0) / n, (p1 - p0) / n }'
    kill "$client"
    wait "$client" 2>/dev/null || true
    sleep 2
}

hold_through "mptcp proxy convert-server" convert 5124 "$OURS"
ip netns exec cm-prx bash -c "exec mptcpize run $DANTED -f $WORK/danted.conf -p $WORK/danted.pid" \
    >/dev/null 2>"$WORK/danted.err" &
PIDS+=($!)
DANTE=$!
for _ in $(seq 300); do
    ip netns exec cm-cli bash -c "exec 3<>/dev/tcp/10.217.1.2/1081" 2>/dev/null && break
    sleep 0.1
done
sleep 1
hold_through "danted under mptcpize" socks5 1081 "$DANTE"
echo "convert_memory.sh: done"
