// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/require"
)

// fixedLog writes the same 7-record log (and checkpoints every 3 records)
// in every process: a key derived from a fixed seed, fixed event ids and a
// fixed clock, so that the fuzzing workers and the coordinator agree on
// the original the edit scripts of FuzzVerify apply to.
func fixedLog(t testing.TB, dir string) (logData, cpData []byte, v note.Verifier, last *trace.Checkpoint) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(mrand.NewChaCha8([32]byte{'g', 'o', 'm', 's', 's'}), "gomss-fuzz")
	require.NoError(t, err)
	s, err := note.NewSigner(skey)
	require.NoError(t, err)
	v, err = note.NewVerifier(vkey)
	require.NoError(t, err)
	path := filepath.Join(dir, "trace.jsonl")
	now := time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC)
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, CheckpointEvery: 3,
		Retention: -1, Now: func() time.Time { return now }, OnCheckpoint: func(c *trace.Checkpoint) { last = c }})
	require.NoError(t, err)
	for i := range 7 {
		e := event(i)
		e.ID = fmt.Sprintf("%032x", i) // else random
		require.NoError(t, l.Record(context.Background(), e))
	}
	require.NoError(t, l.Close())
	if logData, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if cpData, err = os.ReadFile(path + ".checkpoints"); err != nil {
		t.Fatal(err)
	}
	return logData, cpData, v, last
}

// editOps applies the edit script edits to the log and checkpoints files
// of the fixed log and returns the edited copies. The script is a
// sequence of operations of a few bytes, so that the fuzzer's inputs stay
// small (its minimisation of a 4 KB raw log took most of its time: 23
// executions in 15 s) and its mutations land where a tamperer's would:
// bytes changed, cut or added anywhere, whole lines removed, repeated or
// swapped, a file cut short. Each operation is an opcode byte, then a
// position (2 bytes, taken modulo the file's length or line count) and a
// count or a second position (1 byte); op%4 == 0, 1, 2 write, cut or
// insert bytes (for write and insert, count bytes of data follow), 3 is a
// line operation (the count's low 2 bits: remove line, repeat it, swap it
// with the next, cut the file after it). op&4 selects the checkpoints
// file. At most 16 operations are read; what does not form a whole
// operation is ignored.
func editOps(log, cp, edits []byte) ([]byte, []byte) {
	files := [2][]byte{append([]byte(nil), log...), append([]byte(nil), cp...)}
	for n := 0; n < 16 && len(edits) >= 4; n++ {
		op, pos, count := edits[0], int(edits[1])<<8|int(edits[2]), int(edits[3])
		edits = edits[4:]
		b := &files[op>>2&1]
		at := 0
		if len(*b) > 0 {
			at = pos % (len(*b) + 1)
		}
		switch op % 4 {
		case 0, 2:
			data := edits[:min(count, len(edits))]
			edits = edits[len(data):]
			if op%4 == 0 {
				end := min(at+len(data), len(*b))
				*b = append((*b)[:at:at], append(data, (*b)[end:]...)...)
			} else {
				*b = append((*b)[:at:at], append(append([]byte(nil), data...), (*b)[at:]...)...)
			}
		case 1:
			*b = append((*b)[:at:at], (*b)[min(at+count, len(*b)):]...)
		case 3:
			lines := bytes.SplitAfter(*b, []byte("\n"))
			i := pos % len(lines)
			switch count % 4 {
			case 0:
				lines = append(lines[:i:i], lines[i+1:]...)
			case 1:
				lines = append(lines[:i+1:i+1], lines[i:]...)
			case 2:
				if i+1 < len(lines) {
					lines[i], lines[i+1] = lines[i+1], lines[i]
				}
			case 3:
				lines = lines[:i+1]
			}
			*b = bytes.Join(lines, nil)
		}
	}
	return files[0], files[1]
}

// overwrite replaces the content of f with data. WriteAt then Truncate,
// rather than os.WriteFile: ext4 flushes a file truncated to zero and
// rewritten when it is closed (auto_da_alloc), 1.5 ms each time here.
func overwrite(t *testing.T, f *os.File, data []byte) {
	_, err := f.WriteAt(data, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(int64(len(data))))
}

