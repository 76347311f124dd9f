// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var created = time.Date(2026, 11, 24, 10, 30, 0, 0, testdocs.Paris)

func options() xdm.Options {
	return xdm.Options{
		SourceID:     "1.2.250.1.999.1.2",
		ContentType:  xdm.Code{Code: "04"},
		Sender:       "Dr Marcel CAMPARINI",
		Organization: "Centre de santé des Lilas",
		Application:  xdm.Application{Name: "gomss-test", Version: "0.1", Vendor: "gomss"},
		Now:          func() time.Time { return created.Add(time.Minute) },
	}
}

type doc struct {
	h    *cda.Header
	body cda.Body
	opts *xdm.DocumentOptions
}

func archive(t testing.TB, docs ...doc) ([]byte, *xdm.Metadata) {
	t.Helper()
	var buf bytes.Buffer
	w, err := xdm.NewWriter(&buf, options())
	require.NoError(t, err)
	for _, d := range docs {
		if _, err := w.AddCDA(d.h, d.body, d.opts); err != nil {
			t.Fatalf("AddCDA: %v", err)
		}
	}
	require.NoError(t, w.Close())
	return buf.Bytes(), w.Metadata()
}

func pdfBody(size int) cda.Body {
	return cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(testdocs.PDF("Compte rendu", size))}
}

func open(t testing.TB, data []byte) *xdm.Archive {
	t.Helper()
	a, err := xdm.OpenReader(bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err, "OpenReader")
	return a
}

