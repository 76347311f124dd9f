// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// waitFor polls read until it matches re and returns what it read. It is
// called once the awaited event has happened (a log line is written after
// the client has its answer); its budget only guards against a hang.
func waitFor(t *testing.T, what string, read func() string, re *regexp.Regexp) string {
	t.Helper()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		s := read()
		if re.MatchString(s) {
			return s
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("no line matching %s in %s:\n%s", re, what, s)
		}
	}
}

// authLog runs attempt and returns what Dovecot logged meanwhile, up to
// the line of a second, marker login made afterwards: Dovecot's single auth
// process logs through one pipe, in order, so once the marker's line is in
// the file every line the attempt caused in that process is too.
func authLog(t *testing.T, e *env, attempt func()) string {
	t.Helper()
	before := len(e.dc.Log())
	attempt()
	marker := "marqueur-" + strings.ToLower(trace.NewID()[:12]) + "@" + baltest.TestDomain
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-marqueur"}), Username: marker, Identity: jeanDupont}
	s, err := e.receiver(t, onlyMech{psc, "OAUTHBEARER"}, baltest.CPSUser).Open(context.Background())
	if err == nil {
		s.Close()
	}
	require.Error(t, err, "the marker login was accepted")
	line := "oauth2(" + marker
	log := waitFor(t, "Dovecot's log", e.dc.Log, regexp.MustCompile(regexp.QuoteMeta(line)))
	return log[before:strings.Index(log, line)]
}

// A refused Pro Santé Connect token ends the SASL exchange the way the
// mechanism's specification says, so that the server closes it cleanly
// with its refusal, "NO [AUTHENTICATIONFAILED]", instead of a protocol
// error: on the real Dovecot, for XOAUTH2 and OAUTHBEARER, the error is a
// *bal.RefusedError (bal.ErrAuth) with the server's JSON and that final
// NO, and Dovecot's own log shows the token refused and not "Invalid base64
// data in continued response" (what the "=" go-imap writes for an empty
// continuation caused, answered with BAD).
func TestIMAPRefusedTokenClosesExchange(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ mech, status string }{
		{bal.XOAuth2, "401"},
		{"OAUTHBEARER", "invalid_token"},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-expire-" + tc.mech}),
				Username: baltest.CPSUser, Identity: jeanDupont, Host: "localhost", Port: 143}
			var err error
			log := authLog(t, e, func() {
				var s *bal.Session
				if s, err = e.receiver(t, onlyMech{psc, tc.mech}, baltest.CPSUser).Open(context.Background()); err == nil {
					s.Close()
				}
			})
			require.ErrorIs(t, err, bal.ErrAuth)
			var refused *bal.RefusedError
			require.ErrorAs(t, err, &refused)
			assert.Equal(t, tc.mech, refused.Mechanism)
			assert.Equal(t, tc.status, refused.Status, "the server's JSON")
			// The server's final answer to the exchange: NO, neither BAD
			// nor a dropped connection.
			var ie *bal.IMAPError
			require.ErrorAs(t, refused.Reply, &ie, "final reply %v", refused.Reply)
			assert.Equal(t, "AUTHENTICATE", ie.Command)
			var final *imap.Error
			require.ErrorAs(t, ie, &final)
			assert.Equal(t, imap.StatusResponseTypeNo, final.Type, "final reply %v", final)
			assert.Equal(t, imap.ResponseCodeAuthenticationFailed, final.Code, "final reply %v", final)

			assert.Contains(t, log, "oauth2("+baltest.CPSUser+",", "Dovecot's log of the attempt")
			assert.Contains(t, log, "oauth2 failed: Introspection failed: Provided token is not valid")
			assert.NotContains(t, log, "Invalid base64")
		})
	}
}

// The same on submission, Postfix handing the exchange to Dovecot's
// authentication (smtpd_sasl_type = dovecot): go-smtp writes XOAUTH2's
// empty acknowledgement as an empty line and OAUTHBEARER's %x01 as "AQ==";
// the refusal ends with 535 (permanent), which the error carries, and
// Dovecot logs the refused token, not a base64 error. (go-smtp v0.25.1 then
// writes a "*" although the exchange is over, emersion/go-smtp#316; Postfix
// logs it as a non-SMTP command and hangs up, and the session is being
// closed anyway.)
func TestSubmissionRefusedTokenClosesExchange(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc, ClientCertOptional: true})
	for _, tc := range []struct{ mech, status string }{
		{bal.XOAuth2, "401"},
		{"OAUTHBEARER", "invalid_token"},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-expire-" + tc.mech}),
				Username: baltest.CPSUser, Identity: jeanDupont, Host: "localhost", Port: 587}
			var err error
			log := authLog(t, e, func() {
				_, err = e.submissionSender(t, pf, onlyMech{psc, tc.mech}).Send(context.Background(), personalReport(baltest.OtherUser))
			})
			require.ErrorIs(t, err, bal.ErrAuth)
			var refused *bal.RefusedError
			require.ErrorAs(t, err, &refused)
			assert.Equal(t, tc.mech, refused.Mechanism)
			assert.Equal(t, tc.status, refused.Status, "the server's JSON")
			var se *bal.SMTPError
			require.ErrorAs(t, refused.Reply, &se, "final reply %v", refused.Reply)
			assert.Equal(t, 535, se.Code, "final reply %v", se)
			assert.False(t, se.Temporary(), "a refused token is not a passing failure")

			assert.Contains(t, log, "oauth2("+baltest.CPSUser+",", "Dovecot's log of the attempt")
			assert.Contains(t, log, "oauth2 failed: Introspection failed: Provided token is not valid")
			assert.NotContains(t, log, "Invalid base64")
			waitFor(t, "Postfix's log", pf.Log, regexp.MustCompile(`SASL `+tc.mech+` authentication failed`))
		})
	}
}
