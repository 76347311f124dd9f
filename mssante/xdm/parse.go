package xdm

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// ErrMetadata is wrapped by every error of ParseMetadata.
var ErrMetadata = errors.New("xdm: METADATA.XML")

// ParsedMetadata is Metadata as read, with what the reader tolerated.
type ParsedMetadata struct {
	Metadata
	// Tolerated lists deviations from ebRIM accepted while reading
	// (undeclared prefixes, elements out of schema order…).
	Tolerated []string
}

// ParseMetadata reads a METADATA.XML (ebRIM 3.0 SubmitObjectsRequest),
// tolerantly: elements are matched by local name whatever their prefix or
// namespace (ANS's own published example uses prefixes it never declares),
// Slots are accepted after Classifications, and unknown elements are
// ignored. Entities declared in a DTD are never expanded. At most max bytes
// are read (10 MiB when max <= 0).
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
				if c.SelectAttrValue("classificationNode", "") == nodeSubmissionSet {
					setNodes[e.SelectAttrValue("id", "")] = true
				}
			}
		case "Classification":
			if e.SelectAttrValue("classificationNode", "") == nodeSubmissionSet {
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

func externalIDs(e *etree.Element) map[string]string {
	m := map[string]string{}
	for _, x := range children(e, "ExternalIdentifier") {
		m[x.SelectAttrValue("identificationScheme", "")] = x.SelectAttrValue("value", "")
	}
	return m
}

func (p *metaParser) submissionSet(e *etree.Element) SubmissionSet {
	p.checkOrder(e)
	s := slots(e)
	x := externalIDs(e)
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
		switch c.SelectAttrValue("classificationScheme", "") {
		case schemeSetAuthor:
			ss.Authors = append(ss.Authors, readAuthor(c))
		case schemeSetContentType:
			ss.ContentType = readCode(c)
		}
	}
	return ss
}

func (p *metaParser) document(e *etree.Element) DocumentEntry {
	p.checkOrder(e)
	s := slots(e)
	x := externalIDs(e)
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
	if v := first(s, "size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			p.tolerate("document %s: size %q is not a byte count", d.EntryUUID, v)
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
		switch c.SelectAttrValue("classificationScheme", "") {
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
		}
	}
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
