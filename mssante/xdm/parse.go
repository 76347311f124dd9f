// SPDX-License-Identifier: Apache-2.0

package xdm

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// ErrMetadata is wrapped by every error of ParseMetadata.
var ErrMetadata = errors.New("xdm: METADATA.XML")

// ParsedMetadata is Metadata as read, with what the reader tolerated.
type ParsedMetadata struct {
	Metadata
	// Tolerated lists deviations from ebRIM and IHE accepted while reading
	// (undeclared prefixes, elements out of schema order, scheme UUIDs in
	// another spelling, identifiers recognised by their name), what was not
	// understood and ignored (a Classification or ExternalIdentifier of an
	// unknown scheme), and the identifiers and codes the metadata lacks.
	Tolerated []string
}

// ParseMetadata reads a METADATA.XML (ebRIM 3.0 SubmitObjectsRequest),
// tolerantly: elements are matched by local name whatever their prefix or
// namespace (ANS's own published example uses prefixes it never declares),
// Slots are accepted after Classifications, and unknown elements are
// ignored. Entities declared in a DTD are never expanded. At most max bytes
// are read (10 MiB when max <= 0).
//
// The IHE classification and identification schemes (ITI TF-3 4.2.3,
// written urn:uuid: and lower case) are recognised whatever the case of
// their hexadecimal digits (RFC 4122 §3: "case insensitive on input") and
// with or without the urn:uuid: prefix; an ExternalIdentifier whose scheme
// is missing or unknown is recognised by its Name (XDSSubmissionSet.uniqueId,
// XDSDocumentEntry.patientId…, the names ITI TF-3 gives them). Each such
// reading, each Classification or ExternalIdentifier still not understood,
// and each missing submission-set uniqueId, sourceId, patientId or
// contentTypeCode and document uniqueId or patientId (all 1..1 for
// MSSanté: ANS PDLGC logical models SubmissionSet and DocumentEntry) is
// listed in Tolerated: nothing is left empty silently.
func ParseMetadata(r io.Reader, max int64) (*ParsedMetadata, error) {
	if max <= 0 {
		max = 10 << 20
	}
	lr := &io.LimitedReader{R: r, N: max + 1}
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if _, err := doc.ReadFrom(lr); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrMetadata, max)
		}
		return nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMetadata, max)
	}
	root := doc.Root()
	if root == nil || root.Tag != "SubmitObjectsRequest" {
		tag := ""
		if root != nil {
			tag = root.Tag
		}
		return nil, fmt.Errorf("%w: root element %q, want SubmitObjectsRequest", ErrMetadata, tag)
	}
	pm := &ParsedMetadata{}
	p := &metaParser{pm: pm}
	if root.NamespaceURI() != NamespaceLCM {
		p.tolerate("root element namespace %q, want %s", root.NamespaceURI(), NamespaceLCM)
	}
	list := child(root, "RegistryObjectList")
	if list == nil {
		return nil, fmt.Errorf("%w: no RegistryObjectList", ErrMetadata)
	}
	var packages []*etree.Element
	setNodes := map[string]bool{}
	for _, e := range list.ChildElements() {
		switch e.Tag {
		case "RegistryPackage":
			packages = append(packages, e)
			// Some producers (ANS DRIM-M example) put the submission-set
			// classification inside the package.
			for _, c := range children(e, "Classification") {
				if p.scheme("classificationNode", c.SelectAttrValue("classificationNode", "")) == nodeSubmissionSet {
					setNodes[e.SelectAttrValue("id", "")] = true
				}
			}
		case "Classification":
			if p.scheme("classificationNode", e.SelectAttrValue("classificationNode", "")) == nodeSubmissionSet {
				setNodes[e.SelectAttrValue("classifiedObject", "")] = true
			}
		case "ExtrinsicObject":
			pm.Documents = append(pm.Documents, p.document(e))
		case "Association":
			pm.Associations = append(pm.Associations, p.association(e))
		}
	}
	// The submission set is the package classified as such, or the only
	// package.
	var set *etree.Element
	for _, e := range packages {
		if setNodes[e.SelectAttrValue("id", "")] {
			set = e
			break
		}
	}
	if set == nil && len(packages) > 0 {
		set = packages[0]
		p.tolerate("no Classification marks the submission set: the first RegistryPackage was taken")
	}
	if set == nil {
		return nil, fmt.Errorf("%w: no RegistryPackage (submission set)", ErrMetadata)
	}
	pm.SubmissionSet = p.submissionSet(set)
	return pm, nil
}

type metaParser struct {
	pm    *ParsedMetadata
	order bool // out-of-order note already given
	// spelled records the scheme spellings already noted.
	spelled map[string]bool
}

