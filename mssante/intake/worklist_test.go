// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

var nurse = trace.Actor{ID: "810000000001", IDType: "IDNPS", Name: "Cellule d'identitovigilance", Auth: trace.AuthCPS}

func (e *env) process(t testing.TB, doc intake.Document) *intake.Decision {
	t.Helper()
	d, err := e.dc.Process(context.Background(), &doc)
	require.NoError(t, err)
	return d
}

// noINSLocal is the real patient's record before its INS was recovered.
func noINSLocal(id string) intake.Patient {
	p := local(id)
	p.Identity.INS, p.Identity.Status = ins.INS{}, ins.Validated
	return p
}

func TestProcessFilesAutomatically(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	d := e.process(t, received())
	require.Equal(t, intake.Integrate, d.Outcome)
	require.Len(t, e.docs.filed, 1)
	f := e.docs.filed[0]
	assert.Equal(t, "IPP1", f.Patient.ID)
	assert.False(t, f.Manual)
	assert.Nil(t, f.Replaces)
	assert.Equal(t, []string{"DECIDE", "FILE", "FILE"}, e.ev.commands())
	assert.Equal(t, trace.PendingText, e.ev.evs[1].Response.Text, "FILE is traced before the store is called")
	assert.True(t, e.ev.evs[2].Response.OK)
	assert.Empty(t, e.dc.Pending())

	// received again (bal.Loop delivers at least once): a duplicate, not
	// filed twice
	d = e.process(t, received())
	assert.Equal(t, intake.Duplicate, d.Outcome)
	assert.Len(t, e.docs.filed, 1)
}

// SC.CDA/MSS.03: the replacement is filed with the version it replaces,
// which the store keeps in the history.
func TestProcessReplaceKeepsHistory(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	v1 := received()
	e.process(t, v1)
	v2 := received()
	v2.ID.Extension, v2.Version, v2.Replaces = "43", 2, &v1.ID
	d := e.process(t, v2)
	require.Equal(t, intake.Replace, d.Outcome, "%v", d.Reasons)
	require.Len(t, e.docs.filed, 2)
	require.NotNil(t, e.docs.filed[1].Replaces)
	assert.Equal(t, v1.ID, e.docs.filed[1].Replaces.ID)
	// and version 1 arriving late is refused
	d = e.process(t, v1)
	assert.Equal(t, intake.Duplicate, d.Outcome)
	v1bis := v1
	v1bis.ID.Extension = "41"
	d = e.process(t, v1bis)
	assert.Equal(t, intake.Older, d.Outcome)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationWrongVersion)
}

// One worklist item per document however many times it comes.
func TestProcessWorklistOnceEach(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	d := e.process(t, received())
	require.Equal(t, intake.Worklist, d.Outcome)
	items := e.dc.Pending()
	require.Len(t, items, 1)
	added := items[0].Added
	e.clk.add(time.Hour)
	e.process(t, received())
	items = e.dc.Pending()
	require.Len(t, items, 1)
	assert.Equal(t, added, items[0].Added)
	assert.Equal(t, added.Add(intake.DefaultRetention), items[0].Expires)
	assert.Equal(t, []string{"DECIDE", "WORKLIST", "DECIDE", "WORKLIST"}, e.ev.commands())
}

// UX.09–12: a person files the item into the record they choose; the
// resolution is traced as theirs.
func TestResolveIntoChosenPatient(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	e.process(t, received())
	key := received().Key()
	d, err := e.dc.Resolve(context.Background(), key, intake.Resolution{Patient: &e.dc.Pending()[0].Decision.Candidates[0].Patient, By: nurse})
	require.NoError(t, err)
	assert.Equal(t, intake.Integrate, d.Outcome)
	assert.True(t, d.Manual)
	assert.False(t, d.Automatic())
	require.Len(t, e.docs.filed, 1)
	assert.True(t, e.docs.filed[0].Manual)
	assert.Empty(t, e.dc.Pending())
	last := e.ev.evs[len(e.ev.evs)-1]
	assert.Equal(t, "FILE", last.Request.Command)
	assert.Equal(t, nurse.ID, last.Actor.ID, "the person's trace")
	assert.Contains(t, e.ev.commands(), "RESOLVE")

	_, err = e.dc.Resolve(context.Background(), key, intake.Resolution{Patient: &intake.Patient{ID: "IPP1"}, By: nurse})
	assert.ErrorIs(t, err, intake.ErrNotPending)
	s := e.dc.Stats()
	assert.Equal(t, 1, s.FiledManually)
	assert.Zero(t, s.FiledAutomatically)
}

