// SPDX-License-Identifier: Apache-2.0

package cda_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// allocDuring returns the bytes allocated while f runs (TotalAlloc). The
// tests using it do not run in parallel, so that the figure is f's own.
func allocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostileCDA is a ClinicalDocument whose header holds, inside <title>,
// what mk writes, then a level-1 body.
func hostileCDA(mk func(w *bytes.Buffer)) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>`)
	mk(&b)
	b.WriteString(`</title><component><nonXMLBody><text mediaType="text/plain">bonjour</text></nonXMLBody></component></ClinicalDocument>`)
	return b.Bytes()
}

// TestReadHeaderHostile: a header deeply nested (in the HL7 namespace or
// in a foreign one, which the reader skips but the XML decoder still
// stacks), one of millions of elements, or one of a huge text, is refused
// with an error wrapping ErrLimit, after reading a bounded part of it:
// the reader built a tree of the whole header, so that 8 MB of nesting
// cost some gigabytes (issue 20, point 2). What it allocates depends on
// the limits, not on the input: under 4 MB at the default depth; for the
// element and byte limits (about 400 bytes per element of the header
// tree, 3× the text), under 8 MB with a limit of 10,000 elements or
// 1 MiB, less than the 8 MB input the old reader built whole.
func TestReadHeaderHostile(t *testing.T) {
	const size = 8 << 20
	opts := map[string]*cda.ReadOptions{
		"wide":      {MaxElements: 10_000},
		"long text": {MaxHeaderBytes: 1 << 20},
	}
	bound := map[string]uint64{"deep HL7": 4 << 20, "deep foreign": 4 << 20, "wide": 8 << 20, "long text": 8 << 20}
	cases := map[string][]byte{
		"deep HL7": hostileCDA(func(b *bytes.Buffer) {
			b.WriteString(strings.Repeat("<a>", size/3))
		}),
		"deep foreign": hostileCDA(func(b *bytes.Buffer) {
			b.WriteString(`<x:a xmlns:x="urn:x">`)
			b.WriteString(strings.Repeat("<x:a>", size/5))
		}),
		"wide": hostileCDA(func(b *bytes.Buffer) {
			b.WriteString(strings.Repeat("<a/>", size/4))
		}),
		"long text": hostileCDA(func(b *bytes.Buffer) {
			b.WriteString(strings.Repeat("x", size))
		}),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			total := allocDuring(func() {
				_, err = cda.ReadHeader(bytes.NewReader(in), opts[name])
			})
			t.Logf("%d bytes in: %v; %d bytes allocated", len(in), err, total)
			require.ErrorIs(t, err, cda.ErrLimit)
			require.Less(t, total, bound[name], "allocated")
		})
	}
}

// TestReadHeaderLimitsOptions: each limit of ReadOptions is the one
// applied, at the exact count, and the body is read past them (the byte
// limit covers the header only: Body streams a body larger than it).
func TestReadHeaderLimitsOptions(t *testing.T) {
	nest := func(n int) []byte {
		return hostileCDA(func(b *bytes.Buffer) {
			b.WriteString(strings.Repeat("<a>", n) + strings.Repeat("</a>", n))
		})
	}
	// ClinicalDocument, title and n <a>: n+2 deep, n+2 elements.
	_, err := cda.ReadHeader(bytes.NewReader(nest(8)), &cda.ReadOptions{MaxDepth: 10})
	require.NoError(t, err)
	_, err = cda.ReadHeader(bytes.NewReader(nest(9)), &cda.ReadOptions{MaxDepth: 10})
	require.ErrorIs(t, err, cda.ErrLimit)
	require.ErrorContains(t, err, "nested more than 10 deep")
	// The elements up to the body's <text> count: n+5 in all.
	_, err = cda.ReadHeader(bytes.NewReader(nest(9)), &cda.ReadOptions{MaxElements: 14})
	require.NoError(t, err)
	_, err = cda.ReadHeader(bytes.NewReader(nest(10)), &cda.ReadOptions{MaxElements: 14})
	require.ErrorIs(t, err, cda.ErrLimit)
	require.ErrorContains(t, err, "more than 14 elements")

	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	pdf := testdocs.PDF("gros", 1<<20)
	out := build(t, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)})
	_, err = cda.ReadHeader(bytes.NewReader(out), &cda.ReadOptions{MaxHeaderBytes: 1024})
	require.ErrorIs(t, err, cda.ErrLimit)
	require.ErrorContains(t, err, "more than 1024 bytes before the body")
	r := cda.NewReader(bytes.NewReader(out), &cda.ReadOptions{MaxHeaderBytes: 128 << 10})
	_, err = r.Header()
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = r.Body(&body)
	require.NoError(t, err)
	require.Equal(t, pdf, body.Bytes())
}
