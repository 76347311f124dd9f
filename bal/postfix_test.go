// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

func (e *env) sender(t *testing.T, pf *baltest.Postfix, leaf *baltest.Leaf, mailbox string) *bal.Sender {
	t.Helper()
	c, err := bal.NewCertificate(leaf.TLSCertificate())
	require.NoError(t, err)
	return &bal.Sender{Server: endpoint(t, pf.SubmissionAddr, false), ServerName: "localhost", Trust: e.trust, Auth: c,
		Mailbox: trace.Mailbox{Address: mailbox, Kind: "APP"}, Trace: e.log, Software: "gomss-test"}
}

// The whole exchange on real Postfix + Dovecot: send with DSN, the
// success and failure DSNs come back, the recipient's receive loop
// integrates one document and refuses another, the MDNs come back to the
// sender, and the trace log verifies.
func TestSendReceiveAcknowledge(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)

	// 1. Two reports to the CPS holder's mailbox, one to an unknown user
	// of the domain (refused later: a failure DSN), one recipient outside
	// the relayed domains (refused at RCPT).
	ok1 := report(baltest.CPSUser)
	res, err := snd.Send(guard(t), ok1)
	require.NoError(t, err, pf.Log())
	assert.True(t, res.DSN, "send: DSN requested")
	assert.Len(t, res.Accepted, 1, "send: accepted")
	ok2 := report(baltest.CPSUser)
	_, err = snd.Send(guard(t), ok2)
	require.NoError(t, err)
	mixed := report("inconnu@"+baltest.TestDomain, "dr.martin@ailleurs.mssante.fr")
	mixed.ReadReceipt = false
	res, err = snd.Send(guard(t), mixed)
	require.NoError(t, err)
	assert.Len(t, res.Accepted, 1, "mixed recipients: accepted")
	if refused := res.Refused["dr.martin@ailleurs.mssante.fr"]; assert.NotNil(t, refused, "mixed recipients: refused %v", res.Refused) {
		assert.False(t, refused.Temporary(), "mixed recipients: the refusal is permanent: %v", refused)
	}
	// A send where no recipient is accepted is a permanent SMTP error.
	_, err = snd.Send(guard(t), report("dr.martin@ailleurs.mssante.fr"))
	var se *bal.SMTPError
	if assert.ErrorAs(t, err, &se, "all refused") {
		assert.False(t, se.Temporary(), "all refused: permanent: %v", se)
		assert.Equal(t, "RCPT", se.Command, "all refused")
	}

	n, err := e.dc.WaitMessages(guard(t), baltest.CPSUser, 2)
	require.NoError(t, err, "recipient's messages")
	require.Equal(t, 2, n, "recipient's messages")

	// 2. The recipient's applicative loop: integrate the first report,
	// refuse the second (patient unknown).
	cps, _ := bal.NewCertificate(e.pki.CPS.TLSCertificate())
	var seen []string
	loop := &bal.Loop{
		Receiver: e.receiver(t, cps, baltest.CPSUser),
		Sender:   e.sender(t, pf, e.pki.CPS, baltest.CPSUser),
		From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Applicative, Entity: "PFI de test"},
		Product:  "DEV000000",
		Handler: func(_ context.Context, m *mssante.Received) error {
			seen = append(seen, m.MessageID)
			if m.MessageID == ok2.MessageID {
				return mssante.IntegrationPatientUnknown
			}
			if m.XDM == nil || m.XDM.Verify() != nil {
				return mssante.IntegrationOther
			}
			return nil
		},
		OnError: func(err error) { t.Logf("loop: %v", err) },
	}
	n, err = loop.ProcessOnce(guard(t))
	require.NoError(t, err, "loop")
	require.Equal(t, 2, n, "loop: handled (%v)", seen)
	require.Len(t, seen, 2, "loop: handler calls")
	n, err = loop.ProcessOnce(guard(t))
	assert.NoError(t, err, "second pass")
	assert.Zero(t, n, "second pass: messages must not be handled twice")

	// 3. Back at the sender: 2 success DSNs (relayed), 1 failure DSN,
	// 2 MDNs (processed, and processed/Error 902).
	_, err = e.dc.WaitMessages(guard(t), baltest.ORGUser, 5)
	require.NoError(t, err, "sender mailbox\n%s", pf.Log())
	s, err := e.receiver(t, orgAuth(t, e), baltest.ORGUser).Open(guard(t))
	require.NoError(t, err)
	defer s.Close()
	msgs, _, err := s.FetchNew(guard(t), "INBOX", bal.State{})
	require.NoError(t, err)
	var delivered, failed, mdnOK, mdnKO int
	for _, f := range msgs {
		m := f.Message
		if d, err := mssante.ParseDSN(m); err == nil {
			for _, r := range d.Recipients {
				switch {
				case r.Delivered():
					delivered++
				case r.Failed():
					failed++
				}
			}
			continue
		}
		if r, err := mssante.ParseMDN(m); err == nil {
			switch {
			case r.Success() && r.OriginalMessageID == ok1.MessageID:
				mdnOK++
			case r.Error != nil && r.Error.Code == 902 && r.OriginalMessageID == ok2.MessageID:
				mdnKO++
			}
		}
	}
	assert.GreaterOrEqual(t, delivered, 2, "back at the sender: delivered recipients in success DSNs (of %d messages)", len(msgs))
	assert.Equal(t, 1, failed, "back at the sender: failed recipients in DSNs (of %d messages)", len(msgs))
	assert.Equal(t, 1, mdnOK, "back at the sender: MDNs of ok1 processed (of %d messages)", len(msgs))
	assert.Equal(t, 1, mdnKO, "back at the sender: MDNs of ok2 with Error 902 (of %d messages)", len(msgs))

	// 4. The trace: every send and MDN recorded, the log verifies.
	s.Close()
	e.log.Close()
	_, err = trace.Verify(e.path, e.ver)
	require.NoError(t, err)
	counts := map[trace.Action]int{}
	_, err = trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK {
			counts[ev.Action]++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, counts[trace.Send], "traced successful sends (%v)", counts)
	assert.Equal(t, 2, counts[trace.MDNSent], "traced MDNs sent (%v)", counts)
	assert.Equal(t, 2, counts[trace.Move], "traced moves (%v)", counts)
}