// UX.10–11: the patient is unknown; the person creates the record and
// files into it.
func TestResolveIntoCreatedPatient(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil)
	d := e.process(t, received())
	require.True(t, d.Has(intake.NoCandidate))
	created := intake.Patient{ID: "IPP-NEW", Identity: ins.Identity{Status: ins.Provisional, Traits: traitsNessi()}}
	d, err := e.dc.Resolve(context.Background(), received().Key(), intake.Resolution{Patient: &created, By: nurse})
	require.NoError(t, err)
	assert.Equal(t, "IPP-NEW", d.Patient.ID)
	require.Len(t, e.docs.filed, 1)
}

// UX.12, UX.14: the person rejects; the integration error is for the
// sender and counted.
func TestResolveReject(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil)
	e.process(t, received())
	d, err := e.dc.Resolve(context.Background(), received().Key(), intake.Resolution{Reject: mssante.IntegrationINSMismatch, By: nurse})
	require.NoError(t, err)
	assert.Equal(t, intake.Reject, d.Outcome)
	assert.ErrorIs(t, d.Err(), mssante.IntegrationINSMismatch)
	assert.Empty(t, e.docs.filed)
	assert.Empty(t, e.dc.Pending())
	assert.Equal(t, 1, e.dc.Stats().Errors[904])
}

func TestResolveRefusals(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	e.process(t, received())
	key := received().Key()
	ctx := context.Background()
	p := noINSLocal("IPP1")

	_, err := e.dc.Resolve(ctx, key, intake.Resolution{Patient: &p})
	assert.ErrorIs(t, err, intake.ErrResolution, "nobody named")
	_, err = e.dc.Resolve(ctx, key, intake.Resolution{By: nurse})
	assert.ErrorIs(t, err, intake.ErrResolution, "neither patient nor error")

	// a real patient's document never into a test record, even by hand
	test := p
	test.Test = true
	_, err = e.dc.Resolve(ctx, key, intake.Resolution{Patient: &test, By: nurse})
	assert.ErrorIs(t, err, intake.ErrResolution)

	// the store fails: the item stays
	e.docs.fileErr = errDown
	_, err = e.dc.Resolve(ctx, key, intake.Resolution{Patient: &p, By: nurse})
	assert.ErrorIs(t, err, intake.ErrFiling)
	assert.ErrorIs(t, err, errDown)
	assert.Len(t, e.dc.Pending(), 1, "nothing lost")
	assert.Empty(t, e.docs.filed)
}

// A fictitious patient's document on a test platform never joins a real
// record, even by a person's hand.
func TestResolveFictitiousIntoReal(t *testing.T) {
	doc := received()
	doc.Patient.INS = ins.INS{Matricule: matTrois, Authority: ins.AuthorityNIRTest}
	doc.Patient.Traits = traitsTrois()
	e := newEnv(t, intake.Policy{AcceptTestPatients: true}, nil)
	e.process(t, doc)
	realRec := intake.Patient{ID: "IPP1", Identity: ins.Identity{Status: ins.Validated, Traits: traitsTrois()}}
	_, err := e.dc.Resolve(context.Background(), doc.Key(), intake.Resolution{Patient: &realRec, By: nurse})
	assert.ErrorIs(t, err, intake.ErrResolution)
	assert.Len(t, e.dc.Pending(), 1)
}

// A resolution checks the versions again: the document filed meanwhile
// is a Duplicate, not filed twice.
func TestResolveChecksVersions(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	e.process(t, received())
	doc := received()
	e.docs.held = append(e.docs.held, intake.Held{ID: doc.ID, SetID: doc.SetID, Version: 1, PatientID: "IPP1"})
	p := noINSLocal("IPP1")
	d, err := e.dc.Resolve(context.Background(), doc.Key(), intake.Resolution{Patient: &p, By: nurse})
	require.NoError(t, err)
	assert.Equal(t, intake.Duplicate, d.Outcome)
	assert.Empty(t, e.docs.filed)
}

