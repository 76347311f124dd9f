// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// DefaultRetention is how long FileLog keeps events: 6 months, the
// recommendation of Référentiel socle MSSanté #2 §5 (ANS FAQ 10217); the
// data controller decides.
const DefaultRetention = 183 * 24 * time.Hour

// FileLogConfig configures an append-only trace file.
type FileLogConfig struct {
	// Path of the log (JSON Lines); checkpoints go to Path+".checkpoints".
	Path string
	// Origin names the log in its checkpoints, e.g.
	// "gomss trace secretariat@lilas.mssante.fr"; "gomss/trace" when empty.
	Origin string
	// Signer signs checkpoints and Verifier checks them (sumdb/note,
	// Ed25519 keys from note.GenerateKey). Both required: the log checks
	// itself before appending. Keep the signer key away from the log's
	// readers; give verifiers the verifier key.
	Signer   note.Signer
	Verifier note.Verifier
	// Durable makes Record return only once its event is on disk (fsync;
	// concurrent callers share one fsync: group commit). Otherwise events
	// are buffered and written every FlushInterval, when 64 KiB are
	// pending, and at checkpoints.
	Durable       bool
	FlushInterval time.Duration // default 1 s
	// A checkpoint is signed every CheckpointEvery records (default 1,000)
	// or CheckpointInterval (default 1 min), and at Close.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// Retention: events older than this are pruned at Open and by Prune
	// (default DefaultRetention; negative: never).
	Retention time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnCheckpoint, when set, is given every checkpoint once it is written
	// (automatic ones, Checkpoint, Close, and the cut of Prune). Keep them
	// away from the log's files (another host, the syslog collector, a
	// database): a copy kept elsewhere lets VerifyAgainst detect a log cut
	// back or rewritten together with its checkpoints file, which the log
	// alone cannot show. It is called with the log locked: it must not call
	// the FileLog's methods, and should hand the checkpoint over and return.
	OnCheckpoint func(*Checkpoint)
}

// FileLog is the append-only, tamper-evident trace file: JSON Lines where
// every record carries its sequence number and the SHA-256 of the previous
// line, every record is a leaf of an RFC 6962 Merkle tree (sumdb/tlog),
// and signed checkpoints (sumdb/note) fix the tree's size and root.
// Verify detects a modified, deleted, reordered, inserted, replayed or
// truncated record and names the first bad one.
type FileLog struct {
	cfg     FileLogConfig
	lock    *os.File   // Path+".lock", flocked while the log is open (nil: no locking)
	mu      sync.Mutex // guards the fields below and the buffered writer
	f       *os.File   // nil once closed; swapped by Prune
	bw      *bufio.Writer
	origin  string
	next    int64  // sequence number of the next record
	prev    string // hash of the last line written
	tree    frontier
	lastCP  int64 // size of the last checkpoint
	lastCPT time.Time
	closed  bool
	err     error // sticky write error

	// syncMu serialises fsyncs (group commit), and Close and Prune (which
	// close l.f) with them; taken before mu, never while holding it.
	syncMu sync.Mutex
	synced int64 // records known to be on disk (guarded by syncMu)
	stop   chan struct{}
	done   chan struct{}
}

type headLine struct {
	Head *logHead `json:"head"`
}

type logHead struct {
	Version  int             `json:"version"`
	Origin   string          `json:"origin"`
	Start    int64           `json:"start"`
	Prev     string          `json:"prev,omitempty"`
	Frontier []frontierEntry `json:"frontier,omitempty"`
	// Cut is the signed checkpoint of the pruned tree (size Start).
	Cut string `json:"cut,omitempty"`
}

type frontierEntry struct {
	Index int64     `json:"i"`
	Hash  tlog.Hash `json:"h"`
}

type recordLine struct {
	Seq   int64  `json:"seq"`
	Prev  string `json:"prev"`
	Event *Event `json:"event"`
}

type checkpointLine struct {
	Checkpoint string `json:"checkpoint"`
}

