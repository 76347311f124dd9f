// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Trait names one compared element of an identity.
type Trait uint8

// The compared elements, in the order Comparison reports them.
const (
	TraitBirthFamilyName     Trait = iota // nom de naissance (strict)
	TraitBirthGivenNames                  // liste des prénoms de naissance (strict)
	TraitFirstBirthGivenName              // premier prénom de naissance (given@BR)
	TraitBirthDate                        // date de naissance (strict)
	TraitSex                              // sexe (strict)
	TraitBirthPlace                       // COG du lieu de naissance (strict)
	numTraits
)

// NumTraits is the number of compared elements.
const NumTraits = int(numTraits)

var traitNames = [...]string{"birth family name", "birth given names", "first birth given name", "birth date", "sex", "birth place COG"}

// String names the trait in English, as error messages and traces do.
func (t Trait) String() string {
	if int(t) < len(traitNames) {
		return traitNames[t]
	}
	return "trait?"
}

// Agreement is the outcome of comparing one trait.
type Agreement uint8

// Outcomes of a trait comparison. The zero value is TraitMissing: a
// comparison nobody made never reads as equal.
const (
	// TraitMissing: the trait is absent (or unusable) on one side or both.
	TraitMissing Agreement = iota
	// TraitEqual: equal after NormalizeName (names) or exactly (others).
	TraitEqual
	// TraitDifferent: present on both sides and not equal.
	TraitDifferent
)

var agreementNames = [...]string{"missing", "equal", "different"}

// String returns "missing", "equal" or "different".
func (a Agreement) String() string {
	if int(a) < len(agreementNames) {
		return agreementNames[a]
	}
	return "agreement?"
}

// TraitComparison is the comparison of one trait.
type TraitComparison struct {
	Trait     Trait     // which trait
	Agreement Agreement // equal, different or missing
	// Exact is true when the values are equal as written, before any
	// normalisation (false when the agreement needed N1–N6).
	Exact bool
	// Similarity is in [0, 1]: 1 for Equal, 0 for Missing; for Different
	// names 1 − (optimal string alignment distance / longer length) of the
	// normalised forms; for dates the share of equal components (year,
	// month, day; a day and month swapped counts two of three).
	Similarity float64
}

// Comparison is the trait-by-trait comparison of two identities. It holds
// no trait value (only outcomes), so it may be logged or traced.
type Comparison struct {
	traits [numTraits]TraitComparison
}

// weights of each trait in Score, in Trait order (total 12).
var traitWeights = [numTraits]float64{3, 2, 1, 3, 1, 2}

// Trait returns the comparison of one trait.
func (c Comparison) Trait(t Trait) TraitComparison {
	if int(t) >= NumTraits {
		return TraitComparison{Trait: t}
	}
	return c.traits[t]
}

// Traits returns the six comparisons in Trait order.
func (c Comparison) Traits() []TraitComparison {
	return append([]TraitComparison(nil), c.traits[:]...)
}

// Strict reports whether every compared trait is Equal: the five strict
// traits and the first birth given name. It is the only trait condition
// under which an automatic integration may be considered (RNIV: the
// strict traits identify the person; SC.MSS/UX.07, UX.08).
func (c Comparison) Strict() bool {
	for _, tc := range c.traits {
		if tc.Agreement != TraitEqual {
			return false
		}
	}
	return true
}

// Different returns the traits that differ, in Trait order.
func (c Comparison) Different() []Trait { return c.with(TraitDifferent) }

// Missing returns the traits missing on one side or both, in Trait order.
func (c Comparison) Missing() []Trait { return c.with(TraitMissing) }

func (c Comparison) with(a Agreement) []Trait {
	var out []Trait
	for _, tc := range c.traits {
		if tc.Agreement == a {
			out = append(out, tc.Trait)
		}
	}
	return out
}

