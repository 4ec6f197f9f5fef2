#!/usr/bin/env bash
# `mptcp pm` managing many concurrent kernel MPTCP connections.
#
#   scripts/bench-pm-conns.sh [N] [HOLD]    (default 1000 connections held 5 s; needs root)
#
# Topology: tests/netns/pm.sh (two paths, no shaping). The daemon runs a
# full-mesh policy in the client namespace, so each connection gets one
# join; scripts/pm-conns.py opens N connections at once, holds them HOLD s
# (a byte each way per second), closes them. Prints the daemon's events
# (its counters, from `mptcp pm status`), the wall time from the first
# connect until every connection is closed, events handled per second over
# that time and per CPU second, and the daemon's CPU seconds (utime +
# stime of its process) for the run and for its idle hold.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
HOLD=${2:-5}
NAME=pmtc$$
NAME=${NAME:0:10}
MPTCP=${MPTCP:-target/release/mptcp}
[ -x "$MPTCP" ] || { echo "bench: build $MPTCP first (cargo build --release), or set MPTCP=" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
C=$NAME-c
S=$NAME-s
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    tests/netns/pm.sh down "$NAME"
}
trap cleanup EXIT
tests/netns/pm.sh up "$NAME"
ip netns exec "$S" sysctl -qw net.core.somaxconn=8192
ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
log=/tmp/$NAME-pm.log
ip netns exec "$C" "$MPTCP" pm run --policy fullmesh 2>"$log" &
daemon=$!
pids+=("$daemon")
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
ip netns exec "$S" python3 scripts/pm-conns.py serve 10.231.1.1 5400 >/dev/null &
pids+=("$!")
sleep 0.5
cpu() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
# Events fed to the engine: kernel and rtnetlink events, and (apart) the
# sock_diag health readings of every subflow (one per subflow per 200 ms).
events() { ip netns exec "$C" "$MPTCP" pm status --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(c["events"] - c["health_samples"], c["health_samples"])'; }
hz=$(getconf CLK_TCK)
e0=$(events); c0=$(cpu); t0=$(date +%s.%N)
ip netns exec "$C" python3 scripts/pm-conns.py open 10.231.1.1 5400 "$N" "$HOLD" >"/tmp/$NAME-open.json" &
opener=$!
pids+=("$opener")
# Mid-hold: every connection should have its join.
sleep $(( HOLD / 2 + 2 ))
mid=$(ip netns exec "$C" "$MPTCP" pm status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = s["connections"]
print(len(c), sum(1 for x in c for f in x["subflows"] if f["state"] == "established"))')
wait "$opener"
# Until the daemon has seen every connection close.
for _ in $(seq 100); do
    n=$(ip netns exec "$C" "$MPTCP" pm status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["connections"]))')
    [ "$n" = 0 ] && break
    sleep 0.1
done
t1=$(date +%s.%N); e1=$(events); c1=$(cpu)
sleep 2
c2=$(cpu)
python3 - "$N" "$(cat /tmp/$NAME-open.json)" "$mid" "$e0" "$e1" "$c0" "$c1" "$c2" "$t0" "$t1" "$hz" "$HOLD" <<'PY'
import json, sys
n, opened, mid, e0, e1, c0, c1, c2, t0, t1, hz, hold = sys.argv[1:]
opened = json.loads(opened)
conns, subs = map(int, mid.split())
(k0, h0), (k1, h1) = map(int, e0.split()), map(int, e1.split())
ev = k1 - k0
health = h1 - h0
wall = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / int(hz)
idle = (int(c2) - int(c1)) / int(hz)
r = {
    "connections": int(n), "connected": opened["connected"], "connect_s": opened["connect_s"],
    "managed_mid_hold": conns, "established_subflows_mid_hold": subs,
    "events": ev, "health_samples": health, "wall_s": round(wall, 2), "events_per_s": round(ev / wall, 1),
    "daemon_cpu_s": round(cpu, 2), "events_per_cpu_s": round(ev / cpu, 1) if cpu else None,
    "idle_cpu_s_per_s_after": round(idle / 2, 3),
}
print(json.dumps(r))
print(f"{r['connected']}/{n} connected in {r['connect_s']} s; mid-hold the daemon managed {conns} connections "
      f"with {subs} established subflows")
print(f"{ev} kernel events in {wall:.2f} s ({r['events_per_s']} events/s), and {health} subflow health "
      f"readings; daemon CPU {cpu:.2f} s for all of it ({r['events_per_cpu_s']} kernel events per CPU second)")
PY
