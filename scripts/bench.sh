#!/usr/bin/env bash
# The data-path benchmark: our stack on TUN next to the Linux kernel over the
# same two veth paths (tests/netns/twopath.sh), in one run, printing ratios.
#
#   scripts/bench.sh [--size BYTES] [--htb-size BYTES] [--runs N] [--repeat N] [--cases LIST] [--kernel-cc LIST]
#
#   --size       bytes per unshaped transfer (default 1G: shorter ones measure the start-up)
#   --htb-size   bytes per transfer on the 2 x 50 Mbit/s HTB paths (default 30M)
#   --runs       HTB receive-only runs for the "both subflows carried data" count (default 10)
#   --repeat     transfers per side and row; the row shows the median (default 3:
#                kernel-to-kernel over veth swings by 2x from run to run with
#                where the scheduler puts sender and receiver on two cores)
#   --cases      comma list of: unshaped, htb, loss (default all three)
#   --kernel-cc  the kernel's congestion control for the reference, comma list
#                (default "cubic,bbr": like with like, and this machine's default)
#
# Every row is the median of --repeat transfers each, ours and the kernel's, in this run:
#   ours:   `mptcp connect` (our stack on tun0, CUBIC) against mptcp-bench-peer,
#           a plain-socket program with 1 MiB reads/writes and no hashing, in
#           the kernel's namespace;
#   kernel: mptcp-bench-peer to mptcp-bench-peer over the same veths, bound to
#           the forwarding namespace's own addresses (twopath.sh's reference).
# MPTCP rows use two subflows (path a and path b) on both; the kernel side
# gets `ip mptcp` limits and a subflow endpoint. Goodput is the receiver's:
# bytes over the time to the end of data. CPU s/GB is user + system time of
# the process in our role (ours, or the kernel's client) per 10^9 bytes
# moved; softirq work the kernel does on behalf of either is not in it.
# The 1% loss rows turn TSO/GSO/GRO off on the veths (per-packet loss, not
# per-64 KiB-burst) and drop 1% of the packets entering the kernel's
# namespace with an iptables statistic rule; both stacks run CUBIC there.
# They are run again with our driver busy polling for 200 us after each
# packet (--busy-poll 200: CPU for the wake-up latency of each ACK).
#
# Needs root, iproute2, iptables, ethtool, tc; builds the release binaries.
# Traffic stays inside the two namespaces it makes (bench-us, bench-kern).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=1G
KCC=cubic
HTB_SIZE=30M
RUNS=10
REPEAT=3
CASES=unshaped,htb,loss
KCCS=cubic,bbr
while [ $# -gt 0 ]; do
    case $1 in
        --size) SIZE=$2; shift 2 ;;
        --htb-size) HTB_SIZE=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --cases) CASES=$2; shift 2 ;;
        --kernel-cc) KCCS=$2; shift 2 ;;
        -h | --help) sed -n '2,35p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" != 0 ]; then
    echo "bench.sh: needs root (network namespaces, TUN, tc)" >&2
    exit 1
fi
for t in ip tc iptables ethtool python3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench.sh: missing $t (scripts/setup.sh installs it)" >&2; exit 1; }
done

bytes() { python3 -c "import sys; s=sys.argv[1].upper(); m={'K':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))" "$1"; }
SIZE_B=$(bytes "$SIZE")
HTB_B=$(bytes "$HTB_SIZE")

cargo build --release -q -p mptcp-cli -p mptcp-bench
MPTCP=$PWD/target/release/mptcp
PEER=$PWD/target/release/mptcp-bench-peer
NAME=bench
TP=tests/netns/twopath.sh
eval "$($TP env $NAME)"
WORK=$(mktemp -d /tmp/mptcp-bench.XXXXXX)
cleanup() { $TP down $NAME; rm -rf "$WORK"; }
trap cleanup EXIT
$TP up $NAME >/dev/null

PORT=5300
OURS_EXTRA=""
next_port() { PORT=$((PORT + 1)); }

# json FILE KEY: a top-level number from a one-line JSON report.
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# The kernel's congestion control goes on each peer socket (TCP_CONGESTION:
# a namespace other than the first may only pick from
# net.ipv4.tcp_allowed_congestion_control, a socket of root's any available one).
set_kernel_cc() { KCC=$1; }

mptcp_limits() {
    ip -n "$NS_KERN" mptcp limits set subflows 2 add_addr_accepted 2
    ip -n "$NS_US" mptcp limits set subflows 2 add_addr_accepted 2
    ip -n "$NS_US" mptcp endpoint flush
    ip -n "$NS_US" mptcp endpoint add "$US_V4_2" dev "$US_DEV_2" subflow
}

