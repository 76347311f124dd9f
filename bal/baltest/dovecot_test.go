// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testMessage = "From: <lps@test.mssante.fr>\nTo: <jean.dupont@test.mssante.fr>\nSubject: baltest\nMessage-ID: <baltest-1@test.mssante.fr>\n\nBonjour.\n"

func TestDovecot(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	d.AddToken("jeton-valide", CPSUser)

	// Deliver one message to the CPS holder first: logging in later and
	// finding it proves which mailbox the certificate opened.
	replies := lmtpDeliver(t, d.LMTPAddr, ORGUser, []string{CPSUser, "inconnu@" + TestDomain}, testMessage)
	r := replies[CPSUser]
	assert.True(t, strings.HasPrefix(r, "250 2.0.0"), "LMTP to %s: %q", CPSUser, r)
	r = replies["inconnu@"+TestDomain]
	assert.True(t, strings.HasPrefix(r, "550 5.1.1"), "LMTP to an unknown user: %q, want 550 5.1.1", r)
	n, err := d.CountMessages(CPSUser)
	require.NoError(t, err, "INBOX of %s on disk", CPSUser)
	require.Equal(t, 1, n, "INBOX of %s on disk", CPSUser)

	for _, tc := range []struct {
		name     string
		startTLS bool
		leaf     *Leaf
		mech     string
		ir       string
		wantErr  string // empty: success
		wantMsgs int    // messages in the INBOX opened
	}{
		{name: "EXTERNAL CPS STARTTLS", startTLS: true, leaf: p.CPS, mech: "EXTERNAL", wantMsgs: 1},
		{name: "EXTERNAL CPS implicit TLS", leaf: p.CPS, mech: "EXTERNAL", wantMsgs: 1},
		{name: "EXTERNAL ORG", startTLS: true, leaf: p.ORG, mech: "EXTERNAL"},
		{name: "EXTERNAL revoked", startTLS: true, leaf: p.Revoked, mech: "EXTERNAL", wantErr: "NO"},
		{name: "EXTERNAL expired", startTLS: true, leaf: p.Expired, mech: "EXTERNAL", wantErr: "NO"},
		{name: "EXTERNAL without certificate", startTLS: true, mech: "EXTERNAL", wantErr: "NO"},
		{name: "PLAIN", startTLS: true, mech: "PLAIN", ir: "\x00" + CPSUser + "\x00" + DefaultPassword, wantMsgs: 1},
		{name: "PLAIN wrong password", startTLS: true, mech: "PLAIN", ir: "\x00" + CPSUser + "\x00faux", wantErr: "NO [AUTHENTICATIONFAILED]"},
		{name: "XOAUTH2", startTLS: true, mech: "XOAUTH2", ir: "user=" + CPSUser + "\x01auth=Bearer jeton-valide\x01\x01", wantMsgs: 1},
		{name: "XOAUTH2 bad token", startTLS: true, mech: "XOAUTH2", ir: "user=" + CPSUser + "\x01auth=Bearer jeton-faux\x01\x01", wantErr: "NO [AUTHENTICATIONFAILED]"},
		{name: "OAUTHBEARER", mech: "OAUTHBEARER", ir: "n,a=" + CPSUser + ",\x01auth=Bearer jeton-valide\x01\x01", wantMsgs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dialIMAP(t, map[bool]string{true: d.IMAPAddr, false: d.IMAPSAddr}[tc.startTLS], tc.startTLS, p.ClientTLSConfig(tc.leaf))
			require.NoError(t, err)
			lines, err := c.authenticate(tc.mech, []byte(tc.ir))
			if tc.wantErr != "" {
				// The test client's error is Dovecot's completion line.
				require.Error(t, err, "AUTHENTICATE %s: %q", tc.mech, lines)
				require.True(t, strings.HasPrefix(err.Error(), tc.wantErr), "AUTHENTICATE %s: %v %q, want %s", tc.mech, err, lines, tc.wantErr)
				return
			}
			require.NoError(t, err, "AUTHENTICATE %s", tc.mech)
			n, err := c.exists()
			assert.NoError(t, err, "INBOX")
			assert.Equal(t, tc.wantMsgs, n, "INBOX messages")
		})
	}

	log := d.Log()
	for _, want := range []string{
		"user=<jean.dupont@test.mssante.fr>, method=EXTERNAL",
		"user=<lps@test.mssante.fr>, method=EXTERNAL",
		"certificate revoked",
		"certificate has expired",
	} {
		assert.Contains(t, log, want, "Dovecot's log")
	}
	assert.GreaterOrEqual(t, d.IntrospectionRequests(), int64(2), "introspection requests")
}

