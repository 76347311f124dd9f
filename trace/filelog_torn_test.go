// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// tornFixture writes 50 records with two checkpoints, at 25 and at 50
// (CheckpointEvery out of reach: each Close signs one), and returns the
// config, the log lines and the checkpoints file's lines.
func tornFixture(t *testing.T) (FileLogConfig, note.Verifier, [][]byte, [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	cfg := flConfig(path, s, v)
	cfg.CheckpointEvery = 1000
	flWrite(t, cfg, 0, 25)
	flWrite(t, cfg, 25, 50)
	data, err := os.ReadFile(path + ".checkpoints")
	require.NoError(t, err)
	cls := bytes.SplitAfter(data, []byte("\n"))
	require.Len(t, cls, 3, "checkpoints at 25 and 50, then the empty tail")
	res, err := Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 50, res.Records)
	require.EqualValues(t, 0, res.Unsigned)
	return cfg, v, flLines(t, path), cls[:2]
}

// Issue 20 point 9: records removed or changed, with the last checkpoint
// line cut (at any length) to hide them, never verify and are never
// re-signed. Before, a partial last checkpoint line was ignored: the log
// verified as 25 records (or 50 with a changed last one) covered by the
// checkpoint at 25, and OpenFileLog cut the line and signed over it.
func TestTornCheckpointHidesNoTampering(t *testing.T) {
	cfg, v, lines, cls := tornFixture(t)
	path := cfg.Path
	head, recs := lines[0], lines[1:len(lines)-1] // last element: empty tail
	require.Len(t, recs, 50)

	var rl recordLine
	require.NoError(t, json.Unmarshal(recs[49], &rl))
	rl.Event.Response.Text = "5.7.1 refused" // the last record changed
	changed, err := json.Marshal(rl)
	require.NoError(t, err)

	logs := map[string][]byte{
		"last 25 records removed": bytes.Join(append([][]byte{head}, recs[:25]...), nil),
		"last record changed":     bytes.Join(append(append([][]byte{head}, recs[:49]...), append(changed, '\n')), nil),
	}
	cp50 := cls[1]
	rootEnd := bytes.Index(cp50, []byte(`\ntime `)) + 2 // the root line with its "\n"
	for name, log := range logs {
		for k := 1; k < len(cp50)-1; k++ { // every cut of the line, its '\n' excluded
			cps := append(append([]byte(nil), cls[0]...), cp50[:k]...)
			require.NoError(t, os.WriteFile(path, log, 0o600))
			require.NoError(t, os.WriteFile(path+".checkpoints", cps, 0o600))
			res, err := Verify(path, v)
			var ce *CorruptionError
			if !assert.ErrorAs(t, err, &ce, "%s, checkpoint line cut at %d: verifies (%+v)", name, k, res) {
				continue
			}
			assert.ErrorIs(t, err, ErrTampered)
			l, err := OpenFileLog(cfg)
			if !assert.ErrorIs(t, err, ErrTampered, "%s, cut at %d: OpenFileLog", name, k) {
				l.Close()
				continue
			}
			// Nor does RepairFileLog sign over a changed record whose
			// checkpoint line reaches past its root: only a line too short
			// to tell is cut, and the repair is then on record.
			rl, repaired, rerr := RepairFileLog(cfg, Actor{ID: "admin"})
			if rerr == nil {
				assert.True(t, repaired, "%s, cut at %d", name, k)
				rl.Close()
				assert.Less(t, k, rootEnd, "%s, cut at %d: RepairFileLog cut a line that reaches past the root", name, k)
			}
			if name == "last 25 records removed" {
				// The line names 50 records, the log has 25: cut only
				// while it stops before the "5".
				short := k <= len(`{"checkpoint":"gomss/trace\n`)
				assert.Equal(t, short, rerr == nil, "%s, cut at %d: RepairFileLog (%v)", name, k, rerr)
			}
			gotLog, _ := os.ReadFile(path)
			gotCPs, _ := os.ReadFile(path + ".checkpoints")
			if rerr != nil {
				assert.ErrorIs(t, rerr, ErrTampered)
				assert.Equal(t, log, gotLog, "%s, cut at %d: the log was changed", name, k)
				assert.Equal(t, cps, gotCPs, "%s, cut at %d: the checkpoints file was changed", name, k)
			}
		}
	}
}

