#!/usr/bin/env bash
# Kiri's footprint, from the runtime image: image size, start-to-listening time, idle RSS, and RSS
# under a produce load (one kafka-clients producer, bench/ProduceLoad.java) with null:// storage.
#   bench/footprint.sh [RUNS=10] [LOAD_SECONDS=20] [RECORD_SIZE=100]
# KIRI_JAVA_OPTS is passed through to bin/kiri (it replaces the image's tuned JVM options);
# KIRI_IMAGE picks another image (default jlink/target/kiri; ./kiri or ./test.sh builds it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs=${1:-10} seconds=${2:-20} record_size=${3:-100}
image=${KIRI_IMAGE:-$root/jlink/target/kiri}
[ -x "$image/bin/kiri" ] || { echo "footprint: no image at $image (build it with ./kiri --version or mvn -DskipTests package)" >&2; exit 1; }
. "$root/scripts/find-jdk.sh"   # the load generator runs on the JDK, not in the image

mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }   # ms

# Starts the broker (coproc BROKER), waits for its "listening" line; sets start_ms and port.
start_broker() {
  local t0 t1 line
  t0=$(date +%s%N)
  coproc BROKER { exec "$image/bin/kiri" broker --listener tcp://127.0.0.1:0 --advertised-listener tcp://127.0.0.1:0 \
    --storage null:// 2>&1; }
  IFS= read -r -t 30 line <&"${BROKER[0]}" || { echo "footprint: broker did not start" >&2; exit 1; }
  t1=$(date +%s%N)
  case $line in "kiri broker listening on"*) ;; *) echo "footprint: unexpected output: $line" >&2; exit 1 ;; esac
  start_ms=$(( (t1 - t0) / 1000000 ))
  # CPU time (user + sys) the JVM used until then: less sensitive than wall time to a busy machine
  cpu_ms=$(cpu_of "$BROKER_PID")
  port=$(sed -n 's/^kiri broker listening on tcp:\/\/[^:]*:\([0-9]*\).*/\1/p' <<<"$line")
}
stop_broker() { kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; }

echo "image:               $image"
echo "image size:          $(mb "$(du -sk "$image" | cut -f1)")$( [ -f "$image/lib/kiri.aot" ] && echo " (AOT cache lib/kiri.aot: $(mb "$(du -sk "$image/lib/kiri.aot" | cut -f1)"))")"

times=() cpus=()
for _ in $(seq "$runs"); do
  start_broker
  times+=("$start_ms") cpus+=("$cpu_ms")
  stop_broker
done
summary() { local sorted; sorted=$(printf '%s\n' "$@" | sort -n)
  echo "median $(sed -n "$(( ($# + 1) / 2 ))p" <<<"$sorted") ms, min $(head -1 <<<"$sorted") ms ($# runs: $(tr '\n' ' ' <<<"$sorted"))"; }
echo "start to listening:  $(summary "${times[@]}")"
echo "CPU to listening:    $(summary "${cpus[@]}")"
echo "load average:        $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times above inflate with it)"

start_broker
sleep 2
echo "idle RSS:            $(mb "$(rss_kb "$BROKER_PID")") (2 s after listening)"

# the load generator: kafka-clients (+ slf4j-api) from the local Maven repository, fetched if missing
. "$root/bench/clients-classpath.sh"
load_out=$(mktemp)
cpu_before=$(cpu_of "$BROKER_PID")
java -cp "$clients:$slf4j" "$root/bench/ProduceLoad.java" "127.0.0.1:$port" "$seconds" "$record_size" >"$load_out" 2>&1 &
load=$!
peak=0
while kill -0 "$load" 2>/dev/null; do
  r=$(rss_kb "$BROKER_PID"); [ "$r" -gt "$peak" ] && peak=$r
  sleep 0.2
done
wait "$load" || { cat "$load_out" >&2; stop_broker; exit 1; }
records=$(sed -n 's/^produced \([0-9]*\) records.*/\1/p' "$load_out")
echo "RSS under load:      peak $(mb "$peak"), after $(mb "$(rss_kb "$BROKER_PID")") ($(grep '^produced' "$load_out"))"
echo "broker CPU per 1M records: $(awk -v c="$(( $(cpu_of "$BROKER_PID") - cpu_before ))" -v n="$records" 'BEGIN { printf "%.0f ms", n ? c * 1e6 / n : 0 }') (includes JIT work; depends on batch sizes)"
rm -f "$load_out"
stop_broker