// TestDovecotRequireClientCert checks that a server requiring client
// certificates refuses a password without one and accepts it with one.
func TestDovecotRequireClientCert(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, RequireClientCert: true})
	plain := []byte("\x00" + CPSUser + "\x00" + DefaultPassword)
	c, err := dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(nil))
	require.NoError(t, err)
	// Dovecot's refusal, as the user would read it, names the certificate.
	_, err = c.authenticate("PLAIN", plain)
	assert.ErrorContains(t, err, "certificate", "PLAIN without a certificate: want a refusal naming the certificate")
	c, err = dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(p.CPS))
	require.NoError(t, err)
	_, err = c.authenticate("PLAIN", plain)
	assert.NoError(t, err, "PLAIN with the CPS certificate")
}

// TestDovecotTLS12PKCS1 logs in with the CPS key restricted to TLS 1.2 and
// PKCS#1 v1.5 signatures, as with a card that cannot sign RSA-PSS.
func TestDovecotTLS12PKCS1(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	cfg := p.ClientTLSConfig(p.CPS)
	cfg.MaxVersion = tls.VersionTLS12
	cfg.Certificates[0].SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}
	c, err := dialIMAP(t, d.IMAPSAddr, false, cfg)
	require.NoError(t, err)
	assert.Equal(t, tls.VersionName(tls.VersionTLS12), tls.VersionName(c.conn.(*tls.Conn).ConnectionState().Version), "TLS version")
	_, err = c.authenticate("EXTERNAL", nil)
	require.NoError(t, err)
	lmtpDeliver(t, d.LMTPAddr, ORGUser, []string{CPSUser}, testMessage)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // from the delivery on: a hang guard
	defer cancel()
	n, err := d.WaitMessages(ctx, CPSUser, 1)
	assert.NoError(t, err, "WaitMessages")
	assert.Equal(t, 1, n, "WaitMessages")
}

// TestDovecotServerLeaf serves the WrongHost certificate: a client checking
// the host name refuses the server.
func TestDovecotServerLeaf(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, ServerLeaf: p.WrongHost})
	_, err := dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(p.CPS))
	var hostErr x509.HostnameError
	if assert.ErrorAs(t, err, &hostErr, "handshake with the wrong-host certificate") {
		assert.Equal(t, WrongHostName, hostErr.Certificate.Subject.CommonName, "the certificate refused")
	}
	cfg := p.ClientTLSConfig(p.CPS)
	cfg.ServerName = WrongHostName
	_, err = dialIMAP(t, d.IMAPSAddr, false, cfg)
	assert.NoError(t, err, "handshake naming %s", WrongHostName)
}

// TestDovecotSkipCRL shows that the refusal of the revoked certificate
// comes from the CRL: without CRL checking the same certificate logs in.
func TestDovecotSkipCRL(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, SkipCRL: true})
	c, err := dialIMAP(t, d.IMAPAddr, true, p.ClientTLSConfig(p.Revoked))
	require.NoError(t, err)
	_, err = c.authenticate("EXTERNAL", nil)
	assert.NoError(t, err, "revoked certificate without CRL checking")
}
