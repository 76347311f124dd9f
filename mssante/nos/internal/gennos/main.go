// SPDX-License-Identifier: Apache-2.0

// Command gennos writes mssante/nos/tables_gen.go from the published NOS
// files: the XDS value sets shipped in the ANS CDA validation kit (read in
// place, never copied into the repository) and the value sets and
// association tables that the kit lacks, kept as trimmed copies in
// testdata/ (see testdata/README.md for where each came from).
//
// Usage, from the mssante/nos directory (as go generate runs it):
//
//	go run ./internal/gennos [-kit DIR] [-src DIR] [-o FILE]
//
// -kit defaults to $MSS_CDA_KIT (a relative value is tried from the working
// directory, then from the module root), else ../shared/cda-kit relative to the
// module root; -src defaults to mssante/nos/internal/gennos/testdata under
// the module root; -o defaults to tables_gen.go ("-" writes to stdout).
// The output depends only on the content of the source files, so running
// the command twice on the same inputs gives the same bytes.
package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The kit snapshot the value sets are read from. The kit folder holds a
// trimmed copy of this repository at this commit; its kit/jeuxDeValeurs
// folder is the upstream jeuxDeValeurs folder.
const (
	kitRepo      = "ansforge/TestContenuCDA-3-0"
	kitCommit    = "7cd489b3"
	kitLocalDir  = "kit/jeuxDeValeurs"
	kitUpstreamD = "jeuxDeValeurs"
)

// kitTable names a value set read from the kit by file-name prefix.
type kitTable struct {
	varName string
	prefix  string
	doc     string
}

var kitTables = []kitTable{
	{"J01AuthorSpecialty", "JDV_J01_", "XDS authorSpecialty (CDA author/assignedAuthor/code)"},
	{"J02HealthcareFacilityType", "JDV_J02_", "XDS healthcareFacilityTypeCode (CDA componentOf/encompassingEncounter/location/healthCareFacility/code)"},
	{"J04PracticeSetting", "JDV_J04_", "XDS practiceSettingCode (CDA documentationOf/serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode)"},
	{"J07TypeCode", "JDV_J07_", "XDS typeCode (CDA ClinicalDocument/code)"},
	{"J08Confidentiality", "JDV_J08_", "XDS confidentialityCode (CDA confidentialityCode N/R/V, plus the metadata-only masking codes)"},
}

// fileSource records where a non-kit source file was taken from.
type fileSource struct {
	file   string // name in -src
	origin string // repo@commit:path or URL
}

var (
	srcJ03 = fileSource{"JDV_J03_XdsContentTypeCode_CISIS.json",
		"https://mos.esante.gouv.fr/NOS/JDV_J03-XdsContentTypeCode-CISIS/FHIR/JDV-J03-XdsContentTypeCode-CISIS|20260223120000 (ANS IG Terminologies de Santé v1.12.0, ValueSet JDV-J03-XdsContentTypeCode-CISIS)"}
	srcJ06 = fileSource{"JDV_J06_XdsClassCode_CISIS.json",
		"https://mos.esante.gouv.fr/NOS/JDV_J06-XdsClassCode-CISIS/FHIR/JDV-J06-XdsClassCode-CISIS|20230922120000 (ANS IG Terminologies de Santé v1.10.0, ValueSet JDV-J06-XdsClassCode-CISIS)"}
	srcJ10 = fileSource{"JDV_J10_XdsFormatCode_CISIS.json",
		"ansforge/IG-terminologie-de-sante@0acfa841f0564eb2768c09d53c3efcc37b56d335:input/ontoserver/JDV/JDV_J10_XdsFormatCode_CISIS.json"}
	srcX04 = fileSource{"ASS_X04-CorrespondanceType-Classe-CISIS.xml",
		"nizarbs2508/InteropStudio2024@e3f382cafeddc405e35c28ea77677b7fd9fa7d90:src/main/resources/xml/ASS_X04-CorrespondanceType-Classe-CISIS.xml"}
	srcA11 = fileSource{"ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS.xml",
		"nizarbs2508/InteropStudio2024@e3f382cafeddc405e35c28ea77677b7fd9fa7d90:src/main/resources/xml/ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS.xml"}
	srcA12 = fileSource{"ASS_12_CorresMediaTypeCDANonStructure-XdsFormatCode-CISIS.json",
		"ansforge/IG-terminologie-de-sante@06009be417143c4ad9656e4278d24f44ce0d38ef:input/ontoserver/JDV/ASS_12_CorresMediaTypeCDANonStructure-XdsFormatCode-CISIS.json"}
)

