// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/mssante"
)

// Phase is where a message stands in its sending.
type Phase string

// The phases of a message. Queued, Sending and AcceptanceUnknown last
// while a recipient is still to be submitted; then the message is Sent
// (accepted by the server for at least one recipient: each recipient's
// State tells the rest) or Failed (accepted for none).
const (
	PhaseQueued  Phase = "queued"
	PhaseSending Phase = "sending"
	// PhaseUnknown: the last attempt may have been accepted (see
	// AcceptanceUnknown); the message waits for a DSN or an MDN that
	// proves it, and is sent again, with the same Message-ID, at
	// Status.Next if none comes.
	PhaseUnknown Phase = "acceptance-unknown"
	PhaseSent    Phase = "sent"
	PhaseFailed  Phase = "failed"
)

// State is where a message stands for one recipient.
type State string

// The states of a recipient, in the order a message goes through them:
// Queued → Submitted (the server answered 250 after DATA) → Relayed or
// Delivered (a DSN) → Displayed or Processed (an MDN); or Failed at any
// point (a refusal, a failure DSN, an MDN with an integration error, a
// Mon espace santé bounce, retries exhausted), or Deleted (an MDN saying
// the message was deleted unread).
const (
	Queued    State = "queued"
	Submitted State = "submitted"
	// Relayed: a DSN says the message was handed on to a system that
	// does not report delivery (Postfix delivering over LMTP says so);
	// Delivered: a DSN says it is in the recipient's mailbox.
	Relayed   State = "relayed"
	Delivered State = "delivered"
	// Displayed: an MDN says the recipient's software showed it;
	// Processed: an MDN says it was integrated (the ANS volet's
	// "processed" without error) or dispatched.
	Displayed State = "displayed"
	Processed State = "processed"
	Deleted   State = "deleted"
	Failed    State = "failed"
)

// rank orders the states of a recipient that are not outcomes: a report
// moves a recipient forward, never back.
var rank = map[State]int{Queued: 0, Submitted: 1, Relayed: 2, Delivered: 3, Displayed: 4, Processed: 5}

// Final reports a state after which nothing is expected.
func (s State) Final() bool { return s == Processed || s == Deleted || s == Failed }

// Recipient is a message's status for one recipient.
type Recipient struct {
	Address string `json:"a"`
	State   State  `json:"s"`
	// Reason says, in French for the user of the software, why the
	// recipient is Failed, Deleted, or delayed ("" otherwise); Detail is
	// the technical account (the server's reply, the DSN's Status and
	// Diagnostic-Code, the MDN's disposition).
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Bounce classifies a Mon espace santé non-delivery.
	Bounce Bounce `json:"bounce,omitempty"`
	// Updated is the time of the last change; Submitted when the server
	// accepted the message for this recipient; Answered when the first
	// DSN about it came; Read when an MDN did.
	Updated   time.Time `json:"u,omitzero"`
	Submitted time.Time `json:"sub,omitzero"`
	Answered  time.Time `json:"ans,omitzero"`
	Read      time.Time `json:"read,omitzero"`
	// Delayed: a DSN said delivery is delayed (the operator goes on
	// trying); cleared by a later outcome.
	Delayed bool `json:"delayed,omitempty"`
	// Copies counts the success DSNs received for this recipient from
	// distinct reports: more than one means the recipient got the
	// message more than once (after a resend whose first copy had been
	// accepted after all, or a server's own redelivery), each copy with
	// the same Message-ID, or that the server reported one delivery
	// twice (Postfix does when it is killed between queueing its report
	// and updating its queue file: the soak saw it).
	Copies int `json:"copies,omitempty"`
	// Reports counts the reports taken into account for it.
	Reports int `json:"reports,omitempty"`
}

// Status is a message's status: its phase, its attempts, and where it
// stands for each recipient. It is a copy: the outbox's own state changes
// only through its records.
type Status struct {
	MessageID string    `json:"id"`
	Ref       string    `json:"ref,omitempty"`
	From      string    `json:"from"`
	Phase     Phase     `json:"phase"`
	Queued    time.Time `json:"queued"`
	// Attempts counts the attempts that count towards the retry limit;
	// LastAttempt is the last one's time.
	Attempts    int       `json:"attempts,omitempty"`
	LastAttempt time.Time `json:"last,omitzero"`
	// Next is when the message is tried again (PhaseQueued) or sent again
	// without proof of acceptance (PhaseUnknown).
	Next time.Time `json:"next,omitzero"`
	// LastError is the last failure, as the SDK reported it.
	LastError string `json:"err,omitempty"`
	// Unknown counts the attempts whose acceptance was unknown; Resent
	// reports that the message was sent again after one: a recipient may
	// receive it twice, with the same Message-ID, by which receivers
	// deduplicate.
	Unknown int  `json:"unknown,omitempty"`
	Resent  bool `json:"resent,omitempty"`
	// DSN and ReadReceipt are what the message asked for; Size its size.
	DSN         mssante.DSN `json:"dsn,omitzero"`
	ReadReceipt bool        `json:"mdn,omitempty"`
	Size        int64       `json:"size"`
	Recipients  []Recipient `json:"rcpt"`
	// InFlight lists the recipients of the attempt in progress, or of the
	// attempt whose acceptance is unknown.
	InFlight []string `json:"inflight,omitempty"`
}

