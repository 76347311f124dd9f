// SPDX-License-Identifier: Apache-2.0

package cda_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante/cda"
)

// The official ANS example documents (ExemplesCDA of TestContenuCDA 3.0 at
// the kit's commit and in its history, and of TestContenuCDA 2.41), reduced
// to their headers: see ../../testdata/ans-examples/README.md.
const ansExamplesArchive = "../../testdata/ans-examples/ans-examples.tar.gz"

var updateANSExamples = flag.Bool("update-ans-examples", false,
	"rebuild "+ansExamplesArchive+" from the originals listed in $MSS_ANS_EXAMPLE_SOURCES (TSV: repo, commit, path, local file)")

// kitCommit is the TestContenuCDA 3.0 commit of ../shared/cda-kit.
const kitCommit = "7cd489b39368809df9bcf2cfef5e5d6354438a02"

type ansExample struct {
	Name   string // path in the zip, e.g. "3.0/IMG_CR_IMG_2024.01.xml"
	Repo   string
	Commit string
	Path   string // path in the repository
	SHA256 string // of the original file
	Data   []byte // the reduced document
}

// ansExamples returns the reduced official examples, in manifest order.
func ansExamples(t testing.TB) []ansExample {
	t.Helper()
	f, err := os.Open(ansExamplesArchive)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[h.Name] = b
	}
	read := func(name string) []byte {
		b, ok := files[name]
		require.True(t, ok, "%s: no entry %s", ansExamplesArchive, name)
		return b
	}
	var out []ansExample
	sc := bufio.NewScanner(bytes.NewReader(read("MANIFEST.tsv")))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		col := strings.Split(line, "\t")
		require.Len(t, col, 5, "MANIFEST.tsv line %q", line)
		out = append(out, ansExample{Name: col[0], Repo: col[1], Commit: col[2], Path: col[3], SHA256: col[4], Data: read(col[0])})
	}
	require.NoError(t, sc.Err())
	require.Len(t, files, len(out)+1, "every entry of %s is in its MANIFEST.tsv", ansExamplesArchive)
	return out
}

func ansExampleNamed(t testing.TB, name string) ansExample {
	t.Helper()
	for _, e := range ansExamples(t) {
		if e.Name == name {
			return e
		}
	}
	require.FailNowf(t, "no such example", "%s in %s", name, ansExamplesArchive)
	return ansExample{}
}

