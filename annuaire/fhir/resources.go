// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
)

// FHIR R4 structures of the Annuaire Santé API, written by hand with only the
// elements this package uses (IG "Annuaire Santé" 1.1.0, DP profiles
// as-dp-practitioner, as-dp-practitionerrole, as-dp-organization). Unknown
// elements are ignored.

// Bundle is a FHIR searchset Bundle.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a paging link: the API implements "self" and "next" only.
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is one resource of a Bundle.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource"`
	Search   *struct {
		Mode string `json:"mode,omitempty"` // match or include
	} `json:"search,omitempty"`
}

// Next returns the URL of the next page, or "".
func (b *Bundle) Next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// Meta holds the resource metadata used here.
type Meta struct {
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	Use    string           `json:"use,omitempty"`
	Type   *CodeableConcept `json:"type,omitempty"`
	System string           `json:"system,omitempty"`
	Value  string           `json:"value,omitempty"`
}

// HumanName is a FHIR HumanName: in the DP profile, prefix is the civilité
// (M, MME) and suffix the civilité d'exercice (DR).
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

// Extension is a FHIR extension with the value types the directory uses.
type Extension struct {
	URL                  string           `json:"url"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueCode            string           `json:"valueCode,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	Extension            []Extension      `json:"extension,omitempty"`
}

// ContactPoint is a FHIR ContactPoint (telecom).
type ContactPoint struct {
	System    string      `json:"system,omitempty"`
	Value     string      `json:"value,omitempty"`
	Use       string      `json:"use,omitempty"`
	Rank      int         `json:"rank,omitempty"`
	Extension []Extension `json:"extension,omitempty"`
}

// Reference is a FHIR Reference ("Organization/<id>").
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Address is a FHIR Address.
type Address struct {
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// Qualification is a Practitioner qualification (profession, category,
// savoir-faire, diploma: told apart by the system of their codings).
type Qualification struct {
	Code CodeableConcept `json:"code"`
}

// Practitioner is the "exercice professionnel" of a person (Annuaire Santé
// Practitioner): identifiers, names, qualifications and PER/CAB mailboxes.
type Practitioner struct {
	ResourceType  string          `json:"resourceType"`
	ID            string          `json:"id"`
	Meta          Meta            `json:"meta"`
	Active        *bool           `json:"active,omitempty"`
	Identifier    []Identifier    `json:"identifier,omitempty"`
	Name          []HumanName     `json:"name,omitempty"`
	Telecom       []ContactPoint  `json:"telecom,omitempty"`
	Qualification []Qualification `json:"qualification,omitempty"`
	Extension     []Extension     `json:"extension,omitempty"`
}

// PractitionerRole is a "situation d'exercice": a practitioner at an
// organisation, with PER mailboxes tied to both.
type PractitionerRole struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         Meta              `json:"meta"`
	Active       *bool             `json:"active,omitempty"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	Practitioner *Reference        `json:"practitioner,omitempty"`
	Organization *Reference        `json:"organization,omitempty"`
	Code         []CodeableConcept `json:"code,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
	Extension    []Extension       `json:"extension,omitempty"`
}

// Organization is a structure (entité juridique or géographique) with its
// ORG/APP mailboxes; its telecom may also hold ordinary contact e-mails,
// which are not MSSanté mailboxes.
type Organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         Meta              `json:"meta"`
	Active       *bool             `json:"active,omitempty"`
	Identifier   []Identifier      `json:"identifier,omitempty"`
	Type         []CodeableConcept `json:"type,omitempty"`
	Name         string            `json:"name,omitempty"`
	Address      []Address         `json:"address,omitempty"`
	Telecom      []ContactPoint    `json:"telecom,omitempty"`
	Extension    []Extension       `json:"extension,omitempty"`
}

// URLs and systems read by this package (IG Annuaire Santé, FR Core, MOS).
const (
	extEmailType     = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
	extMailboxMeta   = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
	systemRPPS       = "https://rpps.esante.gouv.fr"
	systemRPPSv1     = "http://rpps.fr"
	systemIDNPS      = "urn:oid:1.2.250.1.71.4.2.1"
	systemIDNST      = "urn:oid:1.2.250.1.71.4.2.2"
	systemSIRENSIRET = "https://sirene.fr"
	systemRPPSRang   = "https://rppsrang.esante.gouv.fr"
	tagG15           = "TRE_G15-ProfessionSante"
	tagR09           = "TRE_R09-CategorieProfessionnelle"
	tagR38           = "TRE_R38-SpecialiteOrdinale"
)

// isV1MailboxExt recognises the legacy API v1 resource extension MailboxMSS
// under its published URLs (…/fhir/StructureDefinition/MailboxMSS, and the
// ws-sync …/structuredefinition/mailboxMSS).
func isV1MailboxExt(url string) bool {
	return strings.HasSuffix(strings.ToLower(url), "/mailboxmss")
}

