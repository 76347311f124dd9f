// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// Item is a document waiting in the worklist for a person.
type Item struct {
	// Key is the document's Key (id and version): one item per document,
	// however many times it is received.
	Key string
	// Added is when the document first entered the worklist, Expires
	// when the retention ends (SC.MSS/UX.41).
	Added, Expires time.Time
	// Decision is the latest decision on the document: its reasons and
	// candidates (updated by Recompute).
	Decision *Decision
}

var (
	// ErrNotPending is returned by Resolve for a key the worklist does not
	// hold (resolved meanwhile, expired, or never listed).
	ErrNotPending = errors.New("intake: no such worklist item")
	// ErrResolution is wrapped by Resolve's refusals: no person named, no
	// patient and no integration error, or a fictitious patient's
	// document and a real record (or the reverse), which not even a
	// person may join.
	ErrResolution = errors.New("intake: resolution refused")
	// ErrFiling is wrapped by Resolve when Documents.File failed: the
	// item stays in the worklist.
	ErrFiling = errors.New("intake: filing failed")
)

// Process decides on a document (Decide) and acts on the decision:
// Integrate and Replace are filed (Documents.File, traced FILE before and
// after, fail closed); Worklist adds or updates the document's worklist
// item (traced WORKLIST); Duplicate, Older and Reject file nothing, and
// remove the document from the worklist if it was there. A filing that
// fails sends the document to the worklist with reason FilingFailed,
// decided again by Recompute: nothing is lost and the sender is not told
// of an error that is ours.
//
// The error is non-nil only when an event could not be recorded (it
// wraps trace.ErrNotRecorded): then the document was neither filed nor
// listed. A bal.Handler returning it gets the message answered with 906
// and filed in Failed; the trace sink needs a person's attention.
func (dc *Decider) Process(ctx context.Context, doc *Document) (*Decision, error) {
	d, err := dc.Decide(ctx, doc)
	if err != nil {
		return nil, err
	}
	return d, dc.act(ctx, d, nil)
}

// act carries out a decision.
func (dc *Decider) act(ctx context.Context, d *Decision, by *trace.Actor) error {
	switch d.Outcome {
	case Integrate, Replace:
		return dc.file(ctx, d, by)
	case Worklist:
		if err := dc.record(ctx, "WORKLIST", d, by); err != nil {
			return err
		}
		dc.list(d)
	default:
		dc.unlist(d.Document.Key())
	}
	return nil
}

// file files an Integrate or Replace decision, or lists it when the store
// fails.
func (dc *Decider) file(ctx context.Context, d *Decision, by *trace.Actor) error {
	if err := dc.recordResult(ctx, "FILE", d, by, false, trace.PendingText); err != nil {
		return err
	}
	f := Filing{Document: d.Document, Patient: *d.Patient, Replaces: d.Replaces, Manual: d.Manual}
	if err := dc.c.Documents.File(ctx, f); err != nil {
		dc.stats.failed.Add(1)
		if rerr := dc.recordResult(ctx, "FILE", d, by, false, "filing failed"); rerr != nil {
			return rerr
		}
		// Not filed: to the worklist, decided again later.
		w := *d
		w.Outcome, w.Patient = Worklist, nil
		w.Reasons = append(slices.Clip(d.Reasons), Reason{Code: FilingFailed, Err: err})
		*d = w
		if by != nil {
			return fmt.Errorf("%w: %w", ErrFiling, err)
		}
		return dc.act(ctx, d, nil)
	}
	if d.Manual {
		dc.stats.filedManual.Add(1)
	} else {
		dc.stats.filedAuto.Add(1)
	}
	dc.unlist(d.Document.Key())
	return dc.record(ctx, "FILE", d, by)
}

// list adds or updates the document's item.
func (dc *Decider) list(d *Decision) {
	key := d.Document.Key()
	now := dc.c.Now()
	dc.mu.Lock()
	defer dc.mu.Unlock()
	it := dc.items[key]
	if it == nil {
		it = &Item{Key: key, Added: now, Expires: now.Add(dc.c.Policy.retention())}
		dc.items[key] = it
	}
	it.Decision = d
}

func (dc *Decider) unlist(key string) {
	dc.mu.Lock()
	delete(dc.items, key)
	dc.mu.Unlock()
}

// take removes an item and returns it (nil when absent).
func (dc *Decider) take(key string) *Item {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	it := dc.items[key]
	delete(dc.items, key)
	return it
}

