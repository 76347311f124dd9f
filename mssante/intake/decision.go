// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
)

// Outcome is what the decision says to do with a received document.
type Outcome uint8

// Outcomes. The zero value is Worklist: a Decision nobody made sends the
// document to a person, never into a record.
const (
	// Worklist: a person must choose the patient, create one, or reject
	// the document (SC.MSS/UX.09–12, UX.14). Decision.Reasons say why,
	// Decision.Candidates list the local records to choose from.
	Worklist Outcome = iota
	// Integrate: file the document under Decision.Patient
	// (automatically, SC.MSS/UX.07 or UX.08; or as a person chose).
	Integrate
	// Replace: file this newer version under Decision.Patient and mark
	// Decision.Replaces as replaced, keeping it in the history
	// (SC.CDA/MSS.03, relatedDocument RPLC).
	Replace
	// Duplicate: this id and version are already integrated
	// (SC.CDA/MSS.01): nothing to file. Acknowledge as processed: the
	// same message may well come twice (bal.Loop delivers at least once).
	Duplicate
	// Older: a newer version of the document is already integrated
	// (SC.CDA/MSS.02): refused, Decision.Error is 900.
	Older
	// Reject: refused; Decision.Error is the integration error to send
	// back (900–906, ANS volet "Transmission au LPS d'un document CDA").
	Reject
	numOutcomes
)

var outcomeNames = [...]string{"worklist", "integrate", "replace", "duplicate", "older", "reject"}

// String names the outcome.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome?"
}

// ReasonCode says why a document was not integrated automatically.
type ReasonCode uint8

// Reason codes, each with the requirement it applies (Reason.Rule).
const (
	_ ReasonCode = iota
	// NoDocumentID: the header has no ClinicalDocument/id (SC.CDA/MSS.01
	// cannot be applied). Rejected with 906.
	NoDocumentID
	// FictitiousPatient: the document is about a test or demonstration
	// patient and the record is real, or the policy accepts no test
	// patient (then rejected with 902).
	FictitiousPatient
	// VersionConflict: a document of the same set holds the same version
	// number under another id, or the same id under another version.
	VersionConflict
	// ReplacesOtherPatient: a newer version matched a patient other than
	// the one its previous version is filed under (SC.CDA/MSS.03).
	ReplacesOtherPatient
	// NoINS: the document carries no INS (SC.MSS/UX.05).
	NoINS
	// INSInvalid: the document's INS identifier could not be read (its
	// key is wrong, for instance).
	INSInvalid
	// INSIncomplete: an INS without its five traits (INS/va1.53;
	// integration error 905 when rejected).
	INSIncomplete
	// INSConflict: the message says otherwise than the header: X-MSS-INS
	// N with an INS in the header, O without one, or a submission-set
	// patientId naming another INS (Ref#2 ECO.2.1.2, ECO.2.4.2).
	INSConflict
	// INSiContradicted: INSi returned another INS or other traits
	// (SC.MSS/UX.03–04).
	INSiContradicted
	// INSiNotFound: INSi found no one, or several persons, with the
	// document's traits (SC.MSS/UX.03).
	INSiNotFound
	// INSiUnavailable: the verifier could not be asked (SC.MSS/UX.03);
	// Decider.Recompute asks again.
	INSiUnavailable
	// NoLocalINS: no local record holds the document's INS
	// (SENTINELLE.20, SC.MSS/UX.02).
	NoLocalINS
	// LocalNotQualified: the record holding the INS is not a qualified
	// identity, or lacks its INS traits (SC.MSS/UX.02).
	LocalNotQualified
	// LocalINSDifferent: the candidate record holds another INS, or the
	// same matricule under another authority (SC.MSS/UX.07).
	LocalINSDifferent
	// TraitsDifferent: a strict trait differs (SC.MSS/UX.07, RNIV).
	TraitsDifferent
	// TraitsMissing: a strict trait is missing on one side (RNIV).
	TraitsMissing
	// SeveralCandidates: more than one local record could be the patient
	// (SC.MSS/UX.09).
	SeveralCandidates
	// NoCandidate: no local record could be the patient: create it or
	// reject (SC.MSS/UX.10–12; 902 when rejected).
	NoCandidate
	// TraitsOnly: the traits match one record but the policy allows no
	// automatic integration on traits (SC.MSS/UX.06, UX.08).
	TraitsOnly
	// LookupFailed: the vendor's index or store did not answer; decided
	// again by Decider.Recompute.
	LookupFailed
	// Expired: the item stayed in the worklist beyond Policy.Retention
	// (SC.MSS/UX.41).
	Expired
	// ByPerson: a person resolved the worklist item (SC.MSS/UX.09–12).
	ByPerson
	// FilingFailed: Documents.File failed; decided again by
	// Decider.Recompute.
	FilingFailed
	numReasons
)

