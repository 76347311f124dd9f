// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// witnessedLog writes n records (a checkpoint every 10 and at Close) and
// returns the checkpoints handed to OnCheckpoint, as kept elsewhere.
func witnessedLog(t *testing.T, n int) (string, note.Signer, note.Verifier, []*trace.Checkpoint) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	var kept []*trace.Checkpoint
	s, v := keys(t)
	l := openLogWith(t, path, s, v, func(c *trace.FileLogConfig) {
		c.OnCheckpoint = func(cp *trace.Checkpoint) { kept = append(kept, cp) }
	})
	for i := range n {
		require.NoError(t, l.Record(context.Background(), event(i)))
	}
	require.NoError(t, l.Close())
	return path, s, v, kept
}

func notesOf(cps []*trace.Checkpoint) []string {
	var s []string
	for _, c := range cps {
		s = append(s, c.Note)
	}
	return s
}

// Every checkpoint the log writes is handed to OnCheckpoint, the same as
// the one in the checkpoints file.
func TestOnCheckpoint(t *testing.T) {
	path, _, _, kept := witnessedLog(t, 25)
	var sizes []int64
	for _, c := range kept {
		sizes = append(sizes, c.Size)
	}
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 20 || sizes[2] != 25 {
		t.Fatalf("checkpoints handed over at sizes %v, want [10 20 25]", sizes)
	}
	data, err := os.ReadFile(path + ".checkpoints")
	require.NoError(t, err)
	for _, c := range kept {
		if !bytes.Contains(data, []byte(strings.ReplaceAll(c.Note, "\n", `\n`))) {
			t.Errorf("checkpoint %d handed over is not the one in the file", c.Size)
		}
	}
}

// The attacks the log alone cannot show — cut back to an earlier
// checkpoint, or rewritten with its checkpoints file deleted — pass Verify
// (as a shorter or unsigned log) and fail VerifyAgainst a checkpoint kept
// elsewhere; an honest log, grown since, passes it.
func TestVerifyAgainst(t *testing.T) {
	t.Run("cut back", func(t *testing.T) {
		path, _, v, kept := witnessedLog(t, 25)
		ls := lines(t, path)
		rewrite(t, path, ls[:21]) // head + records 0..19
		cps, _ := os.ReadFile(path + ".checkpoints")
		os.WriteFile(path+".checkpoints", cps[:bytes.IndexByte(cps, '\n')+1], 0o600) // only the one at 10
		res, err := trace.Verify(path, v)
		require.NoError(t, err, "the log alone: (expected to pass: nothing in it shows the cut)")
		require.EqualValues(t, 20, res.Records, "the log alone: (expected to pass: nothing in it shows the cut)")
		_, err = trace.VerifyAgainst(path, v, notesOf(kept)...)
		var ce *trace.CorruptionError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "kept elsewhere") || ce.Record != 20 {
			t.Errorf("VerifyAgainst: %v", err)
		}
	})
	t.Run("rewritten, checkpoints deleted", func(t *testing.T) {
		path, _, v, kept := witnessedLog(t, 25)
		rewrite(t, path, rewriteChain(lines(t, path)))
		os.Remove(path + ".checkpoints")
		res, err := trace.Verify(path, v)
		require.NoError(t, err, "the log alone: (expected to pass, all unsigned)")
		require.EqualValues(t, 0, res.Checkpoints, "the log alone: (expected to pass, all unsigned)")
		require.EqualValues(t, 25, res.Unsigned, "the log alone: (expected to pass, all unsigned)")
		_, err = trace.VerifyAgainst(path, v, notesOf(kept)...)
		var ce *trace.CorruptionError
		if !errors.As(err, &ce) || ce.Record != 10 {
			t.Errorf("VerifyAgainst: %v, want the records from 10 named", err)
		}
	})
	t.Run("honest, grown since", func(t *testing.T) {
		path, s, v, kept := witnessedLog(t, 25)
		l := openLogWith(t, path, s, v, nil)
		for i := 25; i < 32; i++ {
			require.NoError(t, l.Record(context.Background(), event(i)))
		}
		l.Close()
		res, err := trace.VerifyAgainst(path, v, kept[0].Note, kept[2].Note)
		require.NoError(t, err)
		require.EqualValues(t, 2, res.Witnessed)
		require.EqualValues(t, 32, res.Records)
		require.EqualValues(t, 4, res.Checkpoints)
		// A checkpoint signed by another key, or not a checkpoint.
		_, other := keys(t)
		_, err = trace.VerifyAgainst(path, other, kept[0].Note)
		assert.ErrorIs(t, err, trace.ErrTampered, "foreign key")
		if _, err := trace.VerifyAgainst(path, v, "gomss/trace\n10\n"); !errors.Is(err, trace.ErrTampered) || !strings.Contains(err.Error(), "kept elsewhere 1") {
			t.Errorf("not a note: %v", err)
		}
	})
	t.Run("pruned", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trace.jsonl")
		var kept []*trace.Checkpoint
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		s, v := keys(t)
		l := openLogWith(t, path, s, v, func(c *trace.FileLogConfig) {
			c.OnCheckpoint = func(cp *trace.Checkpoint) { kept = append(kept, cp) }
			c.Now = func() time.Time { return now }
		})
		for i := range 25 {
			require.NoError(t, l.Record(context.Background(), event(i)))
		}
		if _, err := l.Prune(event(15).Time); err != nil {
			t.Fatal(err)
		}
		l.Close()
		cut := kept[len(kept)-2] // Prune's, then Close's
		if cut.Size != 15 {
			t.Fatalf("cut checkpoint at %d", cut.Size)
		}
		res, err := trace.VerifyAgainst(path, v, notesOf(kept)...)
		// 10 (before the cut) cannot be checked; 15 (the cut), 20, 25 are.
		require.NoError(t, err)
		require.EqualValues(t, 15, res.Start)
		require.EqualValues(t, 3, res.Witnessed)
	})
}
