#!/usr/bin/env bash
# Throughput of 1, 2 and 3 workers sharing one PostgreSQL catalog and one S3 bucket,
# pulling the same ontologies from a loopback registry that adds latency to every request;
# then 3 workers under the default per-host limit (politeness is shared, so they stay at
# 4 requests/s together). Needs PostgreSQL's server binaries and s3s-fs (.ci/run installs
# both). Usage: bench/workers.sh [ONTOLOGIES=30] [LATENCY_MS=400] [SIZE_BYTES=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin ontofetch --bin ontofetch-bench-workers
target/release/ontofetch-bench-workers "$PWD/target/release/ontofetch" "${1:-30}" "${2:-400}" "${3:-200000}"
