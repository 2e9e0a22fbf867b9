#!/usr/bin/env bash
# Installs a current librdkafka for kiri.launcher.RdkafkaTest: @confluentinc/kafka-javascript (npm),
# whose librdkafka is compiled here from the sources in its npm tarball (several minutes on 2 cores).
# Idempotent: does nothing when node_modules already matches package-lock.json.
#
# Nothing is downloaded outside the npm registry: --build-from-source skips node-pre-gyp's prebuilt
# binary (GitHub), and CKJS_LINKING=dynamic makes librdkafka's configure use the system's libraries
# instead of fetching OpenSSL/zlib/zstd sources (which the package's static build does).
# Build deps (Debian): nodejs npm make g++ python3 libssl-dev zlib1g-dev; optional: libzstd-dev
# libsasl2-dev (librdkafka builds without them). Node's headers come from nodejs's /usr/include/node
# (npm's nodedir); set npm_config_nodedir if your node lives elsewhere.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../.." && pwd)/modules/launcher/src/test/rdkafka"
stamp="$dir/node_modules/.kiri-setup-lock"
addon="$dir/node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node"
if [ -f "$addon" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
  exit 0
fi
for tool in node npm make g++ python3; do
  command -v "$tool" >/dev/null || { echo "setup-rdkafka: $tool not found; install: apt-get install nodejs npm make g++ python3 libssl-dev zlib1g-dev" >&2; exit 1; }
done
echo "setup-rdkafka: building @confluentinc/kafka-javascript (librdkafka from source) in $dir; this takes minutes" >&2
rm -rf "$dir/node_modules"
CKJS_LINKING=dynamic npm ci --prefix "$dir" --build-from-source --no-audit --no-fund --loglevel=error
[ -f "$addon" ] || { echo "setup-rdkafka: the build finished without $addon" >&2; exit 1; }
cp "$dir/package-lock.json" "$stamp"
