// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
)

// header parsing from the element tree built by the reader (HL7 namespace
// only, no prefixes).

// path returns the first element at the slash-separated path below e.
func path(e *etree.Element, p string) *etree.Element {
	for _, tag := range strings.Split(p, "/") {
		if e == nil {
			return nil
		}
		e = e.SelectElement(tag)
	}
	return e
}

func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

func attr(e *etree.Element, name string) string {
	if e == nil {
		return ""
	}
	return e.SelectAttrValue(name, "")
}

func readII(e *etree.Element) II {
	return II{Root: attr(e, "root"), Extension: attr(e, "extension")}
}

func readCode(e *etree.Element) Code {
	return Code{Code: attr(e, "code"), System: attr(e, "codeSystem"), Display: attr(e, "displayName")}
}

type headerParser struct {
	doc  *Document
	opts *ReadOptions
}

func (p *headerParser) tolerate(format string, args ...any) {
	p.doc.Tolerated = append(p.doc.Tolerated, fmt.Sprintf(format, args...))
}

func (p *headerParser) ts(e *etree.Element, where string) TS {
	v := attr(e, "value")
	if v == "" {
		return TS{}
	}
	ts, err := ParseTS(v, p.opts.Location)
	if err != nil {
		p.tolerate("%s: %v (ignored)", where, err)
		return TS{}
	}
	return ts
}

func (p *headerParser) name(e *etree.Element) Name {
	if e == nil {
		return Name{}
	}
	var n Name
	join := func(dst *string, v string) {
		if v == "" {
			return
		}
		if *dst != "" {
			*dst += " "
		}
		*dst += v
	}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "prefix":
			join(&n.Prefix, text(c))
		case "given":
			join(&n.Given, text(c))
		case "family":
			join(&n.Family, text(c))
		case "suffix":
			join(&n.Suffix, text(c))
		}
	}
	if len(e.ChildElements()) == 0 {
		n.Family = text(e) // unstructured name
	}
	return n
}

func (p *headerParser) organization(e *etree.Element) *Organization {
	if e == nil {
		return nil
	}
	return &Organization{ID: readII(e.SelectElement("id")), Name: text(e.SelectElement("name"))}
}

// person reads an assignedAuthor or assignedEntity.
func (p *headerParser) person(e *etree.Element) *Person {
	if e == nil {
		return nil
	}
	per := &Person{
		ID:           readII(e.SelectElement("id")),
		Specialty:    readCode(e.SelectElement("code")),
		Name:         p.name(path(e, "assignedPerson/name")),
		Organization: p.organization(e.SelectElement("representedOrganization")),
	}
	if len(e.SelectElements("id")) > 1 {
		p.tolerate("%s has %d ids: the first one was read", e.Tag, len(e.SelectElements("id")))
	}
	return per
}

// realmAndType notes a realmCode or typeId other than CI-SIS requires:
// realmCode code="FR" once, typeId root 2.16.840.1.113883.1.3 extension
// POCD_HD000040 once (IG document core, en-tête: both [1..1]; StrucMin
// SMDS_CDAClinicalDocument; the CDA schema requires typeId). The reader
// goes on; Document.Validate reports them as problems.
func (p *headerParser) realmAndType(root *etree.Element) {
	realms := root.SelectElements("realmCode")
	switch {
	case len(realms) == 0:
		p.tolerate(`realmCode is missing (CI-SIS requires realmCode code="FR")`)
	case len(realms) > 1:
		p.tolerate(`%d realmCode elements (CI-SIS requires one, code="FR")`, len(realms))
	case attr(realms[0], "code") != "FR":
		p.tolerate(`realmCode code %q (CI-SIS requires "FR")`, attr(realms[0], "code"))
	}
	types := root.SelectElements("typeId")
	switch {
	case len(types) == 0:
		p.tolerate("typeId is missing (CDA R2 requires typeId root=%s extension=%s)", typeIDRoot, typeIDExtension)
	case len(types) > 1:
		p.tolerate("%d typeId elements (CDA R2 requires one)", len(types))
	case attr(types[0], "root") != typeIDRoot || attr(types[0], "extension") != typeIDExtension:
		p.tolerate("typeId root %q extension %q (CDA R2 requires root=%s extension=%s)", attr(types[0], "root"), attr(types[0], "extension"), typeIDRoot, typeIDExtension)
	}
}