// reUUID is a bare UUID (RFC 4122 §3), any case.
var reUUID = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// scheme returns the canonical spelling (urn:uuid:, lower case) of a
// scheme or node UUID, noting once each other spelling read; a value that
// is not a UUID is returned as is.
func (p *metaParser) scheme(attr, v string) string {
	t := strings.TrimSpace(v)
	u := t
	if len(u) >= 9 && strings.EqualFold(u[:9], "urn:uuid:") {
		u = u[9:]
	}
	if !reUUID.MatchString(u) {
		return v
	}
	c := "urn:uuid:" + strings.ToLower(u)
	if c != v && !p.spelled[v] {
		if p.spelled == nil {
			p.spelled = map[string]bool{}
		}
		p.spelled[v] = true
		p.tolerate("%s %q read as %s (IHE writes scheme UUIDs as urn:uuid: in lower case)", attr, v, c)
	}
	return c
}

func (p *metaParser) tolerate(format string, args ...any) {
	p.pm.Tolerated = append(p.pm.Tolerated, fmt.Sprintf(format, args...))
}

func child(e *etree.Element, tag string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

func children(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// checkOrder notes, once, an object whose Slots follow its Classifications.
func (p *metaParser) checkOrder(e *etree.Element) {
	seenClass := false
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Classification", "ExternalIdentifier":
			seenClass = true
		case "Slot":
			if seenClass && !p.order {
				p.order = true
				p.tolerate("Slot elements after Classification elements (ebRIM order is Slot, Name, Description, Classification, ExternalIdentifier)")
			}
		}
	}
}

func slots(e *etree.Element) map[string][]string {
	m := map[string][]string{}
	for _, s := range children(e, "Slot") {
		name := s.SelectAttrValue("name", "")
		vl := child(s, "ValueList")
		if vl == nil {
			continue
		}
		for _, v := range children(vl, "Value") {
			m[name] = append(m[name], strings.TrimSpace(v.Text()))
		}
	}
	return m
}

func first(m map[string][]string, name string) string {
	if v := m[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func localizedValue(e *etree.Element, tag string) string {
	n := child(e, tag)
	if n == nil {
		return ""
	}
	if ls := child(n, "LocalizedString"); ls != nil {
		return ls.SelectAttrValue("value", "")
	}
	return ""
}

func readCode(c *etree.Element) Code {
	return Code{
		Code:    c.SelectAttrValue("nodeRepresentation", ""),
		Scheme:  first(slots(c), "codingScheme"),
		Display: localizedValue(c, "Name"),
	}
}

func readAuthor(c *etree.Element) Author {
	s := slots(c)
	return Author{
		Person:       first(s, "authorPerson"),
		Institutions: s["authorInstitution"],
		Roles:        s["authorRole"],
		Specialties:  s["authorSpecialty"],
	}
}

// External identifiers by scheme, with the names ITI TF-3 gives them.
var externalIDNames = map[string]string{
	schemeSetUniqueID:  "XDSSubmissionSet.uniqueId",
	schemeSetSourceID:  "XDSSubmissionSet.sourceId",
	schemeSetPatientID: "XDSSubmissionSet.patientId",
	schemeDocUniqueID:  "XDSDocumentEntry.uniqueId",
	schemeDocPatientID: "XDSDocumentEntry.patientId",
}

// externalIDs returns the values of e's ExternalIdentifiers among known
// (schemes), recognised by their scheme or, failing that, by their Name;
// what is not recognised is noted. what names e in the notes.
func (p *metaParser) externalIDs(e *etree.Element, what string, known ...string) map[string]string {
	m := map[string]string{}
	isKnown := map[string]bool{}
	byName := map[string]string{}
	for _, k := range known {
		isKnown[k] = true
		byName[externalIDNames[k]] = k
	}
	for _, x := range children(e, "ExternalIdentifier") {
		raw := x.SelectAttrValue("identificationScheme", "")
		sc := p.scheme("identificationScheme", raw)
		name := localizedValue(x, "Name")
		if !isKnown[sc] {
			k, ok := byName[name]
			if !ok {
				p.tolerate("%s: ExternalIdentifier with identificationScheme %q (name %q) not understood: ignored", what, raw, name)
				continue
			}
			p.tolerate("%s: ExternalIdentifier %s recognised by its name (identificationScheme %q)", what, name, raw)
			sc = k
		}
		if _, dup := m[sc]; dup {
			p.tolerate("%s: more than one %s: the first one was read", what, externalIDNames[sc])
			continue
		}
		m[sc] = x.SelectAttrValue("value", "")
	}
	return m
}

// missing notes the identifiers and codes of e that MSSanté requires
// (PDLGC SubmissionSet and DocumentEntry: 1..1) and the metadata lacks.
func (p *metaParser) missing(what string, fields ...string) {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			p.tolerate("%s has no %s", what, fields[i])
		}
	}
}

