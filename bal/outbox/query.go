// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"slices"
	"strings"
	"time"
)

// Status returns the status of a message by its Message-ID (with or
// without angle brackets).
func (o *Outbox) Status(messageID string) (*Status, bool) {
	messageID = strings.TrimSpace(messageID)
	if !strings.HasPrefix(messageID, "<") {
		messageID = "<" + messageID + ">"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	st, ok := o.msgs[messageID]
	if !ok {
		return nil, false
	}
	c := st.clone()
	return &c, true
}

// ByRef returns the status of the message queued under the caller's Ref.
func (o *Outbox) ByRef(ref string) (*Status, bool) { return o.byRefStatus(ref) }

// Filter selects messages for List.
type Filter struct {
	// Phases keeps the messages in one of these phases (all when empty).
	Phases []Phase
	// Since keeps the messages that changed at or after it.
	Since time.Time
	// Unsettled keeps only the messages still expecting something.
	Unsettled bool
}

// List returns the messages the filter keeps, oldest first.
func (o *Outbox) List(f Filter) []Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Status
	for _, st := range o.msgs {
		if len(f.Phases) > 0 && !slices.Contains(f.Phases, st.Phase) {
			continue
		}
		if !f.Since.IsZero() && lastChange(st).Before(f.Since) {
			continue
		}
		if f.Unsettled && st.Settled() {
			continue
		}
		out = append(out, st.clone())
	}
	sortStatuses(out)
	return out
}

func sortStatuses(s []Status) {
	slices.SortFunc(s, func(a, b Status) int {
		if c := a.Queued.Compare(b.Queued); c != 0 {
			return c
		}
		return strings.Compare(a.MessageID, b.MessageID)
	})
}

// Awaiting is a message with recipients whose expected answer is late.
type Awaiting struct {
	Status Status
	// NoAnswer lists the recipients submitted longer than
	// Config.NoAnswerAfter ago without any DSN although a success DSN was
	// requested ("pas encore de réponse"); NoRead those delivered or
	// relayed longer than Config.NoReadAfter ago without the MDN of the
	// read receipt requested.
	NoAnswer, NoRead []string
	// Unknown: the message's acceptance is unknown (PhaseUnknown) since
	// its last attempt.
	Unknown bool
}

// Awaiting returns, oldest first, the messages whose answers are late at
// now (see the Awaiting type), and those whose acceptance is unknown.
func (o *Outbox) Awaiting(now time.Time) []Awaiting {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Awaiting
	for _, st := range o.msgs {
		a := Awaiting{Unknown: st.Phase == PhaseUnknown}
		for _, r := range st.Recipients {
			switch {
			case r.State == Submitted && st.wantsDSN() && r.Answered.IsZero() && now.Sub(r.Submitted) >= o.cfg.NoAnswerAfter:
				a.NoAnswer = append(a.NoAnswer, r.Address)
			case st.ReadReceipt && (r.State == Submitted || r.State == Relayed || r.State == Delivered) && r.Read.IsZero() &&
				now.Sub(readSince(r)) >= o.cfg.NoReadAfter:
				a.NoRead = append(a.NoRead, r.Address)
			}
		}
		if a.Unknown || len(a.NoAnswer) > 0 || len(a.NoRead) > 0 {
			a.Status = st.clone()
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Awaiting) int {
		if c := a.Status.Queued.Compare(b.Status.Queued); c != 0 {
			return c
		}
		return strings.Compare(a.Status.MessageID, b.Status.MessageID)
	})
	return out
}

func readSince(r Recipient) time.Time {
	if !r.Answered.IsZero() {
		return r.Answered
	}
	return r.Submitted
}

// FailuresSince returns, oldest first, the messages with a recipient that
// became Failed or Deleted at or after t.
func (o *Outbox) FailuresSince(t time.Time) []Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Status
	for _, st := range o.msgs {
		for _, r := range st.Recipients {
			if (r.State == Failed || r.State == Deleted) && !r.Updated.Before(t) {
				out = append(out, st.clone())
				break
			}
		}
	}
	sortStatuses(out)
	return out
}

// Unmatched returns the reports that matched no message, in the order
// they came.
func (o *Outbox) Unmatched() []Unmatched {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Unmatched, len(o.unmatched))
	for i, u := range o.unmatched {
		out[i] = u
		out[i].Report.Recipients = slices.Clone(u.Report.Recipients)
	}
	return out
}
