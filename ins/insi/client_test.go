// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
)

var ecetinsi = ins.Traits{BirthFamilyName: "ECETINSI", FirstBirthGivenName: "PIERRE-ALAIN", BirthGivenNames: "PIERRE-ALAIN MURIEL FLORIANT",
	Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}, BirthPlace: "63220"}

// A CR 00 answer gives the active INS, its history, the traits (Prenom
// derived from ListePrenom when absent) and a RECUP identity, never QUAL.
func TestSearchFoundWithHistory(t *testing.T) {
	f := newFixture(t, nil)
	sr, err := f.client.Search(ctx(t), ecetinsi)
	require.NoError(t, err)
	require.Len(t, sr.Attempts, 1, "stops at the first 00")
	r := sr.Result
	assert.Equal(t, insi.CROK, r.CR)
	assert.Equal(t, "OK", r.Label)
	assert.Equal(t, "109076322083489", r.INS.Matricule.String())
	assert.Equal(t, ins.AuthorityNIR, r.INS.Authority)
	require.Len(t, r.History, 2)
	assert.Equal(t, "209076322083439", r.History[0].INS.Matricule.String())
	assert.Equal(t, "209066322012355", r.History[1].INS.Matricule.String())
	assert.Equal(t, ecetinsi, r.Traits)
	assert.Contains(t, r.Tolerated, "TIQ: no Prenom, first given name taken from ListePrenom")
	assert.False(t, r.ReceivedAt.IsZero())
	assert.Equal(t, insi.OpSearchByTraits, r.Operation)

	id, err := r.Identity()
	require.NoError(t, err)
	assert.Equal(t, ins.Recovered, id.Status, "an INSi answer alone gives RECUP")
	_, err = id.QualifiedINS()
	assert.ErrorIs(t, err, ins.ErrNotQualified)

	// What the fake received: the headers of the request.
	reqs := f.srv.Requests()
	require.Len(t, reqs, 1)
	q := reqs[0]
	assert.Empty(t, q.Problems)
	assert.Equal(t, insi.OpSearchByTraits, q.Operation)
	assert.Equal(t, "uuid:"+r.MessageID, q.MessageID)
	assert.Equal(t, testIDAM, q.IDAM)
	assert.Equal(t, "urn:lps:gomss-test:1.0", q.SoftwareName)
	assert.Equal(t, testSoftware.Instance, q.Instance)
	assert.Equal(t, insitest.EmitterOU, q.Emitter, "the emitter is the certificate's OU")
	assert.Equal(t, insi.CNAuto, q.ClientCN)
	assert.Equal(t, []string{"PIERRE-ALAIN"}, q.GivenNames)
	assert.Equal(t, "63220", q.BirthPlace)
}

// The strategy: first given name, then each further one, then the whole
// list; stop at the first 00.
func TestSearchStrategyOrder(t *testing.T) {
	f := newFixture(t, nil)
	local := ecetinsi
	// Locally the names were typed in another order: the first RNIPP name
	// is the second local one.
	local.FirstBirthGivenName, local.BirthGivenNames = "MURIEL", "MURIEL PIERRE-ALAIN FLORIANT"
	sr, err := f.client.Search(ctx(t), local)
	require.NoError(t, err)
	var tried []string
	for _, a := range sr.Attempts {
		tried = append(tried, a.Query.GivenName)
	}
	assert.Equal(t, []string{"MURIEL", "PIERRE-ALAIN"}, tried)
	assert.ErrorIs(t, sr.Attempts[0].Err, insi.ErrNotFound)
	assert.NoError(t, sr.Attempts[1].Err)
	assert.Equal(t, "109076322083489", sr.Result.INS.Matricule.String())
	// Each attempt is visible to the observer, under one correlation.
	require.Len(t, *f.calls, 2)
	for _, c := range *f.calls {
		assert.Equal(t, sr.Correlation, c.Correlation)
	}
	assert.Equal(t, insi.CRNone, (*f.calls)[0].CR)
	assert.Equal(t, insi.CROK, (*f.calls)[1].CR)
}

// All candidates answered 01: ErrNotFound, after first, each further, the
// whole list.
func TestSearchNotFound(t *testing.T) {
	f := newFixture(t, nil)
	local := ecetinsi
	local.BirthFamilyName = "INCONNU"
	sr, err := f.client.Search(ctx(t), local)
	require.ErrorIs(t, err, insi.ErrNotFound)
	assert.Contains(t, err.Error(), "may still have an INS", "01 is never 'does not exist'")
	var tried []string
	for _, a := range sr.Attempts {
		tried = append(tried, a.Query.GivenName)
		assert.Equal(t, insi.CRNone, a.Result.CR)
	}
	assert.Equal(t, []string{"PIERRE-ALAIN", "MURIEL", "FLORIANT", "PIERRE-ALAIN MURIEL FLORIANT"}, tried)
	assert.Nil(t, sr.Result)
	assert.Len(t, f.srv.Requests(), 4)
}