// FuzzVerify feeds Verify, VerifyAgainst, Scan and Prove the fixed log and
// its checkpoints file altered by an edit script (editOps):
// Verify never panics, refuses with a *CorruptionError (wrapping
// ErrTampered) or accepts; when it accepts, every record a checkpoint
// covers is byte for byte the one written (a record can only be changed
// past the last signed checkpoint, and Verify counts those as Unsigned),
// and Prove gives for a covered record that line and a proof that
// VerifyInclusion accepts; VerifyAgainst the last checkpoint accepts only
// the log as written.
func FuzzVerify(f *testing.F) {
	origLog, origCP, v, last := fixedLog(f, f.TempDir())
	origLines := bytes.SplitAfter(origLog, []byte("\n"))
	if again, cp, _, _ := fixedLog(f, f.TempDir()); !bytes.Equal(again, origLog) || !bytes.Equal(cp, origCP) {
		f.Fatal("the fixed log differs from one writing to the next: workers would not agree on it")
	}
	if res, err := trace.Verify(filepath.Join(f.TempDir(), "none"), v); err == nil {
		f.Fatalf("a missing log verifies: %+v", res)
	}
	op := func(code byte, pos, count int, data ...byte) []byte {
		return append([]byte{code, byte(pos >> 8), byte(pos), byte(count)}, data...)
	}
	dest4 := bytes.Index(origLog, []byte("dest4"))
	head := []byte(`{"head":{"version":1,"origin":"gomss/trace","start":3}}` + "\n")
	f.Add([]byte{})                                                // as written
	f.Add(op(1, len(origLog)-7, 7))                                // the last record cut
	f.Add(op(0, dest4, 5, []byte("dest5")...))                     // a record changed
	f.Add(op(1, len(origCP)/2, 255, op(1, len(origCP)/2, 255)...)) // checkpoints cut
	f.Add(append(op(4|1, 0, 255), op(4|1, 0, 255)...))             // checkpoints emptied
	f.Add(append(op(3, 0, 0), op(2, 0, len(head), head...)...))    // another head
	f.Add(op(3, 2, 2))                                             // two records swapped
	f.Add(op(3, 3, 1))                                             // a record repeated
	f.Add(op(3, 4, 0))                                             // a record removed
	f.Add(op(4|3, 1, 3))                                           // the checkpoints after the second removed
	f.Add(op(4|3, 0, 2))                                           // two checkpoints swapped
	f.Add(op(4|2, len(origCP)-1, 3, []byte("{}\n")...))            // a line added to the checkpoints
	dir := f.TempDir()
	path := filepath.Join(dir, "trace.jsonl") // one call at a time per process
	logFile, err := os.Create(path)
	require.NoError(f, err)
	cpFile, err := os.Create(path + ".checkpoints")
	require.NoError(f, err)
	f.Cleanup(func() { logFile.Close(); cpFile.Close() })
	f.Fuzz(func(t *testing.T, edits []byte) {
		logData, cpData := editOps(origLog, origCP, edits)
		overwrite(t, logFile, logData)
		overwrite(t, cpFile, cpData)
		// Against the last checkpoint kept elsewhere, only the log as
		// written (or grown past it) passes.
		if _, err := trace.VerifyAgainst(path, v, last.Note); err == nil {
			lines := bytes.SplitAfter(logData, []byte("\n"))
			for i := range origLines {
				if i >= len(lines) || !bytes.Equal(lines[i], origLines[i]) {
					t.Fatalf("VerifyAgainst the last checkpoint accepted a changed log at line %d", i+1)
				}
			}
		} else if !errors.Is(err, trace.ErrTampered) {
			t.Fatalf("VerifyAgainst: %v", err)
		}
		res, err := trace.Verify(path, v)
		if _, serr := trace.Scan(path, trace.Filter{}, func(int64, trace.Event) error { return nil }); serr != nil {
			t.Fatalf("Scan: %v", serr)
		}
		if err != nil {
			var ce *trace.CorruptionError
			if !errors.As(err, &ce) || !errors.Is(err, trace.ErrTampered) {
				t.Fatalf("Verify: %T %v, want a *CorruptionError", err, err)
			}
			return
		}
		if res.Records < 0 || res.Unsigned < 0 || res.Unsigned > res.Records {
			t.Fatalf("result %+v", res)
		}
		if res.LastCheckpoint == nil {
			require.EqualValues(t, 0, res.Checkpoints, "no checkpoint, but")
			require.EqualValues(t, res.Records, res.Unsigned, "no checkpoint, but")
			return
		}
		// Each covered record, and the head that the first one chains to:
		// the original lines.
		lines := bytes.SplitAfter(logData, []byte("\n"))
		covered := int(res.LastCheckpoint.Size - res.Start)
		if covered == 0 {
			return
		}
		if res.Start != 0 || covered > len(origLines)-1 || len(lines) < covered+1 {
			t.Fatalf("accepted: start %d, checkpoint size %d, %d lines", res.Start, res.LastCheckpoint.Size, len(lines))
		}
		for i := 0; i <= covered; i++ {
			if !bytes.Equal(lines[i], origLines[i]) {
				t.Fatalf("accepted a changed line %d under a checkpoint of size %d:\n%q\nwas\n%q", i+1, res.LastCheckpoint.Size, lines[i], origLines[i])
			}
		}
		// A covered record (which one: from the script's length) has a
		// proof of the line written.
		idx := int64(len(edits) % covered)
		p, line, err := trace.Prove(path, idx, v)
		require.NoError(t, err, "record %d of a verified log", idx)
		require.True(t, bytes.Equal(bytes.TrimSuffix(origLines[idx+1], []byte("\n")), line), "record %d: %q", idx, line)
		require.NoError(t, trace.VerifyInclusion(p, line, v), "record %d", idx)
	})
}

