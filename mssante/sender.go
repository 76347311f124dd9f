// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"fmt"
	"strings"
)

// BALKind is the kind of an MSSanté mailbox (boîte aux lettres).
type BALKind int

// Mailbox kinds. A personal BAL belongs to one professional; an
// organisational BAL to a service; an applicative BAL to a software
// (hospital integration platform, PFI).
const (
	Personal BALKind = iota
	Organizational
	Applicative
)

func (k BALKind) String() string {
	switch k {
	case Personal:
		return "PER"
	case Organizational:
		return "ORG"
	case Applicative:
		return "APP"
	}
	return fmt.Sprintf("BALKind(%d)", int(k))
}

// Sender is the mailbox a message is sent from, with what its label is
// made of (Ref#2 ECO.2.2.7, §3.5).
type Sender struct {
	Address string
	Kind    BALKind
	// For a personal BAL: Title (optional, e.g. "Dr"), GivenName and
	// FamilyName (required), Entity (optional functional entity). For an
	// organisational or applicative BAL: Entity (required).
	Title, GivenName, FamilyName, Entity string
}

// Label returns the display name of From: for a personal BAL
// <Titre>_<Prénom>_<NOM>_<Entité fonctionnelle>, underscore separated, NOM
// in upper case, empty optional parts left out; for an organisational or
// applicative BAL <Entité fonctionnelle>.
func (s Sender) Label() string {
	if s.Kind != Personal {
		return oneLine(s.Entity)
	}
	var parts []string
	for _, p := range []string{s.Title, s.GivenName, strings.ToUpper(s.FamilyName), s.Entity} {
		if p = oneLine(p); p != "" {
			parts = append(parts, strings.ReplaceAll(p, " ", "-"))
		}
	}
	return strings.Join(parts, "_")
}

// validate checks the sender's address and the parts its label needs.
func (s Sender) validate() []Problem {
	var ps []Problem
	if err := CheckAddress(s.Address); err != nil {
		ps = append(ps, problem("ECO.2.2.7", "From", "%w", err))
	}
	switch s.Kind {
	case Personal:
		if oneLine(s.GivenName) == "" || oneLine(s.FamilyName) == "" {
			ps = append(ps, Problem{Rule: "ECO.2.2.7", Field: "From", Detail: "a personal BAL label needs the given name and the family name"})
		}
	case Organizational, Applicative:
		if oneLine(s.Entity) == "" {
			ps = append(ps, Problem{Rule: "ECO.2.2.7", Field: "From", Detail: "an organisational or applicative BAL label is its functional entity: Entity is required"})
		}
	default:
		ps = append(ps, Problem{Rule: "ECO.2.2.7", Field: "From", Detail: "unknown BAL kind"})
	}
	return ps
}