// identifierOf returns the value of the first identifier with the given
// type code (FR Core v2-0203) or system.
func identifierOf(ids []Identifier, typeCode string, systems ...string) string {
	for _, id := range ids {
		if id.Type != nil {
			for _, c := range id.Type.Coding {
				if c.Code == typeCode {
					return id.Value
				}
			}
		}
	}
	for _, id := range ids {
		for _, s := range systems {
			if id.System == s {
				return id.Value
			}
		}
	}
	return ""
}

// codeIn returns the first coding whose system names the MOS table tag.
func codeIn(ccs []CodeableConcept, tag string) annuaire.Code {
	for _, cc := range ccs {
		for _, c := range cc.Coding {
			if strings.Contains(c.System, tag) {
				return annuaire.Code{Code: c.Code, Label: c.Display}
			}
		}
	}
	return annuaire.Code{}
}

// IsActive reports whether the resource is active (absent counts as active).
func (p *Practitioner) IsActive() bool { return p.Active == nil || *p.Active }

// IsActive reports whether the resource is active (absent counts as active).
func (r *PractitionerRole) IsActive() bool { return r.Active == nil || *r.Active }

// IsActive reports whether the resource is active (absent counts as active).
func (o *Organization) IsActive() bool { return o.Active == nil || *o.Active }

// RPPS returns the practitioner's RPPS number, or "".
func (p *Practitioner) RPPS() string {
	return identifierOf(p.Identifier, "RPPS", systemRPPS, systemRPPSv1)
}

// IDNPS returns the national identifier (type digit + RPPS or ADELI), or "".
func (p *Practitioner) IDNPS() string { return identifierOf(p.Identifier, "IDNPS", systemIDNPS) }

// Person returns what the practitioner resource says about the person.
func (p *Practitioner) Person() annuaire.Person {
	var quals []CodeableConcept
	for _, q := range p.Qualification {
		quals = append(quals, q.Code)
	}
	per := annuaire.Person{
		IDNPS:      p.IDNPS(),
		Profession: codeIn(quals, tagG15),
		Category:   codeIn(quals, tagR09),
		Specialty:  codeIn(quals, tagR38),
	}
	if r := p.RPPS(); r != "" {
		per.IDType, per.ID = "8", r
	} else if len(per.IDNPS) > 1 {
		per.IDType, per.ID = per.IDNPS[:1], per.IDNPS[1:]
	}
	name := HumanName{}
	for _, n := range p.Name {
		if n.Use == "usual" || name.Family == "" {
			name = n
		}
	}
	per.Family = name.Family
	if len(name.Given) > 0 {
		per.Given = name.Given[0]
	}
	if len(name.Suffix) > 0 {
		per.Civility = name.Suffix[0]
	}
	return per
}

// Structure returns what the organisation resource says about the structure.
// The identifier is read from the national structure identifier (IDNST,
// whose first digit is the TRE_G07 type) or else FINESS, SIRET, SIREN, RPPS
// rang.
func (o *Organization) Structure() annuaire.Structure {
	s := annuaire.Structure{Name: o.Name}
	if v := identifierOf(o.Identifier, "IDNST", systemIDNST); len(v) > 1 {
		s.IDType, s.ID = v[:1], v[1:]
	} else {
		for _, id := range o.Identifier {
			code := ""
			if id.Type != nil && len(id.Type.Coding) > 0 {
				code = id.Type.Coding[0].Code
			}
			switch {
			case code == "FINEG" || code == "FINEJ" || strings.HasSuffix(id.System, "finess.esante.gouv.fr"):
				s.IDType, s.ID = "1", id.Value
			case code == "SIRET" || (id.System == systemSIRENSIRET && len(id.Value) == 14):
				s.IDType, s.ID = "3", id.Value
			case code == "SIREN" || (id.System == systemSIRENSIRET && len(id.Value) == 9):
				s.IDType, s.ID = "2", id.Value
			case id.System == systemRPPSRang:
				s.IDType, s.ID = "4", id.Value
			default:
				continue
			}
			break
		}
	}
	if len(o.Address) > 0 {
		a := o.Address[0]
		s.PostalCode, s.Country = a.PostalCode, a.Country
		s.CityLine = strings.TrimSpace(a.PostalCode + " " + strings.ToUpper(a.City))
		if len(a.Line) > 0 {
			s.Street = strings.Join(a.Line, ", ")
		}
		s.Department = annuaire.DepartmentOf(a.PostalCode)
	}
	return s
}

// mailboxes reads the MSSanté mailboxes of a telecom list and of the legacy
// v1 MailboxMSS extensions. A telecom is a mailbox when it is an e-mail
// whose e-mail type (FR Core extension) is MSSANTE.
func mailboxes(telecom []ContactPoint, exts []Extension, resource string) []annuaire.Mailbox {
	var out []annuaire.Mailbox
	for _, t := range telecom {
		if t.System != "email" || t.Value == "" {
			continue
		}
		mss := false
		m := annuaire.Mailbox{Address: t.Value, Source: annuaire.FromAPI, Resource: resource}
		for _, e := range t.Extension {
			switch e.URL {
			case extEmailType:
				if e.ValueCoding != nil && strings.EqualFold(e.ValueCoding.Code, "MSSANTE") {
					mss = true
				}
			case extMailboxMeta:
				readMailboxMeta(&m, e.Extension)
			}
		}
		if mss {
			out = append(out, m)
		}
	}
	for _, e := range exts {
		if !isV1MailboxExt(e.URL) {
			continue
		}
		m := annuaire.Mailbox{Source: annuaire.FromAPI, Resource: resource}
		for _, s := range e.Extension {
			if s.URL == "value" && s.ValueString != nil {
				m.Address = *s.ValueString
			}
		}
		readMailboxMeta(&m, e.Extension)
		if m.Address != "" {
			out = append(out, m)
		}
	}
	return out
}

