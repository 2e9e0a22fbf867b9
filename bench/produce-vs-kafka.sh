#!/usr/bin/env bash
# End-to-end producer benchmark: Apache Kafka 4.1.1 (KRaft, single node) vs Kiri, same machine,
# same run, same client (Kafka's own ProducerPerformance from kafka-tools 4.1.1).
#
# For each broker, in turn (never both at once: the machines have 2 cores):
#   start it on loopback -> create topic (1 partition) -> sample broker CPU ->
#   ProducerPerformance --num-records N --record-size 1024 --throughput -1 acks=all ->
#   sample broker CPU and RSS -> [--consume: ConsumerPerformance --messages N, sample again] -> stop it.
# Between the two, the first broker's data is removed (unless --keep) and dirty pages are synced, so
# the second does not share the disk with the first's writeback and files.
# Then print a side-by-side table (or JSON with --json).
#
# Usage: bench/produce-vs-kafka.sh [-n RECORDS] [--record-size B] [--acks A] [--only kafka|kiri]
#                                  [--warmup N] [--storage URL|file] [--client kafka|kiri] [--consume] [--json] [--keep] [-h]
# See bench/README.md for the environment variables (KIRI_CMD, ports, JVM options, timeouts).
set -uo pipefail

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  -n, --records N     records per run (env RECORDS, default 2000000; 200000 for a quick run)
  --record-size B     record value size in bytes (env RECORD_SIZE, default 1024)
  --acks A            producer acks (env ACKS, default all)
  --warmup N          unmeasured ProducerPerformance run of N records first, on each broker
                      (env WARMUP, default 0: the measured run includes JIT warm-up)
  --only kafka|kiri   run one half only
  --storage URL|file  Kiri's storage (env KIRI_STORAGE_URL, default null://); `file` alone means
                      file:<the run's temp dir>/kiri-data (default fsync, i.e. always), and
                      `file?fsync=never` the same directory with that query
  --client kafka|kiri the producer: Kafka's ProducerPerformance (default) or `kiri perf produce`
                      (Kiri's own client, same record size, acks and summary line), against both brokers
  --consume           after the produce phase, read the N records back with Kafka's
                      ConsumerPerformance (env CONSUME=1) and sample the broker again
  --json              print the results as one JSON object on stdout (progress stays on stderr)
  --keep              keep the temp dir (configs, broker logs, perf output) and print its path
  -h, --help          this help
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
libs="$bench/target/kafka-libs"

RECORDS="${RECORDS:-2000000}"
RECORD_SIZE="${RECORD_SIZE:-1024}"
ACKS="${ACKS:-all}"
TOPIC="${TOPIC:-bench}"
PARTITIONS="${PARTITIONS:-1}"   # of the topic created before the run (env only)
WARMUP="${WARMUP:-0}"
ONLY=""
STORAGE="${KIRI_STORAGE_URL:-null://}"
CONSUME="${CONSUME:-0}"
CLIENT="${CLIENT:-kafka}"
JSON=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--records) RECORDS="${2:?--records needs a value}"; shift 2 ;;
    --record-size) RECORD_SIZE="${2:?--record-size needs a value}"; shift 2 ;;
    --acks) ACKS="${2:?--acks needs a value}"; shift 2 ;;
    --warmup) WARMUP="${2:?--warmup needs a value}"; shift 2 ;;
    --only) ONLY="${2:?--only needs kafka or kiri}"; shift 2 ;;
    --storage) STORAGE="${2:?--storage needs a URL}"; shift 2 ;;
    --consume) CONSUME=1; shift ;;
    --client) CLIENT="${2:?--client needs kafka or kiri}"; shift 2 ;;
    --json) JSON=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "produce-vs-kafka: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$RECORDS" in ''|*[!0-9]*) echo "produce-vs-kafka: --records must be a positive integer, got '$RECORDS'" >&2; exit 2 ;; esac
[ "$RECORDS" -gt 0 ] || { echo "produce-vs-kafka: --records must be positive" >&2; exit 2; }
case "$RECORD_SIZE" in ''|*[!0-9]*) echo "produce-vs-kafka: --record-size must be a positive integer, got '$RECORD_SIZE'" >&2; exit 2 ;; esac
case "$WARMUP" in ''|*[!0-9]*) echo "produce-vs-kafka: --warmup must be a non-negative integer, got '$WARMUP'" >&2; exit 2 ;; esac
case "$ONLY" in ''|kafka|kiri) ;; *) echo "produce-vs-kafka: --only takes kafka or kiri, got '$ONLY'" >&2; exit 2 ;; esac

