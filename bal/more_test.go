// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// The software certificate as the IGC-Santé delivers it: a PKCS#12 file.
func TestCertificateFromPKCS12(t *testing.T) {
	e := newEnv(t)
	pfx, err := e.pki.ORG.PKCS12("secret-p12")
	require.NoError(t, err)
	_, err = bal.NewCertificateFromPKCS12(pfx, "wrong")
	assert.Error(t, err, "a wrong PKCS#12 password was accepted")
	c, err := bal.NewCertificateFromPKCS12(pfx, "secret-p12")
	require.NoError(t, err)
	a := c.Actor()
	assert.Equal(t, e.pki.ORG.Cert.Subject.CommonName, a.ID, "actor")
	assert.Equal(t, trace.AuthCertificate, a.Auth, "actor")
	assert.NotEmpty(t, a.Name, "actor")
	assert.GreaterOrEqual(t, len(c.Cert.Certificate), 2, "the chain of the PKCS#12 file was not kept")
	s, err := e.receiver(t, c, baltest.ORGUser).Open(context.Background())
	require.NoError(t, err, e.dc.Log())
	s.Close()
}

// onlyMech offers the wrapped authenticator a single server mechanism.
type onlyMech struct {
	bal.Authenticator
	mech string
}

func (o onlyMech) SASL(ctx context.Context, mechs []string) (sasl.Client, error) {
	for _, m := range mechs {
		if m == o.mech {
			return o.Authenticator.SASL(ctx, []string{m})
		}
	}
	return nil, errors.New("server does not offer " + o.mech)
}

// Pro Santé Connect through OAUTHBEARER (RFC 7628) on the real Dovecot,
// and its refusal (Dovecot answers status "invalid_token").
func TestIMAPWithPSCOAuthBearer(t *testing.T) {
	e := newEnv(t)
	e.dc.AddToken("jeton-ob", baltest.CPSUser)
	host, port := "localhost", 0
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-ob"}), Username: baltest.CPSUser,
		Identity: trace.Actor{ID: "810002813839", IDType: "IDNPS"}, Host: host, Port: port}
	s, err := e.receiver(t, onlyMech{psc, "OAUTHBEARER"}, baltest.CPSUser).Open(context.Background())
	require.NoError(t, err, e.dc.Log())
	s.Close()
	psc.Source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-inconnu"})
	_, err = e.receiver(t, onlyMech{psc, "OAUTHBEARER"}, baltest.CPSUser).Open(context.Background())
	var refused *bal.RefusedError
	require.ErrorAs(t, err, &refused, "refused OAUTHBEARER token")
	require.Equal(t, "OAUTHBEARER", refused.Mechanism, "refused OAUTHBEARER token")
	require.ErrorIs(t, err, bal.ErrAuth, "refused OAUTHBEARER token")
	t.Logf("OAUTHBEARER refusal: status %q", refused.Status)
}
