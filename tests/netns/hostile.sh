#!/usr/bin/env bash
# Blind injection (RFC 5961) into a live connection with our MPTCP listener
# on TUN, on the network of topo.sh (our stack on tun0 in NAME-us, the kernel
# peer in NAME-kern). Needs root, iproute2 and python3 with scapy
# (apt-get install python3-scapy).
#
#   hostile.sh [NAME]     NAME defaults to hs-PID (namespaces NAME-us, NAME-rt,
#                         NAME-kern, deleted at the end)
#
# The router limits the path to 20 Mbit/s. `mptcp listen --echo -k` in NAME-us (--tun tun0 --addr 10.200.10.2, port
# 5001); a kernel MPTCP client in NAME-kern (`mptcp connect --kernel --send
# 10M`) moves 10 MiB through the echo while hostile_inject.py, beside it in
# NAME-kern, watches the client's segments and forges COUNT each of RSTs and
# SYNs in the window and data acknowledging what was never sent, from the
# client's address and port; and hostile_join.py, from the MP_CAPABLE keys it
# saw, opens JOINS joins from the client's address whose third ACK has a bad
# HMAC. The listener's peak RSS (VmHWM) is read before it is stopped.
#
# Prints one JSON line on stdout:
#   {"vmhwm_kib": N, "inject": {...}, "join": {...}, "echo": {...},
#    "subflows": [...], "counters": {...}}
# where echo says whether the 10 MiB came back whole, subflows and counters
# are our listener's figures of that connection (challenge_acks,
# join_hmac_failures...).
#
# Environment: MPTCP (the binary; default target/release/mptcp), PYTHON (the
# interpreter with scapy; default /usr/bin/python3), COUNT (300), JOINS (20).
set -euo pipefail
script=hostile.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$here/lib.sh"

name=${1:-hs-$$}
check_name "$name"
MPTCP=${MPTCP:-$here/../../target/release/mptcp}
PYTHON=${PYTHON:-/usr/bin/python3}
COUNT=${COUNT:-300}
JOINS=${JOINS:-20}
JOIN_PORT=40000
PORT=5001

out=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    "$here/topo.sh" down "$name"
    rm -rf "$out"
}
trap cleanup EXIT

# 20 Mbit/s: the 10 MiB take about four seconds each way, longer than the
# injection.
"$here/topo.sh" up "$name" rate 20
eval "$("$here/topo.sh" env "$name")"

# ip netns exec execs the command: $! is the listener's own pid.
ip netns exec "$NS_US" "$MPTCP" listen -k --echo --json --timeout 120 --port "$PORT" --tun "$TUN" \
    --addr "$STACK_V4" >"$out/listener.json" 2>"$out/listener.err" &
lpid=$!
pids+=("$lpid")
for _ in $(seq 100); do
    grep -q "listening on" "$out/listener.err" 2>/dev/null && break
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.1
done
grep -q "listening on" "$out/listener.err" || {
    echo "$script: the listener did not start:" >&2
    cat "$out/listener.err" >&2
    exit 1
}

ip netns exec "$NS_KERN" "$PYTHON" "$here/hostile_inject.py" --dst "$STACK_V4" --port "$PORT" \
    --count "$COUNT" >"$out/inject.json" 2>"$out/inject.err" &
ipid=$!
pids+=("$ipid")
# The forged joins' SYN/ACKs reach NAME-kern's kernel, which must not reset
# them: they are the attacker's.
in_ns "$NS_KERN" iptables -I INPUT -p tcp --dport "$JOIN_PORT:$((JOIN_PORT + JOINS - 1))" -j DROP
ip netns exec "$NS_KERN" "$PYTHON" "$here/hostile_join.py" --dst "$STACK_V4" --port "$PORT" \
    --count "$JOINS" --first-port "$JOIN_PORT" >"$out/join.json" 2>"$out/join.err" &
jpid=$!
pids+=("$jpid")
# Scapy takes a while to load: the client starts once both watch.
for _ in $(seq 100); do
    grep -q "watching" "$out/inject.err" 2>/dev/null && grep -q "watching" "$out/join.err" 2>/dev/null && break
    sleep 0.1
done
in_ns "$NS_KERN" "$MPTCP" connect --kernel "$STACK_V4:$PORT" --send 10M --json --timeout 60 \
    >"$out/client.json" 2>"$out/client.err" || {
    echo "$script: the client failed:" >&2
    cat "$out/client.err" >&2
}
wait "$ipid" || {
    echo "$script: the injection failed:" >&2
    cat "$out/inject.err" "$out/inject.json" >&2
}
wait "$jpid" || {
    echo "$script: the joins failed:" >&2
    cat "$out/join.err" "$out/join.json" >&2
}
# The listener reports the connection once it is over.
for _ in $(seq 50); do
    grep -q '"subflows"' "$out/listener.json" 2>/dev/null && break
    sleep 0.1
done
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$lpid/status")
exe=$(readlink "/proc/$lpid/exe" || true)
case $exe in
    */mptcp) ;;
    *) echo "$script: pid $lpid is $exe, not the listener" >&2; exit 1 ;;
esac
kill "$lpid" 2>/dev/null || true
wait "$lpid" 2>/dev/null || true
"$PYTHON" "$here/hostile_summary.py" "$hwm" "$out"
