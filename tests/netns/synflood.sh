#!/usr/bin/env bash
# A SYN flood at our MPTCP listener on TUN, then at the kernel's, on the
# network of topo.sh (our stack on tun0 in NAME-us, the kernel peer in
# NAME-kern). Needs root, iproute2, nstat and python3 with scapy
# (apt-get install python3-scapy).
#
#   synflood.sh [NAME]     NAME defaults to sf-PID (namespaces NAME-us, NAME-rt,
#                          NAME-kern, deleted at the end)
#
# Each round: `mptcp listen --echo -k` in NAME-us (ours: --tun tun0 --addr
# 10.200.10.2, port 5001; the kernel's: --kernel --addr 10.200.1.1, port 5002,
# with net.ipv4.tcp_syncookies=1), then from NAME-kern synflood.py's spoofed
# MP_CAPABLE SYNs (SYNS of them, RATE a second, from random addresses of
# 10.203.0.0/16, a range the router sends to NAME-kern, which drops what comes
# back) while a kernel MPTCP client (`mptcp connect --kernel --send 10M`) moves
# 10 MiB through the echo, and another one right after the flood. The
# listener's peak RSS (VmHWM) is read before it is stopped.
#
# Prints one JSON line per round on stdout:
#   {"listener": "ours"|"kernel", "vmhwm_kib": N, "flood": {...},
#    "during": {...}, "after": {...}, "counters": {...}}
# where during/after say whether the echo came back whole (bytes and SHA-256)
# and counters are our endpoint's (syncookies_sent...) or the kernel's nstat.
#
# Environment: MPTCP (the binary; default target/release/mptcp), PYTHON (the
# interpreter with scapy; default /usr/bin/python3), SYNS (50000), RATE (10000).
set -euo pipefail
script=synflood.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$here/lib.sh"

name=${1:-sf-$$}
check_name "$name"
MPTCP=${MPTCP:-$here/../../target/release/mptcp}
PYTHON=${PYTHON:-/usr/bin/python3}
SYNS=${SYNS:-50000}
RATE=${RATE:-10000}
SIZE=10M
SPOOFED=10.203.0.0/16

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

"$here/topo.sh" up "$name"
eval "$("$here/topo.sh" env "$name")"
# SYN/ACKs to the spoofed sources go to NAME-kern, which owns none of them and
# does not forward: they end there.
in_ns "$NS_RT" ip route add "$SPOOFED" via "$KERN_V4"
in_ns "$NS_US" sysctl -qw net.ipv4.tcp_syncookies=1

# wait_line FILE TEXT PID: until FILE has TEXT (10 s), while PID lives.
wait_line() {
    for _ in $(seq 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "$script: no '$2' from the listener:" >&2
    cat "$1" >&2
    return 1
}

# client LABEL TARGET: 10 MiB through the echo; its report to LABEL.json.
client() {
    in_ns "$NS_KERN" "$MPTCP" connect --kernel "$2" --send "$SIZE" --json --timeout 30 \
        >"$out/$1.json" 2>"$out/$1.err" || {
        echo "$script: client $1 failed:" >&2
        cat "$out/$1.err" >&2
    }
}

# round LABEL PORT TARGET_IP LISTENER_ARGS...
round() {
    local label=$1 port=$2 ip=$3
    shift 3
    # ip netns exec execs the command: $! is the listener's own pid.
    ip netns exec "$NS_US" "$MPTCP" listen -k --echo --json --timeout 120 --port "$port" "$@" \
        >"$out/$label-listener.json" 2>"$out/$label-listener.err" &
    local lpid=$!
    pids+=("$lpid")
    wait_line "$out/$label-listener.err" "listening on" "$lpid"
    ip netns exec "$NS_KERN" "$PYTHON" "$here/synflood.py" --dst "$ip" --port "$port" --count "$SYNS" \
        --rate "$RATE" --src "$SPOOFED" >"$out/$label-flood.json" 2>"$out/$label-flood.err" &
    local fpid=$!
    pids+=("$fpid")
    # Into the flood: the half-open queue is full by now.
    sleep 1
    client "$label-during" "$ip:$port"
    wait "$fpid" || {
        echo "$script: the flood failed:" >&2
        cat "$out/$label-flood.err" >&2
    }
    client "$label-after" "$ip:$port"
    local hwm
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$lpid/status")
    local exe
    exe=$(readlink "/proc/$lpid/exe" || true)
    case $exe in
        */mptcp) ;;
        *) echo "$script: pid $lpid is $exe, not the listener" >&2; return 1 ;;
    esac
    if [ "$label" = kernel ]; then
        in_ns "$NS_US" nstat -asz TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed \
            TcpExtTCPReqQFullDoCookies TcpExtTCPReqQFullDrop TcpExtListenDrops >"$out/kernel-nstat.txt"
    fi
    kill "$lpid" 2>/dev/null || true
    wait "$lpid" 2>/dev/null || true
    "$PYTHON" "$here/synflood_summary.py" "$label" "$hwm" "$out"
}

round ours 5001 "$STACK_V4" --tun "$TUN" --addr "$STACK_V4"
round kernel 5002 "$US_V4" --kernel --addr "$US_V4"
