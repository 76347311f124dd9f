// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type entry struct {
	name string
	data []byte
}

func zipOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		require.NoError(t, err)
		fw.Write(e.data)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// drimStyle is METADATA.XML shaped like ANS's published DRIM-M example:
// no XML declaration, a prefix (ns3) that is never declared, unprefixed
// ebRIM elements without namespace, the submission-set classification
// inside the package, Slots after Classifications and ExternalIdentifiers,
// a URI that repeats the subset folder, upper-case SHA-1. Values are ours.
const drimStyle = `
	<ns3:SubmitObjectsRequest>
		<RegistryObjectList>
			<RegistryPackage id="SubmissionSet01">
				<Slot name="submissionTime"><ValueList><Value>20240116151112</Value></ValueList></Slot>
				<Name><LocalizedString charset="UTF8" value="Envoi" xml:lang="FR"/></Name>
				<Classification classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" id="cla2" nodeRepresentation="04">
					<Slot name="codingScheme"><ValueList><Value>1.2.250.1.213.2.2</Value></ValueList></Slot>
				</Classification>
				<Classification classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" classifiedObject="SubmissionSet01" id="cla3"/>
				<ExternalIdentifier id="ei1" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet01" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"/>
			</RegistryPackage>
			<ExtrinsicObject id="Doc1" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
				<Slot name="hash"><ValueList><Value>%s</Value></ValueList></Slot>
				<Name><LocalizedString charset="UTF8" value="CR" xml:lang="FR"/></Name>
				<Classification classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classifiedObject="Doc1" id="cla5" nodeRepresentation="10">
					<Slot name="codingScheme"><ValueList><Value>1.2.250.1.213.1.1.4.1</Value></ValueList></Slot>
				</Classification>
				<ExternalIdentifier id="ei4" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" registryObject="Doc1" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"/>
				<Slot name="size"><ValueList><Value>%d</Value></ValueList></Slot>
				<Slot name="URI"><ValueList><Value>SS000001/DOC_1.XML</Value></ValueList></Slot>
			</ExtrinsicObject>
		</RegistryObjectList>
	</ns3:SubmitObjectsRequest>`

func drimArchive(t testing.TB, doc []byte, hash string, size int) []byte {
	return zipOf(t,
		entry{"ihe_xdm/ss000001/metadata.xml", fmt.Appendf(nil, drimStyle, hash, size)},
		entry{"IHE_XDM/SS000001/DOC_1.XML", doc},
		entry{"README.TXT", []byte("x")},
	)
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestReadToleratesFieldArchives(t *testing.T) {
	doc := []byte("<ClinicalDocument/>")
	data := drimArchive(t, doc, strings.ToUpper(sha1Hex(doc)), len(doc))
	a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	if a.Subset != "ihe_xdm/ss000001" || len(a.Documents) != 1 || a.Documents[0].Name != "IHE_XDM/SS000001/DOC_1.XML" {
		t.Fatalf("subset %q, documents %+v", a.Subset, a.Documents)
	}
	m := a.Metadata
	if m.SubmissionSet.EntryUUID != "SubmissionSet01" || m.SubmissionSet.ContentType.Code != "04" ||
		m.SubmissionSet.PatientID != "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH" {
		t.Errorf("submission set %+v", m.SubmissionSet)
	}
	d := m.Documents[0]
	if d.Class.Code != "10" || d.Size != int64(len(doc)) || d.Title != "CR" {
		t.Errorf("entry %+v", d)
	}
	joined := strings.Join(a.Tolerated, "\n")
	for _, want := range []string{"subset folder", "Slot elements after Classification", "namespace", "includes the subset folder"} {
		if !strings.Contains(joined, want) {
			t.Errorf("tolerated list lacks %q:\n%s", want, joined)
		}
	}
	assert.NoError(t, a.Verify(), "verify")
}

func TestReadDetectsTampering(t *testing.T) {
	doc := []byte("<ClinicalDocument>original</ClinicalDocument>")
	other := []byte("<ClinicalDocument>tampered</ClinicalDocument>")
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"hash", drimArchive(t, other, sha1Hex(doc), len(doc)), xdm.ErrHashMismatch},
		{"size shorter", drimArchive(t, doc, sha1Hex(doc), len(doc)+1), xdm.ErrSizeMismatch},
		{"size longer", drimArchive(t, doc, sha1Hex(doc), len(doc)-1), xdm.ErrSizeMismatch},
		{"no hash", drimArchive(t, doc, "", len(doc)), xdm.ErrHashMismatch},
	}
	for _, c := range cases {
		a, err := xdm.OpenReader(bytes.NewReader(c.data), int64(len(c.data)), nil)
		require.NoError(t, err, "%s", c.name)
		if err := a.Verify(); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
		rc, _ := a.Documents[0].Open()
		if _, err := io.ReadAll(rc); !errors.Is(err, c.want) {
			t.Errorf("%s: reading = %v, want %v", c.name, err, c.want)
		}
	}
	// Our own archive, one byte of a document changed inside the zip.
	data, _ := archive(t, doc2(t))
	a, _ := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, a.Verify())
	meta := a.Metadata.Documents[0]
	meta.Hash = sha1Hex([]byte("x"))
	forged := rezip(t, data, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "METADATA.XML") {
			return bytes.Replace(b, []byte(a.Metadata.Documents[0].Hash), []byte(meta.Hash), 1)
		}
		return b
	})
	a, _ = xdm.OpenReader(bytes.NewReader(forged), int64(len(forged)), nil)
	assert.ErrorIs(t, a.Verify(), xdm.ErrHashMismatch, "forged metadata hash")
}

