#!/usr/bin/env bash
# Parse the same ontology files with ontofetch's validator (oxrdfio, counting triples),
# rapper (raptor2-utils) and Python rdflib; print median wall times and ratios to rapper.
# Usage: bench/parse.sh [TRIPLES=300000] [RUNS=3]
set -euo pipefail
N=${1:-300000}
RUNS=${2:-3}
cd "$(dirname "$0")/.."
command -v rapper >/dev/null || { echo "needs rapper: apt-get install raptor2-utils" >&2; exit 2; }
python3 -c 'import rdflib' 2>/dev/null || { echo "needs rdflib: pip install rdflib" >&2; exit 2; }
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK" "$N" <<'PY'
import sys, random
out, n = sys.argv[1], int(sys.argv[2])
random.seed(3)
with open(f"{out}/o.nt", "w") as nt, open(f"{out}/o.ttl", "w") as ttl, open(f"{out}/o.owl", "w") as xml:
    ttl.write("@prefix obo: <http://purl.obolibrary.org/obo/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n")
    xml.write('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:owl="http://www.w3.org/2002/07/owl#">\n')
    for i in range(n // 3):
        s = f"http://purl.obolibrary.org/obo/X_{i:07d}"
        p = f"http://purl.obolibrary.org/obo/X_{random.randrange(max(i,1)):07d}"
        nt.write(f'<{s}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .\n<{s}> <http://www.w3.org/2000/01/rdf-schema#label> "term {i}"@en .\n<{s}> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{p}> .\n')
        ttl.write(f'obo:X_{i:07d} a owl:Class ; rdfs:label "term {i}"@en ; rdfs:subClassOf <{p}> .\n')
        xml.write(f'<owl:Class rdf:about="{s}"><rdfs:label xml:lang="en">term {i}</rdfs:label><rdfs:subClassOf rdf:resource="{p}"/></owl:Class>\n')
    xml.write("</rdf:RDF>\n")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_it() {
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>"$WORK/err" || { echo "failed: $* $(cat "$WORK/err")" >&2; exit 1; }; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | median
}
printf '\n%s triples, median of %s runs (seconds; ratio = tool / rapper)\n\n' "$N" "$RUNS"
printf '| %-8s | %8s | %10s | %8s | %10s | %8s |\n' file rapper ontofetch ratio rdflib ratio
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- ---------- ------------ ---------- ------------ ----------
for f in o.nt o.ttl o.owl; do
  case $f in *.nt) rf=ntriples; pf=nt;; *.ttl) rf=turtle; pf=turtle;; *.owl) rf=rdfxml; pf=xml;; esac
  r=$(time_it rapper -q -c -i "$rf" "$WORK/$f")
  o=$(time_it "$BIN" validate-worker --file "$WORK/$f" --max-normalize-bytes 0)
  p=$(time_it python3 -c "import rdflib,sys; g=rdflib.Graph(); g.parse(sys.argv[1], format='$pf'); print(len(g))" "$WORK/$f")
  printf '| %-8s | %8.2f | %10.2f | %8.2f | %10.2f | %8.2f |\n' "$f" "$r" "$o" "$(echo "$o / $r" | bc -l)" "$p" "$(echo "$p / $r" | bc -l)"
done
