// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecdaf744/gomss/ins"
)

// Operation is an operation of the INSi service (WSDL DESIR_ICIR_EXP 1.5.0,
// portType ICIRService).
type Operation string

// The two operations of WSDL 1.5.0.
const (
	// OpSearchByTraits is rechercherInsAvecTraitsIdentite, body RECSANSVITALE.
	OpSearchByTraits Operation = "rechercherInsAvecTraitsIdentite"
	// OpSearchWithVitale is rechercherInsAvecCarteVitale, body RECVITALE.
	OpSearchWithVitale Operation = "rechercherInsAvecCarteVitale"
)

// Action returns the SOAP action and wsa:Action of the operation,
// urn:ServiceIdentiteCertifiee:1.0.0:<operation> (WSDL soap12:operation
// and wsaw:Action).
func (o Operation) Action() string { return actionPrefix + string(o) }

const actionPrefix = "urn:ServiceIdentiteCertifiee:1.0.0:"

// Namespaces of the INSi messages (WSDL 1.5.0 and its schemas).
const (
	NSSOAP12   = "http://www.w3.org/2003/05/soap-envelope"
	NSAddr     = "http://www.w3.org/2005/08/addressing"
	NSWSSE     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSCtxBAM   = "urn:siram:bam:ctxbam"
	NSCtxLPS   = "urn:siram:lps:ctxlps"
	NSSiram    = "urn:siram"
	NSRecSans  = "http://www.cnamts.fr/INSiRecSans"
	NSRecVit   = "http://www.cnamts.fr/INSiRecVit"
	NSResultat = "http://www.cnamts.fr/INSiResultat"
	NSSAML     = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// Versions written in the context headers: ContexteBAM Version 01_02
// (ROOT_ctxbam_CTXBAM_V01_02.xsd) and ContexteLPS Nature CTXLPS Version
// 01_00 (ROOT_ctxlps_CTXLPS_V01_00.xsd), the values integrators send.
const (
	ContexteBAMVersion = "01_02"
	ContexteLPSVersion = "01_00"
)

// maxTrait bounds the length of a name sent to the service. The schemas
// set no limit; this guards against a field pasted by mistake.
const maxTrait = 200

// TraitsQuery is one search by traits (RECSANSVITALE). Search builds these
// for its strategy; call SearchByTraits with one to make a single call.
//
// Names are sent as given (XML-escaped): the client does not upper-case
// them nor remove accents. The INSi traits come back in upper case without
// diacritics (RNIPP form); NormalizeName gives that form when the local
// traits are typed otherwise.
type TraitsQuery struct {
	// BirthFamilyName is NomNaissance, required.
	BirthFamilyName string
	// GivenName is the one Prenom element sent: one first name, or several
	// separated by single spaces. The schema allows 0..n Prenom elements;
	// integrators send exactly one per call and vary it (see Search).
	GivenName string
	// Sex is Sexe, F or M, required.
	Sex ins.Sex
	// BirthDate is DateNaissance (written YYYY-MM-DD), required.
	BirthDate ins.Date
	// BirthPlace is LieuNaissance, the COG of the place of birth,
	// optional (5 characters: commune code, or 99 + country code).
	BirthPlace string
}

// Validate checks the query before it is sent. Errors name the field and
// the rule, never a name or a date.
func (q *TraitsQuery) Validate() error {
	if err := checkName("NomNaissance (birth family name)", q.BirthFamilyName); err != nil {
		return err
	}
	if err := checkName("Prenom (given name)", q.GivenName); err != nil {
		return err
	}
	if q.Sex != ins.Female && q.Sex != ins.Male {
		return fmt.Errorf("insi: Sexe %q: the service takes F or M", string(q.Sex))
	}
	if !q.BirthDate.Valid() {
		return fmt.Errorf("insi: DateNaissance: not a calendar date")
	}
	if q.BirthPlace != "" {
		if err := checkCOG(q.BirthPlace); err != nil {
			return err
		}
	}
	return nil
}

// VitaleQuery is a search with the data read from a carte Vitale
// (RECVITALE). The card gives the beneficiary's NIR when the beneficiary is
// the insured person, and otherwise the NIR of the insured person who opens
// the rights (ouvrant droit) with the beneficiary's rank of birth.
type VitaleQuery struct {
	// Individual is MatriculeIndividu, the beneficiary's own NIR with its
	// key, when the card holds it.
	Individual ins.Matricule
	// IndividualType is the optional TypeMatricule of Individual, as read
	// from the card.
	IndividualType string
	// OpeningRights is MatriculeOD, the NIR of the insured person (ouvrant
	// droit).
	OpeningRights ins.Matricule
	// OpeningRightsType is the optional TypeMatricule of OpeningRights.
	OpeningRightsType string
	// BirthFamilyName is NomNaissance as read from the card, optional.
	BirthFamilyName string
	// BirthDate is DateNaissance as read from the card, YYYY-MM-DD. It is
	// a "date lunaire" (schema type DateLunaire): day or month may be 00 or
	// out of range for people born on an unknown date, so it is kept as
	// written, checked only against the pattern \d{4}-\d{2}-\d{2}.
	BirthDate string
	// BirthRank is RangNaissance, the rank of birth of the beneficiary
	// (twins share a birth date); 0 omits it.
	BirthRank int
}

// Validate checks the query: at least one matricule, a date of the
// DateLunaire form, names without control characters.
func (q *VitaleQuery) Validate() error {
	if q.Individual.IsZero() && q.OpeningRights.IsZero() {
		return fmt.Errorf("insi: RECVITALE: MatriculeIndividu or MatriculeOD is required")
	}
	if q.BirthFamilyName != "" {
		if err := checkName("NomNaissance (birth family name)", q.BirthFamilyName); err != nil {
			return err
		}
	}
	if q.BirthDate != "" && !isLunarDate(q.BirthDate) {
		return fmt.Errorf("insi: DateNaissance: want YYYY-MM-DD (a date lunaire may hold 00)")
	}
	if q.BirthRank < 0 || q.BirthRank > 99 {
		return fmt.Errorf("insi: RangNaissance %d: want 1–99, or 0 to omit it", q.BirthRank)
	}
	for _, t := range []string{q.IndividualType, q.OpeningRightsType} {
		if err := checkToken("TypeMatricule", t); err != nil {
			return err
		}
	}
	return nil
}

func isLunarDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i := 0; i < 10; i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// checkName refuses empty values, invalid UTF-8, control characters and
// overlong values. The error names the field, not the value (health data).
func checkName(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("insi: %s is required", field)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("insi: %s is not valid UTF-8", field)
	}
	if len(v) > maxTrait {
		return fmt.Errorf("insi: %s: %d bytes, at most %d", field, len(v), maxTrait)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("insi: %s holds a control character (U+%04X)", field, r)
		}
	}
	return nil
}

