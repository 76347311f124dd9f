// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// ErrRunning: Run was called while another Run of the same outbox runs.
var ErrRunning = errors.New("outbox: already running")

// Run sends the messages due, on one connection at a time (a bal.Batch
// kept open while messages are due), until ctx ends (it then returns nil)
// or the outbox is closed. For each batch of messages it first records
// and makes durable the attempt, then sends them one by one and records
// each result:
//
//   - 250 after DATA: Accepted, for the recipients the server accepted
//     (a recipient refused with 5xx at RCPT is Failed, one refused with
//     4xx is tried again alone later, the same message to fewer
//     recipients);
//   - a refusal (5xx) of the message: Refused, never tried again;
//   - a 4xx reply, no connection, a connection lost or a timeout before
//     the final ".": Deferred, tried again after Retry.Backoff (doubled
//     each time, up to Retry.MaxBackoff), at most Retry.MaxAttempts
//     attempts, then failed;
//   - the connection lost or a timeout after the final "." (bal.SendError
//     with DataSent): AcceptanceUnknown. The message is not sent again
//     until a DSN or an MDN proves it was accepted (it then goes on as
//     Accepted) or Retry.UnknownWait has passed; it is then sent again
//     with the same Message-ID and the same bytes (Status.Resent), so that
//     a receiver that got both copies can tell them one message.
//
// Run returns an error for a failure retrying cannot mend: the login
// refused for good (ErrClientCertificate, an untrusted server, a 5xx to
// AUTH, a configuration error), a trace that cannot be written under
// trace.FailClosed (trace.ErrNotRecorded), the store failing (ErrStore).
// Messages stay queued; Run can be called again.
func (o *Outbox) Run(ctx context.Context) error {
	o.mu.Lock()
	if o.running {
		o.mu.Unlock()
		return ErrRunning
	}
	o.running = true
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.running = false
		o.mu.Unlock()
	}()
	var sess session
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	unsynced := false
	for {
		if ctx.Err() != nil {
			if unsynced {
				o.store.Sync(context.WithoutCancel(ctx))
			}
			return nil
		}
		if o.isClosed() {
			return nil
		}
		o.mu.Lock()
		needCompact := o.records >= o.cfg.CompactAfter
		o.mu.Unlock()
		if needCompact {
			if err := o.compact(ctx); err != nil {
				return err
			}
			unsynced = false
		}
		due, next := o.due(o.now(), o.cfg.BatchSize)
		if len(due) == 0 {
			if sess != nil {
				sess.Close()
				sess = nil
			}
			if unsynced {
				if err := o.store.Sync(ctx); err != nil && ctx.Err() == nil {
					return err
				}
				unsynced = false
			}
			o.sleep(ctx, next)
			continue
		}
		if sess == nil {
			s, err := o.dial(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if stop := o.loginFailed(ctx, due, err); stop != nil {
					return stop
				}
				unsynced = true
				continue
			}
			sess = s
		}
		broken, stop := o.sendBatch(ctx, sess, due)
		unsynced = true
		if broken {
			sess.Close()
			sess = nil
		}
		if stop != nil {
			return stop
		}
	}
}

