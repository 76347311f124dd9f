// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repeatReader yields head, then body n times, then tail, without holding
// them joined: the input of a test costs nothing to the allocation count,
// and it announces no length (no Len method), so the reader cannot refuse
// it before reading.
type repeatReader struct {
	head, body, tail string
	n                int
	off              int // offset in the current piece
	stage            int // 0 head, 1 body, 2 tail, 3 done
}

func (r *repeatReader) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) {
		var cur string
		switch r.stage {
		case 0:
			cur = r.head
		case 1:
			if r.n == 0 {
				r.stage, r.off = 2, 0
				continue
			}
			cur = r.body
		case 2:
			cur = r.tail
		default:
			if w == 0 {
				return 0, io.EOF
			}
			return w, nil
		}
		c := copy(p[w:], cur[r.off:])
		w += c
		r.off += c
		if r.off == len(cur) {
			r.off = 0
			if r.stage == 1 {
				r.n--
			} else {
				r.stage++
			}
		}
	}
	return w, nil
}

// size is the number of bytes the reader yields.
func (r *repeatReader) size() int64 {
	return int64(len(r.head) + r.n*len(r.body) + len(r.tail))
}

const (
	hostileHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">` +
		`<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration><ListeDomaines>`
	hostileEntry = "<Domaine><Nom>cabinet-exemple.mssante.fr</Nom><Description>Cabinet d'exemple</Description>" +
		"<DNCertificatOperateur>CN=operateur.exemple.fr,O=Operateur,C=FR</DNCertificatOperateur>" +
		"<ResponsableContact>contact@exemple.fr</ResponsableContact><SupportContact>support@exemple.fr</SupportContact>" +
		"<DateMAJ>2025-03-13T14:54:10Z</DateMAJ></Domaine>\n"
)

// allocated returns the bytes allocated by f (TotalAlloc before and after).
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkAlloc asserts got <= bound, except under the race detector (whose
// instrumentation allocates on its own).
func checkAlloc(t *testing.T, got, bound uint64, what string) {
	t.Helper()
	t.Logf("%s: %.1f MB allocated (bound %.1f MB)", what, float64(got)/1e6, float64(bound)/1e6)
	if testenv.Race {
		t.Log("race detector: allocation bound not checked")
		return
	}
	assert.LessOrEqual(t, got, bound, "%s: bytes allocated", what)
}

// TestListeBlancheTooLarge: a 70 MB liste blanche (well-formed entries) is
// refused with ErrLimit once DefaultMaxSize+1 bytes are read, without
// being parsed. Before the fix it was parsed up to the former 64 MiB
// limit: 528 MB allocated (832 MB in the measure), 5 s.
//
// Bound: the reader keeps the bytes it reads, DefaultMaxSize+1 of them, in
// chunks it allocates once each and never copies; twice that leaves room
// for the runtime and the test, and is far below what parsing costs (8 to
// 10 times the input).
func TestListeBlancheTooLarge(t *testing.T) {
	r := &repeatReader{head: hostileHead, body: hostileEntry, n: 70e6 / len(hostileEntry), tail: "</ListeDomaines>"}
	require.Greater(t, r.size(), int64(69e6))
	var err error
	got := allocated(func() { _, err = Parse(r) })
	require.ErrorIs(t, err, ErrLimit)
	assert.Contains(t, err.Error(), fmt.Sprintf("larger than %d bytes", DefaultMaxSize))
	checkAlloc(t, got, 2*DefaultMaxSize, "70 MB file")

	// A reader that announces its length is refused before it is read.
	data := bytes.Repeat([]byte(hostileEntry), 70e6/len(hostileEntry))
	br := bytes.NewReader(data)
	got = allocated(func() { _, err = Parse(br) })
	require.ErrorIs(t, err, ErrLimit)
	assert.Equal(t, len(data), br.Len(), "nothing read")
	checkAlloc(t, got, 64<<10, "70 MB bytes.Reader")
}

// TestListeBlancheDeepNesting: 20 MB of nested elements (the case:
// 1 GB allocated before the fix, 1.9 GB measured here) is refused for the
// cost of reading DefaultMaxSize+1 bytes (same bound as the 70 MB file),
// and a nesting the size allows is refused at DefaultMaxDepth, for the
// cost of holding the input once: the decoder stops 33 elements in. The
// reader's chunks double up to 4 MiB and the last one may be mostly
// unused: the bound is the input, 4 MiB and 1 MiB for the rest.
func TestListeBlancheDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		msg   string
		bound uint64
	}{
		{"20 MB", 20e6, fmt.Sprintf("larger than %d bytes", DefaultMaxSize), 2 * DefaultMaxSize},
		{"15 MB", 15e6, fmt.Sprintf("nested more than %d deep", DefaultMaxDepth), 15e6 + 5<<20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &repeatReader{head: hostileHead, body: "<a>", n: tc.size / 3}
			var err error
			got := allocated(func() { _, err = Parse(r) })
			require.ErrorIs(t, err, ErrLimit)
			assert.Contains(t, err.Error(), tc.msg)
			checkAlloc(t, got, tc.bound, tc.name+" of nesting")
		})
	}
}

