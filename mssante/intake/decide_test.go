// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
)

func codes(d *intake.Decision) []intake.ReasonCode {
	var out []intake.ReasonCode
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// UX.02, UX.07: a qualified INS matching a qualified local INS strictly,
// traits agreeing, is integrated automatically into that record.
func TestUX02UX07AutomaticOnQualifiedINS(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"), intake.Patient{ID: "IPP9", Identity: ins.Identity{Traits: traitsTrois()}})
	d := e.decide(t, received())
	require.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
	assert.True(t, d.Automatic())
	assert.Empty(t, d.Reasons)
	require.NotNil(t, d.Patient)
	assert.Equal(t, "IPP1", d.Patient.ID)
	require.Len(t, d.Candidates, 1)
	assert.Equal(t, intake.INSSame, d.Candidates[0].INS)
	assert.True(t, d.Candidates[0].ByINS)
	assert.NoError(t, d.Err())

	// The local record typed with case and accents: the INS guide's
	// normalisation makes it the same (ins.CompareTraits N1–N6).
	p := local("IPP1")
	p.Identity.Traits.BirthGivenNames = "Marie  Jeanne Michèlle"
	p.Identity.Traits.BirthFamilyName = "Nessi"
	e.idx.set(p)
	d = e.decide(t, received())
	assert.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
}

// UX.07 (RNIV strict traits): any strict trait that differs sends the
// document to the worklist, the trait named.
func TestUX07AnyStrictTraitDiffers(t *testing.T) {
	for tr, change := range map[ins.Trait]func(*ins.Traits){
		ins.TraitBirthFamilyName:     func(x *ins.Traits) { x.BirthFamilyName = "NESSY" },
		ins.TraitBirthGivenNames:     func(x *ins.Traits) { x.BirthGivenNames = "MARIE-JEANNE MICHELLE" },
		ins.TraitFirstBirthGivenName: func(x *ins.Traits) { x.FirstBirthGivenName = "MARIE-JEANNE" },
		ins.TraitBirthDate:           func(x *ins.Traits) { x.BirthDate.Day = 15 },
		ins.TraitSex:                 func(x *ins.Traits) { x.Sex = ins.Male },
		ins.TraitBirthPlace:          func(x *ins.Traits) { x.BirthPlace = "51454" },
	} {
		p := local("IPP1")
		change(&p.Identity.Traits)
		e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p)
		d := e.decide(t, received())
		assert.Equal(t, intake.Worklist, d.Outcome, tr.String())
		assert.False(t, d.Automatic(), tr.String())
		require.True(t, d.Has(intake.TraitsDifferent), "%s: %v", tr, d.Reasons)
		for _, r := range d.Reasons {
			if r.Code == intake.TraitsDifferent {
				assert.Equal(t, []ins.Trait{tr}, r.Traits)
			}
		}
		require.Len(t, d.Candidates, 1, tr.String())
	}
}

// UX.02: the local record holding the INS must be a qualified identity
// with its INS traits.
func TestUX02LocalNotQualified(t *testing.T) {
	for _, st := range []ins.Status{ins.Provisional, ins.Recovered, ins.Validated, ""} {
		p := local("IPP1")
		p.Identity.Status = st
		e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p)
		d := e.decide(t, received())
		assert.Equal(t, intake.Worklist, d.Outcome, "status %q", st)
		assert.Equal(t, []intake.ReasonCode{intake.LocalNotQualified}, codes(d), "status %q", st)
	}
}

// UX.07: same matricule under another assigning authority is not the
// same INS (and keeps test and real patients apart).
func TestUX07SameMatriculeOtherAuthority(t *testing.T) {
	p := local("IPP1")
	p.Identity.INS.Authority = ins.AuthorityNIA
	e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p)
	d := e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.LocalINSDifferent}, codes(d))
}

// SENTINELLE.20: a document with a qualified INS is looked up by its
// INS; when no record holds it, the records found by traits are shown.
func TestSENTINELLE20NoLocalINS(t *testing.T) {
	p := local("IPP7")
	p.Identity.INS = ins.INS{}
	p.Identity.Status = ins.Validated
	e := newEnv(t, intake.Policy{}, nil, p)
	d := e.decide(t, received())
	assert.Equal(t, []ins.Matricule{matNessi}, e.idx.byINS, "looked up by its matricule")
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.NoLocalINS, intake.TraitsOnly}, codes(d))
	require.Len(t, d.Candidates, 1)
	assert.Equal(t, intake.INSNone, d.Candidates[0].INS)
	assert.False(t, d.Candidates[0].ByINS)

	e.idx.set()
	d = e.decide(t, received())
	assert.Equal(t, []intake.ReasonCode{intake.NoLocalINS, intake.NoCandidate}, codes(d), "UX.10-12: create the patient or reject")
	assert.Empty(t, d.Candidates)
}

