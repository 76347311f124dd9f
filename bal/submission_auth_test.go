// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// personalReport is a report sent from the CPS holder's personal mailbox.
func personalReport(to ...string) *mssante.Message {
	m := report(to...)
	m.From = mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"}
	m.ReadReceipt = false
	m.DSN = mssante.DSN{}
	return m
}

// submissionSender is a Sender to pf's submission port for the personal
// mailbox of the CPS holder.
func (e *env) submissionSender(t *testing.T, pf *baltest.Postfix, auth bal.Authenticator) *bal.Sender {
	t.Helper()
	return &bal.Sender{Server: endpoint(t, pf.SubmissionAddr, false), ServerName: "localhost", Trust: e.trust, Auth: auth,
		Mailbox: trace.Mailbox{Address: baltest.CPSUser, Kind: "PER"}, Trace: e.log, Software: "gomss-test"}
}

// tracedLogins returns the requests of the successful logins in the trace
// (e.log must be closed).
func tracedLogins(t *testing.T, e *env) []trace.Event {
	t.Helper()
	var out []trace.Event
	_, err := trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Action == trace.Login && ev.Response.OK {
			out = append(out, ev)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

var jeanDupont = trace.Actor{ID: "810002813839", IDType: "IDNPS", Name: "JEAN DUPONT"}

// A personal mailbox signed in with Pro Santé Connect submits through the
// real Postfix without a client certificate: SMTP AUTH XOAUTH2, the token
// checked by Dovecot's introspection through Postfix. A refused token
// gives Dovecot's JSON refusal (relayed by Postfix as a 334 challenge) as
// *bal.RefusedError; the token's user cannot send from another address.
func TestSubmissionPSC(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc, ClientCertOptional: true})
	e.dc.AddToken("jeton-psc-de-jean", baltest.CPSUser)
	psc := func(token string) *bal.PSC {
		return &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), Username: baltest.CPSUser, Identity: jeanDupont}
	}

	snd := e.submissionSender(t, pf, psc("jeton-psc-de-jean"))
	m := personalReport(baltest.OtherUser)
	res, err := snd.Send(guard(t), m)
	require.NoError(t, err, pf.Log())
	assert.Len(t, res.Accepted, 1, "send: accepted")
	assert.Empty(t, res.Refused, "send: refused")
	n, err := e.dc.WaitMessages(guard(t), baltest.OtherUser, 1)
	require.NoError(t, err, "messages of %s", baltest.OtherUser)
	require.Equal(t, 1, n, "messages of %s", baltest.OtherUser)

	t.Run("bad token", func(t *testing.T) {
		_, err := e.submissionSender(t, pf, psc("jeton-inconnu")).Send(guard(t), personalReport(baltest.OtherUser))
		var re *bal.RefusedError
		require.ErrorAs(t, err, &re, "want a *bal.RefusedError wrapping bal.ErrAuth")
		require.ErrorIs(t, err, bal.ErrAuth, "want a *bal.RefusedError wrapping bal.ErrAuth")
		// Dovecot's XOAUTH2 JSON.
		assert.Equal(t, bal.XOAuth2, re.Mechanism)
		assert.Equal(t, "401", re.Status)
		assert.Equal(t, "bearer", re.Schemes)
	})

	t.Run("sender not owned", func(t *testing.T) {
		// The ORG mailbox's address as envelope sender: Postfix refuses it
		// for the token's user (reject_authenticated_sender_login_mismatch).
		_, err := snd.Send(guard(t), report(baltest.OtherUser))
		var se *bal.SMTPError
		if assert.ErrorAs(t, err, &se, "want a permanent 553 refusal") {
			assert.Equal(t, 553, se.Code, "%v", se)
			assert.False(t, se.Temporary(), "want a permanent refusal: %v", se)
		}
	})

	n, err = e.dc.CountMessages(baltest.OtherUser)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "messages of %s after the refusals", baltest.OtherUser)
	e.log.Close()
	logins := tracedLogins(t, e)
	want := jeanDupont
	want.Auth = trace.AuthPSC
	require.Len(t, logins, 2, "successful logins traced")
	for _, ev := range logins {
		assert.Equal(t, want, ev.Actor, "traced login")
		assert.Equal(t, "AUTH", ev.Request.Command, "traced login")
		assert.Equal(t, []string{bal.XOAuth2}, ev.Request.Params, "traced login")
	}
}
