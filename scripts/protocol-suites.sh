#!/usr/bin/env bash
# Runs the official Engine.IO v4 and Socket.IO v5 protocol test suites against a server on
# http://localhost:3000 (the suites hard-code that address).
#
# The suites are the revision copied, unchanged, in ../shared/protocol-suites beside this
# repository (its README names the socket.io commit): each is copied to
# target/protocol-suites/<suite> and installed there from its own lockfile (`npm ci`, again only
# when the lockfile changes); no test is skipped or edited.
#
# Usage:
#   scripts/protocol-suites.sh                   # against a server already listening on port 3000
#   scripts/protocol-suites.sh -- CMD [ARG...]   # starts CMD with PROTOCOL_SUITE=1 PORT=3000, waits
#                                                # for "listening on 3000", runs the suites, stops it
#   e.g. scripts/protocol-suites.sh -- target/release/roomcast-probe
#        RUNS=5 scripts/protocol-suites.sh -- node bench/peers/node/probe.js
#
# Environment:
#   PROTOCOL_SUITES_SRC   where the suites are (default ../shared/protocol-suites beside the repository)
#   SUITES                which suites to run (default "engine.io-v4 socket.io-v5")
#   RUNS                  how many times in a row to run each suite (default 1)
#   SERVER_START_TIMEOUT  seconds to wait for CMD to listen (default 60)
#
# Prints each run's pass/fail counts; exits non-zero if any run failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source_dir=${PROTOCOL_SUITES_SRC:-$root/../shared/protocol-suites}
suites_dir=$root/target/protocol-suites
read -ra suites <<<"${SUITES:-engine.io-v4 socket.io-v5}"
runs=${RUNS:-1}
work=$(mktemp -d)
server_pid=

stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

start_server() {
  PROTOCOL_SUITE=1 PORT=3000 "$@" >"$work/server.log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + ${SERVER_START_TIMEOUT:-60}))
  until grep -qx 'listening on 3000' "$work/server.log"; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((SECONDS >= deadline)); then
      cat "$work/server.log" >&2
      echo "protocol-suites: the server did not start listening on port 3000" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# Prints the number before WORD ("passing", "failing") in a mocha report, 0 if absent.
count() {
  grep -Eo "[0-9]+ $1" "$2" | cut -d' ' -f1 || echo 0
}

for suite in "${suites[@]}"; do
  if [[ ! -f $source_dir/$suite/test-suite.js || ! -f $source_dir/$suite/package-lock.json ]]; then
    echo "protocol-suites: no $suite suite in $source_dir (set PROTOCOL_SUITES_SRC)" >&2
    exit 2
  fi
  copy=$suites_dir/$suite
  mkdir -p "$copy"
  cp "$source_dir/$suite"/*.js "$source_dir/$suite"/package*.json "$copy/"
  if ! cmp -s "$copy/package-lock.json" "$copy/node_modules/.installed-from" 2>/dev/null; then
    echo "=== npm ci ($suite)"
    (cd "$copy" && npm ci --no-audit --no-fund >/dev/null)
    cp "$copy/package-lock.json" "$copy/node_modules/.installed-from"
  fi
done

if [[ ${1:-} == -- ]]; then
  shift
  (($#)) || { echo "usage: $0 [-- CMD [ARG...]]" >&2; exit 2; }
  start_server "$@"
elif (($#)); then
  echo "usage: $0 [-- CMD [ARG...]]" >&2
  exit 2
fi

failed=0
summary=()
for suite in "${suites[@]}"; do
  for run in $(seq "$runs"); do
    echo "=== $suite, run $run of $runs"
    status=0
    out=$work/$suite.$run.out
    (cd "$suites_dir/$suite" && timeout 300 ./node_modules/.bin/mocha --exit test-suite.js) 2>&1 |
      tee "$out" || status=$?
    summary+=("$suite run $run: $(count passing "$out") passing, $(count failing "$out") failing")
    ((status == 0)) || failed=1
  done
done

if ((failed)) && [[ -n $server_pid ]]; then
  echo "=== server output"
  cat "$work/server.log"
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
