// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrTampered is wrapped by every *CorruptionError: the log is not what
// was written.
var ErrTampered = errors.New("trace: log does not verify")

// CorruptionError names the first bad record (its sequence number; -1
// for the head or the checkpoints file) and the line of the log file.
type CorruptionError struct {
	Record int64
	Line   int
	Reason string
}

func (e *CorruptionError) Error() string {
	if e.Record < 0 {
		return fmt.Sprintf("%v: %s", ErrTampered, e.Reason)
	}
	return fmt.Sprintf("%v: first bad record %d (line %d): %s", ErrTampered, e.Record, e.Line, e.Reason)
}

func (e *CorruptionError) Unwrap() error { return ErrTampered }

// VerifyResult describes a log that verifies.
type VerifyResult struct {
	Origin string
	// Start is the sequence number of the first record kept (after
	// pruning); Records the number of complete records from Start.
	Start, Records int64
	Checkpoints    int
	LastCheckpoint *Checkpoint
	// IncompleteTail is set when the file ends with a partial line: a
	// writer stopped in the middle of a write (crash). The records before
	// it verify; OpenFileLog cuts the partial line off.
	IncompleteTail bool
	// IncompleteCheckpoint is set when the checkpoints file ends with a
	// partial line (a crash or a failed write while a checkpoint was
	// appended) that is the beginning of the checkpoint of the records,
	// up to its tree root (see Verify): its signature is lost, the
	// complete checkpoints are checked; OpenFileLog cuts the partial line
	// off. Any other partial line, or a complete line that is not a
	// checkpoint, is a *CorruptionError.
	IncompleteCheckpoint bool
	// Unsigned is the number of records after the last checkpoint: they
	// are chained but no signature covers them yet.
	Unsigned int64
	// Witnessed is the number of checkpoints given to VerifyAgainst that
	// were checked against the records.
	Witnessed int

	validBytes int64
	lastHash   string
	tree       frontier
	startTree  frontier
	startPrev  string
	// tornRefused is why checkTorn refused the partial last checkpoint
	// line (verifyRun with tornOK only).
	tornRefused error
}

// Verify checks a trace log against its signed checkpoints: every line
// parses, sequence numbers follow each other, each record carries the hash
// of the previous line, the Merkle tree recomputed from the records has
// the root each checkpoint signs at its size, and no checkpoint covers
// more records than the file holds. A pruned log's head must carry the
// checkpoint that Prune signed at the cut (Checkpoint.Prune set), with the
// frontier it signs. An incomplete last line of the checkpoints file (a
// crash while appending it) is reported (IncompleteCheckpoint) and must
// be the beginning of the checkpoint of the records as they are, up to
// and including its tree root: a writer signs a checkpoint only once its
// records are on disk, so a crash while the line was appended leaves
// that. A partial line that stops before the root, or names another size
// or root, is a *CorruptionError: cutting the last checkpoint line is what
// someone who removed or changed the last records would do to hide it
// (RepairFileLog is the way out after a genuine early crash). Someone who
// deletes checkpoint lines whole, and the records with them, leaves a
// shorter log that verifies: only checkpoints kept elsewhere
// (VerifyAgainst) show that. The first failure is returned as a
// *CorruptionError naming the first bad record.
//
// The records are read as a stream: memory does not grow with the log
// (the checkpoints are read first and held), and the lines as FileLog
// writes them are checked against the record schema without building
// their events; any other line is decoded by encoding/json, unknown
// fields refused, so that what is refused, and why, is as before.
func Verify(path string, v note.Verifier) (*VerifyResult, error) {
	return verifyFile(path, note.VerifierList(v), nil)
}

// VerifyAgainst verifies the log as Verify does, and also against
// checkpoints kept away from it (FileLogConfig.OnCheckpoint; each given as
// its signed note, Checkpoint.Note). Each must be signed by v for the log's
// origin, and the log must still hold its records with the tree root it
// signed: a log cut back to an earlier checkpoint, or rewritten together
// with its checkpoints file (which Verify alone reports as a shorter or
// unsigned log), is a *CorruptionError. A checkpoint older than the log's
// pruning cut (VerifyResult.Start) cannot be checked against the records
// left and is not counted; VerifyResult.Witnessed counts those checked.
func VerifyAgainst(path string, v note.Verifier, checkpoints ...string) (*VerifyResult, error) {
	return verifyWith(path, note.VerifierList(v), checkpoints, nil)
}

