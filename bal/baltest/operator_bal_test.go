package baltest_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// opEvents is a trace recorder kept in memory.
type opEvents struct {
	mu     sync.Mutex
	events []trace.Event
}

func (r *opEvents) Record(_ context.Context, e trace.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

func opEndpoint(t *testing.T, addr string) bal.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return bal.Endpoint{Host: host, Port: p}
}

// The gomss client against the test operator, as a vendor's CI would use
// it: bal.Sender submits a report with an XDM archive and a DSN request
// (ORG certificate, SASL EXTERNAL, operator certificate and CRLs checked),
// bal.Receiver reads it in the recipient's mailbox (CPS certificate) and
// the success DSN in the sender's, and a Pro Santé Connect token logs in
// while a bad one is refused with the operator's JSON.
func TestOperatorWithBalClient(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(crl.Close)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, CRLs: &bal.CRLCache{}}
	events := &opEvents{}
	// Each step gets its own hang guard, started with it.
	guard := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		t.Cleanup(cancel)
		return ctx
	}
	certAuth := func(leaf *baltest.Leaf) *bal.Certificate {
		c, err := bal.NewCertificate(leaf.TLSCertificate())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	receiver := func(auth bal.Authenticator, mailbox string) *bal.Receiver {
		return &bal.Receiver{Server: opEndpoint(t, op.IMAPAddr), ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: trace.Mailbox{Address: mailbox}, Trace: events, Software: "gomss-test"}
	}

	start := time.Now()
	snd := &bal.Sender{Server: opEndpoint(t, op.SMTPAddr), ServerName: "localhost", Trust: trust, Auth: certAuth(pki.ORG),
		Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}, Trace: events, Software: "gomss-test"}
	m := &mssante.Message{
		From: mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
		To:   []string{baltest.CPSUser, "inconnu@" + baltest.TestDomain},
		Text: "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
			PDF: mssante.BytesOpener(testdocs.PDF("CR", 20_000))}},
		XDM:     xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product: "DEV000000",
		DSN:     mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	res, err := snd.Send(guard(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !res.DSN || len(res.Accepted) != 1 || res.Accepted[0] != baltest.CPSUser {
		t.Errorf("Send: DSN %v, accepted %v", res.DSN, res.Accepted)
	}
	if e := res.Refused["inconnu@"+baltest.TestDomain]; e == nil || e.Code != 550 || e.Enhanced != "5.1.1" {
		t.Errorf("unknown recipient: %v, want 550 5.1.1", e)
	}
	t.Logf("send (TLS, EXTERNAL, CRL check, %d bytes): %v", res.Size, time.Since(start))

	// The recipient reads the report.
	sess, err := receiver(certAuth(pki.CPS), baltest.CPSUser).Open(guard())
	if err != nil {
		t.Fatalf("Receiver.Open with the CPS certificate: %v", err)
	}
	got, st, err := sess.FetchNew(guard(), "INBOX", bal.State{})
	if err != nil || len(got) != 1 {
		t.Fatalf("FetchNew: %d messages, %v", len(got), err)
	}
	r := got[0]
	if r.ParseErr != nil {
		t.Fatalf("parse: %v", r.ParseErr)
	}
	if r.Message.MessageID != m.MessageID || r.Message.ReturnPath != baltest.ORGUser || r.Message.MSS.NIL != "DEV000000" {
		t.Errorf("received: Message-ID %q (sent %q), Return-Path %q, X-MSS-NIL %q",
			r.Message.MessageID, m.MessageID, r.Message.ReturnPath, r.Message.MSS.NIL)
	}

	// A new message wakes the session up in IDLE, even one delivered just
	// before the IDLE starts (the server announces it then).
	op.Deliver(baltest.CPSUser, []byte("From: <"+baltest.OtherUser+">\r\nSubject: suivant\r\n\r\nx\r\n"))
	if err := sess.WaitNew(guard()); err != nil {
		t.Errorf("WaitNew: %v", err)
	}
	if more, _, err := sess.FetchNew(guard(), "INBOX", st); err != nil || len(more) != 1 {
		t.Errorf("FetchNew after IDLE: %d messages, %v", len(more), err)
	}
	sess.Close()

	// The sender gets the success DSN.
	if err := op.WaitMessages(guard(), baltest.ORGUser, 1); err != nil {
		t.Fatal(err)
	}
	sess, err = receiver(certAuth(pki.ORG), baltest.ORGUser).Open(guard())
	if err != nil {
		t.Fatal(err)
	}
	dsns, _, err := sess.FetchNew(guard(), "INBOX", bal.State{})
	sess.Close()
	if err != nil || len(dsns) != 1 || dsns[0].ParseErr != nil {
		t.Fatalf("sender's INBOX: %d messages, %v", len(dsns), err)
	}
	rep, err := mssante.ParseDSN(dsns[0].Message)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OriginalEnvelopeID != m.Envelope().DSN.EnvelopeID || rep.OriginalMessageID != m.MessageID ||
		len(rep.Recipients) != 1 || !rep.Recipients[0].Delivered() || rep.Recipients[0].Status != "2.0.0" ||
		rep.Recipients[0].FinalRecipient != baltest.CPSUser {
		t.Errorf("DSN: %+v", rep)
	}

	// Pro Santé Connect tokens.
	op.AddToken("jeton-psc", baltest.CPSUser)
	psc := func(token string) *bal.PSC {
		return &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), Username: baltest.CPSUser,
			Identity: trace.Actor{ID: "810002813839", IDType: "IDNPS"}}
	}
	sess, err = receiver(psc("jeton-psc"), baltest.CPSUser).Open(guard())
	if err != nil {
		t.Fatalf("Receiver.Open with a token: %v", err)
	}
	sess.Close()
	_, err = receiver(psc("jeton-perime"), baltest.CPSUser).Open(guard())
	var refused *bal.RefusedError
	if !errors.As(err, &refused) || refused.Status != "401" || refused.Scope != "mail" {
		t.Errorf("bad token: %v, want the operator's 401 refusal", err)
	}

	// Every action was traced, none with the message content.
	events.mu.Lock()
	defer events.mu.Unlock()
	if len(events.events) < 10 {
		t.Errorf("%d trace events", len(events.events))
	}
	for _, e := range events.events {
		if strings.Contains(e.Response.Text, "Compte rendu") {
			t.Errorf("trace event holds content: %+v", e)
		}
	}
}
