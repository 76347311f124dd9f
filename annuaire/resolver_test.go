// SPDX-License-Identifier: Apache-2.0

package annuaire

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeOffline, fakeAPI and fakeTrust are Resolver sources that record
// what they were asked.
type fakeOffline struct {
	rows  map[string][]Mailbox
	asked []string
}

func (f *fakeOffline) LookupAll(addr string) []Mailbox {
	f.asked = append(f.asked, addr)
	return f.rows[addr]
}

type fakeAPI struct {
	rows  map[string][]Mailbox
	err   error
	asked []string
}

func (f *fakeAPI) ResolveMailbox(_ context.Context, addr string) ([]Mailbox, error) {
	f.asked = append(f.asked, addr)
	return f.rows[addr], f.err
}

type fakeTrust map[string]bool

func (f fakeTrust) Trusted(d string) bool { return f[d] }

// TestResolverSources: the offline source first, the API only for what it
// lacks, an API error recorded in the verdict without stopping the others,
// the trust list asked for the domain; an invalid address reaches no
// source.
func TestResolverSources(t *testing.T) {
	offRow := Mailbox{Address: "a@ch.mssante.fr", Type: PER, Owner: Person{Family: "A", Given: "Anne"}, Source: FromExtraction}
	apiRow := Mailbox{Address: "b@ch.mssante.fr", Type: ORG, Structure: Structure{Name: "CH"}, Service: "Accueil", Source: FromAPI}
	off := &fakeOffline{rows: map[string][]Mailbox{"a@ch.mssante.fr": {offRow}}}
	api := &fakeAPI{rows: map[string][]Mailbox{"b@ch.mssante.fr": {apiRow}, "a@ch.mssante.fr": {apiRow}}}
	r := &Resolver{Offline: off, API: api, Trust: fakeTrust{"ch.mssante.fr": true}}
	vs := r.Check(context.Background(), []string{"a@ch.mssante.fr", " b@ch.mssante.fr ", "c@ch.mssante.fr", "d@ailleurs.fr", "x y@ch.mssante.fr"})
	require.Len(t, vs, 5)

	assert.Equal(t, MSSante, vs[0].Kind)
	assert.Equal(t, []Mailbox{offRow}, vs[0].Mailboxes, "the offline answer, not the API's")
	assert.Equal(t, "published in the bulk extraction as PER mailbox of Anne A; domain in the liste blanche", vs[0].Reason)
	assert.Equal(t, "b@ch.mssante.fr", vs[1].Address, "trimmed")
	assert.Equal(t, []Mailbox{apiRow}, vs[1].Mailboxes)
	assert.Equal(t, "published in the Annuaire Santé API as ORG mailbox of CH (Accueil); domain in the liste blanche", vs[1].Reason)
	assert.Equal(t, TrustedDomain, vs[2].Kind)
	assert.True(t, vs[2].Trusted)
	assert.Equal(t, Unknown, vs[3].Kind)
	assert.False(t, vs[3].Trusted)
	assert.Equal(t, Invalid, vs[4].Kind)
	require.ErrorIs(t, vs[4].Err, ErrAddress)
	assert.Equal(t, []string{"a@ch.mssante.fr", "b@ch.mssante.fr", "c@ch.mssante.fr", "d@ailleurs.fr"}, off.asked)
	assert.Equal(t, []string{"b@ch.mssante.fr", "c@ch.mssante.fr", "d@ailleurs.fr"}, api.asked, "the API only for what the offline source lacks")

	down := errors.New("gateway down")
	api.err = down
	v := r.Check(context.Background(), []string{"c@ch.mssante.fr"})[0]
	require.ErrorIs(t, v.Err, down)
	assert.Equal(t, TrustedDomain, v.Kind, "decided from the other sources")
	assert.Contains(t, v.Reason, "[API unavailable: gateway down]")
	_, ok, err := r.Resolve(context.Background(), "a@ch.mssante.fr")
	require.NoError(t, err, "the offline answer needs no API")
	assert.True(t, ok)

	// No source at all: nothing is known, nothing fails.
	ms, ok, err := (&Resolver{}).Resolve(context.Background(), "a@ch.mssante.fr")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Empty(t, ms)
	_, _, err = (&Resolver{}).Resolve(context.Background(), "a@b@c")
	require.ErrorIs(t, err, ErrAddress)
}

func TestIsMatriculeShape(t *testing.T) {
	for s, want := range map[string]bool{"279035121518989": true, "1840275112345xx": false, "18402A5112345": false,
		"184022A11234567": true, "18402B511234567": false, "": false} {
		assert.Equal(t, want, isMatriculeShape(s), "isMatriculeShape(%q)", s)
	}
}

// Addresses that show as a trusted one but are not: Unicode spaces,
// controls or format characters around or inside the domain are invalid,
// and the patient domain is compared without Unicode case folding ("ſ" is
// not "s"); a valid accented domain still resolves (found by a review).
func TestLookalikeAddresses(t *testing.T) {
	for _, a := range []string{"x@mssante.fr\u00a0", "x@\u2003mssante.fr", "x@mssante.fr\u0085", "x@mss\u200bante.fr", "x@mssante.fr\u202e"} {
		_, _, err := SplitAddress(a)
		assert.ErrorIs(t, err, ErrAddress, "SplitAddress(%q)", a)
	}
	r := &Resolver{}
	v := r.check(context.Background(), "279035121518989@patient.m\u017fsante.fr")
	assert.NotEqual(t, Patient, v.Kind, "long s taken for s: %+v", v)
	v = r.check(context.Background(), "279035121518989@PATIENT.mssante.fr")
	assert.Equal(t, Patient, v.Kind, "capitals: %+v", v)
	_, d, err := SplitAddress("labo@clinique-h\u00e9lios.mssante.fr")
	require.NoError(t, err, "accented domain")
	assert.Equal(t, "clinique-h\u00e9lios.mssante.fr", d)
}

func TestDepartmentOf(t *testing.T) {
	for cp, want := range map[string]string{"75014": "75", "97411": "974", "98800": "988", "20000": "20", "9": "", "": "", "97": "97"} {
		assert.Equal(t, want, DepartmentOf(cp), "DepartmentOf(%q)", cp)
	}
}
