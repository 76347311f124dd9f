// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strings"
)

// HL7 v2 identifier type codes used in XDS metadata.
const (
	TypeNH = "NH" // national health identifier: the matricule INS
	TypePI = "PI" // patient internal identifier: the IPP
)

// CX is an HL7 v2 extended composite identifier as XDS metadata writes it:
// <id>^^^&<OID>&ISO^<type>.
type CX struct {
	ID        string
	Authority string // OID of the assigning authority (CX.4.2), CX.4.3 is ISO
	TypeCode  string // CX.5: NH for an INS, PI for an IPP
}

// Fictitious reports whether the identifier was assigned by a test or
// demonstration authority (INS-NIR de test or de démonstration): such a
// patient does not exist, and a production system receiving a document
// about one should refuse to integrate it.
func (c CX) Fictitious() bool { return Authority(c.Authority).IsFictitious() }

// String formats the identifier, e.g. 279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH.
func (c CX) String() string {
	return escapeHL7(c.ID) + "^^^&" + c.Authority + "&ISO^" + c.TypeCode
}

// ErrCX is wrapped by errors of ParseCX.
var ErrCX = errors.New("ins: HL7 v2 CX")

// ParseCX reads an identifier written <id>^^^&<OID>&ISO^<type>. The
// identifier and the OID are required; CX.4.3 must be ISO when present.
func ParseCX(s string) (CX, error) {
	comps := strings.Split(s, "^")
	if len(comps) < 4 {
		return CX{}, fmt.Errorf("%w %q: want <id>^^^&<OID>&ISO[^<type>]", ErrCX, s)
	}
	c := CX{ID: unescapeHL7(comps[0])}
	if c.ID == "" {
		return CX{}, fmt.Errorf("%w %q: empty identifier (CX.1)", ErrCX, s)
	}
	sub := strings.Split(comps[3], "&")
	if len(sub) < 2 || sub[1] == "" {
		return CX{}, fmt.Errorf("%w %q: no assigning authority OID (CX.4.2)", ErrCX, s)
	}
	if len(sub) > 2 && sub[2] != "" && sub[2] != "ISO" {
		return CX{}, fmt.Errorf("%w %q: authority type %q, want ISO (CX.4.3)", ErrCX, s, sub[2])
	}
	c.Authority = sub[1]
	if len(comps) > 4 {
		c.TypeCode = comps[4]
	}
	return c, nil
}

// PatientID returns the XDS patientId of the identity: its matricule INS as
// <matricule>^^^&<OID>&ISO^NH. It fails with ErrNotQualified unless the
// identity is qualified.
func (id *Identity) PatientID() (CX, error) {
	i, err := id.QualifiedINS()
	if err != nil {
		return CX{}, err
	}
	return CX{ID: i.Matricule.String(), Authority: string(i.Authority), TypeCode: TypeNH}, nil
}

// SourcePatientID returns the XDS sourcePatientId: the first local
// identifier (IPP, ^PI) when there is one, else the INS (^NH) of a
// qualified identity.
func (id *Identity) SourcePatientID() (CX, error) {
	if len(id.LocalIDs) > 0 {
		l := id.LocalIDs[0]
		return CX{ID: l.Value, Authority: l.Authority, TypeCode: TypePI}, nil
	}
	cx, err := id.PatientID()
	if err != nil {
		return CX{}, fmt.Errorf("ins: sourcePatientId: no local identifier and %w", err)
	}
	return cx, nil
}

// SourcePatientInfo returns the lines of the XDS sourcePatientInfo slot:
//
//	PID-3|<ipp>^^^&<OID>&ISO^PI[~…]       local identifiers (and the INS if qualified)
//	PID-5|<birth family>^<first birth given>^<birth given names>^^^^L
//	PID-5|<used family>^<used given>^^^^^D  when a used name is known
//	PID-7|<YYYYMMDD>
//	PID-8|<F|M|U>
//	PID-11|^^^^^^BDL^^<COG>
//
// Lines whose data is unknown are left out. The third component of the
// birth-name PID-5 (XPN.3, "second and further given names") carries the
// whole list of birth given names as INSi returns it; the sources read (ANS
// XDM logical models, InteropStudio) say "list of given names" without
// settling whether the first one is repeated, so it is kept whole, which
// loses nothing. This metadata "ne doit en aucun
// cas être réutilisée pour calculer un identifiant" (ANS PDSm logical model).
func (id *Identity) SourcePatientInfo() []string {
	var lines []string
	var ids []string
	if ins, err := id.QualifiedINS(); err == nil {
		ids = append(ids, CX{ID: ins.Matricule.String(), Authority: string(ins.Authority), TypeCode: TypeNH}.String())
	}
	for _, l := range id.LocalIDs {
		ids = append(ids, CX{ID: l.Value, Authority: l.Authority, TypeCode: TypePI}.String())
	}
	if len(ids) > 0 {
		lines = append(lines, "PID-3|"+strings.Join(ids, "~"))
	}
	t := &id.Traits
	if t.BirthFamilyName != "" || t.FirstBirthGivenName != "" || t.BirthGivenNames != "" {
		lines = append(lines, "PID-5|"+escapeHL7(t.BirthFamilyName)+"^"+escapeHL7(t.FirstBirthGivenName)+"^"+escapeHL7(t.BirthGivenNames)+"^^^^L")
	}
	if t.UsedFamilyName != "" || t.UsedGivenName != "" {
		lines = append(lines, "PID-5|"+escapeHL7(t.UsedFamilyName)+"^"+escapeHL7(t.UsedGivenName)+"^^^^^D")
	}
	if !t.BirthDate.IsZero() {
		lines = append(lines, "PID-7|"+t.BirthDate.String())
	}
	if t.Sex != "" {
		lines = append(lines, "PID-8|"+string(t.Sex))
	}
	if t.BirthPlace != "" {
		lines = append(lines, "PID-11|^^^^^^BDL^^"+escapeHL7(t.BirthPlace))
	}
	return lines
}