// UX.15: when a local identity is created or changed, the pending
// decisions it concerns are decided again, and filed when they now
// qualify.
func TestUX15RecomputeOnIdentityChange(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	d := e.process(t, received())
	require.Equal(t, intake.Worklist, d.Outcome)

	// another identity changes: the item is not concerned
	other := intake.Patient{ID: "IPP5", Identity: ins.Identity{Traits: traitsTrois()}}
	e.idx.set(noINSLocal("IPP1"), other)
	ds, err := e.dc.Recompute(context.Background(), &other)
	require.NoError(t, err)
	assert.Empty(t, ds)
	assert.Len(t, e.dc.Pending(), 1)

	// IPP1 is qualified with the INS (INSi + identity document)
	q := local("IPP1")
	e.idx.set(q, other)
	ds, err = e.dc.Recompute(context.Background(), &q)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Integrate, ds[0].Outcome, "%v", ds[0].Reasons)
	require.Len(t, e.docs.filed, 1)
	assert.Equal(t, "IPP1", e.docs.filed[0].Patient.ID)
	assert.Empty(t, e.dc.Pending())
	assert.Contains(t, e.ev.commands(), "RECOMPUTE")
}

// UX.15 on creation: no record, then the record is created.
func TestUX15RecomputeOnCreation(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil)
	e.process(t, received())
	created := local("IPP8")
	e.idx.set(created)
	ds, err := e.dc.Recompute(context.Background(), &created)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Integrate, ds[0].Outcome)
}

// The index or the store down: to the worklist, then decided again when
// it is back; a filing that fails is not lost.
func TestRecomputeAfterFailures(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.idx.err = errDown
	d := e.process(t, received())
	require.Equal(t, intake.Worklist, d.Outcome)
	e.idx.err = nil
	ds, err := e.dc.Recompute(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Integrate, ds[0].Outcome)
	assert.Len(t, e.docs.filed, 1)

	e = newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.docs.fileErr = errDown
	d = e.process(t, received())
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.FilingFailed))
	assert.Len(t, e.dc.Pending(), 1)
	assert.Equal(t, 1, e.dc.Stats().FilingFailed)
	e.docs.fileErr = nil
	_, err = e.dc.Recompute(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, e.docs.filed, 1)
	assert.Empty(t, e.dc.Pending())
}

// UX.41: items left beyond the retention are rejected, so the sender is
// told; the error is the policy's.
func TestUX41Retention(t *testing.T) {
	e := newEnv(t, intake.Policy{Retention: 48 * time.Hour, ExpiredError: mssante.IntegrationOther}, nil)
	e.process(t, received())
	e.clk.add(47 * time.Hour)
	ds, err := e.dc.Expire(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ds)
	e.clk.add(time.Hour)
	ds, err = e.dc.Expire(context.Background())
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Reject, ds[0].Outcome)
	assert.True(t, ds[0].Has(intake.Expired))
	assert.ErrorIs(t, ds[0].Err(), mssante.IntegrationOther)
	assert.Equal(t, received().MessageID, ds[0].Document.MessageID, "to answer the sender")
	assert.Empty(t, e.dc.Pending())
	s := e.dc.Stats()
	assert.Equal(t, 1, s.Expired)
	assert.Equal(t, 1, s.Errors[906])
	assert.Equal(t, "EXPIRE", e.ev.evs[len(e.ev.evs)-1].Request.Command)

	// the default: 902 after 30 days
	e = newEnv(t, intake.Policy{}, nil)
	e.process(t, received())
	e.clk.add(intake.DefaultRetention)
	ds, err = e.dc.Expire(context.Background())
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.ErrorIs(t, ds[0].Err(), mssante.IntegrationPatientUnknown)
}

// UX.16–17: statistics by outcome, reason and integration error.
func TestUX16UX17Stats(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	e.process(t, received()) // integrate
	e.process(t, received()) // duplicate
	noID := received()
	noID.ID.Root = ""
	e.process(t, noID) // reject 906
	other := received()
	other.ID.Extension = "77"
	other.SetID = other.ID
	other.Patient.Traits.BirthDate.Day = 1
	e.process(t, other) // worklist
	s := e.dc.Stats()
	assert.Equal(t, map[intake.Outcome]int{intake.Integrate: 1, intake.Duplicate: 1, intake.Reject: 1, intake.Worklist: 1}, s.Outcomes)
	assert.Equal(t, map[int]int{906: 1}, s.Errors)
	assert.Equal(t, 1, s.Reasons[intake.NoDocumentID])
	assert.Equal(t, 1, s.Reasons[intake.TraitsDifferent])
	assert.Equal(t, 1, s.FiledAutomatically)
	assert.Equal(t, 1, s.Pending)
}

