#!/usr/bin/env bash
# Runs the official Engine.IO v4 and Socket.IO v5 protocol test suites against a server on
# http://localhost:3000 (the suites hard-code that address).
#
# The suites are not part of this repository. They live in the socket.io repository
# (socketio/socket.io), in the folders docs/engine.io-protocol/v4-test-suite and
# docs/socket.io-protocol/v5-test-suite, each with its own package.json. Copy the two folders to
# $PROTOCOL_SUITES_DIR/engine.io-v4 and $PROTOCOL_SUITES_DIR/socket.io-v5, then in each run
# `npm install && npm install --no-save ws@8.16.0`.
#
# Why ws 8.16.0 (within the suites' range ^8.5.0): the suites wait for each WebSocket message with
# a new listener, which assumes one message per event-loop task, as browsers dispatch them. ws
# 8.14 to 8.16 do the same; older and newer ws dispatch every message of one TCP read in the same
# task, so a message arriving right behind another (CONNECT then "auth") is missed at random.
#
# Usage:
#   scripts/protocol-suites.sh                   # against a server already listening on port 3000
#   scripts/protocol-suites.sh -- CMD [ARG...]   # starts CMD with PROTOCOL_SUITE=1 PORT=3000, waits
#                                                # for "listening on 3000", runs the suites, stops it
#   e.g. scripts/protocol-suites.sh -- node bench/peers/node/probe.js
#
# Environment:
#   PROTOCOL_SUITES_DIR   where the suites are (default /work/protocol-suites)
#   SUITES                which suites to run (default "engine.io-v4 socket.io-v5")
#   SERVER_START_TIMEOUT  seconds to wait for CMD to listen (default 60)
#
# Prints each suite's pass/fail counts; exits non-zero if any suite failed.
set -euo pipefail

suites_dir=${PROTOCOL_SUITES_DIR:-/work/protocol-suites}
read -ra suites <<<"${SUITES:-engine.io-v4 socket.io-v5}"
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
  if [[ ! -f $suites_dir/$suite/test-suite.js || ! -d $suites_dir/$suite/node_modules ]]; then
    echo "protocol-suites: $suites_dir/$suite is missing or not installed (see $0)" >&2
    exit 2
  fi
  ws=$(node -p "require('$suites_dir/$suite/node_modules/ws/package.json').version")
  [[ $ws == 8.1[4-6].* ]] || echo "protocol-suites: warning: $suite uses ws $ws, see $0" >&2
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
  echo "=== $suite"
  status=0
  (cd "$suites_dir/$suite" && timeout 300 ./node_modules/.bin/mocha --exit test-suite.js) 2>&1 |
    tee "$work/$suite.out" || status=$?
  summary+=("$suite: $(count passing "$work/$suite.out") passing, $(count failing "$work/$suite.out") failing")
  ((status == 0)) || failed=1
done

if ((failed)) && [[ -n $server_pid ]]; then
  echo "=== server output"
  cat "$work/server.log"
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
