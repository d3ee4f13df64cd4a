#!/usr/bin/env bash
# The canonical hash of a real-shaped OWL release: RDFC-1.0 in bounded memory against
# `rapper -c` (raptor2, the C parser: parse and count only) on an RDF/XML file shaped like
# ChEBI (bench/gen/owl.py: per class a label, a definition, a parent, a someValuesFrom
# restriction and an owl:Axiom annotation, blank nodes everywhere; ~870 bytes and 13
# triples per class, so the default 920,000 classes are ~800 MB and ~12 M triples).
# Timed, each as its own process, page cache warm: rapper -c; the validation job
# (`validate-worker`, first pass: parse, count, detect blank nodes); the RDFC-1.0 job
# (second pass: parse again, canonicalise, write and hash normalized/<stem>.nt); and the
# user-facing `ontofetch validate --file` (both jobs, in worker processes under the
# default 2 GiB cap), without renderings and with the default Turtle one. Prints median
# wall time, peak RSS and the ratios to rapper.
# Usage: bench/canon.sh [CLASSES=920000] [RUNS=1]
set -euo pipefail
N=${1:-920000}
RUNS=${2:-1}
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v rapper >/dev/null || { echo "needs rapper: apt-get install raptor2-utils" >&2; exit 2; }
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ontofetch-canon.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
python3 bench/gen/owl.py "$WORK/o.owl" "$N"
mkdir -p "$WORK/norm"
opts() {
  printf '{"threads":0,"normalize":{"dir":"%s/norm","stem":"o","formats":[],"rdfc_max_component":100000,"sort_memory_bytes":268435456,"second_pass":%s}}' "$WORK" "$1"
}
measure rapper rapper -q -c -i rdfxml "$WORK/o.owl"
measure validate "$BIN" validate-worker --file "$WORK/o.owl" --options "$(opts false)"
measure rdfc "$BIN" validate-worker --file "$WORK/o.owl" --options "$(opts true)"
measure command "$BIN" validate --file "$WORK/o.owl" --json
printf 'defaults:\n  normalize_to: []\nontologies: []\n' >"$WORK/hash-only.yaml"
measure hash_only "$BIN" --spec "$WORK/hash-only.yaml" validate --file "$WORK/o.owl" --json
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
job = json.load(open(f"{w}/rdfc.out"))
cmd = json.load(open(f"{w}/command.out"))
assert job["normalization"] == "rdfc-1.0", job.get("normalization_skipped")
assert cmd["normalized_sha256"] == job["normalized_sha256"], "the command and the job agree"
print(f"triples {job['statements']}, terms {cmd['terms']}, RDFC-1.0 sha256 {job['normalized_sha256']}")
PY
echo
machine
size=$(( $(stat -c %s "$WORK/o.owl") / 1048576 ))
printf '%s classes, o.owl %s MiB, median of %s runs (seconds, peak MiB; ratio to rapper -c)\n\n' "$N" "$size" "$RUNS"
printf '| step | seconds | peak MiB | ratio to rapper |\n|---|---:|---:|---:|\n'
for s in rapper validate rdfc hash_only command; do
  case $s in
    rapper) label='rapper -c (parse, count)';;
    validate) label='validation job (parse, count, blank nodes found)';;
    rdfc) label='RDFC-1.0 job (parse, canonicalise, write and hash the N-Quads)';;
    hash_only) label='`ontofetch validate --file`, `normalize_to: []` (both jobs: the canonical hash and N-Triples)';;
    command) label='`ontofetch validate --file`, default `normalize_to: [ttl]` (both jobs, and the Turtle rendering)';;
  esac
  printf '| %s | %s | %s | %s |\n' "$label" "$(t $s)" "$(m $s)" "$(ratio $s rapper)"
done
