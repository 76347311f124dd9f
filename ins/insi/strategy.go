// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
)

// Attempt is one call made by Search: what was tried and what came back.
// Query holds the patient's traits: show it to the user, do not log it.
type Attempt struct {
	Query TraitsQuery
	// Result is the answer (nil after a failure).
	Result *Result
	// Err is nil for CR 00, wraps ErrNotFound or ErrSeveralIdentities for
	// CR 01 or 02, or is the failure (*Fault, transport…).
	Err error
}

// SearchResult is the outcome of Search: every attempt in order, and the
// CR 00 answer when one came.
type SearchResult struct {
	// Correlation identifies the search in the Call records of its
	// attempts.
	Correlation string
	Attempts    []Attempt
	// Result is the CR 00 answer, nil when none came.
	Result *Result
	// BirthPlaceSent reports whether the queries carried the COG.
	BirthPlaceSent bool
}

// Search looks a person up by traits with the strategy integrators
// implement (padoa/tlsi-ins INSiPerson.getSoapBodyAsJson and its client
// loop; ANS/GRADeS "conduite à tenir" via esante-bretagne.fr):
//
//  1. the first birth given name alone;
//  2. then each further birth given name alone, in order;
//  3. then the whole list, space separated;
//
// with the birth family name, sex, birth date and, when t holds it, the
// birth place COG in every call. It stops at the first CR 00, and at the
// first technical failure (fault, transport, context), which it returns
// with the attempts made so far. CR 01 and 02 go on to the next candidate.
//
// When no call returned 00, the error wraps ErrSeveralIdentities if any
// call returned 02 (add traits: the COG if it was not sent —
// SearchResult.BirthPlaceSent — or the other given names), and ErrNotFound
// otherwise. ErrNotFound means "not found with these traits", never "this
// person has no INS".
//
// The names come from t.FirstBirthGivenName and t.BirthGivenNames (see
// GivenNameCandidates); BirthFamilyName, Sex (F or M) and BirthDate are
// required.
func (c *Client) Search(ctx context.Context, t ins.Traits) (*SearchResult, error) {
	return c.search(ctx, t, newUUID())
}

func (c *Client) search(ctx context.Context, t ins.Traits, correlation string) (*SearchResult, error) {
	names := GivenNameCandidates(t.FirstBirthGivenName, t.BirthGivenNames)
	if len(names) == 0 {
		return nil, errors.New("insi: Search: no birth given name in the traits")
	}
	sr := &SearchResult{Correlation: correlation, BirthPlaceSent: t.BirthPlace != ""}
	queries := make([]TraitsQuery, len(names))
	for i, n := range names {
		queries[i] = TraitsQuery{BirthFamilyName: t.BirthFamilyName, GivenName: n, Sex: t.Sex, BirthDate: t.BirthDate, BirthPlace: t.BirthPlace}
		if err := queries[i].Validate(); err != nil {
			return nil, err
		}
	}
	several := false
	for _, q := range queries {
		res, err := c.call(ctx, OpSearchByTraits, q.writeBody, correlation)
		sr.Attempts = append(sr.Attempts, Attempt{Query: q, Result: res, Err: err})
		switch {
		case err == nil:
			sr.Result = res
			return sr, nil
		case errors.Is(err, ErrSeveralIdentities):
			several = true
		case errors.Is(err, ErrNotFound):
		default:
			return sr, fmt.Errorf("insi: search stopped at attempt %d of %d: %w", len(sr.Attempts), len(queries), err)
		}
	}
	if several {
		if !sr.BirthPlaceSent {
			return sr, fmt.Errorf("%w; the birth place COG was not sent", ErrSeveralIdentities)
		}
		return sr, ErrSeveralIdentities
	}
	return sr, ErrNotFound
}

// GivenNameCandidates returns the Prenom values Search sends, in order: the
// first given name, each further name of the list, the whole list. first
// may be empty (the list's first name is then used); names are separated by
// spaces in list (a hyphenated name such as PIERRE-ALAIN is one name).
// Duplicates are dropped, comparing without regard to case.
func GivenNameCandidates(first, list string) []string {
	names := strings.Fields(list)
	first = strings.Join(strings.Fields(first), " ")
	if first == "" && len(names) > 0 {
		first = names[0]
	}
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, o := range out {
			if strings.EqualFold(o, s) {
				return
			}
		}
		out = append(out, s)
	}
	add(first)
	for _, n := range names {
		add(n)
	}
	if len(names) > 1 {
		add(strings.Join(names, " "))
	}
	return out
}