// Verify reads every document and names each one that fails, not only the
// first: here the first and third of three documents are altered, the
// second is intact.
func TestVerifyReportsEveryDocument(t *testing.T) {
	m := matrix()
	data, _ := archive(t, m["01-test-ipp-pdf-consultation"][0], m["06-two-authors-crh"][0], m["08-replacement"][0])
	a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err)
	if len(a.Documents) != 3 {
		t.Fatalf("%d documents", len(a.Documents))
	}
	first, second, third := a.Documents[0].Name, a.Documents[1].Name, a.Documents[2].Name
	forged := rezip(t, data, func(name string, b []byte) []byte {
		switch name {
		case first:
			return bytes.Replace(b, []byte("<ClinicalDocument"), []byte("<ClinicalDocumenT"), 1)
		case third:
			return append(b, ' ')
		}
		return b
	})
	a, err = xdm.OpenReader(bytes.NewReader(forged), int64(len(forged)), nil)
	require.NoError(t, err)
	err = a.Verify()
	if !errors.Is(err, xdm.ErrHashMismatch) || !errors.Is(err, xdm.ErrSizeMismatch) {
		t.Fatalf("Verify = %v, want both a hash and a size mismatch", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, first) || !strings.Contains(msg, third) || strings.Contains(msg, second) {
		t.Errorf("Verify = %q: want %s and %s named, not %s", msg, first, third, second)
	}
}

func doc2(t testing.TB) doc {
	return matrix()["01-test-ipp-pdf-consultation"][0]
}

func rezip(t testing.TB, data []byte, edit func(string, []byte) []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var es []entry
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		es = append(es, entry{f.Name, edit(f.Name, b)})
	}
	return zipOf(t, es...)
}

