#!/usr/bin/env bash
# Runs every test of roomcast on a fresh machine: installs what the tests need (the npm packages
# of the lockfile, Debian's redis-server / redis-tools and Chromium), builds the binaries the
# end-to-end tests drive, then runs the Rust tests, the end-to-end tests with the official
# Socket.IO / Engine.IO clients (the cluster tests start their own Redis servers and Redis
# Cluster on free ports), the browser tests of the chat demo and its Admin UI, and a short
# coverage-guided fuzzing run of every parser of network input.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "npm packages (package-lock.json)"
if ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
[ -x /usr/bin/chromium ] || missing+=(chromium)
step "Debian packages: redis-server, redis-tools, Chromium${missing[*]:+ (installing ${missing[*]})}"
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

step "cargo build (the binaries the end-to-end tests start)"
cargo build --bins

step "cargo test"
cargo test --workspace

step "end-to-end tests (node --test)"
node --test --test-concurrency=1 tests/e2e/

step "the gateway tests against the examples' NestJS twins (tests/nest)"
npx tsc -p tests/nest
E2E_TARGET=node node --test --test-concurrency=1 tests/e2e/gateway/

step "the Admin UI protocol tests against Node's instrument() (the Node probe)"
E2E_TARGET=node node --test --test-concurrency=1 tests/e2e/socketio/admin-ui.test.mjs

step "browser tests (headless Chromium on the chat demo and the Admin UI it serves)"
node --test --test-concurrency=1 tests/browser/

step "fuzzing: a short run of every target (AFL++ through afl.rs; installs cargo-afl when missing)"
scripts/fuzz.sh 10
