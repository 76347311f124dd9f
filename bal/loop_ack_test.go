package bal_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// An MDN that cannot be sent because the submission server is out of
// reach leaves the message unfiled, and the next pass handles it again and
// sends the MDN: the sender is not left without its acknowledgement.
func TestLoopRetriesUnsentAcknowledgement(t *testing.T) {
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
	m := report(baltest.CPSUser)
	var raw bytes.Buffer
	raw.WriteString("Return-Path: <" + baltest.ORGUser + ">\r\n")
	if _, err := m.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	op.Deliver(baltest.CPSUser, raw.Bytes())

	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there any more
	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	loop.Sender.Server = endpoint(t, deadAddr, false)
	ctx := context.Background()
	if n, err := loop.ProcessOnce(ctx); err == nil || n != 0 {
		t.Fatalf("MDN unsendable: %d filed, %v; want an error and nothing filed", n, err)
	}
	if got := len(op.Messages(baltest.CPSUser, "INBOX")); got != 1 {
		t.Fatalf("%d messages left in INBOX, want the one whose MDN was not sent", got)
	}
	loop.Sender.Server = endpoint(t, op.SMTPAddr, false)
	if n, err := loop.ProcessOnce(ctx); err != nil || n != 1 {
		t.Fatalf("second pass: %d filed, %v", n, err)
	}
	if handled != 2 {
		t.Errorf("handled %d times, want 2 (again after the unsent MDN)", handled)
	}
	found := false
	for _, b := range op.Messages(baltest.ORGUser, "INBOX") {
		if r, err := mssante.Parse(bytes.NewReader(b), nil); err == nil {
			if mdn, err := mssante.ParseMDN(r); err == nil && mdn.OriginalMessageID == m.MessageID && mdn.Success() {
				found = true
			}
		}
	}
	if !found {
		t.Error("no MDN back at the sender after the second pass")
	}
	if got := len(op.Messages(baltest.CPSUser, "INBOX")); got != 0 {
		t.Errorf("%d messages left in INBOX", got)
	}
}

// Fail closed on reading too: when the trace of a message read cannot be
// written, FetchNew hands over no message and the loop does not call the
// handler.
func TestReadNotHandedOverWithoutTrace(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	var raw bytes.Buffer
	raw.WriteString("Return-Path: <" + baltest.ORGUser + ">\r\n")
	if _, err := report(baltest.CPSUser).WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	op.Deliver(baltest.CPSUser, raw.Bytes())
	rec := trace.RecorderFunc(func(_ context.Context, e trace.Event) error {
		if e.Action == trace.Read {
			return errors.New("disk full")
		}
		return nil
	})
	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	n, err := loop.ProcessOnce(context.Background())
	if !errors.Is(err, trace.ErrNotRecorded) || n != 0 || handled != 0 {
		t.Errorf("read trace unwritable: %d filed, handler called %d times, %v; want trace.ErrNotRecorded and nothing handed over", n, handled, err)
	}
	if loop.State.LastUID != 0 {
		t.Errorf("State moved to %+v", loop.State)
	}
}

// A backlog is read in batches: FetchNew takes at most MaxFetch messages
// (or MaxFetchBytes, at least one) in UID order and HasMore says others
// wait; the loop goes through all of them in one pass.
func TestFetchInBatches(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	var ids []string
	for range 5 {
		m := report(baltest.CPSUser)
		m.ReadReceipt = false
		var raw bytes.Buffer
		if _, err := m.WriteTo(&raw); err != nil {
			t.Fatal(err)
		}
		op.Deliver(baltest.CPSUser, raw.Bytes())
		ids = append(ids, m.MessageID)
	}
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	cps, _ := bal.NewCertificate(pki.CPS.TLSCertificate())
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	rcv := &bal.Receiver{Server: endpoint(t, op.IMAPAddr, false), ServerName: "localhost", Trust: trust, Auth: cps,
		Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec, MaxFetch: 2}
	ctx := context.Background()
	s, err := rcv.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var sizes []int
	st := bal.State{}
	for {
		msgs, next, err := s.FetchNew(ctx, "INBOX", st)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(msgs))
		for _, f := range msgs {
			got = append(got, f.Message.MessageID)
		}
		st = next
		if !s.HasMore() {
			break
		}
	}
	if !slices.Equal(got, ids) || !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Errorf("batches of %v, messages %q, want [2 2 1] and %q", sizes, got, ids)
	}
	// A byte limit below one message: one message per call.
	rcv.MaxFetch, rcv.MaxFetchBytes = 0, 1
	msgs, _, err := s.FetchNew(ctx, "INBOX", bal.State{})
	if err != nil || len(msgs) != 1 || !s.HasMore() {
		t.Errorf("MaxFetchBytes 1: %d messages, more %v, %v", len(msgs), s.HasMore(), err)
	}
	s.Close()

	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	loop.Receiver.MaxFetch = 2
	if n, err := loop.ProcessOnce(ctx); err != nil || n != 5 || handled != 5 {
		t.Errorf("loop with MaxFetch 2: %d filed, %d handled, %v; want all 5 in one pass", n, handled, err)
	}
}

// A received message whose Message-ID holds a control character is handled
// like any other: its trace is written (the id made safe), and the loop is
// not blocked by a trace refused (fail closed).
func TestLoopOddMessageID(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	m := report(baltest.CPSUser)
	m.ReadReceipt = false
	var raw bytes.Buffer
	if _, err := m.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	odd := bytes.Replace(raw.Bytes(), []byte("Message-ID: "+m.MessageID), []byte("Message-ID: <odd\x01id@x.mssante.fr>"), 1)
	if bytes.Equal(odd, raw.Bytes()) {
		t.Fatal("no Message-ID to replace")
	}
	op.Deliver(baltest.CPSUser, odd)
	var ids []string
	rec := trace.RecorderFunc(func(_ context.Context, e trace.Event) error {
		if err := e.Normalize(); err != nil {
			return err // as a FileLog does
		}
		if e.MessageID != "" {
			ids = append(ids, e.MessageID)
		}
		return nil
	})
	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	if n, err := loop.ProcessOnce(context.Background()); err != nil || n != 1 || handled != 1 {
		t.Fatalf("%d filed, handled %d, %v", n, handled, err)
	}
	if len(ids) == 0 || strings.ContainsRune(ids[0], 1) {
		t.Errorf("traced message ids %q", ids)
	}
}

// opLoop is the receive loop of CPSUser on the in-process operator (its
// certificate on both servers), traced to rec, counting in *handled the
// messages its handler gets.
func opLoop(t *testing.T, pki *baltest.PKI, op *baltest.Operator, rec trace.Recorder, handled *int) *bal.Loop {
	t.Helper()
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	cps, err := bal.NewCertificate(pki.CPS.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	return &bal.Loop{
		Receiver: &bal.Receiver{Server: endpoint(t, op.IMAPAddr, false), ServerName: "localhost", Trust: trust, Auth: cps,
			Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec},
		Sender: &bal.Sender{Server: endpoint(t, op.SMTPAddr, false), ServerName: "localhost", Trust: trust, Auth: cps,
			Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec},
		From:    mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Applicative, Entity: "PFI de test"},
		Product: "DEV000000",
		Handler: func(context.Context, *mssante.Received) error { *handled++; return nil },
	}
}
