#!/usr/bin/env bash
# Failover through the proxies (issue 11, Must show): two HTB-shaped client
# paths, path a taken down in the middle of a download, through
# `mptcp proxy convert-client` -> `mptcp proxy convert-server` and through
# dante-server (danted) under `mptcpize`, on the same chain. Needs root,
# iproute2 (tc), python3, mptcpize, danted.
#
#   failover.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB] [RUNS]
#
#   fo-cli  va 10.216.1.1 ==path a (HTB RATE)== 10.216.1.2 va  fo-prx   vs 10.216.3.1 == 10.216.3.2 fo-srv
#           vb 10.216.2.1 ==path b (HTB RATE)== 10.216.2.2 vb  10.216.9.1 (lo)         http.server
#   convert-client :8081 (to 10.216.9.1:5124)                  convert-server :5124, danted :1081
#
# The proxies listen on 10.216.9.1, reachable over either path (default
# routes over a, then b), so a new connection made while path a is down goes
# over b. The client has an `ip mptcp endpoint` on path b (its MPTCP
# connections open a second subflow there). For each proxy and run: a
# download of SIZE_MB (timed by failover_gap.py: the longest pause between
# two reads that brought bytes), path a down 1 s in, then a new download
# with path a still down, then path a back. Prints the pauses; fails if a
# download through ours is cut or wrong, or its longest pause is 1 s or more,
# or a connection made while path a is down fails (on either proxy).
# Every namespace is named fo-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: failover.sh MPTCP_BINARY [RATE_MBIT] [SIZE_MB] [RUNS]}
RATE=${2:-50}
SIZE=${3:-30}
RUNS=${4:-3}
BIN=$(readlink -f "$BIN")
HERE=$(dirname "$(readlink -f "$0")")
WORK=$(mktemp -d /tmp/fo-test.XXXXXX)
NSS=(fo-cli fo-prx fo-srv)
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
    echo "failover.sh: FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -10 "$f" >&2; }
    done
    exit 1
}
DANTED=$(command -v danted || echo /usr/sbin/danted)
[ -x "$DANTED" ] || fail "danted not installed (scripts/setup.sh installs dante-server)"
command -v mptcpize >/dev/null || fail "mptcpize not installed"

for ns in "${NSS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
done
ip link add va netns fo-cli type veth peer name va netns fo-prx
ip link add vb netns fo-cli type veth peer name vb netns fo-prx
ip link add vs netns fo-prx type veth peer name vs netns fo-srv
ip -n fo-cli addr add 10.216.1.1/24 dev va
ip -n fo-cli addr add 10.216.2.1/24 dev vb
ip -n fo-prx addr add 10.216.1.2/24 dev va
ip -n fo-prx addr add 10.216.2.2/24 dev vb
ip -n fo-prx addr add 10.216.3.1/24 dev vs
ip -n fo-prx addr add 10.216.9.1/32 dev lo
ip -n fo-srv addr add 10.216.3.2/24 dev vs
for l in "fo-cli va" "fo-cli vb" "fo-prx va" "fo-prx vb" "fo-prx vs" "fo-srv vs"; do
    set -- $l
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" gro off gso off tso off >/dev/null 2>&1 || true
done
ip -n fo-srv route add default via 10.216.3.1
ip netns exec fo-prx sysctl -qw net.ipv4.ip_forward=1
ip -n fo-cli rule add from 10.216.1.1 lookup 101
ip -n fo-cli rule add from 10.216.2.1 lookup 102
ip -n fo-cli route add default via 10.216.2.2 dev vb table 102
ip -n fo-cli route add default via 10.216.2.2 dev vb metric 20
path_a_routes() {
    ip -n fo-cli route replace default via 10.216.1.2 dev va metric 10
    ip -n fo-cli route replace default via 10.216.1.2 dev va table 101
}
path_a_routes
for ns in fo-cli fo-prx; do
    ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2
    for dev in va vb; do
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
ip -n fo-cli mptcp endpoint add 10.216.2.1 dev vb subflow

