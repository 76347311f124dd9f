// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

// records is the DPI's patient index, here in memory. A DPI queries its
// identity repository.
type records []intake.Patient

func (r records) ByMatricule(_ context.Context, m ins.Matricule) ([]intake.Patient, error) {
	var out []intake.Patient
	for _, p := range r {
		if p.Identity.INS.Matricule == m {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r records) ByTraits(_ context.Context, t *ins.Traits) ([]intake.Patient, error) {
	var out []intake.Patient
	for _, p := range r {
		if p.Identity.Traits.BirthDate == t.BirthDate ||
			ins.NormalizeName(p.Identity.Traits.BirthFamilyName) == ins.NormalizeName(t.BirthFamilyName) {
			out = append(out, p)
		}
	}
	return out, nil
}

// store is the DPI's document store, here in memory.
type store struct{ held []intake.Held }

func (s *store) Held(_ context.Context, id, setID cda.II) ([]intake.Held, error) {
	var out []intake.Held
	for _, h := range s.held {
		if h.ID == id || h.SetID == setID {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s *store) File(_ context.Context, f intake.Filing) error {
	fmt.Printf("  store: %s filed under %s\n", f.Document.ID, f.Patient.ID)
	s.held = append(s.held, intake.Held{ID: f.Document.ID, SetID: f.Document.SetID, Version: f.Document.Version, PatientID: f.Patient.ID})
	return nil
}

// A DPI receives a report about a patient it knows by her qualified INS:
// filed automatically. The same report again is a duplicate. A report
// whose birth date differs goes to the worklist, where a person files it.
func ExampleDecider_Process() {
	m, err := ins.ParseMatricule("279035121518989") // the ANS test patient
	if err != nil {
		log.Fatal(err)
	}
	her := ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest}
	traits := ins.Traits{BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
		BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"}
	local := traits
	local.BirthFamilyName = "Pat-Trois" // typed at the desk: the same name (ins.NormalizeName)
	idx := records{{ID: "IPP-0001", Identity: ins.Identity{Status: ins.Qualified, INS: her, Traits: local}}}

	rec := trace.RecorderFunc(func(_ context.Context, e trace.Event) error { return nil }) // a trace.FileLog in a product
	dec, err := intake.New(intake.Config{Patients: idx, Documents: &store{}, Trace: rec,
		Actor:   trace.Actor{ID: "11234567890123", IDType: "IDNST"},
		Mailbox: trace.Mailbox{Address: "pfi@ch-test.mssante.fr"},
		Policy:  intake.Policy{AcceptTestPatients: true}, // a test platform: the ANS test patient is fictitious
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	id := cda.II{Root: "1.2.250.1.999.1.1", Extension: "42"}
	doc := intake.Document{ID: id, SetID: id, Version: 1, INSHeader: "O", Patient: ins.Identity{INS: her, Traits: traits}}

	for i := 0; i < 2; i++ {
		d, err := dec.Process(ctx, &doc)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.Outcome, d.Automatic())
	}

	other := doc
	other.ID.Extension, other.SetID.Extension = "43", "43"
	other.Patient.Traits.BirthDate.Day = 29
	d, err := dec.Process(ctx, &other)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Outcome, d.Reasons[0])
	for _, c := range d.Candidates {
		fmt.Printf("  candidate %s, score %.2f, %s\n", c.Patient.ID, c.Score, c.Comparison.Trait(ins.TraitBirthDate).Agreement)
	}

	// A person (the identitovigilance cell) checks and files it.
	item := dec.Pending()[0]
	p := item.Decision.Candidates[0].Patient
	d, err = dec.Resolve(ctx, item.Key, intake.Resolution{Patient: &p, By: trace.Actor{ID: "810000000001", IDType: "IDNPS"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Outcome, d.Manual, len(dec.Pending()))
	s := dec.Stats()
	fmt.Println("filed:", s.FiledAutomatically, "automatically,", s.FiledManually, "by a person")
	// Output:
	//   store: 1.2.250.1.999.1.1^42 filed under IPP-0001
	// integrate true
	// duplicate false
	// worklist traits-different (SC.MSS/UX.07): birth date
	//   candidate IPP-0001, score 0.92, different
	//   store: 1.2.250.1.999.1.1^43 filed under IPP-0001
	// integrate true 0
	// filed: 1 automatically, 1 by a person
}
