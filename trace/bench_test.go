// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"context"
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
// every 10, so an Ed25519 verification every 10 records weighs on it).
func BenchmarkVerifyDefault(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trace.jsonl")
	l, v := openLog(b, path, func(c *trace.FileLogConfig) { c.CheckpointEvery = 0 })
	for i := range 20000 {
		require.NoError(b, l.Record(context.Background(), event(i)))
	}
	require.NoError(b, l.Close())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := trace.Verify(path, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "records/s")
}
