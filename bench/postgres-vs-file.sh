#!/usr/bin/env bash
# postgres:// beside file: and Apache Kafka, same machine, same run, same client (Kafka's
# ProducerPerformance 4.1.1, RECORD_SIZE-byte records, acks=all, unthrottled, a PARTITIONS-partition topic).
#
#   1. Apache Kafka and Kiri on file: (fsync always): bench/produce-vs-kafka.sh --storage file --json.
#   2. A private PostgreSQL (Debian's postgresql, initdb in the temp dir, loopback, a free port,
#      fsync=on, synchronous_commit=on; as the `postgres` user when run as root), then for 1 and for
#      3 Kiri brokers on postgres:// (the plugin folder given with --plugins, a fresh database each):
#      create the topic, wait until every partition has a leader (all brokers leading), sample broker
#      CPU, PostgreSQL CPU (utime+stime of the postmaster and its children, reaped ones included) and
#      pg_current_wal_lsn(), run ProducerPerformance against all brokers, sample again.
#   3. Print records/s, broker CPU s per million records, PostgreSQL CPU s and WAL bytes per million
#      records, broker RSS idle (before the run) and after it; the image's size with and without the plugin.
#
# Usage: bench/postgres-vs-file.sh [-n RECORDS] [--brokers "1 3"] [--skip-file-kafka] [--keep] [-h]
# Environment: RECORDS (500000), RECORD_SIZE (1024), PARTITIONS (6), PERF_TIMEOUT (1800 s),
#   KIRI (the image's bin/kiri; ./kiri builds it first when stale), PLUGIN (modules/storage-postgres/target/plugin), PG_SETTINGS (extra -c settings).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECORDS="${RECORDS:-500000}"
RECORD_SIZE="${RECORD_SIZE:-1024}"
PARTITIONS="${PARTITIONS:-6}"
PERF_TIMEOUT="${PERF_TIMEOUT:-1800}"
KIRI="${KIRI:-$root/jlink/target/kiri/bin/kiri}"
PLUGIN="${PLUGIN:-$root/modules/storage-postgres/target/plugin}"
PG_SETTINGS="${PG_SETTINGS:-}"
BROKER_COUNTS="1 3"
FILE_KAFKA=1
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--records) RECORDS="${2:?--records needs a value}"; shift 2 ;;
    --brokers) BROKER_COUNTS="${2:?--brokers needs a list such as \"1 3\"}"; shift 2 ;;
    --skip-file-kafka) FILE_KAFKA=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "postgres-vs-file: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$RECORDS" in ''|*[!0-9]*|0) echo "postgres-vs-file: --records must be a positive integer, got '$RECORDS'" >&2; exit 2 ;; esac
for n in $BROKER_COUNTS; do
  case "$n" in ''|*[!0-9]*|0) echo "postgres-vs-file: --brokers takes positive integers, got '$n'" >&2; exit 2 ;; esac
done

