#!/usr/bin/env bash
# Consumer side by side on one Kiri broker: `kiri perf consume` (Kiri's own consumer) against Apache
# Kafka's ConsumerPerformance (kafka-tools 4.1.1), reading the same N records of one topic, alternating
# ROUNDS times (kiri, kafka, kiri, kafka, ...), each from the start of the topic.
#
# The broker is Kiri on memory:// (from the reactor's build: modules/launcher/target), or on the storage
# KIRI_STORAGE names (`file` alone: file:<a temp dir>, removed on exit; the fetch path then sends file
# regions with transferTo), the topic has
# one partition filled with N records of 1 KiB by `kiri perf produce`. ConsumerPerformance joins a
# fresh group each round; its fetch.* columns exclude the group join, so compare those.
#
# Usage: [KIRI_STORAGE=file|URL] bench/consume-vs-kafka.sh [N (default 500000)] [ROUNDS (default 2)]
# Needs: mvn -pl modules/launcher -am package -DskipTests; Maven resolves kafka-tools on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
libs="$bench/target/kafka-libs"
N="${1:-500000}"
ROUNDS="${2:-2}"
. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"
if [ ! -f "$libs/.resolved" ]; then
  echo "resolving kafka-tools 4.1.1 into bench/target/kafka-libs ..." >&2
  mkdir -p "$bench/target"
  mvn -B -q -ntp -f "$bench/kafka/pom.xml" dependency:copy-dependencies >"$bench/target/kafka-resolve.log" 2>&1 \
    || { tail -20 "$bench/target/kafka-resolve.log" >&2; exit 1; }
  touch "$libs/.resolved"
fi
launcher="$(ls "$root"/modules/launcher/target/kiri-launcher-*.jar | grep -v -- '-tests\.jar$' | head -1)"
kiri=("$JAVA" --sun-misc-unsafe-memory-access=allow -p "$root/modules/launcher/target/lib:$launcher" -m kiri.launcher/kiri.launcher.Main)
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp "${TMPDIR:-/tmp}/kiri-consume.XXXXXX")"
data="$(mktemp -d "${TMPDIR:-/tmp}/kiri-consume-data.XXXXXX")"
storage="${KIRI_STORAGE:-memory://}"
[ "$storage" = file ] && storage="file:$data/kiri-data"
"${kiri[@]}" broker --listener "tcp://127.0.0.1:$port" --storage "$storage" >"$log" 2>&1 &
broker=$!
trap 'rc=$?; kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null || true; rm -rf "$log" "$data"; exit $rc' EXIT
for _ in $(seq 1 300); do grep -q "listening" "$log" 2>/dev/null && break; sleep 0.1; done
b="127.0.0.1:$port"
echo "# $("$JAVA" -version 2>&1 | head -1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); broker: kiri $storage on $b"
"${kiri[@]}" topic create consume-bench --partitions 1 -b "$b" >/dev/null
"${kiri[@]}" perf produce -b "$b" --topic consume-bench --records "$N" --record-size 1024 --throughput -1 --acks 1 | tail -1
for r in $(seq 1 "$ROUNDS"); do
  echo "# round $r: kiri perf consume --records $N"
  "${kiri[@]}" perf consume -b "$b" --topic consume-bench --records "$N" | tail -1
  echo "# round $r: kafka ConsumerPerformance --messages $N (fetch.* exclude the group join)"
  "$JAVA" -Xmx512m -cp "$libs/*" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$b" \
    --topic consume-bench --messages "$N" --group "perf-$r-$$" --timeout 30000 2>/dev/null | tail -2
done
