#!/usr/bin/env bash
# Handing out the mirror: `ontofetch serve` streaming a stored artifact against nginx
# (Debian's nginx-light, sendfile on) serving the same bytes, both fetched by curl, taking
# turns in each round. Then the exporter: scraping /metrics with over 10,000 series.
# Usage: bench/serve.sh [SIZE_MB=500] [RUNS=9] [ONTOLOGIES=1250]
set -euo pipefail
SIZE_MB=${1:-500}
RUNS=${2:-9}
ONTOLOGIES=${3:-1250}
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v nginx >/dev/null || { echo "bench/serve.sh needs nginx: apt-get install nginx-light" >&2; exit 2; }
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL [LOG]
  for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "nothing at $1" >&2; [ -n "${2:-}" ] && tail -5 "$2" >&2; exit 1
}

mkdir -p "$WORK/srv"
python3 bench/gen/text.py "$WORK/srv/big.dat" "$SIZE_MB"
chmod -R a+rX "$WORK"
NGINX_PORT=$(free_port)
start_nginx "$WORK/srv" "$NGINX_PORT"
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/"

# The mirror: the same file pulled into a data root, then served.
printf 'ontologies:\n  - id: big\n    resolver: direct\n    extras: {url: "http://127.0.0.1:%s/big.dat", opaque: true}\n' "$NGINX_PORT" >"$WORK/spec.yaml"
"$BIN" --data-root "$WORK/root" --spec "$WORK/spec.yaml" --allowed-hosts "127.0.0.1:$NGINX_PORT" pull --no-lock >/dev/null
SERVE_PORT=$(free_port)
"$BIN" --data-root "$WORK/root" --spec "$WORK/spec.yaml" --allowed-hosts "127.0.0.1:$NGINX_PORT" serve --listen "127.0.0.1:$SERVE_PORT" 2>"$WORK/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$SERVE_PORT/healthz" "$WORK/serve.log"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/big.dat"
SERVE_URL="http://127.0.0.1:$SERVE_PORT/ontologies/big/latest/original/big.dat"
cmp <(curl -sf "$NGINX_URL") <(curl -sf "$SERVE_URL") || { echo "serve and nginx disagree" >&2; exit 1; }
export NGINX_URL SERVE_URL
race nginx 'curl -sf -o /dev/null "$NGINX_URL"' serve 'curl -sf -o /dev/null "$SERVE_URL"'

# The exporter: a configuration of many ontologies makes over 10,000 series.
python3 - "$WORK/many.yaml" "$ONTOLOGIES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("ontologies:\n")
    for i in range(n):
        f.write(f"  - id: onto{i:05d}\n")
PY
METRICS_PORT=$(free_port)
"$BIN" --data-root "$WORK/metrics-root" --spec "$WORK/many.yaml" serve --listen "127.0.0.1:$METRICS_PORT" 2>"$WORK/metrics.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$METRICS_PORT/healthz" "$WORK/metrics.log"
METRICS_URL="http://127.0.0.1:$METRICS_PORT/metrics"
curl -sf "$METRICS_URL" >"$WORK/srv/metrics.txt"
SERIES=$(grep -vc '^#' "$WORK/srv/metrics.txt")
KIB=$(( $(stat -c %s "$WORK/srv/metrics.txt") / 1024 ))
scrape() { # URL [ACCEPT] -> median and p95 milliseconds of 200 scrapes
  for _ in $(seq 200); do curl -sf -o /dev/null -H "Accept: ${2:-*/*}" -w '%{time_total}\n' "$1"; done |
    sort -n | awk '{a[NR]=$1*1000} END {printf "%.2f %.2f\n", a[int(NR/2)], a[int(NR*0.95)]}'
}
read -r SERVE_MED SERVE_P95 < <(scrape "$METRICS_URL")
read -r OM_MED OM_P95 < <(scrape "$METRICS_URL" "application/openmetrics-text; version=1.0.0")
read -r NGINX_MED NGINX_P95 < <(scrape "http://127.0.0.1:$NGINX_PORT/metrics.txt")

echo
machine
printf '%s MiB artifact, curl as the client, median of %s rounds (nginx and serve take turns)\n\n' "$SIZE_MB" "$RUNS"
printf '| server | seconds | MiB/s | throughput vs nginx |\n|---|---:|---:|---:|\n'
printf '| nginx (sendfile) | %s | %s | 1.00 |\n' "$(t nginx)" "$(echo "scale=0; $SIZE_MB / $(t nginx)" | bc -l)"
printf '| ontofetch serve (catalog lookup, gates, streamed from the store) | %s | %s | %s |\n' \
  "$(t serve)" "$(echo "scale=0; $SIZE_MB / $(t serve)" | bc -l)" "$(ratio nginx serve)"
printf '\n/metrics with %s series (%s KiB, %s ontologies configured), 200 scrapes with curl\n\n' "$SERIES" "$KIB" "$ONTOLOGIES"
printf '| endpoint | median ms | p95 ms |\n|---|---:|---:|\n'
printf '| ontofetch serve /metrics, Prometheus text (encoded per scrape) | %s | %s |\n' "$SERVE_MED" "$SERVE_P95"
printf '| ontofetch serve /metrics, OpenMetrics (what Prometheus asks for) | %s | %s |\n' "$OM_MED" "$OM_P95"
printf '| nginx, the same bytes as a static file | %s | %s |\n' "$NGINX_MED" "$NGINX_P95"
