//go:build unix

package bal_test

import (
	"errors"
	"slices"
	"testing"

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
	return &bal.Sender{Server: endpoint(t, pf.SubmissionAddr, false), ServerName: "localhost", Trust: e.trust, Auth: auth,
		Mailbox: trace.Mailbox{Address: baltest.CPSUser, Kind: "PER"}, Trace: e.log, Software: "gomss-test"}
}

// tracedLogins returns the requests of the successful logins in the trace
// (e.log must be closed).
func tracedLogins(t *testing.T, e *env) []trace.Event {
	t.Helper()
	var out []trace.Event
	if _, err := trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Action == trace.Login && ev.Response.OK {
			out = append(out, ev)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatalf("%v\n%s", err, pf.Log())
	}
	if len(res.Accepted) != 1 || len(res.Refused) != 0 {
		t.Errorf("send: %+v", res)
	}
	if n, err := e.dc.WaitMessages(guard(t), baltest.OtherUser, 1); err != nil || n != 1 {
		t.Fatalf("%s has %d messages: %v", baltest.OtherUser, n, err)
	}

	t.Run("bad token", func(t *testing.T) {
		_, err := e.submissionSender(t, pf, psc("jeton-inconnu")).Send(guard(t), personalReport(baltest.OtherUser))
		var re *bal.RefusedError
		if !errors.As(err, &re) || !errors.Is(err, bal.ErrAuth) {
			t.Fatalf("got %v, want a *bal.RefusedError wrapping bal.ErrAuth", err)
		}
		if re.Mechanism != bal.XOAuth2 || re.Status != "401" || re.Schemes != "bearer" {
			t.Errorf("refusal %+v, want Dovecot's XOAUTH2 JSON (status 401, schemes bearer)", re)
		}
	})

	t.Run("sender not owned", func(t *testing.T) {
		// The ORG mailbox's address as envelope sender: Postfix refuses it
		// for the token's user (reject_authenticated_sender_login_mismatch).
		_, err := snd.Send(guard(t), report(baltest.OtherUser))
		var se *bal.SMTPError
		if !errors.As(err, &se) || se.Code != 553 || se.Temporary() {
			t.Errorf("got %v, want a permanent 553 refusal", err)
		}
	})

	if n, _ := e.dc.CountMessages(baltest.OtherUser); n != 1 {
		t.Errorf("%s has %d messages after the refusals, want 1", baltest.OtherUser, n)
	}
	e.log.Close()
	logins := tracedLogins(t, e)
	want := jeanDupont
	want.Auth = trace.AuthPSC
	if len(logins) != 2 {
		t.Fatalf("%d successful logins traced, want 2", len(logins))
	}
	for _, ev := range logins {
		if ev.Actor != want || ev.Request.Command != "AUTH" || !slices.Equal(ev.Request.Params, []string{bal.XOAuth2}) {
			t.Errorf("traced login: %+v %+v, want %+v with AUTH XOAUTH2", ev.Actor, ev.Request, want)
		}
	}
}
