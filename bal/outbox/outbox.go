// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// Retry is the retry policy of temporary failures.
type Retry struct {
	// MaxAttempts is how many attempts a message gets before the outbox
	// gives up on it (GaveUp; 10 when zero).
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each
	// one up to MaxBackoff (1 min and 30 min when zero).
	Backoff, MaxBackoff time.Duration
	// UnknownWait is how long a message whose acceptance is unknown waits
	// for a DSN or an MDN proving it was accepted before it is sent again
	// with the same Message-ID (15 min when zero). Only messages that
	// asked for a DSN or a read receipt wait: for the others no proof can
	// come, and they are sent again after Backoff.
	UnknownWait time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 10
	}
	if r.Backoff <= 0 {
		r.Backoff = time.Minute
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 30 * time.Minute
	}
	if r.MaxBackoff < r.Backoff {
		r.MaxBackoff = r.Backoff
	}
	if r.UnknownWait <= 0 {
		r.UnknownWait = 15 * time.Minute
	}
	return r
}

// backoff is the wait after the n-th counted failed attempt (n ≥ 1).
func (r Retry) backoff(n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// Config configures Open. Store and Sender are required.
type Config struct {
	// Store keeps the records: OpenJournal's, or the vendor's own.
	Store Store
	// Sender submits the messages (its Trace records every login and
	// send, its Oppositions guard Enqueue). One connection at a time.
	Sender *bal.Sender
	Retry  Retry
	// NoAnswerAfter is how long after its submission a recipient may go
	// without a DSN before it is listed by Awaiting as "no answer yet"
	// (1 h when zero), when a success DSN was requested; NoReadAfter the
	// same for the MDN of a read receipt (72 h when zero).
	NoAnswerAfter, NoReadAfter time.Duration
	// BatchSize is how many messages one attempt record covers at most
	// (32 when zero): the records of an attempt are made durable with one
	// fsync before its first message is sent.
	BatchSize int
	// Keep is how long a settled message is kept for the queries once it
	// stops changing (183 days when zero, as trace.DefaultRetention;
	// negative: forever). The journal is compacted at Open and when it
	// has grown by CompactAfter records (10,000 when zero).
	Keep         time.Duration
	CompactAfter int
	// Trace records the outbox's state changes (Sender.Trace when nil),
	// with TracePolicy (Sender.TracePolicy when Trace is nil).
	Trace       trace.Recorder
	TracePolicy trace.Policy
	// OnError receives the errors Run survives (a connection lost, a
	// trace not written under trace.BestEffort).
	OnError func(error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Outbox is a durable outbox with delivery tracking. See the package
// documentation.
type Outbox struct {
	cfg   Config
	retry Retry
	store Store
	guard *trace.Guard
	now   func() time.Time
	// dial opens a submission session (Sender.Batch; tests replace it).
	dial func(ctx context.Context) (session, error)

	cmu sync.Mutex // orders Append + apply

	mu        sync.Mutex // the state below
	msgs      map[string]*Status
	byRef     map[string]string
	byEnv     map[string]string
	seen      map[string]time.Time
	unmatched []Unmatched
	records   int // appended since the last compaction
	closed    bool
	running   bool

	wake chan struct{}
}

// session is what the worker needs of a bal.Batch.
type session interface {
	SendRaw(ctx context.Context, env mssante.Envelope, msgID string, raw []byte) (*bal.SendResult, error)
	Close() error
}

// Unmatched is a report that matched no message of the outbox, kept so
// that it can be shown rather than lost.
type Unmatched struct {
	Time   time.Time
	Report Report
}

// Open replays the store and returns the outbox. Messages whose attempt
// was cut by the end of the previous process (an attempt without result)
// become AcceptanceUnknown, recorded and traced as such: they may have
// been accepted, and are not sent again before a report proves it or
// Retry.UnknownWait has passed.
func Open(ctx context.Context, cfg Config) (*Outbox, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, fmt.Errorf("%w: outbox.Config needs Store and Sender", bal.ErrConfig)
	}
	o := &Outbox{cfg: cfg, retry: cfg.Retry.withDefaults(), store: cfg.Store,
		msgs: map[string]*Status{}, byRef: map[string]string{}, byEnv: map[string]string{}, seen: map[string]time.Time{},
		wake: make(chan struct{}, 1)}
	// Records hold UTC times without monotonic reading, as they read
	// back from the journal: a replayed state equals the live one.
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	o.now = func() time.Time { return clock().UTC().Round(0) }
	if o.cfg.BatchSize <= 0 {
		o.cfg.BatchSize = 32
	}
	if o.cfg.NoAnswerAfter <= 0 {
		o.cfg.NoAnswerAfter = time.Hour
	}
	if o.cfg.NoReadAfter <= 0 {
		o.cfg.NoReadAfter = 72 * time.Hour
	}
	if o.cfg.Keep == 0 {
		o.cfg.Keep = trace.DefaultRetention
	}
	if o.cfg.CompactAfter <= 0 {
		o.cfg.CompactAfter = 10_000
	}
	rec, pol := cfg.Trace, cfg.TracePolicy
	if rec == nil {
		rec, pol = cfg.Sender.Trace, cfg.Sender.TracePolicy
	}
	o.guard = &trace.Guard{Recorder: rec, Policy: pol}
	o.dial = func(ctx context.Context) (session, error) { return cfg.Sender.Batch(ctx) }
	if err := cfg.Store.Load(ctx, func(r *Record) error {
		o.records++
		return o.apply(r)
	}); err != nil {
		return nil, err
	}
	if err := o.compact(ctx); err != nil {
		return nil, err
	}
	// Attempts cut by the end of the previous process.
	now := o.now()
	var cut []*Record
	for _, st := range o.msgs {
		if st.Phase != PhaseSending {
			continue
		}
		next := now.Add(o.retry.backoff(st.Attempts + 1))
		if st.canProve() {
			next = now.Add(o.retry.UnknownWait)
		}
		cut = append(cut, &Record{Kind: KindResult, Time: now, MessageID: st.MessageID, Result: &Result{
			Outcome: AcceptanceUnknown, Counted: true, Next: next,
			Error: "the sending process stopped during the attempt: the server may have accepted the message",
		}})
	}
	slices.SortFunc(cut, func(a, b *Record) int { return strings.Compare(a.MessageID, b.MessageID) })
	if len(cut) > 0 {
		if err := o.commit(ctx, true, cut...); err != nil {
			return nil, err
		}
		for _, r := range cut {
			o.traceResult(ctx, r)
		}
	}
	return o, nil
}

// commit appends records, applies them to the state in the same order
// and, when sync, returns once they are durable.
func (o *Outbox) commit(ctx context.Context, sync bool, recs ...*Record) error {
	o.cmu.Lock()
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		o.cmu.Unlock()
		return ErrClosed
	}
	if err := o.store.Append(ctx, recs...); err != nil {
		o.cmu.Unlock()
		return err
	}
	o.mu.Lock()
	var aerr error
	for _, r := range recs {
		o.records++
		if err := o.apply(r); err != nil && aerr == nil {
			aerr = err
		}
	}
	o.mu.Unlock()
	o.cmu.Unlock()
	if aerr != nil {
		return aerr
	}
	if sync {
		return o.store.Sync(ctx)
	}
	return nil
}

// EnqueueOptions tune Enqueue.
type EnqueueOptions struct {
	// Ref is the caller's identifier of the message, unique in the
	// outbox: Enqueue with a Ref already there returns the status of the
	// message queued under it and queues nothing (so that a caller that
	// stopped before Enqueue returned can call it again safely).
	Ref string
	// Patient is the patient the message is about, for the opposition
	// guard (bal.Sender.Oppositions) when the message carries no document
	// (a document's CDA header names its patient).
	Patient *ins.Identity
}

// Enqueue checks the patient's opposition (bal.Sender.Oppositions),
// writes the message in its final form (Message-ID and Date fixed, so
// that every attempt sends the same bytes), records it durably (fsync)
// and returns its status; Run sends it. A message refused by the guard is
// not queued: the error wraps bal.ErrOpposed and the refusal is traced.
func (o *Outbox) Enqueue(ctx context.Context, m *mssante.Message, opts EnqueueOptions) (*Status, error) {
	if st, ok := o.byRefStatus(opts.Ref); ok {
		return st, nil
	}
	if err := o.cfg.Sender.CheckOpposition(ctx, m, opts.Patient); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, &bal.SendError{Op: "spool", Kind: bal.ErrMessage, Err: err}
	}
	env := m.Envelope()
	return o.enqueue(ctx, env, m.MessageID, buf.Bytes(), opts.Ref, m.ReadReceipt)
}

