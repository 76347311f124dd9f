// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// Issue 20 point 10: Verify streams the log. Over 20,000 records (a file
// of several MB) the live heap, sampled after a GC every 1,000 records
// while the records are read, stays within 256 KiB of its first sample:
// no record, line or event is kept (the Merkle tree is a frontier of
// log2(n) hashes). A Verify that read the file whole, or kept the lines,
// would grow by the file's size. (The checkpoints, one per
// CheckpointEvery records, are read before the records and are part of
// the first sample.)
func TestVerifyFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20,000 records")
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	cfg := flConfig(path, s, v)
	cfg.CheckpointEvery = 1000
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	const n = 20000
	for i := range n {
		require.NoError(t, l.Record(context.Background(), flEvent(i)))
	}
	require.NoError(t, l.Close())
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(4<<20), "the log is several MB")

	var ms runtime.MemStats
	var first, peak uint64
	samples := 0
	res, err := verifyFile(path, note.VerifierList(v), func(seq int64, _ time.Time, _ []byte) bool {
		if (seq+1)%1000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if samples == 0 {
				first = ms.HeapAlloc
			}
			peak = max(peak, ms.HeapAlloc)
			samples++
		}
		return true
	})
	require.NoError(t, err)
	require.EqualValues(t, n, res.Records)
	require.Equal(t, n/1000, samples)
	t.Logf("live heap: %d KiB at record 999, at most %d KiB over %d records (file %d KiB)", first>>10, peak>>10, n, st.Size()>>10)
	require.Less(t, peak-first, uint64(256<<10), "the live heap grows with the records read")
}

// Issue 20 point 10: Verify allocates almost nothing per record (it read
// each record into an Event, 4.2 KB and 37 allocations a record): over
// 20,000 records and their 20 checkpoints, less than 1 MiB in all (the
// 256 KiB read buffer, the checkpoints), against 84 MB before.
func TestVerifyAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20,000 records")
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	cfg := flConfig(path, s, v)
	cfg.CheckpointEvery = 1000
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	const n = 20000
	for i := range n {
		require.NoError(t, l.Record(context.Background(), flEvent(i)))
	}
	require.NoError(t, l.Close())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := Verify(path, v)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.EqualValues(t, n, res.Records)
	require.EqualValues(t, n/1000, res.Checkpoints)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Verify of %d records allocated %d KiB (%d B a record)", n, alloc>>10, alloc/n)
	if testenv.Race {
		t.Log("race detector: the allocation bound is not checked")
		return
	}
	require.Less(t, alloc, uint64(1<<20), "Verify allocates per record")
}
