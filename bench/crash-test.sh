#!/usr/bin/env bash
# Crash test of the durable file: engine with a real broker process and a real client: N cycles of
#   start a kafka-clients producer (acks=all, idempotent; bench/CrashCheck.java) that records every
#   acknowledged (partition, offset, key) -> SIGKILL the broker JVM after a random number of acks ->
#   restart it on the same directory (the producer keeps retrying through the restart) -> once the
#   producer is done, read every partition back from offset 0 and check that offsets are contiguous,
#   every value matches its key, no key is there twice, and every record acknowledged in any cycle so
#   far is at its acknowledged offset.
# The short form of the same check runs in the JUnit suite (modules/launcher BrokerCrashTest).
#
# Usage: bench/crash-test.sh [-c CYCLES] [-n RECORDS] [--partitions P] [--fsync MODE] [--keep] [-h]
#   -c, --cycles N      kill/restart cycles (env CYCLES, default 5)
#   -n, --records N     records produced per cycle (env RECORDS, default 200000), 512-byte values
#   --partitions P      topic partitions (env PARTITIONS, default 3)
#   --fsync MODE        always (default) | never | interval:MS: each promises to survive a process crash
#   --keep              keep the data dir, ack files and logs, and print where
# Env: KIRI_CMD (default: the jlink image, jlink/target/kiri/bin/kiri, else ./kiri), run as
#   `setsid bash -c "exec $KIRI_CMD broker --storage ... --listener ... --advertised-listener ..."`.
set -uo pipefail
CYCLES="${CYCLES:-5}" RECORDS="${RECORDS:-200000}" PARTITIONS="${PARTITIONS:-3}" FSYNC="always" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--cycles) CYCLES="${2:?}"; shift 2 ;;
    -n|--records) RECORDS="${2:?}"; shift 2 ;;
    --partitions) PARTITIONS="${2:?}"; shift 2 ;;
    --fsync) FSYNC="${2:?}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "crash-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in CYCLES RECORDS PARTITIONS; do
  case "${!v}" in ''|*[!0-9]*|0) echo "crash-test: $v must be a positive integer" >&2; exit 2 ;; esac
done
say() { echo "crash-test: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"
libs="$root/bench/target/kafka-libs"
if [ ! -f "$libs/.resolved" ]; then
  say "resolving kafka-clients into bench/target/kafka-libs (bench/kafka/pom.xml) ..."
  mkdir -p "$root/bench/target"
  mvn -B -q -ntp -f "$root/bench/kafka/pom.xml" dependency:copy-dependencies >"$root/bench/target/kafka-resolve.log" 2>&1 \
    && touch "$libs/.resolved" || { say "could not resolve the Kafka jars (bench/target/kafka-resolve.log)"; exit 1; }
fi
if [ -z "${KIRI_CMD:-}" ]; then
  if [ -x "$root/jlink/target/kiri/bin/kiri" ]; then KIRI_CMD="$root/jlink/target/kiri/bin/kiri"; else KIRI_CMD="$root/kiri"; fi
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kiri-crash.XXXXXX")" || exit 1
data="$tmp/data"
BROKER="" PRODUCER=""
cleanup() {
  local rc=$?
  [ -n "$PRODUCER" ] && kill "$PRODUCER" 2>/dev/null
  [ -n "$BROKER" ] && kill -TERM -- "-$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
  if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$((20000 + RANDOM % 40000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 40000)); done
bootstrap="127.0.0.1:$port"
storage="file:$data?fsync=$FSYNC"
starts=0

start_broker() {
  starts=$((starts + 1))
  local i
  setsid bash -c "exec $KIRI_CMD broker --storage '$storage' --listener tcp://$bootstrap --advertised-listener tcp://$bootstrap" \
    >"$tmp/broker-$starts.log" 2>&1 </dev/null &
  BROKER=$!
  for ((i = 0; i < 1200; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$BROKER" 2>/dev/null || break
    sleep 0.1
  done
  say "the broker did not start:"; tail -20 "$tmp/broker-$starts.log" >&2; exit 1
}

check() { "$JAVA" -cp "$libs/*" "$root/bench/CrashCheck.java" "$@"; }

say "$CYCLES cycles x $RECORDS records (512 B values), $PARTITIONS partitions, storage $storage, broker: $KIRI_CMD"
say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_broker
acks=()
total_acked=0
for ((c = 1; c <= CYCLES; c++)); do
  ackfile="$tmp/acks-$c.txt"; acks+=("$ackfile"); : >"$ackfile"
  kill_at=$((RECORDS / 10 + (RANDOM * 32768 + RANDOM) % (RECORDS * 7 / 10 + 1)))
  check produce "$bootstrap" crash "$PARTITIONS" $(((c - 1) * RECORDS)) "$RECORDS" "$ackfile" >"$tmp/produce-$c.out" 2>"$tmp/produce-$c.err" &
  PRODUCER=$!
  while [ "$(wc -l <"$ackfile")" -lt "$kill_at" ] && kill -0 "$PRODUCER" 2>/dev/null; do sleep 0.05; done
  at_kill="$(wc -l <"$ackfile")"
  if ! kill -0 "$PRODUCER" 2>/dev/null; then
    say "cycle $c: the producer ended before $kill_at acks:"; cat "$tmp/produce-$c.out" "$tmp/produce-$c.err" >&2; exit 1
  fi
  kill -KILL -- "-$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null
  say "cycle $c: SIGKILLed the broker after $at_kill acknowledged records (target $kill_at); restarting on the same directory"
  start_broker
  if ! wait "$PRODUCER"; then PRODUCER=""; say "cycle $c: the producer failed:"; tail -20 "$tmp/produce-$c.err" >&2; exit 1; fi
  PRODUCER=""
  say "cycle $c: $(cat "$tmp/produce-$c.out")"
  if ! check verify "$bootstrap" crash "$PARTITIONS" "${acks[@]}" >"$tmp/verify-$c.out" 2>"$tmp/verify-$c.err"; then
    cat "$tmp/verify-$c.out" "$tmp/verify-$c.err" >&2; say "cycle $c: FAILED"; exit 1
  fi
  say "cycle $c: $(cat "$tmp/verify-$c.out")"
  total_acked=$((total_acked + $(wc -l <"$ackfile")))
done
echo "crash-test: PASSED: $CYCLES SIGKILLs mid-stream (acks=all, idempotent producer, fsync=$FSYNC); after each restart all $total_acked records acknowledged so far were at their acknowledged offsets, offsets contiguous from 0 in all $PARTITIONS partitions, values intact, no duplicates"
