// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"runtime"
	"testing"

	"github.com/ecdaf744/gomss/internal/docbench"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/require"
)

const benchPDFSize = 10 << 20

// BenchmarkBuild measures PDF → CDA level 1 → IHE_XDM.ZIP for a 10 MB PDF,
// and, in the same run, the floor: Go's base64 encoding, SHA-1 and deflate
// (level 5, as archive/zip) of the same bytes, with nothing else.
func BenchmarkBuild(b *testing.B) {
	pdf := testdocs.PDF("Compte rendu", benchPDFSize)
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	b.Run("gomss", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		for b.Loop() {
			w, err := xdm.NewWriter(io.Discard, options())
			require.NoError(b, err)
			if _, err := w.AddCDA(h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)}, nil); err != nil {
				b.Fatal(err)
			}
			require.NoError(b, w.Close())
		}
		docbench.ReportAllocPer(b, &ms, benchPDFSize)
	})
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		for b.Loop() {
			docbench.Floor(pdf)
		}
	})
}

// BenchmarkRead measures reading the archive back: directory and
// METADATA.XML, SHA-1 and size verification of the document, CDA header,
// and decoding of the PDF; the floor is inflate + SHA-1 + base64 decoding
// of the same bytes.
func BenchmarkRead(b *testing.B) {
	pdf := testdocs.PDF("Compte rendu", benchPDFSize)
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	var zipped bytes.Buffer
	w, _ := xdm.NewWriter(&zipped, options())
	if _, err := w.AddCDA(h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)}, nil); err != nil {
		b.Fatal(err)
	}
	w.Close()
	data := zipped.Bytes()
	b.Run("gomss", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		for b.Loop() {
			a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
			require.NoError(b, err)
			rc, err := a.Documents[0].Open()
			require.NoError(b, err)
			r := cda.NewReader(rc, nil)
			if _, err := r.Header(); err != nil {
				b.Fatal(err)
			}
			n, err := r.Body(io.Discard)
			if err != nil || n != int64(len(pdf)) {
				b.Fatal(n, err)
			}
			// Close reads the rest and checks SHA-1 and size.
			require.NoError(b, rc.Close())
		}
		docbench.ReportAllocPer(b, &ms, benchPDFSize)
	})
	// The floor works on the same deflated base64 stream.
	var enc bytes.Buffer
	fw, _ := flate.NewWriter(&enc, 5)
	be := base64.NewEncoder(base64.StdEncoding, fw)
	be.Write(pdf)
	be.Close()
	fw.Close()
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		for b.Loop() {
			fr := flate.NewReader(bytes.NewReader(enc.Bytes()))
			hs := sha1.New()
			dec := base64.NewDecoder(base64.StdEncoding, io.TeeReader(fr, hs))
			if _, err := io.Copy(io.Discard, dec); err != nil {
				b.Fatal(err)
			}
			hs.Sum(nil)
		}
	})
}
