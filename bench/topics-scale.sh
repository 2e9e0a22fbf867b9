#!/usr/bin/env bash
# Metadata at scale on the durable engine: creates TOPICS topics (1 partition each, CreateTopics requests of
# BATCH topics, kafka-clients Admin, bench/TopicsScale.java) on a fresh file:<temp>/kiri-data, then stops the
# broker (SIGTERM) and starts it again on the same directory: prints the create time, the restart-to-listening
# time, the broker's RSS after creating and after restarting, its open descriptors, and the topics it lists.
#   bench/topics-scale.sh [TOPICS=10000] [BATCH=500]
# KIRI_IMAGE picks another image (default jlink/target/kiri), e.g. one built from main for a before/after.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
topics=${1:-10000} batch=${2:-500}
image=${KIRI_IMAGE:-$root/jlink/target/kiri}
[ -x "$image/bin/kiri" ] || { echo "topics-scale: no image at $image (build it with ./kiri --version or mvn -DskipTests package)" >&2; exit 1; }
. "$root/scripts/find-jdk.sh"
. "$root/bench/clients-classpath.sh"
tmp=$(mktemp -d)
trap 'stop_broker; rm -rf "$tmp"' EXIT
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
BROKER_PID=
start_broker() {
  local t0 t1 line
  t0=$(date +%s%N)
  coproc BROKER { exec "$image/bin/kiri" broker --listener tcp://127.0.0.1:0 --advertised-listener tcp://127.0.0.1:0 \
    --storage "file:$tmp/kiri-data" 2>&1; }
  IFS= read -r -t 600 line <&"${BROKER[0]}" || { echo "topics-scale: broker did not start" >&2; exit 1; }
  t1=$(date +%s%N)
  case $line in "kiri broker listening on"*) ;; *) echo "topics-scale: unexpected output: $line" >&2; exit 1 ;; esac
  start_ms=$(( (t1 - t0) / 1000000 ))
  port=$(sed -n 's/^kiri broker listening on tcp:\/\/[^:]*:\([0-9]*\).*/\1/p' <<<"$line")
}
stop_broker() { [ -n "$BROKER_PID" ] || return 0; kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=; }
fds() { ls "/proc/$1/fd" | wc -l; }
client() { java -cp "$clients:$slf4j" "$root/bench/TopicsScale.java" "127.0.0.1:$port" "$@"; }

echo "image: $image; $topics topics in CreateTopics requests of $batch; load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_broker
echo "fresh start to listening: $start_ms ms"
client create "$topics" "$batch"
echo "after create: RSS $(mb "$(rss_kb "$BROKER_PID")"), $(fds "$BROKER_PID") open descriptors"
t0=$(date +%s%N); stop_broker; echo "stop (SIGTERM to exit): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
start_broker
echo "restart to listening: $start_ms ms; RSS $(mb "$(rss_kb "$BROKER_PID")"), $(fds "$BROKER_PID") open descriptors"
client count
stop_broker
