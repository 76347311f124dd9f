// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"context"
	"testing"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/trace"
)

type benchIndex struct{ ps []Patient }

func (x benchIndex) ByMatricule(context.Context, ins.Matricule) ([]Patient, error) { return x.ps, nil }
func (x benchIndex) ByTraits(context.Context, *ins.Traits) ([]Patient, error)      { return x.ps, nil }

type benchDocs struct{}

func (benchDocs) Held(context.Context, cda.II, cda.II) ([]Held, error) { return nil, nil }
func (benchDocs) File(context.Context, Filing) error                   { return nil }

// BenchmarkDecisionOnly is the decision alone, without its trace event
// and statistics (which BenchmarkDecide includes): what identity matching
// and version checks cost.
func BenchmarkDecisionOnly(b *testing.B) {
	m, err := ins.ParseMatricule("277076322082910")
	if err != nil {
		b.Fatal(err)
	}
	id := ins.INS{Matricule: m, Authority: ins.AuthorityNIR}
	t := ins.Traits{BirthFamilyName: "NESSI", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE JEANNE MICHELLE",
		BirthDate: ins.Date{Year: 1977, Month: 7, Day: 14}, Sex: ins.Female, BirthPlace: "51215"}
	p := Patient{ID: "IPP1", Identity: ins.Identity{Status: ins.Qualified, INS: id, Traits: t}}
	dc, err := New(Config{Patients: benchIndex{[]Patient{p}}, Documents: benchDocs{},
		Trace: trace.RecorderFunc(func(context.Context, trace.Event) error { return nil }), Actor: trace.Actor{ID: "x"}})
	if err != nil {
		b.Fatal(err)
	}
	doc := Document{ID: cda.II{Root: "1.2.250.1.999.1.1", Extension: "42"}, Version: 1, INSHeader: "O",
		Patient: ins.Identity{INS: id, Traits: t}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d := dc.decide(ctx, &doc); d.Outcome != Integrate {
			b.Fatal(d.Outcome, d.Reasons)
		}
	}
}
