// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

const (
	rcptA = "dr.martin@cabinet.test.mssante.fr"
	rcptB = "secretariat@cabinet.test.mssante.fr"
	rcptC = "dr.absent@clinique.test.mssante.fr"
)

// The whole way of one message: queued (traced before and after), sent
// once, accepted, relayed by a DSN, processed by an MDN; every change is
// in the trace and survives a reopen.
func TestAcceptedThenReconciled(t *testing.T) {
	dir := t.TempDir()
	srv, tr := &fakeServer{}, &events{}
	o := newTestOutbox(t, dir, srv, tr, nil)
	m := message(rcptA)
	m.ReadReceipt = true
	st, err := o.Enqueue(context.Background(), m, EnqueueOptions{Ref: "doc-1"})
	require.NoError(t, err)
	id := m.MessageID
	assert.Equal(t, PhaseQueued, st.Phase)
	assert.True(t, st.ReadReceipt)
	runUntil(t, o, phaseIs(o, id, PhaseSent))
	require.Len(t, srv.calls(), 1)
	st, _ = o.Status(id)
	rc, _ := st.Recipient(rcptA)
	assert.Equal(t, Submitted, rc.State)
	assert.False(t, st.Settled(), "a DSN and an MDN are still expected")

	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<r1@mta>", "", id, rcptA+" relayed 2.0.0")))
	st, _ = o.Status(id)
	rc, _ = st.Recipient(rcptA)
	assert.Equal(t, Relayed, rc.State)
	assert.Equal(t, 1, rc.Copies)

	raw := srv.calls()[0].raw
	require.NoError(t, o.HandleReport(context.Background(), mdn(t, raw, rcptA, 0)))
	st, _ = o.Status(id)
	rc, _ = st.Recipient(rcptA)
	assert.Equal(t, Processed, rc.State)
	assert.True(t, st.Settled())

	queued := tr.of(ActionQueued, id)
	require.Len(t, queued, 2, "queued: traced before and after")
	assert.True(t, queued[0].Response.Pending())
	assert.True(t, queued[1].Response.OK)
	results := tr.of(ActionResult, id)
	require.Len(t, results, 1)
	assert.True(t, results[0].Response.OK)
	assert.Equal(t, "250", results[0].Response.Code)
	assert.Len(t, tr.of(ActionDelivery, id), 2, "one delivery-status event per report")

	// Replayed from the journal: the same status.
	require.NoError(t, o.Close())
	o2 := newTestOutbox(t, dir, &fakeServer{}, &events{}, nil)
	st2, ok := o2.Status(id)
	require.True(t, ok)
	assert.Equal(t, st, st2)
	byRef, ok := o2.ByRef("doc-1")
	require.True(t, ok)
	assert.Equal(t, id, byRef.MessageID)
}

// Enqueue with a Ref already there queues nothing more.
func TestEnqueueRefIdempotent(t *testing.T) {
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, &events{}, nil)
	m1 := message(rcptA)
	_, err := o.Enqueue(context.Background(), m1, EnqueueOptions{Ref: "doc-7"})
	require.NoError(t, err)
	m2 := message(rcptA)
	st, err := o.Enqueue(context.Background(), m2, EnqueueOptions{Ref: "doc-7"})
	require.NoError(t, err)
	assert.Equal(t, m1.MessageID, st.MessageID, "the message queued first")
	assert.Len(t, o.List(Filter{}), 1)
	m3 := message(rcptA)
	m3.MessageID = m1.MessageID
	_, err = o.Enqueue(context.Background(), m3, EnqueueOptions{})
	assert.ErrorIs(t, err, ErrDuplicate)
}

// A temporary refusal is tried again with backoff, up to the limit; then
// the message is failed with a reason a user can read.
func TestTemporaryRetriedThenGivenUp(t *testing.T) {
	srv, tr := &fakeServer{}, &events{}
	for range 10 {
		srv.then(func(env mssante.Envelope, id string) reply {
			return reply{err: &bal.SMTPError{Command: "DATA", Code: 451, Enhanced: "4.3.0", Message: "try later"}}
		})
	}
	o := newTestOutbox(t, t.TempDir(), srv, tr, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseFailed))
	assert.Len(t, srv.calls(), 4, "MaxAttempts attempts")
	st, _ := o.Status(m.MessageID)
	assert.Equal(t, 4, st.Attempts)
	rc, _ := st.Recipient(rcptA)
	assert.Equal(t, Failed, rc.State)
	assert.Contains(t, rc.Reason, "4 tentatives")
	for _, ev := range tr.of(ActionResult, m.MessageID) {
		assert.False(t, ev.Response.OK, "no result traced as accepted")
	}
	// The waits between attempts grow (1, 2, 4 ms: Backoff doubled up to
	// MaxBackoff), recorded as the Next of each deferred result.
	var nexts []time.Duration
	err = o.store.Load(context.Background(), func(r *Record) error {
		if r.Kind == KindResult && r.Result.Outcome == Deferred && !r.Result.GiveUp {
			nexts = append(nexts, r.Result.Next.Sub(r.Time))
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}, nexts)
}