// readMailboxMeta reads the sub-extensions of as-ext-mailbox-mss-metadata
// (and of the v1 MailboxMSS extension, which shares their names).
func readMailboxMeta(m *annuaire.Mailbox, subs []Extension) {
	for _, s := range subs {
		switch s.URL {
		case "type":
			if s.ValueCodeableConcept != nil {
				for _, c := range s.ValueCodeableConcept.Coding {
					if t, err := annuaire.ParseBALType(c.Code); err == nil {
						m.Type = t
					}
				}
			}
		case "service":
			if s.ValueString != nil {
				m.Service = *s.ValueString
			}
		case "description":
			if s.ValueString != nil {
				m.Description = strings.TrimSpace(*s.ValueString)
			}
		case "digitization":
			if s.ValueBoolean != nil {
				m.Digitization = annuaire.DigitizationRefused
				if *s.ValueBoolean {
					m.Digitization = annuaire.DigitizationAccepted
				}
			}
		case "listeRouge":
			if s.ValueBoolean != nil {
				m.ListeRouge = *s.ValueBoolean
			}
		}
	}
}

// Mailboxes returns the practitioner's MSSanté mailboxes (PER, CAB), with
// the owner filled in.
func (p *Practitioner) Mailboxes() []annuaire.Mailbox {
	out := mailboxes(p.Telecom, p.Extension, "Practitioner/"+p.ID)
	per := p.Person()
	for i := range out {
		out[i].Owner = per
		if out[i].Type == "" {
			out[i].Type = annuaire.PER
		}
	}
	return out
}

// Mailboxes returns the role's MSSanté mailboxes (PER). The owner's
// profession comes from the role's codes; see Client.ResolveMailbox for
// the owner's identity and structure, which live in other resources.
func (r *PractitionerRole) Mailboxes() []annuaire.Mailbox {
	out := mailboxes(r.Telecom, r.Extension, "PractitionerRole/"+r.ID)
	for i := range out {
		out[i].Owner.Profession = codeIn(r.Code, tagG15)
		out[i].Owner.Category = codeIn(r.Code, tagR09)
		if out[i].Type == "" {
			out[i].Type = annuaire.PER
		}
	}
	return out
}

// Mailboxes returns the organisation's MSSanté mailboxes (ORG, APP),
// leaving out its ordinary contact e-mails.
func (o *Organization) Mailboxes() []annuaire.Mailbox {
	out := mailboxes(o.Telecom, o.Extension, "Organization/"+o.ID)
	st := o.Structure()
	for i := range out {
		out[i].Structure = st
		if out[i].Type == "" {
			out[i].Type = annuaire.ORG
		}
	}
	return out
}

// Time returns meta.lastUpdated as a time (zero when absent or
// malformed).
func (m Meta) Time() time.Time {
	t, err := time.Parse(time.RFC3339Nano, m.LastUpdated)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Resources are the resources of a Bundle, decoded by type. Resources of
// other types (HealthcareService, Device…) are counted in Other.
type Resources struct {
	Practitioners     []*Practitioner
	PractitionerRoles []*PractitionerRole
	Organizations     []*Organization
	// Included marks the resources that were included (_include,
	// _revinclude) rather than matched, by "Type/id".
	Included map[string]bool
	Other    int
}

// Decode decodes the Bundle's entries. It fails with ErrBundle, naming the
// entry, on an entry that is not a JSON object with a resourceType.
func (b *Bundle) Decode() (*Resources, error) {
	rs := &Resources{Included: map[string]bool{}}
	for i, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil || head.ResourceType == "" {
			return nil, fmt.Errorf("%w: entry %d: no resource with a resourceType (%v)", ErrBundle, i+1, err)
		}
		var err error
		switch head.ResourceType {
		case "Practitioner":
			p := new(Practitioner)
			err = json.Unmarshal(e.Resource, p)
			rs.Practitioners = append(rs.Practitioners, p)
		case "PractitionerRole":
			r := new(PractitionerRole)
			err = json.Unmarshal(e.Resource, r)
			rs.PractitionerRoles = append(rs.PractitionerRoles, r)
		case "Organization":
			o := new(Organization)
			err = json.Unmarshal(e.Resource, o)
			rs.Organizations = append(rs.Organizations, o)
		default:
			rs.Other++
		}
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d (%s/%s): %v", ErrBundle, i+1, head.ResourceType, clip(head.ID), err)
		}
		if e.Search != nil && e.Search.Mode == "include" {
			rs.Included[head.ResourceType+"/"+head.ID] = true
		}
	}
	return rs, nil
}
