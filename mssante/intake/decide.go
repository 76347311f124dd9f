// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// ErrConfig is wrapped by the errors of New: a required interface is
// missing or the policy is out of range.
var ErrConfig = errors.New("intake: configuration")

// Config is what a Decider works with.
type Config struct {
	Patients  PatientIndex // the patient index (required)
	Documents Documents    // the document store (required)
	// Verifier, when set, verifies every received INS with the national
	// base before it may decide an automatic integration
	// (SC.MSS/UX.03–04). Without it, the local qualified INS (itself
	// obtained from INSi) is what the received INS is checked against.
	Verifier Verifier
	Policy   Policy // the establishment's rules; the zero value is the strictest
	// Trace records an event for every decision, filing, worklist
	// resolution and expiry (SC.MSS/UX.37–38), fail closed: a document
	// whose event cannot be recorded is not filed. Required; Actor.ID too
	// (the software's or the applicative BAL's identity, as bal traces
	// it), Mailbox the BAL that received the documents.
	Trace    trace.Recorder
	Actor    trace.Actor   // the author of automatic decisions
	Mailbox  trace.Mailbox // the BAL the documents came to
	Software string        // the product, as trace.Event.Software
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Decider decides, files and keeps the worklist of received documents. It
// is safe for concurrent use.
type Decider struct {
	c     Config
	guard trace.Guard

	mu    sync.Mutex
	items map[string]*Item // worklist, by Document.Key
	stats counters
}

// New returns a Decider, or an error wrapping ErrConfig.
func New(c Config) (*Decider, error) {
	switch {
	case c.Patients == nil:
		return nil, fmt.Errorf("%w: Patients (the patient index) is required", ErrConfig)
	case c.Documents == nil:
		return nil, fmt.Errorf("%w: Documents (the document store) is required", ErrConfig)
	case c.Trace == nil:
		return nil, fmt.Errorf("%w: Trace is required (SC.MSS/UX.37-38: every received flow is traced up to its integration)", ErrConfig)
	case c.Actor.ID == "":
		return nil, fmt.Errorf("%w: Actor.ID is required (the traced author of automatic decisions)", ErrConfig)
	}
	if err := c.Policy.validate(); err != nil {
		return nil, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Decider{c: c, guard: trace.Guard{Recorder: c.Trace}, items: map[string]*Item{}}, nil
}

// Decide decides what to do with one received document, in this order:
//
//  1. the document must have an id (SC.CDA/MSS.01), else Reject 906;
//  2. a fictitious patient's document is rejected with 902 unless the
//     policy accepts test patients;
//  3. versions (SC.CDA/MSS.01–03): the same id and version held is a
//     Duplicate; a newer version of the set held makes it Older (900); an
//     older version held makes it a replacement of that version;
//  4. the patient: the INS path (SC.MSS/UX.02–04, UX.07, SENTINELLE.20)
//     or the traits path (UX.05, UX.08), see the package documentation;
//  5. everything else goes to the worklist (UX.09–14), or is rejected
//     with 903 or 905 when the policy says so.
//
// A vendor lookup that fails sends the document to the worklist with
// LookupFailed. Decide records the decision (Config.Trace) and counts it
// (Stats); it files nothing (Process does). The error is non-nil only
// when the event could not be recorded (wrapping trace.ErrNotRecorded):
// then nothing may be done with the decision.
func (dc *Decider) Decide(ctx context.Context, doc *Document) (*Decision, error) {
	d := dc.decide(ctx, doc)
	if err := dc.record(ctx, "DECIDE", d, nil); err != nil {
		return nil, err
	}
	dc.count(d)
	return d, nil
}

// decide is Decide without trace and statistics.
func (dc *Decider) decide(ctx context.Context, doc *Document) *Decision {
	d := &Decision{Document: *doc, At: dc.c.Now()}
	if doc.ID.Root == "" {
		return reject(d, mssante.IntegrationOther, Reason{Code: NoDocumentID})
	}
	if doc.fictitious() && !dc.c.Policy.AcceptTestPatients {
		return reject(d, mssante.IntegrationPatientUnknown, Reason{Code: FictitiousPatient})
	}
	var blocked bool // a reason that forbids automatic integration
	// Versions.
	held, err := dc.c.Documents.Held(ctx, doc.ID, doc.setID())
	if err != nil {
		d.Reasons = append(d.Reasons, Reason{Code: LookupFailed, Err: err})
		blocked = true
	}
	v := doc.version()
	var latest *Held
	for i := range held {
		h := &held[i]
		hv := max(h.Version, 1)
		if h.ID == doc.ID {
			if hv == v {
				d.Outcome, d.Held = Duplicate, h
				return d
			}
			// A CDA id names one version: the same id under another
			// version number is an error of the sender or the store.
			d.Reasons = append(d.Reasons, Reason{Code: VersionConflict})
			blocked = true
			continue
		}
		hset := h.SetID
		if hset.IsZero() {
			hset = h.ID
		}
		if hset != doc.setID() {
			continue
		}
		if latest == nil || hv > max(latest.Version, 1) {
			latest = h
		}
	}
	if latest != nil {
		switch lv := max(latest.Version, 1); {
		case lv > v:
			d.Outcome, d.Held = Older, latest
			e := mssante.IntegrationWrongVersion
			d.Error = &e
			return d
		case lv == v:
			d.Reasons = append(d.Reasons, Reason{Code: VersionConflict})
			blocked = true
		default:
			d.Replaces = latest
		}
	}
	// Patient.
	p, noINS, incomplete := dc.match(ctx, d)
	if noINS && (p == nil || blocked) {
		d.Reasons = append([]Reason{{Code: NoINS}}, d.Reasons...)
	}
	if p == nil || blocked {
		switch {
		case noINS && dc.c.Policy.RejectWithoutINS:
			return reject(d, mssante.IntegrationINSAbsent, Reason{Code: NoINS})
		case incomplete && dc.c.Policy.RejectIncompleteINS:
			return reject(d, mssante.IntegrationINSIncomplete, Reason{Code: INSIncomplete})
		}
		d.Outcome = Worklist
		return d
	}
	if d.Replaces != nil && d.Replaces.PatientID != p.ID {
		d.Reasons = append(d.Reasons, Reason{Code: ReplacesOtherPatient})
		d.Outcome = Worklist
		return d
	}
	d.Patient = p
	d.Outcome = Integrate
	if d.Replaces != nil {
		d.Outcome = Replace
	}
	return d
}

func reject(d *Decision, e mssante.IntegrationError, r Reason) *Decision {
	d.Outcome = Reject
	d.Error = &e
	d.Reasons = append(d.Reasons, r)
	return d
}

// match finds the candidates and returns the record an automatic
// integration may go to, nil when none may (d.Reasons then say why). It
// also tells whether the document has no INS, or an incomplete one, for
// the policy's rejections.
func (dc *Decider) match(ctx context.Context, d *Decision) (chosen *Patient, noINS, incomplete bool) {
	doc := &d.Document
	recv := &doc.Patient
	hasINS := !recv.INS.IsZero()
	insOK := hasINS // the document's INS may decide
	insBad := false // the document's INS forbids any automatic integration
	block := func(r Reason) { d.Reasons = append(d.Reasons, r) }

	switch {
	case !hasINS && doc.PatientErr != nil:
		// An INS identifier was there but unreadable (ins.ReadRecordTarget
		// keeps the rest): not an identity to integrate on.
		block(Reason{Code: INSInvalid, Err: doc.PatientErr})
		insBad = true
	case !hasINS:
		noINS = true // reported only if nothing is integrated (see decide)
	}
	if hasINS {
		if recv.INS.Validate() != nil || recv.Traits.ValidateINSTraits() != nil {
			// StrucMin: an INS comes with its five traits (INS/va1.53).
			incomplete = true
			block(Reason{Code: INSIncomplete})
			insOK, insBad = false, true
		}
	}
	// The message must agree with the header (Ref#2 ECO.2.1.2, ECO.2.4.2).
	switch doc.INSHeader {
	case "N":
		if hasINS { // the sender says its identity is not qualified
			block(Reason{Code: INSConflict})
			insOK, insBad = false, true
		}
	case "O":
		if !hasINS {
			block(Reason{Code: INSConflict})
			insBad = true
		}
	}
	if sp := doc.SubmissionPatient; sp != nil && ins.Authority(sp.Authority).IsINS() {
		if !hasINS || sp.ID != recv.INS.Matricule.String() || sp.Authority != string(recv.INS.Authority) {
			block(Reason{Code: INSConflict})
			insOK, insBad = false, true
		}
	}

	// INSi on reception (SC.MSS/UX.03–04).
	var extra ins.Matricule
	if insOK && dc.c.Verifier != nil {
		id := ins.Identity{INS: recv.INS, Traits: recv.Traits}
		v, err := dc.c.Verifier.VerifyINS(ctx, id)
		if err != nil {
			block(Reason{Code: INSiUnavailable, Err: err})
			insOK, insBad = false, true
		} else {
			d.Verification = &v
			switch v.Result {
			case Confirmed:
			case Contradicted:
				block(Reason{Code: INSiContradicted})
				insOK, insBad = false, true
			default:
				block(Reason{Code: INSiNotFound})
				insOK, insBad = false, true
			}
			if !v.Active.IsZero() && v.Active.Matricule != recv.INS.Matricule {
				extra = v.Active.Matricule // UX.04: show its record too
			}
		}
	}

	// Candidates.
	failed := false
	lookup := func(ps []Patient, err error, byINS bool) {
		if err != nil {
			if !failed {
				block(Reason{Code: LookupFailed, Err: err})
			}
			failed = true
			return
		}
		for i := range ps {
			d.addCandidate(&ps[i], byINS)
		}
	}
	if hasINS {
		ps, err := dc.c.Patients.ByMatricule(ctx, recv.INS.Matricule)
		lookup(ps, err, true)
	}
	if !extra.IsZero() {
		ps, err := dc.c.Patients.ByMatricule(ctx, extra)
		lookup(ps, err, true)
	}
	ps, err := dc.c.Patients.ByTraits(ctx, &recv.Traits)
	lookup(ps, err, false)
	d.filterCandidates(dc.c.Policy.CandidateScore)
	if failed || insBad {
		return nil, noINS, incomplete
	}

	switch len(d.Candidates) {
	case 0:
		if hasINS {
			block(Reason{Code: NoLocalINS})
		}
		block(Reason{Code: NoCandidate})
		return nil, noINS, incomplete
	case 1:
	default:
		block(Reason{Code: SeveralCandidates})
		return nil, noINS, incomplete
	}
	c := &d.Candidates[0]
	ok := true
	if doc.fictitious() != c.Patient.fictitious() {
		block(Reason{Code: FictitiousPatient})
		ok = false
	}
	if diff := c.Comparison.Different(); len(diff) > 0 {
		block(Reason{Code: TraitsDifferent, Traits: diff})
		ok = false
	}
	if miss := c.Comparison.Missing(); len(miss) > 0 {
		block(Reason{Code: TraitsMissing, Traits: miss})
		ok = false
	}
	switch c.INS {
	case INSOther:
		block(Reason{Code: LocalINSDifferent})
		ok = false
	case INSSame:
		// UX.02, UX.07: a qualified INS matches a qualified local INS.
		if _, err := c.Patient.Identity.QualifiedINS(); err != nil {
			block(Reason{Code: LocalNotQualified, Err: err})
			ok = false
		}
	case INSNone:
		// UX.05, UX.08: a match on traits only, only if the policy says so.
		if !dc.c.Policy.AutoOnTraits {
			if hasINS {
				block(Reason{Code: NoLocalINS}) // SENTINELLE.20: the INS is not known here
			}
			block(Reason{Code: TraitsOnly})
			ok = false
		}
	}
	if !ok {
		return nil, noINS, incomplete
	}
	p := c.Patient
	return &p, noINS, incomplete
}

// addCandidate adds p, or marks it found by INS when it is already there.
func (d *Decision) addCandidate(p *Patient, byINS bool) {
	for i := range d.Candidates {
		if d.Candidates[i].Patient.ID == p.ID {
			d.Candidates[i].ByINS = d.Candidates[i].ByINS || byINS
			return
		}
	}
	recv := &d.Document.Patient
	c := Candidate{Patient: *p, ByINS: byINS, Comparison: ins.CompareTraits(&recv.Traits, &p.Identity.Traits)}
	c.Score = c.Comparison.Score()
	switch l := &p.Identity.INS; {
	case recv.INS.IsZero() || l.IsZero():
		c.INS = INSNone
	case l.Matricule == recv.INS.Matricule && l.Authority == recv.INS.Authority:
		c.INS = INSSame
	default:
		c.INS = INSOther
	}
	if d.Candidates == nil {
		d.Candidates = make([]Candidate, 0, 2)
	}
	d.Candidates = append(d.Candidates, c)
}

// filterCandidates drops the records found by traits only whose score is
// below min, and sorts the rest: found by INS first, then best score, then
// by local identifier.
func (d *Decision) filterCandidates(min float64) {
	kept := d.Candidates[:0]
	for _, c := range d.Candidates {
		if c.ByINS || c.Score >= min {
			kept = append(kept, c)
		}
	}
	d.Candidates = kept
	if len(kept) < 2 {
		return
	}
	slices.SortStableFunc(kept, func(a, b Candidate) int {
		switch {
		case a.ByINS != b.ByINS:
			if a.ByINS {
				return -1
			}
			return 1
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case a.Patient.ID < b.Patient.ID:
			return -1
		case a.Patient.ID > b.Patient.ID:
			return 1
		}
		return 0
	})
}
