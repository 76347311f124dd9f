package cda

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ecdaf744/gomss/mssante/nos"
)

// ErrInvalid is wrapped by every error of Validate (and so of Write): the
// header breaks a rule the ANS validators enforce.
var ErrInvalid = errors.New("cda: invalid header")

// Problem is one broken rule: the element (a path from ClinicalDocument,
// e.g. "author[1]/assignedAuthor/code") and the rule, in words.
type Problem struct {
	Element string
	Rule    string
	err     error
}

func (p Problem) String() string { return p.Element + ": " + p.Rule }

// ValidationError lists every problem found in a header. It wraps
// ErrInvalid and the errors of the ins package behind patient problems
// (errors.Is(err, ins.ErrNotQualified) works through it).
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns ErrInvalid and the underlying causes.
func (e *ValidationError) Unwrap() []error {
	errs := []error{ErrInvalid}
	for _, p := range e.Problems {
		if p.err != nil {
			errs = append(errs, p.err)
		}
	}
	return errs
}

type checker struct{ problems []Problem }

func (c *checker) add(el, format string, args ...any) {
	c.problems = append(c.problems, Problem{Element: el, Rule: fmt.Sprintf(format, args...)})
}

func (c *checker) wrap(el string, err error) {
	c.problems = append(c.problems, Problem{Element: el, Rule: err.Error(), err: err})
}

var (
	reOID  = regexp.MustCompile(`^[0-2](\.(0|[1-9][0-9]*))+$`)
	reUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	reLang = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)
	// IDNPS: "8"+RPPS (11 digits), "0"+ADELI (9 digits), or an identifier
	// local to a structure, "<IDNST>/<local id>" (PORT xdm-actor-ps.fsh).
	reIDNPS = regexp.MustCompile(`^(8[0-9]{11}|0[0-9]{9}|[0-4][0-9A-Za-z]+/[0-9A-Za-z-]+)$`)
	// IDNST: type digit + identifier: 0+ADELI cabinet (9), 1+FINESS (9),
	// 2+SIREN (9), 3+SIRET (14), 4+RPPS-rang (PORT StructIdNat.fsh).
	reIDNST = regexp.MustCompile(`^([0-2][0-9A-Za-z]{9}|3[0-9]{14}|4[0-9A-Za-z]+)$`)
)

// name prefixes (JDV_J245) and suffixes (JDV_J246) StrucMin admits.
var (
	namePrefixes = map[string]bool{"M": true, "MME": true}
	nameSuffixes = map[string]bool{"DR": true, "MC": true, "MG": true, "PC": true, "PG": true, "PR": true}
)

var confidentialityDisplay = map[string]string{"N": "Normal", "R": "Restreint", "V": "Très restreint"}

func (c *checker) root(el string, id II, what string) {
	switch {
	case id.Root == "":
		c.add(el, "%s: root is required", what)
	case !reOID.MatchString(id.Root) && !reUUID.MatchString(id.Root):
		c.add(el, "%s: root %q is not an OID or a UUID", what, id.Root)
	}
}

func (c *checker) ts(el string, ts TS, what string) {
	if ts.IsZero() {
		c.add(el, "%s is required", what)
	}
}

func (c *checker) code(el string, code Code, vs *nos.ValueSet, required bool) {
	if code.IsZero() {
		if required {
			c.add(el, "a code from %s (%s) is required", vs.Name, vs.OID)
		}
		return
	}
	if !vs.Contains(code.Code, code.System) {
		c.add(el, "code %q in system %q is not in %s (%s)", code.Code, code.System, vs.Name, vs.OID)
	}
}

// nationalID checks an identifier that is normally national (root oid,
// extension of form re); another root is allowed if it is an OID or UUID.
func (c *checker) nationalID(el string, id II, oid string, re *regexp.Regexp, what, form string) {
	if id.Root != oid {
		c.root(el, id, what)
	}
	switch {
	case id.Extension == "":
		c.add(el, "the %s is required", what)
	case id.Root == oid && !re.MatchString(id.Extension):
		c.add(el, "%s %q: want %s", what, id.Extension, form)
	}
}

func (c *checker) person(el string, p *Person, needSpecialty bool) {
	c.nationalID(el+"/id", p.ID, OIDIDNPS, reIDNPS, "professional identifier (IDNPS)", "8+RPPS (12 digits), 0+ADELI (10 digits) or IDNST/local")
	if strings.TrimSpace(p.Name.Family) == "" {
		c.add(el+"/assignedPerson/name/family", "family name is required")
	}
	if p.Name.Prefix != "" && !namePrefixes[p.Name.Prefix] {
		c.add(el+"/assignedPerson/name/prefix", "%q is not in JDV_J245 (M, MME)", p.Name.Prefix)
	}
	if p.Name.Suffix != "" && !nameSuffixes[p.Name.Suffix] {
		c.add(el+"/assignedPerson/name/suffix", "%q is not in JDV_J246 (DR, MC, MG, PC, PG, PR)", p.Name.Suffix)
	}
	c.code(el+"/code", p.Specialty, nos.J01AuthorSpecialty, needSpecialty)
	if p.Organization != nil {
		c.organization(el+"/representedOrganization", p.Organization, true)
	}
}

