// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
	"github.com/ecdaf744/gomss/mssante/intake"
)

// insiVerifier is the adapter a vendor writes between *insi.Client and
// intake.Verifier (the package documentation shows the same): this
// package does not import ins/insi.
func insiVerifier(c *insi.Client) intake.Verifier {
	return intake.VerifierFunc(func(ctx context.Context, id ins.Identity) (intake.Verification, error) {
		r, err := c.Verify(ctx, id)
		switch {
		case errors.Is(err, insi.ErrNotFound), errors.Is(err, insi.ErrSeveralIdentities):
			return intake.Verification{Result: intake.NotFound}, nil
		case err != nil:
			return intake.Verification{}, err
		case r.Verified():
			return intake.Verification{Result: intake.Confirmed}, nil
		}
		out := intake.Verification{Result: intake.Contradicted, Active: r.Search.Result.INS}
		for _, d := range r.Differences {
			out.Different = append(out.Different, string(d.Trait))
		}
		return out, nil
	})
}

// fakeINSi starts the fake INSi with people and returns a client of it.
func fakeINSi(t *testing.T, people ...insitest.Person) (*insitest.Server, *insi.Client) {
	t.Helper()
	srv, err := insitest.NewServer(insitest.Options{People: people})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	cred, err := insi.NewMTLS(srv.PKI.Auto.TLSCertificate())
	require.NoError(t, err)
	c, err := insi.New(insi.Config{Endpoint: srv.URL, Credentials: cred, TLS: srv.ClientTLSConfig(),
		Retry:    insi.Retry{MaxAttempts: 1},
		Software: insi.Software{IDAM: "PDP17NF21DD0", Name: "gomss-intake-test", Version: "1", Instance: "5b0f3c1e-7c55-4d2a-9a51-2f6d1c0e8a41"}})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// UX.03: with a verifier configured, the received INS is verified on
// reception; confirmed, it may integrate.
func TestUX03VerifiedByINSi(t *testing.T) {
	doc := received()
	srv, c := fakeINSi(t, insitest.Person{INS: doc.Patient.INS, Traits: traitsNessi()})
	e := newEnv(t, intake.Policy{}, insiVerifier(c), local("IPP1"))
	d := e.decide(t, doc)
	require.Equal(t, intake.Integrate, d.Outcome, "%v", d.Reasons)
	require.NotNil(t, d.Verification)
	assert.Equal(t, intake.Confirmed, d.Verification.Result)
	assert.NotEmpty(t, srv.Requests(), "INSi was called")
}

// UX.03: INSi does not find the person with the document's traits: the
// INS could not be verified, a person decides.
func TestUX03NotFoundByINSi(t *testing.T) {
	doc := received()
	other := traitsNessi()
	other.BirthPlace = "63220"
	_, c := fakeINSi(t, insitest.Person{INS: doc.Patient.INS, Traits: other})
	e := newEnv(t, intake.Policy{}, insiVerifier(c), local("IPP1"))
	d := e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.INSiNotFound), "%v", d.Reasons)
}

// UX.04: the document carries an old matricule; INSi answers with the
// active one, whose local record is looked up and shown.
func TestUX04RematchWithINSiAnswer(t *testing.T) {
	doc := received()
	active := ins.INS{Matricule: matSix, Authority: ins.AuthorityNIR}
	_, c := fakeINSi(t, insitest.Person{INS: active, History: []ins.INS{doc.Patient.INS}, Traits: traitsNessi()})
	rec := local("IPP6")
	rec.Identity.INS = active
	e := newEnv(t, intake.Policy{}, insiVerifier(c), rec)
	d := e.decide(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	assert.True(t, d.Has(intake.INSiContradicted), "%v", d.Reasons)
	require.NotNil(t, d.Verification)
	assert.Equal(t, active, d.Verification.Active)
	assert.Contains(t, d.Verification.Different, string(insi.TraitMatricule))
	assert.Contains(t, e.idx.byINS, matSix, "looked up by the active matricule")
	require.Len(t, d.Candidates, 1)
	assert.Equal(t, "IPP6", d.Candidates[0].Patient.ID)
	assert.True(t, d.Candidates[0].ByINS)
}

// UX.03: INSi unavailable: to the worklist, decided again when it is back.
func TestUX03INSiUnavailable(t *testing.T) {
	doc := received()
	srv, c := fakeINSi(t, insitest.Person{INS: doc.Patient.INS, Traits: traitsNessi()})
	srv.Enqueue(insitest.ServiceUnavailable)
	e := newEnv(t, intake.Policy{}, insiVerifier(c), local("IPP1"))
	d := e.process(t, doc)
	assert.Equal(t, intake.Worklist, d.Outcome)
	require.True(t, d.Has(intake.INSiUnavailable), "%v", d.Reasons)

	ds, err := e.dc.Recompute(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, intake.Integrate, ds[0].Outcome, "%v", ds[0].Reasons)
	assert.Len(t, e.docs.filed, 1)
}
