// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
)

// The software certificate's validity dates are checked when its PKCS#12
// file is loaded: an expired one is refused with ErrCertificateExpired, a
// not yet valid one with ErrCertificateNotYetValid, each with its dates;
// ValidAt moves the clock.
func TestPKCS12ValidityChecked(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	pfx, err := pki.Expired.PKCS12("secret")
	require.NoError(t, err)
	_, err = bal.NewCertificateFromPKCS12(pfx, "secret")
	require.ErrorIs(t, err, bal.ErrCertificateExpired)
	assert.NotErrorIs(t, err, bal.ErrCertificateNotYetValid)
	var ve *bal.CertificateValidityError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, pki.Expired.Cert.Subject.CommonName, ve.Subject)
	assert.True(t, ve.NotAfter.Equal(pki.Expired.Cert.NotAfter), "NotAfter %v", ve.NotAfter)
	assert.True(t, ve.NotBefore.Equal(pki.Expired.Cert.NotBefore), "NotBefore %v", ve.NotBefore)
	assert.Contains(t, err.Error(), pki.Expired.Cert.Subject.CommonName)
	assert.Contains(t, err.Error(), pki.Expired.Cert.NotAfter.UTC().Format(time.RFC3339))

	// The same file at a time when it was valid.
	during := func() time.Time { return pki.Expired.Cert.NotAfter.Add(-24 * time.Hour) }
	c, err := bal.NewCertificateFromPKCS12(pfx, "secret", bal.ValidAt(during))
	require.NoError(t, err)
	assert.Equal(t, pki.Expired.Cert.Subject.CommonName, c.Actor().ID)

	// A valid certificate, seen from before its NotBefore.
	pfx, err = pki.ORG.PKCS12("secret")
	require.NoError(t, err)
	_, err = bal.NewCertificateFromPKCS12(pfx, "secret")
	require.NoError(t, err)
	before := func() time.Time { return pki.ORG.Cert.NotBefore.Add(-time.Minute) }
	_, err = bal.NewCertificateFromPKCS12(pfx, "secret", bal.ValidAt(before))
	require.ErrorIs(t, err, bal.ErrCertificateNotYetValid)
	assert.NotErrorIs(t, err, bal.ErrCertificateExpired)
	// The boundaries are inclusive (RFC 5280 §4.1.2.5).
	for _, at := range []time.Time{pki.ORG.Cert.NotBefore, pki.ORG.Cert.NotAfter} {
		_, err = bal.NewCertificateFromPKCS12(pfx, "secret", bal.ValidAt(func() time.Time { return at }))
		assert.NoError(t, err, "at %v", at)
	}
}
