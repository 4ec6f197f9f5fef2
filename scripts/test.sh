#!/usr/bin/env bash
# The project's test command: set up what the tests need, then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --release "$@"
