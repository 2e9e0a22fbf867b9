#!/usr/bin/env bash
# librdkafka's own integration suite (tests/test-runner) against Apache Kafka 4.1.1 (KRaft, single
# node, from the Maven jars bench/produce-vs-kafka.sh uses) and against Kiri, one broker at a time,
# one test number at a time, each bounded by a timeout. Results: compat/librdkafka.md.
#
# Usage: compat/run-librdkafka-suite.sh LIBRDKAFKA_DIR [--broker kafka|kiri|both] [--set allow|broad|"NNNN ..."]
#                                       [--out DIR] [--timeout SECS] [--full]
#   LIBRDKAFKA_DIR  a librdkafka checkout (tag v2.14.2) built with `./configure && make libs &&
#                   make -C tests build` (this script neither fetches nor builds it)
#   --set allow     Redpanda CI's allow-list (tests 0..119 minus its ignored set), broker tests only
#   --set broad     every broker (non-local, non-manual) test that needs no SSL/SASL/multi-broker
#   --full          run tests in their default mode (default: -Q, librdkafka's quick mode)
# Output: DIR/<broker>/<NNNN>.log per test and DIR/results.tsv (test, broker, PASS|FAIL|SKIP|TIMEOUT).
# Broker settings for both: auto topic creation on, 4 partitions per new topic (as Redpanda's CI and
# librdkafka's trivup clusters use), group.initial.rebalance.delay.ms=0, delete.topic.enable.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; esac
RDK="$(cd "$1" && pwd)" || { echo "run-librdkafka-suite: no such directory: $1" >&2; exit 2; }
shift
BROKER=both SET=allow OUT=/tmp/librdkafka-suite TEST_TIMEOUT=300 QUICK=-Q
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) BROKER="${2:?}"; shift 2 ;;
    --set) SET="${2:?}"; shift 2 ;;
    --out) OUT="${2:?}"; shift 2 ;;
    --timeout) TEST_TIMEOUT="${2:?}"; shift 2 ;;
    --full) QUICK=""; shift ;;
    *) echo "run-librdkafka-suite: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$RDK/tests/test-runner" ] || { echo "run-librdkafka-suite: $RDK/tests/test-runner not built (make -C tests build)" >&2; exit 2; }

# Broker test numbers (flags without TEST_F_LOCAL / TEST_F_MANUAL) from tests/test.c's table.
broker_tests() {
  python3 - "$RDK/tests/test.c" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
blk = src[src.index('struct test tests[] = {'):]
blk = blk[:blk.index('\n};')]
nums = set()
for name, flags in re.findall(r'_TEST\((\d{4})_\w+,\s*([^,)]*)', blk):
    if 'TEST_F_LOCAL' not in flags and 'TEST_F_MANUAL' not in flags:
        nums.add(name)
print(' '.join(sorted(nums)))
EOF
}
# Redpanda's CI (tests/rptest/tests/librdkafka_test.py): range(120) minus these.
REDPANDA_IGNORED=" 14 51 67 90 99 103 52 61 66 77 81 82 92 109 113 115 119 30 84 105 75 "
# Need SSL, SASL/OAUTHBEARER or several brokers (fetch-from-follower, rack-aware replicas).
NOT_SINGLE_PLAINTEXT=" 0101 0115 0119 0126 0128 0135 0142 "
case "$SET" in
  allow) TESTS_LIST=""; for t in $(broker_tests); do
           n=$((10#$t)); [ "$n" -lt 120 ] && [[ "$REDPANDA_IGNORED" != *" $n "* ]] && TESTS_LIST+="$t "; done ;;
  broad) TESTS_LIST=""; for t in $(broker_tests); do
           [[ "$NOT_SINGLE_PLAINTEXT" != *" $t "* ]] && TESTS_LIST+="$t "; done ;;
  *) TESTS_LIST="$SET" ;;
esac

. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"
libs="$root/bench/target/kafka-libs"
mkdir -p "$OUT"
PID=""
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stop_broker() {
  [ -n "$PID" ] || return 0
  kill -TERM -- "-$PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
}
trap stop_broker EXIT
wait_port() {  # wait_port PORT SECS
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    kill -0 "$PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.25
  done
}