# Bounded waits (seconds); all overridable.
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
KIRI_START_TIMEOUT="${KIRI_START_TIMEOUT:-300}"   # ./kiri may build the reactor on first use
PERF_TIMEOUT="${PERF_TIMEOUT:-1800}"
TOOL_TIMEOUT="${TOOL_TIMEOUT:-120}"
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"

# JVM options. Kafka's defaults as set by bin/kafka-server-start.sh + bin/kafka-run-class.sh
# (heap 1G, G1 with Kafka's tuning, GC log to a file, local JMX); ProducerPerformance gets
# bin/kafka-producer-perf-test.sh's -Xmx512M with the same performance options.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
KAFKA_JMX_OPTS="${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
PERF_HEAP_OPTS="${PERF_HEAP_OPTS:--Xmx512M}"
TOOL_HEAP_OPTS="${TOOL_HEAP_OPTS:--Xmx256M}"

# fd 9 = the script's stderr, so messages from traps reach the user even while a function's
# output is redirected to a file.
exec 9>&2
say() { echo "produce-vs-kafka: $*" >&9; }

# ---------------------------------------------------------------- JDK, jars
# shellcheck source=../scripts/find-jdk.sh
. "$root/scripts/find-jdk.sh"      # sets JAVA_HOME to a JDK >= 25 or exits with one clear line
JAVA="$JAVA_HOME/bin/java"
java_version="$("$JAVA" -version 2>&1 | head -1)"

resolve_jars() {
  local stamp="$libs/.resolved"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$bench/kafka/pom.xml" ]; then return 0; fi
  command -v mvn >/dev/null || { say "Maven (mvn) not found; install Maven 3.8.7+ to resolve the Kafka jars"; return 1; }
  say "resolving org.apache.kafka:kafka_2.13:4.1.1 and kafka-tools:4.1.1 into bench/target/kafka-libs ..."
  mkdir -p "$bench/target"
  rm -rf "$libs"
  if ! timeout 600 mvn -B -q -ntp -f "$bench/kafka/pom.xml" dependency:copy-dependencies \
      >"$bench/target/kafka-resolve.log" 2>&1; then
    tail -20 "$bench/target/kafka-resolve.log" >&2
    say "could not resolve the Kafka jars (log: bench/target/kafka-resolve.log)"
    return 1
  fi
  touch "$stamp"
}
resolve_jars || exit 1
cp_kafka="$libs/*"

# ---------------------------------------------------------------- processes and cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kiri-bench.XXXXXX")" || { say "mktemp failed"; exit 1; }
SERVERS=()     # session leaders we started with setsid (brokers), killed by process group
CHILD=""       # the bounded foreground tool currently running (timeout's pid)

alive() {      # running and not a zombie
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"
  [ "${s%% *}" != Z ]
}

