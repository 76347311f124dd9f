// SPDX-License-Identifier: Apache-2.0

package mssante_test

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
	"github.com/ecdaf744/gomss/mssante"
)

const benchPDFSize = 10 << 20

func benchMessage(pdf []byte) *mssante.Message {
	m := reportMessage()
	m.Documents[0].PDF = mssante.BytesOpener(pdf)
	return m
}

// BenchmarkBuildMessage writes a complete MSSanté message carrying a 10 MB
// PDF: CDA level 1 (base64), IHE_XDM.ZIP (deflate, SHA-1), the zip and the
// PDF rendition base64-encoded as MIME parts.
func BenchmarkBuildMessage(b *testing.B) {
	pdf := testdocs.PDF("Compte rendu", benchPDFSize)
	b.Run("gomss", func(b *testing.B) {
		m := benchMessage(pdf)
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		for b.Loop() {
			if _, err := m.WriteTo(io.Discard); err != nil {
				b.Fatal(err)
			}
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

// BenchmarkParseMessage parses that message, opens its archive and
// verifies the document's SHA-1 and size; the floor decodes base64,
// inflates and hashes the same bytes.
func BenchmarkParseMessage(b *testing.B) {
	pdf := testdocs.PDF("Compte rendu", benchPDFSize)
	var raw bytes.Buffer
	if _, err := benchMessage(pdf).WriteTo(&raw); err != nil {
		b.Fatal(err)
	}
	// gomss reads the message from an io.Reader (Parse), gomss-bytes
	// parses it where it lies (ParseBytes: Raw is not a copy).
	for _, inPlace := range []bool{false, true} {
		name := "gomss"
		if inPlace {
			name = "gomss-bytes"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(pdf)))
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			for b.Loop() {
				var m *mssante.Received
				var err error
				if inPlace {
					m, err = mssante.ParseBytes(raw.Bytes(), nil)
				} else {
					m, err = mssante.Parse(bytes.NewReader(raw.Bytes()), nil)
				}
				if err != nil || m.XDM == nil {
					b.Fatal(err, m.XDMErr)
				}
				if err := m.XDM.Verify(); err != nil {
					b.Fatal(err)
				}
			}
			docbench.ReportAllocPer(b, &ms, benchPDFSize)
		})
	}
	var enc bytes.Buffer
	fw, _ := flate.NewWriter(&enc, 5)
	be := base64.NewEncoder(base64.StdEncoding, fw)
	be.Write(pdf)
	be.Close()
	fw.Close()
	wrapped := base64.StdEncoding.EncodeToString(enc.Bytes())
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		for b.Loop() {
			z, _ := base64.StdEncoding.DecodeString(wrapped)
			h := sha1.New()
			fr := flate.NewReader(bytes.NewReader(z))
			io.Copy(h, fr)
			h.Sum(nil)
		}
	})
}
