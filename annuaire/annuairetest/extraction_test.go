// SPDX-License-Identifier: Apache-2.0

package annuairetest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteExtractionDeterministic(t *testing.T) {
	gen := func(seed uint64) ([32]byte, Stats) {
		var b bytes.Buffer
		st, err := WriteExtraction(&b, ExtractionOptions{Rows: 3000, Seed: seed})
		require.NoError(t, err)
		if int64(b.Len()) != st.Bytes {
			t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, b.Len())
		}
		return sha256.Sum256(b.Bytes()), st
	}
	a, _ := gen(1)
	b, _ := gen(1)
	c, _ := gen(2)
	if a != b {
		t.Error("same options, different bytes")
	}
	if a == c {
		t.Error("different seeds, same bytes")
	}
}

// TestWriteExtractionShape checks the generated file against the shape of
// the real one (August 2026): 31 columns, ~85 % PER, a heavy-tailed domain
// distribution, ~166 bytes per row, unique addresses but for the shared ones.
func TestWriteExtractionShape(t *testing.T) {
	var b bytes.Buffer
	st, err := WriteExtraction(&b, ExtractionOptions{Rows: 40000, Seed: 3})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != Header || len(lines) != 40001 || st.Rows != 40000 {
		t.Fatalf("%d lines, stats %+v", len(lines), st)
	}
	perDomain := map[string]int{}
	addrs := map[string]int{}
	per := 0
	for _, l := range lines[1:] {
		f := strings.Split(l, "|")
		if len(f) != 31 {
			t.Fatalf("%d columns in %q", len(f), l)
		}
		if f[0] == "PER" {
			per++
			if f[4] != f[2]+f[3] {
				t.Fatalf("IDNPS %q is not type %q + id %q", f[4], f[2], f[3])
			}
		}
		addrs[strings.ToLower(f[1])]++
		perDomain[f[1][strings.IndexByte(f[1], '@')+1:]]++
	}
	if share := float64(per) / 40000; share < 0.83 || share > 0.87 {
		t.Errorf("PER share %.3f, want ≈ 0.85", share)
	}
	shared := 0
	for _, n := range addrs {
		if n > 1 {
			shared++
		}
	}
	if shared != st.SharedAddrs || shared == 0 {
		t.Errorf("%d addresses on two rows, stats say %d", shared, st.SharedAddrs)
	}
	counts := make([]int, 0, len(perDomain))
	for _, n := range perDomain {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	top, median := counts[len(counts)-1], counts[len(counts)/2]
	if float64(top)/40000 < 0.08 || median > 10 {
		t.Errorf("domains: top holds %d rows, median %d: not heavy-tailed", top, median)
	}
	if avg := float64(st.Bytes) / 40000; avg < 150 || avg > 180 {
		t.Errorf("%.0f bytes per row, want ≈ 166", avg)
	}
}