// 02 without the COG asks for more traits; with the COG the same person is
// found.
func TestSearchSeveralThenCOG(t *testing.T) {
	f := newFixture(t, nil)
	t1 := ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}}
	sr, err := f.client.Search(ctx(t), t1)
	require.ErrorIs(t, err, insi.ErrSeveralIdentities)
	assert.Contains(t, err.Error(), "COG was not sent")
	assert.False(t, sr.BirthPlaceSent)
	assert.Equal(t, insi.CRSeveral, sr.Attempts[0].Result.CR)

	t1.BirthPlace = "75113"
	sr, err = f.client.Search(ctx(t), t1)
	require.NoError(t, err)
	assert.Equal(t, "297027511300145", sr.Result.INS.Matricule.String())
}

// A NIA comes back with its OID; the traits are those of the base.
func TestSearchNIA(t *testing.T) {
	f := newFixture(t, nil)
	sr, err := f.client.Search(ctx(t), ins.Traits{BirthFamilyName: "PROVISOIRE", FirstBirthGivenName: "MATRICULE", Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 1}})
	require.NoError(t, err)
	assert.Equal(t, ins.AuthorityNIA, sr.Result.INS.Authority)
	assert.Equal(t, "109076322088835", sr.Result.INS.Matricule.String())
	assert.Empty(t, sr.Result.Tolerated)
}

// The strategy stops at a technical error and says where.
func TestSearchStopsAtFault(t *testing.T) {
	f := newFixture(t, func(c *insi.Config) { c.Retry.MaxAttempts = 1 })
	local := ecetinsi
	local.BirthFamilyName = "INCONNU"
	f.srv.Enqueue(insitest.Condition{}, insitest.ServiceUnavailable)
	sr, err := f.client.Search(ctx(t), local)
	require.ErrorIs(t, err, insi.ErrRetryLater)
	assert.Contains(t, err.Error(), "attempt 2 of 4")
	require.Len(t, sr.Attempts, 2)
	assert.ErrorIs(t, sr.Attempts[0].Err, insi.ErrNotFound)
	assert.Len(t, f.srv.Requests(), 2, "no call after the technical error")
}

// insi_102 is retried with backoff, within the bound; each attempt is a new
// message the observer sees.
func TestRetryRetryable(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Enqueue(insitest.ServiceUnavailable, insitest.ServiceUnavailable)
	sr, err := f.client.Search(ctx(t), ecetinsi)
	require.NoError(t, err)
	require.Len(t, sr.Attempts, 1, "retries are inside one attempt of the strategy")
	calls := *f.calls
	require.Len(t, calls, 3)
	for i, c := range calls {
		assert.Equal(t, i+1, c.Attempt)
	}
	assert.Equal(t, "siram_40", calls[0].FaultSubcode)
	assert.Equal(t, "insi_102", calls[1].FaultCode)
	assert.Equal(t, insi.CROK, calls[2].CR)
	assert.NotEqual(t, calls[0].MessageID, calls[1].MessageID)
}

func TestRetryBounded(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Enqueue(insitest.ServiceUnavailable, insitest.ServiceUnavailable, insitest.ServiceUnavailable, insitest.ServiceUnavailable)
	_, err := f.client.SearchByTraits(ctx(t), insi.TraitsQuery{BirthFamilyName: "ECETINSI", GivenName: "PIERRE-ALAIN", Sex: ins.Male, BirthDate: ecetinsi.BirthDate})
	require.ErrorIs(t, err, insi.ErrRetryLater)
	var fault *insi.Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, http.StatusInternalServerError, fault.HTTPStatus)
	assert.Len(t, f.srv.Requests(), 3, "MaxAttempts 3")
}

// The wait between retries ends with the context.
func TestRetryWaitHonoursContext(t *testing.T) {
	f := newFixture(t, func(c *insi.Config) { c.Retry = insi.Retry{MaxAttempts: 5, Backoff: time.Hour} })
	f.srv.Enqueue(insitest.ServiceUnavailable)
	c, cancel := context.WithCancel(context.Background())
	f.client = mustObserve(t, f, func() { cancel() })
	_, err := f.client.Search(c, ecetinsi)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, insi.ErrRetryLater)
	assert.Len(t, f.srv.Requests(), 1)
}

