// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/nos"
)

// ErrInvalid is wrapped by every *ValidationError, the one error type of
// gomss for "this breaks a rule": a CDA header (Header.Validate, and so
// Write and xdm.Writer.AddCDA), a received CDA document (Document.Validate),
// an MSSanté message or acknowledgement to build (mssante.Message.Validate,
// WriteTo). mssante.ErrInvalid is this same error: errors.Is(err,
// cda.ErrInvalid) and errors.Is(err, mssante.ErrInvalid) are the same test.
var ErrInvalid = errors.New("gomss: invalid")

// Problem is one broken rule: which rule, where, and a sentence. It is the
// single problem type of the module: mssante.Problem is an alias of it, so
// a CDA header's problems and an MSSanté message's are read the same way.
//
// It lives here, in the lowest package that judges against rules, because
// package mssante imports cda (never the other way): mssante reuses it.
type Problem struct {
	// Rule identifies the rule in its reference, when it has an
	// identifier of its own: a Référentiel socle #2 rule ("ECO.2.2.7"),
	// an RFC ("RFC5322"), "CI-SIS", "MES.6"… (see mssante.Rules). It is
	// empty for the CDA header rules of this package, whose Detail names
	// the rule in words (e.g. "(StrucMin CI-SISAuthor)").
	Rule string
	// Field is where the rule is broken: a message header field ("From",
	// "X-MSS-NIL"), a part ("document 2", "attachment") or, in a CDA
	// header, the element's path from ClinicalDocument (e.g.
	// "author[1]/assignedAuthor/code").
	Field string
	// Detail is the sentence saying what is wrong.
	Detail string
	// WriteOnly is set for a rule of gomss's own, stricter than the ANS
	// validators, that Header.Validate applies to what Write is about to
	// write: what XDS metadata needs (organisation names, author
	// specialty), the forms of the national identifiers, an identifier
	// where the CDA would admit a nullFlavor, the local identity status.
	// A document that breaks only such rules passes the ANS kit.
	// Document.Validate and the mssante checks never set it.
	WriteOnly bool
	// Err is the error behind the problem, when there is one (an
	// ins.ErrNotQualified, an mssante.ErrAddress, the *ValidationError of
	// a document's CDA header inside a message's); ValidationError.Unwrap
	// returns it, so errors.Is and errors.As see through to it.
	Err error
}

// String returns "Rule Field: Detail", or "Field: Detail" without a rule
// identifier.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Rule)
	if p.Rule != "" && p.Field != "" {
		b.WriteByte(' ')
	}
	b.WriteString(p.Field)
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Detail)
	return b.String()
}

// ValidationError lists every problem found in what was judged (a CDA
// header, an MSSanté message: What says which). It is the one validation
// error of the module — mssante.ValidationError is an alias of it — so
// errors.As(err, &ve) with a *cda.ValidationError or a
// *mssante.ValidationError target finds it whichever package returned it.
//
// It wraps ErrInvalid and the Err of each problem: errors.Is(err,
// ins.ErrNotQualified) works through it, and a message's error reaches the
// *ValidationError of a document's header (the Err of that document's
// problem).
type ValidationError struct {
	// What names what was judged and starts the error's text:
	// "cda: invalid header", "mssante: invalid message". Empty, the
	// text of ErrInvalid is used.
	What     string
	Problems []Problem
}

// whatHeader starts the error of a CDA header that breaks a rule.
const whatHeader = "cda: invalid header"

// Error returns What, then every problem: "cda: invalid header: title:
// the title is required (...)"; "mssante: invalid message: ECO.2.4.3
// X-MSS-NIL: ...; RFC5322 To: ...".
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.What != "" {
		b.WriteString(e.What)
	} else {
		b.WriteString(ErrInvalid.Error())
	}
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