func (c *FileLogConfig) defaults() {
	if c.Origin == "" {
		c.Origin = "gomss/trace"
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 1000
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = time.Minute
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// ErrLocked is returned by OpenFileLog when another FileLog, in this
// process or another, has the same log open: one writer at a time. The
// lock is an exclusive flock(2) on Path+".lock" on Unix, LockFileEx on
// Windows (the file is left in place), held until Close and released by
// the system if the process dies. On systems with neither (Solaris, AIX,
// Plan 9, ...) no lock is taken and the program must make sure a log is
// opened once.
var ErrLocked = errors.New("trace: the log is open by another writer (locked)")

// OpenFileLog opens or creates the log and locks it (ErrLocked if another
// FileLog has it open). An existing log is verified first (against the
// signer's own key); an incomplete last line of the log or of its
// checkpoints file, left by a crash during a write, is cut off (and
// reported by Verify before that); a log that does not verify is not
// appended to. A partial last checkpoint line must be the beginning of
// the checkpoint of the records as they are, up to its tree root (see
// Verify): one that is not, or is too short to tell, may hide removed or
// changed records, and OpenFileLog refuses it with an error wrapping
// ErrTampered rather than sign a new checkpoint over it (RepairFileLog
// cuts it after a genuine crash, recording that it did). Events older than
// the retention are then pruned.
func OpenFileLog(cfg FileLogConfig) (*FileLog, error) {
	l, _, err := openFileLog(cfg, false)
	return l, err
}

// Repair is the action of the event RepairFileLog records.
const Repair Action = "trace-repair"

// RepairFileLog opens the log as OpenFileLog does, except that a partial
// last line of the checkpoints file that OpenFileLog refuses because it
// stops before the tree root it signs (so it cannot be checked against
// the records) is cut off. A partial line that names another size or root
// than the records have is proof that they were removed or changed and is
// refused by RepairFileLog too. It is the way out when an operator has established that the line
// was cut by a crash (a power loss while the checkpoint was appended), not
// by someone hiding removed or changed records: the tree root of the
// records as they are is then signed, and what was cut can no longer be
// checked. So the repair is itself recorded: when a line was cut,
// RepairFileLog records an event by the given actor (the operator),
// action Repair, command "CUT-CHECKPOINT", with the length and SHA-256 of
// the cut bytes and the first record it could not vouch for as
// parameters, then signs a checkpoint covering it; repaired reports
// whether it did. Any other failure of Verify is still refused (an error
// wrapping ErrTampered): RepairFileLog never re-signs a broken chain or a
// record that does not match a complete checkpoint.
func RepairFileLog(cfg FileLogConfig, by Actor) (_ *FileLog, repaired bool, err error) {
	if by.ID == "" {
		return nil, false, errors.New("trace: RepairFileLog needs the operator (Actor.ID)")
	}
	l, cut, err := openFileLog(cfg, true)
	if err != nil || cut == nil {
		return l, false, err
	}
	sum := sha256.Sum256(cut.bytes)
	e := Event{
		Time:     cfg.Now(),
		Actor:    by,
		Action:   Repair,
		Request:  Request{Command: "CUT-CHECKPOINT", Params: []string{fmt.Sprintf("bytes=%d", len(cut.bytes)), "sha256=" + hex.EncodeToString(sum[:]), fmt.Sprintf("unvouched-from=%d", cut.from)}},
		Response: Response{OK: true, Text: "partial checkpoint line cut"},
	}
	if err := l.Record(context.Background(), e); err != nil {
		l.Close()
		return nil, false, err
	}
	if _, err := l.Checkpoint(); err != nil {
		l.Close()
		return nil, false, err
	}
	return l, true, nil
}

// cutLine is the partial checkpoint line RepairFileLog cut, and the first
// record the last complete checkpoint does not cover.
type cutLine struct {
	bytes []byte
	from  int64
}

func openFileLog(cfg FileLogConfig, repair bool) (_ *FileLog, cut *cutLine, err error) {
	cfg.defaults()
	if cfg.Path == "" || cfg.Signer == nil || cfg.Verifier == nil {
		return nil, nil, errors.New("trace: FileLogConfig needs Path, Signer and Verifier")
	}
	if err := checkKeyPair(cfg.Signer, cfg.Verifier); err != nil {
		return nil, nil, err
	}
	v := cfg.Verifier
	l := &FileLog{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	if l.lock, err = lockFile(cfg.Path + ".lock"); err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			if l.f != nil {
				l.f.Close()
			}
			if l.lock != nil {
				l.lock.Close()
			}
		}
	}()
	// O_APPEND: every write goes to the end of the file.
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	l.f = f
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		l.origin = cfg.Origin
		h, _ := json.Marshal(headLine{Head: &logHead{Version: 1, Origin: cfg.Origin}})
		if _, err := f.Write(append(h, '\n')); err != nil {
			return nil, nil, err
		}
		l.prev = lineHash(h)
		if err := f.Sync(); err != nil {
			return nil, nil, err
		}
	} else {
		res, err := verifyRun(cfg.Path, note.VerifierList(v), nil, nil, repair)
		if err != nil {
			return nil, nil, fmt.Errorf("trace: %s does not verify, refusing to append: %w", cfg.Path, err)
		}
		if res.IncompleteTail {
			if err := f.Truncate(res.validBytes); err != nil {
				return nil, nil, err
			}
		}
		if res.tornRefused != nil {
			cut = &cutLine{from: res.Start + res.Records - res.Unsigned}
			cut.bytes, err = tornCheckpointLine(cfg.Path)
			if err != nil {
				return nil, nil, err
			}
		}
		if res.IncompleteCheckpoint {
			if err := repairCheckpoints(cfg.Path); err != nil {
				return nil, nil, err
			}
		}
		l.origin, l.next, l.prev, l.tree = res.Origin, res.Start+res.Records, res.lastHash, res.tree
		if res.LastCheckpoint != nil {
			l.lastCP = res.LastCheckpoint.Size
		}
	}
	l.synced = l.next
	l.lastCPT = cfg.Now()
	l.bw = bufio.NewWriterSize(f, 64<<10)
	if cfg.Retention > 0 {
		if _, err := l.Prune(cfg.Now().Add(-cfg.Retention)); err != nil {
			return nil, nil, err
		}
	}
	go l.flusher()
	return l, cut, nil
}

