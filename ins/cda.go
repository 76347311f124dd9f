// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// NamespaceHL7 is the CDA R2 namespace. RecordTarget returns elements
// without prefix: the enclosing ClinicalDocument declares it as the default
// namespace.
const NamespaceHL7 = "urn:hl7-org:v3"

// Code systems used in the recordTarget.
const (
	// CodeSystemGender is HL7 AdministrativeGender (JDV_J143 binds F, M, UN).
	CodeSystemGender = "2.16.840.1.113883.5.1"
)

// ID is a CDA instance identifier (II) as read: every patientRole/id is kept.
type ID struct {
	Root       string
	Extension  string
	NullFlavor string
}

// Patient is what a CDA recordTarget (or an XDS sourcePatientInfo) says about
// the patient. Identity.Status is left empty: a receiver must not treat a
// received INS as qualified before its own identitovigilance checks
// (INSi), so a read identity can never be re-emitted with its INS by accident.
type Patient struct {
	Identity Identity
	// IDs lists every identifier in document order, INS included, even those
	// the reader did not use.
	IDs []ID
	// Tolerated lists what the reader accepted although CI-SIS forbids it
	// (e.g. a family qualifier SP), one short sentence each, no patient data.
	Tolerated []string
}

func (p *Patient) tolerate(format string, args ...any) {
	p.Tolerated = append(p.Tolerated, fmt.Sprintf(format, args...))
}

// ErrRecordTarget is wrapped by structural errors of the recordTarget reader
// and writer.
var ErrRecordTarget = errors.New("ins: recordTarget")

// RecordTarget returns a CDA recordTarget element for the identity, per the
// CI-SIS header rules (ANS TestContenuCDA 3.0 StrucMin; IG document core):
//
//   - patientRole/id: the INS first (root = its authority OID, extension = the
//     matricule), only when the identity is qualified; then each local
//     identifier (IPP, root = the establishment's OID);
//   - patient/name: family@BR, family@CL (used name), given@BR (first birth
//     given name), given without qualifier (the list of birth given names),
//     given@CL (used given name); only BR and CL qualifiers are written;
//   - administrativeGenderCode F, M or UN; birthTime YYYYMMDD (required);
//   - birthplace/place/addr/county (COG) and optional city.
//
// A qualified identity must carry a valid INS and all INS traits, otherwise
// the error says which; a non-qualified identity is written without INS and
// needs at least one local identifier.
func (id *Identity) RecordTarget() (*etree.Element, error) {
	if err := id.Validate(); err != nil {
		return nil, err
	}
	t := &id.Traits
	rt := etree.NewElement("recordTarget")
	pr := rt.CreateElement("patientRole")
	n := 0
	if id.Status == Qualified {
		ins, err := id.QualifiedINS()
		if err != nil {
			return nil, err
		}
		e := pr.CreateElement("id")
		e.CreateAttr("root", string(ins.Authority))
		e.CreateAttr("extension", ins.Matricule.String())
		n++
	}
	for _, l := range id.LocalIDs {
		e := pr.CreateElement("id")
		e.CreateAttr("root", l.Authority)
		e.CreateAttr("extension", l.Value)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: patientRole needs an identifier: a local identifier (IPP) when the identity is not qualified", ErrRecordTarget)
	}
	if t.BirthFamilyName == "" && t.UsedFamilyName == "" {
		return nil, fmt.Errorf("%w: patient name needs a family name (birth or used)", ErrRecordTarget)
	}
	if t.FirstBirthGivenName == "" && t.BirthGivenNames == "" && t.UsedGivenName == "" {
		return nil, fmt.Errorf("%w: patient name needs a given name", ErrRecordTarget)
	}
	if t.BirthDate.IsZero() {
		// StrucMin (CI-SISRecordTarget): birthTime/@value SHALL be present,
		// whatever the identity status; a nullFlavor is refused.
		return nil, fmt.Errorf("%w: patient birthTime needs the birth date", ErrRecordTarget)
	}
	p := pr.CreateElement("patient")
	name := p.CreateElement("name")
	part := func(tag, qualifier, v string) {
		if v == "" {
			return
		}
		e := name.CreateElement(tag)
		if qualifier != "" {
			e.CreateAttr("qualifier", qualifier)
		}
		e.SetText(v)
	}
	part("family", "BR", t.BirthFamilyName)
	part("family", "CL", t.UsedFamilyName)
	part("given", "BR", t.FirstBirthGivenName)
	part("given", "", t.BirthGivenNames)
	part("given", "CL", t.UsedGivenName)

	g := p.CreateElement("administrativeGenderCode")
	code, display := "UN", "Inconnu"
	switch t.Sex {
	case Female:
		code, display = "F", "Féminin"
	case Male:
		code, display = "M", "Masculin"
	}
	g.CreateAttr("code", code)
	g.CreateAttr("codeSystem", CodeSystemGender)
	g.CreateAttr("displayName", display)

	p.CreateElement("birthTime").CreateAttr("value", t.BirthDate.String())
	if t.BirthPlace != "" {
		addr := p.CreateElement("birthplace").CreateElement("place").CreateElement("addr")
		addr.CreateElement("county").SetText(t.BirthPlace)
		if t.BirthPlaceName != "" {
			addr.CreateElement("city").SetText(t.BirthPlaceName)
		}
	}
	return rt, nil
}

