#!/usr/bin/env bash
# Our stack's side of a Linux MPTCP client that opens with data in its SYN
# (MSG_FASTOPEN, TCP_FASTOPEN_NO_COOKIE), with nothing of the proxies: `mptcp
# listen --tun --send 10MB` in one namespace, a Python client in another.
# The stack takes no data in the SYN, so the client sends it again after
# the handshake, with a DSS (DATA_ACK only) and no MP_CAPABLE; the stack
# falls back to TCP, and (Linux 6.18, this tree) its sending then stops at
# 4 MiB (4194304 bytes) until the client times out. Opened with connect(),
# the same client gets all 10 MB. Needs root, iproute2, python3.
#
#   tfo_fallback_repro.sh MPTCP_BINARY
#
#   tfr-cli va 10.214.1.1 == 10.214.1.2 va tfr-srv, tun0: our stack owns 10.214.8.1
set -euo pipefail
BIN=$(readlink -f "${1:?usage: tfo_fallback_repro.sh MPTCP_BINARY}")
WORK=$(mktemp -d /tmp/tfr.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in tfr-cli tfr-srv; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
for ns in tfr-cli tfr-srv; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1 net.ipv4.tcp_fastopen=3 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add va netns tfr-cli type veth peer name va netns tfr-srv
ip -n tfr-cli addr add 10.214.1.1/24 dev va
ip -n tfr-srv addr add 10.214.1.2/24 dev va
ip -n tfr-cli link set va up
ip -n tfr-srv link set va up
ip -n tfr-cli route add default via 10.214.1.2
ip netns exec tfr-srv sysctl -qw net.ipv4.ip_forward=1
ip -n tfr-srv tuntap add dev tun0 mode tun
ip -n tfr-srv link set tun0 up
ip -n tfr-srv route add 10.214.8.1/32 dev tun0

cat >"$WORK/client.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
s.settimeout(5)
if sys.argv[1] == "fastopen":
    s.setsockopt(socket.IPPROTO_TCP, 34, 1)  # TCP_FASTOPEN_NO_COOKIE
    s.sendto(b"hello", socket.MSG_FASTOPEN, ("10.214.8.1", 5000))
else:
    s.connect(("10.214.8.1", 5000))
    s.sendall(b"hello")
n, t = 0, time.time()
try:
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        n += len(chunk)
    print("%-8s: %d bytes, EOF after %.2f s" % (sys.argv[1], n, time.time() - t))
except OSError as e:
    print("%-8s: stalled at %d bytes (%s)" % (sys.argv[1], n, e))
PY
for how in connect fastopen; do
    ip netns exec tfr-srv "$BIN" listen --tun tun0 --addr 10.214.8.1 --port 5000 --send 10MB -q \
        >/dev/null 2>"$WORK/listen.err" &
    PIDS+=($!)
    # The stack is up once it said so (-q keeps only errors): give it a second.
    sleep 1
    ip netns exec tfr-cli python3 "$WORK/client.py" "$how"
    kill -INT "${PIDS[-1]}" 2>/dev/null || true
    wait "${PIDS[-1]}" 2>/dev/null || true
done
