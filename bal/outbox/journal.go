// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// The journal file: a header line, then frames. A frame is
//
//	uint32 meta length | uint32 body length | uint32 CRC-32C of those 8 bytes
//	meta (the JSON of a Record) | body | uint32 CRC-32C of meta and body
//
// little-endian. The header CRC lets a reader refuse a damaged length
// before trusting it; the trailer CRC covers the content.
const (
	journalMagic = "gomss outbox journal 1\n"
	frameHeader  = 12
	frameTrailer = 4
	// maxMeta and maxBody bound what a damaged length could make a reader
	// allocate; a message is far below maxBody (Mon espace santé takes
	// 25 MB, operators less or about as much).
	maxMeta = 16 << 20
	maxBody = 512 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// JournalOptions tune OpenJournal.
type JournalOptions struct {
	// NoSync skips fsync (Sync only writes): for tests and benchmarks that
	// measure the cost of durability. Never in production: a failure of
	// the machine could then lose a message the outbox took.
	NoSync bool
	// Repair opens a journal whose damage is not a write cut by a crash
	// (ErrCorrupt) by cutting it before the first damaged frame: the
	// records after it are lost. An operator's decision, after a copy of
	// the file has been kept.
	Repair bool
}

// Journal is the embedded Store: one append-only file, outbox.journal,
// in a directory of its own, locked by one process at a time
// (outbox.lock).
//
// Why a journal file rather than an embedded database: the outbox only
// ever appends records and replays them, which is what a log does best;
// one file with checksummed frames needs no dependency (a pure-Go SQLite
// is several hundred thousand lines, slow to build for every vendor's CI,
// and its own crash consistency would still have to be trusted, not
// tested here); one write per record and one fsync for many records
// (group commit) keep sending at the speed of the server; and its crash
// behaviour is tested at every byte: a journal cut anywhere opens with
// every complete record and nothing else (TestJournalCutAtEveryOffset).
// A vendor that wants its database implements Store instead.
//
// A write cut by a crash (the last frame incomplete or damaged, nothing
// intact after it) is cut off at open: it was never acknowledged as
// durable. A damaged frame followed by intact ones is not a crash's doing
// and is refused (ErrCorrupt). Body reads the stored message back from
// the file; Rewrite compacts it into a new file renamed over the old one.
type Journal struct {
	dir  string
	opts JournalOptions
	lock *os.File

	mu     sync.RWMutex // the file, size, bodies, err
	f      *os.File
	size   int64
	bodies map[string]bodyRef
	err    error // sticky: a failed write or sync
	closed bool

	syncMu sync.Mutex // serialises fsyncs (group commit); taken before mu
	synced int64      // bytes known durable (guarded by syncMu)
}

type bodyRef struct{ off, n int64 }

const journalName = "outbox.journal"

// OpenJournal opens (or creates) the journal in dir, created if needed.
// It reads the file through once: a write cut by a crash is cut off (and
// the cut made durable), damage elsewhere is ErrCorrupt unless
// opts.Repair.
func OpenJournal(dir string, opts *JournalOptions) (*Journal, error) {
	j := &Journal{dir: dir, bodies: map[string]bodyRef{}}
	if opts != nil {
		j.opts = *opts
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	lock, err := lockFile(filepath.Join(dir, "outbox.lock"))
	if err != nil {
		return nil, err
	}
	j.lock = lock
	// A compaction cut by a crash leaves its new file unrenamed.
	os.Remove(filepath.Join(dir, journalName+".new"))
	if err := j.open(); err != nil {
		j.release()
		return nil, err
	}
	return j, nil
}

func (j *Journal) path() string { return filepath.Join(j.dir, journalName) }

func (j *Journal) release() {
	if j.f != nil {
		j.f.Close()
	}
	if j.lock != nil {
		j.lock.Close()
	}
}

func (j *Journal) open() error {
	f, err := os.OpenFile(j.path(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	j.f = f
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if st.Size() < int64(len(journalMagic)) {
		// New, or its creation was cut before the header was durable:
		// nothing was ever recorded in it.
		if st.Size() > 0 {
			head := make([]byte, st.Size())
			if _, err := io.ReadFull(f, head); err != nil {
				return fmt.Errorf("%w: %w", ErrStore, err)
			}
			if !bytes.HasPrefix([]byte(journalMagic), head) {
				return fmt.Errorf("%w: %s is not an outbox journal", ErrCorrupt, j.path())
			}
		}
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		if _, err := f.WriteAt([]byte(journalMagic), 0); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		if err := j.fsync(f); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		if err := syncDir(j.dir); err != nil && !j.opts.NoSync {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		j.size = int64(len(journalMagic))
		j.synced = j.size
		return nil
	}
	end, err := j.scan(nil)
	if err != nil {
		return err
	}
	if end < st.Size() {
		// The tail is a write cut by a crash (scan checked that nothing
		// intact follows, or Repair): cut it and make the cut durable, so
		// that the next records follow the last complete one.
		if err := f.Truncate(end); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		if err := j.fsync(f); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
	}
	j.size = end
	j.synced = end
	return nil
}

func (j *Journal) fsync(f *os.File) error {
	if j.opts.NoSync {
		return nil
	}
	return f.Sync()
}

// frame is one frame read back.
type frame struct {
	off     int64 // of the frame
	meta    []byte
	bodyOff int64
	bodyLen int64
	next    int64 // offset after the frame
}

// readFrame reads the frame at off of r (of size size). It returns ok
// false, without error, when the bytes there are not an intact frame.
func readFrame(r io.ReaderAt, off, size int64) (fr frame, ok bool, err error) {
	if size-off < frameHeader {
		return fr, false, nil
	}
	var h [frameHeader]byte
	if _, err := r.ReadAt(h[:], off); err != nil {
		return fr, false, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return fr, false, nil
	}
	ml, bl := int64(binary.LittleEndian.Uint32(h[0:])), int64(binary.LittleEndian.Uint32(h[4:]))
	if ml == 0 || ml > maxMeta || bl > maxBody {
		return fr, false, nil
	}
	next := off + frameHeader + ml + bl + frameTrailer
	if next > size {
		return fr, false, nil
	}
	meta := make([]byte, ml)
	if _, err := r.ReadAt(meta, off+frameHeader); err != nil {
		return fr, false, fmt.Errorf("%w: %w", ErrStore, err)
	}
	crc := crc32.Update(0, castagnoli, meta)
	if bl > 0 {
		sr := io.NewSectionReader(r, off+frameHeader+ml, bl)
		h := crc32.New(castagnoli)
		h.Write(meta)
		if _, err := io.Copy(h, sr); err != nil {
			return fr, false, fmt.Errorf("%w: %w", ErrStore, err)
		}
		crc = h.Sum32()
	}
	var t [frameTrailer]byte
	if _, err := r.ReadAt(t[:], next-frameTrailer); err != nil {
		return fr, false, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if crc != binary.LittleEndian.Uint32(t[:]) {
		return fr, false, nil
	}
	return frame{off: off, meta: meta, bodyOff: off + frameHeader + ml, bodyLen: bl, next: next}, true, nil
}

// scan reads every frame, indexes the bodies and passes each record to fn
// (when not nil). It returns where the intact frames end. A damaged frame
// with intact frames after it is ErrCorrupt (unless Repair).
func (j *Journal) scan(fn func(*Record) error) (int64, error) {
	st, err := j.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrStore, err)
	}
	size := st.Size()
	head := make([]byte, len(journalMagic))
	if _, err := j.f.ReadAt(head, 0); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if string(head) != journalMagic {
		return 0, fmt.Errorf("%w: %s is not an outbox journal", ErrCorrupt, j.path())
	}
	bodies := map[string]bodyRef{}
	off := int64(len(journalMagic))
	for off < size {
		fr, ok, err := readFrame(j.f, off, size)
		if err != nil {
			return 0, err
		}
		if !ok {
			if !j.opts.Repair {
				if later, err := intactAfter(j.f, off, size); err != nil {
					return 0, err
				} else if later >= 0 {
					return 0, fmt.Errorf("%w: %s: damaged frame at byte %d, intact frames after it (byte %d): not a write cut by a crash", ErrCorrupt, j.path(), off, later)
				}
			}
			break
		}
		var rec Record
		if err := json.Unmarshal(fr.meta, &rec); err != nil {
			return 0, fmt.Errorf("%w: %s: record at byte %d: %v", ErrCorrupt, j.path(), off, err)
		}
		if fr.bodyLen > 0 {
			if rec.MessageID == "" {
				return 0, fmt.Errorf("%w: %s: record at byte %d carries a body without a Message-ID", ErrCorrupt, j.path(), off)
			}
			bodies[rec.MessageID] = bodyRef{off: fr.bodyOff, n: fr.bodyLen}
		}
		if fn != nil {
			if err := fn(&rec); err != nil {
				return 0, err
			}
		}
		off = fr.next
	}
	j.bodies = bodies
	return off, nil
}

// intactAfter returns the offset of the first intact frame after the
// damaged one at off, or -1 when there is none. Frame headers carry their
// own checksum: candidates are found in memory, a chunk at a time, and
// only those are read as frames.
func intactAfter(r io.ReaderAt, off, size int64) (int64, error) {
	chunk := min(int64(1<<20), size-off)
	buf := make([]byte, chunk+frameHeader)
	for base := off + 1; base+frameHeader <= size; base += chunk {
		n := int64(len(buf))
		if base+n > size {
			n = size - base
		}
		if _, err := r.ReadAt(buf[:n], base); err != nil && err != io.EOF {
			return 0, fmt.Errorf("%w: %w", ErrStore, err)
		}
		for i := int64(0); i+frameHeader <= n && i < chunk; i++ {
			h := buf[i : i+frameHeader]
			if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
				continue
			}
			if _, ok, err := readFrame(r, base+i, size); err != nil {
				return 0, err
			} else if ok {
				return base + i, nil
			}
		}
	}
	return -1, nil
}

// Load replays the records (bodies left out).
func (j *Journal) Load(ctx context.Context, fn func(*Record) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	size := j.size
	off := int64(len(journalMagic))
	for off < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		fr, ok, err := readFrame(j.f, off, size)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s: frame at byte %d no longer intact", ErrCorrupt, j.path(), off)
		}
		var rec Record
		if err := json.Unmarshal(fr.meta, &rec); err != nil {
			return fmt.Errorf("%w: %s: record at byte %d: %v", ErrCorrupt, j.path(), off, err)
		}
		if err := fn(&rec); err != nil {
			return err
		}
		off = fr.next
	}
	return nil
}

// encodeFrame appends the frame of rec to buf.
func encodeFrame(buf *bytes.Buffer, rec *Record) error {
	meta, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("outbox: encoding a %s record: %w", rec.Kind, err)
	}
	if len(meta) > maxMeta || len(rec.Body) > maxBody {
		return fmt.Errorf("outbox: %s record of %s too large (%d + %d bytes)", rec.Kind, rec.MessageID, len(meta), len(rec.Body))
	}
	var h [frameHeader]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(meta)))
	binary.LittleEndian.PutUint32(h[4:], uint32(len(rec.Body)))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	buf.Write(h[:])
	buf.Write(meta)
	buf.Write(rec.Body)
	crc := crc32.Update(crc32.Checksum(meta, castagnoli), castagnoli, rec.Body)
	var t [frameTrailer]byte
	binary.LittleEndian.PutUint32(t[:], crc)
	buf.Write(t[:])
	return nil
}

