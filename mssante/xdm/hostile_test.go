// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante/xdm"
)

// rawEntry is a zip entry written as is: data is deflated here, and the
// central directory declares size as the uncompressed size, whatever
// data's real size.
type rawEntry struct {
	name string
	data []byte
	size uint64
}

func rawZip(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var comp bytes.Buffer
		fw, err := flate.NewWriter(&comp, flate.BestCompression)
		require.NoError(t, err)
		_, err = fw.Write(e.data)
		require.NoError(t, err)
		require.NoError(t, fw.Close())
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: e.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(e.data),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: e.size,
		})
		require.NoError(t, err)
		_, err = w.Write(comp.Bytes())
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestOpenReaderSizeOverflow: declared sizes whose sum wraps past 2^64
// passed OpenReader as a small total, and the entry declaring
// 2^64 - 2^20 then inflated as far as its data went (a 14.5 MB message
// held 10 GiB: issue 20, point 3). Each size is now checked against what
// is left of the limit: ErrLimit, whatever the order of the entries.
func TestOpenReaderSizeOverflow(t *testing.T) {
	doc := []byte("<ClinicalDocument/>")
	meta := fmt.Appendf(nil, drimStyle, sha1Hex(doc), len(doc))
	bomb := make([]byte, 4<<20) // deflates to some kilobytes
	huge := rawEntry{"IHE_XDM/SS000001/PAD.BIN", bomb, math.MaxUint64 - 1<<20 + 1}
	small := []rawEntry{
		{"IHE_XDM/SS000001/METADATA.XML", meta, uint64(len(meta))},
		{"IHE_XDM/SS000001/DOC_1.XML", doc, uint64(len(doc))},
		{"IHE_XDM/SS000001/FILL.BIN", make([]byte, 1<<20), 1 << 20}, // with huge, wraps to a small total
	}
	for _, order := range [][]rawEntry{append(small, huge), {huge, small[0], small[1], small[2]}} {
		data := rawZip(t, order...)
		_, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
		require.ErrorIs(t, err, xdm.ErrLimit)
		require.ErrorContains(t, err, "PAD.BIN")
	}
	// One entry alone at the limit passes; one byte more does not.
	lim := &xdm.Limits{MaxTotalSize: int64(len(meta) + len(doc))}
	data := rawZip(t, small[0], small[1])
	_, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), lim)
	require.NoError(t, err)
	lim.MaxTotalSize--
	_, err = xdm.OpenReader(bytes.NewReader(data), int64(len(data)), lim)
	require.ErrorIs(t, err, xdm.ErrLimit)
}

// TestDocumentStopsAtDeclaredSize: a document whose zip entry declares
// fewer bytes than its data inflates to is read no further than its
// declared size, and the read fails (ErrArchive), even when the metadata
// announces the larger size.
func TestDocumentStopsAtDeclaredSize(t *testing.T) {
	doc := bytes.Repeat([]byte("<ClinicalDocument/>"), 1<<16) // 1.2 MB
	meta := fmt.Appendf(nil, drimStyle, sha1Hex(doc), len(doc))
	data := rawZip(t,
		rawEntry{"IHE_XDM/SS000001/METADATA.XML", meta, uint64(len(meta))},
		rawEntry{"IHE_XDM/SS000001/DOC_1.XML", doc, 1000},
	)
	a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	require.Len(t, a.Documents, 1)
	rc, err := a.Documents[0].Open()
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, rc)
	require.ErrorIs(t, err, xdm.ErrArchive)
	require.ErrorIs(t, err, zip.ErrFormat)
	require.LessOrEqual(t, n, int64(1000))
	require.ErrorIs(t, rc.Close(), xdm.ErrArchive)
	require.ErrorIs(t, a.Verify(), xdm.ErrArchive)
}

// TestNamesFoldASCIIOnly: names are compared ignoring ASCII case only.
// "ſUBSET01" (long s, which strings.ToUpper turns into S) is another
// folder than SUBSET01: its METADATA.XML does not collide with
// SUBSET01's, and a URI naming SUBSET01 does not resolve into it (issue
// 20, point 5). ASCII case differences are still tolerated.
func TestNamesFoldASCIIOnly(t *testing.T) {
	doc := []byte("<ClinicalDocument/>")
	meta := fmt.Appendf(nil, drimStyle, sha1Hex(doc), len(doc))
	// Two subsets that Unicode folding confused: refused as duplicates.
	data := zipOf(t,
		entry{"IHE_XDM/SS000001/METADATA.XML", meta},
		entry{"IHE_XDM/SS000001/DOC_1.XML", doc},
		entry{"IHE_XDM/ſS000001/METADATA.XML", meta},
		entry{"IHE_XDM/ſS000001/DOC_1.XML", []byte("other")},
	)
	a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	require.Equal(t, "IHE_XDM/SS000001", a.Subset)
	require.Equal(t, []string{"IHE_XDM/ſS000001"}, a.Others)
	require.Equal(t, "IHE_XDM/SS000001/DOC_1.XML", a.Documents[0].Name)
	require.NoError(t, a.Verify())

	// The only document is under ſS000001: the URI SS000001/DOC_1.XML of
	// the subset SS000001 does not reach it.
	data = zipOf(t,
		entry{"IHE_XDM/SS000001/METADATA.XML", meta},
		entry{"IHE_XDM/ſS000001/DOC_1.XML", doc},
	)
	_, err = xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.ErrorIs(t, err, xdm.ErrArchive)
	require.ErrorContains(t, err, "no such file")

	// ASCII case is still folded.
	data = zipOf(t,
		entry{"ihe_xdm/ss000001/metadata.xml", meta},
		entry{"IHE_XDM/SS000001/doc_1.xml", doc},
	)
	a, err = xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	require.NoError(t, a.Verify())
}
