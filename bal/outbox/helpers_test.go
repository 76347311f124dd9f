// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// fakeAuth is an Authenticator that only names its actor: the tests of
// this file never open a connection (the session is faked).
type fakeAuth struct{}

func (fakeAuth) Actor() trace.Actor                                  { return trace.Actor{ID: "3TEST0001", IDType: "IDNST"} }
func (fakeAuth) ConfigureTLS(*tls.Config) error                      { return nil }
func (fakeAuth) SASL(context.Context, []string) (sasl.Client, error) { return nil, nil }

// events records trace events in memory.
type events struct {
	mu   sync.Mutex
	evs  []trace.Event
	fail error // returned by Record when set
}

func (e *events) Record(_ context.Context, ev trace.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail != nil {
		return e.fail
	}
	if err := ev.Normalize(); err != nil {
		return err
	}
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) of(action trace.Action, msgID string) []trace.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []trace.Event
	for _, ev := range e.evs {
		if ev.Action == action && (msgID == "" || ev.MessageID == msgID) {
			out = append(out, ev)
		}
	}
	return out
}

// reply is what the fake server does with one SendRaw.
type reply struct {
	res *bal.SendResult
	err error
}

// fakeServer scripts the answers to the SendRaw calls, in order; when the
// script is exhausted every message is accepted. It records what was sent.
type fakeServer struct {
	mu     sync.Mutex
	script []func(env mssante.Envelope, id string) reply
	sent   []sentMsg
	dials  int
	dialFn func() error // fails the dial when it returns an error
}

type sentMsg struct {
	env mssante.Envelope
	id  string
	raw []byte
}

func (f *fakeServer) then(fn func(env mssante.Envelope, id string) reply) *fakeServer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, fn)
	return f
}

func (f *fakeServer) calls() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.sent...)
}

func (f *fakeServer) dial(ctx context.Context) (session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if f.dialFn != nil {
		if err := f.dialFn(); err != nil {
			return nil, err
		}
	}
	return &fakeSession{f: f}, nil
}

type fakeSession struct {
	f      *fakeServer
	closed bool
}

func (s *fakeSession) SendRaw(ctx context.Context, env mssante.Envelope, id string, raw []byte) (*bal.SendResult, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.closed {
		return nil, &bal.SendError{Op: "MAIL", Kind: bal.ErrBatchClosed}
	}
	f.sent = append(f.sent, sentMsg{env: env, id: id, raw: bytes.Clone(raw)})
	if len(f.script) > 0 {
		fn := f.script[0]
		f.script = f.script[1:]
		r := fn(env, id)
		var se *bal.SendError
		if r.err != nil && asSendError(r.err, &se) {
			s.closed = true
		}
		return r.res, r.err
	}
	return accept(env), nil
}

func asSendError(err error, se **bal.SendError) bool {
	e, ok := err.(*bal.SendError)
	*se = e
	return ok
}

func (s *fakeSession) Close() error { s.closed = true; return nil }

func accept(env mssante.Envelope) *bal.SendResult {
	return &bal.SendResult{Accepted: append([]string(nil), env.Recipients...), Refused: map[string]*bal.SMTPError{},
		Reply: "2.0.0 Ok: queued as ABC"}
}

// newTestOutbox opens an outbox on a journal in dir with the fake server.
func newTestOutbox(t *testing.T, dir string, srv *fakeServer, tr *events, tune func(*Config)) *Outbox {
	t.Helper()
	j, err := OpenJournal(dir, &JournalOptions{NoSync: true})
	require.NoError(t, err)
	cfg := Config{
		Store:  j,
		Sender: testSender(tr),
		Retry:  Retry{Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, UnknownWait: time.Hour, MaxAttempts: 4},
	}
	if tune != nil {
		tune(&cfg)
	}
	o, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	o.dial = srv.dial
	t.Cleanup(func() { o.Close() })
	return o
}

func testSender(tr *events) *bal.Sender {
	return &bal.Sender{Auth: fakeAuth{}, Mailbox: trace.Mailbox{Address: "lps@hopital.test.mssante.fr", Kind: "APP"}, Trace: tr}
}

// message is a text message to the given recipients, asking for DSNs.
func message(to ...string) *mssante.Message {
	return &mssante.Message{
		From:    mssante.Sender{Address: "lps@hopital.test.mssante.fr", Kind: mssante.Applicative, Entity: "LPS de test"},
		To:      to,
		Subject: "Compte rendu",
		Text:    "Bonjour, ci-joint le compte rendu.",
		Product: "DEV000000",
		DSN:     mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
}

// runUntil runs the outbox until cond holds (a hang guard of two
// minutes, not a speed measure), then stops it.
func runUntil(t *testing.T, o *Outbox, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case err := <-done:
			cancel()
			require.NoError(t, err, "Run ended before the condition held")
			t.Fatal("Run returned before the condition held")
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("condition not reached")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
}

func phaseIs(o *Outbox, id string, p Phase) func() bool {
	return func() bool {
		st, ok := o.Status(id)
		return ok && st.Phase == p
	}
}

// dsn builds a DSN about msgID (its ENVID envid) for the recipients, with
// action and status per recipient: "addr action status diagnostic".
func dsn(t *testing.T, reportID, envid, msgID string, rcpts ...string) *mssante.Received {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "From: MAILER-DAEMON@mta.test.mssante.fr\r\nTo: lps@hopital.test.mssante.fr\r\nMessage-ID: %s\r\nSubject: Delivery report\r\n", reportID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n")
	b.WriteString("--B\r\nContent-Type: text/plain\r\n\r\nReport.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n")
	b.WriteString("Reporting-MTA: dns; mta.test.mssante.fr\r\n")
	if envid != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", envid)
	}
	for _, r := range rcpts {
		f := strings.SplitN(r, " ", 4)
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822;%s\r\nAction: %s\r\nStatus: %s\r\n", f[0], f[0], f[1], f[2])
		if len(f) == 4 {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", f[3])
		}
	}
	b.WriteString("\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n")
	if msgID != "" {
		fmt.Fprintf(&b, "Message-ID: %s\r\n", msgID)
	}
	b.WriteString("Subject: x\r\n\r\n--B--\r\n")
	m, err := mssante.Parse(strings.NewReader(b.String()), nil)
	require.NoError(t, err)
	return m
}

// mdn builds the MDN a recipient's software sends about the message sent
// (raw), with an integration error when code is not 0.
func mdn(t *testing.T, raw []byte, rcpt string, code int) *mssante.Received {
	t.Helper()
	orig, err := mssante.Parse(bytes.NewReader(append([]byte("Return-Path: <lps@hopital.test.mssante.fr>\r\n"), raw...)), nil)
	require.NoError(t, err)
	o := mssante.MDNOptions{From: mssante.Sender{Address: rcpt, Kind: mssante.Applicative, Entity: "PFI"}, Product: "DEV000001"}
	if code != 0 {
		e, _ := mssante.IntegrationErrorFor(code)
		o.Error = &e
	}
	a, err := mssante.NewMDN(orig, o)
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = a.WriteTo(&b)
	require.NoError(t, err)
	m, err := mssante.Parse(&b, nil)
	require.NoError(t, err)
	return m
}
