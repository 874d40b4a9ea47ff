#!/usr/bin/env bash
# Profiles a server (roomcast's probe by default) during the measured interval of one scenario
# only, with perf: the load generator switches perf on and off through a control FIFO.
#   bench/profile.sh SCENARIO [loadgen options...]
#   MODE=stat bench/profile.sh echo --quick --scale 1     # count system calls instead
#   EVENTS=syscalls:sys_enter_mprotect,page-faults MODE=stat bench/profile.sh latency
#                                                         # count other perf events
#   SERVER=socketioxide bench/profile.sh fanout-1k-200    # another Rust server
#   SERVER=floor bench/profile.sh latency                 # floor-probe (latency and echo only)
# Writes /tmp/roomcast-profile/<scenario>.{data,txt} and prints the top of the report.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCENARIO="${1:?usage: bench/profile.sh SCENARIO [loadgen options...]}"
shift
MODE="${MODE:-record}"
SERVER="${SERVER:-roomcast}"
OUT=/tmp/roomcast-profile
mkdir -p "$OUT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$SERVER" in
    roomcast) PROGRAM="$TARGET/release/roomcast-probe" ;;
    socketioxide) PROGRAM="${PEERS_TARGET_DIR:-$ROOT/../target-peers}/release/socketioxide-probe" ;;
    floor) PROGRAM="$TARGET/release/floor-probe" ;;
    *) echo "SERVER must be roomcast, socketioxide or floor" >&2; exit 2 ;;
esac
CTL="$OUT/ctl.fifo"
ACK="$OUT/ack.fifo"
rm -f "$CTL" "$ACK"
mkfifo "$CTL" "$ACK"
if [ "$MODE" = stat ]; then
    EVENTS="${EVENTS:-syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_readv,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,context-switches,task-clock}"
    PERF="perf stat -e $EVENTS -o $OUT/$SCENARIO.txt"
else
    PERF="perf record -F 9999 -e cpu-clock -g -o $OUT/$SCENARIO.data"
fi
# The program the load generator starts: perf running the server, events off until the
# measured interval starts; on SIGTERM the server is stopped and perf writes its data.
WRAPPER="$OUT/server.sh"
cat > "$WRAPPER" <<SCRIPT
#!/usr/bin/env bash
$PERF -D -1 --control=fifo:$CTL,$ACK -- $PROGRAM &
perf_pid=\$!
trap 'kill -TERM \$(pgrep -P \$perf_pid) 2>/dev/null; wait \$perf_pid; exit 0' TERM
wait \$perf_pid
SCRIPT
chmod +x "$WRAPPER"
"$TARGET/release/loadgen" --scenario "$SCENARIO" --server "$SERVER" --rounds 1 --retries 1 \
    --no-record --stop-grace-ms 10000 "--$SERVER-bin" "$WRAPPER" \
    --on-window-start "echo enable > $CTL && head -c 4 $ACK > /dev/null" \
    --on-window-end "echo disable > $CTL && head -c 4 $ACK > /dev/null" "$@" | grep -v '^|'
if [ "$MODE" = stat ]; then
    cat "$OUT/$SCENARIO.txt"
else
    perf report -i "$OUT/$SCENARIO.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -5
    perf report -i "$OUT/$SCENARIO.data" --no-children --sort sym --stdio -g none 2>/dev/null \
        | grep '%' | head -30
fi
