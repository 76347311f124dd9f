// SPDX-License-Identifier: Apache-2.0

package ins_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
)

// Each normalisation rule of CompareTraits, and each rule it refuses to
// apply, with the source the rule rests on (see the CompareTraits doc).
func TestNormalizeNameRules(t *testing.T) {
	for _, c := range []struct{ rule, in, want string }{
		// N1 upper case: INS traits as the national bases return them.
		{"N1", "Dupont", "DUPONT"},
		// N2 diacritics removed: the health insurance bases hold none.
		{"N2", "Hélène", "HELENE"},
		{"N2", "FRANÇOISE", "FRANCOISE"},
		{"N2 decomposed input", "He\u0301le\u0300ne", "HELENE"},
		// N3 ligatures spelled out.
		{"N3", "Lætitia", "LAETITIA"},
		{"N3", "Cœur", "COEUR"},
		{"N3", "Weiß", "WEISS"},
		// N4 apostrophe variants.
		{"N4", "d’Artagnan", "D'ARTAGNAN"},
		{"N4", "Dʼarc", "D'ARC"},
		// N5 spaces trimmed and collapsed (any Unicode space).
		{"N5", "  MARIE \t  LOUISE ", "MARIE LOUISE"},
		{"N5 no-break space", "MARIE\u00a0LOUISE", "MARIE LOUISE"},
		// N6 no space around hyphens and apostrophes.
		{"N6", "JEAN - PIERRE", "JEAN-PIERRE"},
		{"N6", "D' ARTAGNAN", "D'ARTAGNAN"},
		// Refused: a hyphen is not a space (IGREC 1999: Jean-Pierre is one
		// given name, Jean Pierre two).
		{"hyphen kept", "JEAN-PIERRE", "JEAN-PIERRE"},
		{"space kept", "JEAN PIERRE", "JEAN PIERRE"},
		// Refused: the double hyphen of 2004–2011 double names stays.
		{"double hyphen kept", "DUPONT--DURAND", "DUPONT--DURAND"},
		// Refused: no ICAO 9303 folding, other punctuation kept.
		{"apostrophe kept", "N'GUYEN", "N'GUYEN"},
		{"dot kept", "ST. JEAN", "ST. JEAN"},
	} {
		assert.Equal(t, c.want, ins.NormalizeName(c.in), "%s: %q", c.rule, c.in)
	}
}

// A normalised name is returned as is, without allocating: the traits a
// DPI stores as INSi returns them cost nothing to compare.
func TestNormalizeNameFastPath(t *testing.T) {
	for _, s := range []string{"DUPONT", "PIERRE-ALAIN MURIEL FLORIANT", "D'ARTAGNAN", "DUPONT--DURAND", ""} {
		assert.Equal(t, s, ins.NormalizeName(s))
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = ins.NormalizeName(s) }), "%q allocates", s)
	}
	// and the slow path is taken for what is not normalised
	for _, s := range []string{" DUPONT", "DUPONT ", "A  B", "A -B", "A' B", "dupont", "É"} {
		assert.NotEqual(t, s, ins.NormalizeName(s), "%q", s)
	}
}

// referenceNormalize is the rule of ins.NormalizeName written the plain
// way (NFD, drop the combining marks, the ligatures spelt out, upper
// case, spaces collapsed, none around hyphens and apostrophes): the
// second opinion on the fast implementation, on UTF-8 text (a CDA header
// and an INSi answer are XML). It was insi's own implementation before
// insi.NormalizeName became ins.NormalizeName.
func referenceNormalize(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'Œ' || r == 'œ':
			b.WriteString("OE")
		case r == 'Æ' || r == 'æ':
			b.WriteString("AE")
		case r == 'ß':
			b.WriteString("SS")
		case r == '’' || r == 'ʼ' || r == '‘':
			b.WriteByte('\'')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	for _, sep := range []string{"-", "'"} {
		out = strings.ReplaceAll(out, " "+sep, sep)
		out = strings.ReplaceAll(out, sep+" ", sep)
	}
	return out
}