// checkKeyPair makes sure the verifier checks the signer's signatures.
func checkKeyPair(s note.Signer, v note.Verifier) error {
	msg, err := note.Sign(&note.Note{Text: "key check\n"}, s)
	if err != nil {
		return fmt.Errorf("trace: signer: %w", err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		return fmt.Errorf("trace: the verifier does not match the signer: %w", err)
	}
	return nil
}

func (l *FileLog) flusher() {
	defer close(l.done)
	t := time.NewTicker(l.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			if !l.closed && l.err == nil {
				l.err = l.bw.Flush()
			}
			due := !l.closed && l.next > l.lastCP && l.cfg.Now().Sub(l.lastCPT) >= l.cfg.CheckpointInterval
			l.mu.Unlock()
			if due {
				l.Checkpoint()
			}
		}
	}
}

// ErrClosed is returned by a closed log.
var ErrClosed = errors.New("trace: log closed")

// Record appends an event (normalised first). With Durable it returns once
// the event is on disk.
func (l *FileLog) Record(ctx context.Context, e Event) error {
	if err := e.Normalize(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return err
	}
	line, err := json.Marshal(recordLine{Seq: l.next, Prev: l.prev, Event: &e})
	if err != nil {
		l.mu.Unlock()
		return err
	}
	if _, err := l.bw.Write(line); err == nil {
		err = l.bw.WriteByte('\n')
		l.err = err
	} else {
		l.err = err
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return err
	}
	seq := l.next
	l.next++
	l.prev = lineHash(line)
	l.tree.add(tlog.RecordHash(line))
	due := l.next-l.lastCP >= int64(l.cfg.CheckpointEvery)
	l.mu.Unlock()
	if due {
		// Closed meanwhile: Close signs the last checkpoint.
		if _, err := l.Checkpoint(); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	}
	if l.cfg.Durable {
		return l.syncTo(seq + 1)
	}
	return nil
}

