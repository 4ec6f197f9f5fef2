#!/usr/bin/env bash
# The kernel behaviour behind `convert-client --no-syn-data`, without our code:
# a Python MPTCP client downloads 10 MiB from a Python MPTCP server over two
# HTB-shaped paths (a second subflow from an `ip mptcp endpoint`), once opened
# with connect() and once with data in the SYN (MSG_FASTOPEN, no cookie). On
# Linux 6.18 the second runs far below the first (the client counts
# MPTcpExtNoDSSInWindow, the server MPTcpExtMPTCPRetrans). Needs root,
# iproute2 (tc), python3. Namespaces cv-r*, deleted at the end.
#
#   tfo_join_repro.sh [RATE_MBIT]
set -euo pipefail
RATE=${1:-50}
WORK=$(mktemp -d /tmp/cv-repro.XXXXXX)
NSS=(cv-rcli cv-rsrv)
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
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
done
ip link add va netns cv-rcli type veth peer name va netns cv-rsrv
ip link add vb netns cv-rcli type veth peer name vb netns cv-rsrv
ip -n cv-rcli addr add 10.214.1.1/24 dev va
ip -n cv-rcli addr add 10.214.2.1/24 dev vb
ip -n cv-rsrv addr add 10.214.1.2/24 dev va
ip -n cv-rsrv addr add 10.214.2.2/24 dev vb
for ns in "${NSS[@]}"; do
    ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2
    for dev in va vb; do
        ip -n "$ns" link set "$dev" up
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
ip -n cv-rcli rule add from 10.214.2.1 lookup 102
ip -n cv-rcli route add default via 10.214.2.2 dev vb table 102
ip -n cv-rcli mptcp endpoint add 10.214.2.1 dev vb subflow

cat >"$WORK/srv.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, 23, 16)   # TCP_FASTOPEN
s.setsockopt(socket.IPPROTO_TCP, 34, 1)    # TCP_FASTOPEN_NO_COOKIE
s.bind(("10.214.1.2", 6000))
s.listen(8)
blob = b"x" * (1 << 20)
while True:
    a, _ = s.accept()
    a.recv(100)
    for _ in range(10):
        a.sendall(blob)
    a.close()
PY
cat >"$WORK/cli.py" <<'PY'
import socket, sys, time
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.settimeout(120)
t = time.time()
if sys.argv[1] == "syn-data":
    c.setsockopt(socket.IPPROTO_TCP, 34, 1)
    c.sendto(b"hello", socket.MSG_FASTOPEN, ("10.214.1.2", 6000))
else:
    c.connect(("10.214.1.2", 6000))
    c.send(b"hello")
n = 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    n += len(d)
dt = time.time() - t
print("%-9s %d bytes in %.2f s, %.1f Mbit/s" % (sys.argv[1], n, dt, n * 8 / dt / 1e6))
PY
ip netns exec cv-rsrv python3 "$WORK/srv.py" &
PIDS+=($!)
sleep 0.5
for mode in connect syn-data; do
    ip netns exec cv-rsrv nstat -n
    ip netns exec cv-rcli nstat -n
    ip netns exec cv-rcli python3 "$WORK/cli.py" "$mode"
    echo "  client: $(ip netns exec cv-rcli nstat | awk '/MPTcpExtNoDSSInWindow|MPTcpExtMPJoinSynAckRx/ {printf "%s %s  ", $1, $2}')"
    echo "  server: $(ip netns exec cv-rsrv nstat | awk '/MPTcpExtMPTCPRetrans|MPTcpExtMPJoinAckRx/ {printf "%s %s  ", $1, $2}')"
done