// UX.05, UX.06, UX.08: without a qualified INS the traits decide, and an
// automatic integration on traits happens only when the policy allows it:
// one record, every strict trait equal.
func TestUX05UX08TraitsOnlyByPolicy(t *testing.T) {
	doc := received()
	doc.Patient.INS, doc.INSHeader = ins.INS{}, "N"
	p := local("IPP1")

	e := newEnv(t, intake.Policy{}, nil, p)
	d := e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.NoINS, intake.TraitsOnly}, codes(d))
	require.Len(t, d.Candidates, 1)

	e = newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p)
	d = e.decide(t, doc)
	require.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
	assert.True(t, d.Automatic())
	assert.Empty(t, d.Reasons)
	assert.Equal(t, "IPP1", d.Patient.ID)

	// a strict trait differs: worklist, the trait named
	q := local("IPP1")
	q.Identity.Traits.BirthDate.Month = 8
	e = newEnv(t, intake.Policy{AutoOnTraits: true}, nil, q)
	d = e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.NoINS, intake.TraitsDifferent}, codes(d))

	// a strict trait missing on the local side: worklist
	q = local("IPP1")
	q.Identity.Traits.BirthPlace = ""
	e = newEnv(t, intake.Policy{AutoOnTraits: true}, nil, q)
	d = e.decide(t, doc)
	assert.Equal(t, []intake.ReasonCode{intake.NoINS, intake.TraitsMissing}, codes(d))

	// a second record with the same traits: worklist
	twin := local("IPP2")
	twin.Identity.INS = ins.INS{}
	e = newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p, twin)
	d = e.decide(t, doc)
	assert.Equal(t, []intake.ReasonCode{intake.NoINS, intake.SeveralCandidates}, codes(d))

	// a document with a qualified INS unknown here, one record without
	// INS, traits equal: integrated on traits by policy only
	noINS := local("IPP1")
	noINS.Identity.INS, noINS.Identity.Status = ins.INS{}, ins.Validated
	e = newEnv(t, intake.Policy{}, nil, noINS)
	d = e.decide(t, received())
	assert.Equal(t, []intake.ReasonCode{intake.NoLocalINS, intake.TraitsOnly}, codes(d))
	e = newEnv(t, intake.Policy{AutoOnTraits: true}, nil, noINS)
	d = e.decide(t, received())
	assert.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
}

// UX.09: two local records that could be the patient: never automatic,
// both shown, the one found by INS first.
func TestUX09SeveralCandidates(t *testing.T) {
	twin := local("IPP2")
	twin.Identity.INS, twin.Identity.Status = ins.INS{}, ins.Provisional // a duplicate record (doublon)
	e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, local("IPP1"), twin)
	d := e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.SeveralCandidates}, codes(d))
	require.Len(t, d.Candidates, 2)
	assert.Equal(t, "IPP1", d.Candidates[0].Patient.ID)

	// A loose match below the establishment's candidate score is not a
	// candidate: the INS decides.
	far := intake.Patient{ID: "IPP3", Identity: ins.Identity{Traits: ins.Traits{BirthFamilyName: "DURAND",
		BirthDate: traitsNessi().BirthDate, Sex: ins.Male}}}
	e = newEnv(t, intake.Policy{CandidateScore: 0.6}, nil, local("IPP1"), far)
	d = e.decide(t, received())
	assert.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
	assert.Len(t, d.Candidates, 1)

	// Without the threshold it is one, and blocks.
	e = newEnv(t, intake.Policy{}, nil, local("IPP1"), far)
	d = e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, "IPP1", d.Candidates[0].Patient.ID, "found by INS first")
}

// Fictitious patients (INS-NIR de test .10, de démonstration .11):
// rejected with 902 unless the policy accepts them, and even then never
// into a real record, nor a real patient into a test record.
func TestFictitiousPatientNeverInRealRecord(t *testing.T) {
	test := received()
	test.Patient.INS = ins.INS{Matricule: matTrois, Authority: ins.AuthorityNIRTest}
	test.Patient.Traits = traitsTrois()
	testRec := intake.Patient{ID: "TEST1", Identity: ins.Identity{Status: ins.Qualified, INS: test.Patient.INS, Traits: traitsTrois()}}

	e := newEnv(t, intake.Policy{}, nil, testRec)
	d := e.decide(t, test)
	assert.Equal(t, intake.Reject, d.Outcome)
	require.NotNil(t, d.Error)
	assert.Equal(t, 902, d.Error.Code)
	var ie mssante.IntegrationError
	require.ErrorAs(t, d.Err(), &ie)
	assert.Equal(t, mssante.IntegrationPatientUnknown, ie)

	// the submission set's patientId alone is enough to know it
	sub := received()
	sub.SubmissionPatient = &ins.CX{ID: matTrois.String(), Authority: string(ins.AuthorityNIRDemo), TypeCode: "NH"}
	d = e.decide(t, sub)
	assert.Equal(t, intake.Reject, d.Outcome)

	// accepted on a test platform: into the test record
	e = newEnv(t, intake.Policy{AcceptTestPatients: true}, nil, testRec)
	d = e.decide(t, test)
	assert.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)

	// never into a real record with the same traits, even on traits
	realRec := intake.Patient{ID: "IPP1", Identity: ins.Identity{Status: ins.Validated, Traits: traitsTrois()}}
	e = newEnv(t, intake.Policy{AcceptTestPatients: true, AutoOnTraits: true}, nil, realRec)
	d = e.decide(t, test)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.FictitiousPatient), "%v", d.Reasons)

	// and a real patient never into a record marked Test
	marked := local("IPP1")
	marked.Test = true
	e = newEnv(t, intake.Policy{AcceptTestPatients: true, AutoOnTraits: true}, nil, marked)
	d = e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.FictitiousPatient))
}

