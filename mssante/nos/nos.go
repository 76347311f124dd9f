// SPDX-License-Identifier: Apache-2.0

package nos

import (
	"strings"
	"sync"
)

//go:generate go run ./internal/gennos -o tables_gen.go

// Concept is one coded value: the code, the OID of the code system that
// defines it (the XDS codingScheme, the CDA codeSystem) and its display name
// as the source table gives it (empty when the source has none).
type Concept struct {
	Code    string
	System  string
	Display string
}

// ValueSet is a NOS "jeu de valeurs" (JDV): the codes allowed for one CDA
// header element or XDS metadata attribute.
type ValueSet struct {
	Name     string    // e.g. "JDV_J07-XdsTypeCode-CISIS"
	OID      string    // e.g. "1.2.250.1.213.1.1.5.471"
	Version  string    // publication/revision date as given by the source file
	Source   string    // where the data was generated from (repo@commit:path or URL)
	Concepts []Concept // in source order

	index *codeIndex // built on first lookup; nil for hand-made values
}

// Lookup returns the first concept of v whose code is code, whatever its
// code system.
func (v *ValueSet) Lookup(code string) (Concept, bool) {
	if p := v.positions(code); len(p) > 0 {
		return v.Concepts[p[0]], true
	}
	return Concept{}, false
}

// Contains reports whether v holds a concept with this code in this code
// system (both compared exactly).
func (v *ValueSet) Contains(code, system string) bool {
	for _, i := range v.positions(code) {
		if v.Concepts[i].System == system {
			return true
		}
	}
	return false
}

// positions returns the indexes in v.Concepts of the concepts whose code is
// code, in source order.
func (v *ValueSet) positions(code string) []int {
	if v == nil {
		return nil
	}
	if v.index == nil {
		return scan(len(v.Concepts), func(i int) bool { return v.Concepts[i].Code == code })
	}
	return v.index.lookup(code, len(v.Concepts), func(i int) string { return v.Concepts[i].Code })
}

// Mapping is one row of an association table: From is the key concept
// (a document type, a CDA templateId, a media type), To the deduced one.
type Mapping struct {
	From Concept
	To   Concept
}

// Association is a NOS association table ("table d'association", ASS_…)
// deducing one coded value from another.
type Association struct {
	Name     string    // e.g. "ASS_X04-CorrespondanceType-Classe-CISIS"
	OID      string    // OID of the table, empty when the source gives none
	Version  string    // publication/revision date as given by the source file
	Source   string    // where the data was generated from (repo@commit:path or URL)
	Mappings []Mapping // in source order

	index *codeIndex // built on first lookup; nil for hand-made values
}

// Lookup returns the target of the first row whose key code is code.
func (a *Association) Lookup(code string) (Concept, bool) {
	if p := a.positions(code); len(p) > 0 {
		return a.Mappings[p[0]].To, true
	}
	return Concept{}, false
}

// LookupAll returns the targets of every row whose key code is code, in
// source order (nil when there is none).
func (a *Association) LookupAll(code string) []Concept {
	var out []Concept
	for _, i := range a.positions(code) {
		out = append(out, a.Mappings[i].To)
	}
	return out
}

func (a *Association) positions(code string) []int {
	if a == nil {
		return nil
	}
	if a.index == nil {
		return scan(len(a.Mappings), func(i int) bool { return a.Mappings[i].From.Code == code })
	}
	return a.index.lookup(code, len(a.Mappings), func(i int) string { return a.Mappings[i].From.Code })
}

// codeIndex maps a code to its positions in a table; it is built once, on
// first use, so that importing the package costs nothing.
type codeIndex struct {
	once sync.Once
	m    map[string][]int
}

func (x *codeIndex) lookup(code string, n int, key func(int) string) []int {
	x.once.Do(func() {
		x.m = make(map[string][]int, n)
		for i := 0; i < n; i++ {
			k := key(i)
			x.m[k] = append(x.m[k], i)
		}
	})
	return x.m[code]
}

func scan(n int, match func(int) bool) []int {
	var out []int
	for i := 0; i < n; i++ {
		if match(i) {
			out = append(out, i)
		}
	}
	return out
}

// ClassForType returns the XDS classCode (TRE_A03-ClasseDocument, code
// system 1.2.250.1.213.1.1.4.1) that ASS_X04 deduces from a JDV_J07 type
// code (the CDA ClinicalDocument/code/@code), with its JDV_J06 display name.
func ClassForType(typeCode string) (Concept, bool) {
	return X04TypeClass.Lookup(typeCode)
}

// FormatForMediaType returns the XDS formatCode that ASS_A12 associates with
// the media type of a non-structured (level 1) CDA body
// (component/nonXMLBody/text/@mediaType): application/pdf gives
// urn:ihe:iti:xds-sd:pdf:2008 and text/plain urn:ihe:iti:xds-sd:text:2008,
// both in code system 1.3.6.1.4.1.19376.1.2.3. The media type is compared
// without case and without parameters ("text/plain; charset=UTF-8" is
// text/plain).
func FormatForMediaType(mediaType string) (Concept, bool) {
	mt, _, _ := strings.Cut(mediaType, ";")
	return A12MediaTypeFormat.Lookup(strings.ToLower(strings.TrimSpace(mt)))
}

// FormatForTemplate returns the XDS formatCode that ASS_A11 associates with
// a structured CDA model, identified by the root of its volet templateId
// (ASS_A11 keys on the root only; no row uses an extension). It reports
// false for an unknown templateId and for a templateId the table maps to
// several formats: the IHE XDS-SD templateId 1.3.6.1.4.1.19376.1.2.20 of
// level-1 documents, whose format depends on the body media type (use
// FormatForMediaType, or A11TemplateFormat.LookupAll for the list).
func FormatForTemplate(templateID string) (Concept, bool) {
	all := A11TemplateFormat.LookupAll(strings.TrimSpace(templateID))
	if len(all) == 0 {
		return Concept{}, false
	}
	for _, c := range all[1:] {
		if c.Code != all[0].Code || c.System != all[0].System {
			return Concept{}, false
		}
	}
	return all[0], true
}