// Score is the weighted mean of the traits' similarities, in [0, 1]:
// birth family name and birth date weigh 3, given names list and birth
// place 2, first given name and sex 1. A missing trait counts 0, so a
// sparse identity never scores high. The score orders candidates; its
// thresholds are the establishment's (see CompareTraits).
func (c Comparison) Score() float64 {
	var s, w float64
	for i, tc := range c.traits {
		s += traitWeights[i] * tc.Similarity
		w += traitWeights[i]
	}
	return s / w
}

// String lists the outcome of each trait, without values:
// "birth family name equal, birth given names different, …".
func (c Comparison) String() string {
	var b strings.Builder
	for i, tc := range c.traits {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tc.Trait.String())
		b.WriteByte(' ')
		b.WriteString(tc.Agreement.String())
	}
	return b.String()
}

// CompareTraits compares the traits of two identities (a received one and
// a local one, say) by the rules of identitovigilance (RNIV) below. It is
// symmetric: CompareTraits(a, b) and CompareTraits(b, a) report the same
// agreements and similarities. Nil counts as an identity without traits.
//
// The five strict traits of an identity (traits stricts, RNIV; the INS
// traits of the IG document core) are the birth family name, the birth
// given names (the list), the birth date, the sex and the birth place COG.
// CompareTraits compares them trait by trait, plus the first birth given
// name, which INSi derives from the list and the CDA header carries apart
// (given@BR): six compared elements, each Equal, Different or Missing.
//
// Names are compared after NormalizeName and nothing else. Each rule below
// says what it rests on; a rule that would make two different civil-status
// names equal is not applied, because an automatic integration may follow
// an Equal:
//
//   - N1 upper case, N2 no diacritics (É→E, Ç→C), N3 ligatures spelled out
//     (Œ→OE, Æ→AE, ß→SS): the INS traits are those of the national bases,
//     returned by INSi in upper case without diacritics (esante-bretagne.fr
//     "La gestion de l'INS": "traits d'identité provenant des bases
//     nationales de référence"; answers recorded from the qualification
//     platform in padoa/tlsi-ins, e.g. ListePrenom "PIERRE-ALAIN MURIEL
//     FLORIANT"); INSEE can hold diacritics since 2010 but the health
//     insurance bases that INSi reads do not (accentuez.mon.nom.free.fr,
//     "Dossier INSÉÉ": the carte Vitale is not accented). A local record
//     typed "Hélène" and an INS trait "HELENE" are the same name.
//   - N4 apostrophe variants (’ ‘ ʼ) are the ASCII apostrophe: one sign
//     typed differently by keyboards and word processors.
//   - N5 white space: leading and trailing space removed, runs of spaces
//     (any Unicode space) collapsed to one; N6 no space around a hyphen or
//     an apostrophe ("JEAN - PIERRE" is "JEAN-PIERRE", "D' ARTAGNAN" is
//     "D'ARTAGNAN"): spacing is typing, the characters are the name.
//
// Not applied, on purpose:
//
//   - a hyphen is not a space: since the IGREC of 1999 (instruction
//     générale relative à l'état civil) given names are separated by
//     commas and a composed given name carries a hyphen, so "Jean-Pierre,
//     Philippe" is two given names and "Jean, Pierre, Philippe" three
//     (etat-civil.legibase.fr, "Qu'en est-il de l'inscription des
//     prénoms…"). JEAN-PIERRE and JEAN PIERRE are Different.
//   - a double hyphen is not a space: double family names were written
//     with "--" from the circulaire of 6 December 2004 until the Conseil
//     d'État (4 December 2009, n° 315818) and the circulaire of 25 October
//     2011 replaced it with a single space (banquedesterritoires.fr,
//     de.ambafrance.org). The same person may therefore be DUPONT--DURAND
//     in one base and DUPONT DURAND in another, but no INS text lets a
//     program decide it: they are Different, with a high Similarity, for
//     a person to judge.
//   - apostrophes and hyphens are not dropped or turned into spaces, as
//     the ICAO 9303 transliteration of passports' machine-readable zone
//     does (and signature services that follow it): that is a reading
//     aid for a document, not an identity rule.
//   - no phonetic folding, no abbreviation, no transliteration of other
//     scripts, no reordering of given names; other punctuation is kept.
//
// Dates, sex and place: a birth date is Missing unless it is a calendar
// date (an INSi "date lunaire" such as 1950-00-00 is not one: see
// insi.Result.BirthDateAsReceived), Equal when year, month and day are; sex
// F or M, anything else (U, empty) is Missing; the COG is compared upper
// case (2a is 2A), nothing else: a COG that changed since birth (commune
// nouvelle) is Different, as ins.Identity.Coherence warns.
//
// The similarity score (Comparison.Score) is this package's own measure,
// not a public one: no public numeric tolerance exists for fuzzy matching
// of identities (project reference notes, reception.md). It ranks the
// candidates a person chooses from; any threshold applied to it is the
// establishment's, and nothing in gomss integrates on a score.
func CompareTraits(a, b *Traits) Comparison {
	var c Comparison
	if a == nil {
		a = &Traits{}
	}
	if b == nil {
		b = &Traits{}
	}
	c.traits[TraitBirthFamilyName] = compareName(TraitBirthFamilyName, a.BirthFamilyName, b.BirthFamilyName)
	c.traits[TraitBirthGivenNames] = compareName(TraitBirthGivenNames, a.BirthGivenNames, b.BirthGivenNames)
	c.traits[TraitFirstBirthGivenName] = compareName(TraitFirstBirthGivenName, a.FirstBirthGivenName, b.FirstBirthGivenName)
	c.traits[TraitBirthDate] = compareDate(a.BirthDate, b.BirthDate)
	c.traits[TraitSex] = compareSex(a.Sex, b.Sex)
	c.traits[TraitBirthPlace] = comparePlace(a.BirthPlace, b.BirthPlace)
	return c
}