func TestWriteReadRoundTrip(t *testing.T) {
	p := testdocs.Patient("test", true)
	h1 := testdocs.Header(p, "11488-4", created)
	h2 := testdocs.Header(p, "11490-0", created.Add(time.Second))
	h2.Title = "Lettre de liaison"
	text := "Lettre de liaison en texte.\n"
	data, meta := archive(t,
		doc{h: h1, body: pdfBody(20_000)},
		doc{h: h2, body: cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader(text)}})

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	want := []string{"IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/DOC0002.XML", "IHE_XDM/SUBSET01/METADATA.XML", "README.TXT", "INDEX.HTM"}
	assert.Equal(t, want, names, "archive entries")

	a := open(t, data)
	if len(a.Tolerated) != 0 {
		t.Errorf("our own archive needed tolerance: %v", a.Tolerated)
	}
	got := a.Metadata.Metadata
	assert.Equal(t, *meta, got, "metadata differs after the round trip")
	require.NoError(t, a.Verify())
	d := got.Documents[0]
	checks := map[string][2]string{
		"patientId":       {d.PatientID, "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"},
		"sourcePatientId": {d.SourcePatientID, "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI"},
		"creationTime":    {d.CreationTime, "20261124093000"},
		"serviceStart":    {d.ServiceStartTime, "20261124083000"},
		"serviceStop":     {d.ServiceStopTime, "20261124090000"},
		"typeCode":        {d.Type.Code + "|" + d.Type.Scheme, "11488-4|2.16.840.1.113883.6.1"},
		"classCode":       {d.Class.Code + "|" + d.Class.Scheme, "10|1.2.250.1.213.1.1.4.1"},
		"formatCode":      {d.Format.Code + "|" + d.Format.Scheme, "urn:ihe:iti:xds-sd:pdf:2008|1.3.6.1.4.1.19376.1.2.3"},
		"facility":        {d.FacilityType.Code + "|" + d.FacilityType.Scheme, "SA07|1.2.250.1.71.4.2.4"},
		"practice":        {d.PracticeSetting.Code + "|" + d.PracticeSetting.Scheme, "AMBULATOIRE|1.2.250.1.213.1.1.4.9"},
		"confidentiality": {d.Confidentiality[0].Code + "|" + d.Confidentiality[0].Scheme, "N|2.16.840.1.113883.5.25"},
		"authorPerson":    {d.Authors[0].Person, "801234567890^CAMPARINI^Marcel^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"},
		"institution":     {d.Authors[0].Institutions[0], "Centre de santé des Lilas^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750803447"},
		"specialty":       {d.Authors[0].Specialties[0], "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"},
		"legalAuth":       {d.LegalAuthenticator, "801234567890^CAMPARINI^Marcel^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"},
		"uniqueId":        {d.UniqueID, "1.2.250.1.999.1.1.4242^20261124103000"},
		"language":        {d.LanguageCode, "fr-FR"},
		"mimeType":        {d.MimeType, "text/xml"},
		"URI":             {d.URI, "DOC0001.XML"},
		"set patientId":   {got.SubmissionSet.PatientID, d.PatientID},
		"set time":        {got.SubmissionSet.SubmissionTime, "20261124093100"},
		"set content":     {got.SubmissionSet.ContentType.Code + "|" + got.SubmissionSet.ContentType.Scheme, "04|1.2.250.1.213.2.2"},
		"format 2":        {got.Documents[1].Format.Code, "urn:ihe:iti:xds-sd:text:2008"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if len(d.SourcePatientInfo) == 0 || d.SourcePatientInfo[0] != "PID-3|279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH~1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI" {
		t.Errorf("sourcePatientInfo %q", d.SourcePatientInfo)
	}
	if len(got.Associations) != 2 || got.Associations[0].Type != xdm.AssociationHasMember || got.Associations[0].SubmissionSetStatus != "Original" ||
		got.Associations[0].Source != got.SubmissionSet.EntryUUID || got.Associations[1].Target != got.Documents[1].EntryUUID {
		t.Errorf("associations %+v", got.Associations)
	}

	// The documents read back are the CDA documents built, bodies included.
	rc0, err := a.Documents[0].Open()
	require.NoError(t, err)
	r0 := cda.NewReader(rc0, nil)
	var pdf bytes.Buffer
	if _, err := r0.Body(&pdf); err != nil || !bytes.Equal(pdf.Bytes(), testdocs.PDF("Compte rendu", 20_000)) {
		t.Errorf("document 1: the PDF read back differs from the one written (%v)", err)
	}
	assert.NoError(t, rc0.Close(), "document 1: Close")
	var direct bytes.Buffer
	require.NoError(t, cda.Write(&direct, h1, pdfBody(20_000)))
	rc0, _ = a.Documents[0].Open()
	inZip, _ := io.ReadAll(rc0)
	if !bytes.Equal(inZip, direct.Bytes()) {
		t.Error("DOC0001.XML differs from cda.Write of the same header and body")
	}
	rc, err := a.Documents[1].Open()
	require.NoError(t, err)
	r := cda.NewReader(rc, nil)
	hdr, err := r.Header()
	require.NoError(t, err)
	var body strings.Builder
	_, err = r.Body(&body)
	assert.NoError(t, err, "document 2: %q %q %v", hdr.Header.Title, body.String(), err)
	assert.EqualValues(t, text, body.String(), "document 2: %q %q %v", hdr.Header.Title, body.String(), err)
	assert.EqualValues(t, "Lettre de liaison", hdr.Header.Title, "document 2: %q %q %v", hdr.Header.Title, body.String(), err)
	assert.NoError(t, rc.Close(), "document 2: Close")

	// README.TXT and INDEX.HTM name the sender and the documents.
	for _, f := range zr.File {
		if f.Name != "README.TXT" && f.Name != "INDEX.HTM" {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		for _, s := range []string{"Centre de santé des Lilas", "DOC0002.XML"} {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("%s lacks %q", f.Name, s)
			}
		}
		if f.Name == "INDEX.HTM" && !bytes.Contains(b, []byte(`href="README.TXT"`)) {
			t.Error("INDEX.HTM does not link README.TXT")
		}
		if f.Name == "README.TXT" && !bytes.Contains(b, []byte("gomss-test, version 0.1, editeur gomss")) {
			t.Errorf("README.TXT lacks the application: %s", b)
		}
	}
}

func TestReplacementAssociation(t *testing.T) {
	p := testdocs.Patient("test", true)
	orig := testdocs.Header(p, "11488-4", created)
	data1, meta1 := archive(t, doc{h: orig, body: pdfBody(1000)})
	_ = data1
	h := testdocs.Header(p, "11488-4", created.Add(time.Hour))
	h.SetID, h.Version, h.Replaces = orig.ID, 2, &orig.ID
	_, meta2 := archive(t, doc{h: h, body: pdfBody(1000)})
	var rplc *xdm.Association
	for i, a := range meta2.Associations {
		if a.Type == xdm.AssociationReplace {
			rplc = &meta2.Associations[i]
		}
	}
	if rplc == nil {
		t.Fatal("no RPLC association")
	}
	if rplc.Source != meta2.Documents[0].EntryUUID || rplc.Target != meta1.Documents[0].EntryUUID {
		t.Errorf("RPLC %s → %s, want %s → %s", rplc.Source, rplc.Target, meta2.Documents[0].EntryUUID, meta1.Documents[0].EntryUUID)
	}
	// An explicit target wins.
	_, meta3 := archive(t, doc{h: h, body: pdfBody(1000), opts: &xdm.DocumentOptions{ReplacedEntryUUID: "urn:uuid:00000000-0000-4000-8000-000000000001"}})
	if meta3.Associations[1].Target != "urn:uuid:00000000-0000-4000-8000-000000000001" {
		t.Errorf("explicit RPLC target ignored: %+v", meta3.Associations)
	}
}

func TestPatientIDWithoutINS(t *testing.T) {
	p := testdocs.Patient("test", true)
	p.Status = ins.Validated
	var buf bytes.Buffer
	w, _ := xdm.NewWriter(&buf, options())
	e, err := w.AddCDA(testdocs.Header(p, "11488-4", created), pdfBody(1000), nil)
	require.NoError(t, err)
	assert.EqualValues(t, "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI", e.PatientID, "patientId %q hasINS %v", e.PatientID, w.HasINS())
	assert.False(t, w.HasINS(), "patientId %q hasINS %v", e.PatientID, w.HasINS())
	for _, l := range e.SourcePatientInfo {
		if strings.Contains(l, "279035121518989") {
			t.Errorf("the INS of a non-qualified identity leaked into sourcePatientInfo: %q", l)
		}
	}
}

func TestWriterRefusals(t *testing.T) {
	if _, err := xdm.NewWriter(io.Discard, xdm.Options{ContentType: xdm.Code{Code: "04"}}); !errors.Is(err, xdm.ErrWriter) {
		t.Errorf("no SourceID: %v", err)
	}
	o := options()
	o.ContentType.Code = "ZZ"
	_, err := xdm.NewWriter(io.Discard, o)
	assert.ErrorIs(t, err, xdm.ErrWriter, "bad content type")
	w, _ := xdm.NewWriter(io.Discard, options())
	assert.ErrorIs(t, w.Close(), xdm.ErrWriter, "empty archive")
	w, _ = xdm.NewWriter(io.Discard, options())
	if _, err := w.AddCDA(testdocs.Header(testdocs.Patient("test", true), "11488-4", created), pdfBody(500), nil); err != nil {
		t.Fatal(err)
	}
	_, err = w.AddCDA(testdocs.Header(testdocs.Patient("nir", true), "11488-4", created), pdfBody(500), nil)
	assert.ErrorIs(t, err, xdm.ErrWriter, "second patient")
	if _, err := w.AddCDA(testdocs.Header(testdocs.Patient("test", true), "11488-4", created), pdfBody(500),
		&xdm.DocumentOptions{Masking: []xdm.Code{{Code: "SECRET", Scheme: "1.2.250.1.213.1.1.4.13"}}}); !errors.Is(err, xdm.ErrEntry) {
		t.Errorf("unknown masking code: %v", err)
	}
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	h.Title = ""
	_, err = w.AddCDA(h, pdfBody(500), nil)
	assert.ErrorIs(t, err, cda.ErrInvalid, "invalid header")
}

// AddDocument wraps a CDA made elsewhere; the INS it carries must be the
// one of the identity the sender vouches for.
func TestAddDocument(t *testing.T) {
	p := testdocs.Patient("nir", true)
	var cdaDoc bytes.Buffer
	require.NoError(t, cda.Write(&cdaDoc, testdocs.Header(p, "18748-4", created), pdfBody(30_000)))
	var buf bytes.Buffer
	w, _ := xdm.NewWriter(&buf, options())
	_, err := w.AddDocument(bytes.NewReader(cdaDoc.Bytes()), testdocs.Patient("test", true), nil)
	assert.ErrorIs(t, err, xdm.ErrEntry, "another patient's INS accepted")
	e, err := w.AddDocument(bytes.NewReader(cdaDoc.Bytes()), p, nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	a := open(t, buf.Bytes())
	require.NoError(t, a.Verify())
	rc, _ := a.Documents[0].Open()
	b, _ := io.ReadAll(rc)
	if !bytes.Equal(b, cdaDoc.Bytes()) || e.Size != int64(cdaDoc.Len()) || e.Class.Code != "31" {
		t.Errorf("copied document differs (%d vs %d bytes) or class %q", len(b), cdaDoc.Len(), e.Class.Code)
	}
}

// A structured (level 3) document made elsewhere gets its formatCode from
// its volet templateId through ASS_A11.
func TestAddStructuredDocument(t *testing.T) {
	p := testdocs.Patient("test", true)
	var b bytes.Buffer
	require.NoError(t, cda.Write(&b, testdocs.Header(p, "11490-0", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")}))
	s := b.String()
	s = strings.Replace(s, `<templateId root="1.3.6.1.4.1.19376.1.2.20"/>`, `<templateId root="1.2.250.1.213.1.1.1.29" extension="2022.01"/>`, 1)
	i, j := strings.Index(s, "<component>"), strings.LastIndex(s, "</component>")
	s = s[:i] + "<component><structuredBody><component><section/></component></structuredBody>" + s[j:]
	var buf bytes.Buffer
	w, _ := xdm.NewWriter(&buf, options())
	e, err := w.AddDocument(strings.NewReader(s), p, nil)
	require.NoError(t, err)
	if e.Format.Code != "urn:asip:ci-sis:ldl-ses:2017" || e.Class.Code != "10" || e.Size != int64(len(s)) {
		t.Errorf("format %+v class %+v size %d", e.Format, e.Class, e.Size)
	}
	// Without a volet templateId known to ASS_A11 there is no formatCode.
	s2 := strings.Replace(s, "1.2.250.1.213.1.1.1.29", "1.2.3.4.5", 1)
	w, _ = xdm.NewWriter(io.Discard, options())
	_, err = w.AddDocument(strings.NewReader(s2), p, nil)
	assert.ErrorIs(t, err, xdm.ErrEntry, "unknown volet")
}

// An Add that fails once the document's zip entry is started (here a
// replacement whose body is not the PDF its media type says) fails the
// Writer: later Adds and Close return an error wrapping the first one, and
// nothing of the failed document (entry, RPLC association) is recorded. It
// used to accept the next document under the same entry name
// (DOC0001.XML twice) with the RPLC association attached to it.
func TestWriterFailedAddIsFinal(t *testing.T) {
	p := testdocs.Patient("test", true)
	orig := testdocs.Header(p, "11488-4", created)
	repl := testdocs.Header(p, "11488-4", created.Add(time.Hour))
	repl.SetID, repl.Version, repl.Replaces = orig.ID, 2, &orig.ID
	var buf bytes.Buffer
	w, _ := xdm.NewWriter(&buf, options())
	_, first := w.AddCDA(repl, cda.Body{MediaType: cda.MediaTypePDF, Content: strings.NewReader("not a PDF")}, nil)
	if !errors.Is(first, cda.ErrBody) {
		t.Fatalf("non-PDF body: %v", first)
	}
	if m := w.Metadata(); len(m.Documents) != 0 || len(m.Associations) != 0 {
		t.Errorf("the failed document left metadata: %+v", m)
	}
	_, err := w.AddCDA(testdocs.Header(p, "11490-0", created), pdfBody(500), nil)
	if !errors.Is(err, xdm.ErrWriter) || !errors.Is(err, cda.ErrBody) {
		t.Errorf("AddCDA after a failure = %v, want ErrWriter wrapping the first error", err)
	}
	var cdaDoc bytes.Buffer
	cda.Write(&cdaDoc, testdocs.Header(p, "11490-0", created), pdfBody(500))
	if _, err := w.AddDocument(&cdaDoc, p, nil); !errors.Is(err, xdm.ErrWriter) || !errors.Is(err, cda.ErrBody) {
		t.Errorf("AddDocument after a failure = %v", err)
	}
	for i := range 2 {
		if err := w.Close(); !errors.Is(err, xdm.ErrWriter) || !errors.Is(err, cda.ErrBody) {
			t.Errorf("Close #%d after a failure = %v", i+1, err)
		}
	}
	if m := w.Metadata(); len(m.Documents) != 0 || len(m.Associations) != 0 {
		t.Errorf("metadata after a failure: %+v", m)
	}
	_, err = xdm.OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	assert.Error(t, err, "a failed Writer produced a readable archive")
}

// Errors found before the document's entry is started leave the Writer
// usable, and record nothing (no RPLC association without its document).
func TestWriterValidationErrorKeepsWriter(t *testing.T) {
	p := testdocs.Patient("test", true)
	orig := testdocs.Header(p, "11488-4", created)
	repl := testdocs.Header(p, "11488-4", created.Add(time.Hour))
	repl.SetID, repl.Version, repl.Replaces = orig.ID, 2, &orig.ID
	var buf bytes.Buffer
	w, _ := xdm.NewWriter(&buf, options())
	if _, err := w.AddCDA(repl, pdfBody(500), &xdm.DocumentOptions{Masking: []xdm.Code{{Code: "SECRET", Scheme: "1.2.250.1.213.1.1.4.13"}}}); !errors.Is(err, xdm.ErrEntry) {
		t.Fatalf("unknown masking code: %v", err)
	}
	bad := testdocs.Header(p, "11488-4", created)
	bad.Title = ""
	_, err := w.AddCDA(bad, pdfBody(500), nil)
	require.ErrorIs(t, err, cda.ErrInvalid, "invalid header")
	require.ErrorIs(t, w.Close(), xdm.ErrWriter, "empty archive")
	if _, err := w.AddCDA(testdocs.Header(p, "11490-0", created), pdfBody(500), nil); err != nil {
		t.Fatal(err)
	}
	require.NoError(t, w.Close())
	a := open(t, buf.Bytes())
	require.NoError(t, a.Verify())
	if m := a.Metadata; len(m.Documents) != 1 || len(m.Associations) != 1 || m.Associations[0].Type != xdm.AssociationHasMember {
		t.Errorf("documents %d, associations %+v", len(m.Documents), m.Associations)
	}
}

// failingWriter accepts everything until failing is set, then fails every
// write (a disk that fills up).
type failingWriter struct{ failing bool }

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.failing {
		return 0, errDiskFull
	}
	return len(p), nil
}

// A Close that fails writing fails the Writer: a second Close does not
// report success.
func TestWriterFailedCloseIsFinal(t *testing.T) {
	fw := &failingWriter{}
	w, _ := xdm.NewWriter(fw, options())
	if _, err := w.AddCDA(testdocs.Header(testdocs.Patient("test", true), "11488-4", created), pdfBody(100), nil); err != nil {
		t.Fatal(err)
	}
	fw.failing = true
	first := w.Close()
	if first == nil {
		t.Fatal("Close on a failing writer succeeded")
	}
	assert.ErrorIs(t, w.Close(), errDiskFull, "a second Close reports the first error")
}
