// SPDX-License-Identifier: Apache-2.0

package cda_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
)

var created = time.Date(2026, 11, 24, 10, 30, 0, 0, testdocs.Paris)

func build(t testing.TB, h *cda.Header, body cda.Body) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, cda.Write(&buf, h, body), "Write")
	return buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	pdf := testdocs.PDF("Compte rendu", 50_000)
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	out := build(t, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)})

	r := cda.NewReader(bytes.NewReader(out), nil)
	doc, err := r.Header()
	require.NoError(t, err)
	got := doc.Header
	assert.Equal(t, h.ID, got.ID, "id")
	assert.Equal(t, h.ID, got.SetID, "setId")
	assert.Equal(t, 1, got.Version, "version")
	assert.Equal(t, cda.Code{Code: "11488-4", System: cda.CodeSystemLOINC, Display: "CR ou fiche de consultation ou de visite"}, got.Type, "type")
	assert.Equal(t, h.Title, got.Title, "title")
	assert.Equal(t, "fr-FR", got.Language, "languageCode")
	assert.Equal(t, "N", got.Confidentiality.Code, "confidentialityCode")
	assert.True(t, got.EffectiveTime.Time.Equal(created), "effectiveTime %v, want %v", got.EffectiveTime.Time, created)
	assert.Equal(t, "20261124103000+0100", got.EffectiveTime.String(), "effectiveTime")
	require.NoError(t, doc.PatientErr, "patient")
	assert.Equal(t, "279035121518989", doc.Patient.Identity.INS.Matricule.String(), "INS")
	assert.Empty(t, doc.Patient.Identity.Status, "a read identity must have no status")
	if assert.Len(t, got.Authors, 1, "authors") && assert.NotNil(t, got.Authors[0].Person, "author is a person") {
		a := got.Authors[0].Person
		assert.Equal(t, "801234567890", a.ID.Extension, "author id")
		assert.Equal(t, "Médecin - Qualifié en Médecine Générale (SM)", a.Specialty.Display, "author specialty")
		if assert.NotNil(t, a.Organization, "author organisation") {
			assert.Equal(t, cda.II{Root: cda.OIDIDNST, Extension: "1750803447"}, a.Organization.ID, "author organisation id")
		}
	}
	assert.Equal(t, "CAMPARINI", got.LegalAuthenticator.Person.Name.Family, "legal authenticator")
	assert.Equal(t, "1750803447", got.Custodian.ID.Extension, "custodian")
	if assert.Len(t, got.ServiceEvents, 1, "service events") {
		se := got.ServiceEvents[0]
		assert.Equal(t, "AMBULATOIRE", se.PracticeSetting.Code, "practice setting")
		assert.NotNil(t, se.Performer, "performer")
		assert.False(t, se.High.IsZero(), "service event effectiveTime/high")
	}
	assert.Equal(t, "SA07", got.Encounter.FacilityType.Code, "encounter facility type")
	assert.Equal(t, "1.2.250.1.71.4.2.4", got.Encounter.FacilityType.System, "encounter facility type system")
	wantT := []cda.II{{Root: cda.TemplateHL7France}, {Root: cda.TemplateCISIS}, {Root: cda.TemplateXDSSD}}
	if assert.Len(t, got.TemplateIDs, 3, "templateIds") {
		assert.Equal(t, wantT[0], got.TemplateIDs[0], "first templateId")
		assert.Equal(t, wantT[2], got.TemplateIDs[2], "third templateId")
	}
	assert.Equal(t, 1, doc.Level, "body level")
	assert.Equal(t, cda.MediaTypePDF, doc.MediaType, "body media type")
	assert.Equal(t, "B64", doc.Representation, "body representation")
	var body bytes.Buffer
	n, err := r.Body(&body)
	require.NoError(t, err)
	assert.Equal(t, int64(len(pdf)), n, "body bytes")
	assert.True(t, bytes.Equal(body.Bytes(), pdf), "body differs from the PDF written")
	_, err = r.Body(io.Discard)
	assert.ErrorIs(t, err, cda.ErrNoBody, "second Body")
	assert.Empty(t, doc.Tolerated, "our own document needed tolerance")
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
	assert.Contains(t, string(out), `<relatedDocument typeCode="RPLC">`, "no RPLC relatedDocument")
	r := cda.NewReader(bytes.NewReader(out), nil)
	doc, err := r.Header()
	require.NoError(t, err)
	if assert.NotNil(t, doc.Header.Replaces, "replacement") {
		assert.Equal(t, orig, *doc.Header.Replaces, "replaced id")
	}
	assert.Equal(t, orig, doc.Header.SetID, "setId")
	assert.Equal(t, 2, doc.Header.Version, "version")
	assert.Equal(t, ins.AuthorityNIA, doc.Patient.Identity.INS.Authority, "authority")
	var b strings.Builder
	_, err = r.Body(&b)
	require.NoError(t, err, "text body")
	assert.Equal(t, text, b.String(), "text body")
}

