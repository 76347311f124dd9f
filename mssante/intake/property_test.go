// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
)

// The property test: over generated identities, documents, local records,
// held versions, verifier answers and policies, no decision integrates
// automatically
//
//   - when any strict trait differs or is missing (RNIV; SC.MSS/UX.07),
//   - when, under the default policy, the INS is not qualified on both
//     sides: the document's complete, consistent with the message, equal
//     to the record's (matricule and authority), the record QUAL
//     (SC.MSS/UX.02, UX.07; UX.08 allows traits only by policy),
//   - when two local records are candidates (SC.MSS/UX.09),
//   - when a fictitious and a real identity meet,
//   - when a configured verifier did not confirm the INS (SC.MSS/UX.03),
//   - and a Replace only into the patient of the version it replaces
//     (SC.CDA/MSS.03).
//
// The truth each check uses is the generator's (which mutation it
// applied), not the package's own comparison. The test also checks that
// automatic integrations do happen, so that the property is not vacuous.

// gen is one generated case and what the generator knows about it.
type gen struct {
	doc      intake.Document
	locals   []intake.Patient
	truth    map[string]localTruth
	held     []intake.Held
	policy   intake.Policy
	verifier *fixedVerifier
	docTrue  docTruth
}

type docTruth struct {
	missing     bool   // a strict trait missing in the document
	insPresent  bool   // the document carries an INS
	insConsist  bool   // X-MSS-INS and patientId agree with it
	fictitious  bool   // the document names a fictitious patient
	replacesPID string // patient of the older version held ("" none)
}

type localTruth struct {
	harmful   bool // a strict trait changed (not a spelling variant)
	missing   bool // a strict trait missing
	sameINS   bool // same matricule and authority as the document's INS
	qualified bool // status QUAL
	fict      bool
}

type fixedVerifier struct {
	v   intake.Verification
	err error
}

func (f *fixedVerifier) VerifyINS(context.Context, ins.Identity) (intake.Verification, error) {
	return f.v, f.err
}

var (
	famPool   = []string{"NESSI", "PAT-TROIS", "D'ARTAGNAN", "DUPONT--DURAND", "LEFEVRE", "N'GUYEN", "MARTIN DUPONT", "EZE"}
	givenPool = []string{"MARIE JEANNE", "JEAN-PIERRE PAUL", "HELENE", "CHLOE MARIE-LOUISE", "ELIE"}
	cogPool   = []string{"51215", "75115", "2A004", "99134", "63220"}
)

// matricules of valid key, built from a NIR whose first digit is the sex.
func genMatricule(r *rand.Rand, sex ins.Sex) ins.Matricule {
	for {
		s := "1"
		if sex == ins.Female {
			s = "2"
		}
		s += fmt.Sprintf("%02d%02d%02d%03d%03d", r.IntN(100), 1+r.IntN(12), 1+r.IntN(95), 1+r.IntN(990), 1+r.IntN(998))
		k, err := ins.ControlKey(s)
		if err != nil {
			continue
		}
		m, err := ins.ParseMatricule(fmt.Sprintf("%s%02d", s, k))
		if err == nil {
			return m
		}
	}
}

// spell returns a spelling variant of a normalised name that
// ins.NormalizeName maps back to it (lower case, accents, spaces around
// hyphens, curly apostrophes, doubled spaces).
func spell(r *rand.Rand, s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == 'E' && r.IntN(3) == 0:
			b.WriteString([]string{"É", "È", "Ê", "é"}[r.IntN(4)])
		case c == 'C' && r.IntN(4) == 0:
			b.WriteString("Ç")
		case c == '-' && r.IntN(3) == 0:
			b.WriteString(" - ")
		case c == '\'' && r.IntN(2) == 0:
			b.WriteString("’")
		case c == ' ' && r.IntN(3) == 0:
			b.WriteString("  ")
		case c >= 'A' && c <= 'Z' && r.IntN(3) == 0:
			b.WriteRune(c + 'a' - 'A')
		default:
			b.WriteRune(c)
		}
	}
	if r.IntN(5) == 0 {
		return " " + b.String() + " "
	}
	return b.String()
}

// harm returns a name that is not the same name: a letter changed or
// dropped, a hyphen made a space, a double hyphen a space, an apostrophe
// dropped.
func harm(r *rand.Rand, s string) string {
	switch {
	case strings.Contains(s, "--") && r.IntN(2) == 0:
		return strings.Replace(s, "--", " ", 1)
	case strings.Contains(s, "-") && r.IntN(2) == 0:
		return strings.Replace(s, "-", " ", 1)
	case strings.Contains(s, "'") && r.IntN(2) == 0:
		return strings.Replace(s, "'", "", 1)
	}
	b := []byte(s)
	var letters []int
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			letters = append(letters, i)
		}
	}
	i := letters[r.IntN(len(letters))]
	if r.IntN(3) == 0 && len(letters) > 1 {
		return string(append(b[:i:i], b[i+1:]...))
	}
	c := b[i]
	for c == b[i] {
		c = byte('A' + r.IntN(26))
	}
	b[i] = c
	return string(b)
}

