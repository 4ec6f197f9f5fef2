#!/usr/bin/env bash
# Hybrid-access policies of `mptcp proxy convert-client` (issue 11 item 3):
# --policy lte-backup|overflow over a fixed line and an LTE link, and
# --bypass. Needs root, iproute2 (tc), iptables, curl, python3.
#
#   convert_policy.sh MPTCP_BINARY [RATE_MBIT]
#
#   cp-lan v0 10.214.0.2 == 10.214.0.1 v0  cp-cli  va 10.214.1.1 ==fixed (HTB RATE)== 10.214.1.2 va  cp-cnv  vs 10.214.3.1 == 10.214.3.2 cp-srv
#   curl                                           vb 10.214.2.1 ==LTE   (HTB RATE)== 10.214.2.2 vb  convert-server     http.server :8000, :8001
#                                          convert-client --transparent (PREROUTING REDIRECT to :8082)
#
# cp-cli routes by source address (10.214.1.1 over va, 10.214.2.1 over vb);
# cp-cnv forwards, so a bypassed connection reaches the server directly.
# Checks, each on the client's JSON counters (SIGUSR1) and the server's logs:
#   (a) lte-backup, fixed line up: a download's bytes come over the fixed
#       line; the LTE subflow is there (a join) with its endpoint flagged
#       backup and carries almost nothing (< 2% of the file);
#   (b) bypass: a connection to port 8001 arrives at the server from
#       cp-cli's own address (10.214.1.1), not the converter's, and the
#       converter sees no connection for it;
#   (c) lte-backup, fixed line down mid-download: the download completes
#       (SHA-256 equal) with no pause of 1 s or more, LTE's endpoint loses its
#       backup flag and LTE carries the rest; a new connection made while the fixed line is down succeeds
#       with its first subflow on LTE;
#   (d) the client removes the endpoints it added when it stops;
#   (e) overflow: both links regular, a download saturating the fixed line
#       spills over to LTE (each carries at least 10% of the file).
# Every namespace is named cp-* and deleted at the end.
set -euo pipefail
BIN=${1:?usage: convert_policy.sh MPTCP_BINARY [RATE_MBIT]}
RATE=${2:-20}
BIN=$(readlink -f "$BIN")
HERE=$(dirname "$(readlink -f "$0")")
WORK=$(mktemp -d /tmp/cp-test.XXXXXX)
NSS=(cp-lan cp-cli cp-cnv cp-srv)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "convert_policy.sh: FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
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
ip link add v0 netns cp-lan type veth peer name v0 netns cp-cli
ip link add va netns cp-cli type veth peer name va netns cp-cnv
ip link add vb netns cp-cli type veth peer name vb netns cp-cnv
ip link add vs netns cp-cnv type veth peer name vs netns cp-srv
ip -n cp-lan addr add 10.214.0.2/24 dev v0
ip -n cp-cli addr add 10.214.0.1/24 dev v0
ip -n cp-cli addr add 10.214.1.1/24 dev va
ip -n cp-cli addr add 10.214.2.1/24 dev vb
ip -n cp-cnv addr add 10.214.1.2/24 dev va
ip -n cp-cnv addr add 10.214.2.2/24 dev vb
ip -n cp-cnv addr add 10.214.3.1/24 dev vs
ip -n cp-srv addr add 10.214.3.2/24 dev vs
for l in "cp-lan v0" "cp-cli v0" "cp-cli va" "cp-cli vb" "cp-cnv va" "cp-cnv vb" "cp-cnv vs" "cp-srv vs"; do
    set -- $l
    ip -n "$1" link set "$2" up
    ip netns exec "$1" ethtool -K "$2" gro off gso off tso off >/dev/null 2>&1 || true
done
ip -n cp-lan route add default via 10.214.0.1
ip -n cp-srv route add default via 10.214.3.1
ip netns exec cp-cnv sysctl -qw net.ipv4.ip_forward=1
ip netns exec cp-cli sysctl -qw net.ipv4.ip_forward=1
fixed_routes() {
    ip -n cp-cli route replace default via 10.214.1.2 dev va
    ip -n cp-cli route replace default via 10.214.1.2 dev va table 101
}
ip -n cp-cli rule add from 10.214.1.1 lookup 101
ip -n cp-cli rule add from 10.214.2.1 lookup 102
ip -n cp-cli route add default via 10.214.2.2 dev vb table 102
fixed_routes
for ns in cp-cli cp-cnv; do
    ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2
    for dev in va vb; do
        ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
        tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default 10
        tc -n "$ns" class add dev "$dev" parent 1: classid 1:10 htb rate "${RATE}mbit" ceil "${RATE}mbit" quantum 1514
    done
done
# cp-lan's connections to the server's network go to the transparent client.
ip netns exec cp-cli iptables -t nat -A PREROUTING -i v0 -p tcp -d 10.214.3.0/24 -j REDIRECT --to-ports 8082

