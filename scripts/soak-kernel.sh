#!/usr/bin/env bash
# A soak against the Linux kernel's MPTCP (issue 14): the interop scenarios
# (crates/mptcp-cli/tests/interop.rs: both roles, every byte checked, a
# capture per run) over and over until MINUTES have passed. Prints one line
# per pass and a summary; keeps the output of every failing pass in DIR.
#
#   scripts/soak-kernel.sh [MINUTES] [DIR]     (default 60 minutes, /tmp/soak-kernel; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-60}
DIR=${2:-/tmp/soak-kernel}
[ "$(id -u)" = 0 ] || { echo "soak-kernel: needs root (network namespaces)" >&2; exit 2; }
mkdir -p "$DIR"
cargo test --release -p mptcp-cli --test interop --no-run >/dev/null 2>&1 \
    || { echo "soak-kernel: the interop test does not build" >&2; exit 2; }
end=$(( $(date +%s) + MINUTES * 60 ))
passes=0 failed_passes=0 tests=0 failed=0
while [ "$(date +%s)" -lt "$end" ]; do
    passes=$((passes + 1))
    log="$DIR/pass-$passes.log"
    start=$(date +%s)
    if cargo test --release -p mptcp-cli --test interop -- --test-threads 1 >"$log" 2>&1; then
        status=ok
    else
        failed_passes=$((failed_passes + 1))
        status="FAILED (kept $log)"
    fi
    res=$(grep -E '^test result:' "$log" | tail -n 1 || true)
    ok=$(echo "$res" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
    bad=$(echo "$res" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    ok=${ok:-0} bad=${bad:-0}
    [ "$status" = ok ] && rm -f "$log"
    tests=$((tests + ok + bad))
    failed=$((failed + bad))
    echo "soak-kernel: pass $passes: $ok passed, $bad failed, $(( $(date +%s) - start )) s: $status"
done
echo "soak-kernel: $passes passes ($failed_passes with a failure), $tests scenario runs (each both roles), $failed failed, in $MINUTES min; failing passes' output in $DIR"
[ "$failed" -eq 0 ]
