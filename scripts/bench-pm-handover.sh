#!/usr/bin/env bash
# Handover gap of `mptcp pm` next to the in-kernel path manager.
#
#   scripts/bench-pm-handover.sh [RUNS]     (default 3 runs per mode; needs root)
#
# Topology: tests/netns/pm.sh, two 20 Mbit/s HTB paths. A server streams to
# the client (scripts/pm-gap.py, a kernel MPTCP socket); at 2 s the client's
# first link goes down; the longest pause in delivery after the first second
# is the gap. Modes: fullmesh, backup (path b is the backup), singlepath (the
# kernel: an endpoint for path b added when the link goes down; ours: the
# daemon's single-path policy). Prints a table and one JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
NAME=pmtb$$
NAME=${NAME:0:10}
TOPO=tests/netns/pm.sh
GAP=scripts/pm-gap.py
MPTCP=${MPTCP:-target/release/mptcp}
[ -x "$MPTCP" ] || { echo "bench: build $MPTCP first (cargo build --release), or set MPTCP=" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
C=$NAME-c
S=$NAME-s
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    $TOPO down "$NAME"
}
trap cleanup EXIT

one_run() { # MODE PM RUN
    local mode=$1 pm=$2 run=$3 port=$((5300 + RANDOM % 500))
    $TOPO up "$NAME" rate 20
    local daemon=
    if [ "$pm" = kernel ]; then
        $TOPO kernel "$NAME"
        case $mode in
            fullmesh) ip netns exec "$C" ip mptcp endpoint add 10.231.2.2 dev c1 subflow ;;
            backup) ip netns exec "$C" ip mptcp endpoint add 10.231.2.2 dev c1 subflow backup ;;
        esac
    else
        local args=(--policy "$mode")
        [ "$mode" = backup ] && args+=(--backup c1)
        ip netns exec "$C" "$MPTCP" pm run "${args[@]}" 2>"/tmp/$NAME-pm.log" &
        daemon=$!
        pids+=("$daemon")
        for _ in $(seq 50); do grep -q listening "/tmp/$NAME-pm.log" && break; sleep 0.1; done
    fi
    ip netns exec "$S" python3 $GAP serve 10.231.1.1 "$port" >/dev/null &
    local server=$!
    pids+=("$server")
    sleep 0.3
    (
        sleep 2
        ip netns exec "$C" ip link set c0 down
        if [ "$pm" = kernel ] && [ "$mode" = singlepath ]; then
            ip netns exec "$C" ip mptcp endpoint add 10.231.2.2 dev c1 subflow
        fi
    ) &
    local res
    res=$(ip netns exec "$C" python3 $GAP recv 10.231.1.1 "$port" 5)
    kill "$server" 2>/dev/null || true
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    [ -n "$daemon" ] && wait "$daemon" 2>/dev/null || true
    echo "{\"mode\":\"$mode\",\"pm\":\"$pm\",\"run\":$run,\"result\":$res}"
}

results=()
for mode in ${MODES:-fullmesh backup singlepath}; do
    for pm in ${PMS:-kernel daemon}; do
        for run in $(seq "$RUNS"); do
            line=$(one_run "$mode" "$pm" "$run")
            echo "$line"
            results+=("$line")
        done
    done
done
echo
printf '%-11s %-7s %s\n' mode pm "gap ms per run (bytes)"
for mode in ${MODES:-fullmesh backup singlepath}; do
    for pm in ${PMS:-kernel daemon}; do
        row=$(printf '%s\n' "${results[@]}" | python3 -c '
import json, sys
m, p = sys.argv[1], sys.argv[2]
rs = [json.loads(l) for l in sys.stdin if l.strip()]
print("  ".join("%6.1f (%d)" % (r["result"]["max_gap_ms"], r["result"]["bytes"]) for r in rs if r["mode"] == m and r["pm"] == p))
' "$mode" "$pm")
        printf '%-11s %-7s %s\n' "$mode" "$pm" "$row"
    done
done