// SC.CDA/MSS.01: the same id and version already integrated is a
// Duplicate (acknowledged, not filed again).
func TestSCCDAMSS01Duplicate(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	doc := received()
	e.docs.held = []intake.Held{{ID: doc.ID, SetID: doc.SetID, Version: 1, PatientID: "IPP1"}}
	d := e.decide(t, doc)
	assert.Equal(t, intake.Duplicate, d.Outcome)
	require.NotNil(t, d.Held)
	assert.NoError(t, d.Err(), "a duplicate is acknowledged as processed")

	// the same id under another version number is a conflict
	doc.Version = 2
	d = e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.VersionConflict))
}

// SC.CDA/MSS.02: an older version than the one held is refused (900).
func TestSCCDAMSS02Older(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	doc := received()
	e.docs.held = []intake.Held{{ID: cda.II{Root: "1.2.250.1.999.1.1", Extension: "43"}, SetID: doc.SetID, Version: 2, PatientID: "IPP1"}}
	d := e.decide(t, doc)
	assert.Equal(t, intake.Older, d.Outcome)
	require.NotNil(t, d.Error)
	assert.Equal(t, mssante.IntegrationWrongVersion, *d.Error)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationWrongVersion)
}

// SC.CDA/MSS.03: a newer version replaces the one held, into the same
// patient, keeping it (Replaces); into another patient: a person decides.
func TestSCCDAMSS03NewerVersion(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	v1 := received()
	v2 := received()
	v2.ID.Extension, v2.Version = "43", 2
	v2.Replaces = &v1.ID
	e.docs.held = []intake.Held{{ID: v1.ID, SetID: v1.SetID, Version: 1, PatientID: "IPP1"}}
	d := e.decide(t, v2)
	require.Equal(t, intake.Replace, d.Outcome, "%v", d.Reasons)
	require.NotNil(t, d.Replaces)
	assert.Equal(t, v1.ID, d.Replaces.ID)
	assert.True(t, d.Automatic())

	e.docs.held[0].PatientID = "IPP0"
	d = e.decide(t, v2)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.Equal(t, []intake.ReasonCode{intake.ReplacesOtherPatient}, codes(d))
	require.NotNil(t, d.Replaces, "the resolution will replace it")

	// same set, same version number, another id: a conflict
	e.docs.held[0].PatientID, e.docs.held[0].Version = "IPP1", 2
	d = e.decide(t, v2)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.VersionConflict))
}

// SC.CDA/MSS.04: the decision carries the document's type and the class
// ASS_X04 deduces from it (FromHeader; see TestFromReceived).

// Ref#2 ECO.2.1.2, ECO.2.4.2: the message must agree with the header on
// the INS.
func TestINSConflicts(t *testing.T) {
	e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, local("IPP1"))
	for name, change := range map[string]func(*intake.Document){
		"X-MSS-INS N with an INS": func(d *intake.Document) { d.INSHeader = "N" },
		"X-MSS-INS O without":     func(d *intake.Document) { d.Patient.INS = ins.INS{} },
		"patientId another INS": func(d *intake.Document) {
			d.SubmissionPatient = &ins.CX{ID: matSix.String(), Authority: string(ins.AuthorityNIR), TypeCode: "NH"}
		},
		"patientId other authority": func(d *intake.Document) {
			d.SubmissionPatient = &ins.CX{ID: matNessi.String(), Authority: string(ins.AuthorityNIA), TypeCode: "NH"}
		},
	} {
		doc := received()
		change(&doc)
		d := e.decide(t, doc)
		assert.Equal(t, intake.Worklist, d.Outcome, name)
		assert.True(t, d.Has(intake.INSConflict), "%s: %v", name, d.Reasons)
	}
	// a local identifier as patientId is no conflict
	doc := received()
	doc.SubmissionPatient = &ins.CX{ID: "123", Authority: "1.2.3.4", TypeCode: "PI"}
	assert.Equal(t, intake.Integrate, e.decide(t, doc).Outcome)
}