func compareName(t Trait, a, b string) TraitComparison {
	tc := TraitComparison{Trait: t}
	na, nb := NormalizeName(a), NormalizeName(b)
	switch {
	case na == "" || nb == "":
		return tc
	case na == nb:
		tc.Agreement, tc.Exact, tc.Similarity = TraitEqual, a == b, 1
	default:
		tc.Agreement, tc.Similarity = TraitDifferent, nameSimilarity(na, nb)
	}
	return tc
}

func compareDate(a, b Date) TraitComparison {
	tc := TraitComparison{Trait: TraitBirthDate}
	if !a.Valid() || !b.Valid() {
		return tc
	}
	if a == b {
		tc.Agreement, tc.Exact, tc.Similarity = TraitEqual, true, 1
		return tc
	}
	tc.Agreement = TraitDifferent
	n := 0
	if a.Year == b.Year {
		n++
	}
	if a.Month == b.Month {
		n++
	}
	if a.Day == b.Day {
		n++
	}
	if int(a.Month) == b.Day && a.Day == int(b.Month) {
		n = 2 // day and month swapped: a typing error, still a different date
		if a.Year != b.Year {
			n = 1
		}
	}
	tc.Similarity = float64(n) / 3
	return tc
}

func compareSex(a, b Sex) TraitComparison {
	tc := TraitComparison{Trait: TraitSex}
	known := func(s Sex) bool { return s == Female || s == Male }
	switch {
	case !known(a) || !known(b):
	case a == b:
		tc.Agreement, tc.Exact, tc.Similarity = TraitEqual, true, 1
	default:
		tc.Agreement = TraitDifferent
	}
	return tc
}

func comparePlace(a, b string) TraitComparison {
	tc := TraitComparison{Trait: TraitBirthPlace}
	na, nb := strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case na == "" || nb == "":
	case strings.EqualFold(na, nb):
		tc.Agreement, tc.Exact, tc.Similarity = TraitEqual, a == b, 1
	default:
		tc.Agreement = TraitDifferent
	}
	return tc
}

