// SPDX-License-Identifier: Apache-2.0

package xdm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/nos"
)

// ErrEntry is wrapped by errors deriving metadata from a CDA header.
var ErrEntry = errors.New("xdm: document entry")

// MimeTypeCDA is the mimeType of a CDA document entry.
const MimeTypeCDA = "text/xml"

// PatientIDs returns the XDS patientId and sourcePatientId for an identity:
// the INS (matricule^^^&OID&ISO^NH) when the identity is qualified, else
// the first local identifier (^PI); sourcePatientId is the IPP, or the INS
// when there is no local identifier (ANS interop-ig-portabilite,
// xdm-patient-id, xdm-source-patient-id). hasINS tells which.
func PatientIDs(p *ins.Identity) (patientID, sourcePatientID string, hasINS bool, err error) {
	if p == nil {
		return "", "", false, fmt.Errorf("%w: no patient", ErrEntry)
	}
	if cx, err := p.PatientID(); err == nil {
		patientID, hasINS = cx.String(), true
	} else if !errors.Is(err, ins.ErrNotQualified) {
		return "", "", false, fmt.Errorf("%w: patientId: %w", ErrEntry, err)
	}
	if spi, err := p.SourcePatientID(); err == nil {
		sourcePatientID = spi.String()
	}
	if patientID == "" {
		patientID = sourcePatientID
	}
	if patientID == "" {
		return "", "", false, fmt.Errorf("%w: the patient has neither a qualified INS nor a local identifier", ErrEntry)
	}
	return patientID, sourcePatientID, hasINS, nil
}

// NewDocumentEntry derives the XDS DocumentEntry of a CDA document from its
// header, as mapped by ins-cda §4.2 (ANS tools, interop-ig-portabilite,
// TestContenuCDA CDAHeaderToXDM): uniqueId = id, creationTime = effectiveTime
// in UTC, service start/stop = the first serviceEvent's times, typeCode =
// code, classCode from typeCode (ASS_X04), formatCode from the body media
// type (ASS_A12) for a level-1 document or from the volet templateId
// (ASS_A11), facility and practice setting, confidentiality (plus
// extra masking codes of JDV_J08), eventCodeList = every serviceEvent code,
// authors and legal authenticator as XCN/XON.
//
// The header is taken with its defaults applied (cda.Header.WithDefaults).
// The patient must be the identity the sender vouches for: a header read
// from a document has a patient without status, so its INS is not used
// unless the caller sets the status it established. Hash, size and URI are
// left for the archive writer. mediaType is the nonXMLBody media type, or ""
// for a structured document.
func NewDocumentEntry(h *cda.Header, mediaType string, masking ...Code) (DocumentEntry, error) {
	n := h.WithDefaults()
	d := DocumentEntry{
		UniqueID:     n.ID.String(),
		LanguageCode: n.Language,
		Title:        n.Title,
		MimeType:     MimeTypeCDA,
		Type:         Code{Code: n.Type.Code, Scheme: n.Type.System, Display: n.Type.Display},
	}
	var err error
	d.PatientID, d.SourcePatientID, _, err = PatientIDs(n.Patient)
	if err != nil {
		return d, err
	}
	d.SourcePatientInfo = n.Patient.SourcePatientInfo()
	if n.ID.Root == "" {
		return d, fmt.Errorf("%w: the document has no id", ErrEntry)
	}
	if n.EffectiveTime.IsZero() {
		return d, fmt.Errorf("%w: the document has no effectiveTime", ErrEntry)
	}
	d.CreationTime = n.EffectiveTime.UTC()
	if len(n.ServiceEvents) > 0 {
		se := n.ServiceEvents[0]
		if !se.Low.IsZero() {
			d.ServiceStartTime = se.Low.UTC()
		}
		if !se.High.IsZero() {
			d.ServiceStopTime = se.High.UTC()
		}
		d.PracticeSetting = code(se.PracticeSetting)
	}
	for _, se := range n.ServiceEvents {
		if !se.Code.IsZero() {
			d.Events = append(d.Events, code(se.Code))
		}
	}
	class, ok := nos.ClassForType(n.Type.Code)
	if !ok {
		return d, fmt.Errorf("%w: no classCode for typeCode %q in ASS_X04 (%s)", ErrEntry, n.Type.Code, nos.X04TypeClass.Version)
	}
	d.Class = Code{Code: class.Code, Scheme: class.System, Display: class.Display}
	var format nos.Concept
	if mediaType != "" {
		format, ok = nos.FormatForMediaType(mediaType)
		if !ok {
			return d, fmt.Errorf("%w: no formatCode for body media type %q in ASS_A12", ErrEntry, mediaType)
		}
	} else {
		ok = false
		for i := len(n.TemplateIDs) - 1; i >= 0 && !ok; i-- {
			format, ok = nos.FormatForTemplate(n.TemplateIDs[i].Root)
		}
		if !ok {
			var roots []string
			for _, t := range n.TemplateIDs {
				roots = append(roots, t.Root)
			}
			return d, fmt.Errorf("%w: no formatCode in ASS_A11 (%s) for the templateIds of this structured document: %s",
				ErrEntry, nos.A11TemplateFormat.Version, strings.Join(roots, ", "))
		}
	}
	d.Format = Code{Code: format.Code, Scheme: format.System, Display: format.Display}
	d.FacilityType = code(n.Encounter.FacilityType)
	d.Confidentiality = []Code{code(n.Confidentiality)}
	for _, m := range masking {
		if !nos.J08Confidentiality.Contains(m.Code, m.Scheme) {
			return d, fmt.Errorf("%w: confidentiality code %q (%s) is not in JDV_J08", ErrEntry, m.Code, m.Scheme)
		}
		if m.Display == "" {
			c, _ := nos.J08Confidentiality.Lookup(m.Code)
			m.Display = c.Display
		}
		d.Confidentiality = append(d.Confidentiality, m)
	}
	if len(d.Confidentiality) > 4 {
		return d, fmt.Errorf("%w: %d confidentiality codes, at most 4", ErrEntry, len(d.Confidentiality))
	}
	for _, a := range n.Authors {
		d.Authors = append(d.Authors, authorOf(a))
	}
	if p := n.LegalAuthenticator.Person; p.ID.Extension != "" {
		d.LegalAuthenticator = xcnPerson(&p)
	}
	return d, nil
}

