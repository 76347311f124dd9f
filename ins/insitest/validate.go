// SPDX-License-Identifier: Apache-2.0

package insitest

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/ecdaf744/gomss/ins/insi"
)

// Request is a request as the fake read it.
type Request struct {
	// Operation is the operation named by wsa:Action.
	Operation insi.Operation
	// MessageID is wsa:MessageID as sent (with "uuid:").
	MessageID string
	// IDAM, SoftwareName, SoftwareVersion and Instance are read from
	// ContexteLPS/LPS; Emitter from ContexteLPS/Emetteur.
	IDAM, SoftwareName, SoftwareVersion, Instance string
	Emitter                                       string
	// ClientCN is the CN of the TLS client certificate (mTLS mode), empty
	// in CPx mode.
	ClientCN string
	// AssertionSubject is the NameID of a verified assertion PS (CPx
	// mode).
	AssertionSubject string
	// Traits of a RECSANSVITALE: NomNaissance, the Prenom elements, Sexe,
	// DateNaissance, LieuNaissance.
	BirthFamilyName string
	GivenNames      []string
	Sex             string
	BirthDate       string
	BirthPlace      string
	// Vitale data of a RECVITALE: MatriculeIndividu and MatriculeOD as
	// NumIdentifiant+Cle, RangNaissance.
	Individual, OpeningRights string
	BirthRank                 string
	// Body is the envelope as received.
	Body []byte
	// Problems lists what did not follow the schemas; a request with
	// problems was answered with a fault.
	Problems []string

	doc *etree.Document
}

// part is one element of an xs:sequence.
type part struct {
	ns, name string
	min, max int // max -1: unbounded
}

// ValidateRequest parses and checks an INSi request envelope the way the
// fake does: the structure of the SOAP 1.2 envelope, the header blocks
// (ContexteBAM, ContexteLPS, wsa:Action, wsa:MessageID, wsse:Security), the
// body (RECSANSVITALE or RECVITALE) against the sequences, cardinalities
// and patterns of the WSDL 1.5.0 schemas. It is a structural check in Go,
// not a full XSD validator: tests of this module also validate with
// xmllint --schema. Problems name elements, never values.
func ValidateRequest(body []byte) *Request {
	r := &Request{Body: body}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		r.problem("not well-formed XML: %v", err)
		return r
	}
	r.doc = doc
	env := doc.Root()
	if env == nil || env.NamespaceURI() != insi.NSSOAP12 || env.Tag != "Envelope" {
		r.problem("root element: want a SOAP 1.2 Envelope")
		return r
	}
	kids := r.seq(env, "Envelope", part{insi.NSSOAP12, "Header", 0, 1}, part{insi.NSSOAP12, "Body", 1, 1})
	header, bodyEl := kids["Header"], kids["Body"]
	if header == nil {
		r.problem("Envelope: no Header (ContexteBAM, ContexteLPS, wsa:Action and wsa:MessageID are required)")
	} else {
		r.checkHeader(header)
	}
	if bodyEl != nil {
		r.checkBody(bodyEl)
	}
	return r
}

func (r *Request) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// seq checks that el's element children follow parts, in order, with
// their cardinalities, and nothing else; it returns the first child of
// each name. Text between elements must be blank.
func (r *Request) seq(el *etree.Element, where string, parts ...part) map[string]*etree.Element {
	found := map[string]*etree.Element{}
	counts := make([]int, len(parts))
	pos := 0
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				r.problem("%s: text outside elements", where)
			}
			continue
		case *etree.Element:
			ns := t.NamespaceURI()
			i := pos
			for i < len(parts) && !(parts[i].ns == ns && parts[i].name == t.Tag) {
				i++
			}
			if i == len(parts) {
				r.problem("%s: unexpected element {%s}%s (schema sequence: %s)", where, ns, t.Tag, names(parts))
				continue
			}
			for j := pos; j < i; j++ {
				if counts[j] < parts[j].min {
					r.problem("%s: %s missing before %s", where, parts[j].name, t.Tag)
				}
			}
			pos = i
			counts[i]++
			if parts[i].max >= 0 && counts[i] > parts[i].max {
				r.problem("%s: %s appears %d times, at most %d", where, t.Tag, counts[i], parts[i].max)
			}
			if _, ok := found[t.Tag]; !ok {
				found[t.Tag] = t
			}
		}
	}
	for j := pos; j < len(parts); j++ {
		if counts[j] < parts[j].min {
			r.problem("%s: %s is required", where, parts[j].name)
		}
	}
	return found
}

