// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// submit sends msg through Postfix over STARTTLS with leaf as the client
// certificate, asking for DSNs of every outcome. It returns the first error
// with the step that failed.
func submit(pf *Postfix, leaf *Leaf, from string, to []string, msg string) error {
	return submitAuth(pf, leaf, nil, from, to, msg)
}

// submitAuth is submit with SMTP AUTH after STARTTLS when auth is not nil
// (leaf may then be nil).
func submitAuth(pf *Postfix, leaf *Leaf, auth smtp.Auth, from string, to []string, msg string) error {
	c, err := smtp.Dial(pf.SubmissionAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("lps.test"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("no STARTTLS")
	}
	cfg := pf.PKI.ClientTLSConfig(leaf)
	cfg.ServerName = "localhost"
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if ok, _ := c.Extension("DSN"); !ok {
		return fmt.Errorf("DSN not advertised after STARTTLS")
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	// net/smtp has no DSN parameters: MAIL and RCPT through its textproto
	// connection.
	cmd := func(code int, format string, args ...any) error {
		id, err := c.Text.Cmd(format, args...)
		if err != nil {
			return err
		}
		c.Text.StartResponse(id)
		defer c.Text.EndResponse(id)
		if _, msg, err := c.Text.ReadResponse(code); err != nil {
			return fmt.Errorf("%s: %w (%s)", strings.Fields(format)[0], err, msg)
		}
		return nil
	}
	if err := cmd(250, "MAIL FROM:<%s> RET=HDRS ENVID=baltest-1", from); err != nil {
		return err
	}
	for _, r := range to {
		if err := cmd(250, "RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;%s", r, r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return c.Quit()
}

func TestPostfix(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	pf := StartPostfix(t, PostfixConfig{Dovecot: d})

	// Accepted with the ORG certificate: delivered to the known user, a
	// success DSN ("relayed") and a failure DSN (unknown user, 5.1.1) come
	// back to the sender's mailbox.
	err := submit(pf, p.ORG, ORGUser, []string{CPSUser, "inconnu@" + TestDomain}, testMessage)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // from the submission on: a hang guard
	defer cancel()
	n, err := d.WaitMessages(ctx, CPSUser, 1)
	require.NoError(t, err, "INBOX of %s", CPSUser)
	require.Equal(t, 1, n, "INBOX of %s", CPSUser)
	_, err = d.WaitMessages(ctx, ORGUser, 2)
	require.NoError(t, err, "DSNs")
	paths, err := d.Messages(CPSUser)
	require.NoError(t, err)
	require.NotEmpty(t, paths, "INBOX of %s", CPSUser)
	got, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	assert.Contains(t, string(got), "Message-ID: <baltest-1@test.mssante.fr>", "delivered message")
	assert.Contains(t, string(got), "Bonjour.", "delivered message")
	var dsns string
	paths, err = d.Messages(ORGUser)
	require.NoError(t, err)
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		dsns += string(b)
	}
	for _, want := range []string{"Action: relayed", "Action: failed", "Status: 5.1.1", "Original-Envelope-Id: baltest-1"} {
		assert.Contains(t, dsns, want, "DSNs")
	}

	// Refused: no certificate, an expired one, a revoked one (by
	// fingerprint), and mail to a domain outside the operator.
	for _, tc := range []struct {
		name    string
		leaf    *Leaf
		to      string
		wantErr string
	}{
		{"no certificate", nil, CPSUser, "No client certificate presented"},
		{"expired", p.Expired, CPSUser, "not trusted"},
		{"revoked", p.Revoked, CPSUser, "client certificate revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Postfix's reply, as the user reads it, says why.
			err := submit(pf, tc.leaf, ORGUser, []string{tc.to}, testMessage)
			assert.ErrorContains(t, err, tc.wantErr, "submission")
		})
	}
	n, err = d.CountMessages(CPSUser)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "INBOX of %s after the refusals", CPSUser)
}

// xoauth2 is an SMTP XOAUTH2 client for net/smtp; it keeps the error
// challenge (JSON) the server sends before refusing a token.
type xoauth2 struct {
	user, token string
	challenge   string
}

func (a *xoauth2) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *xoauth2) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.challenge = string(fromServer)
	return []byte{}, nil
}

// SMTP AUTH through Dovecot's authentication service: with
// ClientCertOptional a client without certificate submits after PLAIN or
// XOAUTH2, only from its own address; a certificate presented does not
// change the SASL login name.
func TestPostfixSASL(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	pf := StartPostfix(t, PostfixConfig{Dovecot: d, ClientCertOptional: true})
	d.AddToken("jeton-de-jean", CPSUser)
	// net/smtp sends PLAIN only to the host it dialed.
	host, _, err := net.SplitHostPort(pf.SubmissionAddr)
	require.NoError(t, err)
	plain := smtp.PlainAuth("", OtherUser, DefaultPassword, host)

	for _, tc := range []struct {
		name    string
		leaf    *Leaf
		auth    smtp.Auth
		from    string
		wantErr string
	}{
		{"plain", nil, plain, OtherUser, ""},
		{"xoauth2", nil, &xoauth2{user: CPSUser, token: "jeton-de-jean"}, CPSUser, ""},
		// The ORG certificate is checked by Postfix only: Dovecot logs in
		// the token's user, not the certificate's (ORGUser), so the
		// sender check accepts CPSUser.
		{"xoauth2 with another certificate", p.ORG, &xoauth2{user: CPSUser, token: "jeton-de-jean"}, CPSUser, ""},
		{"null sender", nil, plain, "", ""},
		{"no authentication", nil, nil, OtherUser, "Access denied"},
		{"wrong password", nil, smtp.PlainAuth("", OtherUser, "faux", host), OtherUser, "5.7.8"},
		{"bad token", nil, &xoauth2{user: CPSUser, token: "faux"}, CPSUser, "5.7.8"},
		{"sender not owned", nil, plain, ORGUser, "not owned by user " + OtherUser},
		{"revoked certificate", p.Revoked, plain, OtherUser, "client certificate revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := submitAuth(pf, tc.leaf, tc.auth, tc.from, []string{ORGUser}, testMessage)
			if tc.wantErr == "" {
				require.NoError(t, err)
			} else {
				// Postfix's reply (its text or enhanced status code).
				assert.ErrorContains(t, err, tc.wantErr, "submission")
			}
			if x, ok := tc.auth.(*xoauth2); ok && tc.wantErr != "" {
				// Dovecot's XOAUTH2 refusal reaches the client through
				// Postfix as a 334 challenge.
				assert.Contains(t, x.challenge, `"status":"401"`, "XOAUTH2 challenge: want Dovecot's JSON with status 401")
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // from the submissions on: a hang guard
	defer cancel()
	n, err := d.WaitMessages(ctx, ORGUser, 4)
	require.NoError(t, err, "%d messages delivered, want 4\n%s", n, pf.Log())
	log := pf.Log()
	for _, want := range []string{"sasl_method=PLAIN, sasl_username=" + OtherUser, "sasl_method=XOAUTH2, sasl_username=" + CPSUser} {
		assert.Contains(t, log, want, "Postfix's log")
	}
}
