// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
)

// Document is a high-trust identity document (dispositif d'identification
// à haut niveau de confiance) whose check by a person, with an INSi answer,
// makes an identity qualified (RNIV). The codes are those of the FR Core
// value set fr-core-vs-mode-validation-identity-ins (code system
// fr-core-cs-mode-validation-identity), the modes of validation allowed for
// an INS identity.
type Document string

// The four documents of FR Core fr-core-vs-mode-validation-identity-ins.
const (
	DocPassport         Document = "PA" // passeport
	DocNationalIDCard   Document = "CN" // carte nationale d'identité
	DocBirthCertificate Document = "AN" // extrait d'acte de naissance
	DocFamilyRecordBook Document = "LE" // livret de famille
)

// Valid reports whether d is one of the four document codes.
func (d Document) Valid() bool {
	switch d {
	case DocPassport, DocNationalIDCard, DocBirthCertificate, DocFamilyRecordBook:
		return true
	}
	return false
}

// DocumentCheck is the evidence that a person checked a high-trust identity
// document against the INS traits returned by INSi (contrôle de cohérence,
// RNIV): which document, who checked, when, and the outcome.
type DocumentCheck struct {
	Document Document
	// CheckedBy identifies the person who checked (a user identifier of
	// the vendor's software, an RPPS…). Required.
	CheckedBy string
	// CheckedAt is when the check was made. Required.
	CheckedAt time.Time
	// Consistent is the person's statement that the document's traits are
	// those of the INSi answer. A check that found a difference does not
	// qualify the identity.
	Consistent bool
}

// Errors of Qualify.
var (
	// ErrNotRecovered: Qualify takes the RECUP identity of an INSi answer.
	ErrNotRecovered = errors.New("insi: Qualify takes an identity recovered from INSi (status RECUP)")
	// ErrDocumentCheck: the document check is missing, incomplete or found
	// the document inconsistent with the INSi traits.
	ErrDocumentCheck = errors.New("insi: the identity document check does not allow qualification")
)

// Qualify returns id with status Qualified (QUAL), the only status that
// lets the matricule INS be emitted (RNIV EXI SI 08), when id was recovered
// from INSi (status Recovered, as Result.Identity returns it), carries a
// valid INS and the five INS traits, and check records a consistent check
// of a high-trust document by a person. It never calls the service and
// never changes the traits. Otherwise it returns an error wrapping
// ErrNotRecovered, ErrDocumentCheck, ins.ErrNoINS or ins.ErrTraits, and the
// zero Identity.
//
// This step is explicit on purpose: no call of this package returns a
// qualified identity by itself.
func Qualify(id ins.Identity, check DocumentCheck) (ins.Identity, error) {
	if id.Status != ins.Recovered {
		st := string(id.Status)
		if st == "" {
			st = "unknown"
		}
		return ins.Identity{}, fmt.Errorf("%w, not %s", ErrNotRecovered, st)
	}
	if err := id.INS.Validate(); err != nil {
		return ins.Identity{}, err
	}
	if err := id.Traits.ValidateINSTraits(); err != nil {
		return ins.Identity{}, err
	}
	var missing []string
	if !check.Document.Valid() {
		missing = append(missing, fmt.Sprintf("document %q is not a high-trust document (want PA, CN, AN or LE)", string(check.Document)))
	}
	if strings.TrimSpace(check.CheckedBy) == "" {
		missing = append(missing, "CheckedBy (who checked the document) is required")
	}
	if check.CheckedAt.IsZero() {
		missing = append(missing, "CheckedAt is required")
	}
	if len(missing) > 0 {
		return ins.Identity{}, fmt.Errorf("%w: %s", ErrDocumentCheck, strings.Join(missing, "; "))
	}
	if !check.Consistent {
		return ins.Identity{}, fmt.Errorf("%w: the document was found inconsistent with the INSi traits", ErrDocumentCheck)
	}
	q := id
	q.Status = ins.Qualified
	q.LocalIDs = append([]ins.LocalID(nil), id.LocalIDs...)
	return q, nil
}