// NormalizeName returns a name in the form the INS traits are compared
// in: rules N1–N6 of CompareTraits (upper case, no diacritics, ligatures spelled out,
// one apostrophe, single spaces, none around hyphens and apostrophes). It
// returns s itself, without allocating, when s is already in that form.
// Bytes that are not UTF-8 become U+FFFD first (a CDA header, being XML,
// never has any). It is the same normalisation as insi.NormalizeName on
// UTF-8 text (a test holds them equal).
func NormalizeName(s string) string {
	if isNormalName(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var mapped strings.Builder
	mapped.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r): // N2: combining marks left by NFD
		case r == 'Œ' || r == 'œ': // N3
			mapped.WriteString("OE")
		case r == 'Æ' || r == 'æ':
			mapped.WriteString("AE")
		case r == 'ß':
			mapped.WriteString("SS")
		case r == '’' || r == '‘' || r == 'ʼ': // N4
			mapped.WriteByte('\'')
		case unicode.IsSpace(r): // N5
			mapped.WriteByte(' ')
		default: // N1
			mapped.WriteRune(unicode.ToUpper(r))
		}
	}
	// N5 and N6 in one pass: a space is written only before a character
	// that is neither a space, a hyphen nor an apostrophe, and never after
	// a hyphen or an apostrophe or at the start.
	m := mapped.String()
	var b strings.Builder
	b.Grow(len(m))
	pending := false
	var last rune
	for _, r := range m {
		switch {
		case r == ' ':
			pending = b.Len() > 0 && last != '-' && last != '\''
		case r == '-' || r == '\'':
			pending = false
			b.WriteRune(r)
			last = r
		default:
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteRune(r)
			last = r
		}
	}
	return b.String()
}

// isNormalName reports whether s is already normalised and plain ASCII
// (upper-case letters, digits, single inner spaces, no space next to a
// hyphen or an apostrophe): the common case of traits stored as INSi
// returns them.
func isNormalName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '\'':
		case c == ' ':
			if i == 0 || i == len(s)-1 {
				return false
			}
			if p, n := s[i-1], s[i+1]; p == ' ' || p == '-' || p == '\'' || n == ' ' || n == '-' || n == '\'' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// maxFast is the longest name (in bytes) whose distance is computed on the
// stack.
const maxFast = 64

// nameSimilarity is 1 − OSA distance / longer length, on runes.
func nameSimilarity(a, b string) float64 {
	if isASCII(a) && isASCII(b) && len(a) <= maxFast && len(b) <= maxFast {
		d := osaBytes(a, b)
		return 1 - float64(d)/float64(max(len(a), len(b)))
	}
	ra, rb := []rune(a), []rune(b)
	d := osaRunes(ra, rb)
	return 1 - float64(d)/float64(max(len(ra), len(rb)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// osaBytes is the optimal string alignment distance (Levenshtein plus the
// transposition of two adjacent characters) of two ASCII strings of at
// most maxFast bytes, with three rows on the stack.
func osaBytes(a, b string) int {
	var r0, r1, r2 [maxFast + 1]int // rows i-2, i-1, i
	for j := 0; j <= len(b); j++ {
		r1[j] = j
	}
	for i := 1; i <= len(a); i++ {
		r2[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(r1[j]+1, r2[j-1]+1, r1[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, r0[j-2]+1)
			}
			r2[j] = v
		}
		r0, r1 = r1, r2
	}
	return r1[len(b)]
}

func osaRunes(a, b []rune) int {
	r0 := make([]int, len(b)+1)
	r1 := make([]int, len(b)+1)
	r2 := make([]int, len(b)+1)
	for j := range r1 {
		r1[j] = j
	}
	for i := 1; i <= len(a); i++ {
		r2[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(r1[j]+1, r2[j-1]+1, r1[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, r0[j-2]+1)
			}
			r2[j] = v
		}
		r0, r1, r2 = r1, r2, r0
	}
	return r1[len(b)]
}