func TestReadRefusesHostileArchives(t *testing.T) {
	meta := fmt.Appendf(nil, drimStyle, "00", 1)
	many := []entry{{"IHE_XDM/S/METADATA.XML", meta}}
	for i := range 20 {
		many = append(many, entry{fmt.Sprintf("f%d", i), nil})
	}
	cases := []struct {
		name string
		data []byte
		lim  *xdm.Limits
		want error
	}{
		{"dot-dot", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", meta}, entry{"IHE_XDM/../../etc/passwd", nil}), nil, xdm.ErrUnsafe},
		{"absolute", zipOf(t, entry{"/etc/passwd", nil}), nil, xdm.ErrUnsafe},
		{"backslash", zipOf(t, entry{`IHE_XDM\..\x`, nil}), nil, xdm.ErrUnsafe},
		{"drive", zipOf(t, entry{`C:/x`, nil}), nil, xdm.ErrUnsafe},
		{"uri escapes", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", bytes.Replace(meta, []byte("SS000001/DOC_1.XML"), []byte("../../x"), 1)}), nil, xdm.ErrUnsafe},
		{"entries", zipOf(t, many...), &xdm.Limits{MaxEntries: 10}, xdm.ErrLimit},
		{"total size", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", meta}, entry{"big", make([]byte, 1<<20)}), &xdm.Limits{MaxTotalSize: 512 << 10}, xdm.ErrLimit},
		{"metadata size", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", append(meta, make([]byte, 4096)...)}), &xdm.Limits{MaxMetadataSize: 1024}, xdm.ErrLimit},
		{"no metadata", zipOf(t, entry{"README.TXT", nil}), nil, xdm.ErrArchive},
		{"metadata not in a subset", zipOf(t, entry{"METADATA.XML", meta}), nil, xdm.ErrArchive},
		{"missing document", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", meta}), nil, xdm.ErrArchive},
		{"duplicate names", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", meta}, entry{"ihe_xdm/s/metadata.xml", meta}), nil, xdm.ErrArchive},
		{"entity", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", []byte(`<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><SubmitObjectsRequest><RegistryObjectList>&a;</RegistryObjectList></SubmitObjectsRequest>`)}), nil, xdm.ErrMetadata},
		{"not xml", zipOf(t, entry{"IHE_XDM/S/METADATA.XML", []byte("PK\x03\x04")}), nil, xdm.ErrMetadata},
		{"not a zip", []byte("hello"), nil, xdm.ErrArchive},
	}
	for _, c := range cases {
		_, err := xdm.OpenReader(bytes.NewReader(c.data), int64(len(c.data)), c.lim)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestParseMetadataErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`<a/>`,
		`<SubmitObjectsRequest/>`,
		`<SubmitObjectsRequest><RegistryObjectList/></SubmitObjectsRequest>`,
		`<SubmitObjectsRequest><RegistryObjectList><RegistryPackage>`,
	} {
		_, err := xdm.ParseMetadata(strings.NewReader(in), 0)
		assert.ErrorIs(t, err, xdm.ErrMetadata, "%q", in)
	}
}

func FuzzOpenReader(f *testing.F) {
	data, _ := archive(f, doc2(f))
	f.Add(data)
	doc := []byte("<ClinicalDocument/>")
	f.Add(drimArchive(f, doc, sha1Hex(doc), len(doc)))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), &xdm.Limits{MaxTotalSize: 16 << 20})
		if err != nil {
			if !errors.Is(err, xdm.ErrArchive) && !errors.Is(err, xdm.ErrUnsafe) && !errors.Is(err, xdm.ErrLimit) && !errors.Is(err, xdm.ErrMetadata) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, d := range a.Documents {
			if strings.Contains(d.Name, "..") || strings.HasPrefix(d.Name, "/") {
				t.Fatalf("unsafe name accepted: %q", d.Name)
			}
		}
		a.Verify()
	})
}

func FuzzParseMetadata(f *testing.F) {
	var b bytes.Buffer
	_, meta := archive(f, doc2(f))
	meta.WriteTo(&b)
	f.Add(b.Bytes())
	f.Add(fmt.Appendf(nil, drimStyle, "ab", 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xdm.ParseMetadata(bytes.NewReader(data), 1<<20)
		if err != nil {
			require.ErrorIs(t, err, xdm.ErrMetadata, "unclassified error")
			return
		}
		// What was read writes and reads back to the same metadata.
		var out bytes.Buffer
		if _, err := m.Metadata.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		m2, err := xdm.ParseMetadata(&out, 0)
		if err != nil {
			t.Fatalf("rewritten metadata unreadable: %v\n%s", err, out.Bytes())
		}
		if len(m2.Documents) != len(m.Documents) || m2.SubmissionSet.PatientID != m.SubmissionSet.PatientID {
			t.Fatalf("rewrite lost data")
		}
	})
}

// A consumer that stops before EOF (cda.NewReader reads the header and the
// base64 body, not the end of the document) learns from Close that the
// document differs from its metadata. Close used to return nil.
func TestCloseReportsAlteredDocument(t *testing.T) {
	data, _ := archive(t, doc2(t))
	name := xdm.SubsetFolder + "/DOC0001.XML"
	alter := func(b []byte) []byte {
		i := bytes.Index(b, []byte(`representation="B64">`))
		if i < 0 {
			t.Fatal("no base64 body")
		}
		i += len(`representation="B64">`) + 200
		out := bytes.Clone(b)
		if out[i] == 'A' {
			out[i] = 'B'
		} else {
			out[i] = 'A'
		}
		return out
	}
	cases := []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"base64 character", alter, xdm.ErrHashMismatch},
		{"bytes after the document", func(b []byte) []byte { return append(bytes.Clone(b), "\n<!-- x -->\n"...) }, xdm.ErrSizeMismatch},
	}
	for _, c := range cases {
		forged := rezip(t, data, func(n string, b []byte) []byte {
			if n == name {
				return c.edit(b)
			}
			return b
		})
		a := open(t, forged)
		rc, err := a.Documents[0].Open()
		require.NoError(t, err)
		var pdf bytes.Buffer
		if _, err := cda.NewReader(rc, nil).Body(&pdf); err != nil {
			t.Fatalf("%s: the partial read already failed (%v): the test does not show the early stop", c.name, err)
		}
		err = rc.Close()
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: Close = %v, want %v naming %s", c.name, err, c.want, name)
		}
		if again := rc.Close(); again == nil || again.Error() != err.Error() {
			t.Errorf("%s: second Close = %v", c.name, again)
		}
	}
	// Intact: Close after a partial read is nil, and the metadata's size
	// still bounds what Close reads.
	a := open(t, data)
	rc, _ := a.Documents[0].Open()
	if _, err := cda.NewReader(rc, nil).Header(); err != nil {
		t.Fatal(err)
	}
	assert.NoError(t, rc.Close(), "intact document: Close =")
	doc := []byte("<ClinicalDocument>" + strings.Repeat("x", 1<<16) + "</ClinicalDocument>")
	small := drimArchive(t, doc, sha1Hex(doc), 100)
	a = open(t, small)
	rc, _ = a.Documents[0].Open()
	rc.Read(make([]byte, 10))
	if err := rc.Close(); !errors.Is(err, xdm.ErrSizeMismatch) || !strings.Contains(err.Error(), "more than 100 bytes") {
		t.Errorf("oversized document: Close = %v", err)
	}
}