// EnqueueRaw queues a message already in RFC 5322 form with its envelope
// (as bal.Batch.SendRaw sends it). The opposition guard is the caller's
// to apply (bal.Sender.CheckOpposition): a raw message names no patient
// the SDK can read.
func (o *Outbox) EnqueueRaw(ctx context.Context, env mssante.Envelope, msgID string, raw []byte, opts EnqueueOptions) (*Status, error) {
	if st, ok := o.byRefStatus(opts.Ref); ok {
		return st, nil
	}
	readReceipt := headerPresent(raw, "Disposition-Notification-To")
	return o.enqueue(ctx, env, mssante.NormalizeMessageID(msgID), slices.Clone(raw), opts.Ref, readReceipt)
}

func (o *Outbox) byRefStatus(ref string) (*Status, bool) {
	if ref == "" {
		return nil, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.byRef[ref]; ok {
		st := o.msgs[id].clone()
		return &st, true
	}
	return nil, false
}

func (o *Outbox) enqueue(ctx context.Context, env mssante.Envelope, msgID string, raw []byte, ref string, readReceipt bool) (*Status, error) {
	if msgID == "" {
		return nil, &bal.SendError{Op: "spool", Kind: bal.ErrMessage, Err: errors.New("no Message-ID")}
	}
	if len(env.Recipients) == 0 {
		return nil, &bal.SendError{Op: "MAIL", Kind: bal.ErrNoRecipient}
	}
	o.mu.Lock()
	_, dup := o.msgs[msgID]
	o.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("%w: %s", ErrDuplicate, msgID)
	}
	now := o.now()
	rec := &Record{Kind: KindQueued, Time: now, MessageID: msgID, Body: raw, Queued: &QueuedInfo{
		Ref: ref, From: env.From, Recipients: dedupeFold(env.Recipients), DSN: env.DSN, ReadReceipt: readReceipt, Size: int64(len(raw)),
	}}
	// Traced before it is recorded (fail closed: no message enters the
	// outbox without its trace), then with the outcome.
	ev := o.event(ActionQueued, "QUEUE", append([]string{"FROM:<" + env.From + ">"}, prefixAll("TO:", rec.Queued.Recipients)...),
		trace.Response{Text: trace.PendingText}, msgID)
	if err := o.guard.Record(ctx, ev); err != nil {
		return nil, fmt.Errorf("outbox: %s not queued: %w", msgID, err)
	}
	err := o.commit(ctx, true, rec)
	resp := trace.Response{OK: true, Text: "queued"}
	if err != nil {
		resp = trace.Response{Text: "not queued: " + oneLine(err.Error())}
	}
	ev.Response = resp
	if terr := o.guard.Record(context.WithoutCancel(ctx), ev); terr != nil && err == nil {
		o.report(terr)
	}
	if err != nil {
		return nil, err
	}
	o.signal()
	st, _ := o.Status(msgID)
	return st, nil
}

