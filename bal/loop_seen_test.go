// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// withFrom returns raw with its From header (and its folded lines)
// replaced by one naming from.
func withFrom(t *testing.T, raw []byte, from string) []byte {
	t.Helper()
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	require.True(t, ok)
	var out []string
	skipping := false
	for _, line := range strings.Split(string(head), "\r\n") {
		switch {
		case strings.HasPrefix(strings.ToLower(line), "from:"):
			out = append(out, "From: <"+from+">")
			skipping = true
		case skipping && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
		default:
			skipping = false
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\r\n") + "\r\n\r\n" + string(body))
}

// On the real Dovecot, a second copy of a document message (same sender,
// same Message-ID: what an outbox resends when it could not know whether
// the first was accepted, or what Postfix redelivers after its restart) is
// not given to the handler again: it is filed where the first copy went
// (Traites after success, Erreurs after an integration error), its move
// traced with the Message-ID, and listed in PassInfo.Duplicates. A message
// from another sender that takes the same Message-ID is no copy: it is
// handled. With a SeenFile, a copy arriving after the loop's process
// restarted (a new Loop, the file reopened) is still recognised.
func TestLoopSkipsCopies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rcv := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	build := func() (*mssante.Message, []byte) {
		doc := report(baltest.ORGUser)
		doc.ReadReceipt = false // no MDN: the loop needs no Sender
		var b bytes.Buffer
		_, err := doc.WriteTo(&b)
		require.NoError(t, err)
		return doc, b.Bytes()
	}
	ok, okRaw := build()
	bad, badRaw := build()
	forged := withFrom(t, okRaw, baltest.OtherUser)
	appendAll := func(raws ...[]byte) {
		s, err := rcv.Open(guard(t))
		require.NoError(t, err)
		defer s.Close()
		for _, raw := range raws {
			require.NoError(t, s.Append(guard(t), "INBOX", raw, ""))
		}
	}
	appendAll(okRaw, okRaw, badRaw, forged, badRaw)

	seenPath := filepath.Join(t.TempDir(), "seen.log")
	seen, err := bal.OpenSeenFile(seenPath, 0)
	require.NoError(t, err)
	var handled []string
	newLoop := func(seen bal.SeenStore) *bal.Loop {
		return &bal.Loop{Receiver: rcv, From: ok.From, Product: "DEV000000", Seen: seen,
			Handler: func(_ context.Context, m *mssante.Received) error {
				handled = append(handled, m.From.Address+" "+m.MessageID)
				if m.MessageID == bad.MessageID {
					return mssante.IntegrationPatientUnknown
				}
				return nil
			},
			OnError: func(err error) { t.Errorf("OnError: %v", err) },
		}
	}
	loop := newLoop(seen)
	n, err := loop.ProcessOnce(guard(t))
	require.NoError(t, err)
	assert.Equal(t, 5, n, "filed: the five messages, copies included")
	assert.Equal(t, []string{
		baltest.ORGUser + " " + ok.MessageID,
		baltest.ORGUser + " " + bad.MessageID,
		baltest.OtherUser + " " + ok.MessageID,
	}, handled)
	assert.Equal(t, 3, seen.Len())
	require.NoError(t, seen.Close())

	// The process restarts: a new Loop, the file reopened, one more copy
	// of each; OnPass tells what the pass filed as copies.
	appendAll(okRaw, badRaw)
	seen, err = bal.OpenSeenFile(seenPath, 0)
	require.NoError(t, err)
	defer seen.Close()
	assert.Equal(t, 3, seen.Len(), "what the file remembers")
	loop = newLoop(seen)
	loop.State = bal.State{} // the State was not kept: the copies are told by Seen alone
	onPass, ch := passes()
	loop.OnPass = onPass
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(runCtx) }()
	p := nextPass(t, ch)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, p.Err)
	assert.Zero(t, p.Handled)
	assert.Equal(t, []string{ok.MessageID, bad.MessageID}, p.Duplicates)
	assert.Len(t, handled, 3, "no copy handled after the restart")

	s, err := rcv.Open(guard(t))
	require.NoError(t, err)
	defer s.Close()
	for folder, want := range map[string]int{"INBOX": 0, "Traites": 4, "Erreurs": 3} {
		msgs, _, err := s.FetchNew(guard(t), folder, bal.State{})
		require.NoError(t, err)
		assert.Len(t, msgs, want, "messages in %s", folder)
	}
	s.Close()
	e.log.Close()
	moves := map[string]int{}
	_, err = trace.Scan(e.path, trace.Filter{Actions: []trace.Action{trace.Move}}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK && (slices.Contains(ev.Request.Params, "Traites") || slices.Contains(ev.Request.Params, "Erreurs")) {
			moves[ev.MessageID]++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{ok.MessageID: 4, bad.MessageID: 3}, moves, "every move traced with its Message-ID")
}

