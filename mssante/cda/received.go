// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/nos"
)

// Validate judges a received document by what its header says, with the
// rules of the ANS "structuration minimale" schematron (StrucMin,
// TestContenuCDA 3.0, scenario 1.2.250.1.213.1.1.1.1.4.2) on the elements
// gomss reads, and the CDA schema's requirement of typeId. It applies no
// default and ignores the local identity status (a received identity has
// none): an official ANS example validates clean. It returns nil or a
// *ValidationError; its problems are never WriteOnly.
//
// What Document.Validate does not judge, and so where it may accept a
// document the ANS kit refuses, is listed in the package documentation
// ("Judging a received document"). The validity of the INS itself
// (its control key) is not a StrucMin rule: it is in PatientErr.
//
// A Document not returned by the reader holds no header elements and is
// judged as an empty ClinicalDocument.
func (d *Document) Validate() error {
	root := d.tree
	if root == nil {
		root = etree.NewElement("ClinicalDocument")
	}
	j := judge{}
	j.document(root, d.Level)
	return j.result()
}

// judge applies StrucMin to the header tree built by the reader (HL7
// elements only, local names, attributes without namespace).
type judge struct{ checker }

// rule names of StrucMin, cited in the problems.
const (
	smDoc     = "StrucMin SMDS_CDAClinicalDocument"
	smRT      = "StrucMin CI-SISRecordTarget"
	smAuthor  = "StrucMin CI-SISAuthor"
	smCust    = "StrucMin CI-SISCustodian"
	smLegal   = "StrucMin CI-SISLegalAuthenticator"
	smDocOf   = "StrucMin CI-SISDocumentationOf"
	smRelated = "StrucMin CI-SISRelatedDocument"
	smEnc     = "StrucMin CI-SISComponentOf"
)

func kids(e *etree.Element, tag string) []*etree.Element {
	if e == nil {
		return nil
	}
	return e.SelectElements(tag)
}

func has(e *etree.Element, name string) bool { return e != nil && e.SelectAttr(name) != nil }

func nonNull(es []*etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, e := range es {
		if !has(e, "nullFlavor") {
			out = append(out, e)
		}
	}
	return out
}

// one checks the cardinality [1..1] of the elements found and returns the
// first one (nil when there is none).
func (j *judge) one(el string, found []*etree.Element, what, rule string) *etree.Element {
	switch len(found) {
	case 0:
		j.add(el, "%s is required (%s)", what, rule)
		return nil
	case 1:
	default:
		j.add(el, "%s appears %d times, at most once (%s)", what, len(found), rule)
	}
	return found[0]
}

