#!/usr/bin/env bash
# Issue 36's table in one run: each user-facing command against the reference named for it,
# on the same input, in the same run, taking turns with it in every round (page cache warm,
# each command its own process; the median of RUNS rounds).
#   1 `validate --file` of a big OBO                 vs fastobo-py (parse)
#   2 `pull` of that OBO from a loopback http.server  vs fastobo-py (parse)
#   3 `validate --file` (canonical hash) of a ChEBI-shaped RDF/XML  vs `rapper -c`
#   4 `pull` of that RDF/XML (download, validation, term facts, RDFC-1.0, Turtle)  vs `rapper -c`
#   5-7 the transport rows (body-only pull vs curl, tar extraction vs bsdtar, serve vs
#       nginx) come from bench/pull.sh, bench/extract.sh and bench/serve.sh, run after.
# Also timed: the separate jobs a pull used to run (validation, term facts, RDFC-1.0), to
# show what one parse saves.
# Usage: bench/targets.sh [OBO_MB=200] [CLASSES=920000] [RUNS=1] [--no-transport]
set -euo pipefail
OBO_MB=${1:-200}
CLASSES=${2:-920000}
RUNS=${3:-1}
TRANSPORT=${4:-}
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v rapper >/dev/null || { echo "needs rapper: apt-get install raptor2-utils" >&2; exit 2; }
cargo build --release --quiet --bin ontofetch
BIN=$PWD/target/release/ontofetch
python_tools
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ontofetch-targets.XXXXXX")
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/srv"
python3 bench/gen/obo.py "$WORK/srv/big.obo" "$OBO_MB"
python3 bench/gen/owl.py "$WORK/srv/o.owl" "$CLASSES"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/srv" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/big.obo" -r 0-0 && break; sleep 0.1; done
spec() { # spec ID FILE: one direct entry, the default normalize_to (Turtle)
  printf 'ontologies:\n  - id: %s\n    resolver: direct\n    extras: {url: "http://127.0.0.1:%s/%s"}\n' "$1" "$PORT" "$2" >"$WORK/$1.yaml"
}
spec big big.obo
spec o o.owl
pull() { rm -rf "$WORK/root-$1"; "$BIN" --data-root "$WORK/root-$1" --spec "$WORK/$1.yaml" --allowed-hosts "127.0.0.1:$PORT" pull --no-lock --json; }
job() { # job FILE NORMALIZE-FIELDS: one validator job, as a pull starts it
  "$BIN" validate-worker --file "$1" --options "{\"threads\":0,\"normalize\":{\"dir\":\"$WORK/norm\",\"stem\":\"o\",\"formats\":[\"ttl\"],\"rdfc_max_component\":100000,\"sort_memory_bytes\":268435456,$2}}"
}
export -f pull job; export BIN WORK PORT PY
mkdir -p "$WORK/norm"

# Each group in turn within every round (`race`): the machine's drift hits the reference
# and the commands alike.
race fastobo '"$PY" -c "import fastobo, sys; print(len(fastobo.load(sys.argv[1])))" "$WORK/srv/big.obo"' \
  obo_validate '"$BIN" validate --file "$WORK/srv/big.obo" --json' \
  obo_pull 'pull big'
race rapper 'rapper -q -c -i rdfxml "$WORK/srv/o.owl"' \
  owl_validate '"$BIN" validate --file "$WORK/srv/o.owl" --json' \
  owl_pull 'pull o' \
  job_fused 'job "$WORK/srv/o.owl" "\"second_pass\":false,\"terms\":true,\"fused\":true"' \
  job_validate 'job "$WORK/srv/o.owl" "\"second_pass\":false,\"terms\":true"' \
  job_rdfc 'job "$WORK/srv/o.owl" "\"second_pass\":true"'

python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
fused = json.load(open(f"{w}/job_fused.out"))
rdfc = json.load(open(f"{w}/job_rdfc.out"))
cmd = json.load(open(f"{w}/owl_validate.out"))
pulled = json.load(open(f"{w}/owl_pull.out"))[0]
assert fused["normalized_sha256"] == rdfc["normalized_sha256"] == cmd["normalized_sha256"], "one hash"
assert pulled["status"] in ("fresh", "updated"), pulled
print(f"RDF/XML: {fused['statements']} triples, {fused['terms']} terms, RDFC-1.0 {fused['normalized_sha256'][:16]}…")
PY
echo
machine
obo=$(( $(stat -c %s "$WORK/srv/big.obo") / 1048576 ))
owl=$(( $(stat -c %s "$WORK/srv/o.owl") / 1048576 ))
printf 'big.obo %s MiB (bench/gen/obo.py); o.owl %s MiB, %s classes (bench/gen/owl.py); %s rounds, each command in turn; loopback python3 http.server\n\n' "$obo" "$owl" "$CLASSES" "$RUNS"
printf '| work | reference (median) | seconds (median) | peak MiB | ratio (median of the rounds, range) |\n|---|---|---:|---:|---:|\n'
row() { printf '| %s | %s %s s | %s | %s | **%s** |\n' "$1" "$2" "$(t "$4")" "$(t "$3")" "$(m "$3")" "$(pratio "$3" "$4")"; }
row "\`validate --file\` of a ${obo} MiB OBO" "fastobo-py parse" obo_validate fastobo
row "\`pull\` of that OBO (download, validation, OWL translation, facts)" "fastobo-py parse" obo_pull fastobo
row "\`validate --file\` (canonical hash, Turtle) of a ${owl} MiB RDF/XML" "rapper -c" owl_validate rapper
row "\`pull\` of that RDF/XML (download, validation, facts, RDFC-1.0, Turtle)" "rapper -c" owl_pull rapper
printf '\nThe jobs on that RDF/XML: one fused job (validation tally, term facts, RDFC-1.0 and Turtle from one parse) against the separate jobs a pull ran before:\n\n'
printf '| job | seconds | peak MiB | ratio to rapper -c |\n|---|---:|---:|---:|\n'
for j in job_fused job_validate job_rdfc; do
  case $j in
    job_fused) label='fused: one parse';;
    job_validate) label='validation (parallel parse) + term facts (a second parse)';;
    job_rdfc) label='RDFC-1.0 (a third parse)';;
  esac
  printf '| %s | %s | %s | %s |\n' "$label" "$(t $j)" "$(m $j)" "$(pratio $j rapper)"
done
kill "$SERVER"; SERVER=
if [ "$TRANSPORT" != "--no-transport" ]; then
  echo; bash bench/pull.sh 200 5
  echo; bash bench/extract.sh 200 3
  echo; bash bench/serve.sh 500 3
fi