// fhirSystemOID gives the OID (the XDS codingScheme) of each NOS code system
// a FHIR value set names by URL. Sources: the OIDs the SVS files of the same
// tables use (kit J01/J02, ASS_A11, ASS_X04) and the lists "TRE_…, OID : …"
// in the ANS CI-SIS profiles (e.g. TRE_R209-TypeActivite 1.2.250.1.213.2.2,
// TRE_A09-DICOMuidRegistry 1.2.840.10008.2.6.1, TRE_A10-NomenclatureURN
// "URN"); TRE_R276-FormeActivite from its CodeSystem identifier.
var fhirSystemOID = map[string]string{
	"https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS":             "1.2.250.1.213.1.1.4.6",
	"https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument":                     "1.2.250.1.213.1.1.4.1",
	"https://mos.esante.gouv.fr/NOS/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire": "1.2.250.1.213.1.1.4.2.282",
	"https://mos.esante.gouv.fr/NOS/TRE_A09-DICOMuidRegistry/FHIR/TRE-A09-DICOMuidRegistry":                 "1.2.840.10008.2.6.1",
	"https://mos.esante.gouv.fr/NOS/TRE_A10-NomenclatureURN/FHIR/TRE-A10-NomenclatureURN":                   "URN",
	"https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode":                       "1.3.6.1.4.1.19376.1.2.3",
	"https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite":                   "1.2.250.1.71.4.2.4",
	"https://mos.esante.gouv.fr/NOS/TRE_R209-TypeActivite/FHIR/TRE-R209-TypeActivite":                       "1.2.250.1.213.2.2",
	"https://mos.esante.gouv.fr/NOS/TRE_R276-FormeActivite/FHIR/TRE-R276-FormeActivite":                     "1.2.250.1.213.1.6.1.128",
}

type concept struct{ code, system, display string }

type valueSet struct {
	varName, name, oid, version, source, doc string
	concepts                                 []concept
}

// lookup returns the first concept with this code and, when system is not
// empty, this code system.
func (v *valueSet) lookup(code, system string) (concept, bool) {
	for _, c := range v.concepts {
		if c.code == code && (system == "" || c.system == system) {
			return c, true
		}
	}
	return concept{}, false
}

type mapping struct{ from, to concept }

type association struct {
	varName, name, oid, version, source, doc string
	mappings                                 []mapping
}

func main() {
	kit := flag.String("kit", "", "ANS CDA kit directory (default $MSS_CDA_KIT, else ../shared/cda-kit from the module root)")
	src := flag.String("src", "", "directory of the non-kit source files (default mssante/nos/internal/gennos/testdata in the module)")
	out := flag.String("o", "tables_gen.go", `output file, "-" for stdout`)
	flag.Parse()
	if err := run(*kit, *src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gennos:", err)
		os.Exit(1)
	}
}

