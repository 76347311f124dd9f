// SPDX-License-Identifier: Apache-2.0

package nos

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const (
	loinc      = "2.16.840.1.113883.6.1"
	treA03     = "1.2.250.1.213.1.1.4.1"
	iheFormat  = "1.3.6.1.4.1.19376.1.2.3"
	hl7Confid  = "2.16.840.1.113883.5.25"
	masquage   = "1.2.250.1.213.1.1.4.13"
	secteurAct = "1.2.250.1.71.4.2.4"
)

func allValueSets() []*ValueSet {
	return []*ValueSet{J01AuthorSpecialty, J02HealthcareFacilityType, J03ContentType, J04PracticeSetting,
		J06ClassCode, J07TypeCode, J08Confidentiality, J10FormatCode}
}

func allAssociations() []*Association {
	return []*Association{X04TypeClass, A11TemplateFormat, A12MediaTypeFormat}
}

func TestIdentityAndProvenance(t *testing.T) {
	want := map[*ValueSet][2]string{
		J01AuthorSpecialty:        {"JDV_J01-XdsAuthorSpecialty-CISIS", "1.2.250.1.213.1.1.5.461"},
		J02HealthcareFacilityType: {"JDV_J02-XdsHealthcareFacilityTypeCode-CISIS", "1.2.250.1.213.1.1.5.466"},
		J03ContentType:            {"JDV_J03-XdsContentTypeCode-CISIS", "1.2.250.1.213.1.1.5.464"},
		J04PracticeSetting:        {"JDV_J04-XdsPracticeSettingCode-CISIS", "1.2.250.1.213.1.1.5.467"},
		J06ClassCode:              {"JDV_J06-XdsClassCode-CISIS", "1.2.250.1.213.1.1.5.462"},
		J07TypeCode:               {"JDV_J07-XdsTypeCode-CISIS", "1.2.250.1.213.1.1.5.471"},
		J08Confidentiality:        {"JDV_J08-XdsConfidentialityCode-CISIS", "1.2.250.1.213.1.1.5.463"},
		J10FormatCode:             {"JDV_J10-XdsFormatCode-CISIS", "1.2.250.1.213.1.1.5.465"},
	}
	for v, w := range want {
		if v.Name != w[0] || v.OID != w[1] {
			t.Errorf("%s: got name %q OID %q, want %q %q", w[0], v.Name, v.OID, w[0], w[1])
		}
		if v.Version == "" || v.Source == "" {
			t.Errorf("%s: version %q source %q: both must be recorded", v.Name, v.Version, v.Source)
		}
		if len(v.Concepts) == 0 {
			t.Errorf("%s: no concepts", v.Name)
		}
	}
	kit := regexp.MustCompile(`^ansforge/TestContenuCDA-3-0@7cd489b3:jeuxDeValeurs/JDV_J0[12478]_\w+\.xml$`)
	for _, v := range []*ValueSet{J01AuthorSpecialty, J02HealthcareFacilityType, J04PracticeSetting, J07TypeCode, J08Confidentiality} {
		if !kit.MatchString(v.Source) {
			t.Errorf("%s: source %q is not the kit snapshot", v.Name, v.Source)
		}
	}
	assert.EqualValues(t, "1.2.250.1.213.1.1.4.249", X04TypeClass.OID, "association OIDs: X04, A11")
	assert.EqualValues(t, "1.2.250.1.213.1.1.4.331", A11TemplateFormat.OID, "association OIDs: X04, A11")
	for _, a := range allAssociations() {
		if a.Name == "" || a.Source == "" || len(a.Mappings) == 0 {
			t.Errorf("association %q: name, source and rows must be present (source %q, %d rows)", a.Name, a.Source, len(a.Mappings))
		}
	}
}

