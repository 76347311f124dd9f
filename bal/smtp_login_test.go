// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// eventLog keeps the events recorded, in order.
type eventLog struct {
	mu     sync.Mutex
	events []trace.Event
}

func (l *eventLog) Record(_ context.Context, e trace.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	return nil
}

// take returns the events recorded since the last take.
func (l *eventLog) take() []trace.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

// temporary is what a caller sees by asking the error itself.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// A login that fails at the TLS handshake or at the EHLO that follows it,
// on real Postfix, with STARTTLS and with implicit TLS: the server's
// certificate from an unknown authority or for another name, its
// revocation status unknown (the CRL server gone), the client certificate
// missing or expired (Postfix answers 421 4.7.1 and hangs up). Each time
// the login is traced ok=false with the cause (never "authenticated"),
// nothing else is attempted (no "send" traced), and the error wraps the
// bal sentinel, names the server and is not temporary except for the
// unknown revocation status.
func TestLoginFailuresTraced(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
	defer crl.Close()
	dc := baltest.StartDovecot(t, baltest.DovecotConfig{PKI: pki})
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: pki, Dovecot: dc})
	other, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	roots := []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}
	org, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	// The expired certificate, loaded without the loader's date check,
	// as a certificate that expires while the program runs would be.
	expired, err := bal.NewCertificate(pki.Expired.TLSCertificate())
	require.NoError(t, err)
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton"}), Username: baltest.CPSUser, Identity: jeanDupont}
	log := &eventLog{}
	cache := func() *bal.CRLCache { return &bal.CRLCache{Client: &http.Client{Timeout: 5 * time.Second}} }

	type failure struct {
		name       string
		trust      *bal.Trust
		serverName string
		auth       bal.Authenticator
		sentinel   error
		op         string
		code       string // Postfix's reply code, when it answered
		cause      string // in the error and the trace
		temporary  bool
		check      func(t *testing.T, err error)
	}
	failures := []failure{
		{name: "unknown CA", trust: &bal.Trust{Roots: []*x509.Certificate{other.RootFort.Cert, other.RootElementaire.Cert}, CRLs: cache()},
			auth: org, sentinel: bal.ErrServerCertificate, op: "TLS", cause: "unknown authority",
			check: func(t *testing.T, err error) { assert.ErrorAs(t, err, new(x509.UnknownAuthorityError)) }},
		{name: "wrong host name", trust: &bal.Trust{Roots: roots, CRLs: cache()}, serverName: baltest.WrongHostName,
			auth: org, sentinel: bal.ErrServerCertificate, op: "TLS", cause: "not " + baltest.WrongHostName,
			check: func(t *testing.T, err error) { assert.ErrorAs(t, err, new(x509.HostnameError)) }},
		{name: "no client certificate", trust: &bal.Trust{Roots: roots, CRLs: cache()}, auth: psc,
			sentinel: bal.ErrClientCertificate, op: "EHLO", code: "421", cause: "No client certificate presented"},
		{name: "expired client certificate", trust: &bal.Trust{Roots: roots, CRLs: cache()}, auth: expired,
			sentinel: bal.ErrClientCertificate, op: "EHLO", code: "421", cause: "Client certificate not trusted"},
		// Last: the CRL server is stopped before it, and the trust has
		// an empty cache.
		{name: "revocation unknown", trust: &bal.Trust{Roots: roots, CRLs: cache()}, auth: org,
			sentinel: bal.ErrServerCertificate, op: "TLS", cause: "revocation status unknown", temporary: true,
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, bal.ErrRevocationUnknown) }},
	}
	for _, f := range failures {
		if f.name == "revocation unknown" {
			crl.Close()
		}
		for _, implicit := range []bool{false, true} {
			mode, addr := "STARTTLS", pf.SubmissionAddr
			if implicit {
				mode, addr = "implicit TLS", pf.SubmissionsAddr
			}
			t.Run(f.name+"/"+mode, func(t *testing.T) {
				name := f.serverName
				if name == "" {
					name = "localhost"
				}
				snd := &bal.Sender{Server: endpoint(t, addr, implicit), ServerName: name, Trust: f.trust, Auth: f.auth,
					Mailbox: trace.Mailbox{Address: baltest.CPSUser, Kind: "PER"}, Trace: log, Software: "gomss-test"}
				log.take()
				_, err := snd.Send(context.Background(), personalReport(baltest.OtherUser))
				require.Error(t, err)
				t.Logf("%v", err)
				assert.ErrorIs(t, err, f.sentinel)
				assert.Contains(t, err.Error(), addr, "the error names the server")
				assert.Contains(t, err.Error(), f.cause)
				var se *bal.SendError
				if assert.ErrorAs(t, err, &se) {
					assert.Equal(t, f.op, se.Op)
					assert.Equal(t, addr, se.Server)
					assert.False(t, se.DataSent)
				}
				assert.Equal(t, f.temporary, temporary(err), "Temporary()")
				var refusal *bal.SMTPError
				if f.code != "" && assert.ErrorAs(t, err, &refusal) {
					assert.False(t, refusal.Temporary(), "a refusal of the certificate is not temporary, whatever its code")
					assert.Equal(t, "EHLO", refusal.Command)
					assert.Equal(t, "4.7.1", refusal.Enhanced)
				}
				if f.check != nil {
					f.check(t, err)
				}
				events := log.take()
				var logins []trace.Event
				for _, ev := range events {
					if ev.Action == trace.Login {
						logins = append(logins, ev)
						continue
					}
					assertNotSent(t, ev)
				}
				require.Len(t, logins, 2, "pending, then the outcome")
				assert.True(t, logins[0].Response.Pending())
				out := logins[1].Response
				assert.False(t, out.OK, "login traced ok=true: %+v", out)
				assert.NotEqual(t, "authenticated", out.Text)
				assert.Contains(t, out.Text, f.cause, "the trace names the cause")
				assert.Equal(t, f.code, out.Code)
			})
		}
	}
}