// Append writes the records, in one write, after the others.
func (j *Journal) Append(ctx context.Context, recs ...*Record) error {
	var buf bytes.Buffer
	var offs []int64 // body offsets within buf
	for _, r := range recs {
		start := buf.Len()
		if err := encodeFrame(&buf, r); err != nil {
			return err
		}
		offs = append(offs, int64(start))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.err != nil {
		return j.err
	}
	if _, err := j.f.WriteAt(buf.Bytes(), j.size); err != nil {
		// What reached the file is unknown: no later write may follow it
		// (the journal would have a hole); reopening reads it back.
		j.err = fmt.Errorf("%w: writing %s: %w", ErrStore, j.path(), err)
		return j.err
	}
	for i, r := range recs {
		if len(r.Body) > 0 {
			meta := binary.LittleEndian.Uint32(buf.Bytes()[offs[i]:])
			j.bodies[r.MessageID] = bodyRef{off: j.size + offs[i] + frameHeader + int64(meta), n: int64(len(r.Body))}
		}
	}
	j.size += int64(buf.Len())
	return nil
}

// Sync makes every record appended so far durable; callers waiting at the
// same time share one fsync.
func (j *Journal) Sync(ctx context.Context) error {
	j.mu.RLock()
	target, err, closed := j.size, j.err, j.closed
	j.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if err != nil {
		return err
	}
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= target {
		return nil // an fsync that started after our write covered it
	}
	j.mu.RLock()
	n, f := j.size, j.f
	j.mu.RUnlock()
	if err := j.fsync(f); err != nil {
		j.mu.Lock()
		j.err = fmt.Errorf("%w: fsync of %s: %w", ErrStore, j.path(), err)
		j.mu.Unlock()
		return j.err
	}
	j.synced = n
	return nil
}

// Body reads a message's body back from the journal.
func (j *Journal) Body(ctx context.Context, messageID string) ([]byte, error) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return nil, ErrClosed
	}
	ref, ok := j.bodies[messageID]
	if !ok {
		return nil, fmt.Errorf("%w: no body for %s in %s", ErrUnknownMessage, messageID, j.path())
	}
	b := make([]byte, ref.n)
	if _, err := j.f.ReadAt(b, ref.off); err != nil {
		return nil, fmt.Errorf("%w: reading the body of %s: %w", ErrStore, messageID, err)
	}
	return b, nil
}

