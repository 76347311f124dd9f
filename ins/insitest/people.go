// SPDX-License-Identifier: Apache-2.0

package insitest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
)

// Person is an entry of the fake's reference base: what the service knows
// of a person and answers with CR 00.
type Person struct {
	// INS is the active INS (INSACTIF). A NIA (authority ins.AuthorityNIA,
	// sex digit 7 or 8 or not) is answered like a NIR.
	INS ins.INS
	// History is written as INSHISTO elements, in order. The service has
	// been seen to repeat the active INS there.
	History []ins.INS
	// Traits are the INS traits (TIQ). FirstBirthGivenName and
	// BirthGivenNames (space separated) are both written unless OmitPrenom.
	Traits ins.Traits
	// OmitPrenom writes TIQ without Prenom, only ListePrenom (observed on
	// the qualification platform, CNDA case TEST_2.04).
	OmitPrenom bool
	// OpeningRights and BirthRank let RECVITALE find a beneficiary by the
	// insured person's NIR (MatriculeOD) and rank of birth, as read from a
	// carte Vitale. RECVITALE also finds the person by MatriculeIndividu
	// equal to INS or to one of History.
	OpeningRights ins.Matricule
	BirthRank     int
}

// matchTraits is the fake's rule for RECSANSVITALE, not the service's
// (whose matching is not published): birth family name, sex and birth date
// equal; the Prenom sent equal to the first given name or to the whole
// list; the COG, when sent, equal. Names compare after
// insi.NormalizeName (case and accents ignored).
func (p *Person) matchTraits(r *Request) bool {
	t := p.Traits
	if insi.NormalizeName(r.BirthFamilyName) != insi.NormalizeName(t.BirthFamilyName) ||
		r.Sex != string(t.Sex) || r.BirthDate != isoDate(t.BirthDate) {
		return false
	}
	if r.BirthPlace != "" && !strings.EqualFold(r.BirthPlace, t.BirthPlace) {
		return false
	}
	given := insi.NormalizeName(strings.Join(r.GivenNames, " "))
	first := t.FirstBirthGivenName
	if first == "" {
		first, _, _ = strings.Cut(t.BirthGivenNames, " ")
	}
	return given != "" && (given == insi.NormalizeName(first) || given == insi.NormalizeName(t.BirthGivenNames))
}

// matchVitale finds a person by MatriculeIndividu (active or historic INS)
// or by MatriculeOD and rank.
func (p *Person) matchVitale(r *Request) bool {
	if r.Individual != "" {
		if r.Individual == p.INS.Matricule.String() {
			return true
		}
		for _, h := range p.History {
			if r.Individual == h.Matricule.String() {
				return true
			}
		}
		return false
	}
	if r.OpeningRights != "" && !p.OpeningRights.IsZero() && r.OpeningRights == p.OpeningRights.String() {
		rank := fmt.Sprint(p.BirthRank)
		return r.BirthRank == "" || r.BirthRank == rank
	}
	return false
}

func isoDate(d ins.Date) string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Labels of the CR, as observed (LibelleCR).
const (
	LabelOK      = "OK"
	LabelNone    = "Aucune identite trouvee"
	LabelSeveral = "Plusieurs identites trouvees"
)

const envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
	`<soap:Envelope xmlns:soap="` + insi.NSSOAP12 + `"><soap:Body>`
const envelopeEnd = `</soap:Body></soap:Envelope>`

// resultXML writes a RESULTAT in the form observed on the qualification
// platform (prefix-free INSiResultat namespace, INSACTIF/INSHISTO/TIQ).
func resultXML(cr, label string, p *Person) []byte {
	var b bytes.Buffer
	b.WriteString(envelopeStart)
	b.WriteString(`<RESULTAT xmlns="` + insi.NSResultat + `"><CR>`)
	elem(&b, "CodeCR", cr)
	elem(&b, "LibelleCR", label)
	b.WriteString(`</CR>`)
	if p != nil {
		b.WriteString(`<INDIVIDU>`)
		insXML(&b, "INSACTIF", p.INS)
		for _, h := range p.History {
			insXML(&b, "INSHISTO", h)
		}
		b.WriteString(`<TIQ>`)
		t := p.Traits
		elem(&b, "NomNaissance", t.BirthFamilyName)
		first := t.FirstBirthGivenName
		if first == "" {
			first, _, _ = strings.Cut(t.BirthGivenNames, " ")
		}
		if !p.OmitPrenom {
			elem(&b, "Prenom", first)
		}
		list := t.BirthGivenNames
		if list == "" {
			list = first
		}
		elem(&b, "ListePrenom", list)
		elem(&b, "Sexe", string(t.Sex))
		elem(&b, "DateNaissance", isoDate(t.BirthDate))
		if t.BirthPlace != "" {
			elem(&b, "LieuNaissance", t.BirthPlace)
		}
		b.WriteString(`</TIQ></INDIVIDU>`)
	}
	b.WriteString(`</RESULTAT>`)
	b.WriteString(envelopeEnd)
	return b.Bytes()
}