// A server that refuses the client certificate in the TLS handshake, with
// an alert (the in-process operator is crypto/tls: certificate_expired
// for an expired certificate), with STARTTLS and implicit TLS: ErrClientCertificate,
// not temporary, traced as the login's failure.
func TestClientCertificateAlertNotTemporary(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	expired, err := bal.NewCertificate(pki.Expired.TLSCertificate())
	require.NoError(t, err)
	for _, implicit := range []bool{false, true} {
		addr := op.SMTPAddr
		if implicit {
			addr = op.SMTPSAddr
		}
		log := &eventLog{}
		snd := &bal.Sender{Server: endpoint(t, addr, implicit), ServerName: "localhost",
			Trust: &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
			Auth:  expired, Mailbox: trace.Mailbox{Address: baltest.ORGUser}, Trace: log}
		_, err := snd.Send(context.Background(), report(baltest.CPSUser))
		require.Error(t, err)
		t.Logf("implicit %v: %v", implicit, err)
		assert.ErrorIs(t, err, bal.ErrClientCertificate)
		assert.False(t, temporary(err))
		assert.Contains(t, err.Error(), addr)
		// crypto/tls's server answers an expired certificate with the
		// certificate_expired alert (45).
		assert.Contains(t, err.Error(), "remote error: "+tls.AlertError(45).Error())
		events := log.take()
		// The pending login, its failure, and the send that never reached
		// its transaction (traced as not sent, naming the message).
		require.Len(t, events, 3)
		assert.Equal(t, trace.Login, events[1].Action)
		assert.False(t, events[1].Response.OK)
		assert.Contains(t, events[1].Response.Text, "client certificate refused")
		assertNotSent(t, events[2])
	}
}

// assertNotSent checks that ev, traced beside a failed login, is the
// failure of the send that never reached MAIL (Sender.notSent): never an
// action traced as done.
func assertNotSent(t *testing.T, ev trace.Event) {
	t.Helper()
	assert.Equal(t, trace.Send, ev.Action, "only the login and the message not sent are traced: %+v", ev)
	assert.False(t, ev.Response.OK, "a send traced ok=true after a failed login: %+v", ev)
	assert.True(t, strings.HasPrefix(ev.Response.Text, "not sent: "), "the send's trace says it was not sent: %q", ev.Response.Text)
	assert.NotEmpty(t, ev.MessageID, "the send's trace names the message")
}