say() { echo "postgres-vs-file: $*" >&2; }
. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"
libs="$root/bench/target/kafka-libs"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || { say "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"; exit 1; }
[ -d "$PLUGIN" ] || { say "no plugin folder $PLUGIN: mvn -B -ntp -pl modules/storage-postgres -am package -DskipTests"; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kiri-pgbench.XXXXXX")" || exit 1
PIDS=()
PG_PID=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do timeout 30 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null; done
  [ -n "$PG_PID" ] && kill -INT "$PG_PID" 2>/dev/null && timeout 60 tail --pid="$PG_PID" -f /dev/null
  if [ "$KEEP" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# ticks PID: utime+stime (+cutime+cstime with "all": children already reaped) from /proc/PID/stat
ticks() { awk -v all="${2:-}" '{ sub(/.*\) /, ""); t = $12 + $13; if (all) t += $14 + $15; print t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
pg_ticks() {  # the postmaster (with its reaped children) and its live children
  local sum p
  sum="$(ticks "$PG_PID" all)"
  for p in $(ps -o pid= --ppid "$PG_PID"); do sum=$((sum + $(ticks "$p"))); done
  echo "$sum"
}
psql_() { PGPASSWORD=kiri-bench "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U kiri -d postgres -Atqc "$1"; }
CLK_TCK="$(getconf CLK_TCK)"
secs() { awk -v t="$1" -v k="$CLK_TCK" 'BEGIN { printf "%.1f", t / k }'; }
per_million() { awk -v v="$1" -v n="$RECORDS" 'BEGIN { printf "%.2f", v * 1000000 / n }'; }
tool() { timeout 120 "$JAVA" -Xmx256M -cp "$libs/*" "org.apache.kafka.tools.$1" "${@:2}"; }

"$root/kiri" --version >/dev/null || { say "./kiri could not build the image"; exit 1; }  # builds it when stale, once
# both halves run the image directly, so a source edit during the run does not rebuild it in between
export KIRI_CMD="\"$KIRI\" broker --storage \"\$KIRI_STORAGE\" --listener tcp://127.0.0.1:\$KIRI_PORT --advertised-listener tcp://127.0.0.1:\$KIRI_PORT --group-initial-rebalance-delay-ms 0"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
say "$(nproc) cores, load average $load_start; $RECORDS records x $RECORD_SIZE B, acks=all, $PARTITIONS partitions"

# ---------------------------------------------------------------- 1. Kafka and file:
if [ "$FILE_KAFKA" = 1 ]; then
  say "Apache Kafka and Kiri file: (bench/produce-vs-kafka.sh --storage file --json) ..."
  PARTITIONS="$PARTITIONS" RECORD_SIZE="$RECORD_SIZE" "$root/bench/produce-vs-kafka.sh" -n "$RECORDS" --storage file --json \
    >"$tmp/file-kafka.json" 2>"$tmp/file-kafka.err" || { tail -20 "$tmp/file-kafka.err" >&2; say "produce-vs-kafka.sh failed"; }
fi
[ -d "$libs" ] || { say "no $libs (the Kafka jars): run bench/produce-vs-kafka.sh once"; exit 1; }

# ---------------------------------------------------------------- 2. PostgreSQL
PG_PORT="$(free_port)"
pgdir="$tmp/pg"
mkdir -p "$pgdir"
echo kiri-bench >"$tmp/pwfile"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$pgdir" "$tmp/pwfile"; chmod 755 "$tmp"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$PGBIN/initdb" -D "$pgdir/data" -U kiri --pwfile="$tmp/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
pg_args=(-D "$pgdir/data" -k "$pgdir" -p "$PG_PORT" -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on
  -c max_connections=200)
for s in $PG_SETTINGS; do pg_args+=(-c "$s"); done
"${as_pg[@]}" "$PGBIN/postgres" "${pg_args[@]}" >"$tmp/postgres.log" 2>&1 &
PG_PID=$!
for ((i = 0; i < 240; i++)); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.5; done
"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { tail "$tmp/postgres.log" >&2; say "PostgreSQL did not start"; exit 1; }
PG_PID="$(head -1 "$pgdir/data/postmaster.pid")"   # the postmaster itself, not runuser
say "PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$PG_PORT (pid $PG_PID), $(psql_ 'show synchronous_commit') synchronous_commit, fsync $(psql_ 'show fsync')"

declare -A R
run_pg() {  # run_pg N: N brokers on a fresh database
  local n="$1" db="kiri_b$1" i port pids=() ports=() boot="" c0 p0 w0 c1 p1 w1 line
  psql_ "CREATE DATABASE $db" || return 1
  for ((i = 1; i <= n; i++)); do
    port="$(free_port)"
    PGPASSWORD=kiri-bench "$KIRI" broker --plugins "$PLUGIN" --storage "postgres://kiri@127.0.0.1:$PG_PORT/$db" --node-id "$i" \
      --listener "tcp://127.0.0.1:$port" --advertised-listener "tcp://127.0.0.1:$port" --group-initial-rebalance-delay-ms 0 \
      >"$tmp/pg$n-broker$i.out" 2>&1 &
    pids+=($!); PIDS+=($!); ports+=("$port"); boot="${boot:+$boot,}127.0.0.1:$port"
    for ((t = 0; t < 600; t++)); do grep -qs 'listening' "$tmp/pg$n-broker$i.out" && break; kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.5; done
    grep -q 'listening' "$tmp/pg$n-broker$i.out" || { cat "$tmp/pg$n-broker$i.out" >&2; say "broker $i did not start"; return 1; }
  done
  tool TopicCommand --bootstrap-server "$boot" --create --topic bench --partitions "$PARTITIONS" --replication-factor 1 >"$tmp/pg$n-topic.out" 2>&1
  for ((t = 0; t < 120; t++)); do  # every partition led, by as many brokers as there are (leases settle)
    leaders="$(tool TopicCommand --bootstrap-server "$boot" --describe --topic bench 2>/dev/null | grep -o 'Leader: [0-9]*' | sort -u | wc -l)"
    [ "$leaders" -ge "$n" ] && [ "$(tool TopicCommand --bootstrap-server "$boot" --describe --topic bench 2>/dev/null | grep -c 'Leader: [0-9]')" = "$PARTITIONS" ] && break
    sleep 1
  done
  local idle=""; for p in "${pids[@]}"; do idle+="$(rss_mb "$p") "; done
  c0=0; for p in "${pids[@]}"; do c0=$((c0 + $(ticks "$p"))); done
  p0="$(pg_ticks)"; w0="$(psql_ 'select pg_current_wal_lsn()')"
  say "postgres:// x$n: ProducerPerformance $RECORDS records against $boot ..."
  timeout "$PERF_TIMEOUT" "$JAVA" -Xmx512M -cp "$libs/*" org.apache.kafka.tools.ProducerPerformance --topic bench \
    --num-records "$RECORDS" --record-size "$RECORD_SIZE" --throughput -1 --producer-props "bootstrap.servers=$boot" acks=all \
    >"$tmp/pg$n-perf.out" 2>"$tmp/pg$n-perf.err" || { tail "$tmp/pg$n-perf.err" >&2; say "ProducerPerformance failed"; return 1; }
  c1=0; for p in "${pids[@]}"; do c1=$((c1 + $(ticks "$p"))); done
  p1="$(pg_ticks)"; w1="$(psql_ 'select pg_current_wal_lsn()')"
  local after=""; for p in "${pids[@]}"; do after+="$(rss_mb "$p") "; done
  line="$(grep 'records sent' "$tmp/pg$n-perf.out" | tail -1)"
  R[$n,rps]="$(sed -n 's/.* \([0-9.]*\) records\/sec.*/\1/p' <<<"$line")"
  R[$n,p99]="$(sed -n 's/.* \([0-9.]*\) ms 99th.*/\1/p' <<<"$line")"
  R[$n,cpum]="$(per_million "$(secs $((c1 - c0)))")"
  R[$n,pgcpum]="$(per_million "$(secs $((p1 - p0)))")"
  R[$n,walm]="$(per_million "$(psql_ "select pg_wal_lsn_diff('$w1', '$w0')")" | awk '{ printf "%.0f", $1 / 1048576 }')"
  R[$n,idle]="$idle"; R[$n,after]="$after"
  say "postgres:// x$n: $line"
  say "postgres:// x$n: broker CPU ${R[$n,cpum]} s/M records, PostgreSQL CPU ${R[$n,pgcpum]} s/M, WAL ${R[$n,walm]} MiB/M; RSS idle $idle MB, after $after MB"
  for p in "${pids[@]}"; do kill -TERM "$p"; done
  for p in "${pids[@]}"; do timeout 30 tail --pid="$p" -f /dev/null || kill -KILL "$p"; done
}
for n in $BROKER_COUNTS; do run_pg "$n" || say "postgres:// x$n failed"; done

# idle RSS of a file: broker, started the same way
port="$(free_port)"
"$KIRI" broker --storage "file:$tmp/idle-data" --listener "tcp://127.0.0.1:$port" >"$tmp/file-idle.out" 2>&1 &
fpid=$!; PIDS+=("$fpid")
for ((t = 0; t < 600; t++)); do grep -qs listening "$tmp/file-idle.out" && break; sleep 0.5; done
file_idle="$(rss_mb "$fpid")"
kill -TERM "$fpid"

# ---------------------------------------------------------------- 3. report
image="$root/jlink/target/kiri"
echo
echo "ProducerPerformance 4.1.1, $RECORDS records x $RECORD_SIZE B, acks=all, --throughput -1, $PARTITIONS partitions, loopback"
echo "Machine: $(nproc) cores, load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %11s %9s %14s %13s %13s %14s\n' broker records/s p99_ms cpu_s/Mrec pg_cpu_s/Mrec WAL_MiB/Mrec RSS_MB_after
if [ -s "$tmp/file-kafka.json" ]; then
  for b in kafka kiri; do
    python3 - "$tmp/file-kafka.json" "$b" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))[sys.argv[2]]
name = {"kafka": "kafka", "kiri": "kiri file:"}[sys.argv[2]]
if d: print(f"{name:<16} {d['records_per_sec']:>11} {d['latency_p99_ms']:>9} {d['broker_cpu_s_per_million']:>14} {'-':>13} {'-':>13} {d['broker_rss_mb']:>14}")
EOF
  done
fi
for n in $BROKER_COUNTS; do
  [ -n "${R[$n,rps]:-}" ] && printf '%-16s %11s %9s %14s %13s %13s %14s\n' "kiri pg x$n" "${R[$n,rps]}" "${R[$n,p99]}" \
    "${R[$n,cpum]}" "${R[$n,pgcpum]}" "${R[$n,walm]}" "${R[$n,after]}"
done
echo "idle RSS: file: ${file_idle} MB; postgres:// $(for n in $BROKER_COUNTS; do printf 'x%s [%s] ' "$n" "${R[$n,idle]:-}"; done)MB"
if [ -d "$image" ]; then
  echo "image: $(du -sm "$image" | cut -f1) MB ($image, java.sql included); plugin folder: $(du -sm "$PLUGIN" | cut -f1) MB ($(ls "$PLUGIN" | tr '\n' ' '))"
fi