// hl7Children returns the child elements of e with local name tag in the
// CDA namespace (or no namespace: fragments are often read without one).
func hl7Children(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag != tag {
			continue
		}
		if ns := c.NamespaceURI(); ns != "" && ns != NamespaceHL7 {
			continue
		}
		out = append(out, c)
	}
	return out
}

func hl7Child(e *etree.Element, tag string) *etree.Element {
	if cs := hl7Children(e, tag); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// ReadRecordTarget reads the patient of a CDA document. el may be the
// ClinicalDocument, its recordTarget or the patientRole. The reader follows
// the CI-SIS rules but tolerates what documents in the field contain, and
// lists in Patient.Tolerated what it accepted:
//
//   - family@SP (nom d'usage, allowed by the older TestContenuCDA 2.41 kit)
//     is read as the used family name;
//   - a family without qualifier is read as the birth family name when no
//     family@BR is present;
//   - several unqualified given elements are joined as the list of given names;
//   - a birthTime with a time part is cut to the date;
//   - spaces inside a matricule, or 2a/2b in lower case, are normalised;
//   - an INS-C identifier is kept in IDs but not used as an INS.
//
// An INS identifier whose matricule is invalid is an error (wrapping the
// *MatriculeError); the Patient returned with it still holds everything else
// that was read.
func ReadRecordTarget(el *etree.Element) (*Patient, error) {
	p := &Patient{}
	if el == nil {
		return p, fmt.Errorf("%w: no element", ErrRecordTarget)
	}
	pr := el
	if el.Tag == "ClinicalDocument" {
		rts := hl7Children(el, "recordTarget")
		if len(rts) == 0 {
			return p, fmt.Errorf("%w: ClinicalDocument has no recordTarget", ErrRecordTarget)
		}
		if len(rts) > 1 {
			p.tolerate("%d recordTarget elements: the first one was read", len(rts))
		}
		pr = rts[0]
	}
	if pr.Tag == "recordTarget" {
		if pr = hl7Child(pr, "patientRole"); pr == nil {
			return p, fmt.Errorf("%w: recordTarget has no patientRole", ErrRecordTarget)
		}
	}
	if pr.Tag != "patientRole" {
		return p, fmt.Errorf("%w: element %q is not ClinicalDocument, recordTarget or patientRole", ErrRecordTarget, pr.Tag)
	}
	id := &p.Identity
	var insErr error
	for _, e := range hl7Children(pr, "id") {
		x := ID{Root: e.SelectAttrValue("root", ""), Extension: e.SelectAttrValue("extension", ""), NullFlavor: e.SelectAttrValue("nullFlavor", "")}
		p.IDs = append(p.IDs, x)
		switch {
		case x.NullFlavor != "":
			continue
		case x.Root == OIDINSC:
			p.tolerate("INS-C identifier (%s) ignored: it is not an INS", OIDINSC)
		case Authority(x.Root).IsINS():
			if !id.INS.IsZero() {
				p.tolerate("more than one INS identifier: the first valid one was used")
				continue
			}
			raw := strings.TrimSpace(x.Extension)
			norm := strings.NewReplacer(" ", "", "2a", "2A", "2b", "2B").Replace(raw)
			if norm != raw {
				p.tolerate("INS matricule normalised (spaces removed or Corsica upper-cased)")
			}
			m, err := ParseMatricule(norm)
			if err != nil {
				if insErr == nil {
					insErr = fmt.Errorf("%w: INS identifier (root %s): %w", ErrRecordTarget, x.Root, err)
				}
				continue
			}
			id.INS = INS{Matricule: m, Authority: Authority(x.Root)}
		case x.Root != "" && x.Extension != "":
			id.LocalIDs = append(id.LocalIDs, LocalID{Value: x.Extension, Authority: x.Root})
		}
	}
	if len(p.IDs) == 0 {
		p.tolerate("patientRole has no id")
	}
	pat := hl7Child(pr, "patient")
	if pat == nil {
		return p, errors.Join(insErr, fmt.Errorf("%w: patientRole has no patient", ErrRecordTarget))
	}
	readName(p, pat)
	readGender(p, pat)
	readBirth(p, pat)
	return p, insErr
}

func readName(p *Patient, pat *etree.Element) {
	t := &p.Identity.Traits
	names := hl7Children(pat, "name")
	if len(names) == 0 {
		p.tolerate("patient has no name")
		return
	}
	if len(names) > 1 {
		p.tolerate("%d name elements: the first one was read", len(names))
	}
	var unqualifiedFamily string
	var givens []string
	for _, c := range names[0].ChildElements() {
		v := strings.TrimSpace(c.Text())
		q := c.SelectAttrValue("qualifier", "")
		switch c.Tag {
		case "family":
			switch q {
			case "BR":
				t.BirthFamilyName = v
			case "CL":
				t.UsedFamilyName = v
			case "SP":
				p.tolerate("family qualifier SP read as the used family name (CI-SIS allows only BR and CL)")
				if t.UsedFamilyName == "" {
					t.UsedFamilyName = v
				}
			case "":
				unqualifiedFamily = v
			default:
				p.tolerate("family qualifier %q ignored (CI-SIS allows only BR and CL)", q)
			}
		case "given":
			switch q {
			case "BR":
				t.FirstBirthGivenName = v
			case "CL":
				t.UsedGivenName = v
			case "":
				givens = append(givens, v)
			default:
				p.tolerate("given qualifier %q ignored (CI-SIS allows only BR and CL)", q)
			}
		}
	}
	if unqualifiedFamily != "" {
		if t.BirthFamilyName == "" {
			t.BirthFamilyName = unqualifiedFamily
			p.tolerate("family without qualifier read as the birth family name")
		} else {
			p.tolerate("family without qualifier ignored: a family@BR is present")
		}
	}
	if len(givens) > 1 {
		p.tolerate("%d given elements without qualifier joined as the list of given names", len(givens))
	}
	t.BirthGivenNames = strings.Join(givens, " ")
}

func readGender(p *Patient, pat *etree.Element) {
	g := hl7Child(pat, "administrativeGenderCode")
	if g == nil {
		p.tolerate("patient has no administrativeGenderCode")
		return
	}
	switch c := g.SelectAttrValue("code", ""); c {
	case "F":
		p.Identity.Traits.Sex = Female
	case "M":
		p.Identity.Traits.Sex = Male
	case "UN", "U":
		p.Identity.Traits.Sex = Unknown
	default:
		p.tolerate("administrativeGenderCode %q not in F, M, UN: sex left empty", c)
	}
}

func readBirth(p *Patient, pat *etree.Element) {
	t := &p.Identity.Traits
	if bt := hl7Child(pat, "birthTime"); bt != nil {
		v := bt.SelectAttrValue("value", "")
		if len(v) > 8 {
			p.tolerate("birthTime has a time part: only the date was kept")
			v = v[:8]
		}
		if v != "" {
			if d, err := ParseDate(v); err == nil {
				t.BirthDate = d
			} else {
				p.tolerate("birthTime is not a YYYYMMDD date: birth date left empty")
			}
		}
	}
	bp := hl7Child(pat, "birthplace")
	if bp == nil {
		return
	}
	place := hl7Child(bp, "place")
	if place == nil {
		return
	}
	addr := hl7Child(place, "addr")
	if addr == nil {
		return
	}
	if c := hl7Child(addr, "county"); c != nil {
		t.BirthPlace = strings.TrimSpace(c.Text())
	}
	if c := hl7Child(addr, "city"); c != nil {
		t.BirthPlaceName = strings.TrimSpace(c.Text())
	}
}
