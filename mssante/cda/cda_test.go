package cda_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
)

var created = time.Date(2026, 11, 24, 10, 30, 0, 0, testdocs.Paris)

func build(t testing.TB, h *cda.Header, body cda.Body) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := cda.Write(&buf, h, body); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	pdf := testdocs.PDF("Compte rendu", 50_000)
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	out := build(t, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)})

	r := cda.NewReader(bytes.NewReader(out), nil)
	doc, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Header
	if got.ID != h.ID || got.SetID != h.ID || got.Version != 1 {
		t.Errorf("ids: got %+v setId %+v version %d", got.ID, got.SetID, got.Version)
	}
	if got.Type != (cda.Code{Code: "11488-4", System: cda.CodeSystemLOINC, Display: "CR ou fiche de consultation ou de visite"}) {
		t.Errorf("type %+v", got.Type)
	}
	if got.Title != h.Title || got.Language != "fr-FR" || got.Confidentiality.Code != "N" {
		t.Errorf("title/lang/conf: %q %q %+v", got.Title, got.Language, got.Confidentiality)
	}
	if !got.EffectiveTime.Time.Equal(created) || got.EffectiveTime.String() != "20261124103000+0100" {
		t.Errorf("effectiveTime %v (%s)", got.EffectiveTime.Time, got.EffectiveTime)
	}
	if doc.PatientErr != nil {
		t.Fatalf("patient: %v", doc.PatientErr)
	}
	if m := doc.Patient.Identity.INS.Matricule.String(); m != "279035121518989" {
		t.Errorf("INS %q", m)
	}
	if doc.Patient.Identity.Status != "" {
		t.Errorf("a read identity must have no status, got %q", doc.Patient.Identity.Status)
	}
	if len(got.Authors) != 1 || got.Authors[0].Person == nil || got.Authors[0].Person.ID.Extension != "801234567890" ||
		got.Authors[0].Person.Specialty.Display != "Médecin - Qualifié en Médecine Générale (SM)" ||
		got.Authors[0].Person.Organization.ID != (cda.II{Root: cda.OIDIDNST, Extension: "1750803447"}) {
		t.Errorf("author %+v", got.Authors)
	}
	if got.LegalAuthenticator.Person.Name.Family != "CAMPARINI" || got.Custodian.ID.Extension != "1750803447" {
		t.Errorf("legal authenticator / custodian: %+v %+v", got.LegalAuthenticator, got.Custodian)
	}
	if len(got.ServiceEvents) != 1 || got.ServiceEvents[0].PracticeSetting.Code != "AMBULATOIRE" ||
		got.ServiceEvents[0].Performer == nil || got.ServiceEvents[0].High.IsZero() {
		t.Errorf("service event %+v", got.ServiceEvents)
	}
	if got.Encounter.FacilityType.Code != "SA07" || got.Encounter.FacilityType.System != "1.2.250.1.71.4.2.4" {
		t.Errorf("encounter %+v", got.Encounter)
	}
	wantT := []cda.II{{Root: cda.TemplateHL7France}, {Root: cda.TemplateCISIS}, {Root: cda.TemplateXDSSD}}
	if len(got.TemplateIDs) != 3 || got.TemplateIDs[0] != wantT[0] || got.TemplateIDs[2] != wantT[2] {
		t.Errorf("templateIds %+v", got.TemplateIDs)
	}
	if doc.Level != 1 || doc.MediaType != cda.MediaTypePDF || doc.Representation != "B64" {
		t.Errorf("body: level %d %s %s", doc.Level, doc.MediaType, doc.Representation)
	}
	var body bytes.Buffer
	n, err := r.Body(&body)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(pdf)) || !bytes.Equal(body.Bytes(), pdf) {
		t.Errorf("body: %d bytes, differ from the %d written", n, len(pdf))
	}
	if _, err := r.Body(io.Discard); !errors.Is(err, cda.ErrNoBody) {
		t.Errorf("second Body: %v, want ErrNoBody", err)
	}
	if len(doc.Tolerated) != 0 {
		t.Errorf("our own document needed tolerance: %v", doc.Tolerated)
	}
}

