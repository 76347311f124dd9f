// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"fmt"
	"time"

	"github.com/ecdaf744/gomss/mssante"
)

// Policy is an establishment's integration rules (SC.MSS/UX.06: "règles
// d'intégration paramétrables par établissement"). The zero value is the
// strictest: automatic integration only on a qualified INS matching a
// qualified local INS with every strict trait equal (SC.MSS/UX.02, UX.07);
// everything else to the worklist.
type Policy struct {
	// AutoOnTraits allows automatic integration of a document into the
	// one local record whose strict traits are all equal, when the INS
	// cannot decide (SC.MSS/UX.05, UX.08: "seulement si le paramétrage le
	// permet"). Off by default. Even on, a document whose INS is invalid,
	// incomplete, conflicting or contradicted by INSi, a record holding
	// another INS, and two candidates all go to the worklist.
	AutoOnTraits bool
	// CandidateScore is the least ins.Comparison score for a record that
	// ByTraits returned to count as a candidate, in [0, 1]. A record
	// found by matricule is always a candidate. 0 keeps every record the
	// index returned. The score is gomss's own measure (ins.CompareTraits)
	// and the threshold the establishment's: no public tolerance exists.
	CandidateScore float64
	// AcceptTestPatients lets documents about fictitious patients (INS-NIR
	// de test or de démonstration) be filed into fictitious records, as on
	// an operator's test platform. Off, they are rejected with 902. On or
	// off, a fictitious patient's document never goes into a real record,
	// nor a real patient's into a fictitious one.
	AcceptTestPatients bool
	// RejectWithoutINS rejects a document that carries no INS with 903
	// instead of sending it to the worklist.
	RejectWithoutINS bool
	// RejectIncompleteINS rejects a document whose INS lacks traits with
	// 905 instead of sending it to the worklist.
	RejectIncompleteINS bool
	// Retention is the longest an item waits in the worklist
	// (SC.MSS/UX.41); DefaultRetention when zero.
	Retention time.Duration
	// ExpiredError is the integration error an expired item is rejected
	// with; 902 ("Identifiant patient inconnu") when zero.
	ExpiredError mssante.IntegrationError
}

// DefaultRetention is the worklist retention when Policy.Retention is
// zero: 30 days. It is gomss's choice, not a published figure (SC.MSS/UX.41
// asks for a maximum, without a value); set the establishment's own.
const DefaultRetention = 30 * 24 * time.Hour

func (p *Policy) retention() time.Duration {
	if p.Retention > 0 {
		return p.Retention
	}
	return DefaultRetention
}

func (p *Policy) expiredError() mssante.IntegrationError {
	if p.ExpiredError.Code != 0 {
		return p.ExpiredError
	}
	return mssante.IntegrationPatientUnknown
}

func (p *Policy) validate() error {
	if p.CandidateScore < 0 || p.CandidateScore > 1 || p.CandidateScore != p.CandidateScore {
		return fmt.Errorf("%w: Policy.CandidateScore %v: want a score in [0, 1]", ErrConfig, p.CandidateScore)
	}
	if p.Retention < 0 {
		return fmt.Errorf("%w: Policy.Retention %v is negative", ErrConfig, p.Retention)
	}
	if c := p.ExpiredError.Code; c != 0 {
		if _, ok := mssante.IntegrationErrorFor(c); !ok {
			return fmt.Errorf("%w: Policy.ExpiredError code %d is not an integration error (900-906)", ErrConfig, c)
		}
	}
	return nil
}
