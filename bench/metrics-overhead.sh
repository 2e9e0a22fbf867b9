#!/usr/bin/env bash
# What --metrics-listener costs under load: bench/produce-vs-kafka.sh --only kiri, alternating runs without
# metrics and with the metrics listener scraped every 5 s (curl in a loop, as Prometheus would), and prints each
# run's producer throughput, broker CPU (s per million records) and RSS (now and peak), then the medians.
#   bench/metrics-overhead.sh [PAIRS=3] [RECORDS=1000000]    (env KIRI_STORAGE_URL as produce-vs-kafka.sh, default null://)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pairs=${1:-3} records=${2:-1000000}
out=$(mktemp -d)
trap 'kill "${scraper:-0}" 2>/dev/null || true; rm -rf "$out"' EXIT
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
image="$root/jlink/target/kiri/bin/kiri"
base='"$root/jlink/target/kiri/bin/kiri" broker --storage "$KIRI_STORAGE" --listener tcp://127.0.0.1:$KIRI_PORT --advertised-listener tcp://127.0.0.1:$KIRI_PORT --group-initial-rebalance-delay-ms 0'
[ -x "$image" ] || { echo "metrics-overhead: no image at $image (mvn -DskipTests package)" >&2; exit 1; }

run() { # run NAME [extra broker args]: one produce-vs-kafka.sh run, JSON to $out/NAME.json
  local name=$1; shift
  local attempt
  for attempt in 1 2 3; do   # a free port taken by another process meanwhile fails a start: try again
    if KIRI_CMD="$base $*" "$root/bench/produce-vs-kafka.sh" --only kiri -n "$records" --json >"$out/$name.json" 2>"$out/$name.err" \
        && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("kiri") else 1)' "$out/$name.json"; then
      return 0
    fi
    echo "  $name failed (attempt $attempt): $(grep -m1 -E 'cannot|error|failed' "$out/$name.err" || tail -1 "$out/$name.err")" >&2
  done
  tail -20 "$out/$name.err" >&2; exit 1
}
for i in $(seq "$pairs"); do
  echo "pair $i: without metrics" >&2
  run "off-$i"
  echo "pair $i: with --metrics-listener, scraped every 5 s" >&2
  (while :; do curl -s -o /dev/null "http://127.0.0.1:$mport/metrics" || true; sleep 5; done) & scraper=$!
  run "on-$i" --metrics-listener "http://127.0.0.1:$mport"
  kill "$scraper"; wait "$scraper" 2>/dev/null || true; scraper=""
done
python3 - "$out" "$pairs" <<'PY'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def kiri(path):
    return json.load(open(path))["kiri"]
rows = {"off": [], "on": []}
print(f"{'run':<8}{'records/s':>12}{'CPU s/M rec':>14}{'RSS MB':>9}{'peak MB':>9}")
for i in range(1, pairs + 1):
    for mode in ("off", "on"):
        k = kiri(f"{out}/{mode}-{i}.json")
        r = (float(k["records_per_sec"]), float(k["broker_cpu_s_per_million"]), float(k["broker_rss_mb"]), float(k["broker_peak_rss_mb"]))
        rows[mode].append(r)
        print(f"{mode + '-' + str(i):<8}{r[0]:>12.0f}{r[1]:>14.2f}{r[2]:>9.0f}{r[3]:>9.0f}")
med = {m: [statistics.median(c) for c in zip(*rows[m])] for m in rows}
for m in ("off", "on"):
    print(f"{'median ' + m:<8}{med[m][0]:>12.0f}{med[m][1]:>14.2f}{med[m][2]:>9.0f}{med[m][3]:>9.0f}")
print(f"with metrics: CPU per record {100 * (med['on'][1] / med['off'][1] - 1):+.1f}%, "
      f"RSS {med['on'][2] - med['off'][2]:+.0f} MB, peak {med['on'][3] - med['off'][3]:+.0f} MB, "
      f"throughput {100 * (med['on'][0] / med['off'][0] - 1):+.1f}%")
PY