func TestJ07KnownTypes(t *testing.T) {
	c, ok := J07TypeCode.Lookup("11488-4")
	assert.True(t, ok, "J07 11488-4")
	assert.EqualValues(t, loinc, c.System, "J07 11488-4")
	assert.EqualValues(t, "CR ou fiche de consultation ou de visite", c.Display, "J07 11488-4")
	for _, code := range []string{"11490-0", "18748-4", "11502-2", "34112-3", "60591-5", "57833-6"} {
		if !J07TypeCode.Contains(code, loinc) {
			t.Errorf("J07 lacks LOINC %s", code)
		}
	}
	if c, _ := J07TypeCode.Lookup("11490-0"); c.Display != "Lettre de liaison à la sortie d'un établissement de soins" {
		t.Errorf("J07 11490-0 display %q", c.Display)
	}
	if J07TypeCode.Contains("11488-4", "2.16.840.1.113883.6.96") {
		t.Error("Contains must check the code system too")
	}
	if _, ok := J07TypeCode.Lookup("00000-0"); ok {
		t.Error("J07 found an unknown code")
	}
}

func TestClassForType(t *testing.T) {
	cases := map[string]string{
		"11490-0": "10", "11502-2": "10", "34112-3": "10", "11488-4": "10", "96349-6": "10", "15507-7": "10", "83981-1": "10",
		"18761-7": "11", "34133-9": "11", "60591-5": "11", "88348-8": "11",
		"18748-4": "31",
		"57828-6": "42", "57832-8": "42", "57833-6": "42",
		"60593-1": "43", "89601-9": "52", "51851-4": "95",
	}
	for typ, class := range cases {
		c, ok := ClassForType(typ)
		assert.True(t, ok, "ClassForType(%s); want in", typ)
		assert.EqualValues(t, class, c.Code, "ClassForType(%s); want in", typ)
		assert.EqualValues(t, treA03, c.System, "ClassForType(%s); want in", typ)
	}
	if c, _ := ClassForType("18748-4"); c.Display != "Imagerie médicale" {
		t.Errorf("class 31 display %q, want Imagerie médicale (JDV_J06)", c.Display)
	}
	if c, _ := ClassForType("11490-0"); c.Display != "Compte rendu" {
		t.Errorf("class 10 display %q", c.Display)
	}
	if _, ok := ClassForType("not-a-type"); ok {
		t.Error("ClassForType accepted an unknown type")
	}
}

// TestX04AgainstJ07 checks the cross-table facts documented in doc.go: the
// X04 snapshot (2024-02-23) predates the kit's J07 (2024-09-27), so some
// types are in one table only. The lists are the published state; the test
// fails if regenerated data changes them without the documentation.
func TestX04AgainstJ07(t *testing.T) {
	var notInJ07 []string
	for _, m := range X04TypeClass.Mappings {
		if !J07TypeCode.Contains(m.From.Code, m.From.System) {
			notInJ07 = append(notInJ07, m.From.Code)
		}
		if !J06ClassCode.Contains(m.To.Code, m.To.System) {
			t.Errorf("X04 %s → class %s (%s) is not in J06", m.From.Code, m.To.Code, m.To.System)
		}
	}
	wantNotInJ07 := "10213-7 11493-4 11526-1 11528-7 24611-6 27899-4 29550-1 29551-9 29554-3 39256-3 46241-6 52063-5 52521-2 75497-8 CONTACTS-URGENCE DOCPAT10"
	if got := sorted(notInJ07); got != wantNotInJ07 {
		t.Errorf("X04 types absent from J07:\n got %s\nwant %s (update doc.go)", got, wantNotInJ07)
	}
	var noClass []string
	for _, c := range J07TypeCode.Concepts {
		if _, ok := ClassForType(c.Code); !ok {
			noClass = append(noClass, c.Code)
		}
	}
	wantNoClass := "101881-1 28617-9 34120-6 60280-5 78341-5 89233-1"
	if got := sorted(noClass); got != wantNoClass {
		t.Errorf("J07 types without X04 class:\n got %s\nwant %s (update doc.go)", got, wantNoClass)
	}
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, " ")
}