// A non-qualified identity is written without its INS, with the IPP only:
// the INS never leaves through a CDA unless the identity is QUAL.
func TestNonQualifiedIdentityHasNoINS(t *testing.T) {
	p := testdocs.Patient("test", true)
	p.Status = ins.Recovered
	out := build(t, testdocs.Header(p, "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
	assert.NotContains(t, string(out), "279035121518989", "the INS of a RECUP identity was written")
	assert.NotContains(t, string(out), "1.2.250.1.213.1.4.10", "the INS authority of a RECUP identity was written")
	assert.Contains(t, string(out), `extension="1234567890121"`, "the IPP is missing")
	// Without IPP there is nothing to identify the patient: refused.
	p.LocalIDs = nil
	err := cda.Write(io.Discard, testdocs.Header(p, "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
	assert.ErrorIs(t, err, cda.ErrInvalid)
	assert.ErrorIs(t, err, ins.ErrRecordTarget)
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
			require.NoError(t, h.Validate(), "base header invalid")
			c.mutate(h)
			err := h.Validate()
			var ve *cda.ValidationError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, cda.ErrInvalid)
			assert.True(t, slices.ContainsFunc(ve.Problems, func(p cda.Problem) bool { return p.Field == c.element }),
				"no problem on %s in %v", c.element, err)
			if c.is != nil {
				assert.ErrorIs(t, err, c.is)
			}
			// Write refuses and writes nothing.
			var buf bytes.Buffer
			werr := cda.Write(&buf, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
			assert.ErrorIs(t, werr, cda.ErrInvalid, "Write")
			assert.Zero(t, buf.Len(), "bytes written")
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
		assert.ErrorIs(t, cda.Write(io.Discard, h, b), cda.ErrBody, b.MediaType)
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
		if !assert.NoError(t, err, c.in) {
			continue
		}
		assert.Equal(t, c.out, ts.String(), "%s: String", c.in)
		assert.Equal(t, c.utc, ts.UTC(), "%s: UTC", c.in)
		assert.Equal(t, c.prec, ts.Precision, "%s: Precision", c.in)
		assert.Equal(t, c.noZone, ts.NoZone, "%s: NoZone", c.in)
	}
	for _, bad := range []string{"", "2021", "20211301", "2021-04-01", "20210401T1200",
		// Found by FuzzParseTS: an offset after a date alone was not
		// checked, a fraction not read, an offset out of range taken.
		"20210401+abcd", "20210401.5", "202104011347.5", "20210401134745.", "20210401134745.abc", "20210401134745.1x+0100",
		"20210401134745+2400", "20210401134745+0160", "20210401134745+", "20210401134745+01", "20210401134745+01000", "20210401+1"} {
		_, err := cda.ParseTS(bad, nil)
		assert.Error(t, err, "%q accepted", bad)
	}
}

// tsGrammar is the TS form ParseTS reads (HL7 V3 Data Types R1, TS, with
// a three-digit offset tolerated); the offset is its group 1.
var tsGrammar = regexp.MustCompile(`^[0-9]{8}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]+)?)?)?)?([+-][0-9]{3,4})?$`)

// FuzzParseTS: an accepted TS has the TS form (tsGrammar, offset hours
// 00 to 23 and minutes 00 to 59), and writes (String) a value that parses
// back to the same instant, precision and zone flag (a date alone drops
// its offset); its offset is the one written; a refusal is a cda error.
func FuzzParseTS(f *testing.F) {
	for _, s := range []string{"20210401134745+0100", "20210401134745", "202101040735+0100", "20210401", "20210401134745.123-0500",
		"2021040113", "202104011347+100", "20210401+0100", "20240229235959-1200", "00000101", "99991231235959+2359",
		"", "2021", "20211301", "2021-04-01", "20210401T1200", "20210401+abcd", "20210401.5", "20210401134745.abc", "20210401134745+2400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := cda.ParseTS(s, testdocs.Paris)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "cda: time "), "%v", err)
			require.True(t, ts.IsZero())
			return
		}
		m := tsGrammar.FindStringSubmatch(s)
		require.NotNil(t, m, "%q accepted: not YYYYMMDD[HH[MM[SS[.fff]]]][±ZZZZ]", s)
		if z := m[1]; z != "" {
			if z = z[1:]; len(z) == 3 {
				z = "0" + z
			}
			require.True(t, z[:2] <= "23" && z[2:] <= "59", "%q accepted: offset out of range", s)
		}
		out := ts.String()
		again, err := cda.ParseTS(out, testdocs.Paris)
		require.NoError(t, err, "ParseTS(%q) wrote %q", s, out)
		require.True(t, again.Time.Equal(ts.Time), "ParseTS(%q) = %v, wrote %q, read back %v", s, ts.Time, out, again.Time)
		require.Equal(t, ts.Precision, again.Precision, "%q wrote %q", s, out)
		if ts.Precision == cda.Day {
			require.True(t, again.NoZone, "a date is written without offset")
			require.Equal(t, s[:8], out)
			return
		}
		require.Equal(t, ts.NoZone, again.NoZone, "%q wrote %q", s, out)
		_, off := ts.Time.Zone()
		_, offAgain := again.Time.Zone()
		require.Equal(t, off, offAgain, "%q wrote %q", s, out)
		if i := strings.IndexAny(s, "+-"); i >= 0 {
			z := s[i+1:]
			if len(z) == 3 {
				z = "0" + z
			}
			want := (int(z[0]-'0')*10+int(z[1]-'0'))*3600 + (int(z[2]-'0')*10+int(z[3]-'0'))*60
			if s[i] == '-' {
				want = -want
			}
			require.Equal(t, want, off, "%q: offset", s)
		} else {
			require.True(t, ts.NoZone, "%q has no offset", s)
		}
	})
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
		assert.ErrorIs(t, err, c.want, "%q", c.in)
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
		{"bad base64", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64">Ym9u!!!!</hl7:text></hl7:nonXMLBody></hl7:component></hl7:ClinicalDocument>`, "", 1, cda.ErrBase64},
		{"truncated body", head + `<hl7:component><hl7:nonXMLBody><hl7:text representation="B64">Ym9u`, "", 1, cda.ErrMalformed},
		{"structured", head + `<hl7:component><hl7:structuredBody><hl7:component/></hl7:structuredBody></hl7:component></hl7:ClinicalDocument>`, "", 3, cda.ErrNoBody},
		{"no body", head + `</hl7:ClinicalDocument>`, "", 0, cda.ErrNoBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cda.NewReader(strings.NewReader(c.doc), nil)
			doc, err := r.Header()
			require.NoError(t, err)
			assert.Equal(t, "Été", doc.Header.Title, "title")
			assert.Equal(t, c.level, doc.Level, "level")
			var b strings.Builder
			_, err = r.Body(&b)
			if c.err != nil {
				assert.ErrorIs(t, err, c.err, "body")
				if c.err == cda.ErrBase64 {
					assert.EqualError(t, err, "cda: body: invalid base64 at encoded byte 4", "the wording names the offset")
				}
				return
			}
			assert.NoError(t, err, "body")
			assert.Equal(t, c.body, b.String(), "body")
		})
	}
	// A self-presenting document wraps the ClinicalDocument in an XSLT
	// stylesheet (ANS BIO-CR-BIO "Auto-Presentable" examples); an offset
	// written "+100" (ANS BIO-TROD examples) is read as +0100.
	wrapped := `<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"/><ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/><title>Été</title><effectiveTime value="20240106113623+100"/></ClinicalDocument></xsl:stylesheet>`
	doc, err := cda.ReadHeader(strings.NewReader(wrapped), nil)
	require.NoError(t, err)
	assert.Equal(t, "Été", doc.Header.Title, "wrapped: title")
	assert.Len(t, doc.Tolerated, 1, "wrapped: tolerated")
	assert.Equal(t, "20240106103623", doc.Header.EffectiveTime.UTC(), "wrapped: effectiveTime +100")
	latin := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>\xc9t\xe9</title><component><nonXMLBody><text representation=\"B64\">Ym9uam91cg==</text></nonXMLBody></component></ClinicalDocument>"
	r := cda.NewReader(strings.NewReader(latin), nil)
	doc, err = r.Header()
	require.NoError(t, err, "latin-1")
	require.Equal(t, "Été", doc.Header.Title, "latin-1")
	var b strings.Builder
	_, err = r.Body(&b)
	require.NoError(t, err, "latin-1 body")
	assert.Equal(t, "bonjour", b.String(), "latin-1 body")
	// A bad base64 body in an ISO-8859-1 document (decoded through the XML
	// decoder, not streamed) is reported as in a UTF-8 one.
	r = cda.NewReader(strings.NewReader(strings.Replace(latin, "Ym9uam91cg==", "Ym9u!!!!", 1)), nil)
	_, err = r.Body(io.Discard)
	assert.ErrorIs(t, err, cda.ErrBase64, "latin-1 bad base64")
	assert.EqualError(t, err, "cda: body: invalid base64 at encoded byte 4", "latin-1 bad base64")
}

