// SPDX-License-Identifier: Apache-2.0

package baltest_test

import (
	"context"
	"crypto/x509"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
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
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
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
		require.NoError(t, err)
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
	require.NoError(t, err, "Send")
	assert.True(t, res.DSN, "Send: DSN")
	assert.Equal(t, []string{baltest.CPSUser}, res.Accepted, "Send: accepted")
	if e := res.Refused["inconnu@"+baltest.TestDomain]; assert.NotNil(t, e, "unknown recipient: want 550 5.1.1 (refused %v)", res.Refused) {
		assert.Equal(t, 550, e.Code, "unknown recipient: %v", e)
		assert.Equal(t, "5.1.1", e.Enhanced, "unknown recipient: %v", e)
	}
	t.Logf("send (TLS, EXTERNAL, CRL check, %d bytes): %v", res.Size, time.Since(start))

	// The recipient reads the report.
	sess, err := receiver(certAuth(pki.CPS), baltest.CPSUser).Open(guard())
	require.NoError(t, err, "Receiver.Open with the CPS certificate")
	got, st, err := sess.FetchNew(guard(), "INBOX", bal.State{})
	require.NoError(t, err, "FetchNew")
	require.Len(t, got, 1, "FetchNew")
	r := got[0]
	require.NoError(t, r.ParseErr, "parse")
	assert.Equal(t, m.MessageID, r.Message.MessageID, "received: Message-ID")
	assert.Equal(t, baltest.ORGUser, r.Message.ReturnPath, "received: Return-Path")
	assert.Equal(t, "DEV000000", r.Message.MSS.NIL, "received: X-MSS-NIL")

	// A new message wakes the session up in IDLE, even one delivered just
	// before the IDLE starts (the server announces it then).
	op.Deliver(baltest.CPSUser, []byte("From: <"+baltest.OtherUser+">\r\nSubject: suivant\r\n\r\nx\r\n"))
	assert.NoError(t, sess.WaitNew(guard()), "WaitNew")
	more, _, err := sess.FetchNew(guard(), "INBOX", st)
	assert.NoError(t, err, "FetchNew after IDLE")
	assert.Len(t, more, 1, "FetchNew after IDLE")
	sess.Close()

	// The sender gets the success DSN.
	require.NoError(t, op.WaitMessages(guard(), baltest.ORGUser, 1))
	sess, err = receiver(certAuth(pki.ORG), baltest.ORGUser).Open(guard())
	require.NoError(t, err)
	dsns, _, err := sess.FetchNew(guard(), "INBOX", bal.State{})
	sess.Close()
	require.NoError(t, err, "sender's INBOX")
	require.Len(t, dsns, 1, "sender's INBOX")
	require.NoError(t, dsns[0].ParseErr, "sender's INBOX")
	rep, err := mssante.ParseDSN(dsns[0].Message)
	require.NoError(t, err)
	assert.Equal(t, m.Envelope().DSN.EnvelopeID, rep.OriginalEnvelopeID, "DSN: original envelope id")
	assert.Equal(t, m.MessageID, rep.OriginalMessageID, "DSN: original Message-ID")
	if assert.Len(t, rep.Recipients, 1, "DSN: recipients") {
		rcpt := rep.Recipients[0]
		assert.True(t, rcpt.Delivered(), "DSN: delivered %+v", rcpt)
		assert.Equal(t, "2.0.0", rcpt.Status, "DSN: status")
		assert.Equal(t, baltest.CPSUser, rcpt.FinalRecipient, "DSN: final recipient")
	}

	// Pro Santé Connect tokens.
	op.AddToken("jeton-psc", baltest.CPSUser)
	psc := func(token string) *bal.PSC {
		return &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), Username: baltest.CPSUser,
			Identity: trace.Actor{ID: "810002813839", IDType: "IDNPS"}}
	}
	sess, err = receiver(psc("jeton-psc"), baltest.CPSUser).Open(guard())
	require.NoError(t, err, "Receiver.Open with a token")
	sess.Close()
	_, err = receiver(psc("jeton-perime"), baltest.CPSUser).Open(guard())
	var refused *bal.RefusedError
	if assert.ErrorAs(t, err, &refused, "bad token: want the operator's 401 refusal") {
		assert.Equal(t, "401", refused.Status, "bad token: the operator's JSON")
		assert.Equal(t, "mail", refused.Scope, "bad token: the operator's JSON")
	}

	// Every action was traced, none with the message content.
	events.mu.Lock()
	defer events.mu.Unlock()
	assert.GreaterOrEqual(t, len(events.events), 10, "trace events")
	for _, e := range events.events {
		assert.NotContains(t, e.Response.Text, "Compte rendu", "trace event holds content: %+v", e)
	}
}
