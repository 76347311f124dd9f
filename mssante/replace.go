// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/mssante/cda"
)

// LinkTo makes m a follow-up of an earlier message (a reply, a
// replacement, a deletion notice): In-Reply-To is the original Message-ID
// and References the original's references followed by it (RFC 5322
// §3.6.4, Ref#2 ECO.2.2.2).
//
// A replacement ("annule et remplace", VT-CDA def-proc-collab) is a new
// send of the new version: its CDA header has Replaces (relatedDocument
// RPLC), the setId of the replaced document and a higher versionNumber;
// package xdm then adds the RPLC association; and the message is linked
// to the original one with LinkTo. Validate refuses a replacement that is
// not linked.
func (m *Message) LinkTo(originalID string, originalReferences ...string) {
	m.InReplyTo = originalID
	m.References = append(append([]string{}, originalReferences...), originalID)
}

// DeletionNotice returns the message asking the recipients of a document
// to delete it (VT-CDA def-proc-collab: the PFI tells the MSSanté
// recipients in the body that the document must be deleted, cf. volet
// Echange de documents de santé). It carries no document, so neither
// X-MSS-CODECDA nor X-MSS-INS; it is linked to the message that carried
// the document. The subject and wording are this package's: no normative
// text for them was found.
func DeletionNotice(from Sender, to []string, doc *cda.Header, originalMessageID, product string) *Message {
	n := doc.WithDefaults()
	var patient string
	if n.Patient != nil {
		family, given := patientNames(&n.Patient.Traits)
		patient = strings.TrimSpace(family + " " + given)
		if d := n.Patient.Traits.BirthDate; !d.IsZero() {
			patient += fmt.Sprintf(" %02d/%02d/%04d", d.Day, int(d.Month), d.Year)
		}
	}
	var b strings.Builder
	b.WriteString("Bonjour,\n\nLe document suivant, transmis précédemment, doit être supprimé (cf. volet Echange de documents de santé du CI-SIS) :\n\n")
	fmt.Fprintf(&b, "- Titre : %s\n", n.Title)
	fmt.Fprintf(&b, "- Type : %s (%s)\n", n.Type.Display, n.Type.Code)
	fmt.Fprintf(&b, "- Identifiant du document : %s\n", n.ID.String())
	fmt.Fprintf(&b, "- Lot de versions (setId) : %s, version %d\n", n.SetID.String(), n.Version)
	if !n.EffectiveTime.IsZero() {
		fmt.Fprintf(&b, "- Date du document : %s\n", n.EffectiveTime.Time.Format("02/01/2006 15:04"))
	}
	if patient != "" {
		fmt.Fprintf(&b, "- Patient : %s\n", patient)
	}
	b.WriteString("\nMerci de le supprimer de vos systèmes.\n")
	m := &Message{
		From:    from,
		To:      to,
		Subject: oneLine("Suppression du document : " + n.Title + " " + patient),
		Text:    b.String(),
		Product: product,
	}
	if originalMessageID != "" {
		m.LinkTo(originalMessageID)
	}
	return m
}