func names(parts []part) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = p.name
	}
	return strings.Join(s, ", ")
}

// leaf checks that el holds text only and returns it.
func (r *Request) leaf(el *etree.Element, where string) string {
	if el == nil {
		return ""
	}
	for _, c := range el.ChildElements() {
		r.problem("%s: element %s inside a simple-type element", where, c.Tag)
	}
	return el.Text()
}

func (r *Request) checkHeader(h *etree.Element) {
	var bam, lps, action, msgID, sec *etree.Element
	for _, c := range h.ChildElements() {
		switch ns := c.NamespaceURI(); {
		case ns == insi.NSCtxBAM && c.Tag == "ContexteBAM":
			bam = c
		case ns == insi.NSCtxLPS && c.Tag == "ContexteLPS":
			lps = c
		case ns == insi.NSAddr && c.Tag == "Action":
			action = c
		case ns == insi.NSAddr && c.Tag == "MessageID":
			msgID = c
		case ns == insi.NSWSSE && c.Tag == "Security":
			sec = c
		default:
			r.problem("Header: unexpected block {%s}%s", ns, c.Tag)
		}
	}
	if bam == nil {
		r.problem("Header: ctxbam:ContexteBAM is required")
	} else {
		if bam.SelectAttrValue("Version", "") == "" {
			r.problem("ContexteBAM: attribute Version is required")
		}
		if n := bam.SelectAttrValue("Nature", "CTXBAM"); n != "CTXBAM" {
			r.problem("ContexteBAM: Nature must be CTXBAM")
		}
		k := r.seq(bam, "ContexteBAM", part{insi.NSCtxBAM, "Id", 1, 1}, part{insi.NSCtxBAM, "Temps", 1, 1},
			part{insi.NSCtxBAM, "Emetteur", 0, 1}, part{insi.NSCtxBAM, "DateRef", 0, 1}, part{insi.NSCtxBAM, "COUVERTURE", 1, 1})
		r.dateTime(k["Temps"], "ContexteBAM/Temps")
		r.leaf(k["Id"], "ContexteBAM/Id")
		if c := k["COUVERTURE"]; c != nil {
			r.seq(c, "COUVERTURE", part{insi.NSCtxBAM, "GrandRegime", 0, 1}, part{insi.NSCtxBAM, "Organisme", 0, 1},
				part{insi.NSCtxBAM, "CodeCentre", 0, 1}, part{insi.NSCtxBAM, "ASSURE", 0, 1}, part{insi.NSCtxBAM, "BENEFICIAIRE", 0, 1})
		}
	}
	if lps == nil {
		r.problem("Header: ctxlps:ContexteLPS is required")
	} else {
		if lps.SelectAttrValue("Version", "") == "" {
			r.problem("ContexteLPS: attribute Version is required")
		}
		if n := lps.SelectAttrValue("Nature", "CTXLPS"); n != "CTXLPS" {
			r.problem("ContexteLPS: Nature must be CTXLPS")
		}
		k := r.seq(lps, "ContexteLPS", part{insi.NSCtxLPS, "Id", 1, 1}, part{insi.NSCtxLPS, "Temps", 1, 1},
			part{insi.NSCtxLPS, "Emetteur", 0, 1}, part{insi.NSCtxLPS, "LPS", 0, 1})
		r.dateTime(k["Temps"], "ContexteLPS/Temps")
		r.Emitter = r.leaf(k["Emetteur"], "ContexteLPS/Emetteur")
		if l := k["LPS"]; l != nil {
			kk := r.seq(l, "LPS", part{insi.NSCtxLPS, "IDAM", 0, 1}, part{insi.NSCtxLPS, "Version", 0, 1},
				part{insi.NSCtxLPS, "Instance", 0, 1}, part{insi.NSCtxLPS, "Nom", 0, 1})
			r.IDAM = r.leaf(kk["IDAM"], "LPS/IDAM")
			r.SoftwareVersion = r.leaf(kk["Version"], "LPS/Version")
			r.Instance = r.leaf(kk["Instance"], "LPS/Instance")
			r.SoftwareName = r.leaf(kk["Nom"], "LPS/Nom")
		}
	}
	if action == nil {
		r.problem("Header: wsa:Action is required")
	} else {
		a := strings.TrimSpace(r.leaf(action, "wsa:Action"))
		switch a {
		case insi.OpSearchByTraits.Action():
			r.Operation = insi.OpSearchByTraits
		case insi.OpSearchWithVitale.Action():
			r.Operation = insi.OpSearchWithVitale
		default:
			r.problem("wsa:Action %q is not an operation of WSDL 1.5.0", a)
		}
	}
	if msgID == nil {
		r.problem("Header: wsa:MessageID is required")
	} else {
		r.MessageID = strings.TrimSpace(r.leaf(msgID, "wsa:MessageID"))
		if !strings.HasPrefix(r.MessageID, "uuid:") || len(r.MessageID) != len("uuid:")+36 {
			r.problem("wsa:MessageID: want uuid:<UUID>")
		}
	}
	if sec != nil {
		if len(sec.ChildElements()) == 0 {
			r.problem("wsse:Security: at least one saml:Assertion is required (Security.xsd)")
		}
		for _, c := range sec.ChildElements() {
			if c.NamespaceURI() != insi.NSSAML || c.Tag != "Assertion" {
				r.problem("wsse:Security: unexpected element {%s}%s", c.NamespaceURI(), c.Tag)
			}
		}
	}
}

