// SPDX-License-Identifier: Apache-2.0

package annuaire

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecdaf744/gomss/internal/address"
)

// BALType is the type of an MSSanté mailbox (boîte aux lettres, BAL), a code
// of TRE_R257-TypeBAL (OID 1.2.250.1.213.3.3.55).
type BALType string

// The four BAL types of TRE_R257. The codes are case-insensitive in the
// terminology; this package always stores them upper case.
const (
	// PER: personal BAL of a person identified in the RPPS.
	PER BALType = "PER"
	// ORG: organisational BAL of a service or team, under a legal entity.
	ORG BALType = "ORG"
	// APP: applicative BAL used by software for automated exchanges.
	APP BALType = "APP"
	// CAB: BAL of a private practice (cabinet), valid since 2023-11-24.
	CAB BALType = "CAB"
)

// ParseBALType returns the BALType for a TRE_R257 code, ignoring case and
// surrounding spaces. It fails with ErrBALType for any other value.
func ParseBALType(s string) (BALType, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "PER":
		return PER, nil
	case "ORG":
		return ORG, nil
	case "APP":
		return APP, nil
	case "CAB":
		return CAB, nil
	}
	return "", fmt.Errorf("%w %q: want PER, ORG, APP or CAB (TRE_R257)", ErrBALType, clip(s))
}

// Digitization is a mailbox owner's dematerialisation preference ("zéro
// papier"): whether documents may be sent to them electronically only.
type Digitization int8

const (
	// DigitizationUnknown: the directory does not say.
	DigitizationUnknown Digitization = iota
	// DigitizationAccepted: the owner accepts electronic-only documents.
	DigitizationAccepted
	// DigitizationRefused: the owner still wants paper.
	DigitizationRefused
)

// String returns "unknown", "accepted" or "refused".
func (d Digitization) String() string {
	switch d {
	case DigitizationAccepted:
		return "accepted"
	case DigitizationRefused:
		return "refused"
	}
	return "unknown"
}

// Code is a coded value with its label as the directory gives it (for
// example profession 10 "Médecin", TRE_G15).
type Code struct {
	Code  string
	Label string
}

// Person is the owner of a personal (PER) or practice (CAB) mailbox as the
// Annuaire Santé publishes it: identifiers, names of practice and
// qualifications. It is zero for ORG and APP mailboxes.
type Person struct {
	// IDType is the TRE_G08 type of ID: "8" RPPS, "0" ADELI…
	IDType string
	// ID is the identifier of that type (RPPS: 11 digits).
	ID string
	// IDNPS is the national identifier: type digit + ID ("8" + RPPS).
	IDNPS string
	// Civility is the civilité d'exercice (for example DR).
	Civility string
	// Family and Given are the nom and prénom d'exercice.
	Family, Given string
	// Category is the catégorie professionnelle (TRE_R09, C = civil).
	Category Code
	// Profession is the profession (TRE_G15, 10 = médecin).
	Profession Code
	// Specialty is the savoir-faire (TRE_R38 and others, SM54 = médecine générale).
	Specialty Code
}

// Structure is the organisation a mailbox is attached to.
type Structure struct {
	// IDType is the TRE_G07 type of ID: "1" FINESS, "2" SIREN, "3" SIRET,
	// "4" RPPS rang…
	IDType string
	// ID is the structure identifier of that type, without the type digit
	// that starts the IDNST the extraction publishes ("750712184" for the
	// extraction's "1750712184" and for the API's FINESS identifier alike).
	// A value of a type whose length is not established (0, cabinet ADELI)
	// is kept as found. StructureIDValid checks it.
	ID string
	// Name is the raison sociale; TradeName the enseigne commerciale.
	Name, TradeName string
	// Address lines as in the extraction (postal lines L2 to L6).
	Complement   string // L2 complément de localisation
	Distribution string // L3 complément de distribution
	Number       string // L4 numéro de voie
	NumberSuffix string // L4 complément du numéro (bis, ter)
	StreetType   string // L4 type de voie
	Street       string // L4 libellé de voie
	Locality     string // L5 lieu-dit, mention
	CityLine     string // L6 ligne d'acheminement (postal code and city)
	PostalCode   string
	Department   string
	Country      string
}

