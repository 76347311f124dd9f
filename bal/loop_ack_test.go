// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
	t.Cleanup(crl.Close)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	m := report(baltest.CPSUser)
	var raw bytes.Buffer
	raw.WriteString("Return-Path: <" + baltest.ORGUser + ">\r\n")
	_, err = m.WriteTo(&raw)
	require.NoError(t, err)
	op.Deliver(baltest.CPSUser, raw.Bytes())

	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there any more
	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	loop.Sender.Server = endpoint(t, deadAddr, false)
	ctx := context.Background()
	n, err := loop.ProcessOnce(ctx)
	require.Error(t, err, "MDN unsendable: want an error and nothing filed")
	require.Zero(t, n, "MDN unsendable: want an error and nothing filed")
	require.Len(t, op.Messages(baltest.CPSUser, "INBOX"), 1, "messages left in INBOX: want the one whose MDN was not sent")
	loop.Sender.Server = endpoint(t, op.SMTPAddr, false)
	n, err = loop.ProcessOnce(ctx)
	require.NoError(t, err, "second pass")
	require.Equal(t, 1, n, "second pass: filed")
	assert.Equal(t, 2, handled, "times handled (again after the unsent MDN)")
	found := false
	for _, b := range op.Messages(baltest.ORGUser, "INBOX") {
		if r, err := mssante.Parse(bytes.NewReader(b), nil); err == nil {
			if mdn, err := mssante.ParseMDN(r); err == nil && mdn.OriginalMessageID == m.MessageID && mdn.Success() {
				found = true
			}
		}
	}
	assert.True(t, found, "no MDN back at the sender after the second pass")
	assert.Empty(t, op.Messages(baltest.CPSUser, "INBOX"), "messages left in INBOX")
}

// Fail closed on reading too: when the trace of a message read cannot be
// written, FetchNew hands over no message and the loop does not call the
// handler.
func TestReadNotHandedOverWithoutTrace(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	var raw bytes.Buffer
	raw.WriteString("Return-Path: <" + baltest.ORGUser + ">\r\n")
	_, err = report(baltest.CPSUser).WriteTo(&raw)
	require.NoError(t, err)
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
	// Read trace unwritable: nothing handed over.
	assert.ErrorIs(t, err, trace.ErrNotRecorded, "read trace unwritable")
	assert.Zero(t, n, "read trace unwritable: filed")
	assert.Zero(t, handled, "read trace unwritable: handler calls")
	assert.Zero(t, loop.State.LastUID, "State moved to %+v", loop.State)
}

// A backlog is read in batches: FetchNew takes at most MaxFetch messages
// (or MaxFetchBytes, at least one) in UID order and HasMore says others
// wait; the loop goes through all of them in one pass.
func TestFetchInBatches(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	var ids []string
	for range 5 {
		m := report(baltest.CPSUser)
		m.ReadReceipt = false
		var raw bytes.Buffer
		_, err := m.WriteTo(&raw)
		require.NoError(t, err)
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
	require.NoError(t, err)
	var got []string
	var sizes []int
	st := bal.State{}
	for {
		msgs, next, err := s.FetchNew(ctx, "INBOX", st)
		require.NoError(t, err)
		sizes = append(sizes, len(msgs))
		for _, f := range msgs {
			got = append(got, f.Message.MessageID)
		}
		st = next
		if !s.HasMore() {
			break
		}
	}
	assert.Equal(t, []int{2, 2, 1}, sizes, "batches")
	assert.Equal(t, ids, got, "messages, in UID order")
	// A byte limit below one message: one message per call.
	rcv.MaxFetch, rcv.MaxFetchBytes = 0, 1
	msgs, _, err := s.FetchNew(ctx, "INBOX", bal.State{})
	assert.NoError(t, err, "MaxFetchBytes 1")
	assert.Len(t, msgs, 1, "MaxFetchBytes 1")
	assert.True(t, s.HasMore(), "MaxFetchBytes 1: HasMore")
	s.Close()

	handled := 0
	loop := opLoop(t, pki, op, rec, &handled)
	loop.Receiver.MaxFetch = 2
	n, err := loop.ProcessOnce(ctx)
	// All 5 in one pass.
	assert.NoError(t, err, "loop with MaxFetch 2")
	assert.Equal(t, 5, n, "loop with MaxFetch 2: filed")
	assert.Equal(t, 5, handled, "loop with MaxFetch 2: handled")
}

// A received message whose Message-ID holds a control character is handled
// like any other: its trace is written (the id made safe), and the loop is
// not blocked by a trace refused (fail closed).
func TestLoopOddMessageID(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	m := report(baltest.CPSUser)
	m.ReadReceipt = false
	var raw bytes.Buffer
	_, err = m.WriteTo(&raw)
	require.NoError(t, err)
	odd := bytes.Replace(raw.Bytes(), []byte("Message-ID: "+m.MessageID), []byte("Message-ID: <odd\x01id@x.mssante.fr>"), 1)
	require.False(t, bytes.Equal(odd, raw.Bytes()), "no Message-ID to replace")
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
	n, err := loop.ProcessOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n, "filed")
	require.Equal(t, 1, handled, "handled")
	if assert.NotEmpty(t, ids, "traced message ids") {
		assert.NotContains(t, ids[0], "\x01", "traced message id made safe")
	}
}

// opLoop is the receive loop of CPSUser on the in-process operator (its
// certificate on both servers), traced to rec, counting in *handled the
// messages its handler gets.
func opLoop(t *testing.T, pki *baltest.PKI, op *baltest.Operator, rec trace.Recorder, handled *int) *bal.Loop {
	t.Helper()
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	cps, err := bal.NewCertificate(pki.CPS.TLSCertificate())
	require.NoError(t, err)
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