// syncTo makes the first n records durable. Callers that arrive while an
// fsync runs wait for it, then one of them syncs for all (group commit).
// Once the log is closed, records that Close flushed and synced are
// durable (nil); others get ErrClosed.
func (l *FileLog) syncTo(n int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= n {
		return nil
	}
	l.mu.Lock()
	f := l.f // Close and Prune change it only holding syncMu too
	if f == nil {
		l.mu.Unlock()
		return ErrClosed
	}
	target := l.next
	err := l.err
	if err == nil {
		err = l.bw.Flush()
		l.err = err
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	l.synced = target
	return nil
}

// Checkpoint makes every record durable, then signs and appends a
// checkpoint of the tree. It returns the checkpoint.
func (l *FileLog) Checkpoint() (*Checkpoint, error) {
	l.mu.Lock()
	n := l.next
	l.mu.Unlock()
	if err := l.syncTo(n); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil, ErrClosed
	}
	// Records appended since n are covered too if already flushed; sign
	// the tree as it is at n only if nothing was added, else at l.next
	// after another flush.
	if l.next != n {
		if err := l.bw.Flush(); err != nil {
			return nil, err
		}
		if err := l.f.Sync(); err != nil {
			return nil, err
		}
	}
	return l.checkpointLocked()
}

func (l *FileLog) checkpointLocked() (*Checkpoint, error) {
	at := l.cfg.Now().UTC().Format(time.RFC3339)
	text := checkpointText(l.origin, l.next, l.tree.root(), at)
	msg, err := note.Sign(&note.Note{Text: text}, l.cfg.Signer)
	if err != nil {
		return nil, err
	}
	if err := appendCheckpoint(l.cfg.Path, string(msg)); err != nil {
		return nil, err
	}
	l.lastCP, l.lastCPT = l.next, l.cfg.Now()
	c := &Checkpoint{Origin: l.origin, Size: l.next, Root: l.tree.root(), Time: at, Note: string(msg)}
	if l.cfg.OnCheckpoint != nil {
		cc := *c
		l.cfg.OnCheckpoint(&cc)
	}
	return c, nil
}