// Source says where a Mailbox came from.
type Source int8

const (
	// FromExtraction: the bulk extraction Extraction_Correspondance_MSSante.
	FromExtraction Source = iota + 1
	// FromAPI: the Annuaire Santé FHIR API.
	FromAPI
)

// String returns "extraction" or "api".
func (s Source) String() string {
	switch s {
	case FromExtraction:
		return "extraction"
	case FromAPI:
		return "api"
	}
	return "unknown"
}

// Mailbox is an MSSanté mailbox as published by the Annuaire Santé, from
// either source: one row of the bulk extraction or one MSSANTE telecom of a
// FHIR resource.
type Mailbox struct {
	Address      string
	Type         BALType
	Service      string // service de rattachement
	Description  string // API only
	Digitization Digitization
	// ListeRouge is true when the API says the mailbox is on the red list
	// (not to be published); the extraction and the public API should
	// not contain such mailboxes.
	ListeRouge bool
	Owner      Person
	Structure  Structure
	Source     Source
	// Line is the 1-based line of the extraction row (0 for the API).
	Line int
	// Resource is "Practitioner/<id>", "PractitionerRole/<id>" or
	// "Organization/<id>" for a mailbox read from the API.
	Resource string
}

// SplitAddress splits an e-mail address into local part and domain. It is
// deliberately simple: exactly one "@", both sides non-empty, no spaces or
// control characters, at most 254 bytes (RFC 5321 path limit).
func SplitAddress(addr string) (local, domain string, err error) {
	if len(addr) > 254 {
		return "", "", fmt.Errorf("%w: %d bytes, more than 254", ErrAddress, len(addr))
	}
	at := strings.IndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || strings.IndexByte(addr[at+1:], '@') >= 0 {
		return "", "", fmt.Errorf("%w %q: want one @ between a local part and a domain", ErrAddress, clip(addr))
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c == 0x7f {
			return "", "", fmt.Errorf("%w %q: space or control character at byte %d", ErrAddress, clip(addr), i+1)
		}
		if c >= utf8.RuneSelf {
			// Unicode spaces, controls and format characters (NBSP,
			// U+2003, U+0085, U+200B, bidi controls) are refused too: an
			// address that shows as another must not pass for it.
			r, size := utf8.DecodeRuneInString(addr[i:])
			if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				return "", "", fmt.Errorf("%w %q: invisible, space or control character at byte %d", ErrAddress, clip(addr), i+1)
			}
			i += size - 1
		}
	}
	return addr[:at], addr[at+1:], nil
}

// Sentinel errors. Errors returned by this package wrap one of them, so that
// callers can branch with errors.Is; the message names the field and value.
var (
	// ErrAddress: not a usable e-mail address. It is the same value as
	// mssante.ErrAddress: an address refused by either package satisfies
	// errors.Is with both names.
	ErrAddress = address.ErrInvalid
	// ErrBALType: not a TRE_R257 BAL type.
	ErrBALType = errors.New("annuaire: invalid BAL type")
)

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// DepartmentOf derives the department from a French postal code, for a
// source that gives none: 97x and 98x overseas (three digits), otherwise the
// first two digits ("20" for Corsica, whose 2A and 2B the postal code does
// not tell apart); "" for a code shorter than two characters. The
// extraction's Département column, when present, is used as given.
func DepartmentOf(postalCode string) string {
	cp := postalCode
	if len(cp) < 2 {
		return ""
	}
	if (cp[:2] == "97" || cp[:2] == "98") && len(cp) >= 3 {
		return cp[:3]
	}
	return cp[:2]
}