// putBack returns an item taken, unless the document was listed again
// meanwhile.
func (dc *Decider) putBack(it *Item) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if _, ok := dc.items[it.Key]; !ok {
		dc.items[it.Key] = it
	}
}

// Pending returns the worklist, oldest first. The items are copies; their
// Decisions are shared and must not be changed.
func (dc *Decider) Pending() []Item {
	dc.mu.Lock()
	out := make([]Item, 0, len(dc.items))
	for _, it := range dc.items {
		out = append(out, *it)
	}
	dc.mu.Unlock()
	slices.SortFunc(out, func(a, b Item) int {
		if c := a.Added.Compare(b.Added); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Restore puts back items kept from a previous run (the worklist lives in
// memory: a vendor stores Pending's items its own way and restores them at
// start). Items keep their Added and Expires; Recompute(ctx, nil) then
// decides them again with the current records.
func (dc *Decider) Restore(items []Item) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for _, it := range items {
		if it.Decision == nil || it.Key == "" {
			continue
		}
		c := it
		dc.items[c.Key] = &c
	}
}

// Resolution is a person's answer to a worklist item (SC.MSS/UX.09–12,
// UX.14): file the document into Patient, a record they chose among the
// candidates, found otherwise, or created for it; or, with Patient nil,
// reject it with Reject, the integration error sent back (902 "Identifiant
// patient inconnu", 904 "L'INS transmis ne correspond pas"…).
type Resolution struct {
	Patient *Patient                 // the record to file into, or nil to reject
	Reject  mssante.IntegrationError // the error sent back when Patient is nil
	// By is the person resolving (required): the trace of the resolution
	// is theirs (SC.MSS/CONF.17 nominative trace).
	By trace.Actor
}

// Resolve applies a person's resolution to the worklist item key. Filing
// checks the versions again (the same document may have been filed, or a
// newer version received, meanwhile: then the decision is Duplicate or
// Older) and refuses, wrapping ErrResolution, to join a fictitious
// patient's document and a real record. The decision returned is Manual,
// with reason ByPerson; a Reject carries its integration error, for the
// vendor to send back (mssante.NewMDN or NewErrorMail from the stored
// message: Document.Ref). The item leaves the worklist unless an error is
// returned.
func (dc *Decider) Resolve(ctx context.Context, key string, r Resolution) (*Decision, error) {
	if r.By.ID == "" {
		return nil, fmt.Errorf("%w: Resolution.By names no person (the trace is nominative)", ErrResolution)
	}
	if r.Patient == nil {
		if _, ok := mssante.IntegrationErrorFor(r.Reject.Code); !ok {
			return nil, fmt.Errorf("%w: no patient and no integration error (900-906): code %d", ErrResolution, r.Reject.Code)
		}
	}
	it := dc.take(key)
	if it == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotPending, key)
	}
	d, err := dc.resolve(ctx, it, &r)
	if err != nil {
		dc.putBack(it)
		return nil, err
	}
	return d, nil
}

func (dc *Decider) resolve(ctx context.Context, it *Item, r *Resolution) (*Decision, error) {
	prev := it.Decision
	d := &Decision{Document: prev.Document, Candidates: prev.Candidates, Verification: prev.Verification,
		Manual: true, At: dc.c.Now(), Reasons: []Reason{{Code: ByPerson}}}
	doc := &d.Document
	if r.Patient == nil {
		e, _ := mssante.IntegrationErrorFor(r.Reject.Code) // checked by Resolve
		d.Outcome, d.Error = Reject, &e
		if err := dc.record(ctx, "RESOLVE", d, &r.By); err != nil {
			return nil, err
		}
		dc.count(d)
		return d, nil
	}
	if doc.fictitious() != r.Patient.fictitious() {
		return nil, fmt.Errorf("%w: a fictitious patient's document and a real record (or the reverse) are never joined", ErrResolution)
	}
	held, err := dc.c.Documents.Held(ctx, doc.ID, doc.setID())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFiling, err)
	}
	v := doc.version()
	var latest *Held
	for i := range held {
		h := &held[i]
		if h.ID == doc.ID && max(h.Version, 1) == v {
			d.Outcome, d.Held = Duplicate, h
		}
		if h.ID != doc.ID && (latest == nil || max(h.Version, 1) > max(latest.Version, 1)) {
			latest = h
		}
	}
	switch {
	case d.Outcome == Duplicate:
	case latest != nil && max(latest.Version, 1) > v:
		e := mssante.IntegrationWrongVersion
		d.Outcome, d.Held, d.Error = Older, latest, &e
	case latest != nil && max(latest.Version, 1) < v:
		d.Outcome, d.Replaces = Replace, latest
	default:
		d.Outcome = Integrate
	}
	if d.Outcome == Integrate || d.Outcome == Replace {
		p := *r.Patient
		d.Patient = &p
	}
	if err := dc.record(ctx, "RESOLVE", d, &r.By); err != nil {
		return nil, err
	}
	dc.count(d)
	if d.Outcome == Integrate || d.Outcome == Replace {
		if err := dc.file(ctx, d, &r.By); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Recompute decides again the worklist items a created or changed local
// identity may concern (SC.MSS/UX.15): those that listed it as a
// candidate, share its matricule, or whose traits the index now answers
// it for (PatientIndex.ByTraits, Policy.CandidateScore applied); pass the
// record as stored after the change. With changed nil, every item (after
// INSi or the index came back, or after Restore). Each new decision is
// traced (RECOMPUTE) and acted on as Process does: filed when it now
// qualifies for automatic integration, removed when it is rejected or
// already held, kept (with its new reasons and candidates, its Added and
// Expires unchanged) otherwise. It returns the new decisions.
func (dc *Decider) Recompute(ctx context.Context, changed *Patient) ([]*Decision, error) {
	var all []*Item
	dc.mu.Lock()
	for _, it := range dc.items {
		all = append(all, it)
	}
	dc.mu.Unlock()
	slices.SortFunc(all, func(a, b *Item) int { return strings.Compare(a.Key, b.Key) })
	todo := all[:0]
	for _, it := range all {
		if changed == nil || dc.concerns(ctx, it, changed) {
			todo = append(todo, it)
		}
	}
	var out []*Decision
	for _, it := range todo {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		doc := it.Decision.Document
		d := dc.decide(ctx, &doc)
		if err := dc.record(ctx, "RECOMPUTE", d, nil); err != nil {
			return out, err
		}
		dc.count(d)
		if err := dc.act(ctx, d, nil); err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// concerns reports whether a changed record may be the patient of an
// item: it was a candidate, it holds the document's matricule, or the
// index returns it for the document's traits (with a score of at least
// Policy.CandidateScore). An index that does not answer concerns every
// item: deciding again costs less than missing one.
func (dc *Decider) concerns(ctx context.Context, it *Item, p *Patient) bool {
	d := it.Decision
	for _, c := range d.Candidates {
		if c.Patient.ID == p.ID {
			return true
		}
	}
	doc := &d.Document.Patient
	if !doc.INS.IsZero() && doc.INS.Matricule == p.Identity.INS.Matricule {
		return true
	}
	ps, err := dc.c.Patients.ByTraits(ctx, &doc.Traits)
	if err != nil {
		return true
	}
	for i := range ps {
		if ps[i].ID == p.ID {
			return ins.CompareTraits(&doc.Traits, &p.Identity.Traits).Score() >= dc.c.Policy.CandidateScore
		}
	}
	return false
}

// Expire rejects the worklist items whose retention has ended
// (SC.MSS/UX.41: a maximum time for items left in the worklist) with
// Policy.ExpiredError (902 by default), traced EXPIRE, and returns their
// decisions: the vendor sends each error back from the stored message
// (Document.Ref, Document.MessageID) so that the sender knows the document
// was not integrated. Call it periodically, at least daily.
func (dc *Decider) Expire(ctx context.Context) ([]*Decision, error) {
	now := dc.c.Now()
	var due []*Item
	dc.mu.Lock()
	for _, it := range dc.items {
		if !now.Before(it.Expires) {
			due = append(due, it)
		}
	}
	dc.mu.Unlock()
	slices.SortFunc(due, func(a, b *Item) int { return strings.Compare(a.Key, b.Key) })
	var out []*Decision
	for _, it := range due {
		e := dc.c.Policy.expiredError()
		prev := it.Decision
		d := &Decision{Outcome: Reject, Document: prev.Document, Candidates: prev.Candidates, Error: &e, At: now,
			Reasons: append(slices.Clip(prev.Reasons), Reason{Code: Expired})}
		if err := dc.record(ctx, "EXPIRE", d, nil); err != nil {
			return out, err
		}
		dc.unlist(it.Key)
		dc.stats.expired.Add(1)
		dc.count(d)
		out = append(out, d)
	}
	return out, nil
}