func (r *Request) dateTime(el *etree.Element, where string) {
	if el == nil {
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(r.leaf(el, where))); err != nil {
		r.problem("%s: not an xs:dateTime", where)
	}
}

func (r *Request) checkBody(b *etree.Element) {
	kids := b.ChildElements()
	if len(kids) != 1 {
		r.problem("Body: want exactly one element, found %d", len(kids))
		return
	}
	el := kids[0]
	switch ns := el.NamespaceURI(); {
	case ns == insi.NSRecSans && el.Tag == "RECSANSVITALE":
		if r.Operation != "" && r.Operation != insi.OpSearchByTraits {
			r.problem("Body: RECSANSVITALE under wsa:Action %s", r.Operation)
		}
		k := r.seq(el, "RECSANSVITALE", part{ns, "NomNaissance", 0, 1}, part{ns, "Prenom", 0, -1},
			part{ns, "Sexe", 0, 1}, part{ns, "DateNaissance", 0, 1}, part{ns, "LieuNaissance", 0, 1})
		r.BirthFamilyName = r.leaf(k["NomNaissance"], "NomNaissance")
		for _, p := range el.SelectElements("Prenom") {
			r.GivenNames = append(r.GivenNames, r.leaf(p, "Prenom"))
		}
		r.Sex = r.leaf(k["Sexe"], "Sexe")
		r.BirthDate = r.leaf(k["DateNaissance"], "DateNaissance")
		r.BirthPlace = r.leaf(k["LieuNaissance"], "LieuNaissance")
	case ns == insi.NSRecVit && el.Tag == "RECVITALE":
		if r.Operation != "" && r.Operation != insi.OpSearchWithVitale {
			r.problem("Body: RECVITALE under wsa:Action %s", r.Operation)
		}
		k := r.seq(el, "RECVITALE", part{ns, "MatriculeIndividu", 0, 1}, part{ns, "MatriculeOD", 0, 1},
			part{ns, "NomNaissance", 0, 1}, part{ns, "DateNaissance", 0, 1}, part{ns, "RangNaissance", 0, 1})
		mat := func(m *etree.Element, where string) string {
			if m == nil {
				return ""
			}
			kk := r.seq(m, where, part{ns, "NumIdentifiant", 0, 1}, part{ns, "Cle", 0, 1}, part{ns, "TypeMatricule", 0, 1})
			return r.leaf(kk["NumIdentifiant"], where+"/NumIdentifiant") + r.leaf(kk["Cle"], where+"/Cle")
		}
		r.Individual = mat(k["MatriculeIndividu"], "MatriculeIndividu")
		r.OpeningRights = mat(k["MatriculeOD"], "MatriculeOD")
		r.BirthFamilyName = r.leaf(k["NomNaissance"], "NomNaissance")
		r.BirthDate = r.leaf(k["DateNaissance"], "DateNaissance")
		r.BirthRank = r.leaf(k["RangNaissance"], "RangNaissance")
	default:
		r.problem("Body: {%s}%s is not an INSi request", ns, el.Tag)
	}
}
