//go:build unix

package bal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

func (e *env) sender(t *testing.T, pf *baltest.Postfix, leaf *baltest.Leaf, mailbox string) *bal.Sender {
	c, err := bal.NewCertificate(leaf.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatalf("%v\n%s", err, pf.Log())
	}
	if !res.DSN || len(res.Accepted) != 1 {
		t.Errorf("send: %+v", res)
	}
	ok2 := report(baltest.CPSUser)
	if _, err := snd.Send(guard(t), ok2); err != nil {
		t.Fatal(err)
	}
	mixed := report("inconnu@"+baltest.TestDomain, "dr.martin@ailleurs.mssante.fr")
	mixed.ReadReceipt = false
	res, err = snd.Send(guard(t), mixed)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 1 || res.Refused["dr.martin@ailleurs.mssante.fr"] == nil || res.Refused["dr.martin@ailleurs.mssante.fr"].Temporary() {
		t.Errorf("mixed recipients: accepted %v refused %v", res.Accepted, res.Refused)
	}
	// A send where no recipient is accepted is a permanent SMTP error.
	_, err = snd.Send(guard(t), report("dr.martin@ailleurs.mssante.fr"))
	var se *bal.SMTPError
	if !errors.As(err, &se) || se.Temporary() || se.Command != "RCPT" {
		t.Errorf("all refused: %v", err)
	}

	if n, err := e.dc.WaitMessages(guard(t), baltest.CPSUser, 2); err != nil || n != 2 {
		t.Fatalf("recipient has %d messages: %v", n, err)
	}

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
	n, err := loop.ProcessOnce(guard(t))
	if err != nil || n != 2 || len(seen) != 2 {
		t.Fatalf("loop: %d handled (%v), %v", n, seen, err)
	}
	if n, err := loop.ProcessOnce(guard(t)); err != nil || n != 0 {
		t.Errorf("second pass handled %d (%v): messages must not be handled twice", n, err)
	}

	// 3. Back at the sender: 2 success DSNs (relayed), 1 failure DSN,
	// 2 MDNs (processed, and processed/Error 902).
	if _, err := e.dc.WaitMessages(guard(t), baltest.ORGUser, 5); err != nil {
		t.Fatalf("sender mailbox: %v\n%s", err, pf.Log())
	}
	s, err := e.receiver(t, orgAuth(t, e), baltest.ORGUser).Open(guard(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, _, err := s.FetchNew(guard(t), "INBOX", bal.State{})
	if err != nil {
		t.Fatal(err)
	}
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
	if delivered < 2 || failed != 1 || mdnOK != 1 || mdnKO != 1 {
		t.Errorf("back at the sender: %d delivered, %d failed DSNs, %d/%d MDNs OK/KO (of %d messages)", delivered, failed, mdnOK, mdnKO, len(msgs))
	}

	// 4. The trace: every send and MDN recorded, the log verifies.
	s.Close()
	e.log.Close()
	if _, err := trace.Verify(e.path, e.ver); err != nil {
		t.Fatal(err)
	}
	counts := map[trace.Action]int{}
	trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK {
			counts[ev.Action]++
		}
		return nil
	})
	if counts[trace.Send] != 3 || counts[trace.MDNSent] != 2 || counts[trace.Move] != 2 {
		t.Errorf("traced successes: %v", counts)
	}
}

// A trace that cannot be written refuses the send (fail closed): nothing
// reaches the server.
func TestSendFailClosed(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)
	e.log.Close() // the trace is now unwritable
	_, err := snd.Send(context.Background(), report(baltest.CPSUser))
	if !errors.Is(err, trace.ErrNotRecorded) {
		t.Fatalf("got %v, want trace.ErrNotRecorded", err)
	}
	time.Sleep(500 * time.Millisecond)
	if n, _ := e.dc.CountMessages(baltest.CPSUser); n != 0 {
		t.Errorf("%d messages delivered although their trace could not be written", n)
	}
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
	if p := nextPass(t, passed); p.Err != nil || p.Handled != 0 {
		t.Fatalf("first pass: %+v", p)
	}
	m := report(baltest.CPSUser)
	m.ReadReceipt = false
	if _, err := e.sender(t, pf, e.pki.ORG, baltest.ORGUser).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != m.MessageID {
			t.Errorf("handled %s, sent %s", id, m.MessageID)
		}
	case <-time.After(2 * time.Minute): // from the delivery on: a hang guard
		t.Fatalf("the loop did not wake up on delivery\n%s", e.dc.Log())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run stopped by its context: %v, want nil", err)
	}

	// Pro Santé Connect whose refresh fails: Run stops with a TokenError.
	loop.Receiver = e.receiver(t, &bal.PSC{Source: failingSource{}, Username: baltest.CPSUser, Identity: trace.Actor{ID: "810002813839"}}, baltest.CPSUser)
	err := loop.Run(context.Background())
	var te *bal.TokenError
	if !errors.As(err, &te) {
		t.Errorf("Run with a dead token: %v", err)
	}
}

type failingSource struct{}

func (failingSource) Token() (*oauth2Token, error) {
	return nil, errors.New("refresh refused: session expired")
}