// FuzzInclusion: Prove gives, for every record a checkpoint of the fixed
// log covers, its line and a proof that VerifyInclusion accepts (and an
// error for any other index); a proof altered by the fuzzer (its hashes
// changed, one dropped or added, its index moved, its checkpoint replaced,
// the line replaced) is accepted only for the line the signed log holds at
// the proof's index, and refused with ErrTampered otherwise.
func FuzzInclusion(f *testing.F) {
	dir := f.TempDir()
	origLog, _, v, last := fixedLog(f, dir)
	path := filepath.Join(dir, "trace.jsonl")
	records := bytes.Split(bytes.TrimSuffix(origLog, []byte("\n")), []byte("\n"))[1:]
	covered := last.Size
	require.Positive(f, covered)
	proofs := make([]*trace.InclusionProof, covered)
	// texts: the signed part of every checkpoint a proof names, and the
	// size it signs.
	texts := map[string]int64{}
	for i := range covered {
		p, line, err := trace.Prove(path, i, v)
		require.NoError(f, err, "record %d", i)
		require.Equal(f, records[i], line)
		require.NoError(f, trace.VerifyInclusion(p, line, v))
		proofs[i] = p
		text, _, _ := strings.Cut(p.Checkpoint, "\n\n")
		texts[text] = checkpointSize(f, p.Checkpoint)
	}
	for _, i := range []int64{-1, covered, int64(len(records)), 1 << 62} {
		_, _, err := trace.Prove(path, i, v)
		require.Error(f, err, "record %d proved", i)
	}
	for i := range covered {
		f.Add(i, []byte{}, []byte{}, "")
	}
	f.Add(int64(1), []byte{0, 1}, []byte{}, "")                                                           // a bit of a hash
	f.Add(int64(2), []byte{1}, []byte{}, "")                                                              // a hash dropped
	f.Add(int64(2), []byte{2, 0, 0, 0}, []byte{}, "")                                                     // a hash added
	f.Add(int64(4), []byte{3}, []byte{}, "")                                                              // two hashes swapped
	f.Add(int64(0), []byte{}, bytes.Replace(records[0], []byte("CAMPARINI"), []byte("CAMPARINO"), 1), "") // another line
	f.Add(int64(0), []byte{}, records[1], "")                                                             // the next line
	f.Add(covered, []byte{}, []byte{}, "")                                                                // an index past the checkpoint
	f.Add(int64(-1), []byte{}, []byte{}, "")
	f.Add(int64(1), []byte{}, []byte{}, proofs[covered-1].Checkpoint)                               // a later checkpoint
	f.Add(int64(covered-1), []byte{}, []byte{}, proofs[0].Checkpoint)                               // an earlier one
	f.Add(int64(1), []byte{}, []byte{}, strings.Replace(proofs[1].Checkpoint, "\n3\n", "\n4\n", 1)) // a size changed
	f.Add(int64(1), []byte{}, []byte{}, "gomss/trace\n3\nAAAA\n\n— key sig\n")
	f.Fuzz(func(t *testing.T, index int64, mask, line []byte, checkpoint string) {
		// Prove, for any index.
		if index >= 0 && index < covered {
			p, l, err := trace.Prove(path, index, v)
			require.NoError(t, err)
			require.Equal(t, records[index], l)
			require.NoError(t, trace.VerifyInclusion(p, l, v))
		} else if _, _, err := trace.Prove(path, index, v); err == nil {
			t.Fatalf("record %d of a log of %d proved", index, covered)
		}
		// An altered proof of record i.
		i := index % covered
		if i < 0 {
			i += covered
		}
		orig := proofs[i]
		p := &trace.InclusionProof{Index: index, Proof: append(orig.Proof[:0:0], orig.Proof...), Checkpoint: orig.Checkpoint}
		if len(mask) > 0 {
			switch mask[0] % 4 {
			case 1:
				if len(p.Proof) > 0 {
					p.Proof = p.Proof[:len(p.Proof)-1]
				}
			case 2:
				var h tlog.Hash
				copy(h[:], mask[1:])
				p.Proof = append(p.Proof, h)
			case 3:
				if len(p.Proof) > 1 {
					p.Proof[0], p.Proof[1] = p.Proof[1], p.Proof[0]
				}
			}
			for k, b := range mask[1:] {
				if k/32 < len(p.Proof) {
					p.Proof[k/32][k%32] ^= b
				}
			}
		}
		if checkpoint != "" {
			p.Checkpoint = checkpoint
		}
		l := records[i]
		if len(line) > 0 {
			l = line
		}
		err := trace.VerifyInclusion(p, l, v)
		if err != nil {
			require.ErrorIs(t, err, trace.ErrTampered)
			unchanged := index == i && checkpoint == "" && len(line) == 0 && !alters(mask)
			require.False(t, unchanged, "the proof of record %d as Prove gave it refused: %v", i, err)
			return
		}
		text, _, _ := strings.Cut(p.Checkpoint, "\n\n")
		size, ok := texts[text]
		require.True(t, ok, "a proof accepted against a checkpoint never signed: %q", p.Checkpoint)
		require.True(t, p.Index >= 0 && p.Index < size, "index %d accepted in a log of %d", p.Index, size)
		require.Equal(t, records[p.Index], l, "a line accepted as record %d", p.Index)
	})
}

