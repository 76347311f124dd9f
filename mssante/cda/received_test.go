// SPDX-License-Identifier: Apache-2.0

package cda_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
)

func problems(t *testing.T, err error) []cda.Problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *cda.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, cda.ErrInvalid)
	return ve.Problems
}

func elements(ps []cda.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

// Point 11: a service event after the principal act needs neither a
// performer nor a practice setting (StrucMin asks them of
// documentationOf[1] only, and a practice setting of a performer that is
// there), as in the ANS example IMG_CR_IMG_2024.01. Write leaves such an act
// without performer; a later act given a practice setting gets the default
// performer; a later performer without practice setting is refused.
func TestLaterServiceEventsNeedNoPerformer(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("nir", true), "18748-4", created)
	h.ServiceEvents = append(h.ServiceEvents,
		cda.ServiceEvent{Code: cda.Code{Code: "ZCQK004", System: "1.2.250.1.213.2.5", Display: "Radiographie du thorax"}, Low: cda.At(created.Add(-50 * time.Minute))},
		cda.ServiceEvent{Code: cda.Code{Code: "YYYY030", System: "1.2.250.1.213.2.5", Display: "Supplément"}},
		cda.ServiceEvent{PracticeSetting: cda.Code{Code: "ETABLISSEMENT"}, Low: cda.At(created.Add(-40 * time.Minute))})
	require.NoError(t, h.Validate())
	var buf bytes.Buffer
	require.NoError(t, cda.Write(&buf, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")}))
	doc, err := cda.ReadHeader(bytes.NewReader(buf.Bytes()), nil)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(), "the written document, judged as received")
	evs := doc.Header.ServiceEvents
	require.Len(t, evs, 4)
	assert.NotNil(t, evs[0].Performer, "the principal act has the default performer")
	assert.Nil(t, evs[1].Performer)
	assert.Nil(t, evs[2].Performer)
	assert.True(t, evs[2].Low.IsZero() && evs[2].High.IsZero(), "an act without time is written without effectiveTime")
	require.NotNil(t, evs[3].Performer, "an act with a practice setting gets the default performer")
	assert.Equal(t, "ETABLISSEMENT", evs[3].PracticeSetting.Code)
	assert.Equal(t, 2, bytes.Count(buf.Bytes(), []byte("<performer ")))

	// A later performer must carry a practice setting; a later High needs
	// its Low.
	h.ServiceEvents[1].Performer = testdocs.Doctor()
	h.ServiceEvents[2].High = cda.At(created)
	ps := problems(t, h.Validate())
	assert.ElementsMatch(t, []string{
		"documentationOf[2]/serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode",
		"documentationOf[3]/serviceEvent/effectiveTime/low",
	}, elements(ps))
	for _, p := range ps {
		assert.False(t, p.WriteOnly, "%s is a StrucMin rule", p)
	}
}

// Point 12: a received document is judged by what it says. The ANS
// example IMG_CR_IMG_2024.01 (TestContenuCDA 3.0), read, validates clean
// with Document.Validate; Header.Validate, the judge for writing, reports
// on it only rules of gomss's own, the missing local identity status first
// with what to do about it.
func TestReadOfficialExampleValidatesClean(t *testing.T) {
	e := ansExampleNamed(t, "3.0/IMG_CR_IMG_2024.01.xml")
	doc, err := cda.ReadHeader(bytes.NewReader(e.Data), nil)
	require.NoError(t, err)
	require.Len(t, doc.Header.ServiceEvents, 4)
	assert.Nil(t, doc.Header.ServiceEvents[3].Performer, "the example's fourth act has no performer")
	assert.True(t, doc.Header.ServiceEvents[3].PracticeSetting.IsZero())
	assert.NoError(t, doc.Validate())
	assert.Empty(t, doc.Tolerated)

	ps := problems(t, doc.Header.Validate())
	require.NotEmpty(t, ps)
	assert.Equal(t, "recordTarget", ps[0].Field)
	assert.Contains(t, ps[0].Detail, "Document.Validate judges a received document")
	for _, p := range ps {
		assert.True(t, p.WriteOnly, "%s", p)
		assert.False(t, strings.HasPrefix(p.Field, "documentationOf"), "%s", p)
	}

	// Every example of the kit's ExemplesCDA validates clean, but one whose
	// real problem the kit reports too (family qualifier SP).
	for _, e := range ansExamples(t) {
		if !strings.HasPrefix(e.Name, "3.0/") {
			continue
		}
		doc, err := cda.ReadHeader(bytes.NewReader(e.Data), nil)
		require.NoError(t, err, e.Name)
		err = doc.Validate()
		if e.Name == "3.0/eDISP-MED_2024.01.xml" {
			assert.Equal(t, []string{"recordTarget/patientRole/patient/name/family"}, elements(problems(t, err)), e.Name)
			continue
		}
		assert.NoError(t, err, e.Name)
	}
}

// Point 13: a missing or wrong realmCode or typeId is noted by the reader
// (Tolerated) and refused by Document.Validate (CI-SIS: realmCode code="FR"
// [1..1], typeId 2.16.840.1.113883.1.3 / POCD_HD000040 [1..1]).
func TestReaderNotesRealmCodeAndTypeID(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, cda.Write(&buf, testdocs.Header(testdocs.Patient("test", true), "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")}))
	written := buf.String()
	const realm = `<realmCode code="FR"/>`
	const typeID = `<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>`
	require.Contains(t, written, realm)
	require.Contains(t, written, typeID)
	for _, c := range []struct {
		name, old, new, tolerated, element string
	}{
		{"no realmCode", realm, "", "realmCode is missing", "realmCode"},
		{"realmCode XX", realm, `<realmCode code="XX"/>`, `realmCode code "XX"`, "realmCode"},
		{"two realmCode", realm, realm + realm, "2 realmCode elements", "realmCode"},
		{"no typeId", typeID, "", "typeId is missing", "typeId"},
		{"typeId other", typeID, `<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000041"/>`, `typeId root "2.16.840.1.113883.1.3" extension "POCD_HD000041"`, "typeId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := cda.ReadHeader(strings.NewReader(strings.Replace(written, c.old, c.new, 1)), nil)
			require.NoError(t, err)
			require.Len(t, doc.Tolerated, 1)
			assert.Contains(t, doc.Tolerated[0], c.tolerated)
			assert.Equal(t, []string{c.element}, elements(problems(t, doc.Validate())))
		})
	}
	doc, err := cda.ReadHeader(strings.NewReader(written), nil)
	require.NoError(t, err)
	assert.Empty(t, doc.Tolerated)
	assert.NoError(t, doc.Validate())
}