type person struct {
	t   ins.Traits
	ins ins.INS
}

func genPerson(r *rand.Rand) person {
	given := givenPool[r.IntN(len(givenPool))]
	sex := []ins.Sex{ins.Female, ins.Male}[r.IntN(2)]
	p := person{t: ins.Traits{
		BirthFamilyName:     famPool[r.IntN(len(famPool))],
		BirthGivenNames:     given,
		FirstBirthGivenName: strings.Fields(given)[0],
		BirthDate:           ins.Date{Year: 1930 + r.IntN(90), Month: []time.Month{1, 3, 4, 12}[r.IntN(4)], Day: []int{1, 3, 4, 28}[r.IntN(4)]},
		Sex:                 sex,
		BirthPlace:          cogPool[r.IntN(len(cogPool))],
	}}
	auth := ins.AuthorityNIR
	switch r.IntN(10) {
	case 0:
		auth = ins.AuthorityNIRTest
	case 1:
		auth = ins.AuthorityNIRDemo
	case 2:
		auth = ins.AuthorityNIA
	}
	p.ins = ins.INS{Matricule: genMatricule(r, sex), Authority: auth}
	return p
}

// variant returns the person's traits as another system holds them:
// spelling variants always allowed; with harmful, one strict trait
// changed; with missing, one strict trait absent.
func variant(r *rand.Rand, p ins.Traits, harmful, missing bool) ins.Traits {
	t := p
	t.BirthFamilyName = spell(r, t.BirthFamilyName)
	t.BirthGivenNames = spell(r, t.BirthGivenNames)
	t.FirstBirthGivenName = spell(r, t.FirstBirthGivenName)
	if r.IntN(2) == 0 {
		t.BirthPlace = strings.ToLower(t.BirthPlace)
	}
	if harmful {
		switch r.IntN(6) {
		case 0:
			t.BirthFamilyName = harm(r, p.BirthFamilyName)
		case 1:
			t.BirthGivenNames = harm(r, p.BirthGivenNames)
		case 2:
			t.FirstBirthGivenName = harm(r, p.FirstBirthGivenName)
		case 3:
			switch r.IntN(3) {
			case 0:
				t.BirthDate.Year++
			case 1:
				t.BirthDate.Day = t.BirthDate.Day%28 + 1
			default:
				t.BirthDate.Month, t.BirthDate.Day = time.Month(t.BirthDate.Day), int(t.BirthDate.Month) // swap (or same when equal: then a year)
				if t.BirthDate == p.BirthDate || !t.BirthDate.Valid() {
					t.BirthDate = p.BirthDate
					t.BirthDate.Year--
				}
			}
		case 4:
			if t.Sex == ins.Female {
				t.Sex = ins.Male
			} else {
				t.Sex = ins.Female
			}
		default:
			for c := t.BirthPlace; strings.EqualFold(c, t.BirthPlace); {
				t.BirthPlace = cogPool[r.IntN(len(cogPool))]
			}
		}
	}
	if missing {
		switch r.IntN(6) {
		case 0:
			t.BirthFamilyName = " "
		case 1:
			t.BirthGivenNames = ""
		case 2:
			t.FirstBirthGivenName = ""
		case 3:
			t.BirthDate = ins.Date{}
		case 4:
			t.Sex = []ins.Sex{"", ins.Unknown}[r.IntN(2)]
		default:
			t.BirthPlace = ""
		}
	}
	return t
}