// visitFunc sees each complete, chained record: its sequence number, its
// event's UTC time and its line (valid only during the call: copy it to
// keep it); returning false stops the scan (the result then covers what
// was read).
type visitFunc func(seq int64, utc time.Time, line []byte) bool

func verifyFile(path string, verifiers note.Verifiers, visit visitFunc) (*VerifyResult, error) {
	return verifyWith(path, verifiers, nil, visit)
}

// verifyWith is Verify and VerifyAgainst (witnesses being the checkpoints
// kept elsewhere), calling visit for each chained record. It runs in
// phases: the checkpoints are read and ordered (loadCheckpoints), the head
// and the pruning cut are checked (checkHead), the checkpoints are matched
// to the log's origin and cut (checkCheckpoints), the records are read and
// chained, each checkpoint's root being checked at its size (checkRecords),
// and the result states what no checkpoint covers yet (finish).
func verifyWith(path string, verifiers note.Verifiers, witnesses []string, visit visitFunc) (*VerifyResult, error) {
	return verifyRun(path, verifiers, witnesses, visit, false)
}

// verifyRun is verifyWith; with tornOK, a partial last checkpoint line
// too short to be checked against the records (checkTorn) is not an error but kept in
// VerifyResult.tornRefused (RepairFileLog).
func verifyRun(path string, verifiers note.Verifiers, witnesses []string, visit visitFunc, tornOK bool) (*VerifyResult, error) {
	cps, tornCP, err := loadCheckpoints(path, verifiers, witnesses)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v := &verification{
		lines:  lineReader{br: bufio.NewReaderSize(f, 256<<10)},
		cps:    cps,
		res:    &VerifyResult{IncompleteCheckpoint: tornCP != nil},
		torn:   tornCP,
		tornOK: tornOK,
	}
	if err := v.checkHead(verifiers); err != nil {
		return nil, err
	}
	if err := v.checkCheckpoints(); err != nil {
		return nil, err
	}
	stopped, err := v.checkRecords(visit)
	if err != nil {
		return nil, err
	}
	if stopped {
		return v.res, nil
	}
	return v.finish()
}

// loadCheckpoints opens the checkpoints kept elsewhere (witnesses) and
// those of the log's checkpoints file, which must not shrink, and returns
// them all ordered by size (stable: a file checkpoint comes before a
// witness of the same size), with whether the file ends with a partial
// line.
func loadCheckpoints(path string, verifiers note.Verifiers, witnesses []string) (_ []*Checkpoint, torn []byte, _ error) {
	var wcps []*Checkpoint
	for i, m := range witnesses {
		c, err := openCheckpoint(m, verifiers)
		if err != nil {
			return nil, nil, &CorruptionError{Record: -1, Reason: fmt.Sprintf("checkpoint kept elsewhere %d: %v", i+1, err)}
		}
		c.witness = true
		wcps = append(wcps, c)
	}
	cpMsgs, tornCP, err := readCheckpointLines(path)
	if err != nil {
		return nil, nil, &CorruptionError{Record: -1, Reason: err.Error()}
	}
	var cps []*Checkpoint
	for i, m := range cpMsgs {
		c, err := openCheckpoint(m, verifiers)
		if err != nil {
			return nil, nil, &CorruptionError{Record: -1, Reason: fmt.Sprintf("checkpoint %d: %v", i+1, err)}
		}
		if len(cps) > 0 && c.Size < cps[len(cps)-1].Size {
			return nil, nil, &CorruptionError{Record: -1, Reason: fmt.Sprintf("checkpoint %d: size %d after size %d", i+1, c.Size, cps[len(cps)-1].Size)}
		}
		cps = append(cps, c)
	}
	if len(wcps) > 0 {
		cps = append(cps, wcps...)
		sort.SliceStable(cps, func(i, j int) bool { return cps[i].Size < cps[j].Size })
	}
	return cps, tornCP, nil
}