func run(kit, src, out string) error {
	if kit == "" || src == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		if kit == "" {
			kit = os.Getenv("MSS_CDA_KIT")
			// A relative MSS_CDA_KIT is taken from the working directory,
			// else from the module root (as .ci/run documents it).
			if _, err := os.Stat(kit); kit != "" && err != nil && !filepath.IsAbs(kit) {
				kit = filepath.Join(root, kit)
			}
		}
		if kit == "" {
			kit = filepath.Join(root, "..", "shared", "cda-kit")
		}
		if src == "" {
			src = filepath.Join(root, "mssante", "nos", "internal", "gennos", "testdata")
		}
	}

	var sets []*valueSet
	for _, t := range kitTables {
		v, err := readKitTable(kit, t)
		if err != nil {
			return err
		}
		sets = append(sets, v)
	}
	j03, err := readFHIRValueSet(src, srcJ03, "J03ContentType", "XDS contentTypeCode of the SubmissionSet (activity of the submitting structure)")
	if err != nil {
		return err
	}
	j06, err := readFHIRValueSet(src, srcJ06, "J06ClassCode", "XDS classCode (TRE_A03-ClasseDocument classes, deduced from the typeCode by ASS_X04)")
	if err != nil {
		return err
	}
	j10, err := readFHIRValueSet(src, srcJ10, "J10FormatCode", "XDS formatCode (deduced from the CDA templateId by ASS_A11, or from the level-1 body media type by ASS_A12)")
	if err != nil {
		return err
	}
	sets = append(sets, j03, j06, j10)
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].varName < sets[j].varName })
	j07 := find(sets, "J07TypeCode")

	x04, err := readSVSAssociation(src, srcX04, "X04TypeClass",
		"the XDS classCode (TRE_A03, 1.2.250.1.213.1.1.4.1) deduced from the XDS typeCode (JDV_J07)", j07, j06)
	if err != nil {
		return err
	}
	a11, err := readSVSAssociation(src, srcA11, "A11TemplateFormat",
		"the XDS formatCode (JDV_J10) deduced from the templateId of a CDA model", nil, j10)
	if err != nil {
		return err
	}
	a12, err := readConceptMap(src, srcA12, "A12MediaTypeFormat",
		"the XDS formatCode (JDV_J10) deduced from the media type of a non-structured (level 1) CDA body", j10)
	if err != nil {
		return err
	}

	code, err := render(sets, []*association{x04, a11, a12})
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(code)
		return err
	}
	return os.WriteFile(out, code, 0o644)
}

// moduleRoot returns the nearest directory above the working directory
// holding a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; pass -kit and -src")
		}
		dir = parent
	}
}

func find(sets []*valueSet, varName string) *valueSet {
	for _, v := range sets {
		if v.varName == varName {
			return v
		}
	}
	return nil
}

// svsConcept and svsFile decode IHE SVS RetrieveValueSetResponse files as
// published by the NOS (JDV with ConceptList, ASS with MappedConceptList).
type svsConcept struct {
	Code        string `xml:"code,attr"`
	CodeSystem  string `xml:"codeSystem,attr"`
	DisplayName string `xml:"displayName,attr"`
}

type svsFile struct {
	ValueSet struct {
		ID           string       `xml:"id,attr"`
		DateMaj      string       `xml:"dateMaj,attr"`
		URL          string       `xml:"urlFichier,attr"`
		Concepts     []svsConcept `xml:"ConceptList>Concept"`
		MappedConcep []struct {
			Concepts []svsConcept `xml:"Concept"`
		} `xml:"MappedConceptList>MappedConcept"`
	} `xml:"ValueSet"`
}

func readSVS(path string) (*svsFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f svsFile
	if err := xml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.ValueSet.ID == "" || f.ValueSet.URL == "" {
		return nil, fmt.Errorf("%s: ValueSet without id or urlFichier", path)
	}
	return &f, nil
}