mkdir -p "$WORK/www"
head -c "$((SIZE * 1000 * 1000))" /dev/urandom >"$WORK/www/file.bin"
WANT=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
ip netns exec fo-srv python3 -m http.server 8000 --bind 10.216.3.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http.err" &
PIDS+=($!)
ip netns exec fo-prx "$BIN" proxy convert-server --listen 10.216.9.1:5124 --kernel --json \
    >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
# --no-syn-data: Linux 6.18 runs a connection opened with data in the SYN far
# below its paths' rate once a second subflow joins (convert_bench.sh).
ip netns exec fo-cli "$BIN" proxy convert-client --listen 127.0.0.1:8081 --converter 10.216.9.1:5124 \
    --destination 10.216.3.2:8000 --no-syn-data --kernel --json >"$WORK/client.out" 2>"$WORK/client.err" &
PIDS+=($!)
cat >"$WORK/danted.conf" <<CONF
logoutput: $WORK/danted.log
internal: 10.216.9.1 port = 1081
external: 10.216.3.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
CONF
ip netns exec fo-prx mptcpize run "$DANTED" -f "$WORK/danted.conf" -p "$WORK/danted.pid" \
    >/dev/null 2>"$WORK/danted.err" &
PIDS+=($!)
for target in "fo-srv 10.216.3.2 8000" "fo-prx 10.216.9.1 5124" "fo-prx 10.216.9.1 1081" "fo-cli 127.0.0.1 8081"; do
    set -- $target
    for _ in $(seq 300); do
        ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && break
        sleep 0.1
    done
done

gap() { ip netns exec fo-cli python3 "$HERE/failover_gap.py" "$@"; }
ours=(plain 127.0.0.1 8081 /file.bin)
dante=(socks5 10.216.9.1 1081 10.216.3.2 8000 /file.bin)

# run LABEL ARGS...: a download with path a down 1 s in; prints the pause.
run() {
    local label=$1 out
    shift
    gap "$@" >"$WORK/gap.out" 2>"$WORK/gap.err" &
    local pid=$!
    sleep 1
    ip -n fo-cli link set va down
    if ! wait "$pid"; then
        echo "$label: download failed: $(cat "$WORK/gap.err")"
        return 1
    fi
    out=$(cat "$WORK/gap.out")
    [[ $out == *"sha256=$WANT"* ]] || { echo "$label: wrong bytes: $out"; return 1; }
    # A new connection while path a is down.
    gap "$@" >"$WORK/gap2.out" 2>"$WORK/gap2.err" || { echo "$label: a new connection with path a down failed: $(cat "$WORK/gap2.err")"; return 1; }
    [[ $(cat "$WORK/gap2.out") == *"sha256=$WANT"* ]] || { echo "$label: new connection: wrong bytes"; return 1; }
    ip -n fo-cli link set va up
    path_a_routes
    sleep 1
    echo "$label: $out; new connection with path a down: ok"
}

pause() { sed -n 's/.*longest_gap_ms=\([0-9]*\).*/\1/p' <<<"$1"; }
OURS_MS=()
DANTE_MS=()
for i in $(seq "$RUNS"); do
    line=$(run "convert-client -> convert-server (run $i)" "${ours[@]}") || fail "$line"
    echo "$line"
    OURS_MS+=("$(pause "$line")")
    line=$(run "danted under mptcpize (run $i)" "${dante[@]}") || fail "$line"
    echo "$line"
    DANTE_MS+=("$(pause "$line")")
done
echo "longest pause, path a down mid-download (ms): ours ${OURS_MS[*]}; danted under mptcpize ${DANTE_MS[*]}"
for ms in "${OURS_MS[@]}"; do
    [ "$ms" -lt 1000 ] || fail "a pause of $ms ms through convert-client -> convert-server"
done
echo "failover.sh: all checks passed"
