// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
)

// Compte rendu codes of a RESULTAT (CR/CodeCR).
const (
	CROK      = "00" // one identity found
	CRNone    = "01" // "Aucune identite trouvee"
	CRSeveral = "02" // "Plusieurs identites trouvees"
)

// MaxAnswerSize bounds the body read from the service. An answer holds one
// identity and its history: a few kilobytes.
const MaxAnswerSize = 1 << 20

// Result is an answer of the INSi service (RESULTAT, INSi_RESULTAT_INS.xsd).
// With CR 00 it holds the person's active INS, its history and the five INS
// traits from the national reference base; with 01 or 02 only the CR.
//
// An INSi answer alone gives the status RECUP (identité récupérée) at most:
// Identity returns a Recovered identity, and only Qualify, given the check
// of a high-trust identity document by a person, turns it into QUAL.
type Result struct {
	// Operation and MessageID identify the request answered.
	Operation Operation
	MessageID string
	// CR and Label are CodeCR and LibelleCR.
	CR, Label string
	// INS is the active INS (INSACTIF): matricule (NumIdentifiant + Cle) and
	// assigning authority (OID: AuthorityNIR or AuthorityNIA). Test
	// identities of the qualification platform come back with these
	// production OIDs: do not infer "test" from the OID.
	INS ins.INS
	// ActiveFrom and ActiveUntil are the optional DateDeb and DateFin of
	// INSACTIF.
	ActiveFrom, ActiveUntil ins.Date
	// History lists the INSHISTO elements in the order received: earlier
	// matricules of the same person (a NIA replaced by a NIR…). Keep them:
	// documents received may still carry an old matricule. The service may
	// repeat the active INS here (observed).
	History []HistoricINS
	// Traits are the INS traits (TIQ): BirthFamilyName, FirstBirthGivenName
	// (Prenom, or the first name of ListePrenom when Prenom is absent, as
	// observed), BirthGivenNames (ListePrenom), Sex, BirthDate,
	// BirthPlace. Other fields stay empty.
	Traits ins.Traits
	// BirthDateAsReceived is DateNaissance as received. When it is not a
	// calendar date (a "date lunaire" such as 1950-00-00), Traits.BirthDate
	// is zero and this field holds the value.
	BirthDateAsReceived string
	// ReceivedAt is when the answer was received (client clock). Store it
	// with the INS: the INS guide asks for the date of the INSi answer.
	ReceivedAt time.Time
	// Tolerated lists what did not follow INSi_RESULTAT_INS.xsd but could be
	// read (elements out of order, Cle or Prenom missing…). It names
	// elements, never values.
	Tolerated []string
}

// HistoricINS is an INSHISTO element.
type HistoricINS struct {
	INS ins.INS
	// From and Until are DateDeb and DateFin when present.
	From, Until ins.Date
}

// Found reports whether the answer holds an identity (CR 00).
func (r *Result) Found() bool { return r != nil && r.CR == CROK && !r.INS.IsZero() }

// Identity returns the identity of a CR 00 answer with status Recovered
// (RECUP): the INS and the INS traits, no local identifier. It returns an
// error for any other answer. Never set the status to Qualified yourself:
// call Qualify.
func (r *Result) Identity() (ins.Identity, error) {
	if !r.Found() {
		return ins.Identity{}, fmt.Errorf("insi: no identity in an answer with CR %s", r.CR)
	}
	return ins.Identity{Status: ins.Recovered, INS: r.INS, Traits: r.Traits}, nil
}

// err maps the CR to the error a call returns with the result.
func (r *Result) err() error {
	switch r.CR {
	case CROK:
		return nil
	case CRNone:
		return ErrNotFound
	case CRSeveral:
		return ErrSeveralIdentities
	}
	return fmt.Errorf("%w %q (%s)", ErrUnexpectedCR, r.CR, r.Label)
}