// The reader stops at the body: a 30 MB document's header is read while
// consuming only the bytes up to <component>'s first children.
func TestHeaderStopsAtBody(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	pdf := testdocs.PDF("gros", 30<<20)
	out := build(t, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)})
	cr := &countingReader{r: bytes.NewReader(out)}
	_, err := cda.ReadHeader(cr, nil)
	require.NoError(t, err)
	assert.LessOrEqual(t, cr.n, 256<<10, "bytes read of a %d-byte document to get its header", len(out))
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
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no example in %s", dir)
	for _, f := range files {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		r := cda.NewReader(bytes.NewReader(data), nil)
		doc, err := r.Header()
		if !assert.NoError(t, err, name) {
			continue
		}
		if doc.Level == 1 {
			var body bytes.Buffer
			_, err := r.Body(&body)
			if assert.NoError(t, err, "%s: body", name) && doc.MediaType == cda.MediaTypePDF {
				assert.True(t, bytes.HasPrefix(body.Bytes(), []byte("%PDF-")), "%s: decoded body is not a PDF", name)
			}
		}
		assert.NotEmpty(t, doc.Header.ID.Root, "%s: header incomplete: id", name)
		assert.NotEmpty(t, doc.Header.Type.Code, "%s: header incomplete: type", name)
		assert.NotEmpty(t, doc.Header.Authors, "%s: header incomplete: authors", name)
		t.Logf("%s: level %d type %s patient err %v tolerated %v", filepath.Base(f), doc.Level, doc.Header.Type.Code, doc.PatientErr, doc.Tolerated)
	}
}

func FuzzReadHeader(f *testing.F) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	var buf bytes.Buffer
	require.NoError(f, cda.Write(&buf, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("bonjour")}))
	f.Add(buf.Bytes())
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody><text representation="B64"><![CDATA[Ym9u]]>am91cg==</text></nonXMLBody></component></ClinicalDocument>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>\xe9</title></ClinicalDocument>"))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><title><a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a></a></title></ClinicalDocument>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small limits, so that the fuzzer reaches them.
		r := cda.NewReader(bytes.NewReader(data), &cda.ReadOptions{MaxDepth: 8, MaxElements: 200, MaxHeaderBytes: 4096})
		doc, err := r.Header()
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "cda: "), "error without package prefix: %v", err)
			require.True(t, errors.Is(err, cda.ErrNotCDA) || errors.Is(err, cda.ErrMalformed) || errors.Is(err, cda.ErrLimit), "unclassified error: %v", err)
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