func parseHeader(doc *Document, root *etree.Element, opts *ReadOptions) {
	p := &headerParser{doc: doc, opts: opts}
	h := &doc.Header
	p.realmAndType(root)
	for _, t := range root.SelectElements("templateId") {
		h.TemplateIDs = append(h.TemplateIDs, readII(t))
	}
	h.ID = readII(root.SelectElement("id"))
	h.SetID = readII(root.SelectElement("setId"))
	if v := attr(root.SelectElement("versionNumber"), "value"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.tolerate("versionNumber %q is not an integer (ignored)", v)
		}
		h.Version = n
	}
	h.Type = readCode(root.SelectElement("code"))
	h.Title = text(root.SelectElement("title"))
	h.EffectiveTime = p.ts(root.SelectElement("effectiveTime"), "effectiveTime")
	h.Confidentiality = readCode(root.SelectElement("confidentialityCode"))
	h.Language = attr(root.SelectElement("languageCode"), "code")

	if rt := root.SelectElement("recordTarget"); rt != nil {
		pat, err := ins.ReadRecordTarget(root)
		doc.Patient, doc.PatientErr = pat, err
		h.Patient = &pat.Identity
	} else {
		doc.PatientErr = fmt.Errorf("%w: ClinicalDocument has no recordTarget", ins.ErrRecordTarget)
	}

	for i, a := range root.SelectElements("author") {
		au := Author{
			Time:     p.ts(a.SelectElement("time"), fmt.Sprintf("author[%d]/time", i+1)),
			Function: readCode(a.SelectElement("functionCode")),
		}
		aa := a.SelectElement("assignedAuthor")
		if dev := path(aa, "assignedAuthoringDevice"); dev != nil {
			au.Device = &Device{
				ID:           readII(aa.SelectElement("id")),
				Model:        text(dev.SelectElement("manufacturerModelName")),
				Software:     text(dev.SelectElement("softwareName")),
				Organization: p.organization(aa.SelectElement("representedOrganization")),
			}
		} else if aa != nil {
			au.Person = p.person(aa)
		}
		h.Authors = append(h.Authors, au)
	}
	if o := p.organization(path(root, "custodian/assignedCustodian/representedCustodianOrganization")); o != nil {
		h.Custodian = *o
	}
	if la := root.SelectElement("legalAuthenticator"); la != nil {
		h.LegalAuthenticator.Time = p.ts(la.SelectElement("time"), "legalAuthenticator/time")
		if per := p.person(la.SelectElement("assignedEntity")); per != nil {
			h.LegalAuthenticator.Person = *per
		}
	}
	for i, d := range root.SelectElements("documentationOf") {
		ev := d.SelectElement("serviceEvent")
		if ev == nil {
			continue
		}
		where := fmt.Sprintf("documentationOf[%d]/serviceEvent", i+1)
		se := ServiceEvent{
			Code: readCode(ev.SelectElement("code")),
			Low:  p.ts(path(ev, "effectiveTime/low"), where+"/effectiveTime/low"),
			High: p.ts(path(ev, "effectiveTime/high"), where+"/effectiveTime/high"),
		}
		if se.Low.IsZero() && se.High.IsZero() {
			// a single point in time: effectiveTime/@value
			se.Low = p.ts(ev.SelectElement("effectiveTime"), where+"/effectiveTime")
		}
		if pf := ev.SelectElement("performer"); pf != nil {
			ae := pf.SelectElement("assignedEntity")
			se.Performer = p.person(ae)
			se.PracticeSetting = readCode(path(ae, "representedOrganization/standardIndustryClassCode"))
		}
		h.ServiceEvents = append(h.ServiceEvents, se)
	}
	for _, rd := range root.SelectElements("relatedDocument") {
		if attr(rd, "typeCode") != "RPLC" {
			p.tolerate("relatedDocument typeCode %q is not RPLC (ignored)", attr(rd, "typeCode"))
			continue
		}
		id := readII(path(rd, "parentDocument/id"))
		h.Replaces = &id
	}
	enc := path(root, "componentOf/encompassingEncounter")
	if enc != nil {
		h.Encounter.Low = p.ts(path(enc, "effectiveTime/low"), "encompassingEncounter/effectiveTime/low")
		h.Encounter.High = p.ts(path(enc, "effectiveTime/high"), "encompassingEncounter/effectiveTime/high")
		if h.Encounter.Low.IsZero() && h.Encounter.High.IsZero() {
			h.Encounter.Low = p.ts(enc.SelectElement("effectiveTime"), "encompassingEncounter/effectiveTime")
		}
		h.Encounter.FacilityType = readCode(path(enc, "location/healthCareFacility/code"))
	}
	if doc.Patient != nil {
		doc.Tolerated = append(doc.Tolerated, doc.Patient.Tolerated...)
	}
}
