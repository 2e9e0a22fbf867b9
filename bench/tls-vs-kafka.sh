#!/usr/bin/env bash
# Produce over TLS and PLAINTEXT, Apache Kafka 4.1.1 and Kiri in the same run: each broker (one at a time, never
# both: the machines have 2 cores) gets a PLAINTEXT and an SSL listener (EC P-256 certificate made by keytool in
# the run's temp dir, TLS 1.3), and Kafka's ProducerPerformance 4.1.1 (acks=all, unthrottled) produces RECORDS
# records of RECORD_SIZE bytes to each listener in turn, ROUNDS times. Printed: one markdown table row per run,
# records/s, broker CPU seconds (utime+stime from /proc) and producer CPU seconds (/usr/bin/time) per million
# records, and the 1-minute load average when the run ended (the machines are shared: compare rows of one run).
#
# Brokers: Kafka 4.1.1 (KRaft broker+controller, bin/kafka-server-start.sh's JVM options, data in the temp dir);
# Kiri from the jlink image with its default JVM options (bin/kiri picks C2 for a broker with a TLS listener, as
# here) and with KIRI_C1_OPTS (the image's options with C1 only, as bin/kiri runs a plaintext broker), storage
# KIRI_STORAGE (default file:<temp dir>/kiri-data?fsync=never, which like Kafka's default leaves flushing to the OS).
#
# Usage: bench/tls-vs-kafka.sh [RECORDS (default 300000)] [RECORD_SIZE (default 1024)]
# Env: ROUNDS (default 2), ONLY (kafka|kiri|kiri-c1: one broker), KIRI_C1_OPTS, KIRI_STORAGE, START_TIMEOUT (s),
# KIRI_IMAGE (default jlink/target/kiri).
# Needs jlink/target/kiri (./test.sh or `mvn -pl jlink -am verify -DskipTests` builds it) and the Kafka jars in
# bench/target/kafka-libs (`mvn -f bench/kafka/pom.xml dependency:copy-dependencies`, or bench/produce-vs-kafka.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"
RECORDS="${1:-300000}"; SIZE="${2:-1024}"; ROUNDS="${ROUNDS:-2}"; ONLY="${ONLY:-}"
START_TIMEOUT="${START_TIMEOUT:-180}"
KIRI_C1_OPTS="${KIRI_C1_OPTS:--XX:+UseSerialGC -Xms8m -Xmx1g -XX:MaxDirectMemorySize=1g -XX:TieredStopAtLevel=1 -XX:+UseCompactObjectHeaders -Xss512k}"
libs="$root/bench/target/kafka-libs"
image="${KIRI_IMAGE:-$root/jlink/target/kiri}/bin/kiri"
[ -d "$libs" ] || { echo "tls-vs-kafka: no $libs: run mvn -f bench/kafka/pom.xml dependency:copy-dependencies" >&2; exit 1; }
[ -x "$image" ] || { echo "tls-vs-kafka: no $image: build the image (mvn -pl jlink -am verify -DskipTests)" >&2; exit 1; }
cp_kafka="$libs/*"

dir="$(mktemp -d "${TMPDIR:-/tmp}/kiri-tls-bench.XXXXXX")"
pid=""
stop() {
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap 'stop; rm -rf "$dir"' EXIT
KIRI_STORAGE="${KIRI_STORAGE:-file:$dir/kiri-data?fsync=never}"

kt() { "$JAVA_HOME/bin/keytool" "$@" >/dev/null 2>&1; }
kt -genkeypair -alias broker -keyalg EC -groupname secp256r1 -dname CN=localhost -ext SAN=dns:localhost,ip:127.0.0.1 \
  -validity 2 -storetype PKCS12 -keystore "$dir/server.p12" -storepass secret -keypass secret
kt -exportcert -rfc -alias broker -keystore "$dir/server.p12" -storepass secret -file "$dir/server.pem"
kt -importcert -noprompt -alias broker -file "$dir/server.pem" -storetype PKCS12 -keystore "$dir/trust.p12" -storepass secret

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); port_open "$p" || { echo "$p"; return; }; done; }
wait_port() { # PORT: until the broker listens there (it must stay alive)
  for _ in $(seq $((START_TIMEOUT * 5))); do
    port_open "$1" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "tls-vs-kafka: the broker exited; its log:" >&2; tail -20 "$dir/broker.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "tls-vs-kafka: nothing listening on $1 after ${START_TIMEOUT}s" >&2; exit 1
}
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK)

