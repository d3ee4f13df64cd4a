#!/usr/bin/env bash
# Pull a large file from a loopback server with ontofetch, curl and sha256sum; print median
# wall times and ratios. Usage: bench/pull.sh [SIZE_MB=200] [RUNS=3]
set -euo pipefail
SIZE_MB=${1:-200}
RUNS=${2:-3}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
WORK=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/srv"
python3 - "$WORK/srv/big.owl" "$SIZE_MB" <<'PY'
import base64, os, sys
path, mb = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    f.write(b'<?xml version="1.0"?>\n<rdf:RDF>\n<!--')
    for _ in range(mb):
        f.write(base64.b64encode(os.urandom(786432)))  # 1 MiB of text per step
    f.write(b'-->\n</rdf:RDF>\n')
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/srv" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/big.owl"
printf 'ontologies:\n  - id: big\n    resolver: direct\n    extras: {url: "%s"}\n' "$URL" > "$WORK/spec.yaml"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # name, command...
  local name=$1; shift
  for i in $(seq "$RUNS"); do
    rm -rf "$WORK/root"
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | median > "$WORK/$name.t"
}
run curl curl -s -o /dev/null "$URL"
run sha256sum sha256sum "$WORK/srv/big.owl"
run curl_sha256 bash -c "curl -s '$URL' | sha256sum"
run ontofetch "$BIN" --data-root "$WORK/root" --spec "$WORK/spec.yaml" --allowed-hosts "127.0.0.1:$PORT" pull --no-lock

base=$(cat "$WORK/curl.t")
printf '\n%s MB from 127.0.0.1, median of %s runs\n\n' "$SIZE_MB" "$RUNS"
printf '| %-40s | %9s | %14s |\n' "command" "seconds" "ratio vs curl"
printf '|%s|%s|%s|\n' "------------------------------------------" "-----------" "----------------"
for n in curl sha256sum curl_sha256 ontofetch; do
  t=$(cat "$WORK/$n.t")
  label=$n
  case $n in
    curl) label="curl -o /dev/null";;
    sha256sum) label="sha256sum (file on disk)";;
    curl_sha256) label="curl | sha256sum";;
    ontofetch) label="ontofetch pull (gated, hashed, stored)";;
  esac
  printf '| %-40s | %9.3f | %14.2f |\n' "$label" "$t" "$(echo "$t / $base" | bc -l)"
done