func (s *Status) clone() Status {
	c := *s
	c.Recipients = slices.Clone(s.Recipients)
	c.InFlight = slices.Clone(s.InFlight)
	c.DSN.Notify = slices.Clone(s.DSN.Notify)
	return c
}

// Recipient returns the status of one recipient (compared without case).
func (s *Status) Recipient(address string) (*Recipient, bool) {
	for i := range s.Recipients {
		if strings.EqualFold(s.Recipients[i].Address, address) {
			return &s.Recipients[i], true
		}
	}
	return nil, false
}

// wantsDSN reports whether DSNs were asked for with SUCCESS (a delivery
// report is expected for every recipient).
func (s *Status) wantsDSN() bool { return notifies(s.DSN, "SUCCESS") }

// canProve reports whether a report may come that proves acceptance: a
// DSN of any kind was requested, or a read receipt.
func (s *Status) canProve() bool {
	return s.ReadReceipt || notifies(s.DSN, "SUCCESS") || notifies(s.DSN, "FAILURE") || notifies(s.DSN, "DELAY")
}

func notifies(d mssante.DSN, what string) bool {
	for _, n := range d.Notify {
		if strings.EqualFold(n, what) {
			return true
		}
	}
	return false
}

// Settled reports whether nothing more is expected for the message: every
// recipient is in a final state, or Relayed/Delivered without a read
// receipt requested, or Submitted without a success DSN nor a read
// receipt requested.
func (s *Status) Settled() bool {
	for _, r := range s.Recipients {
		if !s.settled(r) {
			return false
		}
	}
	return true
}

func (s *Status) settled(r Recipient) bool {
	switch {
	case r.State.Final():
		return true
	case r.State == Queued:
		return false
	case s.ReadReceipt:
		return false
	case r.State == Submitted:
		return !s.wantsDSN()
	}
	return true
}

// phase recomputes the phase once no attempt is open.
func (s *Status) phase() Phase {
	pending, failed := false, 0
	for _, r := range s.Recipients {
		switch r.State {
		case Queued:
			pending = true
		case Failed:
			failed++
		}
	}
	switch {
	case pending:
		return PhaseQueued
	case failed == len(s.Recipients) && !s.everSubmitted():
		return PhaseFailed
	}
	return PhaseSent
}

func (s *Status) everSubmitted() bool {
	for _, r := range s.Recipients {
		if !r.Submitted.IsZero() {
			return true
		}
	}
	return false
}

// apply changes the outbox state by one record. It is the only place the
// state changes, live and on replay, so that a replay gives the state the
// records were appended from.
func (o *Outbox) apply(rec *Record) error {
	switch rec.Kind {
	case KindQueued:
		q := rec.Queued
		if q == nil || rec.MessageID == "" || len(q.Recipients) == 0 {
			return fmt.Errorf("%w: queued record without message id or recipients", ErrCorrupt)
		}
		if _, dup := o.msgs[rec.MessageID]; dup {
			return fmt.Errorf("%w: %s queued twice", ErrCorrupt, rec.MessageID)
		}
		st := &Status{MessageID: rec.MessageID, Ref: q.Ref, From: q.From, Phase: PhaseQueued, Queued: rec.Time,
			Next: rec.Time, DSN: q.DSN, ReadReceipt: q.ReadReceipt, Size: q.Size}
		for _, a := range q.Recipients {
			st.Recipients = append(st.Recipients, Recipient{Address: a, State: Queued, Updated: rec.Time})
		}
		o.index(st)
	case KindState:
		if rec.State == nil || rec.State.MessageID == "" {
			return fmt.Errorf("%w: state record without a message", ErrCorrupt)
		}
		st := rec.State.clone()
		o.index(&st)
	case KindSeen:
		for id, t := range rec.Seen {
			o.seen[id] = t
		}
	case KindAttempt:
		if rec.Attempt == nil {
			return fmt.Errorf("%w: attempt record without messages", ErrCorrupt)
		}
		for _, m := range rec.Attempt.Messages {
			st := o.msgs[m.MessageID]
			if st == nil {
				return fmt.Errorf("%w: attempt of %s, which was never queued", ErrCorrupt, m.MessageID)
			}
			if st.Phase == PhaseUnknown {
				st.Resent = true
			}
			st.Phase = PhaseSending
			st.InFlight = slices.Clone(m.Recipients)
			st.LastAttempt = rec.Time
		}
	case KindResult:
		st := o.msgs[rec.MessageID]
		if st == nil || rec.Result == nil {
			return fmt.Errorf("%w: result of %s, which was never queued", ErrCorrupt, rec.MessageID)
		}
		o.applyResult(st, rec.Time, rec.Result)
	case KindReport:
		if rec.Report == nil || rec.Report.ID == "" {
			return fmt.Errorf("%w: report record without its id", ErrCorrupt)
		}
		return o.applyReport(rec.Time, rec.Report)
	default:
		return fmt.Errorf("%w: unknown record kind %q", ErrCorrupt, rec.Kind)
	}
	return nil
}

