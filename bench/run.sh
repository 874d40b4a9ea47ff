#!/usr/bin/env bash
# Builds the servers under test (roomcast's probe, the socketioxide peer) and the load
# generator, then runs the load generator with the arguments given (see bench/README.md).
#   bench/run.sh                 # the full suite: every scenario, every server, 3 rounds
#   bench/run.sh --quick         # a smoke run
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# socketioxide's peer is its own cargo project, built in its own target directory.
export PEERS_TARGET_DIR="${PEERS_TARGET_DIR:-$(cd "$ROOT/.." && pwd)/target-peers}"
cargo build --release --bin roomcast-probe
cargo build --release -p roomcast-bench --bin loadgen --bin floor-probe
CARGO_TARGET_DIR="$PEERS_TARGET_DIR" cargo build --release \
    --manifest-path bench/peers/socketioxide/Cargo.toml
[ -d node_modules/socket.io ] || npm ci
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/loadgen" "$@"