func generate(r *rand.Rand) *gen {
	g := &gen{truth: map[string]localTruth{}}
	// Half the cases are calm: fewer perturbations, so that automatic
	// integrations happen often enough for the property to bite.
	calm := r.IntN(2) == 0
	in := func(k int) int { // r.IntN(k), or k-1 (the "nothing special" branch) most of the time when calm
		if calm && r.IntN(4) != 0 {
			return k - 1
		}
		return r.IntN(k)
	}
	p := genPerson(r)
	other := genMatricule(r, p.t.Sex)
	fict := p.ins.Authority.IsFictitious()

	// The document.
	g.docTrue.missing = r.IntN(8) == 0
	doc := intake.Document{MessageID: "<p@test>", ID: cda.II{Root: "1.2.250.1.999.1.1", Extension: "D1"}, Version: 1 + r.IntN(3),
		Patient: ins.Identity{Traits: variant(r, p.t, false, g.docTrue.missing)}}
	doc.SetID = cda.II{Root: "1.2.250.1.999.1.1", Extension: "S1"}
	switch in(10) {
	case 0, 1: // no INS
	case 2: // another person's INS with these traits
		doc.Patient.INS = ins.INS{Matricule: other, Authority: p.ins.Authority}
		g.docTrue.insPresent = true
	default:
		doc.Patient.INS = p.ins
		g.docTrue.insPresent = true
	}
	g.docTrue.insConsist = true
	switch 7 - in(8) {
	case 0:
		doc.INSHeader = "N"
		if !doc.Patient.INS.IsZero() {
			g.docTrue.insConsist = false
		}
	case 1:
		doc.INSHeader = ""
	default:
		doc.INSHeader = "O"
		if doc.Patient.INS.IsZero() {
			g.docTrue.insConsist = false
		}
	}
	if in(3) == 0 {
		sp := ins.CX{ID: p.ins.Matricule.String(), Authority: string(p.ins.Authority), TypeCode: "NH"}
		if r.IntN(3) == 0 {
			sp.ID = other.String()
		}
		doc.SubmissionPatient = &sp
		if doc.Patient.INS.IsZero() || sp.ID != doc.Patient.INS.Matricule.String() || sp.Authority != string(doc.Patient.INS.Authority) {
			g.docTrue.insConsist = false
		}
	}
	g.doc = doc
	// What the document says: fictitious when its INS or its patientId
	// is of a test or demonstration authority.
	g.docTrue.fictitious = fict && (!doc.Patient.INS.IsZero() || doc.SubmissionPatient != nil)

	// The local records: 0 to 3, each the person under some variant, or
	// a stranger.
	n := r.IntN(4)
	if calm && r.IntN(4) != 0 {
		n = 1
	}
	for i := range n {
		id := fmt.Sprintf("IPP%d", i)
		var lt localTruth
		var t ins.Traits
		if r.IntN(5) == 0 { // a stranger
			q := genPerson(r)
			t, lt.harmful = q.t, true
			// a stranger may still share every trait: then not harmful
			if ins.NormalizeName(q.t.BirthFamilyName) == p.t.BirthFamilyName && q.t.BirthGivenNames == p.t.BirthGivenNames &&
				q.t.FirstBirthGivenName == p.t.FirstBirthGivenName && q.t.BirthDate == p.t.BirthDate && q.t.Sex == p.t.Sex && q.t.BirthPlace == p.t.BirthPlace {
				lt.harmful = false
			}
		} else {
			lt.harmful = in(3) == 1
			lt.missing = in(8) == 1
			t = variant(r, p.t, lt.harmful, lt.missing)
		}
		lp := intake.Patient{ID: id, Identity: ins.Identity{Traits: t}}
		lp.Identity.Status = []ins.Status{ins.Validated, ins.Recovered, ins.Provisional, "", ins.Qualified, ins.Qualified, ins.Qualified}[in(7)]
		lt.qualified = lp.Identity.Status == ins.Qualified
		switch in(6) {
		case 0: // no INS
		case 1: // same matricule, another authority
			a := ins.AuthorityNIA
			if p.ins.Authority == ins.AuthorityNIA {
				a = ins.AuthorityNIR
			}
			lp.Identity.INS = ins.INS{Matricule: p.ins.Matricule, Authority: a}
		case 2:
			lp.Identity.INS = ins.INS{Matricule: other, Authority: p.ins.Authority}
		default:
			lp.Identity.INS = p.ins
		}
		lt.sameINS = !doc.Patient.INS.IsZero() && lp.Identity.INS == doc.Patient.INS
		lp.Test = in(12) == 1
		lt.fict = lp.Test || lp.Identity.INS.Authority.IsFictitious()
		g.locals = append(g.locals, lp)
		g.truth[id] = lt
	}

	// Held versions.
	switch in(6) {
	case 0: // the same id and version
		g.held = []intake.Held{{ID: doc.ID, SetID: doc.SetID, Version: doc.Version, PatientID: "IPP0"}}
	case 1: // an older version of the set
		pid := fmt.Sprintf("IPP%d", r.IntN(3))
		g.held = []intake.Held{{ID: cda.II{Root: doc.ID.Root, Extension: "D0"}, SetID: doc.SetID, Version: doc.Version - 1, PatientID: pid}}
		if doc.Version-1 >= 1 {
			g.docTrue.replacesPID = pid
		}
	case 2: // a newer one
		g.held = []intake.Held{{ID: cda.II{Root: doc.ID.Root, Extension: "D9"}, SetID: doc.SetID, Version: doc.Version + 1, PatientID: "IPP0"}}
	}

	g.policy = intake.Policy{
		AutoOnTraits:       r.IntN(3) == 0,
		AcceptTestPatients: r.IntN(2) == 0,
		CandidateScore:     []float64{0, 0, 0.5, 0.8}[r.IntN(4)],
	}
	switch in(5) {
	case 3:
		g.verifier = &fixedVerifier{v: intake.Verification{Result: intake.Confirmed}}
	case 1:
		g.verifier = &fixedVerifier{v: intake.Verification{Result: []intake.VerifyResult{intake.Contradicted, intake.NotFound, intake.NotVerified}[r.IntN(3)]}}
	case 2:
		g.verifier = &fixedVerifier{err: errors.New("INSi unavailable")}
	}
	return g
}