// A Document that did not come from the reader is judged as an empty
// ClinicalDocument: every mandatory element is missing, none is WriteOnly.
func TestValidateEmptyDocument(t *testing.T) {
	ps := problems(t, (&cda.Document{}).Validate())
	for _, want := range []string{"realmCode", "typeId", "templateId", "id", "code", "title", "effectiveTime",
		"confidentialityCode", "languageCode", "setId", "versionNumber", "recordTarget", "author", "custodian",
		"legalAuthenticator", "documentationOf", "componentOf", "component"} {
		assert.Contains(t, elements(ps), want)
	}
	for _, p := range ps {
		assert.False(t, p.WriteOnly, "%s", p)
	}
}

// Every top-level element of a document Write produces is one StrucMin
// requires: without any of them Document.Validate refuses the document.
// Deleting any element of an official example never makes it panic.
func TestValidateDeletions(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, cda.Write(&buf, testdocs.Header(testdocs.Patient("test", true), "11488-4", created), cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")}))
	deleted := func(src []byte, pick func(*etree.Element) []*etree.Element, each func(tag string, out []byte)) {
		n := 0
		for {
			doc := etree.NewDocument()
			require.NoError(t, doc.ReadFromBytes(src))
			els := pick(doc.Root())
			if n >= len(els) {
				return
			}
			e := els[n]
			e.Parent().RemoveChild(e)
			out, err := doc.WriteToBytes()
			require.NoError(t, err)
			each(e.Tag, out)
			n++
		}
	}
	top := func(r *etree.Element) []*etree.Element { return r.ChildElements() }
	deleted(buf.Bytes(), top, func(tag string, out []byte) {
		doc, err := cda.ReadHeader(bytes.NewReader(out), nil)
		require.NoError(t, err)
		assert.ErrorIs(t, doc.Validate(), cda.ErrInvalid, "without %s", tag)
	})
	all := func(r *etree.Element) []*etree.Element { return r.FindElements("//*") }
	img := ansExampleNamed(t, "3.0/IMG_CR_IMG_2024.01.xml")
	deleted(img.Data, all, func(tag string, out []byte) {
		if doc, err := cda.ReadHeader(bytes.NewReader(out), nil); err == nil {
			_ = doc.Validate()
		}
	})
}
