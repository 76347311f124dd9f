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
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/require"
)

// fixedLog writes the same 7-record log (and checkpoints every 3 records;
// small, so that the fuzzer's minimisation of a 2 KB input stays short)
// in every process: a key derived from a fixed seed, fixed event ids and a
// fixed clock, so
// that the fuzzing workers and the coordinator agree on the original.
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

// FuzzVerify feeds Verify, VerifyAgainst and Scan altered logs and
// checkpoint files:
// Verify never panics, refuses with a *CorruptionError (wrapping
// ErrTampered) or accepts; when it accepts, every record a checkpoint
// covers is byte for byte the one written (a record can only be changed
// past the last signed checkpoint, and Verify counts those as Unsigned);
// VerifyAgainst the last checkpoint accepts only the log as written.
func FuzzVerify(f *testing.F) {
	origLog, origCP, v, last := fixedLog(f, f.TempDir())
	origLines := bytes.SplitAfter(origLog, []byte("\n"))
	if again, cp, _, _ := fixedLog(f, f.TempDir()); !bytes.Equal(again, origLog) || !bytes.Equal(cp, origCP) {
		f.Fatal("the fixed log differs from one writing to the next: workers would not agree on it")
	}
	if res, err := trace.Verify(filepath.Join(f.TempDir(), "none"), v); err == nil {
		f.Fatalf("a missing log verifies: %+v", res)
	}
	f.Add(origLog, origCP)
	f.Add(origLog[:len(origLog)-7], origCP)
	f.Add(bytes.Replace(origLog, []byte("dest4"), []byte("dest5"), 1), origCP)
	f.Add(origLog, origCP[:len(origCP)/2])
	f.Add(origLog, []byte{})
	f.Add([]byte(`{"head":{"version":1,"origin":"gomss/trace","start":3}}`+"\n"), origCP)
	path := filepath.Join(f.TempDir(), "trace.jsonl") // one call at a time per process
	f.Fuzz(func(t *testing.T, logData, cpData []byte) {
		require.NoError(t, os.WriteFile(path, logData, 0o600))
		require.NoError(t, os.WriteFile(path+".checkpoints", cpData, 0o600))
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
	})
}
