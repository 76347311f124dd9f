// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
)

// cdaOf writes a valid level-1 CDA document about p.
func cdaOf(t testing.TB, p *ins.Identity, edit func(*cda.Header)) []byte {
	t.Helper()
	h := testdocs.Header(p, "11488-4", time.Date(2026, 11, 30, 10, 0, 0, 0, testdocs.Paris))
	if edit != nil {
		edit(h)
	}
	var b bytes.Buffer
	require.NoError(t, cda.Write(&b, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(testdocs.PDF("CR", 300))}))
	return b.Bytes()
}

// fuzzIndex is what the fuzzed documents are decided against: the
// qualified records of the test patients of internal/testdocs, a record
// of the ANS test patient without INS, and one marked Test.
func fuzzIndex() []intake.Patient {
	var ps []intake.Patient
	for i, kind := range []string{"test", "nir", "nia", "demo"} {
		p := testdocs.Patient(kind, false)
		ps = append(ps, intake.Patient{ID: "Q" + kind, Identity: *p, Test: i == 3})
	}
	twin := *testdocs.Patient("test", false)
	twin.INS, twin.Status = ins.INS{}, ins.Validated
	ps = append(ps, intake.Patient{ID: "TWIN", Identity: twin})
	return ps
}

// FuzzDecide feeds the decision arbitrary CDA headers (and X-MSS-INS
// values): it never panics, and whatever it decides automatically meets
// the rules the property test checks on generated identities: one
// candidate, every strict trait equal, fictitious with fictitious only,
// and under the default policy a qualified INS on both sides.
func FuzzDecide(f *testing.F) {
	for _, kind := range []string{"test", "nir", "nia", "demo"} {
		f.Add(cdaOf(f, testdocs.Patient(kind, true), nil), "O")
	}
	f.Add(cdaOf(f, testdocs.Patient("nir", true), func(h *cda.Header) {
		h.Version, h.SetID = 3, cda.II{Root: h.ID.Root, Extension: "set"}
		h.Replaces = &cda.II{Root: h.ID.Root, Extension: "v2"}
	}), "O")
	files, err := filepath.Glob(filepath.Join("..", "..", "ins", "testdata", "*.xml"))
	require.NoError(f, err)
	require.NotEmpty(f, files, "the recordTarget fixtures of ins/testdata")
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		require.NoError(f, err)
		f.Add(b, "N")
	}
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/><recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/><patient><name><family qualifier="BR">pat-trois</family><given>Dominique Marie-Louise</given><given qualifier="BR">Dominique</given></name><administrativeGenderCode code="F"/><birthTime value="19790328"/><birthplace><place><addr><county>51215</county></addr></place></birthplace></patient></patientRole></recordTarget></ClinicalDocument>`), "")

	patients := fuzzIndex()
	f.Fuzz(func(t *testing.T, header []byte, insHeader string) {
		doc, err := cda.ReadHeader(bytes.NewReader(header), nil)
		if err != nil || doc == nil {
			return // FromReceived answers 906 (ErrDocument)
		}
		d := intake.FromHeader(nil, doc)
		d.INSHeader = strings.ToUpper(strings.TrimSpace(insHeader))
		for _, p := range []intake.Policy{{}, {AutoOnTraits: true, AcceptTestPatients: true}} {
			e := newEnv(t, p, nil, patients...)
			dec, err := e.dc.Decide(context.Background(), &d)
			require.NoError(t, err)
			require.LessOrEqual(t, int(dec.Outcome), int(intake.Reject), "an outcome out of range")
			if dec.Err() != nil {
				require.NotNil(t, dec.Error)
			}
			if !dec.Automatic() {
				continue
			}
			require.Len(t, dec.Candidates, 1)
			rec := dec.Patient
			require.Equal(t, dec.Candidates[0].Patient.ID, rec.ID)
			c := ins.CompareTraits(&d.Patient.Traits, &rec.Identity.Traits)
			require.True(t, c.Strict(), "automatic with %s", c)
			require.Equal(t, d.Patient.INS.Authority.IsFictitious(), rec.Test || rec.Identity.INS.Authority.IsFictitious())
			if !p.AutoOnTraits {
				require.False(t, d.Patient.INS.IsZero())
				require.Equal(t, d.Patient.INS, rec.Identity.INS)
				_, err := rec.Identity.QualifiedINS()
				require.NoError(t, err)
				require.NoError(t, d.Patient.Traits.ValidateINSTraits())
				require.NotEqual(t, "N", d.INSHeader)
			}
		}
	})
}

// The fuzz seeds reach automatic integration, so the fuzz target's
// checks are exercised from the first run.
func TestFuzzSeedsIntegrate(t *testing.T) {
	doc, err := cda.ReadHeader(bytes.NewReader(cdaOf(t, testdocs.Patient("nir", true), nil)), nil)
	require.NoError(t, err)
	d := intake.FromHeader(nil, doc)
	d.INSHeader = "O"
	e := newEnv(t, intake.Policy{}, nil, fuzzIndex()...)
	dec, err := e.dc.Decide(context.Background(), &d)
	require.NoError(t, err)
	require.True(t, dec.Automatic(), "%v", dec.Reasons)
	require.Equal(t, "Qnir", dec.Patient.ID)
}