// ins.NormalizeName (fast path and all) agrees with the plain rule on
// UTF-8 text, and insi compares with it: Difference.SpellingOnly of an
// INSi comparison and an Equal of CompareTraits never disagree.
func TestNormalizeNameAgreesWithReference(t *testing.T) {
	for _, s := range normalizeCorpus {
		if utf8.ValidString(s) {
			assert.Equal(t, referenceNormalize(s), ins.NormalizeName(s), "%q", s)
			assert.Equal(t, ins.NormalizeName(s), insi.NormalizeName(s), "%q", s)
		}
	}
}

var normalizeCorpus = []string{
	"", " ", "Dupont", "Hélène", "Lætitia  Œdipe", "Weiß", "d’Artagnan", " JEAN -  PIERRE ", "A - - B",
	"-A-", "' A '", "A\u2009B", "ÅSA", "ĳssel", "Straße", "Ǆemal", "Ωmega", "\xff\xfe", "A\u0301\u0301",
	"MARIE\u00a0LOUISE", "O'  NEIL", "  -  ", "a'-'b",
}

// FuzzNormalizeName: the normalisation is idempotent (invalid UTF-8
// included) and agrees with the plain rule on UTF-8 text.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range normalizeCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := ins.NormalizeName(s)
		if got := ins.NormalizeName(n); got != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, got)
		}
		if want := referenceNormalize(s); utf8.ValidString(s) && n != want {
			t.Fatalf("%q: ins %q, the plain rule %q", s, n, want)
		}
	})
}