// alters reports whether mask changes the proof: an opcode other
// than 0 or a byte other than 0.
func alters(mask []byte) bool {
	if len(mask) > 0 && mask[0]%4 != 0 {
		return true
	}
	for _, b := range mask[min(1, len(mask)):] {
		if b != 0 {
			return true
		}
	}
	return false
}

// checkpointSize reads the size a checkpoint note signs (its second line).
func checkpointSize(t testing.TB, note string) int64 {
	t.Helper()
	lines := strings.SplitN(note, "\n", 3)
	require.Len(t, lines, 3)
	var n int64
	_, err := fmt.Sscan(lines[1], &n)
	require.NoError(t, err)
	return n
}

// TestVerifyInclusionErrors: no proof, or a checkpoint the key does not
// verify, is an error wrapping ErrTampered (before, a nil proof panicked
// and a bad checkpoint gave an error without the package's prefix).
func TestVerifyInclusionErrors(t *testing.T) {
	dir := t.TempDir()
	_, _, v, _ := fixedLog(t, dir)
	p, line, err := trace.Prove(filepath.Join(dir, "trace.jsonl"), 0, v)
	require.NoError(t, err)
	err = trace.VerifyInclusion(nil, line, v)
	require.ErrorIs(t, err, trace.ErrTampered)
	bad := *p
	bad.Checkpoint = strings.Replace(p.Checkpoint, "gomss/trace", "gomss/trace2", 1)
	err = trace.VerifyInclusion(&bad, line, v)
	require.ErrorIs(t, err, trace.ErrTampered)
	require.True(t, strings.HasPrefix(err.Error(), "trace: "), "%v", err)
	_, otherV := keys(t)
	require.ErrorIs(t, trace.VerifyInclusion(p, line, otherV), trace.ErrTampered, "another key")
	require.NoError(t, trace.VerifyInclusion(p, line, v))
}