// A trace that cannot be written refuses the send (fail closed): nothing
// reaches the server.
func TestSendFailClosed(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)
	e.log.Close() // the trace is now unwritable
	_, err := snd.Send(context.Background(), report(baltest.CPSUser))
	require.ErrorIs(t, err, trace.ErrNotRecorded)
	time.Sleep(500 * time.Millisecond)
	n, err := e.dc.CountMessages(baltest.CPSUser)
	require.NoError(t, err)
	assert.Zero(t, n, "messages delivered although their trace could not be written")
}

// The loop waits with IDLE: a message delivered while it waits is handled
// without polling; a token that can no longer be refreshed stops it.
func TestLoopIdle(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	cps, _ := bal.NewCertificate(e.pki.CPS.TLSCertificate())
	got := make(chan string, 4)
	loop := &bal.Loop{
		Receiver: e.receiver(t, cps, baltest.CPSUser),
		Sender:   e.sender(t, pf, e.pki.CPS, baltest.CPSUser),
		From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Applicative, Entity: "PFI de test"},
		Product:  "DEV000000",
		Handler:  func(_ context.Context, m *mssante.Received) error { got <- m.MessageID; return nil },
		Backoff:  100 * time.Millisecond,
	}
	onPass, passed := passes()
	loop.OnPass = onPass
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	// The first pass over the empty INBOX is over: the loop waits for new
	// messages from now on.
	p := nextPass(t, passed)
	require.NoError(t, p.Err, "first pass")
	require.Zero(t, p.Handled, "first pass")
	m := report(baltest.CPSUser)
	m.ReadReceipt = false
	_, err := e.sender(t, pf, e.pki.ORG, baltest.ORGUser).Send(context.Background(), m)
	require.NoError(t, err)
	select {
	case id := <-got:
		assert.Equal(t, m.MessageID, id, "handled message")
	case <-time.After(2 * time.Minute): // from the delivery on: a hang guard
		t.Fatalf("the loop did not wake up on delivery\n%s", e.dc.Log())
	}
	cancel()
	assert.NoError(t, <-done, "Run stopped by its context: want nil")

	// Pro Santé Connect whose refresh fails: Run stops with a TokenError.
	loop.Receiver = e.receiver(t, &bal.PSC{Source: failingSource{}, Username: baltest.CPSUser, Identity: trace.Actor{ID: "810002813839"}}, baltest.CPSUser)
	err = loop.Run(context.Background())
	var te *bal.TokenError
	assert.ErrorAs(t, err, &te, "Run with a dead token")
}

type failingSource struct{}

func (failingSource) Token() (*oauth2Token, error) {
	return nil, errors.New("refresh refused: session expired")
}
