// SPDX-License-Identifier: Apache-2.0

// Package docbench holds what the document benchmarks of several packages
// (mssante, xdm) share: the floor they compare with and the alloc/pdf
// metric. It imports testing, so it is kept apart from testdocs, which the
// quickstart program links.
package docbench

import (
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"runtime"
	"testing"
)

// Floor does, once, the least work any CDA + XDM build of pdf must do:
// Go's base64 encoding, deflate at level 5 (as archive/zip) and SHA-1 of
// the encoded bytes, nothing else. Benchmarks compare with it.
func Floor(pdf []byte) {
	fw, _ := flate.NewWriter(io.Discard, 5)
	h := sha1.New()
	enc := base64.NewEncoder(base64.StdEncoding, io.MultiWriter(fw, h))
	enc.Write(pdf)
	enc.Close()
	fw.Close()
	h.Sum(nil)
}

// ReportAllocPer reports the bytes allocated per operation since before,
// divided by size, as the metric "alloc/pdf": an upper bound of the heap an
// operation adds at its peak (it cannot hold more than it allocated).
func ReportAllocPer(b *testing.B, before *runtime.MemStats, size int) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(size), "alloc/pdf")
}