// nosName returns the table name from its NOS URL
// (https://mos.esante.gouv.fr/NOS/<name>[/…]).
func nosName(url string) (string, error) {
	const p = "https://mos.esante.gouv.fr/NOS/"
	rest, ok := strings.CutPrefix(url, p)
	if !ok {
		return "", fmt.Errorf("URL %q is not under %s", url, p)
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, nil
}

func readKitTable(kit string, t kitTable) (*valueSet, error) {
	matches, err := filepath.Glob(filepath.Join(kit, kitLocalDir, t.prefix+"*.xml"))
	if err != nil {
		return nil, err
	}
	if len(matches) != 1 {
		return nil, fmt.Errorf("kit %s: want one %s*.xml in %s, found %d (set MSS_CDA_KIT or -kit)", kit, t.prefix, kitLocalDir, len(matches))
	}
	f, err := readSVS(matches[0])
	if err != nil {
		return nil, err
	}
	name, err := nosName(f.ValueSet.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", matches[0], err)
	}
	v := &valueSet{
		varName: t.varName,
		name:    name,
		oid:     f.ValueSet.ID,
		version: f.ValueSet.DateMaj,
		source:  fmt.Sprintf("%s@%s:%s/%s", kitRepo, kitCommit, kitUpstreamD, filepath.Base(matches[0])),
		doc:     t.doc,
	}
	for _, c := range f.ValueSet.Concepts {
		v.concepts = append(v.concepts, concept{c.Code, c.CodeSystem, c.DisplayName})
	}
	if len(v.concepts) == 0 {
		return nil, fmt.Errorf("%s: no concepts", matches[0])
	}
	return v, nil
}

// fhirValueSet decodes the parts of a FHIR R4 ValueSet the tables need.
type fhirValueSet struct {
	ResourceType string `json:"resourceType"`
	URL          string `json:"url"`
	Identifier   []struct {
		Value string `json:"value"`
	} `json:"identifier"`
	Version string `json:"version"`
	Date    string `json:"date"`
	Compose struct {
		Include []struct {
			System  string `json:"system"`
			Concept []struct {
				Code    string `json:"code"`
				Display string `json:"display"`
			} `json:"concept"`
		} `json:"include"`
	} `json:"compose"`
}

var nosVersion = regexp.MustCompile(`^[0-9]{14}$`)

func readFHIRValueSet(dir string, s fileSource, varName, doc string) (*valueSet, error) {
	path := filepath.Join(dir, s.file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f fhirValueSet
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.ResourceType != "ValueSet" {
		return nil, fmt.Errorf("%s: resourceType %q, want ValueSet", path, f.ResourceType)
	}
	name, err := nosName(f.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v := &valueSet{varName: varName, name: name, source: s.origin, doc: doc}
	for _, id := range f.Identifier {
		if oid, ok := strings.CutPrefix(id.Value, "urn:oid:"); ok {
			v.oid = oid
		}
	}
	if v.oid == "" {
		return nil, fmt.Errorf("%s: no urn:oid identifier", path)
	}
	// NOS value sets are versioned by date (YYYYMMDDhhmmss); some FHIR
	// copies carry a semantic version instead, then the date is the
	// publication date.
	v.version = f.Version
	if !nosVersion.MatchString(v.version) && f.Date != "" {
		v.version = f.Date
	}
	for _, inc := range f.Compose.Include {
		oid, ok := fhirSystemOID[inc.System]
		if !ok {
			return nil, fmt.Errorf("%s: code system %s has no known OID", path, inc.System)
		}
		for _, c := range inc.Concept {
			v.concepts = append(v.concepts, concept{c.Code, oid, c.Display})
		}
	}
	if len(v.concepts) == 0 {
		return nil, fmt.Errorf("%s: no concepts (intensional definitions are not supported)", path)
	}
	return v, nil
}

// readSVSAssociation reads an ASS table in SVS form (MappedConcept = key
// concept then target concept) and fills display names from the value sets
// the keys and targets belong to.
func readSVSAssociation(dir string, s fileSource, varName, doc string, fromSet, toSet *valueSet) (*association, error) {
	path := filepath.Join(dir, s.file)
	f, err := readSVS(path)
	if err != nil {
		return nil, err
	}
	name, err := nosName(f.ValueSet.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a := &association{varName: varName, name: name, oid: f.ValueSet.ID, version: f.ValueSet.DateMaj, source: s.origin, doc: doc}
	for i, m := range f.ValueSet.MappedConcep {
		if len(m.Concepts) != 2 {
			return nil, fmt.Errorf("%s: MappedConcept %d has %d concepts, want 2", path, i+1, len(m.Concepts))
		}
		from := concept{m.Concepts[0].Code, m.Concepts[0].CodeSystem, m.Concepts[0].DisplayName}
		to := concept{m.Concepts[1].Code, m.Concepts[1].CodeSystem, m.Concepts[1].DisplayName}
		from.display = displayFrom(fromSet, from)
		to.display = displayFrom(toSet, to)
		a.mappings = append(a.mappings, mapping{from, to})
	}
	if len(a.mappings) == 0 {
		return nil, fmt.Errorf("%s: no MappedConcept", path)
	}
	return a, nil
}

func displayFrom(v *valueSet, c concept) string {
	if c.display != "" || v == nil {
		return c.display
	}
	if m, ok := v.lookup(c.code, c.system); ok {
		return m.display
	}
	return ""
}

// fhirConceptMap decodes the parts of a FHIR ConceptMap the tables need.
type fhirConceptMap struct {
	ResourceType string `json:"resourceType"`
	Name         string `json:"name"`
	Version      string `json:"version"`
	Date         string `json:"date"`
	Group        []struct {
		Element []struct {
			Code   string `json:"code"`
			Target []struct {
				Code string `json:"code"`
			} `json:"target"`
		} `json:"element"`
	} `json:"group"`
}

// readConceptMap reads ASS_A12, whose targets carry no code system: each is
// resolved in toSet (JDV_J10), and a target missing from it is an error.
func readConceptMap(dir string, s fileSource, varName, doc string, toSet *valueSet) (*association, error) {
	path := filepath.Join(dir, s.file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f fhirConceptMap
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.ResourceType != "ConceptMap" || f.Name == "" {
		return nil, fmt.Errorf("%s: not a named ConceptMap", path)
	}
	a := &association{varName: varName, name: f.Name, version: f.Version, source: s.origin, doc: doc}
	if a.version == "" {
		a.version = f.Date
	}
	for _, g := range f.Group {
		for _, e := range g.Element {
			for _, t := range e.Target {
				to, ok := toSet.lookup(t.Code, "")
				if !ok {
					return nil, fmt.Errorf("%s: target %s of %s is not in %s", path, t.Code, e.Code, toSet.name)
				}
				a.mappings = append(a.mappings, mapping{concept{code: e.Code}, to})
			}
		}
	}
	if len(a.mappings) == 0 {
		return nil, fmt.Errorf("%s: no mappings", path)
	}
	return a, nil
}

func render(sets []*valueSet, assocs []*association) ([]byte, error) {
	var b bytes.Buffer
	q := strconv.Quote
	b.WriteString("// SPDX-License-Identifier: Apache-2.0\n\n// Code generated by go run ./internal/gennos; DO NOT EDIT.\n\n")
	b.WriteString("package nos\n\n")
	for _, v := range sets {
		fmt.Fprintf(&b, "// %s is %s (OID %s, version %s, %d concepts): %s.\n", v.varName, v.name, v.oid, orNone(v.version), len(v.concepts), v.doc)
		fmt.Fprintf(&b, "//\n// Source: %s\n", v.source)
		fmt.Fprintf(&b, "var %s = &ValueSet{\n", v.varName)
		fmt.Fprintf(&b, "Name: %s,\nOID: %s,\nVersion: %s,\nSource: %s,\n", q(v.name), q(v.oid), q(v.version), q(v.source))
		b.WriteString("Concepts: []Concept{\n")
		for _, c := range v.concepts {
			fmt.Fprintf(&b, "{Code: %s, System: %s, Display: %s},\n", q(c.code), q(c.system), q(c.display))
		}
		b.WriteString("},\nindex: &codeIndex{},\n}\n\n")
	}
	for _, a := range assocs {
		fmt.Fprintf(&b, "// %s is %s (OID %s, version %s, %d rows): %s.\n", a.varName, a.name, orNone(a.oid), orNone(a.version), len(a.mappings), a.doc)
		fmt.Fprintf(&b, "//\n// Source: %s\n", a.source)
		fmt.Fprintf(&b, "var %s = &Association{\n", a.varName)
		fmt.Fprintf(&b, "Name: %s,\nOID: %s,\nVersion: %s,\nSource: %s,\n", q(a.name), q(a.oid), q(a.version), q(a.source))
		b.WriteString("Mappings: []Mapping{\n")
		for _, m := range a.mappings {
			fmt.Fprintf(&b, "{From: Concept{Code: %s, System: %s, Display: %s}, To: Concept{Code: %s, System: %s, Display: %s}},\n",
				q(m.from.code), q(m.from.system), q(m.from.display), q(m.to.code), q(m.to.system), q(m.to.display))
		}
		b.WriteString("},\nindex: &codeIndex{},\n}\n\n")
	}
	return format.Source(b.Bytes())
}

func orNone(s string) string {
	if s == "" {
		return "not given by the source"
	}
	return s
}
