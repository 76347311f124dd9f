// SPDX-License-Identifier: Apache-2.0

package annuaire

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/internal/ascii"
)

// PatientDomain is the domain of Mon espace santé (MSS-Citoyenne)
// addresses: <matricule INS>@patient.mssante.fr.
const PatientDomain = "patient.mssante.fr"

// Kind classifies a recipient address.
type Kind int8

const (
	// Invalid: not a usable e-mail address.
	Invalid Kind = iota
	// MSSante: a mailbox published in the Annuaire Santé.
	MSSante
	// TrustedDomain: the domain is in the trust space (liste blanche) but
	// the mailbox is not published (red list, too recent for the
	// extraction, or mistyped).
	TrustedDomain
	// Patient: a Mon espace santé address (patient.mssante.fr).
	Patient
	// Unknown: neither published nor in a trusted domain: not an MSSanté
	// address as far as the sources tell.
	Unknown
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case MSSante:
		return "mssante"
	case TrustedDomain:
		return "trusted-domain"
	case Patient:
		return "patient"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// MailboxLookup is an offline source of published mailboxes: LookupAll
// returns every row of an address (none when it is not published), and
// cannot fail. *Index and *Directory satisfy it.
type MailboxLookup interface {
	LookupAll(addr string) []Mailbox
}

// MailboxResolver asks a live source who is behind an address: the
// mailboxes whose address equals addr, none with a nil error when the
// source does not know it. *fhir.Client (package annuaire/fhir) satisfies
// it.
type MailboxResolver interface {
	ResolveMailbox(ctx context.Context, addr string) ([]Mailbox, error)
}

// TrustList says whether a domain, or the domain of an address, is in the
// MSSanté trust space. *listeblanche.List (package annuaire/listeblanche)
// satisfies it.
type TrustList interface {
	Trusted(addrOrDomain string) bool
}

// Resolver finds who is behind an MSSanté address: the offline source
// first, then the API for what the extraction does not have. Any field may
// be nil: a Resolver with only Offline works offline; with only API it asks
// the API every time. Checking the trust space needs Trust. A field holding
// a nil pointer is a source that knows nothing, not an absent one.
//
// The sources are interfaces so that this package imports none of its
// subpackages (they import it): a program plugs in a *Directory, a
// *fhir.Client and a *listeblanche.List, a test its own fakes.
type Resolver struct {
	Offline MailboxLookup
	API     MailboxResolver
	Trust   TrustList
}

// Resolve returns the mailboxes of an address (several when it is linked
// to several structures). ok is false when no source knows it. An error
// comes from the API only (the offline lookup cannot fail).
func (r *Resolver) Resolve(ctx context.Context, addr string) (ms []Mailbox, ok bool, err error) {
	if _, _, err := SplitAddress(addr); err != nil {
		return nil, false, err
	}
	if r.Offline != nil {
		if ms := r.Offline.LookupAll(addr); len(ms) > 0 {
			return ms, true, nil
		}
	}
	if r.API != nil {
		ms, err := r.API.ResolveMailbox(ctx, addr)
		if err != nil {
			return nil, false, err
		}
		return ms, len(ms) > 0, nil
	}
	return nil, false, nil
}

// Verdict is the outcome of checking one recipient.
type Verdict struct {
	Address string
	Kind    Kind
	// Trusted is true when the address's domain is in the liste blanche.
	Trusted bool
	// Mailboxes are the published rows of the address (Kind MSSante).
	Mailboxes []Mailbox
	// Reason says why, in words a user can act on.
	Reason string
	// Err is set when a source could not answer (the API failed); Kind
	// is then decided from the other sources.
	Err error
}

// Check checks each recipient: a published MSSanté mailbox in a trusted
// domain, a patient address, or unknown, each with the reason. Checks go
// on after an API error, which is recorded in that recipient's Verdict.
func (r *Resolver) Check(ctx context.Context, addrs []string) []Verdict {
	out := make([]Verdict, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, r.check(ctx, strings.TrimSpace(a)))
	}
	return out
}

func (r *Resolver) check(ctx context.Context, addr string) Verdict {
	v := Verdict{Address: addr}
	local, domain, err := SplitAddress(addr)
	if err != nil {
		v.Kind, v.Reason, v.Err = Invalid, err.Error(), err
		return v
	}
	if ascii.EqualFold(domain, PatientDomain) { // not strings.EqualFold: "ſ" (U+017F) is not "s"
		v.Kind = Patient
		if isMatriculeShape(local) {
			v.Reason = "Mon espace santé address of a patient (matricule INS @ " + PatientDomain + ")"
		} else {
			v.Reason = fmt.Sprintf("Mon espace santé domain, but the local part %q is not a 15-character matricule INS", clip(local))
		}
		return v
	}
	trustKnown := r.Trust != nil
	v.Trusted = trustKnown && r.Trust.Trusted(domain)
	ms, ok, err := r.Resolve(ctx, addr)
	v.Err = err
	switch {
	case ok:
		v.Kind, v.Mailboxes = MSSante, ms
		m := ms[0]
		who := string(m.Type) + " mailbox"
		switch {
		case m.Owner.Family != "":
			who += " of " + strings.TrimSpace(m.Owner.Given+" "+m.Owner.Family)
			if m.Owner.Profession.Label != "" {
				who += ", " + m.Owner.Profession.Label
			}
		case m.Structure.Name != "":
			who += " of " + m.Structure.Name
		}
		if m.Service != "" {
			who += " (" + m.Service + ")"
		}
		src := "the bulk extraction"
		if m.Source == FromAPI {
			src = "the Annuaire Santé API"
		}
		switch {
		case v.Trusted:
			v.Reason = "published in " + src + " as " + who + "; domain in the liste blanche"
		case trustKnown:
			v.Reason = "published in " + src + " as " + who + ", but the domain " + domain + " is not in the liste blanche"
		default:
			v.Reason = "published in " + src + " as " + who + " (liste blanche not loaded)"
		}
		if m.ListeRouge {
			v.Reason += "; on the red list"
		}
	case v.Trusted:
		v.Kind = TrustedDomain
		v.Reason = "domain " + domain + " is in the liste blanche, but the mailbox is not published in the Annuaire Santé"
	default:
		v.Kind = Unknown
		switch {
		case trustKnown:
			v.Reason = "not published in the Annuaire Santé and the domain " + domain + " is not in the liste blanche: not an MSSanté address"
		default:
			v.Reason = "not published in the Annuaire Santé (liste blanche not loaded)"
		}
	}
	if err != nil {
		v.Reason += fmt.Sprintf(" [API unavailable: %v]", err)
	}
	return v
}

// isMatriculeShape checks the form of a matricule INS: 15 characters,
// digits except 2A/2B at positions 6–7 (the full rules and the key are
// checked by package ins).
func isMatriculeShape(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := 0; i < 15; i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			continue
		}
		if i == 6 && (c == 'A' || c == 'B') && s[5] == '2' {
			continue
		}
		return false
	}
	return true
}