// ParseResponse reads a SOAP 1.2 answer of the service: a RESULTAT or a
// Fault. It returns the *Result and, for CR 01 or 02, an error wrapping
// ErrNotFound or ErrSeveralIdentities; a *Fault as error for a SOAP fault;
// an error wrapping ErrMalformedAnswer for anything else. It reads at most
// MaxAnswerSize bytes.
//
// Reading is tolerant where answers recorded from the service differ from
// the schema (Result.Tolerated says what was tolerated), and strict where a
// value would be wrong: a matricule whose key does not match, an OID that
// is not an INS authority, a CR 00 without identity.
func ParseResponse(body io.Reader) (*Result, error) {
	root, err := readTree(io.LimitReader(body, MaxAnswerSize+1))
	if err != nil {
		return nil, err
	}
	env := root
	if env.ns != NSSOAP12 || env.name != "Envelope" {
		return nil, malformed("root element is {%s}%s, want a SOAP 1.2 Envelope", env.ns, env.name)
	}
	bodyEl := env.child(NSSOAP12, "Body")
	if bodyEl == nil {
		return nil, malformed("no soap:Body")
	}
	if len(bodyEl.kids) == 0 {
		return nil, malformed("empty soap:Body")
	}
	first := bodyEl.kids[0]
	switch {
	case first.ns == NSSOAP12 && first.name == "Fault":
		return nil, parseFault(first)
	case first.ns == NSResultat && first.name == "RESULTAT":
		r, err := parseResultat(first)
		if err != nil {
			return nil, err
		}
		return r, r.err()
	}
	return nil, malformed("soap:Body holds {%s}%s, want RESULTAT or Fault", first.ns, first.name)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedAnswer, fmt.Sprintf(format, args...))
}