// reduceExample keeps the header of a CDA document as written (comments
// dropped) and replaces its body by a minimal one of the same kind: a
// level-1 body keeps its media type and representation with a few bytes of
// content; a structured body becomes one section with a title. A document
// wrapped in another element (self-presenting examples: an XSLT
// stylesheet) keeps its wrapper's start and end tags around the
// ClinicalDocument, and nothing else of it.
func reduceExample(data []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out bytes.Buffer
	var stack []xml.Name
	cdDepth := -1 // depth of ClinicalDocument's start tag
	prefix := ""
	open := -1 // once ClinicalDocument ended: how many of its ancestors are still open
	for {
		off := dec.InputOffset()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		raw := data[off:dec.InputOffset()]
		if _, ok := tok.(xml.Comment); ok {
			continue
		}
		if open >= 0 {
			// After the ClinicalDocument: only the end tags of its
			// ancestors, and what follows the root.
			switch tok.(type) {
			case xml.StartElement:
				stack = append(stack, xml.Name{})
			case xml.EndElement:
				stack = stack[:len(stack)-1]
				if len(stack) < open {
					open = len(stack)
					out.Write(raw)
				}
			default:
				if len(stack) == 0 {
					out.Write(raw)
				}
			}
			continue
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cdDepth < 0 && t.Name.Local == "ClinicalDocument" {
				cdDepth, prefix = len(stack), t.Name.Space
			}
			if cdDepth >= 0 && len(stack) == cdDepth+1 && t.Name.Local == "component" {
				body, err := minimalBody(dec, prefix)
				if err != nil {
					return nil, err
				}
				out.WriteString(body)
				continue
			}
			stack = append(stack, t.Name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == cdDepth {
				open = cdDepth
			}
		}
		out.Write(raw)
	}
	if cdDepth < 0 {
		return nil, errors.New("no ClinicalDocument")
	}
	return out.Bytes(), nil
}

// minimalBody consumes the ClinicalDocument's component (its start tag
// read) and returns the body written in its place.
func minimalBody(dec *xml.Decoder, prefix string) (string, error) {
	p := ""
	if prefix != "" {
		p = prefix + ":"
	}
	kind, mediaType, representation := "", "text/plain", "TXT"
	for depth := 1; depth > 0; {
		tok, err := dec.RawToken()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && kind == "" {
				kind = t.Name.Local
			}
			if depth == 3 && kind == "nonXMLBody" && t.Name.Local == "text" {
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "mediaType":
						mediaType = a.Value
					case "representation":
						representation = a.Value
					}
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	const note = "gomss test fixture: body removed"
	switch kind {
	case "nonXMLBody":
		content := note
		if representation == "B64" {
			b := []byte(note + "\n")
			if mediaType == "application/pdf" {
				b = []byte("%PDF-1.4\n% " + note + "\n%%EOF\n")
			}
			content = base64.StdEncoding.EncodeToString(b)
		}
		return fmt.Sprintf("<%[1]scomponent><%[1]snonXMLBody><%[1]stext mediaType=%[2]q representation=%[3]q>%[4]s</%[1]stext></%[1]snonXMLBody></%[1]scomponent>",
			p, mediaType, representation, content), nil
	case "structuredBody":
		return fmt.Sprintf("<%[1]scomponent><%[1]sstructuredBody><%[1]scomponent><%[1]ssection><%[1]stitle>%[2]s</%[1]stitle></%[1]ssection></%[1]scomponent></%[1]sstructuredBody></%[1]scomponent>", p, note), nil
	}
	return "", fmt.Errorf("component holds %q, not a body", kind)
}

// TestANSExamplesFixture checks the fixture's manifest (or, with
// -update-ans-examples, rebuilds the fixture from the originals): names
// unique and grouped by source, every reduced document readable, the
// example the issue names present.
func TestANSExamplesFixture(t *testing.T) {
	if *updateANSExamples {
		rebuildANSExamples(t)
	}
	examples := ansExamples(t)
	require.GreaterOrEqual(t, len(examples), 150)
	seen := map[string]bool{}
	for _, e := range examples {
		assert.False(t, seen[e.Name], "duplicate %s", e.Name)
		seen[e.Name] = true
		assert.Equal(t, path.Base(e.Path), path.Base(e.Name), "%s: name follows the original path", e.Name)
		assert.Len(t, e.SHA256, 64, e.Name)
		assert.Contains(t, []string{"ansforge/TestContenuCDA-3-0", "ansforge/TestContenuCDA-2-41"}, e.Repo, e.Name)
		_, err := cda.ReadHeader(bytes.NewReader(e.Data), nil)
		assert.NoError(t, err, e.Name)
	}
	assert.True(t, seen["3.0/IMG_CR_IMG_2024.01.xml"])
}

// rebuildANSExamples writes ansExamplesArchive from the originals. Documents
// identical to one already taken (same SHA-256) are kept once.
func rebuildANSExamples(t *testing.T) {
	src := os.Getenv("MSS_ANS_EXAMPLE_SOURCES")
	require.NotEmpty(t, src, "-update-ans-examples needs MSS_ANS_EXAMPLE_SOURCES")
	list, err := os.ReadFile(src)
	require.NoError(t, err)
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	tw := tar.NewWriter(gz)
	var manifest strings.Builder
	manifest.WriteString("# name\trepository\tcommit\tpath\tSHA-256 of the original\n")
	taken := map[string]bool{}
	var names []string
	entries := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		col := strings.Split(line, "\t")
		require.Len(t, col, 4, "sources line %q", line)
		repo, commit, p, local := col[0], col[1], col[2], col[3]
		data, err := os.ReadFile(local)
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		if taken[h] {
			continue
		}
		taken[h] = true
		group := "3.0-history"
		switch {
		case repo == "ansforge/TestContenuCDA-2-41":
			group = "2.41"
		case commit == kitCommit:
			group = "3.0"
		}
		name := group + "/" + path.Base(p)
		require.NotContains(t, entries, name)
		red, err := reduceExample(data)
		require.NoError(t, err, local)
		entries[name] = red
		names = append(names, name)
		fmt.Fprintf(&manifest, "%s\t%s\t%s\t%s\t%s\n", name, repo, commit, p, h)
	}
	sort.Strings(names)
	put := func(name string, b []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Format: tar.FormatPAX}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	put("MANIFEST.tsv", []byte(manifest.String()))
	for _, n := range names {
		put(n, entries[n])
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	require.NoError(t, os.WriteFile(ansExamplesArchive, buf.Bytes(), 0o644))
	t.Logf("wrote %s: %d documents, %d bytes", ansExamplesArchive, len(names), buf.Len())
}