// Unwrap returns ErrInvalid and the Err of every problem that has one.
func (e *ValidationError) Unwrap() []error {
	errs := []error{ErrInvalid}
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

type checker struct{ problems []Problem }

// add records the breach of a rule the ANS validators enforce.
func (c *checker) add(el, format string, args ...any) {
	c.problems = append(c.problems, Problem{Field: el, Detail: fmt.Sprintf(format, args...)})
}

// own records the breach of a rule of gomss's own (Problem.WriteOnly).
func (c *checker) own(el, format string, args ...any) {
	c.problems = append(c.problems, Problem{Field: el, Detail: fmt.Sprintf(format, args...), WriteOnly: true})
}

func (c *checker) wrap(el string, err error, writeOnly bool) {
	c.problems = append(c.problems, Problem{Field: el, Detail: err.Error(), WriteOnly: writeOnly, Err: err})
}

func (c *checker) result() error {
	if len(c.problems) > 0 {
		return &ValidationError{What: whatHeader, Problems: c.problems}
	}
	return nil
}

var (
	// reOID and reUUID are the forms StrucMin admits for an II root
	// (DTr1_II.sch dtr1-10-II: "a syntactically correct OID or UUID").
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

// Small value sets StrucMin binds that package nos does not carry, as the
// kit's StrucMin includes list them (TestContenuCDA 3.0 @7cd489b3,
// schematrons/profils/structurationMinimale/include/voc-*-DYNAMIC.xml).
var (
	// JDV_J245 (1.2.250.1.213.1.1.5.718) name prefixes, JDV_J246
	// (1.2.250.1.213.1.1.5.719) suffixes.
	namePrefixes = map[string]bool{"M": true, "MME": true}
	nameSuffixes = map[string]bool{"DR": true, "MC": true, "MG": true, "PC": true, "PG": true, "PR": true}
	// HL7 Confidentiality (2.16.840.1.113883.1.11.10228), the binding of
	// confidentialityCode; CI-SIS documents use N, R and V (JDV_J08).
	confidentialityCodes = map[string]bool{"L": true, "M": true, "N": true, "R": true, "U": true, "V": true}
	// JDV_J47_FunctionCode_CISIS (1.2.250.1.213.1.1.5.124), author/functionCode.
	functionCodes = map[string]bool{"ADMPHYS": true, "ATTPHYS": true, "DISPHYS": true, "PCP": true, "330": true,
		"353": true, "CORRE": true, "PRELV": true, "ES-REF": true, "ES-PREF": true}
	// JDV_J143_AdministrativeGender_CISIS (1.2.250.1.213.1.1.5.590).
	genderCodes = map[string]bool{"F": true, "M": true, "UN": true}
)

var confidentialityDisplay = map[string]string{"N": "Normal", "R": "Restreint", "V": "Très restreint"}

// OIDPatientDocuments is the custodian root StrucMin admits besides
// OIDIDNST: the organisation hosting the documents a patient produces
// (CI-SISCustodian).
const OIDPatientDocuments = "1.2.250.1.213.4.1"

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

// interval checks an IVL_TS bound by StrucMin to the DTr1 IVL_TS rules
// (encompassingEncounter/effectiveTime): low before high, never equal
// (DTr1_IVL_TS.sch dtr1-6 and dtr1-7). StrucMin does not apply them to
// serviceEvent/effectiveTime (ANS examples have low = high there); gomss
// only refuses a low after the high there.
func (c *checker) interval(el string, low, high TS, dtr1 bool) {
	if low.IsZero() || high.IsZero() {
		return
	}
	switch {
	case dtr1 && !low.Time.Before(high.Time):
		c.add(el, "low (%s) must be before high (%s)", low, high)
	case low.Time.After(high.Time):
		c.own(el, "low (%s) is after high (%s)", low, high)
	}
}

// code checks a coded value bound to vs: StrucMin compares the code alone
// with the value set; gomss also wants the code system of the table.
func (c *checker) code(el string, code Code, vs *nos.ValueSet, required bool) {
	if code.IsZero() {
		if required {
			c.add(el, "a code from %s (%s) is required", vs.Name, vs.OID)
		}
		return
	}
	x, ok := vs.Lookup(code.Code)
	switch {
	case !ok:
		c.add(el, "code %q is not in %s (%s)", code.Code, vs.Name, vs.OID)
	case !vs.Contains(code.Code, code.System):
		c.own(el, "code %q in system %q: %s has it in system %q", code.Code, code.System, vs.Name, x.System)
	}
}

// role tells which participation a person plays: StrucMin's requirements
// differ between them.
type role int

const (
	roleAuthor role = iota
	roleLegal
	rolePerformer
)

// nationalID checks an identifier that is normally national (root oid,
// extension of form re); another root is allowed if it is an OID or UUID.
// extANS tells whether StrucMin itself requires the extension here.
func (c *checker) nationalID(el string, id II, oid string, re *regexp.Regexp, what, form string, extANS bool) {
	if id.IsZero() && !extANS {
		c.own(el, "the %s is required (gomss writes no nullFlavor)", what)
		return
	}
	if id.Root != oid {
		c.root(el, id, what)
	}
	switch {
	case id.Extension == "" && extANS:
		c.add(el, "the %s is required", what)
	case id.Extension == "":
		c.own(el, "the %s is required (gomss writes no nullFlavor)", what)
	case id.Root == oid && !re.MatchString(id.Extension):
		c.own(el, "%s %q: want %s", what, id.Extension, form)
	}
}

func (c *checker) person(el string, p *Person, r role) {
	// author and legalAuthenticator: id with root and extension (CI-SISAuthor,
	// CI-SISLegalAuthenticator); performer: an id, possibly a nullFlavor.
	c.nationalID(el+"/id", p.ID, OIDIDNPS, reIDNPS, "professional identifier (IDNPS)", "8+RPPS (12 digits), 0+ADELI (10 digits) or IDNST/local", r != rolePerformer)
	if strings.TrimSpace(p.Name.Family) == "" {
		if r == rolePerformer {
			c.own(el+"/assignedPerson/name/family", "family name is required")
		} else {
			c.add(el+"/assignedPerson/name/family", "family name is required")
		}
	}
	if p.Name.Prefix != "" && !namePrefixes[p.Name.Prefix] {
		c.add(el+"/assignedPerson/name/prefix", "%q is not in JDV_J245 (M, MME)", p.Name.Prefix)
	}
	if p.Name.Suffix != "" && !nameSuffixes[p.Name.Suffix] {
		c.add(el+"/assignedPerson/name/suffix", "%q is not in JDV_J246 (DR, MC, MG, PC, PG, PR)", p.Name.Suffix)
	}
	if p.Specialty.IsZero() && r == roleAuthor {
		c.own(el+"/code", "the author's specialty (JDV_J01) is required (XDS authorSpecialty)")
	}
	c.code(el+"/code", p.Specialty, nos.J01AuthorSpecialty, false)
	if p.Organization != nil {
		c.organization(el+"/representedOrganization", p.Organization, true, r != rolePerformer)
	}
}

// organization checks a representedOrganization. StrucMin requires the
// extension of an IDNST id; it requires an id at all only for the
// custodian (checked by the caller).
func (c *checker) organization(el string, o *Organization, needName, needID bool) {
	switch {
	case o.ID.IsZero() && !needID:
		c.own(el+"/id", "the structure identifier (IDNST) is required (gomss writes one)")
	case o.ID.IsZero():
		c.add(el+"/id", "the structure identifier (IDNST) is required")
	default:
		c.nationalID(el+"/id", o.ID, OIDIDNST, reIDNST, "structure identifier (IDNST)", "a type digit 0-4 and the identifier (e.g. 1+FINESS)", o.ID.Root == OIDIDNST)
	}
	if needName && strings.TrimSpace(o.Name) == "" {
		c.own(el+"/name", "the organisation name is required (XDS authorInstitution)")
	}
}

// Validate checks a header that Write is about to write, after defaults
// are applied (WithDefaults): the rules of the ANS validators (CDA schema
// and StrucMin, TestContenuCDA 3.0) as they bear on what Write emits, and
// gomss's own stricter rules for what it writes (Problem.WriteOnly: the
// data XDS metadata needs, national identifier forms, the local identity
// status). It returns nil or a *ValidationError listing every problem.
//
// Validate judges a header to be written. To judge a document received
// from someone else, use Document.Validate: a header from the reader has
// no identity status (the receiver sets it after its identitovigilance
// checks), which Validate reports, and defaults would hide what the
// document lacks.
func (h *Header) Validate() error {
	n := h.WithDefaults()
	var c checker
	c.root("id", n.ID, "document id")
	c.root("setId", n.SetID, "setId")
	if n.Version < 1 {
		c.own("versionNumber", "must be a positive integer, got %d", n.Version)
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
	switch conf := n.Confidentiality; {
	case !confidentialityCodes[conf.Code]:
		c.add("confidentialityCode", "code %q: want N, R or V in %s", conf.Code, CodeSystemConfidentiality)
	case confidentialityDisplay[conf.Code] == "" || conf.System != CodeSystemConfidentiality:
		c.own("confidentialityCode", "code %q in system %q: want N, R or V in %s (JDV_J08)", conf.Code, conf.System, CodeSystemConfidentiality)
	}
	if !reLang.MatchString(n.Language) {
		c.add("languageCode", "%q: want ll-CC, e.g. fr-FR", n.Language)
	}
	c.patient(n.Patient)
	if len(n.Authors) == 0 {
		c.add("author", "at least one author is required")
	}
	for i, a := range n.Authors {
		el := fmt.Sprintf("author[%d]", i+1)
		c.ts(el+"/time", a.Time, "the authoring time")
		if !a.Function.IsZero() {
			if !functionCodes[a.Function.Code] {
				c.add(el+"/functionCode", "code %q is not in JDV_J47 (1.2.250.1.213.1.1.5.124)", a.Function.Code)
			}
			if a.Function.System == "" {
				c.add(el+"/functionCode", "codeSystem is required")
			}
		}
		switch {
		case a.Person != nil && a.Device != nil:
			c.add(el+"/assignedAuthor", "a person or a device, not both")
		case a.Person != nil:
			c.person(el+"/assignedAuthor", a.Person, roleAuthor)
			if a.Person.Organization == nil {
				c.own(el+"/assignedAuthor/representedOrganization", "the author's organisation is required (XDS authorInstitution)")
			}
		case a.Device != nil:
			d := a.Device
			c.root(el+"/assignedAuthor/id", d.ID, "device identifier")
			if d.Model == "" || d.Software == "" {
				c.add(el+"/assignedAuthor/assignedAuthoringDevice", "manufacturerModelName and softwareName are required")
			}
			if d.Organization == nil {
				c.own(el+"/assignedAuthor/representedOrganization", "the device's organisation is required")
			} else {
				c.organization(el+"/assignedAuthor/representedOrganization", d.Organization, true, true)
			}
		default:
			c.add(el+"/assignedAuthor", "a person or a device is required")
		}
	}
	c.custodian(&n.Custodian)
	la := n.LegalAuthenticator
	c.ts("legalAuthenticator/time", la.Time, "the time of legal authentication")
	c.person("legalAuthenticator/assignedEntity", &la.Person, roleLegal)
	c.serviceEvents(n.ServiceEvents)
	enc := "componentOf/encompassingEncounter"
	if n.Encounter.Low.IsZero() {
		c.own(enc+"/effectiveTime/low", "the start of the encounter is required (gomss writes effectiveTime/low)")
	}
	c.interval(enc+"/effectiveTime", n.Encounter.Low, n.Encounter.High, true)
	c.code(enc+"/location/healthCareFacility/code", n.Encounter.FacilityType, nos.J02HealthcareFacilityType, true)
	if n.Replaces != nil {
		c.root("relatedDocument/parentDocument/id", *n.Replaces, "replaced document id")
		if n.Version < 2 {
			c.own("versionNumber", "a replacement (RPLC) needs a version greater than 1")
		}
		if h.SetID.IsZero() {
			c.own("setId", "a replacement needs the setId of the replaced document")
		}
		if *n.Replaces == n.ID {
			c.own("relatedDocument/parentDocument/id", "a document cannot replace itself")
		}
	} else if h.SetID.IsZero() && n.Version > 1 {
		c.own("setId", "version %d needs the setId shared by all versions", n.Version)
	}
	return c.result()
}

// patient checks the identity Write turns into the recordTarget. The
// identity status is local (RNIV) and never written: its rule is gomss's.
func (c *checker) patient(p *ins.Identity) {
	if p == nil {
		c.add("recordTarget", "the patient is required")
		return
	}
	if _, err := ins.ParseStatus(string(p.Status)); err != nil {
		if p.Status == "" {
			err = fmt.Errorf("%w (a header read from a document has none until the receiver's identitovigilance sets it; Document.Validate judges a received document)", err)
		}
		c.wrap("recordTarget", err, true)
		return
	}
	if _, err := p.RecordTarget(); err != nil {
		c.wrap("recordTarget", err, false)
	}
}

// custodian: id required, root IDNST or OIDPatientDocuments
// (CI-SISCustodian); gomss wants the IDNST's extension in its form.
func (c *checker) custodian(o *Organization) {
	el := "custodian/assignedCustodian/representedCustodianOrganization/id"
	switch {
	case o.ID.IsZero():
		c.add(el, "the structure identifier (IDNST) is required")
	case o.ID.Root != OIDIDNST && o.ID.Root != OIDPatientDocuments:
		c.add(el, "root %q: want %s (IDNST) or %s", o.ID.Root, OIDIDNST, OIDPatientDocuments)
	case o.ID.Root == OIDIDNST:
		c.nationalID(el, o.ID, OIDIDNST, reIDNST, "structure identifier (IDNST)", "a type digit 0-4 and the identifier (e.g. 1+FINESS)", false)
	}
}

// serviceEvents checks documentationOf/serviceEvent as Write writes them
// (after WithDefaults). StrucMin wants a performer and an effective time on
// the first (principal) act; a performer, where there is one, carries an
// organisation with a JDV_J04 practice setting (CI-SISDocumentationOf); an
// effective time has a low bound.
func (c *checker) serviceEvents(events []ServiceEvent) {
	if len(events) == 0 {
		c.add("documentationOf", "at least one serviceEvent is required")
	}
	for i, se := range events {
		el := fmt.Sprintf("documentationOf[%d]/serviceEvent", i+1)
		if i == 0 || !se.High.IsZero() {
			c.ts(el+"/effectiveTime/low", se.Low, "the start of the act")
		}
		c.interval(el+"/effectiveTime", se.Low, se.High, false)
		if !se.Code.IsZero() {
			if se.Code.System == "" {
				c.add(el+"/code", "code and codeSystem are required")
			} else if se.Code.Display == "" {
				c.own(el+"/code", "the displayName is required (XDS eventCodeList)")
			}
		}
		switch {
		case se.Performer == nil && i == 0:
			c.add(el+"/performer", "the principal act needs a performer (no author is a person)")
		case se.Performer == nil && !se.PracticeSetting.IsZero():
			c.own(el+"/performer", "a practice setting is written in the performer's organisation: a performer is required (no author is a person)")
		case se.Performer != nil:
			pe := el + "/performer/assignedEntity"
			c.person(pe, se.Performer, rolePerformer)
			if se.Performer.Organization == nil {
				c.add(pe+"/representedOrganization", "the performer's organisation is required (it carries the practice setting)")
			}
			c.code(pe+"/representedOrganization/standardIndustryClassCode", se.PracticeSetting, nos.J04PracticeSetting, true)
		}
	}
}

// WithDefaults returns the header as Write writes it: a copy with defaults
// applied: version 1, setId = id, fr-FR, confidentiality N, type and
// confidentiality display names, default roots, and the first author who is
// a person as performer of the first service event (and of any later one
// given a practice setting) that has none.
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
		switch {
		case se.Performer == nil && (i == 0 || !se.PracticeSetting.IsZero()):
			// The principal act needs a performer (StrucMin); a later act
			// needs one only to carry its practice setting.
			se.Performer = firstPerson
		case se.Performer != nil:
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
