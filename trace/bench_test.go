// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/require"
)

// BenchmarkRecord measures events per second into the file log, buffered
// and durable (group-commit fsync, parallel callers), and, in the same
// run, slog's JSON handler writing the same events to a file (the peer:
// what a vendor's ordinary logging costs).
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	e := event(1)
	b.Run("filelog-buffered", func(b *testing.B) {
		l, _ := openLog(b, filepath.Join(b.TempDir(), "t.jsonl"), func(c *trace.FileLogConfig) { c.CheckpointEvery = 1000 })
		defer l.Close()
		b.ReportAllocs()
		for b.Loop() {
			require.NoError(b, l.Record(ctx, e))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("filelog-durable-parallel", func(b *testing.B) {
		l, _ := openLog(b, filepath.Join(b.TempDir(), "t.jsonl"), func(c *trace.FileLogConfig) { c.Durable = true; c.CheckpointEvery = 1000 })
		defer l.Close()
		b.SetParallelism(16)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Record(ctx, e); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("filelog-durable-serial", func(b *testing.B) {
		l, _ := openLog(b, filepath.Join(b.TempDir(), "t.jsonl"), func(c *trace.FileLogConfig) { c.Durable = true; c.CheckpointEvery = 1000 })
		defer l.Close()
		for b.Loop() {
			require.NoError(b, l.Record(ctx, e))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("slog-json-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "slog.json"))
		require.NoError(b, err)
		defer f.Close()
		r := trace.NewSlogRecorder(slog.NewJSONHandler(f, nil))
		b.ReportAllocs()
		for b.Loop() {
			require.NoError(b, r.Record(ctx, e))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkVerify measures verification speed (records per second).
func BenchmarkVerify(b *testing.B) {
	path, v := writeLog(b, 20000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := trace.Verify(path, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkVerifyDefault measures verification speed with the default
// CheckpointEvery (1,000 records a checkpoint; BenchmarkVerify signs one
// every 10, so an Ed25519 verification every 10 records weighs on it),
// and in the same run the floor: reading the same file line by line and
// taking the SHA-256 of each line, the least any verifier of a hash chain
// does (Verify hashes each line twice: its Merkle leaf and its chain
// hash, and reads its fields).
func BenchmarkVerifyDefault(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trace.jsonl")
	l, v := openLog(b, path, func(c *trace.FileLogConfig) { c.CheckpointEvery = 0 })
	const n = 20000
	for i := range n {
		require.NoError(b, l.Record(context.Background(), event(i)))
	}
	require.NoError(b, l.Close())
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := trace.Verify(path, v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if lines := hashLines(b, path); lines != n+1 {
				b.Fatalf("%d lines", lines)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// hashLines reads the file line by line and takes the SHA-256 of each
// line; it returns the number of lines.
func hashLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	require.NoError(b, err)
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	lines := 0
	var sink byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			sum := sha256.Sum256(line)
			sink ^= sum[0]
			lines++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(b, err)
	}
	_ = sink
	return lines
}
