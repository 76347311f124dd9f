// SPDX-License-Identifier: Apache-2.0

//go:build cgo && unix

package insi_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
)

// The assertion PS signed once by a real PKCS#11 token standing for a CPS
// card (SoftHSM2, opened with bal.OpenCPS): the key never leaves the
// token, the fake accepts the request, xmlsec1 verifies the signature.
func TestCPxSoftHSMToken(t *testing.T) {
	f := newFixture(t, nil)
	p := testPKI(t)
	tk := baltest.NewSoftHSMToken(t, "", "", p.CPS.TLSCertificate())
	cps, err := bal.OpenCPS(context.Background(), bal.CPSConfig{
		ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, KeyLabel: tk.KeyLabel,
		PIN: func(context.Context) (string, error) { return tk.PIN, nil },
	})
	require.NoError(t, err)
	defer cps.Close()

	// bal.CPS hands its key to crypto/tls; take the crypto.Signer from there.
	var cfg tls.Config
	require.NoError(t, cps.ConfigureTLS(&cfg))
	cert, err := cfg.GetClientCertificate(&tls.CertificateRequestInfo{
		Version:          tls.VersionTLS13,
		SignatureSchemes: []tls.SignatureScheme{tls.PSSWithSHA256, tls.PKCS1WithSHA256},
	})
	require.NoError(t, err)
	signer, ok := cert.PrivateKey.(crypto.Signer)
	require.True(t, ok)
	_, inMemory := signer.(interface{ Precompute() })
	assert.False(t, inMemory, "the signer must be the token's, not an in-memory RSA key")

	c := cpxClient(t, f.srv, signer, cps.Certificate())
	sr, err := c.Search(ctx(t), ecetinsi)
	require.NoError(t, err)
	assert.True(t, sr.Result.Found())
	body := f.srv.Requests()[0].Body
	require.NoError(t, verifyGoxmldsig(t, assertion(t, body), cps.Certificate()))
	out, err := verifyXmlsec1(t, body)
	require.NoError(t, err, out)
}
