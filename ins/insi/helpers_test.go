// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
)

// One PKI for the whole test binary: each server reuses it.
var (
	pkiOnce sync.Once
	pki     *insitest.PKI
	pkiErr  error
)

func testPKI(t testing.TB) *insitest.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = insitest.NewPKI() })
	require.NoError(t, pkiErr)
	return pki
}

const testIDAM = "PDP17NF21DD0"

var testSoftware = insi.Software{IDAM: testIDAM, Name: "gomss-test", Version: "1.0", Instance: "ff67308e-039f-4158-9dcc-0a08a20ba35c"}

func matricule(t testing.TB, s string) ins.Matricule {
	t.Helper()
	m, err := ins.ParseMatricule(s)
	require.NoError(t, err)
	return m
}

// People of the fake base, shaped like the CNDA test persons recorded from
// the qualification platform (padoa/tlsi-ins fixtures), with keys
// recomputed where the recorded ones were not.
func people(t testing.TB) []insitest.Person {
	return []insitest.Person{
		{ // TEST_2.04: several given names, a history, TIQ without Prenom.
			INS: ins.INS{Matricule: matricule(t, "109076322083489"), Authority: ins.AuthorityNIR},
			History: []ins.INS{
				{Matricule: matricule(t, "209076322083439"), Authority: ins.AuthorityNIR},
				{Matricule: matricule(t, "209066322012355"), Authority: ins.AuthorityNIR},
			},
			Traits: ins.Traits{BirthFamilyName: "ECETINSI", FirstBirthGivenName: "PIERRE-ALAIN", BirthGivenNames: "PIERRE-ALAIN MURIEL FLORIANT",
				Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}, BirthPlace: "63220"},
			OmitPrenom: true,
		},
		{ // TEST_2.05: a NIA with provisional traits.
			INS:    ins.INS{Matricule: matricule(t, "109076322088835"), Authority: ins.AuthorityNIA},
			Traits: ins.Traits{BirthFamilyName: "PROVISOIRE", FirstBirthGivenName: "MATRICULE", BirthGivenNames: "MATRICULE", Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 1}, BirthPlace: "63220"},
		},
		{ // TEST_2.08 cas 1: Corsica.
			INS:     ins.INS{Matricule: matricule(t, "180032B02040123"), Authority: ins.AuthorityNIR},
			History: []ins.INS{{Matricule: matricule(t, "180032B02040123"), Authority: ins.AuthorityNIR}},
			Traits:  ins.Traits{BirthFamilyName: "CORSE", FirstBirthGivenName: "ANTHONY", BirthGivenNames: "ANTHONY", Sex: ins.Male, BirthDate: ins.Date{Year: 1980, Month: 3, Day: 2}, BirthPlace: "2B020"},
		},
		{ // Two people with the same traits but the birth place: CR 02 without the COG.
			INS:    ins.INS{Matricule: matricule(t, "297021234500124"), Authority: ins.AuthorityNIR},
			Traits: ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE LOUISE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}, BirthPlace: "12345"},
		},
		{
			INS:    ins.INS{Matricule: matricule(t, "297027511300145"), Authority: ins.AuthorityNIR},
			Traits: ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}, BirthPlace: "75113"},
			// A carte Vitale child: found by the parent's NIR and rank.
			OpeningRights: matricule(t, "165027511300114"), BirthRank: 2,
		},
	}
}

type fixture struct {
	srv    *insitest.Server
	client *insi.Client
	calls  *[]insi.Call
}

// newFixture starts a fake with people and an mTLS INSI-AUTO client whose
// retries wait a millisecond.
func newFixture(t *testing.T, mod func(*insi.Config)) fixture {
	t.Helper()
	srv, err := insitest.NewServer(insitest.Options{PKI: testPKI(t), People: people(t), IDAMs: []string{testIDAM}})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	cred, err := insi.NewMTLS(srv.PKI.Auto.TLSCertificate())
	require.NoError(t, err)
	var mu sync.Mutex
	calls := &[]insi.Call{}
	cfg := insi.Config{
		Endpoint: srv.URL, Software: testSoftware, Credentials: cred, TLS: srv.ClientTLSConfig(),
		Retry: insi.Retry{MaxAttempts: 3, Backoff: time.Millisecond},
		Observer: func(_ context.Context, c insi.Call) error {
			mu.Lock()
			defer mu.Unlock()
			*calls = append(*calls, c)
			return nil
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := insi.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return fixture{srv: srv, client: c, calls: calls}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