func (o *Outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// due returns the messages to send now, oldest first (at most n), and the
// time the next one falls due (zero when none waits).
func (o *Outbox) due(now time.Time, n int) ([]AttemptMessage, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ready []*Status
	var next time.Time
	for _, st := range o.msgs {
		if st.Phase != PhaseQueued && st.Phase != PhaseUnknown {
			continue
		}
		if !st.Next.After(now) {
			ready = append(ready, st)
		} else if next.IsZero() || st.Next.Before(next) {
			next = st.Next
		}
	}
	slices.SortFunc(ready, func(a, b *Status) int {
		if c := a.Next.Compare(b.Next); c != 0 {
			return c
		}
		if c := a.Queued.Compare(b.Queued); c != 0 {
			return c
		}
		return compareStrings(a.MessageID, b.MessageID)
	})
	if len(ready) > n {
		next = now
		ready = ready[:n]
	}
	out := make([]AttemptMessage, 0, len(ready))
	for _, st := range ready {
		am := AttemptMessage{MessageID: st.MessageID}
		for _, r := range st.Recipients {
			if r.State == Queued {
				am.Recipients = append(am.Recipients, r.Address)
			}
		}
		out = append(out, am)
	}
	return out, next
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sleep waits until next (forever when zero), a new message, or ctx.
func (o *Outbox) sleep(ctx context.Context, next time.Time) {
	var tc <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(max(next.Sub(o.now()), time.Millisecond))
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-ctx.Done():
	case <-o.wake:
	case <-tc:
	}
}

// loginFailed records the failure to open a session as a failed attempt
// of each message due (nothing was handed over: no attempt record), or
// returns the error that stops Run.
func (o *Outbox) loginFailed(ctx context.Context, due []AttemptMessage, err error) error {
	var se *bal.SendError
	temporary := errors.As(err, &se) && se.Temporary()
	if !temporary || errors.Is(err, trace.ErrNotRecorded) {
		return fmt.Errorf("outbox: cannot open a submission session, messages left queued: %w", err)
	}
	o.report(err)
	now := o.now()
	var recs []*Record
	for _, m := range due {
		st, _ := o.Status(m.MessageID)
		res := &Result{Outcome: Deferred, Counted: true, Error: err.Error()}
		o.schedule(st, res, now)
		recs = append(recs, &Record{Kind: KindResult, Time: now, MessageID: m.MessageID, Result: res})
	}
	if cerr := o.commit(ctx, false, recs...); cerr != nil {
		return cerr
	}
	for _, r := range recs {
		if terr := o.traceResult(ctx, r); terr != nil && o.guard.Policy == trace.FailClosed {
			return terr
		}
	}
	return nil
}

// schedule sets when a failed message is tried again, or gives up.
func (o *Outbox) schedule(st *Status, res *Result, now time.Time) {
	n := st.Attempts
	if res.Counted {
		n++
	}
	if n >= o.retry.MaxAttempts {
		res.GiveUp = true
		return
	}
	if res.Outcome == AcceptanceUnknown && st.canProve() {
		res.Next = now.Add(o.retry.UnknownWait)
		return
	}
	res.Next = now.Add(o.retry.backoff(max(n, 1)))
}

// sendBatch records the attempt, then sends each message. It reports
// whether the session is broken, and the error that stops Run.
func (o *Outbox) sendBatch(ctx context.Context, sess session, due []AttemptMessage) (broken bool, stop error) {
	att := &Record{Kind: KindAttempt, Time: o.now(), Attempt: &AttemptInfo{Messages: due, Correlation: trace.NewID()}}
	// Durable before the first message is handed over: after a crash the
	// outbox knows these may have been accepted.
	if err := o.commit(ctx, true, att); err != nil {
		return false, err
	}
	for i, m := range due {
		if ctx.Err() != nil || broken {
			return broken, o.notAttempted(ctx, due[i:])
		}
		st, ok := o.Status(m.MessageID)
		if !ok {
			continue
		}
		raw, err := o.store.Body(ctx, m.MessageID)
		if err != nil {
			o.notAttempted(ctx, due[i:])
			return broken, err
		}
		env := mssante.Envelope{From: st.From, Recipients: m.Recipients, DSN: st.DSN}
		res, serr := sess.SendRaw(ctx, env, m.MessageID, raw)
		now := o.now()
		rec := &Record{Kind: KindResult, Time: now, MessageID: m.MessageID, Result: o.classify(st, res, serr, now)}
		if rec.Result.Outcome == NotAttempted && ctx.Err() == nil {
			rec.Result.Next = rec.Time
		}
		if err := o.commit(ctx, false, rec); err != nil {
			return true, err
		}
		terr := o.traceResult(ctx, rec)
		var se *bal.SendError
		if errors.As(serr, &se) {
			// Any failure but a refusal leaves bal's batch closed.
			broken = true
			if errors.Is(serr, trace.ErrNotRecorded) && o.guard.Policy == trace.FailClosed {
				o.notAttempted(ctx, due[i+1:])
				return true, fmt.Errorf("outbox: %w", serr)
			}
		}
		if terr != nil && o.guard.Policy == trace.FailClosed {
			o.notAttempted(ctx, due[i+1:])
			return broken, terr
		}
	}
	return broken, nil
}

// notAttempted records that the messages of an attempt were not handed
// over, due again at once.
func (o *Outbox) notAttempted(ctx context.Context, ms []AttemptMessage) error {
	if len(ms) == 0 {
		return nil
	}
	now := o.now()
	var recs []*Record
	for _, m := range ms {
		recs = append(recs, &Record{Kind: KindResult, Time: now, MessageID: m.MessageID, Result: &Result{Outcome: NotAttempted, Next: now}})
	}
	return o.commit(context.WithoutCancel(ctx), false, recs...)
}

// classify turns what bal.Batch.SendRaw returned into a result.
func (o *Outbox) classify(st *Status, res *bal.SendResult, err error, now time.Time) *Result {
	r := &Result{}
	if res != nil {
		for _, a := range res.Accepted {
			r.Recipients = append(r.Recipients, RecipientResult{Address: a, Accepted: true})
		}
		for _, a := range st.pendingOrder(res.Refused) {
			e := res.Refused[a]
			r.Recipients = append(r.Recipients, RecipientResult{Address: a, Code: strconv.Itoa(e.Code), Enhanced: e.Enhanced,
				Text: oneLine(e.Message), Temporary: e.Temporary()})
		}
	}
	tempRefused := false
	for _, rr := range r.Recipients {
		if !rr.Accepted && rr.Temporary {
			tempRefused = true
		}
	}
	var se *bal.SendError
	var sm *bal.SMTPError
	switch {
	case err == nil || (res != nil && res.Reply != ""):
		// Accepted (when err is set, only its trace failed).
		r.Outcome, r.Counted, r.Reply = Accepted, true, oneLine(res.Reply)
		if tempRefused {
			o.schedule(st, r, now)
		}
		return r
	case errors.As(err, &se) && se.DataSent:
		r.Outcome, r.Counted, r.Error = AcceptanceUnknown, true, oneLine(err.Error())
	case errors.As(err, &se) && (errors.Is(err, bal.ErrBatchClosed) || errors.Is(err, trace.ErrNotRecorded) || errors.Is(err, bal.ErrInterrupted)):
		// Never handed to the server: the session was closed, its trace
		// could not be written, or the caller stopped.
		r.Outcome, r.Error = NotAttempted, oneLine(err.Error())
		return r
	case errors.As(err, &sm):
		r.Code, r.Enhanced, r.Reply, r.Error = strconv.Itoa(sm.Code), sm.Enhanced, oneLine(sm.Message), oneLine(err.Error())
		switch {
		case sm.Command == "RCPT" && tempRefused:
			r.Outcome, r.Counted = Deferred, true // the permanent refusals are failed by recipient
		case sm.Temporary():
			r.Outcome, r.Counted = Deferred, true
		default:
			r.Outcome, r.Counted = Refused, true
			return r
		}
	case errors.As(err, &se) && (errors.Is(err, bal.ErrMessage) || errors.Is(err, bal.ErrNoRecipient)):
		r.Outcome, r.Counted, r.Error = Refused, true, oneLine(err.Error())
		return r
	default:
		r.Outcome, r.Counted, r.Error = Deferred, true, oneLine(err.Error())
	}
	o.schedule(st, r, now)
	return r
}

// pendingOrder returns the keys of refused in the order of the message's
// recipients (a stable record).
func (s *Status) pendingOrder(refused map[string]*bal.SMTPError) []string {
	var out []string
	for _, r := range s.Recipients {
		if _, ok := refused[r.Address]; ok {
			out = append(out, r.Address)
		}
	}
	var extra []string
	for a := range refused {
		if !slices.Contains(out, a) {
			extra = append(extra, a)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
