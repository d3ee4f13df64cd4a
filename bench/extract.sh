#!/usr/bin/env bash
# Extract the same archives with ontofetch's gated extractor and with bsdtar; print median
# wall times and ratios (also against bsdtar followed by a sync, as durable as the
# extractor's output). Usage: bench/extract.sh [SIZE_MB=200] [RUNS=3]
set -euo pipefail
SIZE_MB=${1:-200}
RUNS=${2:-3}
cd "$(dirname "$0")/.."
. bench/lib.sh
command -v bsdtar >/dev/null || { echo "needs bsdtar: apt-get install libarchive-tools" >&2; exit 2; }
cargo build --release --quiet -p ontofetch-archive --example extract
BIN=$PWD/target/release/examples/extract
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src/onto"
python3 - "$WORK/src/onto" "$SIZE_MB" <<'PY'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
random.seed(7)
words = [b"owl:Class", b"rdfs:label", b"rdfs:subClassOf", b"obo:IAO_0000115", b"\"a term\"@en", b";", b"."]
n = 20
# A 1 MiB block of random lines, repeated: beyond deflate's 32 KiB window, so the archive
# compresses like real Turtle (~5:1), not like a bomb.
block = b"".join(b" ".join(random.choice(words) + str(random.randrange(10**6)).encode() for _ in range(10)) + b"\n" for _ in range(9000))[: 1 << 20]
for i in range(n):
    with open(os.path.join(root, f"part{i:02d}.ttl"), "wb") as f:
        f.write(block * (mb // n))
PY
(cd "$WORK/src" && tar -cf "$WORK/a.tar" onto && gzip -k -6 "$WORK/a.tar" && python3 -c "import zipfile,os,sys
z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)
[z.write(os.path.join('onto',f)) for f in sorted(os.listdir('onto'))]
z.close()" "$WORK/a.zip")
export BIN WORK
# In turn in every round (`race`). bsdtar leaves its bytes to the kernel's writeback; the
# extractor makes every file durable (fsync) before it reports it, so bsdtar is also timed
# followed by `sync -f` of its output (syncfs: the same bytes on disk), the like-for-like
# reference. Each command removes the previous round's output first.
for a in a.tar a.tar.gz a.zip; do
  race "bsdtar_$a" "rm -rf \"\$WORK/out\"; mkdir -p \"\$WORK/out\"; bsdtar -xf \"\$WORK/$a\" -C \"\$WORK/out\"" \
    "durable_$a" "rm -rf \"\$WORK/out\"; mkdir -p \"\$WORK/out\"; bsdtar -xf \"\$WORK/$a\" -C \"\$WORK/out\" && sync -f \"\$WORK/out\"" \
    "ontofetch_$a" "rm -rf \"\$WORK/out\"; mkdir -p \"\$WORK/out\"; \"\$BIN\" \"\$WORK/$a\" \"\$WORK/out/x\""
done
echo
machine
printf '%s MB of Turtle in 20 files, median of %s rounds (seconds, peak MiB)\n\n' "$SIZE_MB" "$RUNS"
printf '| archive | bsdtar -xf | bsdtar -xf + sync -f | ontofetch (every entry gated, hashed, fsynced) | ratio to bsdtar | ratio to bsdtar + sync |\n|---|---:|---:|---:|---:|---:|\n'
for a in a.tar a.tar.gz a.zip; do
  printf '| %s | %s s, %s MiB | %s s | %s s, %s MiB | **%s** | %s |\n' "$a" "$(t "bsdtar_$a")" "$(m "bsdtar_$a")" \
    "$(t "durable_$a")" "$(t "ontofetch_$a")" "$(m "ontofetch_$a")" "$(ratio "ontofetch_$a" "bsdtar_$a")" \
    "$(ratio "ontofetch_$a" "durable_$a")"
done
