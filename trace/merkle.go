// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// frontier accumulates an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/
// tlog hashing) with only the roots of its maximal complete subtrees: the
// state needed to extend the tree and compute its root.
type frontier struct {
	size  int64
	nodes []tlog.Hash // largest subtree first
}

// add appends a leaf hash.
func (f *frontier) add(leaf tlog.Hash) {
	h := leaf
	// Merge with the complete subtrees of equal size: as many as there
	// are trailing one bits in the old size.
	for n := f.size; n&1 == 1; n >>= 1 {
		last := len(f.nodes) - 1
		h = tlog.NodeHash(f.nodes[last], h)
		f.nodes = f.nodes[:last]
	}
	f.nodes = append(f.nodes, h)
	f.size++
}

// root returns the tree hash (RFC 6962 MTH; tlog.TreeHash).
func (f *frontier) root() tlog.Hash {
	if len(f.nodes) == 0 {
		return tlog.Hash{}
	}
	h := f.nodes[len(f.nodes)-1]
	for i := len(f.nodes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.nodes[i], h)
	}
	return h
}

// storedIndexes returns the tlog stored-hash indexes of the frontier
// nodes, in the order of f.nodes.
func (f *frontier) storedIndexes() []int64 {
	var out []int64
	var start int64
	for level := 63; level >= 0; level-- {
		if f.size&(1<<level) == 0 {
			continue
		}
		out = append(out, tlog.StoredHashIndex(level, start>>level))
		start += 1 << level
	}
	return out
}

func (f *frontier) clone() frontier {
	return frontier{size: f.size, nodes: append([]tlog.Hash(nil), f.nodes...)}
}

// valid reports whether the node count matches the size.
func (f *frontier) valid() bool { return bits.OnesCount64(uint64(f.size)) == len(f.nodes) }

// lineHash is the hash chaining a record line to the next one.
func lineHash(line []byte) string {
	s := sha256.Sum256(line)
	return base64.StdEncoding.EncodeToString(s[:])
}

// Checkpoint is a signed statement of the log's size and tree hash, in
// the C2SP tlog-checkpoint form: origin, size, base64 root, then an
// extension line with the signing time and, for the checkpoint Prune
// signs at its cut only, an extension line "prune <cutoff>".
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   string
	// Prune is set only on the checkpoint that Prune signs at its cut:
	// the cutoff (RFC 3339, UTC). Verify accepts a pruned log only if its
	// head carries such a checkpoint: a regular checkpoint (never marked)
	// cannot be used to forge a cut by deleting the first records.
	Prune string
	// Note is the signed note as written (text and signature lines).
	Note string

	witness bool // given to VerifyAgainst, not read from the log's files
}

// checkpointText is the text of a regular checkpoint: it never carries
// the prune line.
func checkpointText(origin string, size int64, root tlog.Hash, at string) string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]), at)
}

// pruneCheckpointText is the text of the checkpoint Prune signs at its
// cut: a regular checkpoint's lines, then "prune <cutoff>".
func pruneCheckpointText(origin string, size int64, root tlog.Hash, at, cutoff string) string {
	return checkpointText(origin, size, root, at) + "prune " + cutoff + "\n"
}

// openCheckpoint verifies a signed checkpoint note and parses it.
func openCheckpoint(msg string, verifiers note.Verifiers) (*Checkpoint, error) {
	n, err := note.Open([]byte(msg), verifiers)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint: %d lines, want origin, size, root", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("checkpoint: bad size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return nil, fmt.Errorf("checkpoint: bad root hash")
	}
	c := &Checkpoint{Origin: lines[0], Size: size, Note: msg}
	copy(c.Root[:], raw)
	for _, l := range lines[3:] {
		if t, ok := strings.CutPrefix(l, "time "); ok {
			c.Time = t
		}
		if t, ok := strings.CutPrefix(l, "prune "); ok {
			if _, err := time.Parse(time.RFC3339, t); err != nil {
				return nil, fmt.Errorf("checkpoint: bad prune cutoff %q", t)
			}
			c.Prune = t
		}
	}
	return c, nil
}
