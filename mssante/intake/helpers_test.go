// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

// memIndex is a patient index in memory, searching as the PatientIndex
// documentation asks: by matricule, and by traits on the birth date or
// the normalised birth family name.
type memIndex struct {
	mu       sync.Mutex
	patients []intake.Patient
	err      error
	byINS    []ins.Matricule // matricules asked
}

func (x *memIndex) ByMatricule(_ context.Context, m ins.Matricule) ([]intake.Patient, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byINS = append(x.byINS, m)
	if x.err != nil {
		return nil, x.err
	}
	var out []intake.Patient
	for _, p := range x.patients {
		if p.Identity.INS.Matricule == m {
			out = append(out, p)
		}
	}
	return out, nil
}

func (x *memIndex) ByTraits(_ context.Context, t *ins.Traits) ([]intake.Patient, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err != nil {
		return nil, x.err
	}
	var out []intake.Patient
	for _, p := range x.patients {
		lt := &p.Identity.Traits
		if (!t.BirthDate.IsZero() && lt.BirthDate == t.BirthDate) ||
			(t.BirthFamilyName != "" && ins.NormalizeName(lt.BirthFamilyName) == ins.NormalizeName(t.BirthFamilyName)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (x *memIndex) set(ps ...intake.Patient) {
	x.mu.Lock()
	x.patients = ps
	x.mu.Unlock()
}

// memDocs is a document store in memory.
type memDocs struct {
	mu      sync.Mutex
	held    []intake.Held
	filed   []intake.Filing
	err     error // of Held
	fileErr error
}

func (s *memDocs) Held(_ context.Context, id, setID cda.II) ([]intake.Held, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	var out []intake.Held
	for _, h := range s.held {
		if h.ID == id || h.SetID == setID {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *memDocs) File(_ context.Context, f intake.Filing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fileErr != nil {
		return s.fileErr
	}
	s.filed = append(s.filed, f)
	set := f.Document.SetID
	if set.IsZero() {
		set = f.Document.ID
	}
	s.held = append(s.held, intake.Held{ID: f.Document.ID, SetID: set, Version: max(f.Document.Version, 1), PatientID: f.Patient.ID})
	return nil
}

// events records trace events in memory.
type events struct {
	mu  sync.Mutex
	evs []trace.Event
	err error
}

func (e *events) Record(_ context.Context, ev trace.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) commands() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.evs {
		out = append(out, ev.Request.Command)
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a Decider with its fakes.
type env struct {
	idx  *memIndex
	docs *memDocs
	ev   *events
	clk  *clock
	dc   *intake.Decider
}

func newEnv(t testing.TB, p intake.Policy, v intake.Verifier, patients ...intake.Patient) *env {
	t.Helper()
	e := &env{idx: &memIndex{patients: patients}, docs: &memDocs{}, ev: &events{},
		clk: &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}}
	dc, err := intake.New(intake.Config{Patients: e.idx, Documents: e.docs, Verifier: v, Policy: p,
		Trace: e.ev, Actor: trace.Actor{ID: "11234567890123", IDType: "IDNST", Auth: trace.AuthCertificate},
		Mailbox: trace.Mailbox{Address: "pfi@ch-test.mssante.fr", Kind: "APP"}, Software: "gomss intake test", Now: e.clk.Now})
	require.NoError(t, err)
	e.dc = dc
	return e
}

func (e *env) decide(t testing.TB, doc intake.Document) *intake.Decision {
	t.Helper()
	d, err := e.dc.Decide(context.Background(), &doc)
	require.NoError(t, err)
	return d
}

// The ANS test patient of the K30 examples, with an INS-NIR de test, and
// the same traits under a production authority for the real-patient tests.
var (
	matTrois = mustMatricule("279035121518989")
	matSix   = mustMatricule("162018885045327")
	matNessi = mustMatricule("277076322082910")
)

func mustMatricule(s string) ins.Matricule {
	m, err := ins.ParseMatricule(s)
	if err != nil {
		panic(err)
	}
	return m
}

func traitsTrois() ins.Traits {
	return ins.Traits{BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
		BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"}
}

func traitsNessi() ins.Traits {
	return ins.Traits{BirthFamilyName: "NESSI", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE JEANNE MICHELLE",
		BirthDate: ins.Date{Year: 1977, Month: 7, Day: 14}, Sex: ins.Female, BirthPlace: "51215"}
}

// local is a qualified local record of a real patient (production INS-NIR).
func local(id string) intake.Patient {
	return intake.Patient{ID: id, Identity: ins.Identity{Status: ins.Qualified,
		INS: ins.INS{Matricule: matNessi, Authority: ins.AuthorityNIR}, Traits: traitsNessi()}}
}

// received is a document about the real patient, with its INS, as read.
func received() intake.Document {
	return intake.Document{
		MessageID: "<m1@ch-a.mssante.fr>",
		ID:        cda.II{Root: "1.2.250.1.999.1.1", Extension: "42"},
		SetID:     cda.II{Root: "1.2.250.1.999.1.1", Extension: "42"},
		Version:   1,
		Type:      cda.Code{Code: "11488-4"},
		Patient:   ins.Identity{INS: ins.INS{Matricule: matNessi, Authority: ins.AuthorityNIR}, Traits: traitsNessi()},
		INSHeader: "O",
	}
}

var errDown = errors.New("index down")