start_kafka() {
  [ -f "$libs/.resolved" ] || (cd "$root" && mvn -B -q -ntp -f bench/kafka/pom.xml dependency:copy-dependencies && touch "$libs/.resolved") || return 1
  local dir="$OUT/kafka-broker" cport
  rm -rf "$dir"; mkdir -p "$dir/data"
  PORT="$(free_port)"; cport="$(free_port)"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  printf 'rootLogger.level=INFO\nappender.f.type=File\nappender.f.name=F\nappender.f.fileName=%s/server.log\nappender.f.layout.type=PatternLayout\nappender.f.layout.pattern=[%%d] %%p %%m (%%c)%%n\nrootLogger.appenderRef.f.ref=F\n' "$dir" >"$dir/log4j2.properties"
  "$JAVA" -Xmx256M -cp "$libs/*" kafka.tools.StorageTool format -t "$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d =)" \
    -c "$dir/server.properties" >"$dir/format.out" 2>&1 || { cat "$dir/format.out" >&2; return 1; }
  setsid "$JAVA" -Xmx1G -Xms1G -XX:+UseG1GC "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$libs/*" \
    kafka.Kafka "$dir/server.properties" >"$dir/stdout" 2>&1 </dev/null &
  PID=$!
  wait_port "$PORT" 180 || return 1
  local deadline=$((SECONDS + 180))
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.25
  done
}

start_kiri() {
  local bin="$root/jlink/target/kiri/bin/kiri" dir="$OUT/kiri-broker"
  [ -x "$bin" ] || { echo "run-librdkafka-suite: $bin missing (mvn -B -ntp -q package -DskipTests)" >&2; return 1; }
  rm -rf "$dir"; mkdir -p "$dir"
  PORT="$(free_port)"
  setsid "$bin" broker --listener "tcp://127.0.0.1:$PORT" --advertised-listener "tcp://127.0.0.1:$PORT" \
    --storage "${KIRI_SUITE_STORAGE:-memory://}" --default-partitions 4 --group-initial-rebalance-delay-ms 0 \
    >"$dir/stdout" 2>&1 </dev/null &
  PID=$!
  wait_port "$PORT" 180
}

# Some tests (0052, 0077) create topics with $KAFKA_PATH/bin/kafka-topics.sh --bootstrap-server $BROKERS,
# as librdkafka's trivup clusters provide: Kafka 4.1.1's TopicCommand from the same jars, for both brokers.
kafka_path() {
  local dir="$OUT/kafka-path"
  mkdir -p "$dir/bin"
  printf '#!/bin/sh\nexec "%s" -Xmx256M -cp "%s/*" org.apache.kafka.tools.TopicCommand "$@"\n' "$JAVA" "$libs" >"$dir/bin/kafka-topics.sh"
  chmod +x "$dir/bin/kafka-topics.sh"
  echo "$dir"
}

run_set() {  # run_set BROKER
  local b="$1" t rc res
  mkdir -p "$OUT/$b"
  "start_$b" || { echo "run-librdkafka-suite: $b did not start" >&2; stop_broker; return 1; }
  printf 'metadata.broker.list=127.0.0.1:%s\ntest.timeout.multiplier=2\n' "$PORT" >"$OUT/$b/test.conf"
  for t in $TESTS_LIST; do
    kill -0 "$PID" 2>/dev/null || { echo "run-librdkafka-suite: $b died; restarting" >&2; stop_broker; "start_$b" || return 1;
      printf 'metadata.broker.list=127.0.0.1:%s\ntest.timeout.multiplier=2\n' "$PORT" >"$OUT/$b/test.conf"; }
    (cd "$RDK/tests" && LD_LIBRARY_PATH="$RDK/src:$RDK/src-cpp" KAFKA_PATH="$(kafka_path)" BROKERS="127.0.0.1:$PORT" TESTS="$t" TEST_KAFKA_VERSION=4.1.1 RDKAFKA_TEST_CONF="$OUT/$b/test.conf" \
      timeout -k 10 "$TEST_TIMEOUT" ./test-runner -L $QUICK -p1) >"$OUT/$b/$t.log" 2>&1
    rc=$?
    # Summary rows (colours stripped): "| 0001_multiobj    |     PASSED |   1.234s |"
    sed -i 's/\x1b\[[0-9;]*m//g' "$OUT/$b/$t.log"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then res=TIMEOUT
    elif grep -qE "^\| *${t}_[^|]*\| *FAILED" "$OUT/$b/$t.log" || [ "$rc" -ne 0 ]; then res=FAIL
    elif grep -qE "^\| *${t}_[^|]*\| *PASSED" "$OUT/$b/$t.log"; then res=PASS
    else res=SKIP
    fi
    printf '%s\t%s\t%s\n' "$t" "$b" "$res" | tee -a "$OUT/results.tsv"
  done
  stop_broker
}

case "$BROKER" in
  both) run_set kafka; run_set kiri ;;
  kafka|kiri) run_set "$BROKER" ;;
  *) echo "run-librdkafka-suite: --broker takes kafka, kiri or both" >&2; exit 2 ;;
esac