// oracleCandidates counts, from the index itself, the records the
// decision must see as candidates: by matricule, or by traits with a
// score at least the policy's.
func oracleCandidates(ctx context.Context, idx *memIndex, g *gen) int {
	seen := map[string]bool{}
	if !g.doc.Patient.INS.IsZero() {
		ps, _ := idx.ByMatricule(ctx, g.doc.Patient.INS.Matricule)
		for _, p := range ps {
			seen[p.ID] = true
		}
	}
	ps, _ := idx.ByTraits(ctx, &g.doc.Patient.Traits)
	for _, p := range ps {
		if ins.CompareTraits(&g.doc.Patient.Traits, &p.Identity.Traits).Score() >= g.policy.CandidateScore {
			seen[p.ID] = true
		}
	}
	return len(seen)
}

func TestPropertyNeverWrongInTheDangerousDirection(t *testing.T) {
	n := 12000 // about 1 s, 5 s under the race detector (CI)
	if testing.Short() {
		n = 3000
	}
	r := rand.New(rand.NewPCG(18, 2026))
	ctx := context.Background()
	autos, autosDefault, autosTraits := 0, 0, 0
	for i := range n {
		g := generate(r)
		var v intake.Verifier
		if g.verifier != nil {
			v = g.verifier
		}
		e := newEnv(t, g.policy, v, g.locals...)
		e.docs.held = g.held
		doc := g.doc
		d, err := e.dc.Decide(ctx, &doc)
		require.NoError(t, err)
		if !d.Automatic() {
			continue
		}
		autos++
		fail := func(why string) {
			t.Fatalf("case %d: automatic %v into %s although %s\npolicy %+v\ndoc %+v\nlocals %+v\ntruth %+v\nheld %+v\nreasons %v",
				i, d.Outcome, d.Patient.ID, why, g.policy, g.doc, g.locals, g.truth, g.held, d.Reasons)
		}
		lt, ok := g.truth[d.Patient.ID]
		if !ok {
			fail("the record is not in the index")
		}
		if lt.harmful {
			fail("a strict trait differs")
		}
		if lt.missing || g.docTrue.missing {
			fail("a strict trait is missing")
		}
		if c := oracleCandidates(ctx, e.idx, g); c != 1 {
			fail(fmt.Sprintf("%d local records are candidates", c))
		}
		if g.docTrue.fictitious != lt.fict {
			fail("a fictitious and a real identity meet")
		}
		if g.docTrue.fictitious && !g.policy.AcceptTestPatients {
			fail("the policy accepts no test patient")
		}
		insBoth := g.docTrue.insPresent && g.docTrue.insConsist && lt.sameINS && lt.qualified
		if !g.policy.AutoOnTraits && !insBoth {
			fail("the INS is not qualified on both sides (default policy)")
		}
		if !doc.Patient.INS.IsZero() && !g.docTrue.insConsist {
			fail("the message contradicts the header's INS")
		}
		if g.verifier != nil && !doc.Patient.INS.IsZero() && (g.verifier.err != nil || g.verifier.v.Result != intake.Confirmed) {
			fail("the configured verifier did not confirm")
		}
		if d.Outcome == intake.Replace && d.Replaces.PatientID != d.Patient.ID {
			fail("a replacement into another patient")
		}
		if d.Outcome == intake.Replace && g.docTrue.replacesPID == "" {
			fail("nothing to replace")
		}
		if len(g.held) > 0 && g.held[0].Version >= doc.Version {
			fail("a duplicate or an older version")
		}
		if insBoth {
			autosDefault++
		} else {
			autosTraits++
		}
	}
	// Not vacuous: the generator reaches automatic integrations on both paths.
	t.Logf("%d cases, %d automatic (%d on a qualified INS, %d on traits by policy)", n, autos, autosDefault, autosTraits)
	assert.Greater(t, autosDefault, n/100, "automatic integrations on a qualified INS")
	assert.Greater(t, autosTraits, n/1000, "automatic integrations on traits")
}