func (c *checker) organization(el string, o *Organization, needName bool) {
	c.nationalID(el+"/id", o.ID, OIDIDNST, reIDNST, "structure identifier (IDNST)", "a type digit 0-4 and the identifier (e.g. 1+FINESS)")
	if needName && strings.TrimSpace(o.Name) == "" {
		c.add(el+"/name", "the organisation name is required (XDS authorInstitution)")
	}
}

// Validate checks the header against the CI-SIS rules enforced by the ANS
// validators (CDA schema and StrucMin, TestContenuCDA 3.0) and the data XDS
// metadata needs, after defaults are applied. It returns nil or a
// *ValidationError listing every problem.
func (h *Header) Validate() error {
	n := h.WithDefaults()
	var c checker
	c.root("id", n.ID, "document id")
	c.root("setId", n.SetID, "setId")
	if n.Version < 1 {
		c.add("versionNumber", "must be a positive integer, got %d", n.Version)
	}
	if n.Type.IsZero() {
		c.add("code", "the document type (JDV_J07) is required")
	} else {
		c.code("code", n.Type, nos.J07TypeCode, true)
	}
	if strings.TrimSpace(n.Title) == "" {
		c.add("title", "the title is required (StrucMin SMDS_CDAClinicalDocument)")
	}
	c.ts("effectiveTime", n.EffectiveTime, "the creation time")
	if _, ok := confidentialityDisplay[n.Confidentiality.Code]; !ok || n.Confidentiality.System != CodeSystemConfidentiality {
		c.add("confidentialityCode", "code %q in system %q: want N, R or V in %s", n.Confidentiality.Code, n.Confidentiality.System, CodeSystemConfidentiality)
	}
	if !reLang.MatchString(n.Language) {
		c.add("languageCode", "%q: want ll-CC, e.g. fr-FR", n.Language)
	}
	if n.Patient == nil {
		c.add("recordTarget", "the patient is required")
	} else if _, err := n.Patient.RecordTarget(); err != nil {
		c.wrap("recordTarget", err)
	}
	if len(n.Authors) == 0 {
		c.add("author", "at least one author is required")
	}
	for i, a := range n.Authors {
		el := fmt.Sprintf("author[%d]", i+1)
		c.ts(el+"/time", a.Time, "the authoring time")
		switch {
		case a.Person != nil && a.Device != nil:
			c.add(el+"/assignedAuthor", "a person or a device, not both")
		case a.Person != nil:
			c.person(el+"/assignedAuthor", a.Person, true)
			if a.Person.Organization == nil {
				c.add(el+"/assignedAuthor/representedOrganization", "the author's organisation is required (XDS authorInstitution)")
			}
		case a.Device != nil:
			d := a.Device
			c.root(el+"/assignedAuthor/id", d.ID, "device identifier")
			if d.Model == "" || d.Software == "" {
				c.add(el+"/assignedAuthor/assignedAuthoringDevice", "manufacturerModelName and softwareName are required")
			}
			if d.Organization == nil {
				c.add(el+"/assignedAuthor/representedOrganization", "the device's organisation is required")
			} else {
				c.organization(el+"/assignedAuthor/representedOrganization", d.Organization, true)
			}
		default:
			c.add(el+"/assignedAuthor", "a person or a device is required")
		}
	}
	c.organization("custodian/assignedCustodian/representedCustodianOrganization", &n.Custodian, false)
	la := n.LegalAuthenticator
	c.ts("legalAuthenticator/time", la.Time, "the time of legal authentication")
	c.person("legalAuthenticator/assignedEntity", &la.Person, false)
	if len(n.ServiceEvents) == 0 {
		c.add("documentationOf", "at least one serviceEvent is required")
	}
	for i, se := range n.ServiceEvents {
		el := fmt.Sprintf("documentationOf[%d]/serviceEvent", i+1)
		if i == 0 {
			c.ts(el+"/effectiveTime/low", se.Low, "the start of the principal act")
		}
		if !se.Code.IsZero() && (se.Code.System == "" || se.Code.Display == "") {
			c.add(el+"/code", "code, codeSystem and displayName are required")
		}
		if se.Performer == nil {
			c.add(el+"/performer", "a performer is required (no author is a person)")
		} else {
			c.person(el+"/performer/assignedEntity", se.Performer, false)
			if se.Performer.Organization == nil {
				c.add(el+"/performer/assignedEntity/representedOrganization", "the performer's organisation is required (it carries the practice setting)")
			}
		}
		c.code(el+"/performer/assignedEntity/representedOrganization/standardIndustryClassCode", se.PracticeSetting, nos.J04PracticeSetting, true)
	}
	c.ts("componentOf/encompassingEncounter/effectiveTime/low", n.Encounter.Low, "the start of the encounter")
	c.code("componentOf/encompassingEncounter/location/healthCareFacility/code", n.Encounter.FacilityType, nos.J02HealthcareFacilityType, true)
	if n.Replaces != nil {
		c.root("relatedDocument/parentDocument/id", *n.Replaces, "replaced document id")
		if n.Version < 2 {
			c.add("versionNumber", "a replacement (RPLC) needs a version greater than 1")
		}
		if h.SetID.IsZero() {
			c.add("setId", "a replacement needs the setId of the replaced document")
		}
		if *n.Replaces == n.ID {
			c.add("relatedDocument/parentDocument/id", "a document cannot replace itself")
		}
	} else if h.SetID.IsZero() && n.Version > 1 {
		c.add("setId", "version %d needs the setId shared by all versions", n.Version)
	}
	if len(c.problems) > 0 {
		return &ValidationError{Problems: c.problems}
	}
	return nil
}