// lineReader reads the log file line by line, counting lines and the bytes
// of the complete ones.
type lineReader struct {
	br     *bufio.Reader
	lineNo int    // lines read, the last one included
	offset int64  // end of the last complete line
	long   []byte // a line longer than br's buffer, reused
}

// next returns the next line without its newline and whether it was
// complete; a nil line is the end of the file. The line is valid until the
// next call.
func (r *lineReader) next() ([]byte, bool, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	if len(line) == 0 {
		return nil, false, nil
	}
	r.lineNo++
	complete := line[len(line)-1] == '\n'
	if complete {
		r.offset += int64(len(line))
		line = line[:len(line)-1]
	}
	return line, complete, nil
}

// verification is the state of verifyWith between its phases.
type verification struct {
	lines lineReader
	cps   []*Checkpoint // ordered by size
	res   *VerifyResult
	head  *logHead

	next     int64 // sequence number of the next record
	ci       int   // index in cps of the next checkpoint to check
	lastGood int64 // size of the last checkpoint verified

	// prev is the chain hash the next record must carry: the head's
	// (startPrev) or prevBuf, the hash of the last record line.
	prev    []byte
	prevBuf [44]byte // base64 of a SHA-256
	leaf    hash.Hash
	sum     tlog.Hash

	torn []byte // the partial last line of the checkpoints file, if any
	// tornOK accepts a torn checkpoint line that cannot be checked
	// (RepairFileLog only; the reason goes to res.tornRefused).
	tornOK bool
}

// bad is the *CorruptionError for record rec at the current line.
func (v *verification) bad(rec int64, format string, args ...any) error {
	return &CorruptionError{Record: rec, Line: v.lines.lineNo, Reason: fmt.Sprintf(format, args...)}
}

// checkHead reads the head line and, for a pruned log, checks that its
// frontier has the shape of its start size and is signed by the Prune
// checkpoint it carries. It sets the result's origin and start, the
// starting tree and chain hash, and the state to read the records from.
func (v *verification) checkHead(verifiers note.Verifiers) error {
	head, complete, err := v.lines.next()
	if err != nil {
		return err
	}
	var hl headLine
	if !complete || json.Unmarshal(head, &hl) != nil || hl.Head == nil || hl.Head.Version != 1 {
		return v.bad(-1, "line 1 is not the log head")
	}
	h, res := hl.Head, v.res
	v.head = h
	res.Origin, res.Start = h.Origin, h.Start
	if h.Start > 0 {
		if err := v.checkCut(verifiers); err != nil {
			return err
		}
		res.startPrev = h.Prev
	} else {
		res.startPrev = lineHash(head)
	}
	res.tree = res.startTree.clone()
	res.lastHash = res.startPrev
	v.prev = []byte(res.startPrev)
	res.validBytes = v.lines.offset
	v.next = h.Start
	v.ci = sort.Search(len(v.cps), func(i int) bool { return v.cps[i].Size > h.Start }) // the cut checkpoint is checked with the head
	v.lastGood = h.Start
	return nil
}

// checkCut checks the head of a pruned log: its Merkle frontier fits its
// start size and the checkpoint at the cut, signed by Prune, signs it.
func (v *verification) checkCut(verifiers note.Verifiers) error {
	h, res := v.head, v.res
	res.startTree.size = h.Start
	for _, fe := range h.Frontier {
		res.startTree.nodes = append(res.startTree.nodes, fe.Hash)
	}
	want := res.startTree.storedIndexes()
	if !res.startTree.valid() || len(want) != len(h.Frontier) {
		return v.bad(-1, "head: the Merkle frontier does not fit size %d", h.Start)
	}
	for i, fe := range h.Frontier {
		if fe.Index != want[i] {
			return v.bad(-1, "head: frontier entry %d has index %d, want %d", i, fe.Index, want[i])
		}
	}
	c, err := openCheckpoint(h.Cut, verifiers)
	if err != nil || c.Size != h.Start || c.Root != res.startTree.root() {
		return v.bad(-1, "head: the checkpoint at the pruning cut does not sign this frontier (%v)", err)
	}
	// Only Prune signs a cut: a regular checkpoint (anyone can compute
	// the frontier and chain hash at its size from the records) would
	// let records be deleted from the start of the log.
	if c.Prune == "" {
		return v.bad(-1, "head: the checkpoint at the pruning cut (size %d, signed at %s) is a regular checkpoint, not one signed by Prune: records before it were removed without the signing key", c.Size, c.Time)
	}
	return nil
}

