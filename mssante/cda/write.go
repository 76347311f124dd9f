// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
)

// Body is the content of a level-1 document: a PDF or plain text, read once
// and streamed into the document as base64.
type Body struct {
	MediaType string    // MediaTypePDF or MediaTypeText
	Content   io.Reader // read to EOF by Write
}

// ErrBody is wrapped by errors about the body given to Write.
var ErrBody = errors.New("cda: body")

// bodyMark stands for the body in the serialised header; it is the last
// text of the document, so a header value containing it cannot be confused
// with it (the split point is searched from the end).
const bodyMark = "\x60gomss-body\x60"

// Write validates h and writes a CDA R2 level-1 document (non-structured
// body, IHE XDS-SD) to w: the header, then body.Content encoded in base64
// as it is read, so the body is never held in memory. A PDF body must start
// with "%PDF-". Nothing is written when the header is invalid.
//
// The document passes the CDA schema and the ANS StrucMin schematron
// (TestContenuCDA 3.0) when Validate accepts the header.
func Write(w io.Writer, h *Header, body Body) error {
	if err := h.Validate(); err != nil {
		return err
	}
	if body.Content == nil {
		return fmt.Errorf("%w: no content", ErrBody)
	}
	content := bufio.NewReaderSize(body.Content, 32<<10)
	switch body.MediaType {
	case MediaTypePDF:
		magic, err := content.Peek(5)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: reading: %w", ErrBody, err)
		}
		if string(magic) != "%PDF-" {
			return fmt.Errorf("%w: media type %s but the content does not start with %%PDF-", ErrBody, MediaTypePDF)
		}
	case MediaTypeText:
	default:
		return fmt.Errorf("%w: media type %q: a level-1 document carries %s or %s", ErrBody, body.MediaType, MediaTypePDF, MediaTypeText)
	}
	n := h.WithDefaults()
	doc, err := n.document(body.MediaType)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		return err
	}
	i := bytes.LastIndex(buf.Bytes(), []byte(bodyMark))
	if i < 0 {
		return errors.New("cda: internal error: body mark lost")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(buf.Bytes()[:i])
	enc := base64.NewEncoder(base64.StdEncoding, bw)
	if _, err := io.Copy(enc, content); err != nil {
		return fmt.Errorf("%w: copying: %w", ErrBody, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	bw.Write(buf.Bytes()[i+len(bodyMark):])
	return bw.Flush()
}

// document builds the element tree of a normalised, valid header.
func (h *Header) document(mediaType string) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	cd := doc.CreateElement("ClinicalDocument")
	cd.CreateAttr("xmlns", ins.NamespaceHL7)
	cd.CreateElement("realmCode").CreateAttr("code", "FR")
	setII(cd.CreateElement("typeId"), II{Root: typeIDRoot, Extension: typeIDExtension})
	for _, t := range []string{TemplateHL7France, TemplateCISIS, TemplateXDSSD} {
		cd.CreateElement("templateId").CreateAttr("root", t)
	}
	setII(cd.CreateElement("id"), h.ID)
	setCode(cd.CreateElement("code"), h.Type)
	cd.CreateElement("title").SetText(h.Title)
	cd.CreateElement("effectiveTime").CreateAttr("value", h.EffectiveTime.String())
	setCode(cd.CreateElement("confidentialityCode"), h.Confidentiality)
	cd.CreateElement("languageCode").CreateAttr("code", h.Language)
	setII(cd.CreateElement("setId"), h.SetID)
	cd.CreateElement("versionNumber").CreateAttr("value", strconv.Itoa(h.Version))
	rt, err := h.Patient.RecordTarget()
	if err != nil {
		return nil, err
	}
	cd.AddChild(rt)
	for _, a := range h.Authors {
		ae := cd.CreateElement("author")
		if !a.Function.IsZero() {
			setCode(ae.CreateElement("functionCode"), a.Function)
		}
		ae.CreateElement("time").CreateAttr("value", a.Time.String())
		aa := ae.CreateElement("assignedAuthor")
		if a.Person != nil {
			assigned(aa, a.Person, "assignedPerson")
			continue
		}
		d := a.Device
		setII(aa.CreateElement("id"), d.ID)
		dev := aa.CreateElement("assignedAuthoringDevice")
		dev.CreateElement("manufacturerModelName").SetText(d.Model)
		dev.CreateElement("softwareName").SetText(d.Software)
		organization(aa.CreateElement("representedOrganization"), d.Organization)
	}
	cust := cd.CreateElement("custodian").CreateElement("assignedCustodian").CreateElement("representedCustodianOrganization")
	setII(cust.CreateElement("id"), h.Custodian.ID)
	if h.Custodian.Name != "" {
		cust.CreateElement("name").SetText(h.Custodian.Name)
	}
	la := cd.CreateElement("legalAuthenticator")
	la.CreateElement("time").CreateAttr("value", h.LegalAuthenticator.Time.String())
	la.CreateElement("signatureCode").CreateAttr("code", "S")
	assigned(la.CreateElement("assignedEntity"), &h.LegalAuthenticator.Person, "assignedPerson")
	for _, se := range h.ServiceEvents {
		ev := cd.CreateElement("documentationOf").CreateElement("serviceEvent")
		if !se.Code.IsZero() {
			setCode(ev.CreateElement("code"), se.Code)
		}
		if !se.Low.IsZero() || !se.High.IsZero() {
			ivl(ev, se.Low, se.High)
		}
		if se.Performer == nil {
			continue // a later act without performer (Validate checked)
		}
		pf := ev.CreateElement("performer")
		pf.CreateAttr("typeCode", "PRF")
		org := assigned(pf.CreateElement("assignedEntity"), se.Performer, "assignedPerson")
		setCode(org.CreateElement("standardIndustryClassCode"), se.PracticeSetting)
	}
	if h.Replaces != nil {
		rd := cd.CreateElement("relatedDocument")
		rd.CreateAttr("typeCode", "RPLC")
		setII(rd.CreateElement("parentDocument").CreateElement("id"), *h.Replaces)
	}
	enc := cd.CreateElement("componentOf").CreateElement("encompassingEncounter")
	ivl(enc, h.Encounter.Low, h.Encounter.High)
	setCode(enc.CreateElement("location").CreateElement("healthCareFacility").CreateElement("code"), h.Encounter.FacilityType)
	text := cd.CreateElement("component").CreateElement("nonXMLBody").CreateElement("text")
	text.CreateAttr("mediaType", mediaType)
	text.CreateAttr("representation", "B64")
	text.SetText(bodyMark)
	doc.Indent(2)
	return doc, nil
}

// assigned writes id, code, assignedPerson/name and representedOrganization
// of an assignedAuthor or assignedEntity, and returns the organisation
// element (nil when there is none).
func assigned(e *etree.Element, p *Person, personTag string) *etree.Element {
	setII(e.CreateElement("id"), p.ID)
	if !p.Specialty.IsZero() {
		setCode(e.CreateElement("code"), p.Specialty)
	}
	name := e.CreateElement(personTag).CreateElement("name")
	for _, part := range []struct{ tag, v string }{
		{"prefix", p.Name.Prefix}, {"given", p.Name.Given}, {"family", p.Name.Family}, {"suffix", p.Name.Suffix},
	} {
		if part.v != "" {
			name.CreateElement(part.tag).SetText(part.v)
		}
	}
	if p.Organization == nil {
		return nil
	}
	org := e.CreateElement("representedOrganization")
	organization(org, p.Organization)
	return org
}

func organization(e *etree.Element, o *Organization) {
	setII(e.CreateElement("id"), o.ID)
	if o.Name != "" {
		e.CreateElement("name").SetText(o.Name)
	}
}

func ivl(parent *etree.Element, low, high TS) {
	et := parent.CreateElement("effectiveTime")
	et.CreateElement("low").CreateAttr("value", low.String())
	if !high.IsZero() {
		et.CreateElement("high").CreateAttr("value", high.String())
	}
}

func setII(e *etree.Element, id II) {
	e.CreateAttr("root", id.Root)
	if id.Extension != "" {
		e.CreateAttr("extension", id.Extension)
	}
}

func setCode(e *etree.Element, c Code) {
	e.CreateAttr("code", c.Code)
	if c.System != "" {
		e.CreateAttr("codeSystem", c.System)
	}
	if c.Display != "" {
		e.CreateAttr("displayName", c.Display)
	}
}