func (o *Outbox) index(st *Status) {
	o.msgs[st.MessageID] = st
	if st.Ref != "" {
		o.byRef[st.Ref] = st.MessageID
	}
	if env := strings.TrimSpace(st.DSN.EnvelopeID); env != "" {
		o.byEnv[env] = st.MessageID
	}
}

func (o *Outbox) applyResult(st *Status, t time.Time, r *Result) {
	if r.Counted {
		st.Attempts++
	}
	if r.Error != "" {
		st.LastError = r.Error
	}
	// What the server said about each recipient at RCPT holds whatever
	// became of the transaction.
	var accepted []string
	for _, rr := range r.Recipients {
		rc, ok := st.Recipient(rr.Address)
		if !ok || rc.State != Queued {
			continue
		}
		switch {
		case rr.Accepted:
			accepted = append(accepted, rc.Address)
		case !rr.Temporary:
			reason, bounce := refusalReason(rc.Address, rr.Code, rr.Enhanced, rr.Text)
			rc.State, rc.Reason, rc.Bounce, rc.Updated = Failed, reason, bounce, t
			rc.Detail = strings.TrimSpace(rr.Code + " " + rr.Enhanced + " " + rr.Text)
		default:
			rc.Detail = strings.TrimSpace(rr.Code + " " + rr.Enhanced + " " + rr.Text)
		}
	}
	switch r.Outcome {
	case Accepted:
		for _, a := range accepted {
			o.submit(st, a, t)
		}
		st.InFlight = nil
		st.Phase = st.phase()
		if st.Phase == PhaseQueued {
			st.Next = r.Next
		}
	case Refused:
		for _, a := range st.InFlight {
			if rc, ok := st.Recipient(a); ok && rc.State == Queued {
				reason, bounce := refusalReason(a, r.Code, r.Enhanced, r.Reply)
				rc.State, rc.Reason, rc.Bounce, rc.Updated = Failed, reason, bounce, t
				rc.Detail = strings.TrimSpace(r.Code + " " + r.Enhanced + " " + r.Reply)
			}
		}
		st.InFlight = nil
		st.Phase = st.phase()
	case AcceptanceUnknown:
		st.Unknown++
		if len(r.Recipients) > 0 {
			st.InFlight = accepted
		}
		st.Phase, st.Next = PhaseUnknown, r.Next
	case Deferred, NotAttempted:
		st.InFlight = nil
		st.Phase, st.Next = st.phase(), r.Next
	}
	if r.GiveUp {
		for i := range st.Recipients {
			rc := &st.Recipients[i]
			if rc.State != Queued {
				continue
			}
			rc.State, rc.Updated = Failed, t
			if st.Phase == PhaseUnknown && slices.Contains(st.InFlight, rc.Address) {
				rc.Reason = fmt.Sprintf("Envoi interrompu sans réponse du serveur, %d tentatives, et aucun accusé de réception : impossible de savoir si le message est parti ; il n'est plus renvoyé.", st.Attempts)
			} else {
				rc.Reason = fmt.Sprintf("Non envoyé : le serveur de messagerie ne l'a pas pris après %d tentatives.", st.Attempts)
			}
			rc.Detail = st.LastError
		}
		st.InFlight = nil
		st.Phase = st.phase()
	}
}

// submit marks a recipient accepted by the server.
func (o *Outbox) submit(st *Status, addr string, t time.Time) {
	rc, ok := st.Recipient(addr)
	if !ok || rc.State != Queued {
		return
	}
	rc.State, rc.Submitted, rc.Updated, rc.Detail, rc.Reason = Submitted, t, t, "", ""
}