produce() { # BROKER-LABEL PROTOCOL PORT TOPIC extra-producer-props...
  local label=$1 protocol=$2 port=$3 topic=$4; shift 4
  local before out after rps client
  before=$(cpu)
  out=$(/usr/bin/time -f '%U %S' -o "$dir/client.time" timeout 1800 "$JAVA" -Xmx512M -cp "$cp_kafka" org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$RECORDS" --record-size "$SIZE" --throughput -1 \
    --producer-props bootstrap.servers=127.0.0.1:"$port" acks=all "$@" 2>&1 | tail -1)
  after=$(cpu)
  rps=$(sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p' <<<"$out")
  [ -n "$rps" ] || { echo "tls-vs-kafka: ProducerPerformance failed: $out" >&2; exit 1; }
  client=$(awk -v n="$RECORDS" 'END{printf "%.2f", ($1+$2)/n*1e6}' "$dir/client.time")
  printf '| %s | %s | %.0f | %s | %s | %s |\n' "$label" "$protocol" "$rps" \
    "$(awk -v a="$before" -v b="$after" -v t="$tck" -v n="$RECORDS" 'BEGIN{printf "%.2f", (b-a)/t/n*1e6}')" \
    "$client" "$(cut -d' ' -f1 /proc/loadavg)"
}

peaks=""
measure() { # LABEL PLAINTEXT-PORT SSL-PORT
  local r
  for r in $(seq "$ROUNDS"); do
    produce "$1 (round $r)" PLAINTEXT "$2" "plain-$r"
    produce "$1 (round $r)" SSL "$3" "ssl-$r" security.protocol=SSL ssl.truststore.location="$dir/trust.p12" \
      ssl.truststore.password=secret
  done
  peaks="$peaks$1: broker peak RSS $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status")
"
}

run_kafka() {
  local plain ssl ctl cid k="$dir/kafka"
  plain=$(free_port); ssl=$(free_port); ctl=$(free_port)
  mkdir -p "$k/data" "$k/logs"
  cat > "$k/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl
listeners=PLAINTEXT://127.0.0.1:$plain,SSL://127.0.0.1:$ssl,CONTROLLER://127.0.0.1:$ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$plain,SSL://127.0.0.1:$ssl
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL
ssl.keystore.location=$dir/server.p12
ssl.keystore.password=secret
ssl.key.password=secret
num.network.threads=3
num.io.threads=8
log.dirs=$k/data
num.partitions=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  printf 'status = warn\nrootLogger.level = WARN\nappender.c.type = Console\nappender.c.name = C\nappender.c.layout.type = PatternLayout\nappender.c.layout.pattern = [%%d] %%p %%m (%%c)%%n\nrootLogger.appenderRef.c.ref = C\n' > "$k/log4j2.properties"
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  timeout 120 "$JAVA" -Xmx256M -Dlog4j2.configurationFile="$k/log4j2.properties" -cp "$cp_kafka" kafka.tools.StorageTool \
    format -t "$cid" -c "$k/server.properties" > "$k/format.out" 2>&1 || { cat "$k/format.out" >&2; exit 1; }
  # bin/kafka-server-start.sh's JVM options
  "$JAVA" -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Dlog4j2.configurationFile="$k/log4j2.properties" \
    -cp "$cp_kafka" kafka.Kafka "$k/server.properties" > "$dir/broker.log" 2>&1 &
  pid=$!
  wait_port "$plain"; wait_port "$ssl"
  sleep 2 # the socket opens a little before the broker has caught up with its own metadata
  measure "Kafka 4.1.1" "$plain" "$ssl"
  stop
}

run_kiri() { # LABEL KIRI_JAVA_OPTS-or-empty
  local plain ssl
  plain=$(free_port); ssl=$(free_port)
  rm -rf "$dir/kiri-data"
  cat > "$dir/kiri.properties" <<EOF
listeners=PLAINTEXT://127.0.0.1:$plain,SSL://127.0.0.1:$ssl
ssl.keystore.location=$dir/server.p12
ssl.keystore.password=secret
group.initial.rebalance.delay.ms=0
EOF
  if [ -n "$2" ]; then
    KIRI_JAVA_OPTS="$2" "$image" broker --config "$dir/kiri.properties" --storage "$KIRI_STORAGE" > "$dir/broker.log" 2>&1 &
  else
    "$image" broker --config "$dir/kiri.properties" --storage "$KIRI_STORAGE" > "$dir/broker.log" 2>&1 &
  fi
  pid=$!
  wait_port "$plain"; wait_port "$ssl"
  measure "$1" "$plain" "$ssl"
  stop
}

echo "| broker | listener | records/s | broker CPU s per million records | producer CPU s per million records | load |"
echo "|---|---|---|---|---|---|"
case "$ONLY" in ''|kafka) run_kafka ;; esac
case "$ONLY" in ''|kiri) run_kiri "Kiri, bin/kiri default (C2: a TLS listener)" "" ;; esac
case "$ONLY" in ''|kiri-c1) run_kiri "Kiri, C1 only" "$KIRI_C1_OPTS" ;; esac
printf '\n%s' "$peaks"