// headerPresent reports whether the header of raw has the field name.
func headerPresent(raw []byte, name string) bool {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	for _, line := range bytes.Split(raw[:end], []byte("\n")) {
		if k, _, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			return true
		}
	}
	return false
}

func dedupeFold(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		k := strings.ToLower(x)
		if !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

func prefixAll(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + "<" + x + ">"
	}
	return out
}

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) report(err error) {
	if err != nil && o.cfg.OnError != nil {
		o.cfg.OnError(err)
	}
}

// Actions the outbox traces (package trace). Every state change of a
// message is traced once it is recorded: its entry (before and after),
// the outcome of each attempt (ActionResult: OK only for a 250 after
// DATA), and each change a report makes for a recipient (ActionDelivery);
// a report that matches nothing is traced as ActionUnmatched. The sends
// themselves are traced by bal.Sender (trace.Send), whose successful
// record is written only on the server's 250.
const (
	ActionQueued    trace.Action = "outbox-queued"
	ActionResult    trace.Action = "outbox-result"
	ActionDelivery  trace.Action = "delivery-status"
	ActionUnmatched trace.Action = "report-unmatched"
)

func (o *Outbox) event(action trace.Action, cmd string, params []string, resp trace.Response, msgID string) trace.Event {
	s := o.cfg.Sender
	ev := trace.Event{Time: time.Now(), Action: action, Request: trace.Request{Command: cmd, Params: params},
		Response: resp, MessageID: oneLine(msgID), Mailbox: s.Mailbox, Software: s.Software}
	if s.Auth != nil {
		ev.Actor = s.Auth.Actor()
	}
	if s.Server.Host != "" {
		ev.Request.Server = net.JoinHostPort(s.Server.Host, strconv.Itoa(s.Server.Port))
	}
	if len(ev.Request.Params) > 32 {
		ev.Request.Params = append(ev.Request.Params[:31], fmt.Sprintf("… %d more", len(params)-31))
	}
	for i, p := range ev.Request.Params {
		ev.Request.Params[i] = oneLine(p)
	}
	ev.Response.Text = oneLine(ev.Response.Text)
	return ev
}

