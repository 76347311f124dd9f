// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"bytes"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
)

// A PKCS#12 file whose private key is another certificate's is refused
// when loaded (go-pkcs12 does not check it; before the change the
// Certificate was built and failed at each handshake).
func TestPKCS12KeyMismatch(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	pfx, err := pkcs12.Modern2023.Encode(pki.CPS.Key, pki.ORG.Cert, pki.ORG.Chain, "secret")
	require.NoError(t, err)
	_, err = bal.NewCertificateFromPKCS12(pfx, "secret")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bal: PKCS#12: the private key does not match the certificate")
	assert.Contains(t, err.Error(), pki.ORG.Cert.Subject.CommonName)
	// The same certificate with its own key loads.
	pfx, err = pki.ORG.PKCS12("secret")
	require.NoError(t, err)
	c, err := bal.NewCertificateFromPKCS12(pfx, "secret")
	require.NoError(t, err)
	assert.Equal(t, pki.ORG.Cert.Raw, c.Leaf.Raw)
}

// FuzzNewCertificateFromPKCS12: from any bytes and password the loader
// returns an error prefixed "bal: PKCS#12:" or a Certificate whose leaf
// is valid now, whose private key is the leaf's, and whose chain starts
// with the leaf. Seeds: the IGC-Santé-like test PKI's files in both
// encodings (OpenSSL 3 default, legacy 3DES) and without protection, an
// expired one, files whose key is another certificate's, and truncations.
func FuzzNewCertificateFromPKCS12(f *testing.F) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(f, err)
	modern, err := pki.ORG.PKCS12("secret")
	require.NoError(f, err)
	legacy, err := pki.ORG.PKCS12Legacy("secret")
	require.NoError(f, err)
	expired, err := pki.Expired.PKCS12("secret")
	require.NoError(f, err)
	mismatch, err := pkcs12.Modern2023.Encode(pki.CPS.Key, pki.ORG.Cert, pki.ORG.Chain, "secret")
	require.NoError(f, err)
	for _, pfx := range [][]byte{modern, legacy, expired, mismatch} {
		f.Add(pfx, "secret")
		f.Add(pfx, "wrong")
		f.Add(pfx[:len(pfx)/2], "secret")
	}
	// Without MAC nor encryption (the empty password): the fuzzer's
	// changes reach the bags, the key and the certificates, where a MAC
	// would have refused them first.
	plain, err := pkcs12.Passwordless.Encode(pki.ORG.Key, pki.ORG.Cert, pki.ORG.Chain, "")
	require.NoError(f, err)
	plainMismatch, err := pkcs12.Passwordless.Encode(pki.CPS.Key, pki.ORG.Cert, nil, "")
	require.NoError(f, err)
	f.Add(plain, "")
	f.Add(plainMismatch, "")
	f.Add([]byte{}, "")
	f.Add([]byte{0x30, 0x80, 0, 0}, "")
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "secret")
	f.Fuzz(func(t *testing.T, pfx []byte, password string) {
		c, err := bal.NewCertificateFromPKCS12(pfx, password)
		if err != nil {
			require.Nil(t, c)
			require.True(t, strings.HasPrefix(err.Error(), "bal: PKCS#12: "), "%v", err)
			return
		}
		require.NotNil(t, c.Leaf)
		now := time.Now()
		require.False(t, now.Before(c.Leaf.NotBefore) || now.After(c.Leaf.NotAfter), "a certificate outside its validity loaded")
		require.NotEmpty(t, c.Cert.Certificate)
		require.True(t, bytes.Equal(c.Cert.Certificate[0], c.Leaf.Raw), "the chain does not start with the leaf")
		signer, ok := c.Cert.PrivateKey.(crypto.Signer)
		require.True(t, ok, "private key %T", c.Cert.PrivateKey)
		pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
		require.True(t, ok && pub.Equal(c.Leaf.PublicKey), "the private key is not the leaf's")
		require.Equal(t, c.Leaf.Subject.CommonName, c.Actor().ID)
	})
}
