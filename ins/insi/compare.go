// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"context"
	"fmt"

	"github.com/ecdaf744/gomss/ins"
)

// Trait names a compared element of an identity, by the INSi element it
// corresponds to.
type Trait string

// Traits compared by Compare, in the order it reports them.
const (
	TraitMatricule       Trait = "matricule"
	TraitAuthority       Trait = "OID"
	TraitBirthFamilyName Trait = "NomNaissance"
	TraitFirstGivenName  Trait = "Prenom"
	TraitGivenNames      Trait = "ListePrenom"
	TraitSex             Trait = "Sexe"
	TraitBirthDate       Trait = "DateNaissance"
	TraitBirthPlace      Trait = "LieuNaissance"
)

// Difference is one trait on which the local identity and the INSi answer
// differ. Local and INSi hold the values (health data: show them to the
// user, do not log them; String gives the trait only).
type Difference struct {
	Trait       Trait
	Local, INSi string
	// SpellingOnly is true when the values are equal once NormalizeName is
	// applied to both (case, accents, spaces around hyphens and
	// apostrophes): the local record was typed otherwise, the person is
	// the same on this trait. It is still a difference: the INS traits are
	// stored as INSi returns them.
	SpellingOnly bool
	// Historic is true for TraitMatricule when the local matricule is one
	// of the answer's INSHISTO: the person is the same, the local INS is
	// an old one and must be replaced by the active one.
	Historic bool
}

// String names the trait and the kind of difference, without the values.
func (d Difference) String() string {
	s := string(d.Trait) + " differs"
	switch {
	case d.Historic:
		s += " (local matricule is in the INSi history)"
	case d.SpellingOnly:
		s += " (spelling only)"
	}
	return s
}

// Compare compares an INSi answer with a local identity and returns every
// differing trait, in the order of the Trait constants: the matricule and
// its OID (only when the local identity carries an INS), the five INS
// traits (birth family name, first given name, list of given names, sex,
// birth date, birth place COG). Values are compared exactly; SpellingOnly
// marks differences of spelling (see Difference). An empty result means
// the answer confirms the local identity.
//
// A mismatch is for a person to judge, never to apply silently (INS guide:
// the answer is compared with the local identity and a difference shown to
// the user). Compare of an answer without identity returns nil.
func Compare(answer *Result, local ins.Identity) []Difference {
	if !answer.Found() {
		return nil
	}
	var out []Difference
	if !local.INS.IsZero() {
		lm, am := local.INS.Matricule.String(), answer.INS.Matricule.String()
		if lm != am {
			d := Difference{Trait: TraitMatricule, Local: lm, INSi: am}
			for _, h := range answer.History {
				if h.INS.Matricule.String() == lm {
					d.Historic = true
				}
			}
			out = append(out, d)
		}
		if local.INS.Authority != answer.INS.Authority {
			out = append(out, Difference{Trait: TraitAuthority, Local: string(local.INS.Authority), INSi: string(answer.INS.Authority)})
		}
	}
	lt, at := local.Traits, answer.Traits
	name := func(tr Trait, l, a string) {
		if l != a {
			out = append(out, Difference{Trait: tr, Local: l, INSi: a, SpellingOnly: NormalizeName(l) == NormalizeName(a) && NormalizeName(a) != ""})
		}
	}
	name(TraitBirthFamilyName, lt.BirthFamilyName, at.BirthFamilyName)
	name(TraitFirstGivenName, lt.FirstBirthGivenName, at.FirstBirthGivenName)
	name(TraitGivenNames, lt.BirthGivenNames, at.BirthGivenNames)
	if lt.Sex != at.Sex {
		out = append(out, Difference{Trait: TraitSex, Local: string(lt.Sex), INSi: string(at.Sex)})
	}
	ld, ad := dateString(lt.BirthDate), answer.BirthDateAsReceived
	if !at.BirthDate.IsZero() {
		ad = dateString(at.BirthDate)
	}
	if ld != ad {
		out = append(out, Difference{Trait: TraitBirthDate, Local: ld, INSi: ad})
	}
	if lt.BirthPlace != at.BirthPlace {
		out = append(out, Difference{Trait: TraitBirthPlace, Local: lt.BirthPlace, INSi: at.BirthPlace})
	}
	return out
}

func dateString(d ins.Date) string {
	if d.IsZero() {
		return ""
	}
	return isoDate(d)
}

// NormalizeName returns s in the form of the INS traits (upper case,
// without diacritics, spaces collapsed and removed around hyphens and
// apostrophes): it is ins.NormalizeName, the one rule of the module, and
// how Difference.SpellingOnly compares.
func NormalizeName(s string) string { return ins.NormalizeName(s) }

// Verification is the outcome of Verify.
type Verification struct {
	// Search is the search made with the local traits.
	Search *SearchResult
	// Differences are those Compare found between the answer and the
	// local identity; empty when the INS is verified.
	Differences []Difference
}

// Verified reports whether the answer confirmed the local INS and traits
// exactly.
func (v *Verification) Verified() bool {
	return v != nil && v.Search != nil && v.Search.Result.Found() && len(v.Differences) == 0
}

// Verify checks a local identity that carries an INS against the service:
// the verification of the INS (vérification de l'INS) that the INS
// doctrine requires before an INS received or stored is trusted, for
// example when a document arrives with an INS (Ségur SC.MSS/UX.03).
//
// What it rests on: WSDL 1.5.0 exposes no verification operation (a unit
// verifierInsAvecTraitsIdentite appears in a GIE SESAM-Vitale sample but
// in no published WSDL), and integrators verify by searching with the
// local traits and comparing the answer. Verify does that: Search with
// local.Traits (the strategy, same Correlation), then Compare the CR 00
// answer with local, matricule and OID included. A local matricule found
// in the answer's history is reported (Difference.Historic), not hidden.
//
// The error is that of the search when it found nothing (ErrNotFound,
// ErrSeveralIdentities, a failure): the INS could not be verified, which is
// not the same as wrong. Differences are for a person to judge.
func (c *Client) Verify(ctx context.Context, local ins.Identity) (*Verification, error) {
	if err := local.INS.Validate(); err != nil {
		return nil, fmt.Errorf("insi: Verify: the local identity carries no valid INS: %w", err)
	}
	sr, err := c.search(ctx, local.Traits, newUUID())
	v := &Verification{Search: sr}
	if err != nil {
		if sr == nil {
			return nil, err
		}
		return v, err
	}
	v.Differences = Compare(sr.Result, local)
	return v, nil
}