func TestFormatForMediaType(t *testing.T) {
	cases := map[string]string{
		"application/pdf":           "urn:ihe:iti:xds-sd:pdf:2008",
		"text/plain":                "urn:ihe:iti:xds-sd:text:2008",
		"Text/Plain; charset=UTF-8": "urn:ihe:iti:xds-sd:text:2008",
		"image/jpeg":                "urn:ihe:iti-fr:xds-sd:jpeg:2010",
		"image/tiff":                "urn:ihe:iti-fr:xds-sd:tiff:2010",
		"text/rtf":                  "urn:ihe:iti-fr:xds-sd:rtf:2010",
	}
	for mt, want := range cases {
		c, ok := FormatForMediaType(mt)
		assert.True(t, ok, "FormatForMediaType(%q); want in", mt)
		assert.EqualValues(t, want, c.Code, "FormatForMediaType(%q); want in", mt)
		assert.EqualValues(t, iheFormat, c.System, "FormatForMediaType(%q); want in", mt)
		if !J10FormatCode.Contains(c.Code, c.System) {
			t.Errorf("format %s is not in J10", c.Code)
		}
	}
	if c, _ := FormatForMediaType("application/pdf"); c.Display != "Document à corps non structuré en Pdf/A-1" {
		t.Errorf("pdf format display %q", c.Display)
	}
	if _, ok := FormatForMediaType("application/msword"); ok {
		t.Error("FormatForMediaType accepted a media type ASS_A12 does not list")
	}
}

func TestFormatForTemplate(t *testing.T) {
	cases := map[string][2]string{
		"1.2.250.1.213.1.1.1.29": {"urn:asip:ci-sis:ldl-ses:2017", "1.2.250.1.213.1.1.4.2.282"}, // LDL-SES
		"1.2.250.1.213.1.1.1.21": {"urn:asip:ci-sis:ldl-ees:2017", "1.2.250.1.213.1.1.4.2.282"}, // LDL-EES
		"1.2.250.1.213.1.1.1.55": {"urn:ihe:lab:xd-lab:2008", iheFormat},                        // CR-BIO
		"1.2.250.1.213.1.1.1.45": {"urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013", iheFormat},
		"1.2.250.1.213.1.1.1.51": {"urn:ihe:pcc:ips:2020", iheFormat}, // IPS-FR
		"1.2.250.1.213.1.1.1.13": {"urn:asip:ci-sis:vsm:2012", "1.2.250.1.213.1.1.4.2.282"},
	}
	for tpl, want := range cases {
		c, ok := FormatForTemplate(tpl)
		if !ok || c.Code != want[0] || c.System != want[1] {
			t.Errorf("FormatForTemplate(%s) = %+v, %v; want %s in %s", tpl, c, ok, want[0], want[1])
		}
	}
	if _, ok := FormatForTemplate("1.3.6.1.4.1.19376.1.2.20"); ok {
		t.Error("FormatForTemplate must refuse the XDS-SD templateId, which ASS_A11 maps to several formats")
	}
	if n := len(A11TemplateFormat.LookupAll("1.3.6.1.4.1.19376.1.2.20")); n != 5 {
		t.Errorf("XDS-SD templateId has %d formats in ASS_A11, want 5", n)
	}
	if _, ok := FormatForTemplate("1.2.3.4"); ok {
		t.Error("FormatForTemplate accepted an unknown templateId")
	}
	for _, m := range A11TemplateFormat.Mappings {
		if !J10FormatCode.Contains(m.To.Code, m.To.System) {
			t.Errorf("A11 %s → %s (%s) is not in J10", m.From.Code, m.To.Code, m.To.System)
		}
	}
}