// pat is the ANS test patient (K30 DOC_NON_STRUCTURE example).
func pat() ins.Traits {
	return ins.Traits{BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
		BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"}
}

func TestCompareTraitsEqual(t *testing.T) {
	a, b := pat(), pat()
	c := ins.CompareTraits(&a, &b)
	assert.True(t, c.Strict())
	assert.Empty(t, c.Different())
	assert.Empty(t, c.Missing())
	assert.InDelta(t, 1, c.Score(), 1e-12)
	for _, tc := range c.Traits() {
		assert.True(t, tc.Exact, tc.Trait.String())
	}

	// typed locally with case, accents and spacing: equal, not exact
	b.BirthFamilyName, b.BirthGivenNames, b.BirthPlace = "Pat - Trois", "Dominique  Marie-Louise", "51215"
	c = ins.CompareTraits(&a, &b)
	assert.True(t, c.Strict(), c.String())
	assert.False(t, c.Trait(ins.TraitBirthFamilyName).Exact)
	assert.False(t, c.Trait(ins.TraitBirthGivenNames).Exact)
	assert.True(t, c.Trait(ins.TraitBirthPlace).Exact)
}

// Any single strict trait that differs makes the comparison not Strict,
// and only that trait is reported Different.
func TestCompareTraitsOneDifferent(t *testing.T) {
	for tr, change := range map[ins.Trait]func(*ins.Traits){
		ins.TraitBirthFamilyName:     func(x *ins.Traits) { x.BirthFamilyName = "PAT-TRIS" },
		ins.TraitBirthGivenNames:     func(x *ins.Traits) { x.BirthGivenNames = "DOMINIQUE MARIE LOUISE" }, // hyphen vs space
		ins.TraitFirstBirthGivenName: func(x *ins.Traits) { x.FirstBirthGivenName = "DOMINIQUES" },
		ins.TraitBirthDate:           func(x *ins.Traits) { x.BirthDate.Day = 29 },
		ins.TraitSex:                 func(x *ins.Traits) { x.Sex = ins.Male },
		ins.TraitBirthPlace:          func(x *ins.Traits) { x.BirthPlace = "51216" },
	} {
		a, b := pat(), pat()
		change(&b)
		c := ins.CompareTraits(&a, &b)
		assert.False(t, c.Strict(), tr.String())
		assert.Equal(t, []ins.Trait{tr}, c.Different(), tr.String())
		assert.Empty(t, c.Missing(), tr.String())
		assert.Less(t, c.Score(), 1.0, tr.String())
		assert.Greater(t, c.Score(), 0.5, tr.String())
		// symmetric
		r := ins.CompareTraits(&b, &a)
		assert.Equal(t, c, r, tr.String())
	}
}

func TestCompareTraitsMissing(t *testing.T) {
	a, b := pat(), pat()
	b.BirthPlace = ""
	b.Sex = ins.Unknown // U is not a sex that can agree
	b.BirthDate = ins.Date{Year: 1979, Month: 2, Day: 30}
	c := ins.CompareTraits(&a, &b)
	assert.False(t, c.Strict())
	assert.Equal(t, []ins.Trait{ins.TraitBirthDate, ins.TraitSex, ins.TraitBirthPlace}, c.Missing())
	assert.Empty(t, c.Different())

	var zero ins.Comparison // a comparison nobody made
	assert.False(t, zero.Strict())
	assert.Len(t, zero.Missing(), ins.NumTraits)

	c = ins.CompareTraits(nil, &a)
	assert.Len(t, c.Missing(), ins.NumTraits)
	assert.Zero(t, c.Score())
}

func TestCompareTraitsSimilarity(t *testing.T) {
	a, b := pat(), pat()
	// one letter swapped in the family name: OSA distance 1 over 9
	b.BirthFamilyName = "PAT-TRIOS"
	c := ins.CompareTraits(&a, &b)
	assert.InDelta(t, 1-1.0/9, c.Trait(ins.TraitBirthFamilyName).Similarity, 1e-12)

	// day and month swapped
	a.BirthDate, b.BirthDate = ins.Date{Year: 1979, Month: 3, Day: 4}, ins.Date{Year: 1979, Month: 4, Day: 3}
	c = ins.CompareTraits(&a, &b)
	assert.Equal(t, ins.TraitDifferent, c.Trait(ins.TraitBirthDate).Agreement)
	assert.InDelta(t, 2.0/3, c.Trait(ins.TraitBirthDate).Similarity, 1e-12)

	// non-ASCII names (other scripts are not transliterated) still compare
	a.BirthFamilyName, b.BirthFamilyName = "ΠΑΠΑΣ", "ΠΑΠΑΔ"
	c = ins.CompareTraits(&a, &b)
	assert.InDelta(t, 0.8, c.Trait(ins.TraitBirthFamilyName).Similarity, 1e-12)

	// a double name in its 2004 and 2011 spellings: different, close
	a.BirthFamilyName, b.BirthFamilyName = "DUPONT--DURAND", "DUPONT DURAND"
	c = ins.CompareTraits(&a, &b)
	tc := c.Trait(ins.TraitBirthFamilyName)
	assert.Equal(t, ins.TraitDifferent, tc.Agreement)
	assert.Greater(t, tc.Similarity, 0.8)

	// COG in lower case for Corsica is the same place
	a.BirthPlace, b.BirthPlace = "2A004", "2a004"
	c = ins.CompareTraits(&a, &b)
	require.Equal(t, ins.TraitEqual, c.Trait(ins.TraitBirthPlace).Agreement)
	assert.False(t, c.Trait(ins.TraitBirthPlace).Exact)
}

// The score orders candidates: the closer identity scores higher.
func TestCompareTraitsScoreOrders(t *testing.T) {
	a := pat()
	near, far := pat(), pat()
	near.BirthFamilyName = "PAT-TROIX"
	far.BirthFamilyName, far.BirthDate = "DURAND", ins.Date{Year: 1980, Month: 1, Day: 1}
	cn, cf := ins.CompareTraits(&a, &near), ins.CompareTraits(&a, &far)
	assert.Greater(t, cn.Score(), cf.Score())
	assert.Contains(t, cf.String(), "birth family name different")
	assert.NotContains(t, cf.String(), "DURAND", "a comparison carries no value")
}

func TestTraitAndAgreementNames(t *testing.T) {
	assert.Equal(t, "birth place COG", ins.TraitBirthPlace.String())
	assert.Equal(t, "trait?", ins.Trait(99).String())
	assert.Equal(t, "different", ins.TraitDifferent.String())
	assert.Equal(t, "agreement?", ins.Agreement(9).String())
	var c ins.Comparison
	assert.Equal(t, ins.Trait(42), c.Trait(42).Trait)
	assert.Equal(t, ins.TraitMissing, c.Trait(42).Agreement)
}

func BenchmarkCompareTraits(b *testing.B) {
	x, y := pat(), pat()
	y.BirthFamilyName = "Pat-Trois"
	b.ReportAllocs()
	for b.Loop() {
		c := ins.CompareTraits(&x, &y)
		_ = c.Score()
	}
}