// INS/va1.53: an INS comes with its five traits; without them it cannot
// decide (905 when the policy rejects).
func TestINSIncomplete(t *testing.T) {
	doc := received()
	doc.Patient.Traits.BirthPlace = ""
	e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, local("IPP1"))
	d := e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.INSIncomplete))

	e = newEnv(t, intake.Policy{RejectIncompleteINS: true}, nil, local("IPP1"))
	d = e.decide(t, doc)
	assert.Equal(t, intake.Reject, d.Outcome)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationINSIncomplete)
}

func TestRejectWithoutINS(t *testing.T) {
	doc := received()
	doc.Patient.INS, doc.INSHeader = ins.INS{}, "N"
	e := newEnv(t, intake.Policy{RejectWithoutINS: true}, nil, local("IPP1"))
	d := e.decide(t, doc)
	assert.Equal(t, intake.Reject, d.Outcome)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationINSAbsent)
}

// An INS identifier that could not be read (wrong key) is no INS to
// integrate on, whatever the policy.
func TestINSInvalid(t *testing.T) {
	doc := received()
	doc.Patient.INS = ins.INS{}
	doc.PatientErr = errors.New("ins: recordTarget: INS identifier: control key")
	p := local("IPP1")
	p.Identity.INS = ins.INS{}
	e := newEnv(t, intake.Policy{AutoOnTraits: true}, nil, p)
	d := e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.INSInvalid))
}

func TestNoDocumentID(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	doc := received()
	doc.ID = cda.II{}
	d := e.decide(t, doc)
	assert.Equal(t, intake.Reject, d.Outcome)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationOther)
}

// A vendor lookup that fails never integrates: the worklist keeps it for
// Recompute.
func TestLookupFailed(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.idx.err = errDown
	d := e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	require.True(t, d.Has(intake.LookupFailed))
	assert.ErrorIs(t, d.Reasons[0].Err, errDown)

	e = newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.docs.err = errDown
	d = e.decide(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.LookupFailed))
}

func TestNewConfig(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil)
	for name, c := range map[string]intake.Config{
		"no patients":   {Documents: e.docs, Trace: e.ev},
		"no documents":  {Patients: e.idx, Trace: e.ev},
		"no trace":      {Patients: e.idx, Documents: e.docs},
		"no actor":      {Patients: e.idx, Documents: e.docs, Trace: e.ev},
		"score":         {Patients: e.idx, Documents: e.docs, Trace: e.ev, Policy: intake.Policy{CandidateScore: 1.5}},
		"retention":     {Patients: e.idx, Documents: e.docs, Trace: e.ev, Policy: intake.Policy{Retention: -1}},
		"expired error": {Patients: e.idx, Documents: e.docs, Trace: e.ev, Policy: intake.Policy{ExpiredError: mssante.IntegrationError{Code: 42}}},
	} {
		if name != "no actor" && name != "no patients" && name != "no documents" && name != "no trace" {
			c.Actor.ID = "x"
		}
		_, err := intake.New(c)
		assert.ErrorIs(t, err, intake.ErrConfig, name)
	}
}

// A decision whose trace cannot be recorded is not returned: fail closed
// (UX.37-38).
func TestDecideFailsClosed(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.ev.err = errors.New("disk full")
	doc := received()
	d, err := e.dc.Decide(context.Background(), &doc)
	assert.Nil(t, d)
	assert.Error(t, err)
}

func TestNames(t *testing.T) {
	assert.Equal(t, "several-candidates", intake.SeveralCandidates.String())
	assert.Equal(t, "SC.MSS/UX.09", intake.SeveralCandidates.Rule())
	assert.Equal(t, "reason?", intake.ReasonCode(0).String())
	assert.Equal(t, "reason?", intake.ReasonCode(200).String())
	assert.Equal(t, "worklist", intake.Outcome(0).String(), "the zero outcome is the worklist")
	assert.Equal(t, "outcome?", intake.Outcome(99).String())
	assert.Equal(t, "confirmed", intake.Confirmed.String())
	r := intake.Reason{Code: intake.TraitsDifferent, Traits: []ins.Trait{ins.TraitBirthDate, ins.TraitSex}}
	assert.Equal(t, "traits-different (SC.MSS/UX.07): birth date, sex", r.String())
	var zero intake.Decision
	assert.False(t, zero.Automatic())
	assert.NoError(t, zero.Err())
	doc := received()
	assert.Equal(t, "1.2.250.1.999.1.1^42#1", doc.Key())
	doc.Version = 12
	assert.Equal(t, "1.2.250.1.999.1.1^42#12", doc.Key())
}
