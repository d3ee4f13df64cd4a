#!/usr/bin/env bash
# RDF validation and canonical hashing: ontofetch against rapper (raptor2, the C parser)
# and Python rdflib on the same graph as N-Triples, Turtle and RDF/XML (bench/gen/rdf.py).
# "validate" parses and counts; "canonical" also sorts, de-duplicates and hashes the
# canonical N-Triples in bounded memory. Prints median wall time and peak memory.
# Usage: bench/rdf.sh [TRIPLES=3000000] [RUNS=3] [RDFLIB_MAX_TRIPLES=300000]
set -euo pipefail
N=${1:-3000000}
RUNS=${2:-3}
RDFLIB_MAX=${3:-300000}
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v rapper >/dev/null || { echo "needs rapper: apt-get install raptor2-utils" >&2; exit 2; }
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
python_tools
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 bench/gen/rdf.py "$WORK" "$N"
mkdir -p "$WORK/norm"
canonical() {
  "$BIN" validate-worker --file "$1" --options "{\"threads\":0,\"normalize\":{\"dir\":\"$WORK/norm\",\"stem\":\"c\",\"formats\":[],\"rdfc_max_component\":100000,\"sort_memory_bytes\":268435456,\"second_pass\":false}}"
}
export -f canonical; export BIN WORK
for f in nt ttl rdf; do
  case $f in nt) rf=ntriples; pf=nt;; ttl) rf=turtle; pf=turtle;; rdf) rf=rdfxml; pf=xml;; esac
  measure "rapper_$f" rapper -q -c -i "$rf" "$WORK/o.$f"
  measure "validate_$f" "$BIN" validate-worker --file "$WORK/o.$f" --options '{"threads":0}'
  measure "canonical_$f" bash -c 'canonical "$0"' "$WORK/o.$f"
  if [ "$N" -le "$RDFLIB_MAX" ]; then
    measure "rdflib_$f" "$PY" -c "import rdflib,sys; g=rdflib.Graph(); g.parse(sys.argv[1], format='$pf'); print(len(g))" "$WORK/o.$f"
  fi
done
echo
machine
printf '%s triples, median of %s runs (seconds, peak MiB; ratios to rapper; canonical/validate is the cost of the hash)\n\n' "$N" "$RUNS"
printf '| file | rapper | ontofetch validate | ratio | ontofetch canonical | canonical/validate | rdflib | ratio |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for f in nt ttl rdf; do
  size=$(( $(stat -c %s "$WORK/o.$f") / 1048576 ))
  r="— | —"
  [ -f "$WORK/rdflib_$f.t" ] && r="$(t rdflib_$f) s, $(m rdflib_$f) MiB | $(ratio rdflib_$f rapper_$f)"
  printf '| o.%s (%s MiB) | %s s, %s MiB | %s s, %s MiB | %s | %s s, %s MiB | %s | %s |\n' "$f" "$size" \
    "$(t rapper_$f)" "$(m rapper_$f)" "$(t validate_$f)" "$(m validate_$f)" "$(ratio validate_$f rapper_$f)" \
    "$(t canonical_$f)" "$(m canonical_$f)" "$(ratio canonical_$f validate_$f)" "$r"
done
