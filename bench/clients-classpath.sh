# Sourced by bench scripts that run a single-file kafka-clients program: sets $clients and $slf4j to the
# kafka-clients (the reactor's kafka.version) and slf4j-api jars in the local Maven repository, fetching them
# if missing. Needs $root (the repository root).
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/pom.xml")
repo=${MAVEN_REPO:-$HOME/.m2/repository}
clients="$repo/org/apache/kafka/kafka-clients/$kafka_version/kafka-clients-$kafka_version.jar"
slf4j="$repo/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar"
if [ ! -f "$clients" ] || [ ! -f "$slf4j" ]; then
  mvn -B -q -ntp org.apache.maven.plugins:maven-dependency-plugin:3.9.0:get -Dartifact="org.apache.kafka:kafka-clients:$kafka_version" >/dev/null
  mvn -B -q -ntp org.apache.maven.plugins:maven-dependency-plugin:3.9.0:get -Dartifact=org.slf4j:slf4j-api:1.7.36 >/dev/null
fi
