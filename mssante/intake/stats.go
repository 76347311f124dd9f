// SPDX-License-Identifier: Apache-2.0

package intake

import "sync/atomic"

// Stats are the integration statistics of a Decider since it was made
// (SC.MSS/UX.16–17): decisions by outcome and by reason, integration
// errors sent back by code, documents filed automatically and by a
// person, worklist items expired and pending. They count decisions, not
// documents: a document decided again (Recompute) counts again in
// Outcomes and Reasons, once in Filed.
type Stats struct {
	// Outcomes counts decisions by outcome.
	Outcomes map[Outcome]int
	// Reasons counts the reasons given, by code.
	Reasons map[ReasonCode]int
	// Errors counts the integration errors decided (Reject, Older,
	// expired items), by code 900–906: what the acknowledgements carry
	// back (UX.17, the future "accusés d'intégration").
	Errors map[int]int
	// FiledAutomatically and FiledManually count documents filed
	// (Documents.File succeeded), FilingFailed the filings that failed.
	FiledAutomatically, FiledManually, FilingFailed int
	// Expired counts items removed from the worklist by retention (UX.41).
	Expired int
	// Pending is the number of items in the worklist now.
	Pending int
}

// counters are Stats as atomic counters: counting allocates nothing.
type counters struct {
	outcomes                       [numOutcomes]atomic.Int64
	reasons                        [numReasons]atomic.Int64
	errors                         [7]atomic.Int64 // 900..906
	filedAuto, filedManual, failed atomic.Int64
	expired                        atomic.Int64
}

// count adds a decision to the statistics.
func (dc *Decider) count(d *Decision) {
	c := &dc.stats
	if int(d.Outcome) < len(c.outcomes) {
		c.outcomes[d.Outcome].Add(1)
	}
	for _, r := range d.Reasons {
		if int(r.Code) < len(c.reasons) {
			c.reasons[r.Code].Add(1)
		}
	}
	if d.Error != nil && d.Error.Code >= 900 && d.Error.Code <= 906 {
		c.errors[d.Error.Code-900].Add(1)
	}
}

// Stats returns the statistics so far.
func (dc *Decider) Stats() Stats {
	c := &dc.stats
	s := Stats{Outcomes: map[Outcome]int{}, Reasons: map[ReasonCode]int{}, Errors: map[int]int{}}
	for i := range c.outcomes {
		if n := c.outcomes[i].Load(); n > 0 {
			s.Outcomes[Outcome(i)] = int(n)
		}
	}
	for i := range c.reasons {
		if n := c.reasons[i].Load(); n > 0 {
			s.Reasons[ReasonCode(i)] = int(n)
		}
	}
	for i := range c.errors {
		if n := c.errors[i].Load(); n > 0 {
			s.Errors[900+i] = int(n)
		}
	}
	s.FiledAutomatically = int(c.filedAuto.Load())
	s.FiledManually = int(c.filedManual.Load())
	s.FilingFailed = int(c.failed.Load())
	s.Expired = int(c.expired.Load())
	dc.mu.Lock()
	s.Pending = len(dc.items)
	dc.mu.Unlock()
	return s
}