var reasonInfo = [numReasons]struct{ name, rule string }{
	{"", ""},
	{"no-document-id", "SC.CDA/MSS.01"},
	{"fictitious-patient", "RNIV (patients fictifs: INS-NIR de test / de démonstration)"},
	{"version-conflict", "SC.CDA/MSS.01-02"},
	{"replaces-other-patient", "SC.CDA/MSS.03"},
	{"no-ins", "SC.MSS/UX.05"},
	{"ins-invalid", "SC.MSS/UX.02"},
	{"ins-incomplete", "INS/va1.53"},
	{"ins-conflict", "Ref#2 ECO.2.1.2, ECO.2.4.2"},
	{"insi-contradicted", "SC.MSS/UX.03-04"},
	{"insi-not-found", "SC.MSS/UX.03"},
	{"insi-unavailable", "SC.MSS/UX.03"},
	{"no-local-ins", "SENTINELLE.20"},
	{"local-not-qualified", "SC.MSS/UX.02"},
	{"local-ins-different", "SC.MSS/UX.07"},
	{"traits-different", "SC.MSS/UX.07"},
	{"traits-missing", "SC.MSS/UX.07"},
	{"several-candidates", "SC.MSS/UX.09"},
	{"no-candidate", "SC.MSS/UX.10-12"},
	{"traits-only", "SC.MSS/UX.08"},
	{"lookup-failed", "SC.MSS/UX.15"},
	{"expired", "SC.MSS/UX.41"},
	{"by-person", "SC.MSS/UX.09-12"},
	{"filing-failed", "SC.MSS/UX.37-38"},
}

// String is the reason's short name ("several-candidates"), as traced.
func (c ReasonCode) String() string {
	if int(c) < len(reasonInfo) && c != 0 {
		return reasonInfo[c].name
	}
	return "reason?"
}

// Rule is the requirement the reason applies.
func (c ReasonCode) Rule() string {
	if int(c) < len(reasonInfo) {
		return reasonInfo[c].rule
	}
	return ""
}

// Reason is one reason of a decision. It holds no patient data.
type Reason struct {
	Code ReasonCode // what the reason is, with its rule (Code.Rule)
	// Traits are the traits concerned (TraitsDifferent, TraitsMissing).
	Traits []ins.Trait
	// Err is the vendor's or the verifier's error (LookupFailed,
	// INSiUnavailable) or the reader's (INSInvalid).
	Err error
}

// String names the reason and its rule: "traits-different (SC.MSS/UX.07):
// birth date".
func (r Reason) String() string {
	s := r.Code.String() + " (" + r.Code.Rule() + ")"
	for i, t := range r.Traits {
		if i == 0 {
			s += ": "
		} else {
			s += ", "
		}
		s += t.String()
	}
	return s
}

// INSRelation says how a candidate's INS relates to the document's.
type INSRelation uint8

// INS relations of a candidate.
const (
	// INSNone: one side or both carry no INS.
	INSNone INSRelation = iota
	// INSSame: same matricule and same assigning authority.
	INSSame
	// INSOther: another matricule, or the same under another authority.
	INSOther
)

// Candidate is a local record that may be the document's patient.
type Candidate struct {
	Patient Patient // the record, as the index returned it
	// Comparison of the document's traits with the record's.
	Comparison ins.Comparison
	// Score is Comparison.Score(), kept for sorting and display.
	Score float64
	INS   INSRelation // how its INS relates to the document's
	// ByINS is true when the index found the record by matricule.
	ByINS bool
}

// Decision is what to do with one received document, and why.
type Decision struct {
	Outcome  Outcome  // what to do
	Document Document // the document decided on
	// Patient is the record to file into (Integrate, Replace).
	Patient *Patient
	// Replaces is the version a Replace supersedes; on a worklist item,
	// the version a resolution will supersede.
	Replaces *Held
	// Held is the version already integrated (Duplicate, Older).
	Held *Held
	// Candidates are the local records that may be the patient, best
	// score first.
	Candidates []Candidate
	// Reasons say why the document is not integrated automatically
	// (empty for an automatic Integrate or Replace).
	Reasons []Reason
	// Error is the integration error to send back (Reject, Older).
	Error *mssante.IntegrationError
	// Verification is the verifier's answer, when it was asked.
	Verification *Verification
	// Manual is true when a person took the decision (worklist).
	Manual bool
	// At is when the decision was taken.
	At time.Time
}

// Automatic reports whether the document is filed without a person:
// Integrate or Replace, not Manual.
func (d *Decision) Automatic() bool {
	return (d.Outcome == Integrate || d.Outcome == Replace) && !d.Manual
}

// Err is what a bal.Handler returns for the decision: the integration
// error of a Reject or an Older (sent back in the MDN), nil otherwise (the
// document is filed, already held, or taken in charge by the worklist).
func (d *Decision) Err() error {
	if (d.Outcome == Reject || d.Outcome == Older) && d.Error != nil {
		return *d.Error
	}
	return nil
}

// Has reports whether the decision has a reason with this code.
func (d *Decision) Has(c ReasonCode) bool {
	for _, r := range d.Reasons {
		if r.Code == c {
			return true
		}
	}
	return false
}