// checkCheckpoints checks that every checkpoint is for the log's origin,
// and that a checkpoint kept elsewhere at the pruning cut signs the tree
// the head starts from (counted as witnessed).
func (v *verification) checkCheckpoints() error {
	h := v.head
	for _, c := range v.cps {
		if c.Origin != h.Origin {
			return v.bad(-1, "checkpoint origin %q, log origin %q", c.Origin, h.Origin)
		}
		if c.witness && c.Size == h.Start && h.Start > 0 {
			if c.Root != v.res.startTree.root() {
				return v.bad(-1, "the checkpoint kept elsewhere at size %d does not sign the tree at the pruning cut", c.Size)
			}
			v.res.Witnessed++
		}
	}
	return nil
}

// checkRecords reads the records after the head until the end of the file
// or a partial last line, checking each (checkRecord) and the checkpoints
// at its size (checkRoots), then calling visit. stopped reports that visit
// returned false.
func (v *verification) checkRecords(visit visitFunc) (stopped bool, _ error) {
	v.leaf = sha256.New()
	defer func() { v.res.lastHash = string(v.prev) }()
	for {
		line, complete, err := v.lines.next()
		if err != nil {
			return false, err
		}
		if line == nil {
			return false, nil
		}
		if !complete {
			v.res.IncompleteTail = true
			return false, nil
		}
		seq, utc, err := v.checkRecord(line)
		if err != nil {
			return false, err
		}
		if err := v.checkRoots(); err != nil {
			return false, err
		}
		if visit != nil && !visit(seq, utc, line) {
			return true, nil
		}
	}
}

// checkRecord parses line as the next record, checks its sequence number
// and its chain hash, and adds it to the tree. It returns the record's
// sequence number and its event's UTC time.
func (v *verification) checkRecord(line []byte) (int64, time.Time, error) {
	res, next := v.res, v.next
	r, ok := scanRecord(line)
	if !ok {
		var err error
		if r, err = decodeRecord(line); err != nil {
			return 0, time.Time{}, v.bad(next, "not a record (%v)", err)
		}
	}
	switch {
	case r.seq > next:
		return 0, time.Time{}, v.bad(next, "record %d is missing: the next line is record %d (deleted or reordered)", next, r.seq)
	case r.seq < next:
		return 0, time.Time{}, v.bad(next, "record %d found where %d belongs (replayed, inserted or reordered)", r.seq, next)
	}
	if !bytes.Equal(r.prev, v.prev) {
		if next == v.head.Start {
			return 0, time.Time{}, v.bad(next, "record %d does not follow the head's chain hash (modified, or records removed before it)", next)
		}
		return 0, time.Time{}, v.bad(next-1, "record %d no longer matches the chain hash that record %d carries (record %d was modified, or %d inserted)", next-1, next, next-1, next)
	}
	// The leaf hash, tlog.RecordHash (RFC 6962 §2.1: SHA-256 of 0x00
	// and the line), with one hash reused; then the chain hash, lineHash,
	// into prevBuf.
	v.leaf.Reset()
	v.leaf.Write(leafPrefix[:])
	v.leaf.Write(line)
	v.leaf.Sum(v.sum[:0])
	res.tree.add(v.sum)
	chain := sha256.Sum256(line)
	base64.StdEncoding.Encode(v.prevBuf[:], chain[:])
	v.prev = v.prevBuf[:]
	v.next++
	res.Records++
	res.validBytes = v.lines.offset
	return r.seq, r.utc, nil
}

var leafPrefix = [1]byte{0}

// decodeRecord decodes line as encoding/json does, refusing unknown
// fields: the definition of a record line, for the lines scanRecord does
// not read.
func decodeRecord(line []byte) (scannedRecord, error) {
	var rl recordLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rl); err != nil || rl.Event == nil {
		if err == nil {
			err = errors.New("no event")
		}
		return scannedRecord{}, err
	}
	return scannedRecord{seq: rl.Seq, prev: []byte(rl.Prev), utc: rl.Event.UTC}, nil
}