func code(c cda.Code) Code { return Code{Code: c.Code, Scheme: c.System, Display: c.Display} }

// hl7 escapes the HL7 v2 delimiters in a component value.
var hl7 = strings.NewReplacer(`\`, `\E\`, `|`, `\F\`, `^`, `\S\`, `&`, `\T\`, `~`, `\R\`)

// xcnPerson formats a professional as an XCN:
// id^family^given^^^^^^&root&ISO^D^^^IDNPS (EI when the identifier is local
// to a structure, "IDNST/id").
func xcnPerson(p *cda.Person) string {
	idType := "IDNPS"
	if strings.Contains(p.ID.Extension, "/") {
		idType = "EI"
	}
	return fmt.Sprintf("%s^%s^%s^^^^^^&%s&ISO^D^^^%s",
		hl7.Replace(p.ID.Extension), hl7.Replace(p.Name.Family), hl7.Replace(p.Name.Given), p.ID.Root, idType)
}

// xon formats an organisation as an XON: name^^^^^&root&ISO^IDNST^^^id.
func xon(o *cda.Organization) string {
	return fmt.Sprintf("%s^^^^^&%s&ISO^IDNST^^^%s", hl7.Replace(o.Name), o.ID.Root, hl7.Replace(o.ID.Extension))
}

func authorOf(a cda.Author) Author {
	var out Author
	var org *cda.Organization
	switch {
	case a.Person != nil:
		out.Person = xcnPerson(a.Person)
		if s := a.Person.Specialty; !s.IsZero() {
			out.Specialties = []string{s.Code + "^" + hl7.Replace(s.Display) + "^" + s.System}
		}
		org = a.Person.Organization
	case a.Device != nil:
		// A device: its identifier, softwareName and manufacturerModelName
		// in the name components, name type U, identifier type RI (ANS
		// InteropStudio getAuthorPerson).
		d := a.Device
		id := d.ID.Extension
		if id == "" {
			id = d.ID.Root
		}
		out.Person = fmt.Sprintf("%s^%s^%s^^^^^^&%s&ISO^U^^^RI",
			hl7.Replace(id), hl7.Replace(d.Software), hl7.Replace(d.Model), d.ID.Root)
		org = d.Organization
	}
	if org != nil && org.ID.Extension != "" {
		out.Institutions = []string{xon(org)}
	}
	if a.Function.Display != "" {
		out.Roles = []string{a.Function.Display}
	}
	return out
}