stop_server() {  # TERM the process group, wait bounded, then KILL
  local pid="$1" i
  alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    say "pid $pid did not stop within ${STOP_TIMEOUT}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    sleep 0.2
  fi
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
  for p in "${SERVERS[@]}"; do stop_server "$p"; done
  if [ "$KEEP" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_bounded SECS CMD...: runs CMD with a time limit, in the background so that a trapped
# signal interrupts `wait` at once; the caller's redirections apply.
run_bounded() {
  local secs="$1" rc; shift
  timeout -k 5 "$secs" "$@" 9>&- &
  CHILD=$!
  wait "$CHILD"; rc=$?
  CHILD=""
  return "$rc"
}

# start_server NAME CMDSTRING: starts CMDSTRING (bash syntax) as a new session, stdout+stderr to
# $tmp/NAME.out; sets STARTED to its pid (a child of this shell, registered for cleanup). setsid
# does not fork here (a non-interactive shell's children lead no process group), and `exec` keeps
# the pid through to the JVM when the command (like ./kiri) execs java itself.
start_server() {
  local name="$1" cmd="$2"
  setsid bash -c "exec $cmd" >"$tmp/$name.out" 2>&1 </dev/null 9>&- &
  STARTED=$!
  SERVERS+=("$STARTED")
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_in_use() {
  if command -v ss >/dev/null; then
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
  else
    port_open "$1"
  fi
}

USED_PORTS=" "
free_port() {  # free_port VAR: sets VAR to a loopback port nobody listens on and we did not hand out
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! port_in_use "$p"; then USED_PORTS+="$p "; printf -v "$1" '%s' "$p"; return 0; fi
  done
  say "no free loopback port found"; return 1
}

# wait_listen PID PORT SECS: 0 when PORT accepts connections, 1 on timeout, 2 if PID died.
wait_listen() {
  local pid="$1" port="$2" deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive "$pid" || return 2
    port_open "$port" && return 0
    sleep 0.25
  done
  return 1
}

stat_field() {   # stat_field PID IDX: field of /proc/PID/stat after "(comm)"; 0=state 1=ppid 3=session 11=utime 12=stime
  local s a
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"
  read -r -a a <<<"$s"
  echo "${a[$2]}"
}
cpu_ticks() { local u s; u=$(stat_field "$1" 11) && s=$(stat_field "$1" 12) && echo $((u + s)); }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
is_java() {
  local exe
  exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 1
  case "$exe" in */java) return 0 ;; esac
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q '\bjava\b'
}

# find_jvm LEADER PORT: the JVM serving PORT among the processes of LEADER's session.
find_jvm() {
  local leader="$1" port="$2" p
  if command -v ss >/dev/null; then
    for p in $(ss -Htlnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
      if [ "$(stat_field "$p" 3)" = "$leader" ] && is_java "$p"; then echo "$p"; return 0; fi
    done
  fi
  if is_java "$leader"; then echo "$leader"; return 0; fi
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    if [ "$(stat_field "$p" 3 2>/dev/null)" = "$leader" ] && is_java "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# ---------------------------------------------------------------- the measured run
CLK_TCK="$(getconf CLK_TCK)"
[ "$CLIENT" = kafka ] || [ "$CLIENT" = kiri ] || { echo "produce-vs-kafka: --client must be kafka or kiri, got '$CLIENT'" >&2; exit 2; }
if [ "$CLIENT" = kiri ]; then
  perf_cmd_desc="./kiri perf produce --bootstrap 127.0.0.1:PORT --topic $TOPIC --records $RECORDS --record-size $RECORD_SIZE --throughput -1 --acks $ACKS"
else perf_cmd_desc="java $PERF_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS -cp 'bench/target/kafka-libs/*' org.apache.kafka.tools.ProducerPerformance --topic $TOPIC --num-records $RECORDS --record-size $RECORD_SIZE --throughput -1 --producer-props bootstrap.servers=127.0.0.1:PORT acks=$ACKS"
fi

# Tools log WARN to stderr (as bin/kafka-run-class.sh's tools-log4j2.yaml does).
cat >"$tmp/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF

# perf_run NAME TAG PORT RECORDS: one producer run (ProducerPerformance or kiri perf produce, whose
# summary line has the same format), output in $tmp/NAME-TAG.{out,err}
perf_run() {
  if [ "$CLIENT" = kiri ]; then
    run_bounded "$PERF_TIMEOUT" "$root/kiri" perf produce --bootstrap "127.0.0.1:$3" --topic "$TOPIC" \
      --records "$4" --record-size "$RECORD_SIZE" --throughput -1 --acks "$ACKS" \
      >"$tmp/$1-$2.out" 2>"$tmp/$1-$2.err"
    return
  fi
  run_bounded "$PERF_TIMEOUT" "$JAVA" $PERF_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS \
    "-Dlog4j2.configurationFile=$tmp/tools-log4j2.properties" -cp "$cp_kafka" \
    org.apache.kafka.tools.ProducerPerformance --topic "$TOPIC" --num-records "$4" \
    --record-size "$RECORD_SIZE" --throughput -1 \
    --producer-props "bootstrap.servers=127.0.0.1:$3" "acks=$ACKS" \
    >"$tmp/$1-$2.out" 2>"$tmp/$1-$2.err"
}

# consume_run NAME PORT: one ConsumerPerformance run (a consumer group, from the earliest offset)
consume_run() {
  run_bounded "$PERF_TIMEOUT" "$JAVA" $PERF_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS \
    "-Dlog4j2.configurationFile=$tmp/tools-log4j2.properties" -cp "$cp_kafka" \
    org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "127.0.0.1:$2" --topic "$TOPIC" \
    --messages "$RECORDS" --group "bench-$1" --timeout 60000 \
    >"$tmp/$1-consume.out" 2>"$tmp/$1-consume.err"
}

# measure_consume NAME PORT PID: ConsumerPerformance against the produced topic; sets C_* variables.
measure_consume() {
  local name="$1" port="$2" pid="$3" c0 c1 t0 t1 rc header line
  C_rps="" C_mbs="" C_fetch_rps="" C_cpu="" C_cpum="" C_rss="" C_wall="" C_line=""
  say "$name: ConsumerPerformance --messages $RECORDS ..."
  c0="$(cpu_ticks "$pid")" || return 1
  t0="$(date +%s.%N)"
  consume_run "$name" "$port"; rc=$?
  t1="$(date +%s.%N)"
  alive "$pid" || { say "$name: broker died during the consume run"; return 1; }
  c1="$(cpu_ticks "$pid")"
  R_hwm="$(awk -v k="$(status_kb "$pid" VmHWM)" 'BEGIN { printf "%.0f", k / 1024 }')"
  C_rss="$(awk -v k="$(status_kb "$pid" VmRSS)" 'BEGIN { printf "%.0f", k / 1024 }')"
  if [ "$rc" -ne 0 ]; then
    tail -20 "$tmp/$name-consume.err" >&2; say "$name: ConsumerPerformance failed (exit $rc)"; return 1
  fi
  # start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  # rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  header="$(grep -m1 '^start.time' "$tmp/$name-consume.out")"
  line="$(grep -A1 '^start.time' "$tmp/$name-consume.out" | tail -1)"
  [ -n "$header" ] && [ -n "$line" ] || { say "$name: no result line from ConsumerPerformance"; tail -5 "$tmp/$name-consume.out" >&2; return 1; }
  C_line="$line"
  col() { awk -F', *' -v h="$header" -v want="$1" 'BEGIN { n = split(h, names, /, */) } { for (i = 1; i <= n; i++) if (names[i] == want) print $i }' <<<"$line"; }
  local nmsg; nmsg="$(col data.consumed.in.nMsg)"
  [ "$nmsg" = "$RECORDS" ] || say "$name: WARNING: ConsumerPerformance read $nmsg records, not $RECORDS"
  C_rps="$(col nMsg.sec)"; C_mbs="$(col MB.sec)"; C_fetch_rps="$(col fetch.nMsg.sec)"
  C_cpu="$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
  C_cpum="$(awk -v c="$C_cpu" -v n="$RECORDS" 'BEGIN { printf "%.2f", c * 1000000 / n }')"
  C_wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  say "$name: consumed: $header"
  say "$name: consumed: $line"
  say "$name: broker CPU ${C_cpu}s over ${C_wall}s wall (${C_cpum} s per million records); RSS ${C_rss} MB, peak ${R_hwm} MB"
  return 0
}

# measure NAME PORT PID: create the topic, run ProducerPerformance, sample the broker.
# Sets R_<field> variables; returns non-zero on failure.
measure() {
  local name="$1" port="$2" pid="$3" c0 c1 t0 t1 line rc
  R_rps="" R_mbs="" R_avg="" R_max="" R_p50="" R_p95="" R_p99="" R_p999="" R_cpu="" R_cpum="" R_rss="" R_hwm="" R_wall="" R_line=""
  say "$name: creating topic '$TOPIC' ($PARTITIONS partition(s), replication factor 1)"
  if ! run_bounded "$TOOL_TIMEOUT" "$JAVA" $TOOL_HEAP_OPTS "-Dlog4j2.configurationFile=$tmp/tools-log4j2.properties" \
      -cp "$cp_kafka" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
      --create --if-not-exists --topic "$TOPIC" --partitions "$PARTITIONS" --replication-factor 1 \
      >"$tmp/$name-topic.out" 2>&1; then
    tail -5 "$tmp/$name-topic.out" >&2
    say "$name: topic creation failed; relying on auto-creation by the first produce"
  fi
  alive "$pid" || { say "$name: broker died during topic creation"; return 1; }
  if [ "$WARMUP" -gt 0 ]; then
    say "$name: warm-up, $WARMUP records (not measured) ..."
    if ! perf_run "$name" warmup "$port" "$WARMUP"; then
      tail -20 "$tmp/$name-warmup.err" >&2; say "$name: warm-up run failed"; return 1
    fi
    alive "$pid" || { say "$name: broker died during the warm-up"; return 1; }
  fi
  say "$name: ProducerPerformance $RECORDS records x $RECORD_SIZE B, acks=$ACKS, unthrottled ..."
  c0="$(cpu_ticks "$pid")" || { say "$name: cannot read /proc/$pid/stat"; return 1; }
  t0="$(date +%s.%N)"
  perf_run "$name" perf "$port" "$RECORDS"
  rc=$?
  t1="$(date +%s.%N)"
  if ! alive "$pid"; then say "$name: broker died during the run (log: $tmp/$name.out)"; tail -20 "$tmp/$name.out" >&2; return 1; fi
  c1="$(cpu_ticks "$pid")"
  R_rss="$(status_kb "$pid" VmRSS)"; R_hwm="$(status_kb "$pid" VmHWM)"
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && say "$name: ProducerPerformance exceeded ${PERF_TIMEOUT}s"
    tail -20 "$tmp/$name-perf.err" >&2; tail -5 "$tmp/$name-perf.out" >&2
    say "$name: ProducerPerformance failed (exit $rc)"; return 1
  fi
  # e.g. "200000 records sent, 71761.7 records/sec (70.08 MB/sec), 304.51 ms avg latency,
  #       734.00 ms max latency, 291 ms 50th, 562 ms 95th, 634 ms 99th, 726 ms 99.9th."
  line="$(grep 'records sent' "$tmp/$name-perf.out" | tail -1)"
  [ -n "$line" ] || { say "$name: no summary line from ProducerPerformance"; tail -5 "$tmp/$name-perf.out" >&2; return 1; }
  R_line="$line"
  R_rps="$(sed -n 's/.* \([0-9.]*\) records\/sec.*/\1/p' <<<"$line")"
  R_mbs="$(sed -n 's/.*(\([0-9.]*\) MB\/sec).*/\1/p' <<<"$line")"
  R_avg="$(sed -n 's/.* \([0-9.]*\) ms avg latency.*/\1/p' <<<"$line")"
  R_max="$(sed -n 's/.* \([0-9.]*\) ms max latency.*/\1/p' <<<"$line")"
  R_p50="$(sed -n 's/.* \([0-9.]*\) ms 50th.*/\1/p' <<<"$line")"
  R_p95="$(sed -n 's/.* \([0-9.]*\) ms 95th.*/\1/p' <<<"$line")"
  R_p99="$(sed -n 's/.* \([0-9.]*\) ms 99th.*/\1/p' <<<"$line")"
  R_p999="$(sed -n 's/.* \([0-9.]*\) ms 99\.9th.*/\1/p' <<<"$line")"
  R_cpu="$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
  R_cpum="$(awk -v c="$R_cpu" -v n="$RECORDS" 'BEGIN { printf "%.2f", c * 1000000 / n }')"
  R_wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  R_rss="$(awk -v k="${R_rss:-0}" 'BEGIN { printf "%.0f", k / 1024 }')"
  R_hwm="$(awk -v k="${R_hwm:-0}" 'BEGIN { printf "%.0f", k / 1024 }')"
  say "$name: $line"
  say "$name: broker CPU ${R_cpu}s over ${R_wall}s wall (${R_cpum} s per million records); RSS ${R_rss} MB, peak ${R_hwm} MB"
  if [ "$CONSUME" = 1 ]; then measure_consume "$name" "$port" "$pid" || return 1; fi
  return 0
}

save_result() {  # save_result NAME: copies R_* into NAME_* variables
  local f
  for f in rps mbs avg max p50 p95 p99 p999 cpu cpum rss hwm wall line; do
    eval "${1}_$f=\${R_$f}"
  done
  for f in rps mbs fetch_rps cpu cpum rss wall line; do
    eval "${1}_c$f=\${C_$f:-}"
  done
}

# ---------------------------------------------------------------- Apache Kafka
KAFKA_OK=0 KAFKA_RAN=0 KIRI_OK=0 KIRI_RAN=0 KIRI_WHY=""
KAFKA_PORT="${KAFKA_PORT:-}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-}" KIRI_PORT="${KIRI_PORT:-}"
kafka_java_cmd=""

run_kafka() {
  KAFKA_RAN=1
  local kdir="$tmp/kafka" cid pid rc
  [ -n "$KAFKA_PORT" ] || free_port KAFKA_PORT || return 1
  [ -n "$KAFKA_CONTROLLER_PORT" ] || free_port KAFKA_CONTROLLER_PORT || return 1
  mkdir -p "$kdir/logs" "$kdir/data"
  # config/server.properties of Kafka 4.1.1, single node, on loopback ports of our choosing.
  cat >"$kdir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=$kdir/data
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
group.initial.rebalance.delay.ms=0
EOF
  # Broker logs INFO to server.log (as Kafka's config/log4j2.yaml does, minus the extra files).
  cat >"$kdir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $kdir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  say "kafka: formatting storage (kafka.tools.StorageTool format, cluster id $cid)"
  if ! run_bounded "$TOOL_TIMEOUT" "$JAVA" $TOOL_HEAP_OPTS "-Dlog4j2.configurationFile=$tmp/tools-log4j2.properties" \
      -cp "$cp_kafka" kafka.tools.StorageTool format -t "$cid" -c "$kdir/server.properties" \
      >"$tmp/kafka-format.out" 2>&1; then
    cat "$tmp/kafka-format.out" >&2; say "kafka: storage format failed"; return 1
  fi
  # What bin/kafka-server-start.sh config/server.properties runs (heap 1G, -name kafkaServer -loggc).
  kafka_java_cmd="$JAVA $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS -Xlog:gc*:file=$kdir/logs/kafkaServer-gc.log:time,tags:filecount=10,filesize=100M $KAFKA_JMX_OPTS -Dkafka.logs.dir=$kdir/logs -Dlog4j2.configurationFile=$kdir/log4j2.properties -cp '$cp_kafka' $KAFKA_OPTS kafka.Kafka $kdir/server.properties"
  say "kafka: starting Apache Kafka 4.1.1 (KRaft broker+controller) on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT): $kafka_java_cmd"
  start_server kafka "$kafka_java_cmd"; pid="$STARTED"
  wait_listen "$pid" "$KAFKA_PORT" "$KAFKA_START_TIMEOUT"; rc=$?
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 1 ] && say "kafka: not listening on 127.0.0.1:$KAFKA_PORT after ${KAFKA_START_TIMEOUT}s"
    [ "$rc" -eq 2 ] && say "kafka: exited before listening"
    tail -20 "$tmp/kafka.out" >&2; tail -20 "$kdir/logs/server.log" >&2 2>/dev/null
    return 1
  fi
  # The socket opens a little before the broker has caught up with its own metadata.
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until grep -q 'Kafka Server started' "$kdir/logs/server.log" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] && alive "$pid" || { say "kafka: no 'Kafka Server started' in server.log"; return 1; }
    sleep 0.25
  done
  local jvm; jvm="$(find_jvm "$pid" "$KAFKA_PORT")" || { say "kafka: cannot find the broker JVM"; return 1; }
  say "kafka: up, JVM pid $jvm"
  measure kafka "$KAFKA_PORT" "$jvm" || return 1
  save_result kafka
  say "kafka: stopping"
  stop_server "$pid"
  return 0
}

# ---------------------------------------------------------------- Kiri
run_kiri() {
  KIRI_RAN=1
  local pid rc jvm
  [ -n "$KIRI_PORT" ] || free_port KIRI_PORT || { KIRI_WHY="no free port"; return 1; }
  export KIRI_PORT
  # Single quotes: $root and $KIRI_PORT expand inside the `bash -c` that runs it.
  case "$STORAGE" in
    file|file:) KIRI_STORAGE="file:$tmp/kiri-data" ;;
    'file?'*) KIRI_STORAGE="file:$tmp/kiri-data?${STORAGE#file\?}" ;;   # e.g. file?fsync=never
    *) KIRI_STORAGE="$STORAGE" ;;
  esac
  export KIRI_STORAGE   # `kiri broker` reads it when no --storage is given
  # The rebalance delay matches the Kafka half's config (its shipped server.properties also sets 0).
  local default_cmd='"$root/kiri" broker --storage "$KIRI_STORAGE" --listener tcp://127.0.0.1:$KIRI_PORT --advertised-listener tcp://127.0.0.1:$KIRI_PORT --group-initial-rebalance-delay-ms 0'
  local cmd="${KIRI_CMD:-$default_cmd}"
  export root
  if [ -z "${KIRI_CMD:-}" ] && [ ! -x "$root/kiri" ]; then
    KIRI_WHY="$root/kiri not found"; say "kiri: $KIRI_WHY; skipping the Kiri half"; return 1
  fi
  say "kiri: starting: $cmd  (KIRI_PORT=$KIRI_PORT)"
  start_server kiri "$cmd"; pid="$STARTED"
  wait_listen "$pid" "$KIRI_PORT" "$KIRI_START_TIMEOUT"; rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 1 ]; then KIRI_WHY="not listening on 127.0.0.1:$KIRI_PORT after ${KIRI_START_TIMEOUT}s"
    else KIRI_WHY="exited before listening on 127.0.0.1:$KIRI_PORT"; fi
    say "kiri: $KIRI_WHY; its output:"
    tail -20 "$tmp/kiri.out" | sed 's/^/  | /' >&2
    say "kiri: skipping the Kiri half"
    stop_server "$pid"
    return 1
  fi
  head -3 "$tmp/kiri.out" | sed 's/^/  | /' >&2
  jvm="$(find_jvm "$pid" "$KIRI_PORT")" || { KIRI_WHY="no JVM found serving 127.0.0.1:$KIRI_PORT in session $pid"; say "kiri: $KIRI_WHY"; return 1; }
  say "kiri: up, JVM pid $jvm ($(tr '\0' ' ' <"/proc/$jvm/cmdline" | cut -c1-160)...)"
  if ! measure kiri "$KIRI_PORT" "$jvm"; then KIRI_WHY="the run failed (see above)"; stop_server "$pid"; return 1; fi
  save_result kiri
  say "kiri: stopping"
  stop_server "$pid"
  return 0
}