// atMostOne checks the cardinality [0..1].
func (j *judge) atMostOne(el string, found []*etree.Element, what, rule string) *etree.Element {
	if len(found) > 1 {
		j.add(el, "%s appears %d times, at most once (%s)", what, len(found), rule)
	}
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

// attr checks that each named attribute is present.
func (j *judge) attrs(el string, e *etree.Element, rule string, names ...string) {
	for _, n := range names {
		if !has(e, n) {
			j.add(el, "attribute @%s is required (%s)", n, rule)
		}
	}
}

// ii applies the DTr1 II rules: a root unless null, an OID or a UUID.
func (j *judge) ii(el string, e *etree.Element) {
	if e == nil {
		return
	}
	root := attr(e, "root")
	switch {
	case has(e, "nullFlavor") && has(e, "root"):
		j.add(el, "@root and @nullFlavor together (DTr1 II dtr1-2)")
	case has(e, "nullFlavor"):
	case !has(e, "root"):
		j.add(el, "@root is required when there is no @nullFlavor (DTr1 II dtr1-1)")
	case !reOID.MatchString(root) && !reUUID.MatchString(root):
		j.add(el, "root %q is not an OID or a UUID (DTr1 II dtr1-10)", root)
	}
}

// idRootExt checks an id StrucMin wants with both root and extension.
func (j *judge) idRootExt(el string, e *etree.Element, rule string) {
	if e == nil || has(e, "nullFlavor") {
		return
	}
	j.attrs(el, e, rule, "root", "extension")
	j.ii(el, e)
}

// reLangStrucMin is StrucMin's languageCode test, unanchored as it is
// there: matches(@code, '[a-z]{2}-[A-Z]{2}').
var reLangStrucMin = regexp.MustCompile(`[a-z]{2}-[A-Z]{2}`)

// reTSBase is the digits of a TS: century and year, then optional month,
// day, hour, minute, second and fraction (DTr1_TS.sch).
var reTSBase = regexp.MustCompile(`^[0-9]{4}([0-9]{2}([0-9]{2}([0-9]{2}([0-9]{2}([0-9]{2}(\.[0-9]+)?)?)?)?)?)?$`)

// validTS reports whether v is a timestamp DTr1 TS admits (dtr1-2-TS): a
// calendar date and time with an optional zone of 1 to 4 digits, padded on
// the right as the schematron does.
func validTS(v string) bool {
	v = strings.TrimPrefix(v, "-")
	base, zone := v, ""
	if i := strings.LastIndexAny(v, "+-"); i > 0 {
		base, zone = v[:i], v[i+1:]
		if len(zone) == 0 || len(zone) > 4 || strings.Trim(zone, "0123456789") != "" {
			return false
		}
	}
	if !reTSBase.MatchString(base) {
		return false
	}
	field := func(i, def int) int {
		if len(base) < i+2 {
			return def
		}
		n, _ := strconv.Atoi(base[i : i+2])
		return n
	}
	y, _ := strconv.Atoi(base[:4])
	mo, d, h, mi, s := field(4, 1), field(6, 1), field(8, 0), field(10, 0), field(12, 0)
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	if t.Month() != time.Month(mo) || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != s {
		return false
	}
	if zone != "" {
		z := (zone + "0000")[:4]
		zh, _ := strconv.Atoi(z[:2])
		zm, _ := strconv.Atoi(z[2:])
		if zh > 14 || zm > 59 {
			return false
		}
	}
	return true
}

// ts checks a TS element: a value or a nullFlavor, never both, and a valid
// value; needValue when StrucMin requires @value.
func (j *judge) ts(el string, e *etree.Element, needValue bool, rule string) {
	if e == nil {
		return
	}
	v, hasV := attr(e, "value"), has(e, "value")
	switch {
	case hasV && has(e, "nullFlavor"):
		j.add(el, "@value and @nullFlavor together (DTr1 TS dtr1-1)")
	case !hasV && needValue:
		j.add(el, "attribute @value is required (%s)", rule)
	case hasV && !validTS(v):
		j.add(el, "%q is not a valid timestamp (DTr1 TS dtr1-2)", v)
	}
}

// coded checks a CD/CE bound to a value set given by its codes: the
// attributes StrucMin requires there (need), and the code in the set as
// StrucMin compares it (the code alone). nullOK when StrucMin's rule
// exempts a nullFlavor.
func (j *judge) coded(el string, e *etree.Element, need []string, nullOK bool, inSet func(string) bool, setName, rule string) {
	if e == nil || (nullOK && has(e, "nullFlavor")) {
		return
	}
	j.attrs(el, e, rule, need...)
	if c := attr(e, "code"); has(e, "code") && inSet != nil && !inSet(c) {
		j.add(el, "code %q is not in %s (%s)", c, setName, rule)
	}
}

// Attributes StrucMin requires on coded elements.
var (
	codeSys        = []string{"code", "codeSystem"}
	codeSysDisplay = []string{"code", "codeSystem", "displayName"}
)

func inValueSet(vs *nos.ValueSet) func(string) bool {
	return func(c string) bool { _, ok := vs.Lookup(c); return ok }
}

func inMap(m map[string]bool) func(string) bool { return func(c string) bool { return m[c] } }

// personName checks prefix (JDV_J245) and suffix (JDV_J246) of a
// professional's name and, when required, a family.
func (j *judge) personName(el string, ae *etree.Element, needFamily bool, rule string) {
	ap := kids(ae, "assignedPerson")
	person := j.atMostOne(el+"/assignedPerson", ap, "assignedPerson", rule)
	if person == nil {
		return
	}
	names := kids(person, "name")
	withFamily := 0
	for _, n := range names {
		if len(kids(n, "family")) > 0 {
			withFamily++
		}
	}
	if needFamily && withFamily == 0 {
		j.add(el+"/assignedPerson/name/family", "family name is required (%s)", rule)
	}
	for _, n := range names {
		for _, p := range kids(n, "prefix") {
			if v := text(p); !namePrefixes[v] {
				j.add(el+"/assignedPerson/name/prefix", "%q is not in JDV_J245 (M, MME) (%s)", v, rule)
			}
		}
		for _, s := range kids(n, "suffix") {
			if v := text(s); !nameSuffixes[v] {
				j.add(el+"/assignedPerson/name/suffix", "%q is not in JDV_J246 (DR, MC, MG, PC, PG, PR) (%s)", v, rule)
			}
		}
	}
}

// orgIDNST checks representedOrganization/id[@root=IDNST]: extension
// required (CI-SISAuthor, CI-SISLegalAuthenticator, CI-SISDocumentationOf).
func (j *judge) orgIDNST(el string, org *etree.Element, rule string) {
	for _, id := range kids(org, "id") {
		if attr(id, "root") == OIDIDNST && !has(id, "extension") {
			j.add(el+"/id", "an IDNST id needs its @extension (%s)", rule)
		}
		j.ii(el+"/id", id)
	}
}

func (j *judge) document(cd *etree.Element, level int) {
	if v := attr(cd, "classCode"); has(cd, "classCode") && v != "DOCCLIN" {
		j.add("@classCode", "%q: want DOCCLIN (%s)", v, smDoc)
	}
	if v := attr(cd, "moodCode"); has(cd, "moodCode") && v != "EVN" {
		j.add("@moodCode", "%q: want EVN (%s)", v, smDoc)
	}
	var fr []*etree.Element
	for _, r := range kids(cd, "realmCode") {
		if attr(r, "code") == "FR" {
			fr = append(fr, r)
		}
	}
	j.one("realmCode", fr, `realmCode code="FR"`, smDoc)
	// The CDA schema requires exactly one typeId (root fixed); StrucMin's
	// rules apply only to a document whose typeId is POCD_HD000040.
	types := kids(cd, "typeId")
	if t := j.one("typeId", types, "typeId", "CDA schema"); t != nil {
		if attr(t, "root") != typeIDRoot || attr(t, "extension") != typeIDExtension {
			j.add("typeId", "root %q extension %q: want %s and %s (%s)", attr(t, "root"), attr(t, "extension"), typeIDRoot, typeIDExtension, smDoc)
		}
	}
	j.templates(cd, level)
	if id := j.one("id", nonNull(kids(cd, "id")), "id", smDoc); id != nil {
		j.attrs("id", id, smDoc, "root")
		j.ii("id", id)
	}
	if code := j.one("code", nonNull(kids(cd, "code")), "code", smDoc); code != nil {
		j.coded("code", code, codeSysDisplay, false, inValueSet(nos.J07TypeCode), "JDV_J07 (1.2.250.1.213.1.1.5.471)", smDoc)
	}
	j.one("title", nonNull(kids(cd, "title")), "title", smDoc)
	if et := j.one("effectiveTime", nonNull(kids(cd, "effectiveTime")), "effectiveTime", smDoc); et != nil {
		j.ts("effectiveTime", et, true, smDoc)
	}
	if conf := j.one("confidentialityCode", nonNull(kids(cd, "confidentialityCode")), "confidentialityCode", smDoc); conf != nil {
		j.coded("confidentialityCode", conf, codeSysDisplay, false, inMap(confidentialityCodes), "Confidentiality (2.16.840.1.113883.1.11.10228)", smDoc)
	}
	if lang := j.one("languageCode", nonNull(kids(cd, "languageCode")), "languageCode", smDoc); lang != nil {
		// StrucMin: matches(@code, '[a-z]{2}-[A-Z]{2}'), unanchored.
		if !has(lang, "code") {
			j.add("languageCode", "attribute @code is required (%s)", smDoc)
		} else if !reLangStrucMin.MatchString(attr(lang, "code")) {
			j.add("languageCode", "%q: want ll-CC, e.g. fr-FR (%s)", attr(lang, "code"), smDoc)
		}
	}
	if set := j.one("setId", nonNull(kids(cd, "setId")), "setId", smDoc); set != nil {
		j.attrs("setId", set, smDoc, "root")
		j.ii("setId", set)
	}
	if vn := j.one("versionNumber", nonNull(kids(cd, "versionNumber")), "versionNumber", smDoc); vn != nil {
		if _, err := strconv.Atoi(attr(vn, "value")); err != nil {
			j.add("versionNumber", "@value %q is not an integer (%s)", attr(vn, "value"), smDoc)
		}
	}
	j.recordTarget(cd)
	j.authors(cd)
	j.custodian(cd)
	j.legalAuthenticator(cd)
	j.documentationOf(cd)
	j.relatedDocument(cd)
	j.componentOf(cd)
	if level == 0 {
		j.add("component", "the body (component) is required (%s)", smDoc)
	}
}

// templates: HL7 France and CI-SIS once each, at least one more; a
// non-structured body carries exactly the three level-1 templateIds.
func (j *judge) templates(cd *etree.Element, level int) {
	ts := kids(cd, "templateId")
	count := func(root string) int {
		n := 0
		for _, t := range ts {
			if attr(t, "root") == root {
				n++
			}
		}
		return n
	}
	for _, r := range []string{TemplateHL7France, TemplateCISIS} {
		switch n := count(r); {
		case n == 0:
			j.add("templateId", "templateId %s is required (%s)", r, smDoc)
		case n > 1:
			j.add("templateId", "templateId %s appears %d times, at most once (%s)", r, n, smDoc)
		}
	}
	if len(ts)-count(TemplateHL7France)-count(TemplateCISIS) < 1 {
		j.add("templateId", "a templateId other than %s and %s is required (%s)", TemplateHL7France, TemplateCISIS, smDoc)
	}
	for _, t := range ts {
		if attr(t, "root") != TemplateHL7France && attr(t, "root") != TemplateCISIS {
			j.attrs("templateId", t, smDoc, "root")
			j.ii("templateId", t)
		}
	}
	if level == 3 {
		return
	}
	// "Dans un document CDA non structuré, le templateId 1.3.6.1.4.1.19376.1.2.20
	// remplace le templateId du volet et seuls les trois templateId ... sont
	// admis" (also fails when there is no body at all).
	if len(ts) != 3 || count(TemplateXDSSD) == 0 || count(TemplateHL7France) == 0 || count(TemplateCISIS) == 0 {
		j.add("templateId", "a non-structured document carries exactly the templateIds %s, %s and %s (%s)", TemplateHL7France, TemplateCISIS, TemplateXDSSD, smDoc)
	}
}

// INS authorities whose presence in patientRole/id makes the INS traits
// mandatory (StrucMin SMDS_CDAClinicalDocument).
var insRoots = map[string]bool{
	string(ins.AuthorityNIR): true, string(ins.AuthorityNIA): true,
	string(ins.AuthorityNIRTest): true, string(ins.AuthorityNIRDemo): true,
}

func (j *judge) recordTarget(cd *etree.Element) {
	rt := j.one("recordTarget", nonNull(kids(cd, "recordTarget")), "recordTarget", smDoc)
	if rt == nil {
		return
	}
	var withPatient []*etree.Element
	for _, pr := range kids(rt, "patientRole") {
		if len(kids(pr, "patient")) > 0 {
			withPatient = append(withPatient, pr)
		}
	}
	const el = "recordTarget/patientRole"
	pr := j.one(el, withPatient, "patientRole with a patient", smRT)
	if pr == nil {
		return
	}
	ids := nonNull(kids(pr, "id"))
	if len(ids) == 0 {
		j.add(el+"/id", "an identifier without nullFlavor is required (%s)", smRT)
	}
	insID, extID := false, false
	for _, id := range ids {
		j.attrs(el+"/id", id, smRT, "root", "extension")
		j.ii(el+"/id", id)
		if insRoots[attr(id, "root")] {
			insID = true
		}
	}
	for _, id := range kids(pr, "id") {
		if has(id, "extension") {
			extID = true
		}
	}
	pat := j.one(el+"/patient", nonNull(kids(pr, "patient")), "patient", smRT)
	if pat == nil {
		return
	}
	name := j.one(el+"/patient/name", nonNull(kids(pat, "name")), "name", smRT)
	var fam, giv []*etree.Element
	if name != nil {
		fam, giv = kids(name, "family"), kids(name, "given")
		if len(nonNull(giv)) == 0 {
			j.add(el+"/patient/name/given", "a given name is required (%s)", smRT)
		}
		if len(nonNull(fam)) == 0 {
			j.add(el+"/patient/name/family", "a family name is required (%s)", smRT)
		}
		for _, f := range nonNull(fam) {
			switch q := attr(f, "qualifier"); {
			case !has(f, "qualifier"):
				j.add(el+"/patient/name/family", "@qualifier is required: BR (birth name) or CL (used name) (%s)", smRT)
			case q != "BR" && q != "CL":
				j.add(el+"/patient/name/family", "qualifier %q: only BR (birth name) and CL (used name) are allowed (%s)", q, smRT)
			}
		}
		for _, g := range giv {
			if q := attr(g, "qualifier"); has(g, "qualifier") && q != "BR" && q != "CL" {
				j.add(el+"/patient/name/given", "qualifier %q: only BR (first birth given name) and CL (used given name) are allowed (%s)", q, smRT)
			}
		}
	}
	gender := j.one(el+"/patient/administrativeGenderCode", kids(pat, "administrativeGenderCode"), "administrativeGenderCode", smRT)
	if gender != nil && !has(gender, "nullFlavor") {
		if !has(gender, "code") {
			j.add(el+"/patient/administrativeGenderCode", "attribute @code is required (%s)", smRT)
		} else if !genderCodes[attr(gender, "code")] {
			j.add(el+"/patient/administrativeGenderCode", "code %q is not in JDV_J143 (F, M, UN) (%s)", attr(gender, "code"), smRT)
		}
	}
	birth := j.one(el+"/patient/birthTime", kids(pat, "birthTime"), "birthTime", smRT)
	j.ts(el+"/patient/birthTime", birth, true, smRT)
	var places []*etree.Element
	for _, bp := range kids(pat, "birthplace") {
		if len(kids(bp, "place")) > 0 {
			places = append(places, bp)
		}
	}
	bp := j.atMostOne(el+"/patient/birthplace", places, "birthplace", smRT)
	// "Dans le cadre de l'INS, les traits de l'INS (…) sont obligatoires":
	// with an INS identifier, or no identifier with an extension at all.
	if insID || !extID {
		var missing []string
		hasQ := func(es []*etree.Element, q string) bool {
			for _, e := range es {
				if attr(e, "qualifier") == q && (q != "" || !has(e, "qualifier")) {
					return true
				}
			}
			return false
		}
		if !hasQ(fam, "BR") {
			missing = append(missing, "family@BR")
		}
		if !hasQ(giv, "BR") {
			missing = append(missing, "given@BR")
		}
		if !hasQ(giv, "") {
			missing = append(missing, "given without qualifier")
		}
		if birth == nil {
			missing = append(missing, "birthTime")
		}
		county := false
		for _, p := range kids(bp, "place") {
			for _, a := range kids(p, "addr") {
				county = county || len(kids(a, "county")) > 0
			}
		}
		if !county {
			missing = append(missing, "birthplace/place/addr/county")
		}
		if !has(gender, "code") {
			missing = append(missing, "administrativeGenderCode/@code")
		}
		if len(missing) > 0 {
			j.add(el+"/patient", "the INS traits are required with an INS identifier, missing %s (%s)", strings.Join(missing, ", "), smDoc)
		}
	}
}

func (j *judge) authors(cd *etree.Element) {
	var authors []*etree.Element
	for _, a := range nonNull(kids(cd, "author")) {
		if len(kids(a, "assignedAuthor")) > 0 {
			authors = append(authors, a)
		}
	}
	if len(authors) == 0 {
		j.add("author", "an author with an assignedAuthor is required (%s)", smDoc)
	}
	for i, a := range authors {
		el := fmt.Sprintf("author[%d]", i+1)
		if fc := j.atMostOne(el+"/functionCode", kids(a, "functionCode"), "functionCode", smAuthor); fc != nil {
			j.coded(el+"/functionCode", fc, codeSys, false, inMap(functionCodes), "JDV_J47 (1.2.250.1.213.1.1.5.124)", smAuthor)
		}
		t := j.one(el+"/time", kids(a, "time"), "time", smAuthor)
		j.ts(el+"/time", t, true, smAuthor)
		aa := j.one(el+"/assignedAuthor", nonNull(kids(a, "assignedAuthor")), "assignedAuthor", smAuthor)
		if aa == nil {
			continue
		}
		ael := el + "/assignedAuthor"
		ids := kids(aa, "id")
		if len(ids) == 0 {
			j.add(ael+"/id", "id is required (%s)", smAuthor)
		}
		for _, id := range ids {
			j.idRootExt(ael+"/id", id, smAuthor)
		}
		if code := j.atMostOne(ael+"/code", kids(aa, "code"), "code", smAuthor); code != nil {
			j.coded(ael+"/code", code, codeSysDisplay, false, inValueSet(nos.J01AuthorSpecialty), "JDV_J01 (1.2.250.1.213.1.1.5.461)", smAuthor)
		}
		persons, devices := kids(aa, "assignedPerson"), kids(aa, "assignedAuthoringDevice")
		if len(persons)+len(devices) > 1 {
			j.add(ael, "one assignedPerson or one assignedAuthoringDevice (%s)", smAuthor)
		}
		if len(persons) > 0 {
			j.personName(ael, aa, true, smAuthor)
		}
		for _, dev := range devices {
			j.one(ael+"/assignedAuthoringDevice/manufacturerModelName", kids(dev, "manufacturerModelName"), "manufacturerModelName", smAuthor)
			j.one(ael+"/assignedAuthoringDevice/softwareName", kids(dev, "softwareName"), "softwareName", smAuthor)
		}
		if org := j.atMostOne(ael+"/representedOrganization", kids(aa, "representedOrganization"), "representedOrganization", smAuthor); org != nil {
			j.orgIDNST(ael+"/representedOrganization", org, smAuthor)
		}
	}
}

func (j *judge) custodian(cd *etree.Element) {
	var cs []*etree.Element
	for _, c := range nonNull(kids(cd, "custodian")) {
		if len(kids(c, "assignedCustodian")) > 0 {
			cs = append(cs, c)
		}
	}
	c := j.one("custodian", cs, "custodian", smDoc)
	if c == nil {
		return
	}
	el := "custodian/assignedCustodian"
	ac := j.one(el, kids(c, "assignedCustodian"), "assignedCustodian", smCust)
	el += "/representedCustodianOrganization"
	org := j.one(el, kids(ac, "representedCustodianOrganization"), "representedCustodianOrganization", smCust)
	if org == nil {
		return
	}
	id := j.one(el+"/id", nonNull(kids(org, "id")), "id", smCust)
	if id == nil {
		return
	}
	j.attrs(el+"/id", id, smCust, "root")
	if r := attr(id, "root"); has(id, "root") && r != OIDIDNST && r != OIDPatientDocuments {
		j.add(el+"/id", "root %q: want %s (IDNST) or %s (%s)", r, OIDIDNST, OIDPatientDocuments, smCust)
	}
}

func (j *judge) legalAuthenticator(cd *etree.Element) {
	var ls []*etree.Element
	for _, l := range kids(cd, "legalAuthenticator") {
		for _, s := range kids(l, "signatureCode") {
			if attr(s, "code") == "S" {
				ls = append(ls, l)
				break
			}
		}
	}
	const el = "legalAuthenticator"
	la := j.one(el, ls, `legalAuthenticator with signatureCode code="S"`, smDoc)
	if la == nil {
		return
	}
	t := j.one(el+"/time", kids(la, "time"), "time", smLegal)
	j.ts(el+"/time", t, true, smLegal)
	ae := j.one(el+"/assignedEntity", kids(la, "assignedEntity"), "assignedEntity", smLegal)
	if ae == nil {
		return
	}
	if id := j.one(el+"/assignedEntity/id", nonNull(kids(ae, "id")), "id", smLegal); id != nil {
		j.idRootExt(el+"/assignedEntity/id", id, smLegal)
	}
	if code := j.atMostOne(el+"/assignedEntity/code", kids(ae, "code"), "code", smLegal); code != nil {
		j.coded(el+"/assignedEntity/code", code, nil, true, inValueSet(nos.J01AuthorSpecialty), "JDV_J01 (1.2.250.1.213.1.1.5.461)", smLegal)
	}
	j.personName(el+"/assignedEntity", ae, true, smLegal)
	if org := j.atMostOne(el+"/assignedEntity/representedOrganization", kids(ae, "representedOrganization"), "representedOrganization", smLegal); org != nil {
		j.orgIDNST(el+"/assignedEntity/representedOrganization", org, smLegal)
	}
}

func (j *judge) documentationOf(cd *etree.Element) {
	var docs []*etree.Element
	for _, d := range nonNull(kids(cd, "documentationOf")) {
		if len(kids(d, "serviceEvent")) > 0 {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		j.add("documentationOf", "a documentationOf with a serviceEvent is required (%s)", smDoc)
	}
	// "Le performer est obligatoire dans l'acte principal" and "EffectiveTime
	// est obligatoire dans l'acte principal": on the first documentationOf
	// of the document (documentationOf[1]), whatever its nullFlavor.
	if all := kids(cd, "documentationOf"); len(all) > 0 {
		var pf, et int
		for _, se := range kids(all[0], "serviceEvent") {
			pf += len(kids(se, "performer"))
			et += len(kids(se, "effectiveTime"))
		}
		if pf != 1 {
			j.add("documentationOf[1]/serviceEvent/performer", "the principal act needs exactly one performer, found %d (%s)", pf, smDoc)
		}
		if et != 1 {
			j.add("documentationOf[1]/serviceEvent/effectiveTime", "the principal act needs exactly one effectiveTime, found %d (%s)", et, smDoc)
		}
	}
	for i, d := range docs {
		el := fmt.Sprintf("documentationOf[%d]/serviceEvent", i+1)
		se := j.one(el, nonNull(kids(d, "serviceEvent")), "serviceEvent", smDocOf)
		if se == nil {
			continue
		}
		if code := j.atMostOne(el+"/code", kids(se, "code"), "code", smDocOf); code != nil && !has(code, "nullFlavor") {
			j.attrs(el+"/code", code, smDocOf, "code", "codeSystem")
		}
		if et := j.atMostOne(el+"/effectiveTime", kids(se, "effectiveTime"), "effectiveTime", smDocOf); et != nil {
			low := j.one(el+"/effectiveTime/low", kids(et, "low"), "effectiveTime/low", smDocOf)
			j.ts(el+"/effectiveTime/low", low, true, smDocOf)
			high := j.atMostOne(el+"/effectiveTime/high", kids(et, "high"), "effectiveTime/high", smDocOf)
			j.ts(el+"/effectiveTime/high", high, false, smDocOf)
		}
		var prf []*etree.Element
		for _, p := range kids(se, "performer") {
			if attr(p, "typeCode") == "PRF" && len(kids(p, "assignedEntity")) > 0 {
				prf = append(prf, p)
			}
		}
		p := j.atMostOne(el+"/performer", prf, "performer", smDocOf)
		if p == nil {
			continue
		}
		if t := j.atMostOne(el+"/performer/time", kids(p, "time"), "performer/time", smDocOf); t != nil {
			low, high := j.atMostOne(el+"/performer/time/low", kids(t, "low"), "low", "DTr1 IVL_TS"), j.atMostOne(el+"/performer/time/high", kids(t, "high"), "high", "DTr1 IVL_TS")
			j.ts(el+"/performer/time/low", low, false, smDocOf)
			j.ts(el+"/performer/time/high", high, false, smDocOf)
			j.ivlTS(el+"/performer/time", t, low, high)
		}
		pe := el + "/performer/assignedEntity"
		var withOrg []*etree.Element
		for _, ae := range kids(p, "assignedEntity") {
			if len(kids(ae, "representedOrganization")) > 0 {
				withOrg = append(withOrg, ae)
			}
		}
		ae := j.one(pe+"/representedOrganization", withOrg, "assignedEntity with a representedOrganization", smDocOf)
		if ae == nil {
			continue
		}
		ids := kids(ae, "id")
		if len(ids) == 0 {
			j.add(pe+"/id", "id is required (%s)", smDocOf)
		}
		for _, id := range ids {
			j.ii(pe+"/id", id)
		}
		if code := j.atMostOne(pe+"/code", kids(ae, "code"), "code", smDocOf); code != nil {
			j.coded(pe+"/code", code, nil, true, inValueSet(nos.J01AuthorSpecialty), "JDV_J01 (1.2.250.1.213.1.1.5.461)", smDocOf)
		}
		j.personName(pe, ae, false, smDocOf)
		org := j.one(pe+"/representedOrganization", kids(ae, "representedOrganization"), "representedOrganization", smDocOf)
		if org == nil {
			continue
		}
		j.orgIDNST(pe+"/representedOrganization", org, smDocOf)
		sic := j.one(pe+"/representedOrganization/standardIndustryClassCode", nonNull(kids(org, "standardIndustryClassCode")),
			"standardIndustryClassCode (the practice setting, JDV_J04)", smDocOf)
		j.coded(pe+"/representedOrganization/standardIndustryClassCode", sic, codeSysDisplay, false, inValueSet(nos.J04PracticeSetting), "JDV_J04 (1.2.250.1.213.1.1.5.467)", smDocOf)
	}
}

func (j *judge) relatedDocument(cd *etree.Element) {
	var rplc []*etree.Element
	for _, r := range kids(cd, "relatedDocument") {
		if attr(r, "typeCode") == "RPLC" && len(kids(r, "parentDocument")) > 0 {
			rplc = append(rplc, r)
		}
	}
	const el = "relatedDocument/parentDocument"
	r := j.atMostOne("relatedDocument", rplc, "relatedDocument RPLC", smDoc)
	if r == nil {
		return
	}
	pd := j.one(el, nonNull(kids(r, "parentDocument")), "parentDocument", smRelated)
	if pd == nil {
		return
	}
	if id := j.one(el+"/id", nonNull(kids(pd, "id")), "id", smRelated); id != nil {
		j.attrs(el+"/id", id, smRelated, "root")
		j.ii(el+"/id", id)
	}
}

// ivlTS applies the DTr1 IVL_TS rules StrucMin binds to
// encompassingEncounter/effectiveTime and performer/time: a value, a
// nullFlavor or bounds with a value; low strictly before high.
func (j *judge) ivlTS(el string, et, low, high *etree.Element) {
	switch {
	case has(et, "nullFlavor") && (has(et, "value") || low != nil || high != nil):
		j.add(el, "a nullFlavor with a value or bounds (DTr1 IVL_TS dtr1-2)")
	case has(et, "value") && (low != nil || high != nil):
		j.add(el, "@value with low or high (DTr1 IVL_TS dtr1-3)")
	case !has(et, "nullFlavor") && !has(et, "value") && !has(low, "value") && !has(high, "value"):
		j.add(el, "a @value, a @nullFlavor or a bound with a @value is required (DTr1 IVL_TS dtr1-4-1)")
	}
	lo, hi := attr(low, "value"), attr(high, "value")
	if lo == "" || hi == "" {
		return
	}
	if lo == hi {
		j.add(el, "low and high are equal (DTr1 IVL_TS dtr1-6)")
		return
	}
	l, err1 := ParseTS(lo, time.UTC)
	h, err2 := ParseTS(hi, time.UTC)
	if err1 == nil && err2 == nil && l.Time.After(h.Time) {
		j.add(el, "low (%s) is after high (%s) (DTr1 IVL_TS dtr1-7)", lo, hi)
	}
}

func (j *judge) componentOf(cd *etree.Element) {
	var cos []*etree.Element
	for _, c := range nonNull(kids(cd, "componentOf")) {
		if len(kids(c, "encompassingEncounter")) > 0 {
			cos = append(cos, c)
		}
	}
	co := j.one("componentOf", cos, "componentOf with an encompassingEncounter", smDoc)
	if co == nil {
		return
	}
	const el = "componentOf/encompassingEncounter"
	var encs []*etree.Element
	for _, e := range nonNull(kids(co, "encompassingEncounter")) {
		if len(kids(e, "location")) > 0 {
			encs = append(encs, e)
		}
	}
	enc := j.one(el, encs, "encompassingEncounter with a location", smEnc)
	if enc == nil {
		return
	}
	if et := j.one(el+"/effectiveTime", kids(enc, "effectiveTime"), "effectiveTime", smEnc); et != nil {
		low := j.atMostOne(el+"/effectiveTime/low", kids(et, "low"), "effectiveTime/low", smEnc)
		high := j.atMostOne(el+"/effectiveTime/high", kids(et, "high"), "effectiveTime/high", smEnc)
		j.ts(el+"/effectiveTime/low", low, false, smEnc)
		j.ts(el+"/effectiveTime/high", high, false, smEnc)
		j.ivlTS(el+"/effectiveTime", et, low, high)
	}
	loc := j.one(el+"/location", kids(enc, "location"), "location", smEnc)
	hf := j.one(el+"/location/healthCareFacility", nonNull(kids(loc, "healthCareFacility")), "healthCareFacility", smEnc)
	if hf == nil {
		return
	}
	code := j.one(el+"/location/healthCareFacility/code", nonNull(kids(hf, "code")), "healthCareFacility/code (JDV_J02)", smEnc)
	j.coded(el+"/location/healthCareFacility/code", code, codeSysDisplay, false, inValueSet(nos.J02HealthcareFacilityType), "JDV_J02 (1.2.250.1.213.1.1.5.466)", smEnc)
}
