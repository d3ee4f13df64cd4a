#!/usr/bin/env bash
# Run Prometheus and Alertmanager (Debian packages) on loopback with the files
# `ontofetch monitor grafana-config` generates: Prometheus scrapes `ontofetch serve`,
# evaluates the rules and sends alerts to Alertmanager, which routes them by severity.
#
#   deploy/monitoring-stack.sh start|stop|status
#
# Settings (environment):
#   ONTOFETCH          the ontofetch binary (default: `ontofetch` on PATH, else target/release/ontofetch)
#   STACK_DIR          configuration, data, logs and pids (default: $XDG_STATE_HOME/ontofetch-monitoring)
#   SERVE_TARGET       the `ontofetch serve` address to scrape (default 127.0.0.1:9464)
#   PROMETHEUS_ADDR    default 127.0.0.1:9090     ALERTMANAGER_ADDR  default 127.0.0.1:9093
#   SCRAPE_INTERVAL    default 15s
#   ALERT_ARGS         more `monitor grafana-config` flags, e.g.
#                      "--receivers webhook --webhook-url http://127.0.0.1:9099/alerts --webhook-token-file /etc/ontofetch/token"
# Secrets (Slack URL, PagerDuty key, webhook token) are files named by those flags; relative
# names are read from $STACK_DIR/config/alertmanager/.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STACK_DIR=${STACK_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/ontofetch-monitoring}
SERVE_TARGET=${SERVE_TARGET:-127.0.0.1:9464}
PROMETHEUS_ADDR=${PROMETHEUS_ADDR:-127.0.0.1:9090}
ALERTMANAGER_ADDR=${ALERTMANAGER_ADDR:-127.0.0.1:9093}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-15s}
ALERT_ARGS=${ALERT_ARGS:-}

die() { echo "monitoring-stack: $*" >&2; exit 2; }

find_tool() {
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

loopback() {
  case "$1" in
    127.*:* | \[::1\]:* | localhost:*) ;;
    *) die "$1 is not a loopback address; this script runs the stack for this machine only" ;;
  esac
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ready() { curl -fsS --max-time 2 "http://$1/-/ready" >/dev/null 2>&1; }

start() {
  loopback "$PROMETHEUS_ADDR"
  loopback "$ALERTMANAGER_ADDR"
  local ontofetch=${ONTOFETCH:-}
  if [ -z "$ontofetch" ]; then
    ontofetch=$(find_tool ontofetch || echo "$HERE/../target/release/ontofetch")
  fi
  [ -x "$ontofetch" ] || die "no ontofetch binary (set ONTOFETCH or run: cargo build --release)"
  local prometheus alertmanager promtool amtool
  prometheus=$(find_tool prometheus) || die "install Prometheus: apt-get install prometheus"
  promtool=$(find_tool promtool) || die "install Prometheus: apt-get install prometheus"
  alertmanager=$(find_tool prometheus-alertmanager alertmanager) || die "install Alertmanager: apt-get install prometheus-alertmanager"
  amtool=$(find_tool amtool) || die "install Alertmanager: apt-get install prometheus-alertmanager"
  mkdir -p "$STACK_DIR"/{config,prometheus-data,alertmanager-data,logs,run}
  if alive "$STACK_DIR/run/prometheus.pid" || alive "$STACK_DIR/run/alertmanager.pid"; then
    die "already running (see: $0 status; $0 stop)"
  fi
  # shellcheck disable=SC2086 # ALERT_ARGS is a list of flags
  "$ontofetch" monitor grafana-config --out "$STACK_DIR/config" --target "$SERVE_TARGET" \
    --prometheus-url "http://$PROMETHEUS_ADDR" --alertmanager "$ALERTMANAGER_ADDR" \
    --scrape-interval "$SCRAPE_INTERVAL" $ALERT_ARGS >/dev/null
  "$promtool" check config "$STACK_DIR/config/prometheus/prometheus.yml" >/dev/null
  "$amtool" check-config "$STACK_DIR/config/alertmanager/alertmanager.yml" >/dev/null
  # Absolute paths only: no subshell may keep the caller's stdout open.
  nohup "$alertmanager" \
    --config.file="$STACK_DIR/config/alertmanager/alertmanager.yml" \
    --storage.path="$STACK_DIR/alertmanager-data" \
    --web.listen-address="$ALERTMANAGER_ADDR" --cluster.listen-address= \
    >"$STACK_DIR/logs/alertmanager.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/run/alertmanager.pid"
  nohup "$prometheus" \
    --config.file="$STACK_DIR/config/prometheus/prometheus.yml" \
    --storage.tsdb.path="$STACK_DIR/prometheus-data" \
    --web.listen-address="$PROMETHEUS_ADDR" \
    >"$STACK_DIR/logs/prometheus.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/run/prometheus.pid"
  for _ in $(seq 1 60); do
    if ready "$PROMETHEUS_ADDR" && ready "$ALERTMANAGER_ADDR"; then
      echo "Prometheus   http://$PROMETHEUS_ADDR (scraping $SERVE_TARGET every $SCRAPE_INTERVAL)"
      echo "Alertmanager http://$ALERTMANAGER_ADDR"
      echo "files and logs in $STACK_DIR"
      return 0
    fi
    sleep 0.5
  done
  tail -n 5 "$STACK_DIR"/logs/*.log >&2 || true
  stop >/dev/null
  die "the stack did not become ready in 30 s (logs above)"
}

stop() {
  for name in prometheus alertmanager; do
    local pidfile="$STACK_DIR/run/$name.pid"
    if alive "$pidfile"; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      echo "$name stopped"
    fi
    rm -f "$pidfile"
  done
}

status() {
  local ok=0
  for pair in "prometheus $PROMETHEUS_ADDR" "alertmanager $ALERTMANAGER_ADDR"; do
    set -- $pair
    if alive "$STACK_DIR/run/$1.pid" && ready "$2"; then
      echo "$1 running (pid $(cat "$STACK_DIR/run/$1.pid")) on http://$2"
    else
      echo "$1 not running"
      ok=3
    fi
  done
  return $ok
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
