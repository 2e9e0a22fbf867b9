#!/usr/bin/env bash
# Log compaction on the durable engine: cleaner throughput and what cleaning does to produce latency.
#   bench/compaction.sh [RECORDS=1000000] [KEYS=10000] [RATES="unlimited 20000000"]
# 1. Starts the image's broker on file:<temp>/base with the cleaner off, creates topic `compacted`
#    (cleanup.policy=compact, segment.bytes=1 MiB) and loads RECORDS keyed records (~100 B values) over KEYS keys
#    with `kiri cat produce --key-separator`; then measures produce latency to another topic (`kiri perf produce`,
#    100-byte records at 20,000/s, acks=all) with no cleaning: the baseline p99. Stops the broker.
# 2. For each cleaner rate (log.cleaner.io.max.bytes.per.second; `unlimited` is Kafka's default), on a fresh copy
#    of that data, starts the broker with the cleaner on (everything is dirty, so it starts cleaning at once), runs
#    the same produce measurement while it cleans, and prints the cleaner's own line (MB read, MB written, records
#    kept, seconds, MB/s) and the p99 next to the baseline.
# KIRI_IMAGE picks another image (default jlink/target/kiri).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
records=${1:-1000000} keys=${2:-10000} rates=${3:-"unlimited 20000000"}
image=${KIRI_IMAGE:-$root/jlink/target/kiri}
[ -x "$image/bin/kiri" ] || { echo "compaction: no image at $image (build it with ./kiri --version or mvn -DskipTests package)" >&2; exit 1; }
tmp=$(mktemp -d)
BROKER_PID=
stop_broker() { [ -n "$BROKER_PID" ] || return 0; kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=; }
trap 'stop_broker; rm -rf "$tmp"' EXIT
kiri() { "$image/bin/kiri" "$@"; }
start_broker() { # $1 storage URL, $2 log file
  local line
  coproc BROKER { exec "$image/bin/kiri" broker --listener tcp://127.0.0.1:0 --advertised-listener tcp://127.0.0.1:0 \
    --storage "$1" 2>"$2"; }
  IFS= read -r -t 600 line <&"${BROKER[0]}" || { echo "compaction: broker did not start: $(cat "$2")" >&2; exit 1; }
  port=$(sed -n 's/^kiri broker listening on tcp:\/\/[^:]*:\([0-9]*\).*/\1/p' <<<"$line")
}
perf() { # prints p99_ms of 100-byte records at 20,000/s to topic $1
  kiri perf produce --bootstrap "127.0.0.1:$port" --topic "$1" --records 200000 --record-size 100 --throughput 20000 \
    --acks all --json 2>/dev/null | tail -1 | sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p'
}

echo "image: $image; $records records over $keys keys; load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_broker "file:$tmp/base?log.cleaner.enable=false" "$tmp/base.log"
kiri topic create --bootstrap "127.0.0.1:$port" --topic compacted --config cleanup.policy=compact \
  --config segment.bytes=1048576 >/dev/null
t0=$(date +%s%N)
awk -v n="$records" -v k="$keys" 'BEGIN { pad = sprintf("%090d", 0); for (i = 0; i < n; i++) printf "key-%d\tvalue-%d-%s\n", (i * 7919) % k, i, pad }' \
  | kiri cat produce --bootstrap "127.0.0.1:$port" --topic compacted --key-separator $'\t' >/dev/null 2>&1
echo "loaded in $(( ($(date +%s%N) - t0) / 1000000 )) ms; compacted topic on disk: $(du -sh "$tmp/base/data" | cut -f1)"
kiri topic create --bootstrap "127.0.0.1:$port" --topic plain >/dev/null
perf plain >/dev/null # warm-up: JIT, the topic's first segment
base_p99=$(perf plain)
echo "produce p99 without cleaning: $base_p99 ms"
stop_broker
for rate in $rates; do
  rm -rf "$tmp/run"; cp -r "$tmp/base" "$tmp/run"
  param="log.cleaner.backoff.ms=500"
  [ "$rate" = unlimited ] || param="$param&log.cleaner.io.max.bytes.per.second=$rate"
  start_broker "file:$tmp/run?$param" "$tmp/run.log"
  p99=$(perf plain)
  for _ in $(seq 600); do grep -q "log cleaner: compacted-0 cleaned" "$tmp/run.log" && break; sleep 1; done
  line=$(grep "log cleaner: compacted-0 cleaned" "$tmp/run.log" | head -1 | sed 's/.*cleaned: //')
  echo "cleaner rate $rate B/s: $line; produce p99 while cleaning: $p99 ms (without: $base_p99 ms)"
  stop_broker
done