// Rewrite writes recs (with the kept bodies) to a new file, makes it
// durable and renames it over the journal.
func (j *Journal) Rewrite(ctx context.Context, recs []*Record, keepBody map[string]bool) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.err != nil {
		return j.err
	}
	tmp := j.path() + ".new"
	nf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	fail := func(err error) error {
		nf.Close()
		os.Remove(tmp)
		return fmt.Errorf("%w: compacting %s: %w", ErrStore, j.path(), err)
	}
	w := &countWriter{w: nf}
	if _, err := io.WriteString(w, journalMagic); err != nil {
		return fail(err)
	}
	bodies := map[string]bodyRef{}
	for _, r := range recs {
		rec := r
		if len(rec.Body) == 0 && keepBody[rec.MessageID] {
			ref, ok := j.bodies[rec.MessageID]
			if !ok {
				return fail(fmt.Errorf("no body to keep for %s", rec.MessageID))
			}
			b := make([]byte, ref.n)
			if _, err := j.f.ReadAt(b, ref.off); err != nil {
				return fail(err)
			}
			cp := *rec
			cp.Body = b
			rec = &cp
		}
		var buf bytes.Buffer
		if err := encodeFrame(&buf, rec); err != nil {
			return fail(err)
		}
		start := w.n
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fail(err)
		}
		if len(rec.Body) > 0 {
			ml := int64(binary.LittleEndian.Uint32(buf.Bytes()))
			bodies[rec.MessageID] = bodyRef{off: start + frameHeader + ml, n: int64(len(rec.Body))}
		}
	}
	if err := j.fsync(nf); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, j.path()); err != nil {
		return fail(err)
	}
	if err := syncDir(j.dir); err != nil && !j.opts.NoSync {
		// Renamed, but the rename may not survive a power failure: the
		// old file would then come back, which is equivalent.
		j.err = fmt.Errorf("%w: syncing %s after compaction: %w", ErrStore, j.dir, err)
	}
	j.f.Close()
	j.f, j.size, j.synced, j.bodies = nf, w.n, w.n, bodies
	return j.err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Size returns the size of the journal file in bytes.
func (j *Journal) Size() int64 {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.size
}

// Close syncs and closes the journal and releases its lock.
func (j *Journal) Close() error {
	err := j.Sync(context.Background())
	if errors.Is(err, ErrClosed) {
		return nil
	}
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %w", ErrStore, cerr)
	}
	if j.lock != nil {
		j.lock.Close()
	}
	return err
}

var _ Store = (*Journal)(nil)