func insXML(b *bytes.Buffer, name string, i ins.INS) {
	b.WriteString("<" + name + "><IdIndividu>")
	elem(b, "NumIdentifiant", i.Matricule.NIR())
	elem(b, "Cle", fmt.Sprintf("%02d", i.Matricule.Key()))
	b.WriteString("</IdIndividu>")
	elem(b, "OID", string(i.Authority))
	b.WriteString("</" + name + ">")
}

func elem(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}

// Fault is a SOAP fault the fake answers with.
type Fault struct {
	// Code is Sender or Receiver.
	Code string
	// Subcode is the siram subcode (siram_100…).
	Subcode string
	// Reason is Reason/Text (xml:lang fr).
	Reason string
	// ErrorCode, Severity and Detail are the siram:Erreur code, severite
	// and text.
	ErrorCode, Severity, Detail string
}

// The faults the fake produces. Sources: observed answers where said;
// otherwise the fake's own choice, marked so.
var (
	// FaultUnknownIDAM is the observed answer to an IDAM the service does
	// not know (padoa/tlsi-ins fixture siram_100-desir_500-fake-idam).
	FaultUnknownIDAM = Fault{Code: "Sender", Subcode: "siram_100",
		Reason:    "L'accès par ce progiciel au service n'est pas autorisé. Contactez l'éditeur du progiciel ou votre responsable informatique.",
		ErrorCode: "desir_550", Severity: "erreur", Detail: "Numéro d'autorisation du logiciel inconnu."}
	// FaultAccessLevel answers a client certificate whose CN is not
	// INSI-AUTO or INSI-MANU: code DESIR_560 and its text are observed
	// (padoa/tlsi-ins README); the subcode siram_100 is the fake's choice
	// (not observed).
	FaultAccessLevel = Fault{Code: "Sender", Subcode: "siram_100",
		Reason:    "Vous ne disposez pas des droits suffisants pour accéder à ce service.",
		ErrorCode: "DESIR_560", Severity: "erreur", Detail: "Niveau d'accès insuffisant."}
	// FaultUnavailable is the temporary unavailability of the service:
	// insi_102 with subcode siram_40 as recorded in the reference notes;
	// Code Receiver and the texts are the fake's.
	FaultUnavailable = Fault{Code: "Receiver", Subcode: "siram_40",
		Reason:    "Le service est momentanément indisponible. Veuillez réessayer ultérieurement.",
		ErrorCode: "insi_102", Severity: "erreur", Detail: "Service temporairement indisponible."}
)

// faultInvalid is the fake's own fault for a request that does not follow
// the schemas (code insitest_schema: not a code of the service).
func faultInvalid(problems []string) Fault {
	return Fault{Code: "Sender", Subcode: "siram_10", Reason: "Requête invalide.",
		ErrorCode: "insitest_schema", Severity: "erreur", Detail: strings.Join(problems, "; ")}
}

// faultAssertion is the fake's own fault for a CPx request whose assertion
// does not verify (code insitest_assertion).
func faultAssertion(why string) Fault {
	return Fault{Code: "Sender", Subcode: "siram_100", Reason: "Authentification refusée.",
		ErrorCode: "insitest_assertion", Severity: "erreur", Detail: why}
}

func (f Fault) xml(messageID string) []byte {
	var b bytes.Buffer
	b.WriteString(envelopeStart)
	b.WriteString(`<soap:Fault><soap:Code><soap:Value>soap:` + f.Code + `</soap:Value><soap:Subcode><soap:Value>soap:`)
	_ = xml.EscapeText(&b, []byte(f.Subcode))
	b.WriteString(`</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="fr">`)
	_ = xml.EscapeText(&b, []byte(f.Reason))
	b.WriteString(`</soap:Text></soap:Reason><soap:Detail><siram:Erreur xmlns:siram="` + insi.NSSiram + `" code="`)
	_ = xml.EscapeText(&b, []byte(f.ErrorCode))
	b.WriteString(`" severite="`)
	_ = xml.EscapeText(&b, []byte(f.Severity))
	b.WriteString(`"`)
	if messageID != "" {
		b.WriteString(` messageID="`)
		_ = xml.EscapeText(&b, []byte(messageID))
		b.WriteString(`"`)
	}
	b.WriteString(`>`)
	_ = xml.EscapeText(&b, []byte(f.Detail))
	b.WriteString(`</siram:Erreur></soap:Detail></soap:Fault>`)
	b.WriteString(envelopeEnd)
	return b.Bytes()
}