// UX.37–38: every step of a received flow is traced, up to its
// integration, with the document and the local patient named and no
// trait, name or INS in the trace.
func TestUX37UX38Trace(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"), noINSLocal("IPP2"))
	e.process(t, received()) // two candidates: worklist
	p := local("IPP1")
	_, err := e.dc.Resolve(context.Background(), received().Key(), intake.Resolution{Patient: &p, By: nurse})
	require.NoError(t, err)
	require.Equal(t, []string{"DECIDE", "WORKLIST", "RESOLVE", "FILE", "FILE"}, e.ev.commands())
	for _, ev := range e.ev.evs {
		assert.Equal(t, trace.Integrate, ev.Action)
		assert.Equal(t, received().MessageID, ev.MessageID)
		assert.Equal(t, received().Key(), ev.Correlation)
		assert.Equal(t, "pfi@ch-test.mssante.fr", ev.Mailbox.Address)
		assert.Contains(t, ev.Request.Params, "document=1.2.250.1.999.1.1^42")
		assert.Contains(t, ev.Request.Params, "version=1")
		assert.NoError(t, ev.Normalize())
	}
	assert.Contains(t, e.ev.evs[1].Request.Params, "reasons=several-candidates")
	assert.Contains(t, e.ev.evs[4].Request.Params, "patient=IPP1")
	assert.Equal(t, "11234567890123", e.ev.evs[0].Actor.ID, "the software decides")
	assert.Equal(t, nurse.ID, e.ev.evs[2].Actor.ID, "the person resolves")
	b, err := json.Marshal(e.ev.evs)
	require.NoError(t, err)
	for _, secret := range []string{"NESSI", "MARIE", "1977", "51215", matNessi.String()} {
		assert.NotContains(t, strings.ToUpper(string(b)), secret, "health data in the trace")
	}
}

// Fail closed: when FILE cannot be traced, nothing is filed.
func TestProcessFailsClosed(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	n := 0
	rec := trace.RecorderFunc(func(ctx context.Context, ev trace.Event) error {
		n++
		if n > 1 {
			return errors.New("disk full")
		}
		return nil
	})
	dc, err := intake.New(intake.Config{Patients: e.idx, Documents: e.docs, Trace: rec, Actor: trace.Actor{ID: "x"}})
	require.NoError(t, err)
	doc := received()
	_, err = dc.Process(context.Background(), &doc)
	assert.ErrorIs(t, err, trace.ErrNotRecorded)
	assert.Empty(t, e.docs.filed)
}

// Restore puts back a worklist kept by the vendor; Recompute decides it.
func TestRestore(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, noINSLocal("IPP1"))
	e.process(t, received())
	kept := e.dc.Pending()

	f := newEnv(t, intake.Policy{}, nil, local("IPP1"))
	f.dc.Restore(append(kept, intake.Item{Key: "no decision"}))
	require.Len(t, f.dc.Pending(), 1)
	assert.Equal(t, kept[0].Added, f.dc.Pending()[0].Added)
	ds, err := f.dc.Recompute(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Integrate, ds[0].Outcome)
}

// The Decider is safe for concurrent use (run with -race).
func TestConcurrentProcess(t *testing.T) {
	e := newEnv(t, intake.Policy{}, nil, local("IPP1"), noINSLocal("IPP2"))
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			doc := received()
			doc.ID.Extension = string(rune('a' + i))
			doc.SetID = doc.ID
			d, err := e.dc.Process(context.Background(), &doc)
			if assert.NoError(t, err) {
				assert.Equal(t, intake.Worklist, d.Outcome)
			}
			_ = e.dc.Pending()
			_ = e.dc.Stats()
		}()
	}
	for range 8 {
		<-done
	}
	assert.Len(t, e.dc.Pending(), 8)
	ds, err := e.dc.Recompute(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, ds, 8)
}