// mustObserve rebuilds the fixture's client with an observer that calls fn.
func mustObserve(t *testing.T, f fixture, fn func()) *insi.Client {
	cred, err := insi.NewMTLS(f.srv.PKI.Auto.TLSCertificate())
	require.NoError(t, err)
	c, err := insi.New(insi.Config{Endpoint: f.srv.URL, Software: testSoftware, Credentials: cred, TLS: f.srv.ClientTLSConfig(),
		Retry:    insi.Retry{MaxAttempts: 5, Backoff: time.Hour},
		Observer: func(context.Context, insi.Call) error { fn(); return nil }})
	require.NoError(t, err)
	return c
}

// Configuration faults are never retried and match their classes.
func TestUnknownIDAM(t *testing.T) {
	f := newFixture(t, func(c *insi.Config) { c.Software.IDAM = "INCONNU0000" })
	_, err := f.client.Search(ctx(t), ecetinsi)
	require.ErrorIs(t, err, insi.ErrConfiguration)
	require.ErrorIs(t, err, insi.ErrUnknownIDAM)
	assert.NotErrorIs(t, err, insi.ErrRetryLater)
	var fault *insi.Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, "Sender", fault.Code)
	assert.Equal(t, "siram_100", fault.Subcode)
	assert.Equal(t, "desir_550", fault.ErrorCode)
	assert.Equal(t, insi.SeverityError, fault.Severity)
	assert.Equal(t, "Numéro d'autorisation du logiciel inconnu.", fault.Detail)
	assert.True(t, strings.HasPrefix(fault.Reason, "L'accès par ce progiciel"))
	assert.Equal(t, f.srv.Requests()[0].MessageID, fault.MessageID)
	assert.Len(t, f.srv.Requests(), 1, "not retried")
}

// The client refuses a certificate whose CN is not INSI-AUTO/INSI-MANU
// before any call; the service refuses it with DESIR_560, which the client
// parses into ErrAccessLevel.
func TestCertificateCN(t *testing.T) {
	p := testPKI(t)
	_, err := insi.NewMTLS(p.WrongCN.TLSCertificate())
	require.ErrorIs(t, err, insi.ErrCertificateCN)
	require.ErrorIs(t, err, insi.ErrConfiguration)
	assert.Contains(t, err.Error(), insitest.WrongCN)
	for _, cn := range []string{"insi-auto", "INSI_AUTO", "INSI-AUTO ", "INSIAUTO"} {
		l, err := p.NewLeaf(cn)
		require.NoError(t, err)
		_, err = insi.NewMTLS(l.TLSCertificate())
		assert.ErrorIs(t, err, insi.ErrCertificateCN, cn)
	}
	m, err := insi.NewMTLS(p.Manu.TLSCertificate())
	require.NoError(t, err)
	assert.False(t, m.Automatic())

	// The server side: a client that skips the check (here, raw HTTP).
	f := newFixture(t, nil)
	req, err := f.client.NewTraitsRequest(insi.TraitsQuery{BirthFamilyName: "ECETINSI", GivenName: "PIERRE-ALAIN", Sex: ins.Male, BirthDate: ecetinsi.BirthDate})
	require.NoError(t, err)
	tc := f.srv.ClientTLSConfig()
	tc.Certificates = []tls.Certificate{p.WrongCN.TLSCertificate()}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := hc.Post(f.srv.URL, "application/soap+xml; charset=utf-8", bytes.NewReader(req.Body))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = insi.ParseResponse(resp.Body)
	require.ErrorIs(t, err, insi.ErrAccessLevel)
	require.ErrorIs(t, err, insi.ErrConfiguration)
}

func TestCutConnection(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Enqueue(insitest.CutConnection)
	sr, err := f.client.Search(ctx(t), ecetinsi)
	require.Error(t, err)
	assert.NotErrorIs(t, err, insi.ErrNotFound)
	assert.Len(t, sr.Attempts, 1)
	assert.Len(t, f.srv.Requests(), 1, "a transport error is not retried")
	assert.NotEmpty(t, (*f.calls)[0].Err)
}

func TestMalformedAnswer(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Enqueue(insitest.MalformedAnswer)
	_, err := f.client.Search(ctx(t), ecetinsi)
	require.ErrorIs(t, err, insi.ErrMalformedAnswer)
	assert.Equal(t, insi.ErrMalformedAnswer.Error(), (*f.calls)[0].Err)
}

// A slow answer ends with the caller's deadline; the time budget starts
// once the slow condition is queued.
func TestSlowAnswer(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Enqueue(insitest.Slow(time.Minute))
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := f.client.Search(c, ecetinsi)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	f.srv.Enqueue(insitest.Slow(10 * time.Millisecond))
	_, err = f.client.Search(ctx(t), ecetinsi)
	require.NoError(t, err, "a slow answer within the deadline is read")
}