// A checkpoint line genuinely cut by a crash: once it reaches past the
// tree root, Verify accepts it (IncompleteCheckpoint) and OpenFileLog cuts
// it and goes on; shorter, both refuse it and RepairFileLog cuts it,
// recording the repair (the length and SHA-256 of what it cut), and the
// log verifies afterwards with the repair event signed.
func TestTornCheckpointCrash(t *testing.T) {
	cfg, v, lines, cls := tornFixture(t)
	path := cfg.Path
	log := bytes.Join(lines, nil)
	cp50 := cls[1]
	rootEnd := bytes.Index(cp50, []byte(`\ntime `)) + 2 // the root line with its "\n"
	require.Greater(t, rootEnd, 2)
	auto, repairedN := 0, 0
	for k := 1; k < len(cp50)-1; k++ {
		cut := cp50[:k]
		cps := append(append([]byte(nil), cls[0]...), cut...)
		require.NoError(t, os.WriteFile(path, log, 0o600))
		require.NoError(t, os.WriteFile(path+".checkpoints", cps, 0o600))
		res, err := Verify(path, v)
		if k >= rootEnd {
			auto++
			require.NoError(t, err, "crash cut at %d (past the root at %d)", k, rootEnd)
			require.True(t, res.IncompleteCheckpoint)
			require.EqualValues(t, 50, res.Records)
			require.EqualValues(t, 25, res.Unsigned)
			l, err := OpenFileLog(cfg)
			require.NoError(t, err, "crash cut at %d", k)
			require.NoError(t, l.Close())
			res, err = Verify(path, v)
			require.NoError(t, err)
			require.False(t, res.IncompleteCheckpoint)
			require.EqualValues(t, 0, res.Unsigned)
			continue
		}
		repairedN++
		require.ErrorIs(t, err, ErrTampered, "crash cut at %d (before the root at %d)", k, rootEnd)
		_, err = OpenFileLog(cfg)
		require.ErrorIs(t, err, ErrTampered, "crash cut at %d", k)
		l, repaired, err := RepairFileLog(cfg, Actor{ID: "admin", Name: "Exploitation"})
		require.NoError(t, err, "crash cut at %d", k)
		require.True(t, repaired)
		require.NoError(t, l.Close())
		res, err = Verify(path, v)
		require.NoError(t, err, "after the repair of a cut at %d", k)
		require.False(t, res.IncompleteCheckpoint)
		require.EqualValues(t, 51, res.Records, "the repair event is recorded")
		require.EqualValues(t, 0, res.Unsigned, "and signed")
		got := flLines(t, path)
		require.Len(t, got, 53) // head, 51 records, empty tail
		require.Equal(t, log, bytes.Join(got[:51], nil), "records kept as they were")
		var rl recordLine
		require.NoError(t, json.Unmarshal(got[51], &rl))
		sum := sha256.Sum256(cut)
		assert.Equal(t, Repair, rl.Event.Action)
		assert.Equal(t, "admin", rl.Event.Actor.ID)
		assert.Equal(t, []string{fmt.Sprintf("bytes=%d", k), "sha256=" + hex.EncodeToString(sum[:]), "unvouched-from=25"}, rl.Event.Request.Params)
	}
	require.Positive(t, auto)
	require.Positive(t, repairedN)

	// On a log that verifies, RepairFileLog is OpenFileLog and records
	// nothing.
	l, repaired, err := RepairFileLog(cfg, Actor{ID: "admin"})
	require.NoError(t, err)
	require.False(t, repaired)
	require.NoError(t, l.Close())
	_, _, err = RepairFileLog(cfg, Actor{})
	require.Error(t, err, "no operator")
}
