#!/usr/bin/env bash
# Time to a ready in-process broker: Kiri's EmbeddedKiri (kiri-embedded, memory://) against Apache
# Kafka's own in-process test cluster (KafkaClusterTestKit from kafka-test-common-runtime 4.1.1, one
# combined KRaft node), same machine, same run, one JVM per side (never both at once).
#
# Each JVM starts, readies (an Admin client's describeCluster answers) and closes CYCLES brokers in a
# row: the first pays class loading and JIT, the later ones show the steady cost per test. After the
# last start it prints the heap used (after System.gc) with the broker up. A third JVM runs Kiri under
# -Xmx64m and pushes RECORDS 1 KiB records through it with kafka-clients (produce, group consume).
#
# Usage: bench/embedded-startup.sh [CYCLES (default 10)] [RECORDS (default 20000)]
# Needs the reactor built (mvn -pl modules/embedded -am package -DskipTests) and Maven to resolve
# the Kafka jars into bench/target/startup-libs on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
libs="$bench/target/startup-libs"
CYCLES="${1:-10}"
RECORDS="${2:-20000}"
. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

if [ ! -f "$libs/.resolved" ] || [ "$bench/startup/pom.xml" -nt "$libs/.resolved" ]; then
  echo "resolving kafka-test-common-runtime 4.1.1 into bench/target/startup-libs ..." >&2
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -B -q -ntp -f "$bench/startup/pom.xml" dependency:copy-dependencies >"$bench/target/startup-resolve.log" 2>&1 \
    || { tail -20 "$bench/target/startup-resolve.log" >&2; echo "could not resolve the Kafka jars" >&2; exit 1; }
  touch "$libs/.resolved"
fi
embedded_jar="$(ls "$root"/modules/embedded/target/kiri-embedded-*.jar 2>/dev/null | grep -v sources | head -1)"
launcher_jar="$(ls "$root"/modules/launcher/target/kiri-launcher-*.jar 2>/dev/null | head -1)"
[ -n "$embedded_jar" ] && [ -n "$launcher_jar" ] && [ -d "$root/modules/launcher/target/lib" ] || {
  echo "build Kiri first: mvn -pl modules/embedded -am package -DskipTests" >&2; exit 1; }
clients="$(ls "$libs"/kafka-clients-*.jar "$libs"/slf4j-api-*.jar | tr '\n' ':')"
cp_kiri="$embedded_jar:$launcher_jar:$root/modules/launcher/target/lib/*:$clients"
cp_kafka="$libs/*"
opts=(--sun-misc-unsafe-memory-access=allow -XX:+IgnoreUnrecognizedVMOptions)
classes="$bench/target/startup-classes"
rm -rf "$classes"; mkdir -p "$classes"
"$JAVA_HOME/bin/javac" -nowarn -d "$classes" -cp "$cp_kafka:$embedded_jar" "$bench/startup/StartupBench.java"
cp_kiri="$classes:$cp_kiri"
cp_kafka="$classes:$cp_kafka"
src=StartupBench

echo "# $("$JAVA" -version 2>&1 | head -1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# kiri (EmbeddedKiri, memory://), default heap"
"$JAVA" "${opts[@]}" -cp "$cp_kiri" "$src" kiri "$CYCLES"
echo "# kafka (KafkaClusterTestKit, 1 combined KRaft node), default heap"
"$JAVA" "${opts[@]}" -Dlog4j2.level=WARN -cp "$cp_kafka" "$src" kafka "$CYCLES" 2> >(grep -v "^SLF4J\|WARN\|^\s*at " >&2 || true)
echo "# kiri under -Xmx64m, with a $RECORDS-record produce + group consume round trip"
"$JAVA" "${opts[@]}" -Xmx64m -cp "$cp_kiri" "$src" kiri 3 "$RECORDS"