// appendCheckpoint appends a checkpoint line to the checkpoints file,
// after cutting off an incomplete last line (left by a crash or a failed
// append); if the write or the fsync fails, the file is cut back to its
// previous size so that no partial line stays in front of the next one.
func appendCheckpoint(path, msg string) error {
	cf, err := os.OpenFile(path+".checkpoints", os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	size, err := cutTornLine(cf)
	if err != nil {
		cf.Close()
		return err
	}
	line, _ := json.Marshal(checkpointLine{Checkpoint: msg})
	if _, err = cf.Write(append(line, '\n')); err == nil {
		err = cf.Sync()
	}
	if err != nil {
		if terr := cf.Truncate(size); terr == nil {
			cf.Sync()
		}
		cf.Close()
		return err
	}
	return cf.Close()
}

// tornCheckpointLine returns the partial last line of the checkpoints file.
func tornCheckpointLine(path string) ([]byte, error) {
	_, torn, err := readCheckpointLines(path)
	return torn, err
}

// repairCheckpoints cuts an incomplete last line off the checkpoints file.
func repairCheckpoints(path string) error {
	cf, err := os.OpenFile(path+".checkpoints", os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := cutTornLine(cf); err != nil {
		cf.Close()
		return err
	}
	return cf.Close()
}

// cutTornLine truncates f after its last '\n' when it does not end with
// one (only an incomplete last line is removed) and returns the size.
func cutTornLine(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	end := size
	buf := make([]byte, 4096)
	for end > 0 {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end == size {
		return size, nil
	}
	if err := f.Truncate(end); err != nil {
		return 0, err
	}
	return end, f.Sync()
}

// Close flushes, signs a last checkpoint, closes the file and releases
// the lock. A durable Record still waiting for its fsync returns nil if
// Close made its event durable, ErrClosed otherwise.
func (l *FileLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done // the flusher may checkpoint, hence syncMu: not held yet
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() {
		if l.lock != nil {
			l.lock.Close()
			l.lock = nil
		}
	}()
	if l.f == nil { // a failed Prune
		if l.err != nil {
			return l.err
		}
		return ErrClosed
	}
	err := l.bw.Flush()
	if err == nil {
		err = l.f.Sync()
	}
	if err == nil {
		l.synced = l.next
	}
	if err == nil && l.next > l.lastCP {
		_, err = l.checkpointLocked()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Prune removes the events recorded before cutoff (by their UTC time,
// the log being in recording order) and keeps the rest verifiable: the
// new head holds the Merkle frontier and the chain hash at the cut and a
// checkpoint signed at the cut, marked as the cut of a prune (its text
// ends with "prune <cutoff>", Checkpoint.Prune), which Verify requires of
// a pruned log; checkpoints older than the cut are dropped. It returns the
// number of records removed.
func (l *FileLog) Prune(cutoff time.Time) (int64, error) {
	l.syncMu.Lock() // l.f is closed and swapped below
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, ErrClosed
	}
	if err := l.bw.Flush(); err != nil {
		return 0, err
	}
	v := l.cfg.Verifier
	cut := int64(-1)
	res, err := verifyFile(l.cfg.Path, note.VerifierList(v), func(seq int64, utc time.Time, _ []byte) bool {
		if cut < 0 && !utc.Before(cutoff.UTC()) {
			cut = seq
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if cut < 0 {
		cut = res.Start + res.Records
	}
	if cut <= res.Start {
		return 0, nil
	}
	// Tree state and chain hash at the cut.
	var state frontier
	var prev string
	var keep [][]byte
	if res.Start > 0 {
		state = res.startTree.clone()
	}
	prev = res.startPrev
	_, err = verifyFile(l.cfg.Path, note.VerifierList(v), func(seq int64, _ time.Time, line []byte) bool {
		if seq < cut {
			state.add(tlog.RecordHash(line))
			prev = lineHash(line)
		} else {
			keep = append(keep, append([]byte(nil), line...))
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	// The cut is signed as such (a "prune" line): Verify accepts a head
	// only with this checkpoint, not a regular one.
	at := l.cfg.Now().UTC().Format(time.RFC3339)
	cutoffText := cutoff.UTC().Format(time.RFC3339)
	msg, err := note.Sign(&note.Note{Text: pruneCheckpointText(l.origin, cut, state.root(), at, cutoffText)}, l.cfg.Signer)
	if err != nil {
		return 0, err
	}
	head := &logHead{Version: 1, Origin: l.origin, Start: cut, Prev: prev, Cut: string(msg)}
	for i, idx := range state.storedIndexes() {
		head.Frontier = append(head.Frontier, frontierEntry{Index: idx, Hash: state.nodes[i]})
	}
	hb, _ := json.Marshal(headLine{Head: head})
	tmp := l.cfg.Path + ".prune"
	var buf bytes.Buffer
	buf.Write(hb)
	buf.WriteByte('\n')
	for _, line := range keep {
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := writeSync(tmp, buf.Bytes()); err != nil {
		return 0, err
	}
	// Checkpoints: the cut, then those at or after it.
	cps, _, _ := readCheckpointLines(l.cfg.Path) // a torn last line is dropped
	var cbuf bytes.Buffer
	for _, m := range append([]string{string(msg)}, cps...) {
		c, err := openCheckpoint(m, note.VerifierList(v))
		if err != nil || (c.Size < cut) || (c.Size == cut && m != string(msg)) {
			continue
		}
		line, _ := json.Marshal(checkpointLine{Checkpoint: m})
		cbuf.Write(append(line, '\n'))
	}
	if err := writeSync(tmp+".checkpoints", cbuf.Bytes()); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp+".checkpoints", l.cfg.Path+".checkpoints"); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, l.cfg.Path); err != nil {
		return 0, err
	}
	l.f.Close()
	f, err := os.OpenFile(l.cfg.Path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		l.f, l.err = nil, err
		return 0, err
	}
	l.f, l.bw = f, bufio.NewWriterSize(f, 64<<10)
	l.synced = l.next // the kept records were written and synced above
	if l.cfg.OnCheckpoint != nil {
		l.cfg.OnCheckpoint(&Checkpoint{Origin: l.origin, Size: cut, Root: state.root(), Time: at, Prune: cutoffText, Note: string(msg)})
	}
	return cut - res.Start, nil
}

func writeSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readCheckpointLines returns the checkpoints of the complete lines of
// the checkpoints file. An incomplete last line (no final '\n': a crash
// or a failed write while appending it) is left out and reported as
// torn (the partial line is returned); a complete line that is not a
// checkpoint is an error.
func readCheckpointLines(path string) (_ []string, torn []byte, _ error) {
	data, err := os.ReadFile(path + ".checkpoints")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data, torn = data[:i+1], data[i+1:]
	}
	var out []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var cl checkpointLine
		if err := json.Unmarshal(line, &cl); err != nil || cl.Checkpoint == "" {
			return out, torn, fmt.Errorf("checkpoints file line %d: not a checkpoint", i+1)
		}
		out = append(out, cl.Checkpoint)
	}
	return out, torn, nil
}