// ParseSourcePatientInfo reads sourcePatientInfo lines back. Unknown fields
// and repetitions it does not use are listed in Patient.Tolerated; malformed
// lines are errors naming the line number. As with ReadRecordTarget the
// identity's status is left empty.
func ParseSourcePatientInfo(lines []string) (*Patient, error) {
	p := &Patient{}
	t := &p.Identity.Traits
	for i, line := range lines {
		field, value, ok := strings.Cut(line, "|")
		if !ok {
			return p, fmt.Errorf("ins: sourcePatientInfo line %d: no '|' after the field name", i+1)
		}
		switch field {
		case "PID-3":
			for _, rep := range strings.Split(value, "~") {
				cx, err := ParseCX(rep)
				if err != nil {
					return p, fmt.Errorf("ins: sourcePatientInfo line %d: %w", i+1, err)
				}
				p.IDs = append(p.IDs, ID{Root: cx.Authority, Extension: cx.ID})
				switch {
				case cx.TypeCode == TypeNH && Authority(cx.Authority).IsINS():
					m, err := ParseMatricule(cx.ID)
					if err != nil {
						return p, fmt.Errorf("ins: sourcePatientInfo line %d: %w", i+1, err)
					}
					p.Identity.INS = INS{Matricule: m, Authority: Authority(cx.Authority)}
				case cx.Authority == OIDINSC:
					p.tolerate("PID-3 INS-C identifier ignored: it is not an INS")
				default:
					p.Identity.LocalIDs = append(p.Identity.LocalIDs, LocalID{Value: cx.ID, Authority: cx.Authority})
				}
			}
		case "PID-5":
			c := strings.Split(value, "^")
			for len(c) < 7 {
				c = append(c, "")
			}
			switch c[6] {
			case "L":
				t.BirthFamilyName, t.FirstBirthGivenName, t.BirthGivenNames = unescapeHL7(c[0]), unescapeHL7(c[1]), unescapeHL7(c[2])
			case "D":
				t.UsedFamilyName, t.UsedGivenName = unescapeHL7(c[0]), unescapeHL7(c[1])
			default:
				p.tolerate("PID-5 with name type %q ignored (want L or D)", c[6])
			}
		case "PID-7":
			v := value
			if len(v) > 8 {
				p.tolerate("PID-7 has a time part: only the date was kept")
				v = v[:8]
			}
			d, err := ParseDate(v)
			if err != nil {
				return p, fmt.Errorf("ins: sourcePatientInfo line %d: PID-7: %w", i+1, err)
			}
			t.BirthDate = d
		case "PID-8":
			switch Sex(value) {
			case Female, Male, Unknown:
				t.Sex = Sex(value)
			default:
				return p, fmt.Errorf("ins: sourcePatientInfo line %d: PID-8 %q: want F, M or U", i+1, value)
			}
		case "PID-11":
			c := strings.Split(value, "^")
			if len(c) >= 9 && c[6] == "BDL" {
				t.BirthPlace = unescapeHL7(c[8])
			} else {
				p.tolerate("PID-11 address other than the birth place (BDL) ignored")
			}
		default:
			p.tolerate("%s ignored", field)
		}
	}
	return p, nil
}

var (
	hl7Escaper   = strings.NewReplacer(`\`, `\E\`, `|`, `\F\`, `^`, `\S\`, `&`, `\T\`, `~`, `\R\`)
	hl7Unescaper = strings.NewReplacer(`\E\`, `\`, `\F\`, `|`, `\S\`, `^`, `\T\`, `&`, `\R\`, `~`)
)

// escapeHL7 escapes the HL7 v2 delimiters in a value.
func escapeHL7(s string) string { return hl7Escaper.Replace(s) }

func unescapeHL7(s string) string { return hl7Unescaper.Replace(s) }

// ErrMonEspaceSanteAddress is wrapped by errors of ParseMonEspaceSanteAddress.
var ErrMonEspaceSanteAddress = errors.New("ins: Mon espace santé address")

// ParseMonEspaceSanteAddress returns the matricule INS of a patient's Mon
// espace santé address <matricule>@patient.mssante.fr (domain compared
// without case).
func ParseMonEspaceSanteAddress(addr string) (Matricule, error) {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || !strings.EqualFold(domain, MonEspaceSanteDomain) {
		return Matricule{}, fmt.Errorf("%w %q: want <matricule>@%s", ErrMonEspaceSanteAddress, addr, MonEspaceSanteDomain)
	}
	m, err := ParseMatricule(local)
	if err != nil {
		return Matricule{}, fmt.Errorf("%w: %w", ErrMonEspaceSanteAddress, err)
	}
	return m, nil
}
