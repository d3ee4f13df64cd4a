#!/usr/bin/env bash
# OBO validation: ontofetch's streamed, multi-threaded check against fastobo-py (the same
# Rust parser family behind Python) and pronto, on generated files shaped like real OBO
# Foundry releases (bench/gen/obo.py); then ontofetch's OBO → OWL translation.
# Prints median wall time and peak memory with ratios to fastobo-py.
# Usage: bench/obo.sh [BIG_MB=200] [RUNS=3]
set -euo pipefail
BIG_MB=${1:-200}
RUNS=${2:-3}
cd "$(dirname "$0")/.."
. bench/lib.sh
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
python_tools
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 bench/gen/obo.py "$WORK/hp.obo" 10
python3 bench/gen/obo.py "$WORK/big.obo" "$BIG_MB"
mkdir -p "$WORK/norm"
validate() { "$BIN" validate-worker --file "$1" --options '{"threads":0}'; }
translate() {
  "$BIN" validate-worker --file "$1" --options "{\"threads\":0,\"normalize\":{\"dir\":\"$WORK/norm\",\"stem\":\"t\",\"formats\":[\"ttl\"],\"rdfc_max_component\":100000,\"sort_memory_bytes\":268435456,\"second_pass\":true}}"
}
export -f validate translate; export BIN WORK
for f in hp big; do
  measure "fastobo_$f" "$PY" -c 'import fastobo, sys; print(len(fastobo.load(sys.argv[1])))' "$WORK/$f.obo"
  measure "ontofetch_$f" bash -c 'validate "$0"' "$WORK/$f.obo"
  measure "owl_$f" bash -c 'translate "$0"' "$WORK/$f.obo"
  measure "command_$f" "$BIN" validate --file "$WORK/$f.obo" --output-dir "$WORK/cmd_$f" --json
done
measure pronto_hp "$PY" -c 'import pronto, sys; print(len(pronto.Ontology(sys.argv[1], import_depth=0).terms()))' "$WORK/hp.obo"
echo
machine
printf 'OBO validation, median of %s runs (seconds, peak MiB; ratio = ontofetch / fastobo-py)\n\n' "$RUNS"
printf '| file | fastobo-py | ontofetch validate | ratio | pronto | ontofetch OBO→OWL Turtle | validate --file (parse, translate, hash) | ratio |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for f in hp big; do
  size=$(( $(stat -c %s "$WORK/$f.obo") / 1048576 ))
  p="—"; [ "$f" = hp ] && p="$(t pronto_hp) s, $(m pronto_hp) MiB"
  printf '| %s (%s MiB) | %s s, %s MiB | %s s, %s MiB | %s | %s | %s s, %s MiB | %s s, %s MiB | %s |\n' "$f.obo" "$size" \
    "$(t fastobo_$f)" "$(m fastobo_$f)" "$(t ontofetch_$f)" "$(m ontofetch_$f)" "$(ratio ontofetch_$f fastobo_$f)" \
    "$p" "$(t owl_$f)" "$(m owl_$f)" "$(t command_$f)" "$(m command_$f)" "$(ratio command_$f fastobo_$f)"
done
