#!/usr/bin/env bash
# Cuts the registry snapshot ontofetch embeds (crates/ontofetch-resolve/data/bioregistry.json)
# from a pinned Bioregistry release on PyPI (its data is CC0). The package ships the registry
# as bioregistry/data/bioregistry.json, the same format `ontofetch registry update` reads;
# the snapshot keeps what the package's getters answer (names, licences and where they came
# from, downloads with the metaregistry fallbacks, deprecation, OBO Foundry ids) and records
# the release and the SHA-256 of the file it was cut from. Bioregistry's licence-spelling
# table (license_standardizer.py) is cut beside it as data/licenses.json, from the same
# release, and embedded too: `registry update` reads newer releases' JSON with it.
#
#   bash scripts/bioregistry-snapshot.sh            # the pinned version
#   BIOREGISTRY_VERSION=0.15.7 bash scripts/bioregistry-snapshot.sh
set -euo pipefail
version="${BIOREGISTRY_VERSION:-0.15.6}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" "bioregistry==$version"
python3 - "$work" "$version" "$repo/crates/ontofetch-resolve/data/licenses.json" <<'PY'
import ast, glob, json, sys, zipfile
work, version, out = sys.argv[1:4]
wheel = glob.glob(work + "/bioregistry-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    open(work + "/bioregistry.json", "wb").write(z.read("bioregistry/data/bioregistry.json"))
    source = z.read("bioregistry/license_standardizer.py").decode()
# The table is module-level data: evaluate its assignments without importing the package
# (whose imports need its dependencies).
names = {}
for node in ast.parse(source).body:
    target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
    if isinstance(target, ast.Name) and target.id.isupper():
        try:
            names[target.id] = eval(compile(ast.Expression(node.value), "<table>", "eval"), {}, dict(names))
        except Exception:
            pass  # derived tables (LICENSES) are rebuilt below
table = {v: k for k, vs in names["REVERSE_LICENSES"].items() for v in vs}
json.dump(
    {"source": f"bioregistry {version} (PyPI), bioregistry/license_standardizer.py",
     "unspecified": sorted(names["UNSPECIFIED"]), "map": dict(sorted(table.items()))},
    open(out, "w"), indent=0, ensure_ascii=False)
PY
cargo build --quiet --bin ontofetch --manifest-path "$repo/Cargo.toml"
"$repo/target/debug/ontofetch" --data-root "$work/root" --json registry update \
  --file "$work/bioregistry.json" --label "bioregistry $version (PyPI)"
cp "$work/root/registry/bioregistry.json" "$repo/crates/ontofetch-resolve/data/bioregistry.json"
echo "wrote crates/ontofetch-resolve/data/bioregistry.json from bioregistry $version"
