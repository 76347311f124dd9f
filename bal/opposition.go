// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// The patient's opposition to a sending. Ségur requires a DPI or LPS to
// record a patient's opposition to the sending of messages about them and
// not to send against it: MSS/va1.20 "Enregistrer l'opposition du patient
// à l'envoi MSS patient" (towards the patient's own Mon espace santé
// mailbox) and MSS/va1.22 "Enregistrer l'opposition du patient à l'envoi
// MSS professionnel" (between professionals), REM MSS vague 1 (as listed
// in the REM-MDV-LGC-Va2 grid, cross-checked in HealthPlatform.Forge
// Docs/analyse-conformite-messagerie.md §3). The ANS reminds that the
// exchange "est soumis à l'information du patient", who "doit être dûment
// informé de son droit d'exercer une opposition à l'échange et au partage
// d'informations le concernant" and "peut exercer ce droit à tout moment"
// (esante.gouv.fr, MSSanté page).
//
// Recording the opposition is the vendor's (its patient file); the SDK
// asks it through Oppositions before anything is sent or queued, and
// refuses a message about a patient who opposed.

// OppositionChannel says which sending an opposition is about.
type OppositionChannel string

// The two sendings a patient may oppose.
const (
	// ToPatient: a message to the patient's Mon espace santé mailbox
	// (<matricule INS>@patient.mssante.fr), MSS/va1.20.
	ToPatient OppositionChannel = "mon-espace-sante"
	// BetweenProfessionals: a message about the patient to professionals,
	// MSS/va1.22.
	BetweenProfessionals OppositionChannel = "professional"
)

// Rule returns the Ségur requirement of the channel.
func (c OppositionChannel) Rule() string {
	if c == ToPatient {
		return "MSS/va1.20"
	}
	return "MSS/va1.22"
}

// OppositionQuery asks the vendor's source about one sending.
type OppositionQuery struct {
	Channel OppositionChannel
	// Patient is the message's patient: the one given to
	// CheckOpposition, else the patient of the documents' CDA header; nil
	// when the message names none.
	Patient *ins.Identity
	// Matricule is the matricule INS of the Mon espace santé address the
	// message goes to (ToPatient), zero otherwise.
	Matricule ins.Matricule
	// MessageID is the message about to be sent.
	MessageID string
}

// Opposition is a patient's recorded opposition.
type Opposition struct {
	// Recorded is when the patient expressed it (zero when unknown).
	Recorded time.Time
	// Note is what the vendor wants said in the refusal (no health data:
	// it goes into the error and the trace).
	Note string
}

// Oppositions is the vendor's record of patients' oppositions.
type Oppositions interface {
	// Opposition returns the patient's opposition to the sending q
	// describes, nil when there is none. An error means the opposition is
	// not known: the message is refused (ErrOppositionUnknown), never sent
	// on a guess.
	Opposition(ctx context.Context, q OppositionQuery) (*Opposition, error)
}

// Errors of the opposition guard, wrapped by the *SendError (Op
// "opposition") that Send, Batch.Send and CheckOpposition return, with an
// *OppositionError.
var (
	// ErrOpposed: the patient opposed this sending; the message was not
	// sent (nor queued). Not temporary.
	ErrOpposed = errors.New("bal: the patient opposed this sending")
	// ErrOppositionUnknown: the opposition source failed; the message was
	// not sent, as if the patient had opposed (fail closed).
	ErrOppositionUnknown = errors.New("bal: the patient's opposition could not be checked")
)

// OppositionError is a refusal by the opposition guard.
type OppositionError struct {
	Channel    OppositionChannel
	Opposition *Opposition // nil when the source failed
	Err        error       // the source's error
}

func (e *OppositionError) Error() string {
	if e.Opposition == nil {
		return fmt.Sprintf("bal: the patient's opposition to this sending (%s) could not be checked: %v", e.Channel.Rule(), e.Err)
	}
	s := "bal: the patient opposed the sending of messages about them "
	if e.Channel == ToPatient {
		s += "to their Mon espace santé mailbox"
	} else {
		s += "between professionals"
	}
	s += " (" + e.Channel.Rule() + ")"
	if !e.Opposition.Recorded.IsZero() {
		s += ", recorded " + e.Opposition.Recorded.Format("2006-01-02")
	}
	if e.Opposition.Note != "" {
		s += ": " + e.Opposition.Note
	}
	return s
}

// Unwrap returns ErrOpposed (or ErrOppositionUnknown) and the source's
// error.
func (e *OppositionError) Unwrap() []error {
	if e.Opposition == nil {
		return []error{ErrOppositionUnknown, e.Err}
	}
	return []error{ErrOpposed}
}

// CheckOpposition asks s.Oppositions about the sending of m: ToPatient
// when a recipient is a Mon espace santé address, BetweenProfessionals
// when another recipient is, both when both are. The patient is patient
// when not nil, else that of m's documents; a message to Mon espace santé
// is also asked about by the matricule of its address. A message naming no
// patient at all (no documents, no patient given, no Mon espace santé
// recipient) is not checked: pass its patient when it is about one. With
// no Oppositions set nothing is checked.
//
// A refusal is a *SendError (Op "opposition", Kind ErrOpposed or
// ErrOppositionUnknown, Err the *OppositionError), traced as a send not
// made with its reason; nothing is sent.
func (s *Sender) CheckOpposition(ctx context.Context, m *mssante.Message, patient *ins.Identity) error {
	if s.Oppositions == nil {
		return nil
	}
	env := m.Envelope()
	if patient == nil && len(m.Documents) > 0 && m.Documents[0].Header != nil {
		patient = m.Documents[0].Header.Patient
	}
	var toPatient, toPro bool
	var mat ins.Matricule
	for _, r := range env.Recipients {
		if mssante.IsPatientAddress(r) {
			toPatient = true
			if mt, err := ins.ParseMonEspaceSanteAddress(r); err == nil && mat.IsZero() {
				mat = mt
			}
		} else {
			toPro = true
		}
	}
	var chans []OppositionChannel
	if toPatient {
		chans = append(chans, ToPatient)
	}
	if toPro && patient != nil {
		chans = append(chans, BetweenProfessionals)
	}
	for _, ch := range chans {
		q := OppositionQuery{Channel: ch, Patient: patient, MessageID: m.MessageID}
		if ch == ToPatient {
			q.Matricule = mat
		}
		op, err := s.Oppositions.Opposition(ctx, q)
		var oe *OppositionError
		switch {
		case err != nil:
			oe = &OppositionError{Channel: ch, Err: err}
		case op != nil:
			oe = &OppositionError{Channel: ch, Opposition: op}
		default:
			continue
		}
		e := &SendError{Op: "opposition", Kind: ErrOpposed, Err: oe}
		if oe.Opposition == nil {
			e.Kind = ErrOppositionUnknown
		}
		s.notSent(ctx, trace.Send, env, m.MessageID, e)
		return e
	}
	return nil
}
