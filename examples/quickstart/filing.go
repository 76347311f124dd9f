// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

// The receiving DPI files the document into the right patient record
// (step 7): package mssante/intake decides, on the recipient's own
// patient index, which record the document belongs to. Kept in its own
// file: the sending side of the quickstart changes independently.

// dpiRecords is the recipient's patient index: the patient as this
// practice identified her (same INS, obtained from INSi and qualified
// here too), and a homonym born another day, who must not receive the
// report.
type dpiRecords struct{ patients []intake.Patient }

func (r *dpiRecords) ByMatricule(_ context.Context, m ins.Matricule) ([]intake.Patient, error) {
	var out []intake.Patient
	for _, p := range r.patients {
		if p.Identity.INS.Matricule == m {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r *dpiRecords) ByTraits(_ context.Context, t *ins.Traits) ([]intake.Patient, error) {
	var out []intake.Patient
	for _, p := range r.patients {
		if ins.NormalizeName(p.Identity.Traits.BirthFamilyName) == ins.NormalizeName(t.BirthFamilyName) ||
			p.Identity.Traits.BirthDate == t.BirthDate {
			out = append(out, p)
		}
	}
	return out, nil
}

// dpiDocuments is the recipient's document store, in memory.
type dpiDocuments struct {
	held  []intake.Held
	filed []intake.Filing
}

func (s *dpiDocuments) Held(_ context.Context, id, setID cda.II) ([]intake.Held, error) {
	var out []intake.Held
	for _, h := range s.held {
		if h.ID == id || h.SetID == setID {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *dpiDocuments) File(_ context.Context, f intake.Filing) error {
	s.filed = append(s.filed, f)
	s.held = append(s.held, intake.Held{ID: f.Document.ID, SetID: f.Document.SetID, Version: f.Document.Version, PatientID: f.Patient.ID})
	return nil
}

// fileIntoPatient decides on the received document and files it: it
// returns the local record it went to and how, or an error (an
// integration error for the MDN when the document is refused, or when it
// would wait in the worklist: the quickstart expects it filed).
func fileIntoPatient(ctx context.Context, m *mssante.Received, cdaDoc []byte, tl trace.Recorder, actor trace.Actor, box trace.Mailbox) (string, error) {
	hdr, err := cda.ReadHeader(bytes.NewReader(cdaDoc), nil)
	if err != nil {
		return "", mssante.IntegrationOther
	}
	doc := intake.FromHeader(m, hdr)
	// The practice's own records: the patient as this practice
	// identified her (typed "Pat-Trois", qualified here with the INS from
	// INSi and her identity card) and a homonym.
	records := &dpiRecords{patients: []intake.Patient{
		{ID: "DUPONT-0042", Identity: patTrois},
		{ID: "DUPONT-0107", Identity: homonym},
	}}
	store := &dpiDocuments{}
	dc, err := intake.New(intake.Config{Patients: records, Documents: store, Trace: tl, Actor: actor, Mailbox: box,
		Software: "gomss quickstart",
		// The ANS test patient (INS-NIR de test) is fictitious: a test
		// platform accepts her, into a fictitious record only. A record
		// the index returns on traits is a candidate from a score of
		// 0.95: the practice's threshold (gomss sets none).
		Policy: intake.Policy{AcceptTestPatients: true, CandidateScore: candidateScore}})
	if err != nil {
		return "", err
	}
	d, err := dc.Process(ctx, &doc)
	if err != nil {
		return "", err
	}
	if err := d.Err(); err != nil {
		return "", err
	}
	if !d.Automatic() || len(store.filed) != 1 {
		var rs []string
		for _, r := range d.Reasons {
			rs = append(rs, r.String())
		}
		return "", fmt.Errorf("%w (not filed: %s)", mssante.IntegrationOther, strings.Join(rs, "; "))
	}
	return fmt.Sprintf("filed into record %s automatically (qualified INS on both sides, strict traits equal); "+
		"homonym DUPONT-0107 born another day not a candidate (score %.2f < %.2f)",
		d.Patient.ID, scoreOf(&doc.Patient.Traits, &homonym.Traits), candidateScore), nil
}

// patTrois is the ANS test patient (TestContenuCDA 3.0, INS-NIR de test)
// as the recipient's DPI holds her; homonym is a provisional record with
// her traits but another birth day.
var patTrois, homonym = func() (ins.Identity, ins.Identity) {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		panic(err) // a constant
	}
	t := ins.Traits{BirthFamilyName: "Pat-Trois", FirstBirthGivenName: "Dominique", BirthGivenNames: "Dominique Marie-Louise",
		BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"}
	h := t
	h.BirthDate.Day = 27
	return ins.Identity{Status: ins.Qualified, INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest}, Traits: t},
		ins.Identity{Status: ins.Provisional, Traits: h}
}()

// candidateScore is the practice's candidate threshold (Policy.CandidateScore).
const candidateScore = 0.95

func scoreOf(a, b *ins.Traits) float64 { return ins.CompareTraits(a, b).Score() }
