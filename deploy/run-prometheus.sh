#!/usr/bin/env bash
# Start a local Prometheus (Debian's `prometheus` package) scraping `ontofetch serve` with the
# generated alert and recording rules. Usage: deploy/run-prometheus.sh [SERVE_ADDR] [PROM_ADDR]
# Start serve first, e.g. `ontofetch monitor start --refresh 24h`.
set -euo pipefail
SERVE=${1:-127.0.0.1:9464}
LISTEN=${2:-127.0.0.1:9090}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v prometheus >/dev/null || { echo "install Prometheus first: apt-get install prometheus" >&2; exit 2; }
DATA=${PROMETHEUS_DATA:-$HOME/.data/ontology-fetcher/prometheus}
mkdir -p "$DATA"
CONFIG=$(mktemp --suffix=.yml)
sed "s|127.0.0.1:9464|$SERVE|; s|ontofetch-rules.yml|$HERE/prometheus/ontofetch-rules.yml|" "$HERE/prometheus/prometheus.yml" > "$CONFIG"
promtool check config "$CONFIG"
echo "Prometheus on http://$LISTEN scraping $SERVE (data in $DATA)"
exec prometheus --config.file="$CONFIG" --storage.tsdb.path="$DATA" --web.listen-address="$LISTEN"