// Without Seen, the Loop still recognises copies while it runs (an
// in-memory set): the second copy of a pass is filed, not handled.
func TestLoopSkipsCopiesInMemory(t *testing.T) {
	e := newEnv(t)
	rcv := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	doc := report(baltest.ORGUser)
	doc.ReadReceipt = false
	var b bytes.Buffer
	_, err := doc.WriteTo(&b)
	require.NoError(t, err)
	s, err := rcv.Open(guard(t))
	require.NoError(t, err)
	require.NoError(t, s.Append(guard(t), "INBOX", b.Bytes(), ""))
	require.NoError(t, s.Append(guard(t), "INBOX", b.Bytes(), ""))
	require.NoError(t, s.Close())
	handled := 0
	loop := &bal.Loop{Receiver: rcv, From: doc.From,
		Handler: func(context.Context, *mssante.Received) error { handled++; return nil }}
	onPass, ch := passes()
	loop.OnPass = onPass
	runCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(runCtx) }()
	p := nextPass(t, ch)
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, 1, handled)
	assert.Equal(t, 1, p.Handled)
	assert.Equal(t, []string{doc.MessageID}, p.Duplicates)
}

// A document message that Parse refuses past its part limit, though it
// returns the part it read (the documents included), is never given to
// the handler: it is filed in Other and the error reported.
func TestLoopRefusedMessageNotIntegrated(t *testing.T) {
	e := newEnv(t)
	rcv := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	doc := report(baltest.ORGUser)
	doc.ReadReceipt = false
	var b bytes.Buffer
	_, err := doc.WriteTo(&b)
	require.NoError(t, err)
	raw := b.Bytes()
	_, params, err := mime.ParseMediaType(headerValue(t, raw, "Content-Type"))
	require.NoError(t, err)
	end := []byte("\r\n--" + params["boundary"] + "--")
	i := bytes.LastIndex(raw, end)
	require.Positive(t, i)
	var tiny bytes.Buffer
	for range mssante.DefaultMaxParts {
		tiny.WriteString("\r\n--" + params["boundary"] + "\r\n\r\nx")
	}
	raw = slices.Concat(raw[:i], tiny.Bytes(), raw[i:])
	m, perr := mssante.Parse(bytes.NewReader(raw), nil)
	require.ErrorIs(t, perr, mssante.ErrTooLarge)
	require.NotNil(t, m, "Parse returns the part it read")
	require.True(t, m.IsDocumentMessage(), "the part read holds the documents")

	s, err := rcv.Open(guard(t))
	require.NoError(t, err)
	require.NoError(t, s.Append(guard(t), "INBOX", raw, ""))
	require.NoError(t, s.Close())
	handled := 0
	var reported []error
	loop := &bal.Loop{Receiver: rcv, From: doc.From,
		Handler: func(context.Context, *mssante.Received) error { handled++; return nil },
		OnError: func(err error) { reported = append(reported, err) }}
	n, err := loop.ProcessOnce(guard(t))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Zero(t, handled, "a refused message integrated")
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], mssante.ErrTooLarge)
	s, err = rcv.Open(guard(t))
	require.NoError(t, err)
	defer s.Close()
	msgs, _, err := s.FetchNew(guard(t), "Autres", bal.State{})
	require.NoError(t, err)
	assert.Len(t, msgs, 1)
}

// headerValue returns the first value of field in raw's header.
func headerValue(t *testing.T, raw []byte, field string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	return msg.Header.Get(field)
}
