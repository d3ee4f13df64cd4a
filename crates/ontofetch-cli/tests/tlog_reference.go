// An independent C2SP verifier of a served ontofetch mirror's transparency log, written
// against Go's golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (Debian's
// golang-golang-x-mod-dev): it fetches /log/checkpoint, verifies the signed note under the
// verifier key, reads every entry from the entry bundles, proves each entry's inclusion
// from the hash tiles (which TileHashReader authenticates against the checkpoint's root),
// and, given an earlier checkpoint, proves the log only grew. It prints what it proved as
// JSON; any failure exits 1 with the reason.
//
// go run tlog_reference.go BASE_URL VERIFIER_KEY [EARLIER_CHECKPOINT_FILE]
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func get(base, path string) []byte {
	resp, err := http.Get(base + "/" + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return body
}

// c2sp.org/tlog-tiles paths: Go's sumdb paths without the height, "entries" for data.
func tilePath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
	if strings.HasPrefix(p, "data/") {
		return "tile/entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

type reader struct{ base string }

func (r reader) Height() int { return height }
func (r reader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = get(r.base, tilePath(t))
	}
	return out, nil
}
func (r reader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// Opens a c2sp.org/tlog-checkpoint signed note: origin, size, base64 root.
func open(msg []byte, verifier note.Verifier) checkpoint {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("the checkpoint does not verify: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("malformed checkpoint %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("malformed size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("malformed root %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], raw)
	if lines[0] != verifier.Name() {
		fail("checkpoint origin %q is not the key's name %q", lines[0], verifier.Name())
	}
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: h}}
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: tlog_reference BASE_URL VERIFIER_KEY [EARLIER_CHECKPOINT]")
	}
	base, vkey := strings.TrimSuffix(os.Args[1], "/"), os.Args[2]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	cp := open(get(base, "checkpoint"), verifier)
	hr := tlog.TileHashReader(cp.tree, reader{base})

	// Every entry, from the entry bundles (2-byte big-endian length, then the bytes).
	var entries [][]byte
	for start := int64(0); start < cp.tree.N; start += 1 << height {
		w := cp.tree.N - start
		if w > 1<<height {
			w = 1 << height
		}
		t := tlog.Tile{H: height, L: -1, N: start >> height, W: int(w)}
		data := get(base, tilePath(t))
		for len(data) > 0 {
			if len(data) < 2 {
				fail("bundle %s ends inside a length", tilePath(t))
			}
			n := int(binary.BigEndian.Uint16(data[:2]))
			if len(data) < 2+n {
				fail("bundle %s ends inside an entry", tilePath(t))
			}
			entries = append(entries, data[2:2+n])
			data = data[2+n:]
		}
	}
	if int64(len(entries)) != cp.tree.N {
		fail("the bundles hold %d entries, the checkpoint %d", len(entries), cp.tree.N)
	}
	digests := []string{}
	for i, e := range entries {
		proof, err := tlog.ProveRecord(cp.tree.N, int64(i), hr)
		if err != nil {
			fail("no inclusion proof of entry %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, int64(i), tlog.RecordHash(e)); err != nil {
			fail("entry %d is not in the tree: %v", i, err)
		}
		d := sha256.Sum256(e)
		digests = append(digests, hex.EncodeToString(d[:]))
	}
	consistentWith := int64(-1)
	if len(os.Args) > 3 {
		earlier, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("reading %s: %v", os.Args[3], err)
		}
		old := open(earlier, verifier)
		if old.tree.N > cp.tree.N {
			fail("the log went back from %d entries to %d", old.tree.N, cp.tree.N)
		}
		proof, err := tlog.ProveTree(cp.tree.N, old.tree.N, hr)
		if err != nil {
			fail("no consistency proof: %v", err)
		}
		if err := tlog.CheckTree(proof, cp.tree.N, cp.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			fail("the log does not extend the earlier checkpoint: %v", err)
		}
		consistentWith = old.tree.N
	}
	var out bytes.Buffer
	json.NewEncoder(&out).Encode(map[string]interface{}{
		"origin":          cp.origin,
		"size":            cp.tree.N,
		"entries_sha256":  digests,
		"consistent_with": consistentWith,
	})
	os.Stdout.Write(out.Bytes())
}