func checkToken(field, v string) error {
	for _, r := range v {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("insi: %s %q: no spaces or control characters", field, v)
		}
	}
	if len(v) > 64 {
		return fmt.Errorf("insi: %s: %d bytes, at most 64", field, len(v))
	}
	return nil
}

// checkCOG uses package ins's rule for a birth place COG.
func checkCOG(cog string) error {
	id := ins.Identity{Status: ins.Provisional, Traits: ins.Traits{BirthPlace: cog}}
	if err := id.Validate(); err != nil {
		return fmt.Errorf("insi: LieuNaissance: %w", err)
	}
	return nil
}

// Request is a request ready to be sent: its operation, its wsa:MessageID
// (without the "uuid:" prefix) and the SOAP envelope. Client.NewTraitsRequest
// and Client.NewVitaleRequest build one; Client.Do sends it. Print Body for
// a dry run.
type Request struct {
	Operation Operation
	MessageID string
	Body      []byte
}

// header is everything in the SOAP Header.
type header struct {
	op        Operation
	messageID string
	bamID     string
	lpsID     string
	now       time.Time
	emitter   string
	sw        Software
	security  []byte // a signed saml:Assertion, or nil in mTLS mode
}

// xw writes XML text to a buffer. Values go through escape; element names
// are constants of this file.
type xw struct{ b *bytes.Buffer }

func (w xw) raw(s string) { w.b.WriteString(s) }

func (w xw) text(s string) {
	// xml.EscapeText writes to an io.Writer and escapes the five XML
	// characters, tab, newline and carriage return.
	_ = xml.EscapeText(w.b, []byte(s))
}