// checkRoots checks the tree root against the checkpoints signed at the
// size just reached, counting them.
func (v *verification) checkRoots() error {
	cps, res := v.cps, v.res
	for v.ci < len(cps) && cps[v.ci].Size == v.next {
		c := cps[v.ci]
		if c.Root != res.tree.root() {
			return v.bad(v.lastGood, "the records %d to %d do not have the tree root signed at %s by checkpoint %d: one of them was changed and the chain rewritten",
				v.lastGood, v.next-1, c.Time, v.ci+1)
		}
		v.lastGood = v.next
		if c.witness {
			res.Witnessed++
		} else {
			res.Checkpoints++
			res.LastCheckpoint = c
		}
		v.ci++
	}
	return nil
}

// finish runs once every record is read: a checkpoint beyond the last
// record means the log was truncated; otherwise the result counts the
// records no checkpoint covers yet.
func (v *verification) finish() (*VerifyResult, error) {
	if v.ci < len(v.cps) {
		c := v.cps[len(v.cps)-1]
		kept := ""
		if c.witness {
			kept = " (kept elsewhere)"
		}
		return nil, &CorruptionError{Record: v.next, Line: v.lines.lineNo, Reason: fmt.Sprintf(
			"truncated: checkpoint%s signed at %s covers %d records, the log ends at %d", kept, c.Time, c.Size, v.next)}
	}
	v.res.Unsigned = v.next - v.lastGood
	if v.torn != nil {
		if err, short := v.checkTorn(); err != nil {
			if !v.tornOK || !short {
				return nil, err
			}
			v.res.tornRefused = err
		}
	}
	return v.res, nil
}

// checkTorn checks the partial last line of the checkpoints file against
// the records. A writer signs a checkpoint only after its records are on
// disk, with the log locked, so a line cut by a crash while it was
// appended is the beginning of the checkpoint of the log as it is now: its
// origin, its size (the records in the file) and its tree root. The
// partial line must reach past the root and match all three. A shorter
// one, or one that names another size or root, is what someone who
// removed or changed the last records would leave behind (cutting the
// checkpoint that covered them): it is a *CorruptionError, never ignored.
//
// short reports a line that is the beginning of that checkpoint but stops
// before the end of its root: it cannot be told from an early crash, and
// only such a line may be cut by RepairFileLog.
func (v *verification) checkTorn() (_ error, short bool) {
	want := tornPrefix(v.head.Origin, v.next, v.res.tree.root())
	t := v.torn
	if bytes.HasPrefix(t, want) {
		return nil, false
	}
	short = bytes.HasPrefix(want, t)
	what := "it stops before the tree root it signs, so it cannot be checked against the records: it may hide removed or changed records (a crash this early in the write is repaired with RepairFileLog)"
	if !short {
		what = fmt.Sprintf("it is not the beginning of the checkpoint of the %d records the log holds (origin %q, root %s): records were removed, added or changed after it was cut", v.next, v.head.Origin, v.res.tree.root())
	}
	return &CorruptionError{Record: v.lastGood, Line: v.lines.lineNo, Reason: fmt.Sprintf(
		"the checkpoints file ends with a partial line of %d bytes: %s", len(t), what)}, short
}

// tornPrefix is how a checkpoints file line of the tree (origin, size,
// root) begins, up to the end of its root line.
func tornPrefix(origin string, size int64, root tlog.Hash) []byte {
	// The note's first lines (checkpointText) as JSON encodes them in the
	// line, without the closing quote.
	text, _ := json.Marshal(checkpointLine{Checkpoint: fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))})
	return text[:len(text)-2] // drop `"}`
}

// InclusionProof proves that a record is in a log whose size and root a
// signed checkpoint states (RFC 6962 audit path, sumdb/tlog).
type InclusionProof struct {
	Index      int64
	Proof      tlog.RecordProof
	Checkpoint string // the signed note
}