// A permanent refusal is never tried again.
func TestPermanentNeverRetried(t *testing.T) {
	srv := (&fakeServer{}).then(func(env mssante.Envelope, id string) reply {
		return reply{err: &bal.SMTPError{Command: "DATA", Code: 552, Enhanced: "5.3.4", Message: "message too big"}}
	})
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseFailed))
	// Let the worker look again: nothing is due.
	due, _ := o.due(time.Now().Add(time.Hour), 10)
	assert.Empty(t, due)
	assert.Len(t, srv.calls(), 1)
	st, _ := o.Status(m.MessageID)
	rc, _ := st.Recipient(rcptA)
	assert.Contains(t, rc.Reason, "trop volumineux")
	assert.Contains(t, rc.Detail, "552")
}

// Recipients answered differently at RCPT: the refused one fails, the
// deferred one is sent again alone, the accepted one is never sent again.
func TestRecipientsResentOnlyWhenNotAccepted(t *testing.T) {
	srv := (&fakeServer{}).then(func(env mssante.Envelope, id string) reply {
		return reply{res: &bal.SendResult{Accepted: []string{rcptA}, Reply: "2.0.0 Ok", Refused: map[string]*bal.SMTPError{
			rcptB: {Command: "RCPT", Code: 450, Enhanced: "4.2.0", Message: "mailbox busy"},
			rcptC: {Command: "RCPT", Code: 550, Enhanced: "5.1.1", Message: "no such user"},
		}}}
	})
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, nil)
	m := message(rcptA, rcptB, rcptC)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	calls := srv.calls()
	require.Len(t, calls, 2)
	assert.Equal(t, []string{rcptA, rcptB, rcptC}, calls[0].env.Recipients)
	assert.Equal(t, []string{rcptB}, calls[1].env.Recipients, "only the deferred recipient again")
	assert.Equal(t, calls[0].raw, calls[1].raw, "the same message, byte for byte")
	st, _ := o.Status(m.MessageID)
	for addr, want := range map[string]State{rcptA: Submitted, rcptB: Submitted, rcptC: Failed} {
		rc, _ := st.Recipient(addr)
		assert.Equal(t, want, rc.State, addr)
	}
	rc, _ := st.Recipient(rcptC)
	assert.Contains(t, rc.Reason, "adresse du destinataire inconnue")
}

// The connection lost after the final ".": acceptance unknown. The
// message is not sent again while it waits for proof; a DSN proves it was
// accepted, and it is never sent again.
func TestAcceptanceUnknownProvedByDSN(t *testing.T) {
	srv, tr := &fakeServer{}, &events{}
	srv.then(func(env mssante.Envelope, id string) reply {
		return reply{res: &bal.SendResult{Accepted: env.Recipients, Refused: map[string]*bal.SMTPError{}},
			err: &bal.SendError{Op: "end of DATA", Kind: bal.ErrConnectionLost, DataSent: true}}
	})
	o := newTestOutbox(t, t.TempDir(), srv, tr, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseUnknown))
	st, _ := o.Status(m.MessageID)
	assert.Equal(t, 1, st.Unknown)
	assert.WithinDuration(t, time.Now().Add(time.Hour), st.Next, time.Minute, "waits UnknownWait for proof")
	aw := o.Awaiting(time.Now())
	require.Len(t, aw, 1)
	assert.True(t, aw[0].Unknown)
	res := tr.of(ActionResult, m.MessageID)
	require.Len(t, res, 1)
	assert.False(t, res[0].Response.OK, "acceptance unknown is never traced as sent")

	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<r2@mta>", st.DSN.EnvelopeID, "", rcptA+" delivered 2.0.0")))
	st, _ = o.Status(m.MessageID)
	assert.Equal(t, PhaseSent, st.Phase)
	rc, _ := st.Recipient(rcptA)
	assert.Equal(t, Delivered, rc.State)
	assert.False(t, st.Resent)
	due, _ := o.due(time.Now().Add(24*time.Hour), 10)
	assert.Empty(t, due, "proved accepted: never sent again")
	assert.Len(t, srv.calls(), 1)
}

// Without proof by UnknownWait the message is sent again, byte for byte,
// with the same Message-ID, and says it was resent.
func TestAcceptanceUnknownResentWithSameMessageID(t *testing.T) {
	srv := (&fakeServer{}).then(func(env mssante.Envelope, id string) reply {
		return reply{err: &bal.SendError{Op: "end of DATA", Kind: bal.ErrTimeout, DataSent: true}}
	})
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, func(c *Config) { c.Retry.UnknownWait = 5 * time.Millisecond })
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	calls := srv.calls()
	require.Len(t, calls, 2)
	assert.Equal(t, m.MessageID, calls[1].id)
	assert.Equal(t, calls[0].raw, calls[1].raw)
	st, _ := o.Status(m.MessageID)
	assert.True(t, st.Resent)
	assert.Equal(t, 2, st.Attempts)
}

