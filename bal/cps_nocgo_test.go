// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package bal_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// Built without cgo (.ci/run runs this package with CGO_ENABLED=0), the
// CPS API is all there: OpenCPS fails with ErrCPSUnsupported without
// asking for the PIN, and the pure-Go parts work as with cgo.
func TestCPSWithoutCgo(t *testing.T) {
	slot := 0
	c, err := bal.OpenCPS(context.Background(), bal.CPSConfig{
		ModulePath: "/usr/lib/softhsm/libsofthsm2.so", SlotNumber: &slot, Mode: bal.CPSModeTLS12PKCS1,
		PIN: func(context.Context) (string, error) {
			t.Error("the PIN was asked for in a build that cannot open a card")
			return "", nil
		},
	})
	require.ErrorIs(t, err, bal.ErrCPSUnsupported)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "cgo")

	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	h := baltest.DefaultCPSHolder
	assert.Equal(t, bal.CPSIdentity{IDNPS: h.IDNat, Surname: h.Surname, GivenName: h.GivenName, Title: h.Profession},
		bal.CPSIdentityFromCertificate(pki.CPS.Cert))
	assert.Equal(t, "CPSModeTLS12PKCS1", bal.CPSModeTLS12PKCS1.String())

	// A *CPS that was never opened (the zero value) is a closed card: it
	// refuses to configure TLS, and closing it is harmless.
	var zero bal.CPS
	var auth bal.Authenticator = &zero
	assert.ErrorIs(t, auth.ConfigureTLS(&tls.Config{}), bal.ErrCPSClosed)
	assert.NoError(t, zero.Close())
	assert.Equal(t, trace.Actor{}, zero.Actor())
}
