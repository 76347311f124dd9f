// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// passes returns an OnPass hook and the channel it sends each pass to. The
// hook never blocks the loop.
func passes() (func(bal.PassInfo), <-chan bal.PassInfo) {
	ch := make(chan bal.PassInfo, 64)
	return func(p bal.PassInfo) {
		select {
		case ch <- p:
		default:
		}
	}, ch
}

// nextPass waits for the loop's next pass. The wait only guards against a
// loop that never passes: it starts once the loop is running.
func nextPass(t *testing.T, ch <-chan bal.PassInfo) bal.PassInfo {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(2 * time.Minute):
		t.Fatal("the loop made no pass")
		return bal.PassInfo{}
	}
}

// On the real Dovecot, a loop pass files every message it reads: the
// document message after its handler, and the others — a plain message,
// one that mssante.Parse reads in spite of a defect (said in its
// Problems, not an error) and two that cannot be parsed at all (reported
// to OnError) — in Other
// ("Autres"), each move traced with the message's id and listed in the
// pass's PassInfo.Other; nothing stays in the INBOX behind the loop's
// State. OnPass tells when the
// pass is over (no sleep), and ending ctx stops Run with nil.
func TestLoopFilesOtherMessages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rcv := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	s, err := rcv.Open(ctx)
	require.NoError(t, err)
	doc := report(baltest.ORGUser)
	doc.ReadReceipt = false
	var b bytes.Buffer
	_, err = doc.WriteTo(&b)
	require.NoError(t, err)
	const plainID = "<bonjour-1@test.mssante.fr>"
	plain := "From: " + baltest.CPSUser + "\r\nTo: " + baltest.ORGUser + "\r\nSubject: bonjour\r\nMessage-ID: " + plainID +
		"\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\n\r\nPas de document ici.\r\n"
	// The header reads, the body is read as text (multipart without
	// boundary: a Problem); then no header at all, twice.
	const brokenID = "<casse-1@test.mssante.fr>"
	brokenBody := "From: " + baltest.CPSUser + "\r\nMessage-ID: " + brokenID + "\r\nContent-Type: multipart/mixed\r\n\r\nsans frontière\r\n"
	brokenHeader := "Pas un en-tête\r\nFrom: " + baltest.CPSUser + "\r\nMessage-ID: <casse-2@test.mssante.fr>\r\n\r\nx\r\n"
	notMail := "// Not an RFC-822 Document" // enmime's testdata/mail/erroneous.raw
	for _, raw := range []string{plain, b.String(), brokenBody, brokenHeader, notMail} {
		require.NoError(t, s.Append(ctx, "INBOX", []byte(raw), ""))
	}
	require.NoError(t, s.Close())

	var handled []string
	var unreadable []error
	onPass, ch := passes()
	loop := &bal.Loop{Receiver: rcv, From: doc.From, Product: "DEV000000",
		Handler: func(_ context.Context, m *mssante.Received) error {
			handled = append(handled, m.MessageID)
			return nil
		},
		OnError: func(err error) { unreadable = append(unreadable, err) },
		OnPass:  onPass,
		Backoff: 100 * time.Millisecond,
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(runCtx) }()
	p := nextPass(t, ch)
	cancel()
	require.NoError(t, <-done, "Run stopped by its context")

	require.NoError(t, p.Err)
	assert.Equal(t, 1, p.Handled)
	assert.Equal(t, 0, p.Reports)
	assert.Equal(t, []string{plainID, brokenID, "", ""}, p.Other, "the plain message, the one read in spite of its defect, then the unreadable ones")
	assert.Equal(t, []string{doc.MessageID}, handled)
	require.Len(t, unreadable, 2)
	for _, err := range unreadable {
		assert.ErrorIs(t, err, mssante.ErrParse)
		assert.ErrorContains(t, err, "could not be parsed, moved to Autres")
	}
	assert.Equal(t, loop.State, p.State)

	s, err = rcv.Open(ctx)
	require.NoError(t, err)
	defer s.Close()
	for folder, want := range map[string]int{"INBOX": 0, "Traites": 1, "Autres": 4} {
		msgs, _, err := s.FetchNew(ctx, folder, bal.State{})
		require.NoError(t, err)
		assert.Len(t, msgs, want, "messages in %s", folder)
	}
	s.Close()
	e.log.Close()
	var moves []string
	_, err = trace.Scan(e.path, trace.Filter{Actions: []trace.Action{trace.Move}}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK && slices.Contains(ev.Request.Params, "Autres") {
			moves = append(moves, ev.MessageID)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{plainID, brokenID, "", ""}, moves, "the moves to Autres are traced")
}

// A Pro Santé Connect authenticator without Identity.ID (the author every
// trace event needs) is refused before anything happens: Receiver.Open,
// Sender.Send and Loop.Run fail with bal.ErrNoIdentity naming the field,
// without connecting and without a trace event; Run does not retry.
func TestPSCIdentityRequired(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	var events atomic.Int32
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { events.Add(1); return nil })
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton"}), Username: baltest.CPSUser,
		Identity: trace.Actor{Name: "Jean DUPONT"}}
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	trust := &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert, pki.RootElementaire.Cert}}
	ep := endpoint(t, ln.Addr().String(), false)
	rcv := &bal.Receiver{Server: ep, Trust: trust, Auth: psc, Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec}
	snd := &bal.Sender{Server: ep, Trust: trust, Auth: psc, Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec}

	_, err = rcv.Open(context.Background())
	require.ErrorIs(t, err, bal.ErrNoIdentity)
	assert.ErrorContains(t, err, "PSC.Identity.ID is empty")
	_, err = snd.Send(context.Background(), personalReport(baltest.OtherUser))
	require.ErrorIs(t, err, bal.ErrNoIdentity)
	loop := &bal.Loop{Receiver: rcv, Sender: snd, Handler: func(context.Context, *mssante.Received) error { return nil },
		OnError: func(error) {}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard: Run must return at once
	defer cancel()
	require.ErrorIs(t, loop.Run(ctx), bal.ErrNoIdentity)
	require.NoError(t, ctx.Err(), "Run retried instead of stopping")
	assert.Zero(t, conns.Load(), "connections made")
	assert.Zero(t, events.Load(), "trace events recorded")
}
