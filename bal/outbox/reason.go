// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecdaf744/gomss/mssante"
)

// Bounce is the cause of a non-delivery by Mon espace santé.
type Bounce string

// The causes of a Mon espace santé non-delivery ("Message non
// distribué"), which a client must recognise and show explicitly (ENS
// "Messagerie de Mon espace santé" v1.3 §6, as summarised in
// HealthPlatform.Forge E009 §6.16 RG-E009-085: closed mailbox, patient not
// found, invalid address, size over 25 Mo). The ENS wording of these
// bounces is not public in the sources read: they are classified from the
// DSN's Status (RFC 3463) and Diagnostic-Code, which every MTA fills, for
// a recipient at patient.mssante.fr only.
const (
	BounceNone Bounce = ""
	// BounceClosed: the patient's Mon espace santé mailbox is closed (the
	// patient closed Mon espace santé or opposed its creation): status
	// X.2.1 (mailbox disabled), or a diagnostic saying closed or disabled.
	BounceClosed Bounce = "closed"
	// BouncePatientUnknown: no Mon espace santé for that INS: status
	// X.1.1 (bad destination mailbox) or a diagnostic saying unknown or
	// not found.
	BouncePatientUnknown Bounce = "patient-unknown"
	// BounceInvalidAddress: the address itself is not valid (X.1.3 bad
	// syntax, or said invalid).
	BounceInvalidAddress Bounce = "invalid-address"
	// BounceTooLarge: over the 25 Mo limit of Mon espace santé (X.2.3,
	// X.3.4, or said too large/size).
	BounceTooLarge Bounce = "too-large"
)

// ClassifyBounce returns the Mon espace santé cause of a failed delivery
// to address, from its DSN Status and Diagnostic-Code; BounceNone for a
// professional address or a cause not among the four.
func ClassifyBounce(address, status, diagnostic string) Bounce {
	if !mssante.IsPatientAddress(address) {
		return BounceNone
	}
	d := strings.ToLower(diagnostic)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(d, w) {
				return true
			}
		}
		return false
	}
	sub := statusSubject(status)
	switch {
	case sub == "2.3" || sub == "3.4" || has("too large", "too big", "size", "taille", "volumineux", "25 mo", "25mo"):
		return BounceTooLarge
	case sub == "2.1" || has("closed", "fermé", "ferme", "disabled", "désactiv", "desactiv", "clôtur", "clotur"):
		return BounceClosed
	case sub == "1.3" || has("invalid", "invalide", "syntax"):
		return BounceInvalidAddress
	case sub == "1.1" || has("unknown", "inconnu", "not found", "introuvable", "does not exist", "doesn't exist", "n'existe pas"):
		return BouncePatientUnknown
	}
	return BounceNone
}

// statusSubject returns "subject.detail" of an RFC 3463 status "5.1.1"
// (or of the enhanced code at the start of a diagnostic), "" otherwise.
func statusSubject(status string) string {
	parts := strings.Split(strings.TrimSpace(status), ".")
	if len(parts) != 3 {
		return ""
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return ""
		}
	}
	return parts[1] + "." + parts[2]
}

var bounceReason = map[Bounce]string{
	BounceClosed:         "Non distribué : la messagerie Mon espace santé du patient est fermée.",
	BouncePatientUnknown: "Non distribué : patient introuvable dans Mon espace santé (pas de messagerie pour cette INS).",
	BounceInvalidAddress: "Non distribué : adresse Mon espace santé invalide.",
	BounceTooLarge:       "Non distribué : message trop volumineux pour Mon espace santé (25 Mo au plus, pièces jointes comprises).",
}

// statusReason words the common RFC 3463 statuses for a user.
var statusReason = map[string]string{
	"1.1": "adresse du destinataire inconnue chez son opérateur",
	"1.2": "domaine du destinataire inconnu",
	"1.3": "adresse du destinataire invalide",
	"1.6": "le destinataire a changé d'adresse",
	"2.1": "boîte aux lettres du destinataire désactivée",
	"2.2": "boîte aux lettres du destinataire pleine",
	"2.3": "message trop volumineux pour le destinataire",
	"3.4": "message trop volumineux pour le serveur",
	"4.4": "serveur du destinataire injoignable",
	"4.7": "délai de distribution dépassé",
	"7.1": "envoi refusé par la politique du serveur (expéditeur non autorisé)",
}

// failureReason words a failure DSN for a user.
func failureReason(address, status, diagnostic string) (string, Bounce) {
	if b := ClassifyBounce(address, status, diagnostic); b != BounceNone {
		return bounceReason[b], b
	}
	if r, ok := statusReason[statusSubject(status)]; ok {
		return "Non distribué : " + r + ".", BounceNone
	}
	if strings.HasPrefix(strings.TrimSpace(status), "7.") || strings.Contains(status, ".7.") {
		return "Non distribué : refusé pour une raison de sécurité ou de politique du serveur.", BounceNone
	}
	return "Non distribué : le serveur de l'opérateur n'a pas pu remettre le message.", BounceNone
}

// refusalReason words a refusal of the submission server (a 5xx reply at
// RCPT or DATA).
func refusalReason(address, code, enhanced, text string) (string, Bounce) {
	if b := ClassifyBounce(address, enhanced, text); b != BounceNone {
		return bounceReason[b], b
	}
	if r, ok := statusReason[statusSubject(enhanced)]; ok {
		return "Refusé par le serveur d'envoi : " + r + ".", BounceNone
	}
	return fmt.Sprintf("Refusé par le serveur d'envoi (%s) : le message n'est pas parti pour ce destinataire.", strings.TrimSpace(code+" "+enhanced)), BounceNone
}

// integrationReason words an MDN with an integration error (900–906).
func integrationReason(code int, label string) string {
	if e, ok := mssante.IntegrationErrorFor(code); ok {
		label = e.Label
	}
	if label == "" {
		label = "erreur non précisée"
	}
	return fmt.Sprintf("Reçu, mais le logiciel du destinataire n'a pas pu l'intégrer (erreur %d : %s).", code, label)
}
