#!/usr/bin/env bash
# Runs one scenario of the interop harness (crates/mptcp-cli/tests/interop.rs)
# by name, both roles, with its log on stderr. Needs root.
#
#   tests/netns/interop.sh NAME      e.g. join-ours, fallback-strip-syn, htb-goodput
#   tests/netns/interop.sh --list    the scenarios
#   tests/netns/interop.sh all       every scenario not marked #[ignore], one after another
# A scenario named explicitly runs even when it is marked #[ignore] (a known stack bug).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
run() { cargo test --release -p mptcp-cli --test interop -- --test-threads 1 --nocapture "$@"; }
case $1 in
    --list) run --list 2>/dev/null | sed -n 's/: test$//p' | tr _ - ;;
    all) run ;;
    *) run --include-ignored --exact "$(echo "$1" | tr - _)" ;;
esac
