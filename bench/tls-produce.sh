#!/usr/bin/env bash
# Kiri over TLS vs PLAINTEXT: one `kiri broker --config` (jlink image) with a PLAINTEXT and an SSL listener
# (certificate made by keytool), Kafka's ProducerPerformance (kafka-tools 4.1.1 from ~/.m2) against each in turn:
# records/s and broker CPU seconds per million records. Usage: bench/tls-produce.sh [RECORDS] [RECORD_SIZE]
# Needs jlink/target/kiri (./test.sh or mvn verify builds it) and kafka-tools 4.1.1 in ~/.m2.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/find-jdk.sh"
RECORDS="${1:-300000}"; SIZE="${2:-1024}"
R=~/.m2/repository
CP=$(ls $R/org/apache/kafka/kafka-tools/4.1.1/kafka-tools-4.1.1.jar $R/org/apache/kafka/kafka-clients/4.1.1/kafka-clients-4.1.1.jar \
  $R/org/apache/kafka/kafka-tools-api/4.1.1/kafka-tools-api-4.1.1.jar $R/org/apache/kafka/kafka-server-common/4.1.1/kafka-server-common-4.1.1.jar \
  $R/net/sourceforge/argparse4j/argparse4j/*/*.jar $R/org/slf4j/slf4j-api/*/*.jar $R/com/fasterxml/jackson/core/jackson-*/2.*/jackson-*.jar \
  $R/org/lz4/lz4-java/*/*.jar $R/org/xerial/snappy/snappy-java/*/*.jar $R/com/github/luben/zstd-jni/*/*.jar | grep -v sources | tr '\n' ':')
dir=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$JAVA_HOME/bin/keytool" -genkeypair -alias kiri -keyalg EC -groupname secp256r1 -dname CN=localhost -ext SAN=ip:127.0.0.1 \
  -validity 2 -storetype PKCS12 -keystore "$dir/server.p12" -storepass secret -keypass secret >/dev/null 2>&1
"$JAVA_HOME/bin/keytool" -exportcert -rfc -alias kiri -keystore "$dir/server.p12" -storepass secret -file "$dir/server.pem" >/dev/null 2>&1
"$JAVA_HOME/bin/keytool" -importcert -noprompt -alias kiri -file "$dir/server.pem" -storetype PKCS12 -keystore "$dir/trust.p12" -storepass secret >/dev/null 2>&1
cat > "$dir/server.properties" <<PROPS
listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0
log.dirs=$dir/unused
ssl.keystore.location=$dir/server.p12
ssl.keystore.password=secret
PROPS
"$root/jlink/target/kiri/bin/kiri" broker --config "$dir/server.properties" --storage null:// > "$dir/broker.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening" "$dir/broker.log" && break; sleep 0.2; done
line=$(head -1 "$dir/broker.log")
plain=$(sed -n 's/.*listening on tcp:\/\/127.0.0.1:\([0-9]*\).*/\1/p' <<<"$line")
ssl=$(sed -n 's/.*SSL:\/\/127.0.0.1:\([0-9]*\) (adv.*/\1/p' <<<"$line")
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
tck=$(getconf CLK_TCK)
run() { # name port extra-props...
  local name=$1 port=$2; shift 2
  local before=$(cpu)
  local out=$("$JAVA_HOME/bin/java" -cp "$CP" org.apache.kafka.tools.ProducerPerformance --topic "bench-$name" \
    --num-records "$RECORDS" --record-size "$SIZE" --throughput -1 \
    --producer-props bootstrap.servers=127.0.0.1:$port acks=1 "$@" 2>&1 | tail -1)
  local after=$(cpu)
  local rps=$(sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p' <<<"$out")
  echo "$name: $rps records/s, broker CPU $(awk -v a=$before -v b=$after -v t=$tck -v n=$RECORDS 'BEGIN{printf "%.2f", (b-a)/t/n*1e6}') s per million records"
}
for i in 1 2; do
  run plaintext "$plain"
  run ssl "$ssl" security.protocol=SSL ssl.truststore.location="$dir/trust.p12" ssl.truststore.password=secret
done