// Search with a carte Vitale: by the beneficiary's own NIR, by an old NIR
// of the history, and by the insured person's NIR with the rank of birth.
func TestSearchWithVitale(t *testing.T) {
	f := newFixture(t, nil)
	r, err := f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{Individual: matricule(t, "209076322083439"), BirthDate: "2009-07-14"})
	require.NoError(t, err)
	assert.Equal(t, "109076322083489", r.INS.Matricule.String())
	assert.Equal(t, insi.OpSearchWithVitale, f.srv.Requests()[0].Operation)
	assert.Empty(t, f.srv.Requests()[0].Problems)

	r, err = f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{OpeningRights: matricule(t, "165027511300114"), BirthRank: 2, BirthDate: "1997-02-12", BirthFamilyName: "MARTIN"})
	require.NoError(t, err)
	assert.Equal(t, "297027511300145", r.INS.Matricule.String())

	r, err = f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{OpeningRights: matricule(t, "165027511300114"), BirthRank: 1})
	require.ErrorIs(t, err, insi.ErrNotFound)
	assert.Equal(t, insi.CRNone, r.CR)

	_, err = f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{BirthDate: "1997-02-12"})
	assert.ErrorContains(t, err, "MatriculeIndividu or MatriculeOD is required")
	_, err = f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{Individual: matricule(t, "209076322083439"), BirthDate: "14/07/2009"})
	assert.ErrorContains(t, err, "DateNaissance")
}

// Configuration errors, before any call.
func TestNewConfigErrors(t *testing.T) {
	p := testPKI(t)
	auto, err := insi.NewMTLS(p.Auto.TLSCertificate())
	require.NoError(t, err)
	cpx, err := insi.NewCPx(p.CPS.Key, p.CPS.Cert, insi.CPxOptions{})
	require.NoError(t, err)
	good := insi.Config{Endpoint: insi.EndpointQualificationMTLS, Software: testSoftware, Credentials: auto, TLS: p.ClientTLSConfig()}
	_, err = insi.New(good)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		mod  func(*insi.Config)
		want string
	}{
		"no endpoint":      {func(c *insi.Config) { c.Endpoint = "" }, "there is no default"},
		"http":             {func(c *insi.Config) { c.Endpoint = "http://localhost/lps" }, "https"},
		"no credentials":   {func(c *insi.Config) { c.Credentials = nil }, "Credentials is required"},
		"cpx on mtls":      {func(c *insi.Config) { c.Credentials = cpx }, "mTLS platform"},
		"mtls on cpx":      {func(c *insi.Config) { c.Endpoint = insi.EndpointQualificationCPx }, "CPx platform"},
		"no TLS":           {func(c *insi.Config) { c.TLS = nil }, "RootCAs is required"},
		"no roots":         {func(c *insi.Config) { c.TLS = &tls.Config{} }, "RootCAs is required"},
		"insecure":         {func(c *insi.Config) { c.TLS = p.ClientTLSConfig(); c.TLS.InsecureSkipVerify = true }, "InsecureSkipVerify"},
		"no IDAM":          {func(c *insi.Config) { c.Software.IDAM = "" }, "IDAM"},
		"instance no uuid": {func(c *insi.Config) { c.Software.Instance = "poste-1" }, "Instance"},
	} {
		cfg := good
		tc.mod(&cfg)
		_, err := insi.New(cfg)
		assert.ErrorIs(t, err, insi.ErrConfiguration, name)
		assert.ErrorContains(t, err, tc.want, name)
	}
	assert.NotEqual(t, insi.EndpointProductionMTLS, insi.EndpointQualificationMTLS)
}

// A server whose certificate does not chain to Config.TLS.RootCAs is
// refused: verification is the caller's roots, nothing else.
func TestServerVerification(t *testing.T) {
	f := newFixture(t, nil)
	other, err := insitest.NewPKI()
	require.NoError(t, err)
	cred, err := insi.NewMTLS(f.srv.PKI.Auto.TLSCertificate())
	require.NoError(t, err)
	c, err := insi.New(insi.Config{Endpoint: f.srv.URL, Software: testSoftware, Credentials: cred, TLS: other.ClientTLSConfig()})
	require.NoError(t, err)
	_, err = c.Search(ctx(t), ecetinsi)
	var uerr *tls.CertificateVerificationError
	require.True(t, errors.As(err, &uerr), "got %v", err)
	assert.Empty(t, f.srv.Requests())
}

// An observer error stops the method: a vendor may forbid untraced calls.
func TestObserverRefusal(t *testing.T) {
	boom := errors.New("trace store full")
	f := newFixture(t, func(c *insi.Config) { c.Observer = func(context.Context, insi.Call) error { return boom } })
	sr, err := f.client.Search(ctx(t), ecetinsi)
	require.ErrorIs(t, err, boom)
	require.Len(t, sr.Attempts, 1)
	assert.Len(t, f.srv.Requests(), 1)
}
