#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of network input with AFL++, through afl.rs on the
# stable toolchain (cargo-fuzz needs nightly). Each target runs SECONDS (default 30) from its
# corpus in fuzz/corpus/; findings go to target/fuzz/<target>/. Fails if any target saved a
# crash or a hang (an input over 1 s; allocations are capped at 1 GiB of address space).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# The first run installs cargo-afl from crates.io and builds AFL++ (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(eio_packets eio_v3 websocket sio_packets msgpack args)

if ! cargo afl --version >/dev/null 2>&1; then
  cargo install cargo-afl --locked
fi
# Builds AFL++ for this toolchain unless it is there already (cargo install may have done it).
cargo afl config --build >/dev/null 2>&1 || true
(cd fuzz && cargo afl build --release --quiet)

status=0
for target in "${targets[@]}"; do
  out="target/fuzz/$target"
  rm -rf "$out"
  mkdir -p "$out"
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    cargo afl fuzz -i "fuzz/corpus/$target" -o "$out" -V "$seconds" -t 1000 -m 1024 \
    "fuzz/target/release/$target" >"$out/log" 2>&1 || {
    echo "$target: afl-fuzz failed, see $out/log"
    tail -20 "$out/log"
    status=1
    continue
  }
  stats="$out/default/fuzzer_stats"
  stat() { awk -v key="$1" '$1 == key { print $3 }' "$stats"; }
  crashes=$(stat saved_crashes)
  hangs=$(stat saved_hangs)
  echo "$target: $(stat execs_done) runs in ${seconds} s, $(stat corpus_count) inputs in the corpus, $(stat bitmap_cvg) coverage, $crashes crashes, $hangs hangs"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "$target: findings in $out/default/crashes and $out/default/hangs"
    status=1
  fi
done
exit $status
