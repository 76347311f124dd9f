// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"testing"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

// fixedIndex answers with prepared slices: the benchmark measures the
// decision, not the vendor's lookups (which allocate nothing here).
type fixedIndex struct{ byINS, byTraits []intake.Patient }

func (x *fixedIndex) ByMatricule(context.Context, ins.Matricule) ([]intake.Patient, error) {
	return x.byINS, nil
}
func (x *fixedIndex) ByTraits(context.Context, *ins.Traits) ([]intake.Patient, error) {
	return x.byTraits, nil
}

type noDocs struct{}

func (noDocs) Held(context.Context, cda.II, cda.II) ([]intake.Held, error) { return nil, nil }
func (noDocs) File(context.Context, intake.Filing) error                   { return nil }

// BenchmarkDecide: one decision, its trace event (normalised by
// trace.Guard, recorded by a recorder that keeps nothing) and its
// statistics; the vendor's lookups return prepared answers.
func BenchmarkDecide(b *testing.B) {
	typed := local("IPP1")
	typed.Identity.Traits.BirthFamilyName = "Nessi"
	typed.Identity.Traits.BirthGivenNames = "Marie  Jeanne Michèlle"
	twin := noINSLocal("IPP2")
	for _, c := range []struct {
		name string
		idx  *fixedIndex
	}{
		{"integrate", &fixedIndex{byINS: []intake.Patient{local("IPP1")}, byTraits: []intake.Patient{local("IPP1")}}},
		{"integrate-typed-traits", &fixedIndex{byINS: []intake.Patient{typed}, byTraits: []intake.Patient{typed}}},
		{"worklist-two-candidates", &fixedIndex{byINS: []intake.Patient{local("IPP1")}, byTraits: []intake.Patient{local("IPP1"), twin}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			dc, err := intake.New(intake.Config{Patients: c.idx, Documents: noDocs{},
				Trace: trace.RecorderFunc(func(context.Context, trace.Event) error { return nil }),
				Actor: trace.Actor{ID: "11234567890123", IDType: "IDNST"}, Mailbox: trace.Mailbox{Address: "pfi@ch-test.mssante.fr"}})
			if err != nil {
				b.Fatal(err)
			}
			doc := received()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dc.Decide(ctx, &doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
