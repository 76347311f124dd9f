// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sex is the sex trait of an identity.
type Sex string

// Values of Sex. An INS carries only F or M (INSi); Unknown ("UN" in CDA) is
// allowed only for an identity that carries no INS.
const (
	Female  Sex = "F"
	Male    Sex = "M"
	Unknown Sex = "U"
)

// Date is a civil date (no time, no zone), as a birth date is.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date written YYYYMMDD (CDA TS, HL7 v2 DT) or YYYY-MM-DD.
// What it returns is Valid: a calendar date of the years 1 to 9999 (year
// 0000, which time.Parse reads, is refused).
func ParseDate(s string) (Date, error) {
	layout := "20060102"
	if strings.Contains(s, "-") {
		layout = "2006-01-02"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("ins: date %q: want YYYYMMDD or YYYY-MM-DD", s)
	}
	d := Date{t.Year(), t.Month(), t.Day()}
	if !d.Valid() {
		return Date{}, fmt.Errorf("ins: date %q: year %04d: want 0001 to 9999", s, d.Year)
	}
	return d, nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// String returns the date as YYYYMMDD (the CDA and HL7 v2 form).
func (d Date) String() string { return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day) }

// Traits are the identity traits of a person. The five INS traits are the
// birth family name, the birth given names (first and list), the birth date,
// the sex and the birth place COG (IG document core, exigences spécifiques).
type Traits struct {
	BirthFamilyName     string // nom de naissance
	FirstBirthGivenName string // premier prénom de l'acte de naissance
	// BirthGivenNames is the list of birth given names, space separated, as
	// returned by the INSi teleservice ("DOMINIQUE MARIE-LOUISE").
	BirthGivenNames string
	BirthDate       Date
	Sex             Sex
	// BirthPlace is the COG (code officiel géographique) of the place of
	// birth: 5 characters, commune code in France, 99 + country code abroad.
	BirthPlace     string
	BirthPlaceName string // optional label of the place (city)
	UsedFamilyName string // optional nom utilisé
	UsedGivenName  string // optional prénom utilisé
}

// ErrTraits is wrapped by every error about identity traits.
var ErrTraits = errors.New("ins: traits")

// ValidateINSTraits checks that the five INS traits are all present and well
// formed, as required wherever a matricule INS is emitted (ANS StrucMin: "les
// traits de l'INS … sont obligatoires"). Errors name the trait, never its value
// (except the COG, a place code).
func (t *Traits) ValidateINSTraits() error {
	var missing []string
	if strings.TrimSpace(t.BirthFamilyName) == "" {
		missing = append(missing, "birth family name")
	}
	if strings.TrimSpace(t.FirstBirthGivenName) == "" {
		missing = append(missing, "first birth given name")
	}
	if strings.TrimSpace(t.BirthGivenNames) == "" {
		missing = append(missing, "birth given names")
	}
	if t.BirthDate.IsZero() {
		missing = append(missing, "birth date")
	}
	if t.Sex == "" {
		missing = append(missing, "sex")
	}
	if t.BirthPlace == "" {
		missing = append(missing, "birth place COG")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrTraits, strings.Join(missing, ", "))
	}
	if t.Sex != Female && t.Sex != Male {
		return fmt.Errorf("%w: sex %q: an INS identity is F or M", ErrTraits, string(t.Sex))
	}
	return t.validateForm()
}

// validateForm checks the traits that are present, whatever the status.
func (t *Traits) validateForm() error {
	if !t.BirthDate.IsZero() && !t.BirthDate.Valid() {
		return fmt.Errorf("%w: birth date is not a calendar date", ErrTraits)
	}
	switch t.Sex {
	case "", Female, Male, Unknown:
	default:
		return fmt.Errorf("%w: sex %q: want F, M or U", ErrTraits, string(t.Sex))
	}
	if t.BirthPlace != "" {
		if err := checkCOG(t.BirthPlace); err != nil {
			return err
		}
	}
	return nil
}

// checkCOG checks the form of a place-of-birth COG: 5 characters, digits
// except 2A/2B for Corsican communes, not starting with 00.
func checkCOG(cog string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: birth place COG %q: %s", ErrTraits, cog, why)
	}
	if len(cog) != 5 {
		return bad("want 5 characters")
	}
	for i := 0; i < 5; i++ {
		if !digitOrCorsica(cog, i, 1) {
			return bad("want digits (2A or 2B for Corsica)")
		}
	}
	if cog[:2] == "00" {
		return bad("department 00 does not exist")
	}
	return nil
}