# ---------------------------------------------------------------- run both, report
say "$java_version; $(nproc) cores; $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); $RECORDS records x $RECORD_SIZE B, acks=$ACKS, warm-up $WARMUP"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
stop_all() { local p; for p in "${SERVERS[@]}"; do stop_server "$p"; done; }
# Each half stops its broker, also on failure, before the other starts.
if [ "$ONLY" != kiri ]; then run_kafka && KAFKA_OK=1; stop_all; fi
# The first half leaves gigabytes of dirty pages that the kernel writes back while the second half
# runs, on the same disk as the second broker's syncs: flush them first, so each half has the disk alone.
if [ -z "$ONLY" ]; then
  say "removing the first half's data and flushing dirty pages (sync) before the second half"
  [ "$KEEP" = 1 ] || rm -rf "$tmp/kafka/data"
  timeout 300 sync
fi
if [ "$ONLY" != kafka ]; then run_kiri && KIRI_OK=1; stop_all; fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "" }'; }
num_or_null() { if [ -n "$1" ]; then echo "$1"; else echo null; fi; }
json_str() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }

rps_ratio=""
if [ "$KAFKA_OK" = 1 ] && [ "$KIRI_OK" = 1 ]; then rps_ratio="$(ratio "$kiri_rps" "$kafka_rps")"; fi