// WithDefaults returns the header as Write writes it: a copy with defaults applied: version 1, setId = id,
// fr-FR, confidentiality N, type and confidentiality display names, default
// roots, performer from the first person author.
func (h *Header) WithDefaults() Header {
	n := *h
	if n.Version == 0 {
		n.Version = 1
	}
	if n.SetID.IsZero() && n.Version == 1 {
		n.SetID = n.ID
	}
	if n.Language == "" {
		n.Language = "fr-FR"
	}
	if n.Confidentiality.Code == "" {
		n.Confidentiality.Code = "N"
	}
	if n.Confidentiality.System == "" {
		n.Confidentiality.System = CodeSystemConfidentiality
	}
	if n.Confidentiality.Display == "" {
		n.Confidentiality.Display = confidentialityDisplay[n.Confidentiality.Code]
	}
	if c, ok := nos.J07TypeCode.Lookup(n.Type.Code); ok {
		if n.Type.System == "" {
			n.Type.System = c.System
		}
		if n.Type.Display == "" {
			n.Type.Display = c.Display
		}
	}
	fill := func(c *Code, vs *nos.ValueSet) {
		if x, ok := vs.Lookup(c.Code); ok {
			if c.System == "" {
				c.System = x.System
			}
			if c.Display == "" {
				c.Display = x.Display
			}
		}
	}
	n.Authors = append([]Author(nil), h.Authors...)
	var firstPerson *Person
	for i := range n.Authors {
		a := &n.Authors[i]
		if a.Person != nil {
			p := a.Person.withDefaults()
			fill(&p.Specialty, nos.J01AuthorSpecialty)
			a.Person = &p
			if firstPerson == nil {
				firstPerson = a.Person
			}
		}
		if a.Device != nil {
			d := *a.Device
			if d.Organization != nil {
				o := d.Organization.withDefaults()
				d.Organization = &o
			}
			a.Device = &d
		}
	}
	n.Custodian = n.Custodian.withDefaults()
	n.LegalAuthenticator.Person = n.LegalAuthenticator.Person.withDefaults()
	fill(&n.LegalAuthenticator.Person.Specialty, nos.J01AuthorSpecialty)
	n.ServiceEvents = append([]ServiceEvent(nil), h.ServiceEvents...)
	for i := range n.ServiceEvents {
		se := &n.ServiceEvents[i]
		if se.Performer == nil {
			se.Performer = firstPerson
		} else {
			p := se.Performer.withDefaults()
			se.Performer = &p
		}
		fill(&se.PracticeSetting, nos.J04PracticeSetting)
	}
	fill(&n.Encounter.FacilityType, nos.J02HealthcareFacilityType)
	return n
}

func (p Person) withDefaults() Person {
	if p.ID.Root == "" && p.ID.Extension != "" {
		p.ID.Root = OIDIDNPS
	}
	if p.Organization != nil {
		o := p.Organization.withDefaults()
		p.Organization = &o
	}
	return p
}

func (o Organization) withDefaults() Organization {
	if o.ID.Root == "" && o.ID.Extension != "" {
		o.ID.Root = OIDIDNST
	}
	return o
}