// Prove returns the inclusion proof of record index in the latest
// checkpoint that covers it, and the record's line. The log is verified
// first.
func Prove(path string, index int64, v note.Verifier) (*InclusionProof, []byte, error) {
	stored := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := stored[x]
			if !ok {
				return nil, fmt.Errorf("trace: hash %d not available (pruned)", x)
			}
			out[i] = h
		}
		return out, nil
	})
	// A pruned log starts from the frontier stored in its head.
	if h, err := readHead(path); err == nil {
		for _, fe := range h.Frontier {
			stored[fe.Index] = fe.Hash
		}
	}
	var line []byte
	var storeErr error
	res, err := verifyFile(path, note.VerifierList(v), func(seq int64, _ time.Time, l []byte) bool {
		hs, err := tlog.StoredHashes(seq, l, reader)
		if err != nil {
			storeErr = err
			return false
		}
		base := tlog.StoredHashCount(seq)
		for i, h := range hs {
			stored[base+int64(i)] = h
		}
		if seq == index {
			line = append([]byte(nil), l...)
		}
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	if storeErr != nil {
		return nil, nil, storeErr
	}
	if line == nil {
		return nil, nil, fmt.Errorf("trace: record %d is not in the log (records %d to %d)", index, res.Start, res.Start+res.Records-1)
	}
	cps, _, _ := readCheckpointLines(path)
	for i := len(cps) - 1; i >= 0; i-- {
		c, err := openCheckpoint(cps[i], note.VerifierList(v))
		if err != nil || c.Size <= index {
			continue
		}
		p, err := tlog.ProveRecord(c.Size, index, reader)
		if err != nil {
			return nil, nil, err
		}
		return &InclusionProof{Index: index, Proof: p, Checkpoint: c.Note}, line, nil
	}
	return nil, nil, fmt.Errorf("trace: no checkpoint covers record %d yet", index)
}

// VerifyInclusion checks that line is record p.Index of the log signed by
// p.Checkpoint. Every error wraps ErrTampered: no proof, a checkpoint
// that v does not verify, or a proof that does not lead from line to the
// checkpoint's root.
func VerifyInclusion(p *InclusionProof, line []byte, v note.Verifier) error {
	if p == nil {
		return fmt.Errorf("%w: no inclusion proof", ErrTampered)
	}
	c, err := openCheckpoint(p.Checkpoint, note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("%w: record %d: the proof's %v", ErrTampered, p.Index, err)
	}
	if err := tlog.CheckRecord(p.Proof, c.Size, c.Root, p.Index, tlog.RecordHash(line)); err != nil {
		return fmt.Errorf("%w: record %d is not in the checkpointed log: %v", ErrTampered, p.Index, err)
	}
	return nil
}

func readHead(path string) (*logHead, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var hl headLine
	if err := json.Unmarshal(line, &hl); err != nil || hl.Head == nil {
		return nil, errors.New("trace: no log head")
	}
	return hl.Head, nil
}

// Filter selects events in Scan. Zero fields match everything.
type Filter struct {
	From, To time.Time // UTC range, To excluded
	ActorID  string
	Mailbox  string
	Actions  []Action
}

func (f *Filter) match(e *Event) bool {
	if !f.From.IsZero() && e.UTC.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !e.UTC.Before(f.To) {
		return false
	}
	if f.ActorID != "" && e.Actor.ID != f.ActorID && (e.OnBehalfOf == nil || e.OnBehalfOf.ID != f.ActorID) {
		return false
	}
	if f.Mailbox != "" && !equalFold(e.Mailbox.Address, f.Mailbox) {
		return false
	}
	if len(f.Actions) > 0 {
		for _, a := range f.Actions {
			if e.Action == a {
				return true
			}
		}
		return false
	}
	return true
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// Scan calls fn for each event of the log that matches the filter, in
// order, reading the file as a stream. It does not verify the log (use
// Verify); lines that do not parse are skipped and counted.
func Scan(path string, filter Filter, fn func(seq int64, e Event) error) (skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	first := true
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if first {
				first = false
			} else {
				var rl recordLine
				if json.Unmarshal(line, &rl) != nil || rl.Event == nil {
					skipped++
				} else if filter.match(rl.Event) {
					if err := fn(rl.Seq, *rl.Event); err != nil {
						return skipped, err
					}
				}
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return skipped, nil
			}
			return skipped, rerr
		}
	}
}