// elem writes <name>text</name>.
func (w xw) elem(name, text string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	w.b.WriteByte('>')
	w.text(text)
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

// timeLayout is the xs:dateTime form written in Temps: UTC, milliseconds,
// Z (the form integrators send, for example 2022-03-01T10:29:58.604Z).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// writeEnvelope writes the SOAP 1.2 envelope: Header with ContexteBAM,
// ContexteLPS, wsa:Action, wsa:MessageID and, in CPx mode, wsse:Security;
// Body written by body. The order of the header blocks is the one of the
// WSDL binding and of the requests integrators send.
func writeEnvelope(b *bytes.Buffer, h *header, body func(xw)) {
	w := xw{b}
	w.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.raw(`<soap:Envelope xmlns:soap="` + NSSOAP12 + `" xmlns:wsa="` + NSAddr +
		`" xmlns:ctxbam="` + NSCtxBAM + `" xmlns:ctxlps="` + NSCtxLPS + `">`)
	w.raw(`<soap:Header>`)

	now := h.now.UTC().Format(timeLayout)
	w.raw(`<ctxbam:ContexteBAM Version="` + ContexteBAMVersion + `">`)
	w.elem("ctxbam:Id", h.bamID)
	w.elem("ctxbam:Temps", now)
	w.elem("ctxbam:Emetteur", h.emitter)
	// COUVERTURE is required by the schema; integrators leave it empty
	// when no carte Vitale is read, and the vitale operation carries the
	// card's data in its body.
	w.raw(`<ctxbam:COUVERTURE/>`)
	w.raw(`</ctxbam:ContexteBAM>`)

	w.raw(`<ctxlps:ContexteLPS Nature="CTXLPS" Version="` + ContexteLPSVersion + `">`)
	w.elem("ctxlps:Id", h.lpsID)
	w.elem("ctxlps:Temps", now)
	w.elem("ctxlps:Emetteur", h.emitter)
	w.raw(`<ctxlps:LPS><ctxlps:IDAM R="4">`)
	w.text(h.sw.IDAM)
	w.raw(`</ctxlps:IDAM>`)
	w.elem("ctxlps:Version", h.sw.Version)
	w.elem("ctxlps:Instance", h.sw.Instance)
	w.elem("ctxlps:Nom", h.sw.nom())
	w.raw(`</ctxlps:LPS></ctxlps:ContexteLPS>`)

	w.elem("wsa:Action", h.op.Action())
	w.elem("wsa:MessageID", "uuid:"+h.messageID)
	if h.security != nil {
		w.raw(`<wsse:Security xmlns:wsse="` + NSWSSE + `">`)
		b.Write(h.security)
		w.raw(`</wsse:Security>`)
	}
	w.raw(`</soap:Header><soap:Body>`)
	body(w)
	w.raw(`</soap:Body></soap:Envelope>`)
}

func (q *TraitsQuery) writeBody(w xw) {
	w.raw(`<RECSANSVITALE xmlns="` + NSRecSans + `">`)
	w.elem("NomNaissance", q.BirthFamilyName)
	w.elem("Prenom", q.GivenName)
	w.elem("Sexe", string(q.Sex))
	w.elem("DateNaissance", isoDate(q.BirthDate))
	if q.BirthPlace != "" {
		w.elem("LieuNaissance", q.BirthPlace)
	}
	w.raw(`</RECSANSVITALE>`)
}

func (q *VitaleQuery) writeBody(w xw) {
	w.raw(`<RECVITALE xmlns="` + NSRecVit + `">`)
	matricule := func(name string, m ins.Matricule, typ string) {
		if m.IsZero() {
			return
		}
		w.raw("<" + name + ">")
		w.elem("NumIdentifiant", m.NIR())
		w.elem("Cle", fmt.Sprintf("%02d", m.Key()))
		if typ != "" {
			w.elem("TypeMatricule", typ)
		}
		w.raw("</" + name + ">")
	}
	matricule("MatriculeIndividu", q.Individual, q.IndividualType)
	matricule("MatriculeOD", q.OpeningRights, q.OpeningRightsType)
	if q.BirthFamilyName != "" {
		w.elem("NomNaissance", q.BirthFamilyName)
	}
	if q.BirthDate != "" {
		w.elem("DateNaissance", q.BirthDate)
	}
	if q.BirthRank > 0 {
		w.elem("RangNaissance", strconv.Itoa(q.BirthRank))
	}
	w.raw(`</RECVITALE>`)
}

func isoDate(d ins.Date) string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// WriteTo writes the envelope to w (for a dry run, or a log kept by the
// vendor under its own rules: it holds the patient's traits).
func (r *Request) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.Body)
	return int64(n), err
}
