//go:build unix

package baltest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

const testMessage = "From: <lps@test.mssante.fr>\nTo: <jean.dupont@test.mssante.fr>\nSubject: baltest\nMessage-ID: <baltest-1@test.mssante.fr>\n\nBonjour.\n"

func TestDovecot(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	d.AddToken("jeton-valide", CPSUser)

	// Deliver one message to the CPS holder first: logging in later and
	// finding it proves which mailbox the certificate opened.
	replies := lmtpDeliver(t, d.LMTPAddr, ORGUser, []string{CPSUser, "inconnu@" + TestDomain}, testMessage)
	if r := replies[CPSUser]; !strings.HasPrefix(r, "250 2.0.0") {
		t.Errorf("LMTP to %s: %s", CPSUser, r)
	}
	if r := replies["inconnu@"+TestDomain]; !strings.HasPrefix(r, "550 5.1.1") {
		t.Errorf("LMTP to an unknown user: %s, want 550 5.1.1", r)
	}
	if n, err := d.CountMessages(CPSUser); n != 1 || err != nil {
		t.Fatalf("INBOX of %s on disk: %d messages, %v; want 1", CPSUser, n, err)
	}

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
			if err != nil {
				t.Fatal(err)
			}
			lines, err := c.authenticate(tc.mech, []byte(tc.ir))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("AUTHENTICATE %s: %v %q, want %s", tc.mech, err, lines, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AUTHENTICATE %s: %v", tc.mech, err)
			}
			if n, err := c.exists(); n != tc.wantMsgs || err != nil {
				t.Errorf("INBOX: %d messages, %v; want %d", n, err, tc.wantMsgs)
			}
		})
	}

	log := d.Log()
	for _, want := range []string{
		"user=<jean.dupont@test.mssante.fr>, method=EXTERNAL",
		"user=<lps@test.mssante.fr>, method=EXTERNAL",
		"certificate revoked",
		"certificate has expired",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not contain %q", want)
		}
	}
	if d.IntrospectionRequests() < 2 {
		t.Errorf("%d introspection requests, want at least 2", d.IntrospectionRequests())
	}
}

// TestDovecotRequireClientCert checks that a server requiring client
// certificates refuses a password without one and accepts it with one.
func TestDovecotRequireClientCert(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, RequireClientCert: true})
	plain := []byte("\x00" + CPSUser + "\x00" + DefaultPassword)
	c, err := dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.authenticate("PLAIN", plain); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("PLAIN without a certificate: %v, want a refusal naming the certificate", err)
	}
	c, err = dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(p.CPS))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.authenticate("PLAIN", plain); err != nil {
		t.Errorf("PLAIN with the CPS certificate: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if v := c.conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS12 {
		t.Errorf("TLS version %x", v)
	}
	if _, err := c.authenticate("EXTERNAL", nil); err != nil {
		t.Fatal(err)
	}
	lmtpDeliver(t, d.LMTPAddr, ORGUser, []string{CPSUser}, testMessage)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // from the delivery on: a hang guard
	defer cancel()
	if n, err := d.WaitMessages(ctx, CPSUser, 1); err != nil || n != 1 {
		t.Errorf("WaitMessages: %d, %v", n, err)
	}
}

// TestDovecotServerLeaf serves the WrongHost certificate: a client checking
// the host name refuses the server.
func TestDovecotServerLeaf(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, ServerLeaf: p.WrongHost})
	_, err := dialIMAP(t, d.IMAPSAddr, false, p.ClientTLSConfig(p.CPS))
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) || hostErr.Certificate.Subject.CommonName != WrongHostName {
		t.Errorf("handshake with the wrong-host certificate: %v, want an x509.HostnameError", err)
	}
	cfg := p.ClientTLSConfig(p.CPS)
	cfg.ServerName = WrongHostName
	if _, err := dialIMAP(t, d.IMAPSAddr, false, cfg); err != nil {
		t.Errorf("handshake naming %s: %v", WrongHostName, err)
	}
}

// TestDovecotSkipCRL shows that the refusal of the revoked certificate
// comes from the CRL: without CRL checking the same certificate logs in.
func TestDovecotSkipCRL(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p, SkipCRL: true})
	c, err := dialIMAP(t, d.IMAPAddr, true, p.ClientTLSConfig(p.Revoked))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.authenticate("EXTERNAL", nil); err != nil {
		t.Errorf("revoked certificate without CRL checking: %v", err)
	}
}