if [ "$JSON" = 1 ]; then
  result_json() {  # result_json NAME OK
    if [ "$2" != 1 ]; then echo null; return; fi
    local f out="{" sep=""
    for f in rps mbs avg max p50 p95 p99 p999 cpu cpum rss hwm wall; do
      local key
      case $f in
        rps) key=records_per_sec ;; mbs) key=mb_per_sec ;; avg) key=latency_avg_ms ;;
        max) key=latency_max_ms ;; p50) key=latency_p50_ms ;; p95) key=latency_p95_ms ;;
        p99) key=latency_p99_ms ;; p999) key=latency_p999_ms ;; cpu) key=broker_cpu_s ;;
        cpum) key=broker_cpu_s_per_million ;; rss) key=broker_rss_mb ;; hwm) key=broker_peak_rss_mb ;;
        wall) key=wall_s ;;
      esac
      eval "local v=\${${1}_$f:-}"
      out+="$sep\"$key\":$(num_or_null "$v")"; sep=","
    done
    eval "local l=\${${1}_line:-}"
    out+=",\"summary\":$(json_str "$l")"
    if [ "$CONSUME" = 1 ]; then
      for f in crps cmbs cfetch_rps ccpum crss; do
        case $f in
          crps) key=consume_records_per_sec ;; cmbs) key=consume_mb_per_sec ;;
          cfetch_rps) key=consume_fetch_records_per_sec ;; ccpum) key=consume_broker_cpu_s_per_million ;;
          crss) key=consume_broker_rss_mb ;;
        esac
        eval "local v=\${${1}_$f:-}"
        out+=",\"$key\":$(num_or_null "$v")"
      done
    fi
    echo "$out}"
  }
  printf '{"records":%s,"warmup_records":%s,"record_size":%s,"acks":%s,"java":%s,"nproc":%s,"mem_total_kb":%s,"loadavg_start":%s,"kafka":%s,"kiri":%s,"kiri_skipped_reason":%s,"ratio_records_per_sec_kiri_over_kafka":%s}\n' \
    "$RECORDS" "$WARMUP" "$RECORD_SIZE" "$(json_str "$ACKS")" "$(json_str "$java_version")" "$(nproc)" \
    "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)" "$(json_str "$load_start")" \
    "$(result_json kafka "$KAFKA_OK")" "$(result_json kiri "$KIRI_OK")" \
    "$( [ -n "$KIRI_WHY" ] && json_str "$KIRI_WHY" || echo null)" "$(num_or_null "$rps_ratio")"