func TestJ08J04J02(t *testing.T) {
	for _, code := range []string{"N", "R", "V"} {
		if !J08Confidentiality.Contains(code, hl7Confid) {
			t.Errorf("J08 lacks %s in %s", code, hl7Confid)
		}
	}
	for _, code := range []string{"MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"} {
		if !J08Confidentiality.Contains(code, masquage) {
			t.Errorf("J08 lacks %s in %s", code, masquage)
		}
	}
	c, ok := J04PracticeSetting.Lookup("AMBULATOIRE")
	assert.True(t, ok, "J04 AMBULATOIRE")
	assert.EqualValues(t, "Ambulatoire", c.Display, "J04 AMBULATOIRE")
	c, ok = J02HealthcareFacilityType.Lookup("SA07")
	assert.True(t, ok, "J02 SA07")
	assert.EqualValues(t, secteurAct, c.System, "J02 SA07")
	assert.EqualValues(t, "Cabinet individuel", c.Display, "J02 SA07")
}

func TestJ03J06(t *testing.T) {
	// DRIM example: contentTypeCode 04 "Hospitalisation de jour", codingScheme 1.2.250.1.213.2.2.
	c, ok := J03ContentType.Lookup("04")
	assert.True(t, ok, "J03 04")
	assert.EqualValues(t, "1.2.250.1.213.2.2", c.System, "J03 04")
	assert.EqualValues(t, "Hospitalisation de jour", c.Display, "J03 04")
	// "11" exists in two code systems of J03: Lookup gives the first, Contains tells them apart.
	if !J03ContentType.Contains("11", "1.2.250.1.213.2.2") || !J03ContentType.Contains("11", "1.2.250.1.213.1.6.1.128") {
		t.Error("J03 must hold code 11 in TRE_R209 and TRE_R276")
	}
	if J03ContentType.Contains("11", treA03) {
		t.Error("J03 Contains matched a wrong code system")
	}
	if !J03ContentType.Contains("SA07", secteurAct) || !J03ContentType.Contains("EXP_PATIENT", "1.2.250.1.213.1.1.4.6") {
		t.Error("J03 lacks SA07 or EXP_PATIENT")
	}
	want := "10 11 31 42 43 44 45 52 60 90 95 99 urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"
	var got []string
	for _, c := range J06ClassCode.Concepts {
		got = append(got, c.Code)
	}
	if sorted(got) != want {
		t.Errorf("J06 codes %s, want %s", sorted(got), want)
	}
}

func TestNoDuplicateRows(t *testing.T) {
	for _, v := range allValueSets() {
		seen := map[[2]string]bool{}
		for _, c := range v.Concepts {
			k := [2]string{c.Code, c.System}
			if c.Code == "" || c.System == "" {
				t.Errorf("%s: concept %+v lacks code or system", v.Name, c)
			}
			if seen[k] {
				t.Errorf("%s: duplicate %v", v.Name, k)
			}
			seen[k] = true
		}
	}
}

// TestHandMadeValueSet checks that a ValueSet built by a caller, without
// the generated index, answers the same way.
func TestHandMadeValueSet(t *testing.T) {
	v := &ValueSet{Concepts: []Concept{{"a", "s1", "A1"}, {"a", "s2", "A2"}}}
	c, ok := v.Lookup("a")
	assert.True(t, ok, "Lookup")
	assert.EqualValues(t, "A1", c.Display, "Lookup")
	if !v.Contains("a", "s2") || v.Contains("a", "s3") || v.Contains("b", "s1") {
		t.Error("Contains on a hand-made value set")
	}
	var nilSet *ValueSet
	if _, ok := nilSet.Lookup("a"); ok || nilSet.Contains("a", "s1") {
		t.Error("nil value set must be empty")
	}
	a := &Association{Mappings: []Mapping{{From: Concept{Code: "k"}, To: Concept{Code: "t"}}}}
	c, ok = a.Lookup("k")
	assert.True(t, ok, "hand-made association Lookup")
	assert.EqualValues(t, "t", c.Code, "hand-made association Lookup")
}

func BenchmarkClassForType(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, ok := ClassForType("60591-5"); !ok {
			b.Fatal("missing")
		}
	}
}
