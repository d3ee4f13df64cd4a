#!/usr/bin/env bash
# Cuts the registry snapshot ontofetch embeds (crates/ontofetch-resolve/data/bioregistry.json)
# from a pinned Bioregistry release on PyPI (its data is CC0). The package ships the registry
# as bioregistry/data/bioregistry.json, the same format `ontofetch registry update` reads;
# the snapshot keeps only what the resolvers need and records the release and the SHA-256
# of the file it was cut from.
#
#   bash scripts/bioregistry-snapshot.sh            # the pinned version
#   BIOREGISTRY_VERSION=0.15.7 bash scripts/bioregistry-snapshot.sh
set -euo pipefail
version="${BIOREGISTRY_VERSION:-0.15.6}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "bioregistry==$version"
python3 - "$work" <<'PY'
import sys, zipfile, glob
wheel = glob.glob(sys.argv[1] + "/bioregistry-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    open(sys.argv[1] + "/bioregistry.json", "wb").write(z.read("bioregistry/data/bioregistry.json"))
PY
cargo build --quiet --bin ontofetch --manifest-path "$repo/Cargo.toml"
"$repo/target/debug/ontofetch" --data-root "$work/root" --json registry update \
  --file "$work/bioregistry.json" --label "bioregistry $version (PyPI)"
cp "$work/root/registry/bioregistry.json" "$repo/crates/ontofetch-resolve/data/bioregistry.json"
echo "wrote crates/ontofetch-resolve/data/bioregistry.json from bioregistry $version"