// oneLine makes text fit a trace field (one line, at most 400 bytes).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > 400 {
		cut := 400
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// traceResult traces an attempt's result.
func (o *Outbox) traceResult(ctx context.Context, rec *Record) error {
	r := rec.Result
	resp := trace.Response{OK: r.Outcome == Accepted, Code: r.Code, Text: string(r.Outcome)}
	switch {
	case r.Outcome == Accepted:
		resp.Code, resp.Text = "250", "accepted: "+r.Reply
	case r.Error != "":
		resp.Text += ": " + r.Error
	case r.Reply != "":
		resp.Text += ": " + r.Reply
	}
	if !r.Next.IsZero() {
		resp.Text += "; next attempt " + r.Next.Format(time.RFC3339)
	}
	var params []string
	for _, rr := range r.Recipients {
		v := "<" + rr.Address + ">"
		if rr.Accepted {
			v += " accepted"
		} else {
			v += " refused " + strings.TrimSpace(rr.Code+" "+rr.Enhanced)
		}
		params = append(params, v)
	}
	err := o.guard.Record(context.WithoutCancel(ctx), o.event(ActionResult, "RESULT", params, resp, rec.MessageID))
	o.report(err)
	return err
}

// Close ends the outbox (Run returns) and closes its store.
func (o *Outbox) Close() error {
	o.cmu.Lock()
	defer o.cmu.Unlock()
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()
	o.signal()
	return o.store.Close()
}

// compact rewrites the store with one state record per message kept (its
// body with it while it may still be sent), the unmatched reports and the
// report ids seen, when enough records have been appended since the last
// time; settled messages older than Keep are dropped.
func (o *Outbox) compact(ctx context.Context) error {
	o.cmu.Lock()
	defer o.cmu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.records < o.cfg.CompactAfter {
		return nil
	}
	now := o.now()
	var ids []string
	for id := range o.msgs {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := o.msgs[a].Queued.Compare(o.msgs[b].Queued); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var recs []*Record
	keep := map[string]bool{}
	drop := map[string]bool{}
	for _, id := range ids {
		st := o.msgs[id]
		if o.cfg.Keep > 0 && st.Settled() && now.Sub(lastChange(st)) > o.cfg.Keep {
			drop[id] = true
			continue
		}
		cp := st.clone()
		recs = append(recs, &Record{Kind: KindState, Time: now, MessageID: id, State: &cp})
		if st.Phase == PhaseQueued || st.Phase == PhaseSending || st.Phase == PhaseUnknown {
			keep[id] = true
		}
	}
	seen := map[string]time.Time{}
	for id, t := range o.seen {
		if o.cfg.Keep < 0 || now.Sub(t) <= o.cfg.Keep {
			seen[id] = t
		}
	}
	var unmatched []Unmatched
	for _, u := range o.unmatched {
		if o.cfg.Keep < 0 || now.Sub(u.Time) <= o.cfg.Keep {
			unmatched = append(unmatched, u)
			rep := u.Report
			recs = append(recs, &Record{Kind: KindReport, Time: u.Time, Report: &rep})
		}
	}
	if len(seen) > 0 {
		recs = append(recs, &Record{Kind: KindSeen, Time: now, Seen: seen})
	}
	if err := o.store.Rewrite(ctx, recs, keep); err != nil {
		return err
	}
	for id := range drop {
		st := o.msgs[id]
		delete(o.msgs, id)
		if st.Ref != "" {
			delete(o.byRef, st.Ref)
		}
		delete(o.byEnv, strings.TrimSpace(st.DSN.EnvelopeID))
	}
	o.seen, o.unmatched, o.records = seen, unmatched, len(recs)
	return nil
}

func lastChange(st *Status) time.Time {
	t := st.Queued
	if st.LastAttempt.After(t) {
		t = st.LastAttempt
	}
	for _, r := range st.Recipients {
		if r.Updated.After(t) {
			t = r.Updated
		}
	}
	return t
}
