// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/trace"
)

func TestXOAuth2Client(t *testing.T) {
	c := NewXOAuth2Client("dr.martin@cabinet.mssante.fr", "tok-123")
	mech, ir, err := c.Start()
	require.NoError(t, err)
	require.Equal(t, "XOAUTH2", mech)
	require.Equal(t, "user=dr.martin@cabinet.mssante.fr\x01auth=Bearer tok-123\x01\x01", string(ir))
	// Dovecot's (and operators') refusal: a JSON continuation answered by
	// an empty response (Google's XOAUTH2 specification), then NO/535.
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"mail"}`))
	require.NoError(t, err)
	require.Empty(t, resp)
	r := refusalOf(c)
	require.NotNil(t, r, "no refusal kept")
	assert.Equal(t, "401", r.Status)
	assert.Equal(t, "mail", r.Scope)
	assert.ErrorIs(t, r, ErrAuth)
}

// On IMAP, where go-imap would write the empty acknowledgement as the
// invalid "=", the XOAUTH2 client acknowledges the error JSON with %x01
// and still keeps the refusal; other clients are not changed.
func TestXOAuth2ClientForIMAP(t *testing.T) {
	c := forIMAP(NewXOAuth2Client("dr.martin@cabinet.mssante.fr", "tok-123"))
	mech, ir, err := c.Start()
	require.NoError(t, err)
	assert.Equal(t, XOAuth2, mech)
	assert.Equal(t, "user=dr.martin@cabinet.mssante.fr\x01auth=Bearer tok-123\x01\x01", string(ir))
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"mail"}`))
	require.NoError(t, err)
	assert.Equal(t, []byte{0x01}, resp)
	r := refused(c, errors.New("NO"))
	require.NotNil(t, r)
	assert.Equal(t, "401", r.Status)
	assert.EqualError(t, r.Reply, "NO")
	assert.ErrorIs(t, r, ErrAuth)

	ob := &oauthBearer{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "u", Token: "t"})}
	assert.Same(t, ob, forIMAP(ob).(*oauthBearer))
	resp, err = ob.Next([]byte(`{"status":"invalid_token"}`))
	require.NoError(t, err)
	assert.Equal(t, []byte{0x01}, resp, "RFC 7628 §3.2.3 dummy response")
	assert.Nil(t, refused(sasl.NewExternalClient(""), errors.New("NO")), "not one of ours")
}

func TestActorFromCertificate(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// CPS-like subject: multi-valued RDN with CN (8+RPPS), SN, GN.
	subj := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "801234567890"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "CAMPARINI"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Marcel"},
	}}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subj, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	a := ActorFromCertificate(c, trace.AuthCPS)
	assert.Equal(t, "801234567890", a.ID)
	assert.Equal(t, "IDNPS", a.IDType)
	assert.Equal(t, "Marcel CAMPARINI", a.Name)
	assert.Equal(t, trace.AuthCPS, a.Auth)
}