func (o *Outbox) applyReport(t time.Time, rep *Report) error {
	o.seen[rep.ID] = t
	if rep.MessageID == "" {
		o.unmatched = append(o.unmatched, Unmatched{Time: t, Report: *rep})
		return nil
	}
	st := o.msgs[rep.MessageID]
	if st == nil {
		return fmt.Errorf("%w: report %s about %s, which was never queued", ErrCorrupt, rep.ID, rep.MessageID)
	}
	// A report about the message proves that the server accepted it: an
	// attempt whose acceptance was unknown was accepted after all.
	if st.Phase == PhaseUnknown || st.Phase == PhaseSending {
		for _, a := range st.InFlight {
			o.submitAt(st, a, st.LastAttempt)
		}
		if st.Phase == PhaseUnknown {
			st.InFlight = nil
			st.Phase = st.phase()
		}
	}
	// A recipient named in more than one block of the report is counted
	// once: Reports and Copies count reports, not blocks.
	counted := map[*Recipient]bool{}
	for _, rr := range rep.Recipients {
		rc, ok := st.Recipient(rr.Address)
		if !ok {
			continue
		}
		again := counted[rc]
		counted[rc] = true
		if rc.State == Queued {
			// Reported on, so accepted at some point (an earlier attempt).
			o.submitAt(st, rc.Address, st.LastAttempt)
			if st.Phase == PhaseQueued {
				st.Phase = st.phase()
			}
		}
		if !again {
			rc.Reports++
		}
		applyRecipientReport(rc, t, rep.Kind, rr, again)
	}
	return nil
}

func (o *Outbox) submitAt(st *Status, addr string, t time.Time) {
	rc, ok := st.Recipient(addr)
	if !ok || rc.State != Queued {
		return
	}
	rc.State, rc.Submitted, rc.Updated, rc.Reason, rc.Detail = Submitted, t, t, "", ""
}

// applyRecipientReport moves a recipient forward by what a report says:
// a success to a later state, a failure to Failed (over any state but a
// final one); a report about a final state is counted, nothing more.
func applyRecipientReport(rc *Recipient, t time.Time, kind ReportKind, rr ReportRecipient, again bool) {
	move := func(s State) {
		if rc.State.Final() || rank[s] <= rank[rc.State] {
			return
		}
		rc.State, rc.Updated = s, t
	}
	fail := func(reason, detail string, b Bounce) {
		if rc.State.Final() {
			return
		}
		rc.State, rc.Reason, rc.Detail, rc.Bounce, rc.Updated, rc.Delayed = Failed, reason, detail, b, t, false
	}
	switch kind {
	case ReportDSN:
		detail := strings.TrimSpace(rr.Status + " " + rr.Diagnostic)
		if rc.Answered.IsZero() && rr.Action != "delayed" {
			rc.Answered = t
		}
		switch rr.Action {
		case "delivered":
			if !again {
				rc.Copies++
			}
			rc.Delayed = false
			move(Delivered)
		case "relayed", "expanded":
			if !again {
				rc.Copies++
			}
			rc.Delayed = false
			move(Relayed)
		case "failed":
			reason, b := failureReason(rc.Address, rr.Status, rr.Diagnostic)
			fail(reason, detail, b)
		case "delayed":
			if !rc.State.Final() {
				rc.Delayed, rc.Updated = true, t
				rc.Reason = "Distribution retardée : le serveur du destinataire ne répond pas encore, l'opérateur continue d'essayer."
				rc.Detail = detail
			}
		}
	case ReportMDN:
		if rc.Read.IsZero() {
			rc.Read = t
		}
		if rc.Answered.IsZero() {
			rc.Answered = t
		}
		switch {
		case rr.ErrorCode != 0 || rr.ErrorLabel != "":
			fail(integrationReason(rr.ErrorCode, rr.ErrorLabel), "processed/Error: "+fmt.Sprint(rr.ErrorCode)+" "+rr.ErrorLabel, BounceNone)
		case rr.Disposition == "displayed":
			move(Displayed)
		case rr.Disposition == "processed" || rr.Disposition == "dispatched":
			move(Processed)
			if rc.State == Processed {
				rc.Detail = rr.Disposition
			}
		case rr.Disposition == "deleted":
			if !rc.State.Final() {
				rc.State, rc.Updated = Deleted, t
				rc.Reason = "Le destinataire a supprimé le message sans l'avoir lu."
				rc.Detail = "deleted"
			}
		}
	}
}