func (p *metaParser) submissionSet(e *etree.Element) SubmissionSet {
	p.checkOrder(e)
	s := slots(e)
	what := fmt.Sprintf("submission set %s", e.SelectAttrValue("id", ""))
	x := p.externalIDs(e, what, schemeSetUniqueID, schemeSetSourceID, schemeSetPatientID)
	ss := SubmissionSet{
		EntryUUID:      e.SelectAttrValue("id", ""),
		SubmissionTime: first(s, "submissionTime"),
		Title:          localizedValue(e, "Name"),
		Comments:       localizedValue(e, "Description"),
		UniqueID:       x[schemeSetUniqueID],
		SourceID:       x[schemeSetSourceID],
		PatientID:      x[schemeSetPatientID],
	}
	for _, c := range children(e, "Classification") {
		switch sc := p.scheme("classificationScheme", c.SelectAttrValue("classificationScheme", "")); {
		case sc == schemeSetAuthor:
			ss.Authors = append(ss.Authors, readAuthor(c))
		case sc == schemeSetContentType:
			ss.ContentType = readCode(c)
		case sc == "" && p.scheme("classificationNode", c.SelectAttrValue("classificationNode", "")) == nodeSubmissionSet:
			// the submission-set marker (see ParseMetadata)
		default:
			p.unknownClassification(what, c)
		}
	}
	p.missing(what, "uniqueId", ss.UniqueID, "sourceId", ss.SourceID, "patientId", ss.PatientID, "contentTypeCode", ss.ContentType.Code)
	return ss
}

func (p *metaParser) unknownClassification(what string, c *etree.Element) {
	if node := c.SelectAttrValue("classificationNode", ""); node != "" && c.SelectAttrValue("classificationScheme", "") == "" {
		p.tolerate("%s: Classification with classificationNode %q not understood: ignored", what, node)
		return
	}
	p.tolerate("%s: Classification with classificationScheme %q not understood: ignored", what, c.SelectAttrValue("classificationScheme", ""))
}

func (p *metaParser) document(e *etree.Element) DocumentEntry {
	p.checkOrder(e)
	s := slots(e)
	what := fmt.Sprintf("document %s", e.SelectAttrValue("id", ""))
	x := p.externalIDs(e, what, schemeDocUniqueID, schemeDocPatientID)
	d := DocumentEntry{
		EntryUUID:          e.SelectAttrValue("id", ""),
		MimeType:           e.SelectAttrValue("mimeType", ""),
		CreationTime:       first(s, "creationTime"),
		Hash:               first(s, "hash"),
		LanguageCode:       first(s, "languageCode"),
		LegalAuthenticator: first(s, "legalAuthenticator"),
		ServiceStartTime:   first(s, "serviceStartTime"),
		ServiceStopTime:    first(s, "serviceStopTime"),
		SourcePatientID:    first(s, "sourcePatientId"),
		SourcePatientInfo:  s["sourcePatientInfo"],
		URI:                first(s, "URI"),
		Title:              localizedValue(e, "Name"),
		Comments:           localizedValue(e, "Description"),
		PatientID:          x[schemeDocPatientID],
		UniqueID:           x[schemeDocUniqueID],
		Size:               -1,
	}
	if v := first(s, "size"); v == "" {
		p.tolerate("%s has no size: Size left at -1 (unknown)", what)
	} else {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			p.tolerate("%s: size %q is not a byte count: Size left at -1 (unknown)", what, v)
		} else {
			d.Size = n
		}
	}
	if len(s["URI"]) > 1 {
		// XDS allows a long URI split as "1|part", "2|part"…
		var b strings.Builder
		for _, v := range s["URI"] {
			if _, part, ok := strings.Cut(v, "|"); ok {
				b.WriteString(part)
			}
		}
		d.URI = b.String()
	}
	for _, c := range children(e, "Classification") {
		switch p.scheme("classificationScheme", c.SelectAttrValue("classificationScheme", "")) {
		case schemeDocAuthor:
			d.Authors = append(d.Authors, readAuthor(c))
		case schemeDocClass:
			d.Class = readCode(c)
		case schemeDocConfidential:
			d.Confidentiality = append(d.Confidentiality, readCode(c))
		case schemeDocEvent:
			d.Events = append(d.Events, readCode(c))
		case schemeDocFormat:
			d.Format = readCode(c)
		case schemeDocFacility:
			d.FacilityType = readCode(c)
		case schemeDocPractice:
			d.PracticeSetting = readCode(c)
		case schemeDocType:
			d.Type = readCode(c)
		default:
			p.unknownClassification(what, c)
		}
	}
	p.missing(what, "uniqueId", d.UniqueID, "patientId", d.PatientID)
	return d
}

func (p *metaParser) association(e *etree.Element) Association {
	return Association{
		ID:                  e.SelectAttrValue("id", ""),
		Type:                e.SelectAttrValue("associationType", ""),
		Source:              e.SelectAttrValue("sourceObject", ""),
		Target:              e.SelectAttrValue("targetObject", ""),
		SubmissionSetStatus: first(slots(e), submissionSetStatusKey),
	}
}
