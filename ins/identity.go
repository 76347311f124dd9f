// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the identity status of the RNIV (Référentiel national
// d'identitovigilance, exigence EXI SI 07). The zero value means unknown and
// is treated like a provisional identity.
type Status string

// The four RNIV identity statuses.
const (
	Provisional Status = "PROV"  // identité provisoire: no INSi, no document check
	Recovered   Status = "RECUP" // identité récupérée: INSi, no document check
	Validated   Status = "VALI"  // identité validée: document check, no INSi
	Qualified   Status = "QUAL"  // identité qualifiée: INSi and document check
)

// ParseStatus returns the Status for one of the codes PROV, RECUP, VALI, QUAL.
func ParseStatus(code string) (Status, error) {
	switch s := Status(code); s {
	case Provisional, Recovered, Validated, Qualified:
		return s, nil
	}
	return "", fmt.Errorf("ins: identity status %q: want PROV, RECUP, VALI or QUAL", code)
}

// ErrNotQualified is returned by every function that would emit a matricule
// INS for an identity whose status is not QUAL. "Seul le statut Identité
// qualifiée autorise le référencement des données de santé échangées avec le
// matricule INS" (RNIV EXI SI 08).
var ErrNotQualified = errors.New("ins: identity is not qualified (QUAL): the matricule INS may not be emitted")

// ErrNoINS is returned when an identity is qualified but carries no INS.
var ErrNoINS = errors.New("ins: identity carries no INS")

// INS is a matricule INS with its assigning authority.
type INS struct {
	Matricule Matricule
	Authority Authority
}

// IsZero reports whether i holds no matricule.
func (i INS) IsZero() bool { return i.Matricule.IsZero() }

// Validate checks that the matricule is present and the authority is one of
// the four INS authorities.
func (i INS) Validate() error {
	if i.Matricule.IsZero() {
		return ErrNoINS
	}
	if _, err := ParseAuthority(string(i.Authority)); err != nil {
		return err
	}
	return nil
}

// LocalID is a local patient identifier, typically the IPP, with the OID of
// the authority that assigned it (the establishment's OID).
type LocalID struct {
	Value     string
	Authority string // OID
}

// Identity is a patient identity as a sending system holds it: its status,
// its traits, its local identifiers and, when the INSi teleservice returned
// one, its INS.
//
// The INS may be stored at any status, but it is emitted (CDA recordTarget,
// XDS patientId, Mon espace santé address) only when Status is Qualified: all
// emitting functions go through QualifiedINS, which refuses otherwise. Local
// identifiers and traits flow whatever the status.
type Identity struct {
	Status   Status
	INS      INS
	Traits   Traits
	LocalIDs []LocalID // IPP first
}

// QualifiedINS returns the INS if, and only if, the identity is qualified and
// carries a valid INS with complete INS traits. Otherwise it returns an error
// wrapping ErrNotQualified, ErrNoINS, ErrTraits or an authority error.
func (id *Identity) QualifiedINS() (INS, error) {
	if id.Status != Qualified {
		st := string(id.Status)
		if st == "" {
			st = "unknown"
		}
		return INS{}, fmt.Errorf("%w (status %s)", ErrNotQualified, st)
	}
	if err := id.INS.Validate(); err != nil {
		return INS{}, err
	}
	if err := id.Traits.ValidateINSTraits(); err != nil {
		return INS{}, err
	}
	return id.INS, nil
}

// Validate checks the identity as a whole: status known, traits well formed,
// local identifiers complete, and for a qualified identity a valid INS and
// the five INS traits.
func (id *Identity) Validate() error {
	if _, err := ParseStatus(string(id.Status)); err != nil {
		return err
	}
	if err := id.Traits.validateForm(); err != nil {
		return err
	}
	for i, l := range id.LocalIDs {
		if l.Value == "" || l.Authority == "" {
			return fmt.Errorf("ins: local identifier %d: value and authority OID are required", i+1)
		}
		if Authority(l.Authority).IsINS() || l.Authority == OIDINSC {
			return fmt.Errorf("ins: local identifier %d: authority %s is an INS OID, not a local one", i+1, l.Authority)
		}
	}
	if id.Status == Qualified {
		_, err := id.QualifiedINS()
		return err
	}
	return nil
}

// Coherence compares the matricule with the traits and returns the
// discrepancies found (sex, year and month of birth, place of birth). An
// empty result means nothing contradicts. These are warnings for
// identitovigilance, not errors: a NIR keeps the place code in force at
// birth, for example, while the COG trait may have been renamed since.
func (id *Identity) Coherence() []string {
	m := id.INS.Matricule
	if m.IsZero() {
		return nil
	}
	var out []string
	if s := id.Traits.Sex; (s == Female || s == Male) && s != m.Sex() {
		out = append(out, "sex trait differs from the sex digit")
	}
	if d := id.Traits.BirthDate; !d.IsZero() {
		if d.Year%100 != m.BirthYear() {
			out = append(out, "birth year differs from the matricule")
		}
		if mm := m.BirthMonth(); mm >= 1 && mm <= 12 && int(d.Month) != mm {
			out = append(out, "birth month differs from the matricule")
		}
	}
	if p := id.Traits.BirthPlace; p != "" && !strings.EqualFold(p, m.Place().Code) {
		out = append(out, "birth place COG differs from the matricule")
	}
	return out
}

// MonEspaceSanteDomain is the domain of patients' Mon espace santé mailboxes
// (MSS-Citoyenne).
const MonEspaceSanteDomain = "patient.mssante.fr"

// MonEspaceSanteAddress returns the patient's Mon espace santé mailbox,
// <matricule>@patient.mssante.fr. Only a qualified identity has one: the
// address carries the matricule INS.
func (id *Identity) MonEspaceSanteAddress() (string, error) {
	i, err := id.QualifiedINS()
	if err != nil {
		return "", err
	}
	return i.Matricule.String() + "@" + MonEspaceSanteDomain, nil
}
