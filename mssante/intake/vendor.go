// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"context"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// What the vendor plugs in: its patient index, its document store and,
// optionally, an INS verifier (the INSi téléservice). The decision calls
// them and nothing else; it holds no patient data between calls except in
// the worklist.

// Patient is a local patient record as the vendor's index returns it.
type Patient struct {
	// ID is the local identifier the document is filed under (the IPP, or
	// the record's key); it is the only patient datum traced.
	ID string
	// Identity is the local identity as stored: its RNIV status, its INS
	// (when INSi returned one) and its traits.
	Identity ins.Identity
	// Test marks a test or demonstration record (a fictitious patient)
	// that carries no INS de test: such a record and a real one never
	// receive each other's documents.
	Test bool
}

// fictitious reports whether the record is a fictitious patient's: marked
// Test, or holding an INS of a test or demonstration authority.
func (p *Patient) fictitious() bool { return p.Test || p.Identity.INS.Authority.IsFictitious() }

// PatientIndex is the vendor's patient index (its identity repository).
// Both methods return every matching record, never a chosen one: the
// decision needs to see when two records could be the patient
// (SC.MSS/UX.09). They must not filter by identity status. An error means
// the index could not answer: the document goes to the worklist, to be
// decided again later (Decider.Recompute).
type PatientIndex interface {
	// ByMatricule returns the records whose stored matricule INS is m,
	// whatever their status and the INS's assigning authority
	// (SENTINELLE.20: a document with a qualified INS, look up the known
	// identity).
	ByMatricule(ctx context.Context, m ins.Matricule) ([]Patient, error)
	// ByTraits returns the records that may be the person these traits
	// describe: at least those with the same birth date and the same
	// normalised birth family name (ins.NormalizeName) or first given
	// name, so that homonyms and near spellings are seen (SC.MSS/UX.05).
	// The decision compares and ranks them (ins.CompareTraits); records
	// below Policy.CandidateScore are dropped.
	ByTraits(ctx context.Context, t *ins.Traits) ([]Patient, error)
}

// Held is a document already integrated, as the vendor's store returns it.
type Held struct {
	ID, SetID cda.II // ClinicalDocument/id and setId
	Version   int    // versionNumber
	// PatientID is the local patient the document is filed under.
	PatientID string
}

// Filing is what Documents.File is asked to do: file Document under
// Patient and, when Replaces is set, mark that version as replaced (kept
// in the history, not deleted: SC.CDA/MSS.03).
type Filing struct {
	Document Document // what to file
	Patient  Patient  // the record to file it under
	Replaces *Held    // the version it replaces, nil for a new document
	// Manual is true when a person chose the patient (worklist).
	Manual bool
}

// Documents is the vendor's store of integrated documents.
type Documents interface {
	// Held returns the integrated documents whose id is id or whose set
	// id is setID, every version (SC.CDA/MSS.01–03). An error means the
	// store could not answer: the document goes to the worklist.
	Held(ctx context.Context, id, setID cda.II) ([]Held, error)
	// File files a document as Filing says. Decider.Process and the
	// worklist call it once the decision is to integrate; an error is
	// returned to their caller (wrapping ErrFiling) and nothing is
	// recorded as integrated.
	File(ctx context.Context, f Filing) error
}

// VerifyResult is what an INS verification found.
type VerifyResult uint8

// Results of a verification. The zero value, NotVerified, never confirms.
const (
	// NotVerified: no answer (the zero value).
	NotVerified VerifyResult = iota
	// Confirmed: the national base returned this matricule, this
	// authority and these traits exactly.
	Confirmed
	// Contradicted: the national base returned another INS or other
	// traits for this person (Verification.Different says which).
	Contradicted
	// NotFound: the national base found no one, or several persons, with
	// these traits: the INS could not be verified (which is not "wrong").
	NotFound
)

var verifyNames = [...]string{"not verified", "confirmed", "contradicted", "not found"}

// String names the result.
func (r VerifyResult) String() string {
	if int(r) < len(verifyNames) {
		return verifyNames[r]
	}
	return "verify?"
}

// Verification is the answer of a Verifier.
type Verification struct {
	Result VerifyResult // what the national base said
	// Different names what differed ("matricule", "NomNaissance"…),
	// never the values.
	Different []string
	// Active is the INS the national base holds for the person when it is
	// not the one verified (an old matricule in INSHISTO, say): the
	// decision looks it up too, to show its record (SC.MSS/UX.04).
	Active ins.INS
}

// Verifier verifies a received INS against the national base: the INSi
// téléservice (SC.MSS/UX.03, INS guide rules 52, 53, 55). Package
// ins/insi implements it with Client.Verify; this package does not
// depend on it, so a small adapter (VerifierFunc) links them, as the
// package documentation shows. An error means the service could not be
// asked (unavailable, misconfigured): the document goes to the worklist.
type Verifier interface {
	VerifyINS(ctx context.Context, id ins.Identity) (Verification, error)
}

// VerifierFunc adapts a function to a Verifier.
type VerifierFunc func(ctx context.Context, id ins.Identity) (Verification, error)

// VerifyINS calls f.
func (f VerifierFunc) VerifyINS(ctx context.Context, id ins.Identity) (Verification, error) {
	return f(ctx, id)
}
