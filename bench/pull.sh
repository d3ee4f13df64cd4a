#!/usr/bin/env bash
# The download path at its limit: `ontofetch pull` of one large file from a loopback HTTP
# server against `curl -o FILE` (and `curl | sha256sum`, and `curl | openssl dgst -sha256`:
# a download hashed as it streams, at the SHA-NI speed ours hashes at). The payload is text in no
# ontology format, so validation is a quick sniff and the figure is the transport: gates,
# pinned DNS, streaming SHA-256, staging, fsync, promote, catalog row.
# Both set-ups in one run: python's http.server (always), then nginx (Debian's nginx-light,
# sendfile) when `nginx` is on the PATH. Each round runs the three commands in turn; each
# deletes its previous output inside the timed command (`rm -f out.dat` / `rm -rf root`), so
# every pull starts on an empty data root (a fresh SQLite catalog).
# Usage: bench/pull.sh [SIZE_MB=200] [RUNS=15]
set -euo pipefail
SIZE_MB=${1:-200}
RUNS=${2:-15}
cd "$(dirname "$0")/.."
. bench/lib.sh
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
WORK=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/srv"
chmod -R a+rX "$WORK" # nginx's workers run as nobody
python3 bench/gen/text.py "$WORK/srv/big.dat" "$SIZE_MB"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# one_server NAME: races the three commands against the server on $PORT; prints a table.
one_server() {
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/big.dat" -r 0-0 && break; sleep 0.1; done
  URL="http://127.0.0.1:$PORT/big.dat"
  printf 'ontologies:\n  - id: big\n    resolver: direct\n    extras: {url: "%s", opaque: true}\n' "$URL" >"$WORK/spec.yaml"
  export BIN WORK URL PORT
  race curl 'rm -f "$WORK/out.dat"; curl -sf -o "$WORK/out.dat" "$URL"' \
    curl_sha 'curl -sf "$URL" | sha256sum' \
    curl_openssl 'curl -sf "$URL" | openssl dgst -sha256' \
    ontofetch 'rm -rf "$WORK/root"; "$BIN" --data-root "$WORK/root" --spec "$WORK/spec.yaml" --allowed-hosts "127.0.0.1:$PORT" pull --no-lock'
  printf '\n%s MiB from 127.0.0.1 (%s), median of %s rounds\n\n' "$SIZE_MB" "$1" "$RUNS"
  printf '| command | seconds | peak MiB | ratio vs curl -o FILE |\n|---|---:|---:|---:|\n'
  printf '| curl -o FILE | %s | %s | 1.00 |\n' "$(t curl)" "$(m curl)"
  printf '| curl \\| sha256sum | %s | %s | %s |\n' "$(t curl_sha)" "$(m curl_sha)" "$(ratio curl_sha curl)"
  printf '| curl \\| openssl dgst -sha256 (SHA-NI, the same hash speed as ours) | %s | %s | %s |\n' "$(t curl_openssl)" "$(m curl_openssl)" "$(ratio curl_openssl curl)"
  printf '| ontofetch pull (gated, hashed, staged, promoted, recorded) | %s | %s | %s |\n' "$(t ontofetch)" "$(m ontofetch)" "$(ratio ontofetch curl)"
}

machine
PORT=$(free_port)
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/srv" >/dev/null 2>&1 &
SERVER=$!
one_server "python3 -m http.server"
kill "$SERVER"
if command -v nginx >/dev/null; then
  PORT=$(free_port)
  start_nginx "$WORK/srv" "$PORT"
  SERVER=$NGINX_PID
  one_server "nginx $(nginx -v 2>&1 | sed 's|.*/||')"
fi