mkdir -p "$WORK/www"
head -c 10000000 /dev/urandom >"$WORK/www/small.bin"
# (c) lasts about 8 s at RATE: long enough to cut the fixed line in the middle.
head -c "$((RATE * 1000 * 1000 * 8 / 8))" /dev/urandom >"$WORK/www/big.bin"
SMALL=$(sha256sum "$WORK/www/small.bin" | cut -d' ' -f1)
BIG=$(sha256sum "$WORK/www/big.bin" | cut -d' ' -f1)
ip netns exec cp-srv python3 -m http.server 8000 --bind 10.214.3.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http8000.log" &
PIDS+=($!)
ip netns exec cp-srv python3 -m http.server 8001 --bind 10.214.3.2 --directory "$WORK/www" \
    >/dev/null 2>"$WORK/http8001.log" &
PIDS+=($!)
ip netns exec cp-cnv "$BIN" proxy convert-server --listen 10.214.1.2:5124 --kernel --json \
    >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
SERVER=$!

wait_log() {
    for _ in $(seq 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no '$2' in $1"
}
wait_port() {
    for _ in $(seq 300); do
        ip netns exec cp-srv bash -c "exec 3<>/dev/tcp/10.214.3.2/$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "nothing listens on 10.214.3.2:$1"
}
start_client() {
    local policy=$1 name=$2
    shift 2
    ip netns exec cp-cli "$BIN" proxy convert-client "$@" --listen 0.0.0.0:8082 --converter 10.214.1.2:5124 \
        --transparent --policy "$policy" --fixed va --lte vb --bypass 8001 --kernel --json \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    CLIENT=$!
    PIDS+=($CLIENT)
    wait_log "$WORK/$name.err" "listening on"
}
# counters NAME: the client's counters now (SIGUSR1), one JSON line.
counters() {
    local n
    n=$(grep -c '^{"accepted":' "$WORK/$1.err" || true)
    kill -USR1 "$CLIENT"
    for _ in $(seq 50); do
        [ "$(grep -c '^{"accepted":' "$WORK/$1.err" || true)" -gt "$n" ] && break
        sleep 0.1
    done
    grep '^{"accepted":' "$WORK/$1.err" | tail -1
}
# link JSON ROLE FIELD
link() { python3 -c 'import json,sys; l=[x for x in json.loads(sys.argv[1])["links"] if x["role"]==sys.argv[2]][0]; print(int(l[sys.argv[3]]) if not isinstance(l[sys.argv[3]], str) else l[sys.argv[3]])' "$@"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$@"; }
joins() { ip netns exec cp-cnv nstat -az MPTcpExtMPJoinAckRx | awk '/MPTcpExtMPJoinAckRx/ {print $2}'; }
fetch() {
    ip netns exec cp-lan curl -sS --max-time 60 -o "$WORK/got.bin" "http://10.214.3.2:$1/$2" 2>"$WORK/curl.txt" \
        || fail "curl $1/$2: $(cat "$WORK/curl.txt")"
    sha256sum "$WORK/got.bin" | cut -d' ' -f1
}
# check_fetch PORT FILE WANT WHAT
check_fetch() {
    local got
    got=$(fetch "$1" "$2") || exit 1
    [ "$got" = "$3" ] || fail "$4: SHA-256 mismatch"
}

wait_port 8000
wait_port 8001
wait_log "$WORK/server.err" "listening on"
start_client lte-backup backup

# (a)
j0=$(joins)
before=$(counters backup)
check_fetch 8000 small.bin "$SMALL" "(a) SHA-256 mismatch"
sleep 0.3
after=$(counters backup)
[ "$(link "$after" lte backup)" = 1 ] || fail "(a) the LTE endpoint is not backup: $after"
[ "$(link "$after" fixed backup)" = 0 ] || fail "(a) the fixed endpoint is backup: $after"
fixed_rx=$(( $(link "$after" fixed bytes_received) - $(link "$before" fixed bytes_received) ))
lte_rx=$(( $(link "$after" lte bytes_received) - $(link "$before" lte bytes_received) ))
j1=$(joins)
[ "$((j1 - j0))" -ge 1 ] || fail "(a) no LTE subflow joined (MPJoinAckRx $j0 -> $j1)"
# Sampled every 100 ms: the last interval of a closing subflow can be missed.
[ "$fixed_rx" -ge 9500000 ] || fail "(a) the fixed line carried $fixed_rx bytes of 10000000"
[ "$lte_rx" -lt 200000 ] || fail "(a) the backup LTE subflow carried $lte_rx bytes while the fixed line was up"
echo "(a) lte-backup, fixed line up: 10 MB sha256 ok; fixed received $fixed_rx bytes, LTE (backup, joined) $lte_rx"

# (b)
conv_before=$(ip netns exec cp-cnv nstat -az TcpPassiveOpens | awk '/TcpPassiveOpens/ {print $2}')
check_fetch 8001 small.bin "$SMALL" "(b) SHA-256 mismatch"
conv_after=$(ip netns exec cp-cnv nstat -az TcpPassiveOpens | awk '/TcpPassiveOpens/ {print $2}')
grep -q '^10\.214\.1\.1 .*GET /small.bin' "$WORK/http8001.log" || fail "(b) the server did not see cp-cli's address: $(cat "$WORK/http8001.log")"
grep -q '^10\.214\.3\.1 .*GET /small.bin' "$WORK/http8000.log" || fail "(b) converted connections did not come from the converter"
[ "$conv_after" = "$conv_before" ] || fail "(b) the converter accepted a connection for a bypassed port"
c=$(counters backup)
[ "$(field "$c" bypassed)" = 1 ] || fail "(b) bypassed counter: $c"
echo "(b) bypass 8001: the server saw $(grep -o '^10\.214\.1\.1' "$WORK/http8001.log" | head -1) (cp-cli), converted ones 10.214.3.1; converter accepted nothing"

# (c)
before=$(counters backup)
# failover_gap.py times the longest pause between two reads that brought bytes.
ip netns exec cp-lan python3 "$HERE/failover_gap.py" plain 10.214.3.2 8000 /big.bin \
    >"$WORK/big.gap" 2>"$WORK/big.curl" &
CURL=$!
sleep 2
ip -n cp-cli link set va down
down_at=$(date +%s.%N)
sleep 1
mid=$(counters backup)
wait "$CURL" || fail "(c) the download failed when the fixed line went down: $(cat "$WORK/big.curl")"
grep -q "sha256=$BIG" "$WORK/big.gap" || fail "(c) wrong bytes: $(cat "$WORK/big.gap")"
pause=$(sed -n 's/.*longest_gap_ms=\([0-9]*\).*/\1/p' "$WORK/big.gap")
secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$WORK/big.gap")
[ "$pause" -lt 1000 ] || fail "(c) LTE took over after a pause of $pause ms"
after=$(counters backup)
[ "$(link "$mid" fixed up)" = 0 ] || fail "(c) the fixed line is not seen down: $mid"
[ "$(link "$mid" lte backup)" = 0 ] || fail "(c) LTE still backup with the fixed line down: $mid"
lte_rx=$(( $(link "$after" lte bytes_received) - $(link "$before" lte bytes_received) ))
fixed_rx=$(( $(link "$after" fixed bytes_received) - $(link "$before" fixed bytes_received) ))
size=$(stat -c %s "$WORK/www/big.bin")
[ "$lte_rx" -ge $((size / 4)) ] || fail "(c) LTE carried $lte_rx of $size bytes after the fixed line went down"
echo "(c) lte-backup, fixed line down 2 s in: $size bytes sha256 ok in $secs s, longest pause $pause ms; fixed $fixed_rx, LTE $lte_rx; LTE endpoint backup cleared"
lte_conns=$(link "$after" lte connections)
check_fetch 8000 small.bin "$SMALL" "(c) a new connection with the fixed line down"
c=$(counters backup)
[ "$(link "$c" lte connections)" = $((lte_conns + 1)) ] || fail "(c) the new connection did not start on LTE: $c"
echo "(c) new connection with the fixed line down: sha256 ok, its first subflow on LTE"
ip -n cp-cli link set va up
fixed_routes
sleep 0.5
c=$(counters backup)
[ "$(link "$c" fixed up)" = 1 ] && [ "$(link "$c" lte backup)" = 1 ] || fail "(c) LTE not backup again once the fixed line is back: $c"
echo "(c) fixed line back: LTE backup again (fixed line: $(link "$c" fixed transitions) transitions)"

# (d)
kill -INT "$CLIENT"
wait "$CLIENT" || fail "(d) the client exited with an error"
[ -z "$(ip -n cp-cli mptcp endpoint show)" ] || fail "(d) endpoints left: $(ip -n cp-cli mptcp endpoint show)"
echo "(d) the client stopped and removed its endpoints"

# (e)
# Linux 6.18 runs a connection opened with data in the SYN far below its
# paths' rate once a second regular subflow joins (convert_bench.sh): the
# Convert message goes after the handshake here.
start_client overflow overflow --no-syn-data
before=$(counters overflow)
check_fetch 8000 big.bin "$BIG" "(e) SHA-256 mismatch"
sleep 0.3
after=$(counters overflow)
[ "$(link "$after" lte backup)" = 0 ] && [ "$(link "$after" fixed backup)" = 0 ] || fail "(e) a backup endpoint: $after"
fixed_rx=$(( $(link "$after" fixed bytes_received) - $(link "$before" fixed bytes_received) ))
lte_rx=$(( $(link "$after" lte bytes_received) - $(link "$before" lte bytes_received) ))
[ "$fixed_rx" -ge $((size / 10)) ] && [ "$lte_rx" -ge $((size / 10)) ] || fail "(e) fixed $fixed_rx, LTE $lte_rx of $size"
echo "(e) overflow: $size bytes sha256 ok; fixed received $fixed_rx, LTE $lte_rx"
kill -INT "$CLIENT"
wait "$CLIENT" || fail "(e) the client exited with an error"
kill -INT "$SERVER"
wait "$SERVER" || fail "the converter exited with an error"
echo "client counters (lte-backup): $(tail -1 "$WORK/backup.out")"
echo "client counters (overflow): $(tail -1 "$WORK/overflow.out")"
echo "convert_policy.sh: all checks passed"
