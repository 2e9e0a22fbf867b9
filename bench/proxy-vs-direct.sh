#!/usr/bin/env bash
# What the Kiri proxy costs a producer: Kafka's own ProducerPerformance (kafka-tools 4.1.1)
# straight to a null-storage Kiri broker ("direct") and through `kiri proxy` to the same broker
# ("proxy"), same run, same machine, alternating, at a fixed 50,000 records/s and unlimited.
# Prints records/s and latency percentiles for each run and the proxy/direct ratios.
#
# Usage: bench/proxy-vs-direct.sh [-n RECORDS] [--rate-records N] [--record-size B] [--acks A]
#                                 [--rounds R] [--keep] [-h]
# Environment: KIRI_JAVA_OPTS (JVM options of broker and proxy, passed to ./kiri; PROXY_JAVA_OPTS
#   overrides them for the proxy alone), PROXY_ARGS (extra `kiri proxy` flags, e.g. --event-loops 1),
#   PERF_HEAP_OPTS (default -Xmx512M), BROKER_PORT (29092), PROXY_PORT (29192; brokers get 29193+).
set -uo pipefail
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench"
libs="$bench/target/proxy-libs"
RECORDS="${RECORDS:-1000000}"        # unlimited-rate runs
RATE_RECORDS="${RATE_RECORDS:-500000}" # 50,000 records/s runs: 10 s each
RATE=50000
RECORD_SIZE="${RECORD_SIZE:-100}"
ACKS="${ACKS:-all}"
ROUNDS="${ROUNDS:-2}"
KEEP=0
BROKER_PORT="${BROKER_PORT:-29092}"
PROXY_PORT="${PROXY_PORT:-29192}"
PERF_HEAP_OPTS="${PERF_HEAP_OPTS:--Xmx512M}"
START_TIMEOUT="${START_TIMEOUT:-300}" # ./kiri may build the reactor first
PERF_TIMEOUT="${PERF_TIMEOUT:-600}"
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--records) RECORDS="${2:?}"; shift 2 ;;
    --rate-records) RATE_RECORDS="${2:?}"; shift 2 ;;
    --record-size) RECORD_SIZE="${2:?}"; shift 2 ;;
    --acks) ACKS="${2:?}"; shift 2 ;;
    --rounds) ROUNDS="${2:?}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "proxy-vs-direct: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in RECORDS RATE_RECORDS RECORD_SIZE ROUNDS; do
  case "${!v}" in ''|*[!0-9]*|0) echo "proxy-vs-direct: $v must be a positive integer, got '${!v}'" >&2; exit 2 ;; esac
done
say() { echo "proxy-vs-direct: $*" >&2; }

. "$root/scripts/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

# kafka-tools and its dependencies, resolved once with Maven into bench/target/proxy-libs
if [ ! -f "$libs/.resolved" ] || [ "$bench/proxy/pom.xml" -nt "$libs/.resolved" ]; then
  command -v mvn >/dev/null || { say "Maven (mvn) not found; install Maven 3.8.7+ to resolve kafka-tools"; exit 1; }
  say "resolving org.apache.kafka:kafka-tools:4.1.1 into bench/target/proxy-libs ..."
  mkdir -p "$bench/target"; rm -rf "$libs"
  timeout 600 mvn -B -q -ntp -f "$bench/proxy/pom.xml" dependency:copy-dependencies >"$bench/target/proxy-resolve.log" 2>&1 \
    || { tail -20 "$bench/target/proxy-resolve.log" >&2; say "could not resolve kafka-tools"; exit 1; }
  touch "$libs/.resolved"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kiri-proxy-bench.XXXXXX")" || exit 1
