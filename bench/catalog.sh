#!/usr/bin/env bash
# What the commands that read the whole mirror cost as the catalog grows: 30, 100 and 300
# ontologies × 3 versions, on SQLite + a directory and on PostgreSQL + S3, timing doctor,
# prune --dry-run, a fully cached pull and serve's status page and API list. Needs
# PostgreSQL's server binaries and s3s-fs (.ci/run installs both).
# Usage: bench/catalog.sh [SIZES=30,100,300]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin ontofetch --bin ontofetch-bench-catalog
target/release/ontofetch-bench-catalog "$PWD/target/release/ontofetch" "${1:-30,100,300}"
