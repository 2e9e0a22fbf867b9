#!/usr/bin/env bash
# RSS of a broker (memory:// storage, from a runtime image) during and after an attack of large request frames:
# CONNECTIONS parallel connections each sending FRAMES frames of 100 MiB - 1 (just under socket.request.max.bytes;
# their header is not a served request, so each is read whole, then its connection closed, and the client
# reconnects for the next). Prints the idle RSS, the peak during the attack and the RSS 10 s after it.
#   bench/large-frames.sh [CONNECTIONS=4] [FRAMES=3]
# KIRI_IMAGE picks the image (default jlink/target/kiri): run once with main's image and once with this one.
# KIRI_JAVA_OPTS is passed through to bin/kiri (it replaces the image's JVM options).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
connections=${1:-4} frames=${2:-3}
image=${KIRI_IMAGE:-$root/jlink/target/kiri}
[ -x "$image/bin/kiri" ] || { echo "large-frames: no image at $image" >&2; exit 1; }
rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

coproc BROKER { exec "$image/bin/kiri" broker --listener tcp://127.0.0.1:0 --storage memory:// 2>/dev/null; }
IFS= read -r -t 60 line <&"${BROKER[0]}" || { echo "large-frames: broker did not start" >&2; exit 1; }
port=$(sed -n 's/^kiri broker listening on tcp:\/\/[^:]*:\([0-9]*\).*/\1/p' <<<"$line")
pid=$BROKER_PID
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
sleep 2
echo "image: $image"
echo "idle RSS:            $(rss_mb "$pid") MB"

python3 - "$port" "$connections" "$frames" <<'PY' &
import socket, struct, sys, threading
port, conns, frames = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
size = (100 << 20) - 1
chunk = b"\0" * (1 << 20)
def attack():
    for _ in range(frames):
        s = socket.create_connection(("127.0.0.1", port))
        try:
            s.sendall(struct.pack(">i", size))
            left = size
            while left > 0:
                n = min(left, len(chunk))
                s.sendall(chunk[:n])
                left -= n
            s.settimeout(120)
            try:
                s.recv(1)  # the broker closes the connection once it has read the frame
            except OSError:
                pass
        except OSError:
            pass
        finally:
            s.close()
threads = [threading.Thread(target=attack) for _ in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
PY
attacker=$!
peak=0
while kill -0 "$attacker" 2>/dev/null; do
  r=$(rss_mb "$pid"); [ "$r" -gt "$peak" ] && peak=$r
  sleep 0.1
done
wait "$attacker"
echo "peak RSS (attack):   $peak MB   ($connections connections x $frames frames of 100 MiB)"
sleep 10
echo "RSS 10 s after:      $(rss_mb "$pid") MB"