func parseFault(f *node) *Fault {
	fault := &Fault{}
	if code := f.child(NSSOAP12, "Code"); code != nil {
		fault.Code = localQName(code.childText(NSSOAP12, "Value"))
		if sub := code.child(NSSOAP12, "Subcode"); sub != nil {
			fault.Subcode = localQName(sub.childText(NSSOAP12, "Value"))
		}
	}
	if reason := f.child(NSSOAP12, "Reason"); reason != nil {
		for _, t := range reason.kids {
			if t.ns == NSSOAP12 && t.name == "Text" {
				if fault.Reason == "" || t.attr(xmlNS, "lang") == "fr" {
					fault.Reason = strings.TrimSpace(t.text)
				}
			}
		}
	}
	if detail := f.child(NSSOAP12, "Detail"); detail != nil {
		if e := detail.child(NSSiram, "Erreur"); e != nil {
			fault.ErrorCode = e.attr("", "code")
			fault.Severity = Severity(e.attr("", "severite"))
			fault.MessageID = e.attr("", "messageID")
			fault.Detail = strings.TrimSpace(e.text)
		}
	}
	return fault
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

// localQName strips the prefix of a QName value ("soap:siram_100").
func localQName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func parseResultat(n *node) (*Result, error) {
	r := &Result{}
	cr := n.child(NSResultat, "CR")
	if cr == nil {
		return nil, malformed("RESULTAT without CR")
	}
	r.CR = strings.TrimSpace(cr.childText(NSResultat, "CodeCR"))
	r.Label = strings.TrimSpace(cr.childText(NSResultat, "LibelleCR"))
	if r.CR == "" {
		return nil, malformed("CR without CodeCR")
	}
	r.checkOrder(n, "RESULTAT", "CR", "INDIVIDU")
	ind := n.child(NSResultat, "INDIVIDU")
	if r.CR != CROK {
		if ind != nil {
			r.tolerate("RESULTAT: INDIVIDU in an answer with CR %s, ignored", r.CR)
		}
		return r, nil
	}
	if ind == nil {
		return nil, malformed("CR 00 without INDIVIDU")
	}
	r.checkOrder(ind, "INDIVIDU", "INSACTIF", "INSHISTO", "TIQ")
	act := ind.child(NSResultat, "INSACTIF")
	if act == nil {
		return nil, malformed("INDIVIDU without INSACTIF")
	}
	var err error
	if r.INS, r.ActiveFrom, r.ActiveUntil, err = r.parseINS(act, "INSACTIF"); err != nil {
		return nil, err
	}
	h := 0
	for _, k := range ind.kids {
		if k.ns != NSResultat || k.name != "INSHISTO" {
			continue
		}
		h++
		i, from, until, err := r.parseINS(k, fmt.Sprintf("INSHISTO %d", h))
		if err != nil {
			return nil, err
		}
		r.History = append(r.History, HistoricINS{INS: i, From: from, Until: until})
	}
	tiq := ind.child(NSResultat, "TIQ")
	if tiq == nil {
		return nil, malformed("INDIVIDU without TIQ (the INS traits)")
	}
	if err := r.parseTIQ(tiq); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Result) parseINS(n *node, where string) (ins.INS, ins.Date, ins.Date, error) {
	var zero ins.Date
	r.checkOrder(n, where, "IdIndividu", "OID", "DateDeb", "DateFin")
	id := n.child(NSResultat, "IdIndividu")
	if id == nil {
		return ins.INS{}, zero, zero, malformed("%s without IdIndividu", where)
	}
	r.checkOrder(id, where+"/IdIndividu", "NumIdentifiant", "Cle", "TypeMatricule")
	num := strings.TrimSpace(id.childText(NSResultat, "NumIdentifiant"))
	key := strings.TrimSpace(id.childText(NSResultat, "Cle"))
	if len(num) != 13 {
		return ins.INS{}, zero, zero, malformed("%s: NumIdentifiant has %d characters, want 13", where, len(num))
	}
	if key == "" {
		k, err := ins.ControlKey(num)
		if err != nil {
			return ins.INS{}, zero, zero, fmt.Errorf("%w: %s: %w", ErrMalformedAnswer, where, err)
		}
		key = fmt.Sprintf("%02d", k)
		r.tolerate("%s: no Cle, key computed from NumIdentifiant", where)
	}
	m, err := ins.ParseMatricule(num + key)
	if err != nil {
		return ins.INS{}, zero, zero, fmt.Errorf("%w: %s: %w", ErrMalformedAnswer, where, err)
	}
	oid := strings.TrimSpace(n.childText(NSResultat, "OID"))
	a, err := ins.ParseAuthority(oid)
	if err != nil {
		return ins.INS{}, zero, zero, fmt.Errorf("%w: %s: %w", ErrMalformedAnswer, where, err)
	}
	if a != ins.AuthorityNIR && a != ins.AuthorityNIA {
		r.tolerate("%s: OID %s is a test or demonstration authority, not the NIR or NIA OID the service returns", where, oid)
	}
	var dates [2]ins.Date
	for i, name := range []string{"DateDeb", "DateFin"} {
		s := strings.TrimSpace(n.childText(NSResultat, name))
		if s == "" {
			continue
		}
		d, err := ins.ParseDate(s)
		if err != nil || !strings.Contains(s, "-") {
			r.tolerate("%s: %s is not an xs:date, ignored", where, name)
			continue
		}
		dates[i] = d
	}
	return ins.INS{Matricule: m, Authority: a}, dates[0], dates[1], nil
}

func (r *Result) parseTIQ(n *node) error {
	r.checkOrder(n, "TIQ", "NomNaissance", "Prenom", "ListePrenom", "Sexe", "DateNaissance", "LieuNaissance")
	t := &r.Traits
	t.BirthFamilyName = strings.TrimSpace(n.childText(NSResultat, "NomNaissance"))
	t.FirstBirthGivenName = strings.TrimSpace(n.childText(NSResultat, "Prenom"))
	t.BirthGivenNames = strings.Join(strings.Fields(n.childText(NSResultat, "ListePrenom")), " ")
	switch {
	case t.FirstBirthGivenName == "" && t.BirthGivenNames != "":
		t.FirstBirthGivenName, _, _ = strings.Cut(t.BirthGivenNames, " ")
		r.tolerate("TIQ: no Prenom, first given name taken from ListePrenom")
	case t.BirthGivenNames == "" && t.FirstBirthGivenName != "":
		t.BirthGivenNames = t.FirstBirthGivenName
		r.tolerate("TIQ: no ListePrenom, list taken from Prenom")
	}
	switch sex := strings.TrimSpace(n.childText(NSResultat, "Sexe")); sex {
	case "F", "M":
		t.Sex = ins.Sex(sex)
	default:
		t.Sex = ins.Sex(sex)
		r.tolerate("TIQ: Sexe %q is neither F nor M", sex)
	}
	r.BirthDateAsReceived = strings.TrimSpace(n.childText(NSResultat, "DateNaissance"))
	if d, err := ins.ParseDate(r.BirthDateAsReceived); err == nil && strings.Contains(r.BirthDateAsReceived, "-") {
		t.BirthDate = d
	} else if r.BirthDateAsReceived != "" {
		r.tolerate("TIQ: DateNaissance is not a calendar date (date lunaire); kept in BirthDateAsReceived")
	}
	t.BirthPlace = strings.TrimSpace(n.childText(NSResultat, "LieuNaissance"))
	var missing []string
	if t.BirthFamilyName == "" {
		missing = append(missing, "NomNaissance")
	}
	if t.FirstBirthGivenName == "" {
		missing = append(missing, "Prenom/ListePrenom")
	}
	if r.BirthDateAsReceived == "" {
		missing = append(missing, "DateNaissance")
	}
	if t.Sex == "" {
		missing = append(missing, "Sexe")
	}
	if len(missing) > 0 {
		return malformed("TIQ without %s", strings.Join(missing, ", "))
	}
	if t.BirthPlace == "" {
		r.tolerate("TIQ: no LieuNaissance")
	}
	return nil
}

func (r *Result) tolerate(format string, args ...any) {
	r.Tolerated = append(r.Tolerated, fmt.Sprintf(format, args...))
}

// checkOrder notes children of n in the INSi result namespace that come in
// another order than the schema's sequence, and unknown children.
func (r *Result) checkOrder(n *node, where string, order ...string) {
	last := -1
	for _, k := range n.kids {
		if k.ns != NSResultat {
			r.tolerate("%s: element {%s}%s ignored", where, k.ns, k.name)
			continue
		}
		i := indexOf(order, k.name)
		switch {
		case i < 0:
			r.tolerate("%s: unknown element %s ignored", where, k.name)
		case i < last:
			r.tolerate("%s: %s after %s (schema order: %s)", where, k.name, order[last], strings.Join(order, ", "))
		default:
			last = i
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// node is a minimal element tree: enough for answers of a few kilobytes.
type node struct {
	ns, name string
	attrs    []xml.Attr
	text     string
	kids     []*node
}

func (n *node) child(ns, name string) *node {
	for _, k := range n.kids {
		if k.name == name && k.ns == ns {
			return k
		}
	}
	return nil
}

func (n *node) childText(ns, name string) string {
	if k := n.child(ns, name); k != nil {
		return k.text
	}
	return ""
}

func (n *node) attr(ns, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name && a.Name.Space == ns {
			return a.Value
		}
	}
	return ""
}

// Limits of readTree, beyond any real answer.
const (
	maxDepth = 32
	maxNodes = 4096
)

// readTree parses an XML document into nodes. Text is kept for leaf
// content; mixed content is concatenated.
func readTree(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	var stack []*node
	var root *node
	count := 0
	var text []byte
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if d.InputOffset() > MaxAnswerSize {
				return nil, malformed("answer longer than %d bytes", MaxAnswerSize)
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformedAnswer, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxNodes || len(stack) >= maxDepth {
				return nil, malformed("answer too large or too deep")
			}
			n := &node{ns: t.Name.Space, name: t.Name.Local}
			if len(t.Attr) > 0 {
				n.attrs = make([]xml.Attr, len(t.Attr))
				copy(n.attrs, t.Attr)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, malformed("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
			text = text[:0]
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.kids) == 0 {
				n.text = string(text)
			}
			text = text[:0]
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text = append(text, t...)
			} else if len(strings.TrimSpace(string(t))) > 0 {
				return nil, malformed("text outside the root element")
			}
		}
	}
	if d.InputOffset() > MaxAnswerSize {
		return nil, malformed("answer longer than %d bytes", MaxAnswerSize)
	}
	if root == nil {
		return nil, malformed("no XML element")
	}
	if len(stack) != 0 {
		return nil, malformed("unexpected end of the answer")
	}
	return root, nil
}

// isFault reports whether err is a SOAP fault of the service.
func isFault(err error) (*Fault, bool) {
	var f *Fault
	ok := errors.As(err, &f)
	return f, ok
}