PIDS=()
CHILD=""
stop() {  # TERM the process group (./kiri execs java), wait bounded, then KILL
  local pid="$1" i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
  for p in "${PIDS[@]}"; do stop "$p"; done
  if [ "$KEEP" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() {  # start NAME WAIT_PORT CMD...: new session, output to $tmp/NAME.out, waits for the port
  local name="$1" port="$2" i; shift 2
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is already in use (set BROKER_PORT / PROXY_PORT)"; exit 1
  fi
  setsid "$@" >"$tmp/$name.out" 2>&1 &
  PIDS+=("$!")
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      kill -0 "${PIDS[-1]}" 2>/dev/null && return 0
      cat "$tmp/$name.out" >&2; say "$name exited"; exit 1
    fi
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$tmp/$name.out" >&2; say "$name exited"; exit 1; }
    sleep 0.2
  done
  cat "$tmp/$name.out" >&2; say "$name did not listen on $port within ${START_TIMEOUT}s"; exit 1
}

say "starting kiri broker (null://) on 127.0.0.1:$BROKER_PORT and kiri proxy on 127.0.0.1:$PROXY_PORT"
start broker "$BROKER_PORT" "$root/kiri" broker --listener "tcp://127.0.0.1:$BROKER_PORT" \
  --advertised-listener "tcp://127.0.0.1:$BROKER_PORT" --storage null://
proxy_env=()
[ -n "${PROXY_JAVA_OPTS:-}" ] && proxy_env=(env "KIRI_JAVA_OPTS=$PROXY_JAVA_OPTS")
start proxy "$PROXY_PORT" "${proxy_env[@]}" "$root/kiri" proxy --listener "tcp://127.0.0.1:$PROXY_PORT" \
  --origin "tcp://127.0.0.1:$BROKER_PORT" ${PROXY_ARGS:-}
grep -h 'listening' "$tmp/broker.out" "$tmp/proxy.out" >&2
BROKER_PID="${PIDS[0]}"; PROXY_PID="${PIDS[1]}"
TICKS="$(getconf CLK_TCK)"
cpu_ticks() {  # utime + stime of a process (./kiri execs java, so the pid is the JVM's)
  local s; s="$(cat "/proc/$1/stat")"; s="${s##*) }"
  set -- $s; echo $(( ${12} + ${13} ))
}

# perf LABEL BOOTSTRAP RECORDS THROUGHPUT -> appends
# "label rate records/s p50 p99 p99.9 avg max broker-cpu-ms/100k proxy-cpu-ms/100k" to $tmp/results
perf() {
  local label="$1" servers="$2" n="$3" rate="$4" out line b0 p0 b1 p1
  out="$tmp/perf-$label-$rate-$RANDOM.out"
  b0="$(cpu_ticks "$BROKER_PID")"; p0="$(cpu_ticks "$PROXY_PID")"
  timeout -k 5 "$PERF_TIMEOUT" "$JAVA" $PERF_HEAP_OPTS -cp "$libs/*" org.apache.kafka.tools.ProducerPerformance \
    --topic "bench-$label" --num-records "$n" --record-size "$RECORD_SIZE" --throughput "$rate" \
    --producer-props "bootstrap.servers=$servers" "acks=$ACKS" >"$out" 2>&1 &
  CHILD=$!
  wait "$CHILD"  # in the background, so a trapped signal interrupts the wait at once
  CHILD=""
  b1="$(cpu_ticks "$BROKER_PID")"; p1="$(cpu_ticks "$PROXY_PID")"
  line="$(grep 'records sent' "$out" | tail -1)"
  [ -n "$line" ] || { cat "$out" >&2; say "ProducerPerformance failed ($label)"; exit 1; }
  # "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
  echo "$line" | sed -E 's/^([0-9]+) records sent, ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9.]+) ms 50th, ([0-9.]+) ms 95th, ([0-9.]+) ms 99th, ([0-9.]+) ms 99.9th.*/\2 \6 \8 \9 \4 \5/' \
    | awk -v l="$label" -v r="$rate" -v n="$n" -v t="$TICKS" -v bc="$((b1 - b0))" -v pc="$((p1 - p0))" \
      '{printf "%s %s %s %.0f %.0f\n", l, r, $0, bc * 1000 / t * 100000 / n, pc * 1000 / t * 100000 / n}' >>"$tmp/results"
  say "$label rate=$rate: $line; CPU ms: broker $(( (b1 - b0) * 1000 / TICKS )), proxy $(( (p1 - p0) * 1000 / TICKS ))"
}

direct="127.0.0.1:$BROKER_PORT"
proxied="127.0.0.1:$PROXY_PORT"
say "warm-up (not measured)"
perf warmup-direct "$direct" 200000 -1 && perf warmup-proxy "$proxied" 200000 -1
: >"$tmp/results"
for ((round = 1; round <= ROUNDS; round++)); do
  say "round $round of $ROUNDS"
  perf direct "$direct" "$RATE_RECORDS" "$RATE"
  perf proxy "$proxied" "$RATE_RECORDS" "$RATE"
  perf direct "$direct" "$RECORDS" -1
  perf proxy "$proxied" "$RECORDS" -1
done

echo
echo "ProducerPerformance, $RECORD_SIZE-byte records, acks=$ACKS, $ROUNDS rounds (median of rounds):"
awk -v rate="$RATE" '
  function median(arr, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  { k = $1 "|" $2; n[k]++; rps[k, n[k]] = $3; p50[k, n[k]] = $4; p99[k, n[k]] = $5; p999[k, n[k]] = $6
    bcpu[k, n[k]] = $9; pcpu[k, n[k]] = $10 }
  END {
    printf "%-8s %-10s %12s %9s %9s %10s %18s %17s\n", "path", "throughput", "records/s", "p50 ms", "p99 ms", "p99.9 ms",
      "broker CPU ms/100k", "proxy CPU ms/100k"
    split(rate " -1", rates, " ")
    for (ri = 1; ri <= 2; ri++) {
      r = rates[ri]
      for (pi = 1; pi <= 2; pi++) {
        p = pi == 1 ? "direct" : "proxy"; k = p "|" r; m = n[k]
        for (i = 1; i <= m; i++) { a[i] = rps[k, i]; b[i] = p50[k, i]; c[i] = p99[k, i]; d[i] = p999[k, i]; e[i] = bcpu[k, i]; f[i] = pcpu[k, i] }
        R[p] = median(a, m); P50[p] = median(b, m); P99[p] = median(c, m); P999[p] = median(d, m)
        printf "%-8s %-10s %12.0f %9.1f %9.1f %10.1f %18.0f %17.0f\n", p, (r == -1 ? "unlimited" : r "/s"), R[p], P50[p], P99[p], P999[p], median(e, m), median(f, m)
      }
      printf "proxy/direct at %s: records/s %.1f%%, p99 %+.1f ms\n", (r == -1 ? "unlimited" : r "/s"), 100 * R["proxy"] / R["direct"], P99["proxy"] - P99["direct"]
    }
  }' "$tmp/results"
echo "(each run: see the per-run lines above on stderr)"