// TestListeBlancheManyAttributes: a tag of 250,000 attributes, which the
// XML decoder would build at about 50 times its size, is stopped at the
// token bound; tags of fewer attributes in their thousands are stopped
// by MaxElements, which counts attributes. Measured before the fix: 15 MB
// of attributes in one tag allocated 1.57 GB.
//
// Bound: the input held once (at most 16 MB) plus what the decoder builds
// for tokens within the limits, about 250 bytes an attribute or element
// (DefaultMaxElements of them: 125 MB) and 50 times one token of at most
// 1 MiB: 200 MB in all, against 1.57 GB.
func TestListeBlancheManyAttributes(t *testing.T) {
	attrs := strings.Repeat(`a="" `, 250_000)
	for _, tc := range []struct {
		name string
		r    *repeatReader
		msg  string
	}{
		{"one tag", &repeatReader{head: hostileHead + "</ListeDomaines><X " + attrs, body: "", tail: "/>"}, "token"},
		{"many tags", &repeatReader{head: hostileHead + "</ListeDomaines>", body: `<X ` + attrs[:500_000] + "/>", n: 15}, "elements and attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Less(t, tc.r.size(), int64(DefaultMaxSize))
			var err error
			got := allocated(func() { _, err = Parse(tc.r) })
			require.ErrorIs(t, err, ErrLimit)
			assert.Contains(t, err.Error(), tc.msg)
			checkAlloc(t, got, 200e6, tc.name)
		})
	}
}

// hideLen hides a reader's Len method, so that the size limit is met while
// reading rather than announced.
type hideLen struct{ io.Reader }

// TestListeBlancheLimitsExact: each limit accepts its exact value and
// refuses one less; the counts are taken from the fixture by an
// independent pass of encoding/xml.
func TestListeBlancheLimitsExact(t *testing.T) {
	data, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	require.NoError(t, err)
	sum, err := os.ReadFile("../../testdata/annuaire/listeblanche.checksum")
	require.NoError(t, err)
	// Depth and elements (with attributes) of the fixture, counted by a
	// non-strict decoder (the fixture lacks its closing root tag).
	depth, maxDepth, elements := 0, 0, 0
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			maxDepth = max(maxDepth, depth)
			elements += 1 + len(t.Attr)
		case xml.EndElement:
			depth--
		}
	}
	require.Equal(t, 4, maxDepth, "ListeBlancheMSSante/ListeDomaines/Domaine/Nom")
	require.Greater(t, elements, 10)

	for _, tc := range []struct {
		name     string
		ok, over Limits
		msg      string
	}{
		{"size", Limits{MaxSize: int64(len(data))}, Limits{MaxSize: int64(len(data)) - 1}, "larger than"},
		{"depth", Limits{MaxDepth: maxDepth}, Limits{MaxDepth: maxDepth - 1}, fmt.Sprintf("nested more than %d deep", maxDepth-1)},
		{"elements", Limits{MaxElements: elements}, Limits{MaxElements: elements - 1}, fmt.Sprintf("more than %d elements", elements-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []func() io.Reader{
				func() io.Reader { return bytes.NewReader(data) },
				func() io.Reader { return hideLen{bytes.NewReader(data)} },
			} {
				lb, err := ReadWithLimits(r(), string(sum), &tc.ok)
				require.NoError(t, err, "at the limit")
				assert.True(t, lb.Contains("medecin.mssante.fr"))
				_, err = ReadWithLimits(r(), string(sum), &tc.over)
				require.ErrorIs(t, err, ErrLimit, "past the limit")
				assert.Contains(t, err.Error(), tc.msg)
			}
		})
	}

	// The token bound: a text of maxToken-1 bytes is read, one more byte
	// is refused.
	for _, n := range []int{maxToken - 1, maxToken} {
		in := hostileHead + "<Domaine><Nom>a.mssante.fr</Nom><Description>" + strings.Repeat("d", n) +
			"</Description></Domaine></ListeDomaines>"
		lb, err := Parse(hideLen{strings.NewReader(in)})
		if n < maxToken {
			require.NoError(t, err, "text of %d bytes", n)
			assert.Len(t, lb.Domains[0].Description, n)
		} else {
			require.ErrorIs(t, err, ErrLimit, "text of %d bytes", n)
			assert.Contains(t, err.Error(), fmt.Sprintf("longer than %d bytes", maxToken-1))
		}
	}
}

// TestListeBlancheDefaults: the defaults apply to zero fields and to a nil
// *Limits, and the fixture parses under them as under Parse.
func TestListeBlancheDefaults(t *testing.T) {
	var nilLimits *Limits
	assert.Equal(t, Limits{MaxSize: DefaultMaxSize, MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxElements}, nilLimits.withDefaults())
	assert.Equal(t, Limits{MaxSize: 7, MaxDepth: DefaultMaxDepth, MaxElements: 9}, (&Limits{MaxSize: 7, MaxElements: 9}).withDefaults())
	data, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	require.NoError(t, err)
	a, err := Parse(hideLen{bytes.NewReader(data)})
	require.NoError(t, err)
	b, err := ParseWithLimits(bytes.NewReader(data), &Limits{})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Len(t, a.Domains, strings.Count(string(data), "<Domaine>"))
}