else
  echo
  echo "Producer: $( [ "$CLIENT" = kiri ] && echo "kiri perf produce" || echo "Kafka ProducerPerformance 4.1.1"), $RECORDS records x $RECORD_SIZE B, acks=$ACKS, --throughput -1, $PARTITIONS partition(s), loopback, warm-up $WARMUP records"
  echo "Machine: $(nproc) cores, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load average at start $load_start; $java_version"
  printf '%-6s %11s %8s %8s %8s %8s %8s %9s %8s %10s %7s %9s\n' \
    broker records/s MB/s avg_ms p50_ms p95_ms p99_ms p99.9_ms max_ms cpu_s/Mrec rss_MB peak_MB
  row() {  # row NAME OK
    if [ "$2" = 1 ]; then
      eval "printf '%-6s %11s %8s %8s %8s %8s %8s %9s %8s %10s %7s %9s\n' $1 \
        \"\$${1}_rps\" \"\$${1}_mbs\" \"\$${1}_avg\" \"\$${1}_p50\" \"\$${1}_p95\" \"\$${1}_p99\" \
        \"\$${1}_p999\" \"\$${1}_max\" \"\$${1}_cpum\" \"\$${1}_rss\" \"\$${1}_hwm\""
    else
      local why="failed"; [ "$1" = kiri ] && why="skipped: ${KIRI_WHY:-failed}"
      printf '%-6s %s\n' "$1" "($why)"
    fi
  }
  [ "$KAFKA_RAN" = 1 ] && row kafka "$KAFKA_OK"
  [ "$KIRI_RAN" = 1 ] && row kiri "$KIRI_OK"
  if [ -n "$rps_ratio" ]; then
    echo "kiri/kafka: records/s x$rps_ratio, broker CPU per record x$(ratio "$kiri_cpum" "$kafka_cpum"), peak RSS x$(ratio "$kiri_hwm" "$kafka_hwm")"
  fi
  if [ "$CONSUME" = 1 ]; then
    echo "Consumer: Kafka ConsumerPerformance 4.1.1 --messages $RECORDS (a consumer group, from the earliest offset)"
    printf '%-6s %11s %8s %16s %10s %7s %9s\n' broker records/s MB/s fetch_records/s cpu_s/Mrec rss_MB peak_MB
    crow() {
      if [ "$2" = 1 ]; then
        eval "printf '%-6s %11s %8s %16s %10s %7s %9s\n' $1 \"\$${1}_crps\" \"\$${1}_cmbs\" \"\$${1}_cfetch_rps\" \
          \"\$${1}_ccpum\" \"\$${1}_crss\" \"\$${1}_hwm\""
      fi
    }
    [ "$KAFKA_RAN" = 1 ] && crow kafka "$KAFKA_OK"
    [ "$KIRI_RAN" = 1 ] && crow kiri "$KIRI_OK"
    if [ "$KAFKA_OK" = 1 ] && [ "$KIRI_OK" = 1 ]; then
      echo "kiri/kafka consume: records/s x$(ratio "$kiri_crps" "$kafka_crps"), broker CPU per record x$(ratio "$kiri_ccpum" "$kafka_ccpum")"
    fi
  fi
  [ "$KIRI_RAN" = 1 ] && echo "kiri storage: ${KIRI_STORAGE:-$STORAGE}"
  [ "$KAFKA_OK" = 1 ] && echo "kafka JVM: $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS (+ gc log, local JMX)"
  echo "client: $perf_cmd_desc"
fi

if [ "$ONLY" = kiri ]; then [ "$KIRI_OK" = 1 ] || exit 3; exit 0; fi
[ "$KAFKA_OK" = 1 ] || exit 1
exit 0