# peer_server MODE PROTO OUT: the kernel's plain-socket peer, listening in NS_KERN.
peer_server() {
    local mode=$1 proto=$2 out=$3 flag=""
    [ "$proto" = mptcp ] && flag=--mptcp
    ip netns exec "$NS_KERN" "$PEER" --listen "$KERN_V4:$PORT" --mode "$mode" --bytes "$BYTES" --cc "$KCC" $flag >"$out" &
    SERVER_PID=$!
    sleep 0.2
}

# wait_server WHO: the peer's exit; a failure (the bytes were not the pattern,
# say) is reported with whose transfer it was, and its output kept.
wait_server() {
    if ! wait "$SERVER_PID"; then
        local keep
        keep=$(mktemp -d /tmp/mptcp-bench-failed.XXXXXX)
        cp "$WORK"/*.json "$keep"/ 2>/dev/null || true
        echo "bench.sh: the kernel peer failed in the $1 transfer (its outputs are in $keep)" >&2
        echo "$1" >>"$WORK/failures"
    fi
}

# kernel_run DIR PROTO: the reference; prints "GBPS CPU_S".
kernel_run() {
    local dir=$1 proto=$2 flag="" smode cmode
    [ "$proto" = mptcp ] && flag=--mptcp
    case $dir in
        send) smode=recv cmode=send ;;
        recv) smode=send cmode=recv ;;
        both) smode=both cmode=both ;;
    esac
    next_port
    peer_server $smode "$proto" "$WORK/ks.json"
    ip netns exec "$NS_US" "$PEER" --connect "$KERN_V4:$PORT" --bind "$US_V4" --mode $cmode --bytes "$BYTES" --cc "$KCC" $flag \
        >"$WORK/kc.json" || { echo "bench.sh: the kernel client failed in the kernel-to-kernel transfer" >&2; echo kernel-to-kernel >>"$WORK/failures"; }
    wait_server kernel-to-kernel
    local g
    case $dir in
        send) g=$(json "$WORK/ks.json" recv_gbps) ;;
        recv) g=$(json "$WORK/kc.json" recv_gbps) ;;
        both) g="$(json "$WORK/ks.json" recv_gbps)/$(json "$WORK/kc.json" recv_gbps)" ;;
    esac
    echo "$g $(json "$WORK/kc.json" cpu_seconds)"
}

# ours_run DIR PROTO: our stack as the client; prints "GBPS CPU_S RSS_KIB SUBFLOWS_WITH_DATA".
ours_run() {
    local dir=$1 proto=$2 smode mode args=()
    case $dir in
        send) smode=recv mode=(--send "$BYTES") ;;
        recv) smode=send mode=(--recv) ;;
        both) smode=both mode=(--send "$BYTES") ;;
    esac
    if [ "$proto" = mptcp ]; then
        args=(--endpoint "$STACK_V4_2,subflow")
    else
        args=(--no-mptcp)
    fi
    next_port
    peer_server $smode "$proto" "$WORK/os.json"
    ip netns exec "$NS_US" /usr/bin/time -f "%U %S %M" -o "$WORK/time" \
        "$MPTCP" connect "$KERN_V4:$PORT" --tun "$TUN" --addr "$STACK_V4" "${args[@]}" $OURS_EXTRA --cc cubic \
        --no-hash --json -q --timeout 300 "${mode[@]}" >"$WORK/oc.json"
    wait_server ours
    local g
    case $dir in
        send) g=$(json "$WORK/os.json" recv_gbps) ;;
        recv) g=$(python3 -c "import json; print(json.load(open('$WORK/oc.json'))['recv_goodput_bps']/1e9)") ;;
        both) g="$(json "$WORK/os.json" recv_gbps)/$(python3 -c "import json; print(json.load(open('$WORK/oc.json'))['recv_goodput_bps']/1e9)")" ;;
    esac
    local used
    used=$(python3 - "$WORK/oc.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
m = r.get("mptcp") or {}
print(sum(1 for s in m.get("subflows", []) if s.get("bytes_received", 0) + s.get("bytes_sent", 0) > 0))
EOF
)
    read -r u s rss <"$WORK/time"
    echo "$g $(python3 -c "print($u + $s)") $rss $used"
}

# median_line LINE...: the line whose first field (a figure, or A/B for both
# directions, ordered by their sum) is the median.
median_line() {
    python3 -c '
import sys
rows = sys.argv[1:]
key = lambda r: sum(float(x) for x in r.split()[0].split("/"))
rows.sort(key=key)
print(rows[len(rows) // 2])' "$@"
}

printf '%-44s %14s %14s %7s %9s %9s %9s\n' "case (kernel cc)" "kernel" "ours" "ratio" "CPU/GB k" "CPU/GB us" "RSS us"
row() {
    local label=$1 dir=$2 proto=$3
    local k o kg kc og oc orss used gb
    local ks=() os=()
    for _ in $(seq "$REPEAT"); do
        ks+=("$(kernel_run "$dir" "$proto")")
        os+=("$(ours_run "$dir" "$proto")")
    done
    k=$(median_line "${ks[@]}")
    o=$(median_line "${os[@]}")
    read -r kg kc <<<"$k"
    read -r og oc orss used <<<"$o"
    gb=$(python3 -c "print($BYTES * (2 if '$dir' == 'both' else 1) / 1e9)")
    python3 - "$label" "$kg" "$og" "$kc" "$oc" "$gb" "$orss" "$used" "$UNIT" <<'EOF'
import sys
label, kg, og, kc, oc, gb, rss, used, unit = sys.argv[1:]
scale = 1000.0 if unit == "Mbit/s" else 1.0
def parts(v): return [float(x) * scale for x in v.split("/")]
k, o = parts(kg), parts(og)
ratio = "/".join(f"{b / a:.2f}" if a > 0 else "-" for a, b in zip(k, o))
fmt = lambda v: "/".join(f"{x:.1f}" for x in v)
note = f"  ({used} subflows carried data)" if label.startswith("MPTCP") else ""
print(f"{label:<44} {fmt(k):>9} {unit[:4]:<4} {fmt(o):>9} {unit[:4]:<4} {ratio:>7} {float(kc) / float(gb):>9.2f} {float(oc) / float(gb):>9.2f} {int(rss) / 1024:>6.0f} MiB{note}")
EOF
}

IFS=, read -r -a cases <<<"$CASES"
IFS=, read -r -a kccs <<<"$KCCS"
for case in "${cases[@]}"; do
    case $case in
        unshaped)
            UNIT=Gbit/s BYTES=$SIZE_B
            $TP set $NAME rate 0
            for kcc in "${kccs[@]}"; do
                set_kernel_cc "$kcc"
                mptcp_limits
                for proto in tcp mptcp; do
                    P=$( [ $proto = tcp ] && echo TCP || echo "MPTCP 2sf" )
                    row "$P, we send, unshaped ($kcc)" send $proto
                    row "$P, we receive, unshaped ($kcc)" recv $proto
                    row "$P, both at once, unshaped ($kcc)" both $proto
                done
            done
            ;;
        htb)
            UNIT=Mbit/s BYTES=$HTB_B
            $TP set $NAME rate 50
            for kcc in "${kccs[@]}"; do
                set_kernel_cc "$kcc"
                mptcp_limits
                row "MPTCP 2sf, we send, 2x50M HTB ($kcc)" send mptcp
                row "MPTCP 2sf, we receive, 2x50M HTB ($kcc)" recv mptcp
                row "MPTCP 2sf, both at once, 2x50M HTB ($kcc)" both mptcp
            done
            # Receive-only: both subflows must carry data, every run.
            ok=0
            for _ in $(seq "$RUNS"); do
                o=$(ours_run recv mptcp)
                [ "$(echo "$o" | awk '{print $4}')" = 2 ] && ok=$((ok + 1))
            done
            echo "receive-only over 2x50M HTB: both subflows carried data in $ok of $RUNS runs"
            $TP set $NAME rate 0
            ;;
        loss)
            UNIT=Gbit/s BYTES=$(( SIZE_B / 4 ))
            for pair in "$NS_US:$US_DEV" "$NS_US:$US_DEV_2" "$NS_KERN:$KERN_DEV" "$NS_KERN:$KERN_DEV_2"; do
                ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" tso off gso off gro off >/dev/null 2>&1 || true
            done
            ip netns exec "$NS_KERN" iptables -A INPUT -p tcp -m statistic --mode random --probability 0.01 -j DROP
            set_kernel_cc cubic
            mptcp_limits
            row "TCP, we send, 1% loss, offloads off (cubic)" send tcp
            row "MPTCP 2sf, we send, 1% loss, offloads off (cubic)" send mptcp
            # Loss keeps the window at ~15 segments, so each round trip is
            # our wake-up on the peer's ACK: the same with busy polling.
            OURS_EXTRA="--busy-poll 200"
            row "TCP, we send, 1% loss, busy-poll 200 us" send tcp
            row "MPTCP 2sf, we send, 1% loss, busy-poll 200 us" send mptcp
            OURS_EXTRA=""
            ip netns exec "$NS_KERN" iptables -F INPUT
            ;;
        *) echo "bench.sh: unknown case '$case'" >&2; exit 2 ;;
    esac
done
if [ -s "$WORK/failures" ]; then
    echo "bench.sh: $(wc -l <"$WORK/failures") transfer(s) failed or arrived corrupt: $(sort "$WORK/failures" | uniq -c | tr -s ' ' | tr '\n' ';')" >&2
    exit 1
fi
