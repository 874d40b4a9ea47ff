#!/usr/bin/env bash
# Runs every test of roomcast on a fresh machine: installs what the tests need (the npm packages
# of the lockfile, Debian's Chromium), builds the binaries the end-to-end tests drive, then runs
# the Rust tests, the end-to-end tests with the official Socket.IO / Engine.IO clients, and the
# browser test of the chat demo.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "npm packages (package-lock.json)"
if ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi

step "Chromium (Debian's, for the browser test)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

step "cargo build (the binaries the end-to-end tests start)"
cargo build --bins

step "cargo test"
cargo test --workspace

step "end-to-end tests (node --test)"
node --test --test-concurrency=1 tests/e2e/

step "browser test (headless Chromium on the chat demo)"
node --test --test-concurrency=1 tests/browser/