// A connection lost before the final "." is not acceptance unknown: the
// server abandons the transaction, the message is simply sent again.
func TestLostBeforeEndOfDataIsResentAtOnce(t *testing.T) {
	srv := (&fakeServer{}).then(func(env mssante.Envelope, id string) reply {
		return reply{err: &bal.SendError{Op: "DATA", Kind: bal.ErrConnectionLost}}
	})
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	st, _ := o.Status(m.MessageID)
	assert.Equal(t, 0, st.Unknown)
	assert.False(t, st.Resent)
	assert.Len(t, srv.calls(), 2)
	assert.Equal(t, 2, srv.dials, "a new connection after the loss")
}

// The sending process stopped between the attempt record and its result:
// on reopen the message is acceptance unknown (recorded and traced), not
// queued as if never sent.
func TestCrashDuringAttemptIsAcceptanceUnknown(t *testing.T) {
	dir := t.TempDir()
	o := newTestOutbox(t, dir, &fakeServer{}, &events{}, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	due, _ := o.due(time.Now(), 10)
	require.Len(t, due, 1)
	require.NoError(t, o.commit(context.Background(), true, &Record{Kind: KindAttempt, Time: time.Now(), Attempt: &AttemptInfo{Messages: due}}))
	require.NoError(t, o.Close()) // as if killed: no result recorded

	tr := &events{}
	o2 := newTestOutbox(t, dir, &fakeServer{}, tr, nil)
	st, _ := o2.Status(m.MessageID)
	assert.Equal(t, PhaseUnknown, st.Phase)
	assert.Equal(t, []string{rcptA}, st.InFlight)
	assert.Contains(t, st.LastError, "stopped during the attempt")
	ev := tr.of(ActionResult, m.MessageID)
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0].Response.Text, string(AcceptanceUnknown))
}

// Connection failures count as attempts; a login refused for good stops
// Run and leaves the messages queued, uncounted.
func TestLoginFailures(t *testing.T) {
	srv := &fakeServer{}
	n := 0
	srv.dialFn = func() error {
		n++
		if n == 1 {
			return &bal.SendError{Op: "connect", Kind: bal.ErrConnect, Err: errors.New("refused")}
		}
		return nil
	}
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, nil)
	m := message(rcptA)
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	st, _ := o.Status(m.MessageID)
	assert.Equal(t, 2, st.Attempts, "the failed connection counted")

	srv2 := &fakeServer{dialFn: func() error {
		return &bal.SendError{Op: "EHLO", Kind: bal.ErrClientCertificate, Err: errors.New("421 4.7.1 certificate not trusted")}
	}}
	o2 := newTestOutbox(t, t.TempDir(), srv2, &events{}, nil)
	m2 := message(rcptA)
	_, err = o2.Enqueue(context.Background(), m2, EnqueueOptions{})
	require.NoError(t, err)
	err = o2.Run(context.Background())
	require.ErrorIs(t, err, bal.ErrClientCertificate)
	st2, _ := o2.Status(m2.MessageID)
	assert.Equal(t, PhaseQueued, st2.Phase)
	assert.Equal(t, 0, st2.Attempts)
}

// Fail closed: a message whose trace cannot be written is not queued.
func TestEnqueueFailClosed(t *testing.T) {
	tr := &events{fail: errors.New("disk full")}
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, tr, nil)
	_, err := o.Enqueue(context.Background(), message(rcptA), EnqueueOptions{})
	require.ErrorIs(t, err, trace.ErrNotRecorded)
	assert.Empty(t, o.List(Filter{}))
}

type opposeAll struct{}

func (opposeAll) Opposition(context.Context, bal.OppositionQuery) (*bal.Opposition, error) {
	return &bal.Opposition{Note: "opposition enregistrée"}, nil
}

// Enqueue applies the Sender's opposition guard: a message about a patient
// who opposed is not queued, and the refusal is traced.
func TestEnqueueRefusedByOpposition(t *testing.T) {
	tr := &events{}
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, tr, func(c *Config) { c.Sender.Oppositions = opposeAll{} })
	m := message("279035121518989@patient.mssante.fr")
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.ErrorIs(t, err, bal.ErrOpposed)
	assert.Contains(t, err.Error(), "MSS/va1.20")
	assert.Empty(t, o.List(Filter{}), "nothing queued")
	sends := tr.of(trace.Send, m.MessageID)
	require.Len(t, sends, 1)
	assert.False(t, sends[0].Response.OK)
	assert.Empty(t, tr.of(ActionQueued, ""))
}