func TestWriteTextBodyAndReplacement(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("nia", false), "11490-0", created)
	orig := h.ID
	h.ID.Extension += "-2"
	h.SetID = orig
	h.Version = 2
	h.Replaces = &orig
	text := "Lettre de liaison.\nÀ l'attention du Dr Martin <urgent> & co.\n"
	out := build(t, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader(text)})
	if !bytes.Contains(out, []byte(`<relatedDocument typeCode="RPLC">`)) {
		t.Error("no RPLC relatedDocument")
	}
	r := cda.NewReader(bytes.NewReader(out), nil)
	doc, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Header.Replaces == nil || *doc.Header.Replaces != orig || doc.Header.SetID != orig || doc.Header.Version != 2 {
		t.Errorf("replacement: %+v set %+v v%d", doc.Header.Replaces, doc.Header.SetID, doc.Header.Version)
	}
	if doc.Patient.Identity.INS.Authority != ins.AuthorityNIA {
		t.Errorf("authority %s", doc.Patient.Identity.INS.Authority)
	}
	var b strings.Builder
	if _, err := r.Body(&b); err != nil || b.String() != text {
		t.Errorf("text body %q, %v", b.String(), err)
	}
}

// A non-qualified identity is written without its INS, with the IPP only:
// the INS never leaves through a CDA unless the identity is QUAL.
func TestNonQualifiedIdentityHasNoINS(t *testing.T) {
	p := testdocs.Patient("test", true)
	p.Status = ins.Recovered
	out := build(t, testdocs.Header(p, "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
	if bytes.Contains(out, []byte("279035121518989")) || bytes.Contains(out, []byte("1.2.250.1.213.1.4.10")) {
		t.Error("the INS of a RECUP identity was written")
	}
	if !bytes.Contains(out, []byte(`extension="1234567890121"`)) {
		t.Error("the IPP is missing")
	}
	// Without IPP there is nothing to identify the patient: refused.
	p.LocalIDs = nil
	err := cda.Write(io.Discard, testdocs.Header(p, "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
	if !errors.Is(err, cda.ErrInvalid) || !errors.Is(err, ins.ErrRecordTarget) {
		t.Errorf("got %v, want ErrInvalid wrapping ins.ErrRecordTarget", err)
	}
}

func TestValidateNamesElementAndRule(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(h *cda.Header)
		element string
		is      error
	}{
		{"no id", func(h *cda.Header) { h.ID = cda.II{} }, "id", nil},
		{"bad root", func(h *cda.Header) { h.ID.Root = "1.2.abc" }, "id", nil},
		{"unknown type", func(h *cda.Header) { h.Type.Code = "99999-9" }, "code", nil},
		{"type wrong system", func(h *cda.Header) { h.Type.System = "1.2.3" }, "code", nil},
		{"no title", func(h *cda.Header) { h.Title = " " }, "title", nil},
		{"no time", func(h *cda.Header) { h.EffectiveTime = cda.TS{} }, "effectiveTime", nil},
		{"confidentiality", func(h *cda.Header) { h.Confidentiality.Code = "MASQUE_PS" }, "confidentialityCode", nil},
		{"language", func(h *cda.Header) { h.Language = "fr" }, "languageCode", nil},
		{"no patient", func(h *cda.Header) { h.Patient = nil }, "recordTarget", nil},
		{"qualified without traits", func(h *cda.Header) { h.Patient.Traits.BirthPlace = "" }, "recordTarget", ins.ErrTraits},
		{"no author", func(h *cda.Header) { h.Authors = nil }, "author", nil},
		{"author without specialty", func(h *cda.Header) { h.Authors[0].Person.Specialty = cda.Code{} }, "author[1]/assignedAuthor/code", nil},
		{"specialty not in J01", func(h *cda.Header) { h.Authors[0].Person.Specialty.Code = "G15_10/XX99" }, "author[1]/assignedAuthor/code", nil},
		{"bad RPPS", func(h *cda.Header) { h.Authors[0].Person.ID.Extension = "10101010101" }, "author[1]/assignedAuthor/id", nil},
		{"bad prefix", func(h *cda.Header) { h.Authors[0].Person.Name.Prefix = "Dr" }, "author[1]/assignedAuthor/assignedPerson/name/prefix", nil},
		{"person and device", func(h *cda.Header) { h.Authors[0].Device = &cda.Device{} }, "author[1]/assignedAuthor", nil},
		{"device incomplete", func(h *cda.Header) {
			h.Authors[0] = cda.Author{Time: h.Authors[0].Time, Device: &cda.Device{ID: cda.II{Root: "1.2.3"}, Organization: h.Authors[0].Person.Organization}}
		}, "author[1]/assignedAuthor/assignedAuthoringDevice", nil},
		{"custodian", func(h *cda.Header) { h.Custodian.ID = cda.II{} }, "custodian/assignedCustodian/representedCustodianOrganization/id", nil},
		{"bad FINESS form", func(h *cda.Header) { h.Custodian.ID.Extension = "9750803447" }, "custodian/assignedCustodian/representedCustodianOrganization/id", nil},
		{"legal authenticator", func(h *cda.Header) { h.LegalAuthenticator = cda.LegalAuthenticator{} }, "legalAuthenticator/time", nil},
		{"no service event", func(h *cda.Header) { h.ServiceEvents = nil }, "documentationOf", nil},
		{"practice setting", func(h *cda.Header) { h.ServiceEvents[0].PracticeSetting.Code = "HOPITAL" }, "documentationOf[1]/serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode", nil},
		{"service start", func(h *cda.Header) { h.ServiceEvents[0].Low = cda.TS{} }, "documentationOf[1]/serviceEvent/effectiveTime/low", nil},
		{"facility", func(h *cda.Header) { h.Encounter.FacilityType = cda.Code{} }, "componentOf/encompassingEncounter/location/healthCareFacility/code", nil},
		{"replacement v1", func(h *cda.Header) { r := cda.II{Root: "1.2.3.4"}; h.Replaces = &r }, "versionNumber", nil},
		{"version 2 without setId", func(h *cda.Header) { h.Version = 2 }, "setId", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
			if err := h.Validate(); err != nil {
				t.Fatalf("base header invalid: %v", err)
			}
			c.mutate(h)
			err := h.Validate()
			var ve *cda.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, cda.ErrInvalid) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			found := false
			for _, p := range ve.Problems {
				if p.Field == c.element {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem on %s in %v", c.element, err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("%v does not wrap %v", err, c.is)
			}
			// Write refuses and writes nothing.
			var buf bytes.Buffer
			if werr := cda.Write(&buf, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")}); werr == nil || buf.Len() != 0 {
				t.Errorf("Write: %v, %d bytes written", werr, buf.Len())
			}
		})
	}
}

func TestWriteBodyChecks(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	for _, b := range []cda.Body{
		{MediaType: cda.MediaTypePDF, Content: strings.NewReader("not a pdf")},
		{MediaType: "image/jpeg", Content: strings.NewReader("x")},
		{MediaType: cda.MediaTypePDF},
	} {
		if err := cda.Write(io.Discard, h, b); !errors.Is(err, cda.ErrBody) {
			t.Errorf("%s: got %v, want ErrBody", b.MediaType, err)
		}
	}
}

func TestParseTS(t *testing.T) {
	for _, c := range []struct {
		in, out, utc string
		prec         cda.Precision
		noZone       bool
	}{
		{"20210401134745+0100", "20210401134745+0100", "20210401124745", cda.Second, false},
		{"20210401134745", "20210401134745", "20210401124745", cda.Second, true},
		{"202101040735+0100", "202101040735+0100", "202101040635", cda.Minute, false},
		{"20210401", "20210401", "20210401", cda.Day, true},
		{"20210401134745.123-0500", "20210401134745-0500", "20210401184745", cda.Second, false},
	} {
		ts, err := cda.ParseTS(c.in, testdocs.Paris)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if ts.String() != c.out || ts.UTC() != c.utc || ts.Precision != c.prec || ts.NoZone != c.noZone {
			t.Errorf("%s: %s utc %s prec %d nozone %v", c.in, ts, ts.UTC(), ts.Precision, ts.NoZone)
		}
	}
	for _, bad := range []string{"", "2021", "20211301", "2021-04-01", "20210401T1200"} {
		if _, err := cda.ParseTS(bad, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{`<html/>`, cda.ErrNotCDA},
		{`<ClinicalDocument/>`, cda.ErrNotCDA}, // no namespace
		{`<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</titl></ClinicalDocument>`, cda.ErrMalformed},
		{`<ClinicalDocument xmlns="urn:hl7-org:v3"><title>`, cda.ErrMalformed},
		{`<!DOCTYPE x [<!ENTITY e "boom">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>`, cda.ErrMalformed},
		{``, cda.ErrMalformed},
	} {
		_, err := cda.ReadHeader(strings.NewReader(c.in), nil)
		if !errors.Is(err, c.want) {
			t.Errorf("%q: got %v, want %v", c.in, err, c.want)
		}
	}
}

// The reader copes with what is in the field: prefixed elements, a body in
// several lines with comments and CDATA, ISO-8859-1, a self-closing text,
// a structured body.
func TestReadVariants(t *testing.T) {
	const head = `<hl7:ClinicalDocument xmlns:hl7="urn:hl7-org:v3" xmlns:x="urn:other"><x:ext><hl7:title>ignored</hl7:title></x:ext><hl7:title>Été</hl7:title>`
	cases := []struct {
		name, doc, body string
		level           int
		err             error
	}{
		{"prefixed multi-line b64", head + "<hl7:component><hl7:nonXMLBody><hl7:text mediaType=\"text/plain\" representation=\"B64\">\n  Ym9u\r\n  am91&#10;cg==\n</hl7:text></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>", "bonjour", 1, nil},
		{"comment and cdata", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64"><!-- a -- b --><![CDATA[Ym9u]]>am91cg==</hl7:text></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>`, "bonjour", 1, nil},
		{"self-closing text", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64"/></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>`, "", 1, nil},
		{"entity in b64", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64">Ym9u&amp;</hl7:text></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>`, "", 1, cda.ErrMalformed},
		{"bad base64", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64">Ym9u!!!!</hl7:text></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>`, "", 1, errors.New("invalid base64")},
		{"truncated body", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64">Ym9u`, "", 1, cda.ErrMalformed},
		{"structured", head + `<hl7:component><hl7:structuredBody><hl7:component/></hl7:structuredBody></hl7:component></hl7:ClinicalDocument>`, "", 3, cda.ErrNoBody},
		{"no body", head + `</hl7:ClinicalDocument>`, "", 0, cda.ErrNoBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cda.NewReader(strings.NewReader(c.doc), nil)
			doc, err := r.Header()
			if err != nil {
				t.Fatal(err)
			}
			if doc.Header.Title != "Été" || doc.Level != c.level {
				t.Errorf("title %q level %d", doc.Header.Title, doc.Level)
			}
			var b strings.Builder
			_, err = r.Body(&b)
			switch {
			case c.err == nil && err != nil:
				t.Errorf("body: %v", err)
			case c.err != nil && err == nil:
				t.Errorf("body accepted, want %v", c.err)
			case c.err != nil && !errors.Is(err, c.err) && !strings.Contains(err.Error(), c.err.Error()):
				t.Errorf("body: %v, want %v", err, c.err)
			}
			if c.err == nil && b.String() != c.body {
				t.Errorf("body %q, want %q", b.String(), c.body)
			}
		})
	}
	// A self-presenting document wraps the ClinicalDocument in an XSLT
	// stylesheet (ANS BIO-CR-BIO "Auto-Presentable" examples); an offset
	// written "+100" (ANS BIO-TROD examples) is read as +0100.
	wrapped := `<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"/><ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/><title>Été</title><effectiveTime value="20240106113623+100"/></ClinicalDocument></xsl:stylesheet>`
	doc, err := cda.ReadHeader(strings.NewReader(wrapped), nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Header.Title != "Été" || len(doc.Tolerated) != 1 || doc.Header.EffectiveTime.UTC() != "20240106103623" {
		t.Errorf("wrapped: %v %+v %v", err, doc, doc.Header.EffectiveTime.UTC())
	}
	latin := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>\xc9t\xe9</title><component><nonXMLBody><text representation=\"B64\">Ym9uam91cg==</text></nonXMLBody></component></ClinicalDocument>"
	r := cda.NewReader(strings.NewReader(latin), nil)
	doc, err = r.Header()
	if err != nil || doc.Header.Title != "Été" {
		t.Fatalf("latin-1: %v %q", err, doc.Header.Title)
	}
	var b strings.Builder
	if _, err := r.Body(&b); err != nil || b.String() != "bonjour" {
		t.Errorf("latin-1 body %q %v", b.String(), err)
	}
}

// The reader stops at the body: a 30 MB document's header is read while
// consuming only the bytes up to <component>'s first children.
func TestHeaderStopsAtBody(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	pdf := testdocs.PDF("gros", 30<<20)
	out := build(t, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)})
	cr := &countingReader{r: bytes.NewReader(out)}
	if _, err := cda.ReadHeader(cr, nil); err != nil {
		t.Fatal(err)
	}
	if cr.n > 256<<10 {
		t.Errorf("read %d bytes of a %d-byte document to get its header", cr.n, len(out))
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// K30 examples: when MSS_K30_EXAMPLES names a folder of the ANS
// TestContenuCDA 3.0 ExemplesCDA, every header there must be read without
// error (not a CI requirement: the kit's examples are not shipped here).
func TestReadK30Examples(t *testing.T) {
	dir := os.Getenv("MSS_K30_EXAMPLES")
	if dir == "" {
		t.Skip("MSS_K30_EXAMPLES not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Fatalf("no example in %s", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := cda.NewReader(bytes.NewReader(data), nil)
		doc, err := r.Header()
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if doc.Level == 1 {
			var body bytes.Buffer
			if _, err := r.Body(&body); err != nil {
				t.Errorf("%s: body: %v", filepath.Base(f), err)
			} else if doc.MediaType == cda.MediaTypePDF && !bytes.HasPrefix(body.Bytes(), []byte("%PDF-")) {
				t.Errorf("%s: decoded body is not a PDF", filepath.Base(f))
			}
		}
		if doc.Header.ID.Root == "" || doc.Header.Type.Code == "" || len(doc.Header.Authors) == 0 {
			t.Errorf("%s: header incomplete: id %+v type %+v", filepath.Base(f), doc.Header.ID, doc.Header.Type)
		}
		t.Logf("%s: level %d type %s patient err %v tolerated %v", filepath.Base(f), doc.Level, doc.Header.Type.Code, doc.PatientErr, doc.Tolerated)
	}
}

func FuzzReadHeader(f *testing.F) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	var buf bytes.Buffer
	if err := cda.Write(&buf, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("bonjour")}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody><text representation="B64"><![CDATA[Ym9u]]>am91cg==</text></nonXMLBody></component></ClinicalDocument>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>\xe9</title></ClinicalDocument>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := cda.NewReader(bytes.NewReader(data), nil)
		doc, err := r.Header()
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cda: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		_ = doc.Header.Validate()
		_ = doc.Validate()
		_, _ = r.Body(io.Discard)
	})
}

// BenchmarkReadHeader reads the header of a 30 MB level-1 document: the
// reader stops at the body, so the cost does not depend on the body size.
func BenchmarkReadHeader(b *testing.B) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	out := build(b, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(testdocs.PDF("gros", 30<<20))})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cda.ReadHeader(bytes.NewReader(out), nil); err != nil {
			b.Fatal(err)
		}
	}
}
