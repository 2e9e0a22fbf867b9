#!/usr/bin/env bash
# Runs Kiri's whole test suite: prepares what the real-client tests need (scripts/setup-tests.sh:
# kcat, Node.js and the npm clients, ...; quick when already done), builds every module with JDK 25
# and runs unit, differential and real-client tests. Extra arguments go to Maven
# (e.g. ./test.sh -pl modules/protocol -am).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/find-jdk.sh
command -v mvn >/dev/null || { echo "kiri: Maven (mvn) not found; install Apache Maven 3.8.7 or newer" >&2; exit 1; }
[ "${KIRI_SKIP_SETUP:-0}" = 1 ] || scripts/setup-tests.sh
exec mvn -B -ntp verify "$@"
