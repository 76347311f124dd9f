package extraction

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/internal/ascii"
)

// Index is an in-memory, read-only directory built from one
// Extraction_Correspondance_MSSante file: exact lookups by address (case
// insensitive) and by RPPS/ADELI/IDNPS, name search by prefix (case and
// accent insensitive), and listings by profession, postal code, department
// and domain. It is safe for concurrent use.
//
// Memory: the index keeps the file's text once and refers to it by offsets
// (about 60 % of the file size on top of it for the full national
// extraction, and 10 % more once the listings by profession, postal code,
// department and domain have been used, as they are built on first use);
// a Mailbox returned by a lookup shares that text, so a lookup allocates
// nothing.
//
// Speed, on the 536,000-row synthetic extraction (88 MB) and two cores
// (BenchmarkExtraction): LoadIndexFile about 0.25 s, at a peak resident set
// of 1.9 times the file; Lookup about 0.15 µs when the rows looked up are in
// the processor caches, about 0.85 µs when they are not; SearchName about
// 2 µs for the first 20 rows; the first use of a listing about 25 ms.
type Index struct {
	data      string
	l         layout
	span      int          // columns stored per record (l.span)
	n         int          // records: one per line after the header
	stride    int          // bytes per record in recs: 6 + span
	recs      []byte       // per record: line offset (uint32 LE), line length (uint16 LE), span column lengths (255: see over)
	over      map[int]int  // record*span+column → length, for columns of 255 bytes or more
	dup       bitset       // per record, identical to an earlier row (not indexed)
	later     bitset       // per record, not the first row of its address (duplicates included)
	seed      maphash.Seed // hash seed of the tables (random per index)
	addrTab   []uint64     // open addressing on lower-cased address: hash>>32<<32 | record+1 (every well-formed row)
	idTab     []uint64     // open addressing on IDNPS: hash>>32<<32 | record+1
	names     []nameEnt    // records with a family name, sorted by folded name
	arenas    [][]byte     // folded names per parsing chunk: a length byte, then FAMILY "\x01" GIVEN
	byProf    lazyChain    // profession code → records
	byPostal  lazyChain    // postal code → records
	byDept    lazyChain    // department → records
	byDomain  lazyChain    // lower-case domain → records
	workers   int          // goroutines for the lazy listings
	generated time.Time    // generation time of the extraction, zero if unknown
	report    Report
}

// nameEnt is one entry of the name index.
type nameEnt struct {
	key uint64 // first 8 bytes of the folded name, big-endian, zero-padded
	off uint32 // chunk<<arenaShift | offset of the entry in that chunk's arena
	rec uint32
}

// arenaShift splits nameEnt.off into chunk number and offset.
const arenaShift = 28

// maxIndexLine bounds the lines the index accepts (column starts are uint16).
const maxIndexLine = 60000

// Report says what loading an extraction found.
type Report struct {
	Header Header
	// Lines is the number of data lines read (the header excluded).
	Lines int
	// Rows is the number of rows indexed: the lines read, less blank and
	// malformed lines and rows identical to an earlier one (Index.Len).
	Rows int
	// Mailboxes is the number of distinct mailboxes indexed: of distinct
	// addresses, compared without ASCII case. A mailbox attached to two
	// structures is published on two rows (about 170 addresses in the
	// national file) and counted once here, twice in Rows.
	Mailboxes int
	// Addresses is the same count as Mailboxes, under its former name.
	Addresses int
	// Errors holds the first MaxErrors malformed lines, in line order; each
	// was skipped. ErrorCount counts them all.
	Errors     []*LineError
	ErrorCount int
	// Tolerated counts what was accepted outside the rules.
	Tolerated Tolerated
}

// LoadOptions tune LoadIndex. The zero value is ready to use.
type LoadOptions struct {
	// Generated is the extraction's generation time, used to refuse an
	// older reload (Directory.Swap). LoadIndexFile reads it from the
	// AAAAMMJJhhmm suffix of the file name when zero.
	Generated time.Time
	// MaxErrors bounds Report.Errors (default 100; negative: none kept).
	MaxErrors int
	// Workers is the number of goroutines parsing (default GOMAXPROCS, at most 8).
	Workers int
	// SizeHint is the expected size in bytes, to allocate once.
	SizeHint int64
}

// ErrTooLarge: an extraction is larger than an Index can hold (maxData:
// 4 GiB - 1 on 64-bit systems, where records refer to the text by 32-bit
// offsets; 2 GiB - 1 on 32-bit ones, the largest slice they allocate). The
// national file is about 90 MB.
var ErrTooLarge = errors.New("extraction: too large to index")

// maxData is the largest extraction an Index holds, in bytes.
const maxData = min(1<<32-1, math.MaxInt)

// checkSize refuses a size an Index cannot hold, before anything is
// allocated: on 32-bit systems a 2–4 GiB file would otherwise give a
// negative length.
func checkSize(n int64) error {
	if n > maxData {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, int64(maxData))
	}
	return nil
}

// LoadIndexFile opens path and loads it with LoadIndex. When
// opts.Generated is zero it is taken from a file name ending in
// _AAAAMMJJhhmm.txt (Paris time), as the ANS names its extractions.
func LoadIndexFile(ctx context.Context, path string, opts LoadOptions) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opts.Generated.IsZero() {
		opts.Generated = GeneratedFromName(path)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() {
		if err := checkSize(fi.Size()); err != nil {
			return nil, fmt.Errorf("%w: %s", err, path)
		}
	}
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 {
		return LoadIndex(ctx, f, opts)
	}
	// A regular file is read by several goroutines at once: most of the
	// time of a read is the first touch of fresh memory, which then
	// happens on all cores.
	buf := makeLarge[byte](int(fi.Size()))
	parts := max(1, min(workers(opts), 8))
	var wg sync.WaitGroup
	errs := make([]error, parts)
	step := (len(buf) + parts - 1) / parts
	for p := range parts {
		wg.Go(func() {
			from := min(p*step, len(buf))
			to := min(from+step, len(buf))
			for off := from; off < to; {
				if err := ctx.Err(); err != nil {
					errs[p] = err
					return
				}
				n, err := f.ReadAt(buf[off:min(to, off+4<<20)], int64(off))
				off += n
				if err != nil && !(err == io.EOF && off == to) {
					errs[p] = fmt.Errorf("extraction: reading %s: %w", path, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// unsafe: the index hands out substrings of the file's text and never
	// writes to buf again; string(buf) would copy the whole file while
	// both are alive, taking the peak resident set from 1.9 to about 2.9
	// times the file (BenchmarkExtraction/peak-rss; goal ≤ 2).
	return indexData(ctx, unsafe.String(unsafe.SliceData(buf), len(buf)), opts)
}

func workers(opts LoadOptions) int {
	if opts.Workers > 0 {
		return min(opts.Workers, 8)
	}
	return min(runtime.GOMAXPROCS(0), 8)
}

// GeneratedFromName returns the time in an ANS extraction file name such as
// Extraction_Correspondance_MSSante_202608260215.txt (AAAAMMJJhhmm, Paris
// time), or the zero time when the name carries none.
func GeneratedFromName(path string) time.Time {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	i := strings.LastIndexByte(base, '_')
	if i < 0 || len(base)-i-1 != 12 {
		return time.Time{}
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("200601021504", base[i+1:], loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// LoadIndex reads a whole extraction from r and indexes it. Malformed lines
// are reported in the Report (with their line number) and skipped; only an
// unusable header, a read error or ctx ending stop the load.
func LoadIndex(ctx context.Context, r io.Reader, opts LoadOptions) (*Index, error) {
	size := 64 << 10
	if opts.SizeHint > 0 {
		if err := checkSize(opts.SizeHint); err != nil {
			return nil, err
		}
		size = int(opts.SizeHint) + 1
	}
	buf := makeLarge[byte](size)[:0]
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			if err := checkSize(int64(len(buf)) + 1); err != nil {
				return nil, err
			}
			buf = slices.Grow(buf, min(cap(buf), maxData-cap(buf)))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+4<<20)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("extraction: reading: %w", err)
		}
	}
	// The index never writes to buf again and hands out substrings of its
	// text: viewing the bytes as a string saves a copy of the whole file
	// (unsafe: see LoadIndexFile).
	return indexData(ctx, unsafe.String(unsafe.SliceData(buf), len(buf)), opts)
}

// chunkResult is what one parsing goroutine found in its part of the file.
type chunkResult struct {
	from, to int // byte range in data
	first    int // first record
	lines    int
	warn     [numWarn]int
	errs     []*LineError
	errCount int
	over     map[int]int
	good     int // well-formed rows: address entries written from addrEnts[first]
	nids     int // IDNPS entries written from idEnts[first]
	nnames   int // name entries written from names[first]
}

// indexData indexes the whole text of an extraction.
//
// The work is done by one goroutine per chunk of lines, in one pass: each
// parses its lines, folds the names, and prepares the entries of the
// address and IDNPS tables; it then sorts its part of the name index and
// its table entries by home slot. What remains is short and sequential in
// memory: merging the sorted runs, which fills the tables from their first
// slot to their last (instead of one cache miss per row at random) and
// brings the rows of an address together, so that shared addresses and
// identical duplicates are told apart on the way. The listings
// (profession, postal code, department, domain) are built on first use
// (see lazyChain).
func indexData(ctx context.Context, data string, opts LoadOptions) (*Index, error) {
	ix := &Index{data: data, seed: maphash.MakeSeed(), generated: opts.Generated}
	hdrEnd := strings.IndexByte(data, '\n')
	if hdrEnd < 0 {
		hdrEnd = len(data)
	}
	var err error
	if ix.l, ix.report.Header, err = parseHeader(data[:hdrEnd]); err != nil {
		return nil, err
	}
	ix.span = ix.l.span
	body := min(hdrEnd+1, len(data))

	// Cut the body in chunks at line boundaries and count their lines.
	workers := workers(opts)
	ix.workers = workers
	chunks := make([]chunkResult, 0, workers)
	size := (len(data) - body) / workers
	for from := body; from < len(data); {
		to := len(data)
		if len(chunks) < workers-1 && from+size < len(data) {
			if i := strings.IndexByte(data[from+size:], '\n'); i >= 0 {
				to = from + size + i + 1
			}
		}
		chunks = append(chunks, chunkResult{from: from, to: to})
		from = to
	}
	maxErrors := opts.MaxErrors
	if maxErrors == 0 {
		maxErrors = 100
	}
	var wg sync.WaitGroup
	for i := range chunks {
		wg.Go(func() {
			c := &chunks[i]
			c.lines = strings.Count(data[c.from:c.to], "\n")
			if c.to > c.from && data[c.to-1] != '\n' {
				c.lines++
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range chunks {
		chunks[i].first = n
		n += chunks[i].lines
	}
	if uint64(len(data)) > 1<<32-1 || n > 1<<31-2 {
		return nil, fmt.Errorf("extraction: %d bytes, %d lines: too large to index", len(data), n)
	}
	ix.n = n
	ix.stride = 6 + ix.span
	ix.recs = makeLarge[byte](n * ix.stride)
	ix.dup = make(bitset, (n+63)/64)
	ix.later = make(bitset, (n+63)/64)
	ix.names = makeLarge[nameEnt](n)
	ix.arenas = make([][]byte, len(chunks))
	ix.addrTab = makeLarge[uint64](tableSize(n))
	ix.idTab = makeLarge[uint64](tableSize(n))
	w := &work{
		addrEnts: makeLarge[uint64](n),
		idEnts:   makeLarge[uint64](n),
		tmp:      makeLarge[nameEnt](n),
	}
	for i := range chunks {
		wg.Go(func() { ix.parseChunk(ctx, i, &chunks[i], maxErrors, w) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &ix.report
	rep.Lines = n
	good := 0
	for i := range chunks {
		c := &chunks[i]
		rep.Tolerated.add(&c.warn)
		rep.ErrorCount += c.errCount
		good += c.good
		if maxErrors > 0 {
			rep.Errors = append(rep.Errors, c.errs...)
		}
		for k, v := range c.over {
			if ix.over == nil {
				ix.over = make(map[int]int)
			}
			ix.over[k] = v
		}
	}
	if maxErrors > 0 && len(rep.Errors) > maxErrors {
		rep.Errors = rep.Errors[:maxErrors]
	}
	// Merge the sorted runs: the two tables and the name index at once.
	addrRuns := make([][]uint64, len(chunks))
	idRuns := make([][]uint64, len(chunks))
	for i := range chunks {
		c := &chunks[i]
		addrRuns[i] = w.addrEnts[c.first : c.first+c.good]
		idRuns[i] = w.idEnts[c.first : c.first+c.nids]
	}
	later := 0
	wg.Go(func() { later = ix.fillAddresses(addrRuns) })
	wg.Go(func() { fillTable(ix.idTab, idRuns, nil) })
	ix.names = mergeNames(ix, chunks, ix.names, w.tmp)
	wg.Wait()
	rep.Rows = good - rep.Tolerated.Duplicates
	rep.Mailboxes = good - later
	rep.Addresses = rep.Mailboxes
	return ix, nil
}

// work holds the scratch arrays of a load, shared by the chunks by record
// range: chunk c uses [c.first, c.first+c.lines) of each.
type work struct {
	addrEnts []uint64  // address table entries (slotEntry), then sorted by home slot
	idEnts   []uint64  // IDNPS table entries, likewise
	tmp      []nameEnt // scratch of the sorts, then the merged name index
}

// parseChunk parses the lines of chunk number k into its records and the
// entries of the tables and of the name index, then sorts them.
func (ix *Index) parseChunk(ctx context.Context, k int, c *chunkResult, maxErrors int, w *work) {
	s := ix.data[c.from:c.to]
	st := make([]uint16, ix.span+1)
	addrEnts := w.addrEnts[c.first : c.first+c.lines]
	idEnts := w.idEnts[c.first : c.first+c.lines]
	arena := makeLarge[byte](len(s) / 10)[:0]
	names := ix.names[c.first : c.first+c.lines]
	rec := c.first
	for off := 0; off < len(s); rec++ {
		if (rec-c.first)&0xFFFF == 0 && ctx.Err() != nil {
			return
		}
		end := strings.IndexByte(s[off:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += off
		}
		line := strings.TrimSuffix(s[off:end], "\r")
		r := ix.recs[rec*ix.stride : (rec+1)*ix.stride]
		binary.LittleEndian.PutUint32(r, uint32(c.from+off))
		off = end + 1
		if line == "" {
			binary.LittleEndian.PutUint16(r[4:], badLine)
			continue
		}
		lineNo := rec + 2
		var err error
		if len(line) > maxIndexLine {
			err = &LineError{Line: lineNo, Err: fmt.Errorf("%w: longer than %d bytes", ErrLine, maxIndexLine)}
		} else {
			found := ix.l.splitRow(line, st)
			err = ix.l.checkRow(lineNo, line, st, found, &c.warn)
		}
		if err != nil {
			binary.LittleEndian.PutUint16(r[4:], badLine)
			c.errCount++
			if len(c.errs) < maxErrors {
				c.errs = append(c.errs, err.(*LineError))
			}
			continue
		}
		binary.LittleEndian.PutUint16(r[4:], uint16(len(line)))
		lens := r[6:]
		for j := range lens {
			w := 0
			if a, b := int(st[j]), int(st[j+1])-1; a <= len(line) && b > a {
				w = b - a
			}
			if w >= 255 {
				if c.over == nil {
					c.over = make(map[int]int)
				}
				c.over[rec*ix.span+j] = w
				w = 255
			}
			lens[j] = uint8(w)
		}
		// checkRow bounded the address to 254 bytes.
		h := ix.hashLower(ix.l.col(line, st, fAddress))
		addrEnts[c.good] = slotEntry(h, rec)
		c.good++
		if id := ix.l.col(line, st, fIDNPS); id != "" {
			idEnts[c.nids] = slotEntry(ix.hash(id), rec)
			c.nids++
		}
		if fam := ix.l.col(line, st, fFamily); fam != "" && len(arena) < 1<<arenaShift-512 {
			at := len(arena)
			arena = append(arena, 0)
			arena = appendFolded(arena, fam, maxFoldedName)
			if len(arena)-at-1 < maxFoldedName {
				arena = append(arena, 1)
				arena = appendFolded(arena, ix.l.col(line, st, fGiven), maxFoldedName-(len(arena)-at-1))
			}
			arena[at] = byte(len(arena) - at - 1)
			names[c.nnames] = nameEnt{key: key8(arena[at+1:]), off: uint32(k)<<arenaShift | uint32(at), rec: uint32(rec)}
			c.nnames++
		}
	}
	ix.arenas[k] = arena
	tmp := w.tmp[c.first : c.first+c.lines]
	sortNames(names[:c.nnames], tmp, arena)
	// The name sort is done with tmp: its bytes serve the entry sorts (a
	// nameEnt holds two uint64, and no pointer). unsafe: a scratch slice of
	// its own would be 16 bytes a line more at the peak of the load (8.6 MB,
	// +0.1 times the file on the national extraction, whose peak is 1.9).
	scratch := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(tmp))), 2*len(tmp))
	sortBySlot(addrEnts[:c.good], scratch, uint64(len(ix.addrTab)-1))
	sortBySlot(idEnts[:c.nids], scratch, uint64(len(ix.idTab)-1))
}

// slotEntry packs the high half of a hash and a record number: a table
// entry. The home slot of an entry is its high half masked by the table
// size; the high half is also the tag compared before the key.
func slotEntry(h uint64, rec int) uint64 { return h&^0xFFFFFFFF | uint64(rec+1) }

// homeSlot returns the first slot probed for a hash or an entry.
func homeSlot(h, mask uint64) uint64 { return h >> 32 & mask }

// sortBySlot sorts table entries by home slot, keeping the order of
// entries of the same slot (an LSD radix sort of at most 11 bits a pass).
// tmp is scratch space at least as long as a.
func sortBySlot(a, tmp []uint64, mask uint64) {
	nbits := bits.Len64(mask)
	if len(a) < 2 || nbits == 0 {
		return
	}
	passes := (nbits + 10) / 11
	width := (nbits + passes - 1) / passes
	src, dst := a, tmp[:len(a)]
	for shift := 0; shift < nbits; shift += width {
		d := uint(32 + shift)
		m := uint64(1)<<min(width, nbits-shift) - 1
		var count [1<<11 + 1]int
		for _, e := range src {
			count[e>>d&m+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, e := range src {
			k := e >> d & m
			dst[count[k]] = e
			count[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// fillTable merges runs of entries sorted by home slot (runs in record
// order: a tie goes to the earlier run) and places each in tab by linear
// probing. In that order the probing only moves forward in memory: the
// slots from an entry's home to the end of the previous entry's cluster
// are all taken. Each entry is passed to seen, if not nil, before it is
// placed, with the entries of the same home slot placed before it.
func fillTable(tab []uint64, runs [][]uint64, seen func(e uint64, sameSlot []uint64)) {
	mask := uint64(len(tab) - 1)
	end := uint64(0) // one past the last slot filled, not wrapped around
	var run []uint64
	runSlot := ^uint64(0)
	heads := make([]int, len(runs))
	for {
		best := -1
		var bs uint64
		for r, h := range heads {
			if h < len(runs[r]) {
				if s := homeSlot(runs[r][h], mask); best < 0 || s < bs {
					best, bs = r, s
				}
			}
		}
		if best < 0 {
			return
		}
		e := runs[best][heads[best]]
		heads[best]++
		if seen != nil {
			if bs != runSlot {
				run, runSlot = run[:0], bs
			}
			seen(e, run)
			run = append(run, e)
		}
		pos := max(bs, end)
		for tab[pos&mask] != 0 {
			pos++
		}
		tab[pos&mask] = e
		end = pos + 1
	}
}

// fillAddresses fills the address table from sorted runs of entries. The
// rows of an address share a hash, hence a home slot, and come in file
// order: each row after the first of its address is marked and counted as
// later (the return value), and marked as a duplicate when its line equals
// that of an earlier row that is not one.
func (ix *Index) fillAddresses(runs [][]uint64) (later int) {
	fillTable(ix.addrTab, runs, func(e uint64, sameSlot []uint64) {
		var addr string
		i := int(e&0xFFFFFFFF) - 1
		shared := false
		for _, o := range sameSlot {
			if o>>32 != e>>32 {
				continue
			}
			if addr == "" {
				addr = ix.field(i, fAddress)
			}
			j := int(o&0xFFFFFFFF) - 1
			if !ascii.EqualFold(ix.field(j, fAddress), addr) {
				continue
			}
			shared = true
			if !ix.dup.has(j) && ix.lineText(j) == ix.lineText(i) {
				ix.dup.set(i)
				ix.report.Tolerated.Duplicates++
				break
			}
		}
		if shared {
			ix.later.set(i)
			later++
		}
	})
	return later
}

// maxFoldedName is the most bytes of folded "FAMILY\x01GIVEN" kept for a
// row in the name index (its length is stored in one byte). Longer names are
// found by the part kept: SearchName compares a query on those bytes only.
const maxFoldedName = 254

// appendFolded appends the folded form of s, at most max bytes, leaving out
// control characters (so that the "\x01" separator stays unique). It gives
// the bytes of a folder, ASCII bytes being folded in line.
func appendFolded(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c < ' ' {
				continue
			}
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		rep := foldRune(r, s[i:i+size])
		i += size
		for j := 0; j < len(rep) && n < max; j++ {
			if rep[j] >= ' ' {
				dst = append(dst, rep[j])
				n++
			}
		}
	}
	return dst
}

// key8 packs the first 8 bytes of b, big-endian, zero-padded.
func key8[S ~string | ~[]byte](b S) uint64 {
	var k uint64
	for i := 0; i < 8; i++ {
		k <<= 8
		if i < len(b) {
			k |= uint64(b[i])
		}
	}
	return k
}

// live reports whether record i is an indexed row.
func (ix *Index) live(i int) bool { return !ix.bad(i) && !ix.dup.has(i) }

// badLine marks, in place of its length, a record whose line is blank or
// malformed (lines are at most maxIndexLine bytes).
const badLine = 0xFFFF

// bad reports whether record i is a blank or malformed line.
func (ix *Index) bad(i int) bool {
	return binary.LittleEndian.Uint16(ix.recs[i*ix.stride+4:]) == badLine
}

// bitset is a set of record numbers.
type bitset []uint64

func (b bitset) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bitset) set(i int)      { b[i>>6] |= 1 << (i & 63) }

// line returns the line of record i and its column lengths.
func (ix *Index) line(i int) (string, []byte) {
	r := ix.recs[i*ix.stride : (i+1)*ix.stride]
	a := int(binary.LittleEndian.Uint32(r))
	return ix.data[a : a+int(binary.LittleEndian.Uint16(r[4:]))], r[6:]
}

// starts fills st (len ≥ span+1) with the column starts of record i, as
// splitRow does, and returns its line.
func (ix *Index) starts(i int, st []uint16) string {
	line, lens := ix.line(i)
	off := 0
	for k, w := range lens {
		st[k] = uint16(off)
		n := int(w)
		if w == 255 {
			n = ix.over[i*ix.span+k]
		}
		off += n + 1
	}
	st[ix.span] = uint16(off)
	return line
}

// field returns one column of record i.
func (ix *Index) field(i int, f field) string {
	p := int(ix.l.pos[f])
	if p < 0 {
		return ""
	}
	line, lens := ix.line(i)
	off := 0
	for k, w := range lens[:p] {
		n := int(w)
		if w == 255 {
			n = ix.over[i*ix.span+k]
		}
		off += n + 1
	}
	n := int(lens[p])
	if n == 255 {
		n = ix.over[i*ix.span+p]
	}
	if off+n > len(line) {
		return ""
	}
	return line[off : off+n]
}

func (ix *Index) mailbox(i int) annuaire.Mailbox {
	var m annuaire.Mailbox
	ix.fill(&m, i)
	return m
}

// fill sets *m from record i, in one pass over its column lengths.
func (ix *Index) fill(m *annuaire.Mailbox, i int) {
	line, lens := ix.line(i)
	var v [numFields]string
	off := 0
	if ix.l.inOrder && ix.over == nil {
		// The published header: column k is field k, no long column.
		for k := range v {
			if n := int(lens[k]); n > 0 {
				v[k] = line[off : off+n]
				off += n + 1
			} else {
				off++
			}
		}
	} else {
		for k, w := range lens {
			n := int(w)
			if w == 255 {
				n = ix.over[i*ix.span+k]
			}
			if f := ix.l.field[k]; f >= 0 && n > 0 && off+n <= len(line) {
				v[f] = line[off : off+n]
			}
			off += n + 1
		}
	}
	ix.l.set(m, &v, i+2)
}

// lineText returns the raw line of record i.
func (ix *Index) lineText(i int) string {
	line, _ := ix.line(i)
	return line
}

// tableSize returns a power of two at least 1.5 times n (a load factor of
// at most 2/3 for linear probing).
func tableSize(n int) int {
	s := 1024
	for s < n+n/2 {
		s <<= 1
	}
	return s
}

// hashLower hashes s with its ASCII letters lower-cased (addresses are
// compared without ASCII case): hash/maphash over a lower-cased copy, on the
// stack for anything up to maxAddress bytes (longer keys are never looked
// up). hash is the same without lower-casing.
func (ix *Index) hashLower(s string) uint64 {
	var buf [maxAddress]byte
	if len(s) > len(buf) || !ascii.HasUpper(s) {
		return maphash.String(ix.seed, s)
	}
	return maphash.Bytes(ix.seed, ascii.AppendLower(buf[:0], s))
}

func (ix *Index) hash(s string) uint64 { return maphash.String(ix.seed, s) }

// maxAddress is the longest address looked up (RFC 5321 path limit).
const maxAddress = 254

// idKey normalises an identifier query: an RPPS (11 digits) becomes its
// IDNPS "8"+RPPS, an ADELI (9 digits) "0"+ADELI; other values are kept.
func idKey(buf []byte, id string) []byte {
	id = strings.TrimSpace(id)
	digits := id != ""
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			digits = false
			break
		}
	}
	switch {
	case digits && len(id) == 11:
		buf = append(buf, '8')
	case digits && len(id) == 9:
		buf = append(buf, '0')
	}
	return append(buf, id...)
}

// chain is a multi-valued index: the records of a key form a linked list
// through next, in file order. Keys of 1 to 5 digits (profession codes,
// postal codes, departments) have their list heads in an array, others in
// a map.
type chain struct {
	num  []int32 // heads of numeric keys, by numKey; -1 when none
	head map[string]int32
	next []int32
}

// numBase[L] is where the numeric keys of L digits start in chain.num.
var numBase = [...]int{0, 0, 10, 110, 1110, 11110, 111110}

// numKey returns the slot of a key of 1 to 5 ASCII digits, or -1.
func numKey(key string) int {
	if len(key) == 0 || len(key) > 5 {
		return -1
	}
	v := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int(c-'0')
	}
	return numBase[len(key)] + v
}

// init prepares a chain of n records whose keys of up to digits digits
// (0 for none) are held in an array.
func (c *chain) init(n int, digits int) {
	c.head = make(map[string]int32)
	c.next = make([]int32, n)
	if digits > 0 {
		c.num = make([]int32, numBase[digits+1])
		for i := range c.num {
			c.num[i] = -1
		}
	}
}

func (c *chain) all(key string) iter.Seq[int] {
	return func(yield func(int) bool) {
		h := int32(-1)
		if k := numKey(key); k >= 0 && k < len(c.num) {
			h = c.num[k]
		} else if v, ok := c.head[key]; ok {
			h = v
		}
		for i := h; i >= 0; i = c.next[i] {
			if !yield(int(i)) {
				return
			}
		}
	}
}

// departmentOf is the Département column, or the department of the postal
// code when the column is empty (annuaire.DepartmentOf).
func departmentOf(dept, cp string) string {
	if dept != "" {
		return dept
	}
	return annuaire.DepartmentOf(cp)
}

// name returns the folded name of an entry of the name index.
func (ix *Index) name(e nameEnt) string { return arenaName(ix.arenas[e.off>>arenaShift], e.off) }

// arenaName returns the folded name at the offset held in off.
func arenaName(a []byte, off uint32) string {
	off &= 1<<arenaShift - 1
	n := uint32(a[off])
	b := a[off+1 : off+1+n]
	// unsafe: the arenas are never written once built, and this runs in
	// every comparison of the name sort and of SearchName's binary search;
	// string(b) would allocate in each.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// compareNames orders name entries by folded name, then by record.
func compareNames(x, y nameEnt, nx, ny string) int {
	if c := strings.Compare(nx, ny); c != 0 {
		return c
	}
	return cmp.Compare(x.rec, y.rec)
}

// sortNames sorts the name entries of one chunk, whose names are in arena:
// a byte-wise LSD radix sort on the 8-byte keys (passes where all keys
// share the byte are skipped), then a comparison sort of each run of equal
// keys on the full folded names. tmp is scratch space at least as long.
func sortNames(a, tmp []nameEnt, arena []byte) {
	if len(a) < 2 {
		return
	}
	src, dst := a, tmp[:len(a)]
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, e := range src {
			count[(e.key>>shift)&0xFF+1]++
		}
		if count[(src[0].key>>shift)&0xFF+1] == len(src) {
			continue
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, e := range src {
			d := (e.key >> shift) & 0xFF
			dst[count[d]] = e
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
	var ties []tieEnt
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && a[j].key == a[i].key {
			j++
		}
		if j-i > 1 {
			ties = sortTies(a[i:j], arena, ties[:0])
		}
		i = j
	}
}

// tieEnt is a name entry whose first 8 bytes tie with others, with the
// next 8 bytes of its name as a second key.
type tieEnt struct {
	key2 uint64
	e    nameEnt
	long bool // the name is longer than 16 bytes
}

// sortTies sorts entries of equal keys by folded name, then record, on
// their second key first: two names equal on 16 zero-padded bytes (and
// holding no zero byte) are either both longer than 16 bytes, or equal.
func sortTies(a []nameEnt, arena []byte, buf []tieEnt) []tieEnt {
	for _, e := range a {
		name := arenaName(arena, e.off)
		t := tieEnt{e: e, long: len(name) > 16}
		if len(name) > 8 {
			t.key2 = key8(name[8:])
		}
		buf = append(buf, t)
	}
	slices.SortFunc(buf, func(x, y tieEnt) int {
		if x.key2 != y.key2 {
			return cmp.Compare(x.key2, y.key2)
		}
		if x.long {
			if c := strings.Compare(arenaName(arena, x.e.off)[16:], arenaName(arena, y.e.off)[16:]); c != 0 {
				return c
			}
		}
		return cmp.Compare(x.e.rec, y.e.rec)
	})
	for k := range buf {
		a[k] = buf[k].e
	}
	return buf
}

// mergeNames merges the sorted name runs of the chunks (in names, each at
// its chunk's first record) into one sorted index, using tmp (as long as
// names) as the other buffer; it returns the index, in names or in tmp.
func mergeNames(ix *Index, chunks []chunkResult, names, tmp []nameEnt) []nameEnt {
	runs := make([][]nameEnt, len(chunks))
	for i := range chunks {
		c := &chunks[i]
		runs[i] = names[c.first : c.first+c.nnames]
	}
	if len(runs) == 0 {
		return names[:0:0]
	}
	dst, other := tmp, names
	for len(runs) > 1 {
		// Merge the runs two by two into dst, packed from its start.
		var next [][]nameEnt
		at := 0
		var wg sync.WaitGroup
		for r := 0; r < len(runs); r += 2 {
			if r+1 == len(runs) {
				copy(dst[at:], runs[r])
				next = append(next, dst[at:at+len(runs[r])])
				at += len(runs[r])
				continue
			}
			x, y := runs[r], runs[r+1]
			out := dst[at : at+len(x)+len(y)]
			wg.Go(func() { ix.merge2(out, x, y) })
			next = append(next, out)
			at += len(out)
		}
		wg.Wait()
		runs = next
		dst, other = other, dst
	}
	r := runs[0]
	return r[:len(r):len(r)]
}

// merge2 merges the sorted runs x and y into out.
func (ix *Index) merge2(out, x, y []nameEnt) {
	i, j := 0, 0
	for k := range out {
		var takeX bool
		switch {
		case j == len(y):
			takeX = true
		case i == len(x):
			takeX = false
		case x[i].key != y[j].key:
			takeX = x[i].key < y[j].key
		default:
			takeX = compareNames(x[i], y[j], ix.name(x[i]), ix.name(y[j])) < 0
		}
		if takeX {
			out[k] = x[i]
			i++
		} else {
			out[k] = y[j]
			j++
		}
	}
}

// lazyChain is a listing built on first use, once, even when several
// goroutines ask for it at the same time.
type lazyChain struct {
	once sync.Once
	c    chain
}

// listingKey returns the key of record i in a listing (line split in st),
// "" for none; buf is scratch space the key may live in.
type listingKey func(ix *Index, line string, st []uint16, buf []byte) string

func profKey(ix *Index, line string, st []uint16, _ []byte) string {
	return ix.l.col(line, st, fProfession)
}

func postalKey(ix *Index, line string, st []uint16, _ []byte) string {
	return ix.l.col(line, st, fPostalCode)
}

func deptKey(ix *Index, line string, st []uint16, _ []byte) string {
	return departmentOf(ix.l.col(line, st, fDepartment), ix.l.col(line, st, fPostalCode))
}

func domainKey(ix *Index, line string, st []uint16, buf []byte) string {
	addr := ix.l.col(line, st, fAddress)
	dom := addr[strings.IndexByte(addr, '@')+1:]
	if ascii.HasUpper(dom) {
		return string(ascii.AppendLower(buf[:0], dom))
	}
	return dom
}

// listing returns the chain of lc, building it on first use with keys of
// up to digits digits in an array (0: none).
func (ix *Index) listing(lc *lazyChain, digits int, key listingKey) *chain {
	lc.once.Do(func() { ix.buildChain(&lc.c, digits, key) })
	return &lc.c
}

// listingPartRows is the least number of rows given to a goroutine
// building a listing (a variable for the tests).
var listingPartRows = 16384

// chainPart is one goroutine's share of a listing: the heads and tails of
// the lists of its range of records.
type chainPart struct {
	from, to         int
	numHead, numTail []int32
	headTail         map[string]*[2]int32
}

// buildChain builds a listing: the records are shared out in ranges
// between goroutines, each links its range's records of a key (writing
// c.next for its records only), then the ranges' lists are joined end to
// end, key by key.
func (ix *Index) buildChain(c *chain, digits int, key listingKey) {
	n := ix.n
	c.init(n, digits)
	parts := max(1, min(ix.workers, n/listingPartRows))
	ps := make([]chainPart, parts)
	var wg sync.WaitGroup
	for p := range ps {
		ps[p].from, ps[p].to = p*n/parts, (p+1)*n/parts
		wg.Go(func() { ix.chainRange(c, &ps[p], digits, key) })
	}
	wg.Wait()
	// Join from the last range back: a range's tail points to the head of
	// the following ranges' list.
	for p := parts - 1; p >= 0; p-- {
		cp := &ps[p]
		for k, h := range cp.numHead {
			if h >= 0 {
				c.next[cp.numTail[k]] = c.num[k]
				c.num[k] = h
			}
		}
		for key, ht := range cp.headTail {
			if h, ok := c.head[key]; ok {
				c.next[ht[1]] = h
			} else {
				c.next[ht[1]] = -1
			}
			c.head[key] = ht[0]
		}
	}
}

// chainRange links the records of one range, in reverse file order.
func (ix *Index) chainRange(c *chain, cp *chainPart, digits int, key listingKey) {
	if digits > 0 {
		cp.numHead = make([]int32, numBase[digits+1])
		cp.numTail = make([]int32, numBase[digits+1])
		for k := range cp.numHead {
			cp.numHead[k] = -1
		}
	}
	cp.headTail = make(map[string]*[2]int32)
	st := make([]uint16, ix.span+1)
	var buf [256]byte
	for i := cp.to - 1; i >= cp.from; i-- {
		if ix.bad(i) {
			continue
		}
		line := ix.starts(i, st)
		k := key(ix, line, st, buf[:])
		if k == "" {
			continue
		}
		if s := numKey(k); s >= 0 && s < len(cp.numHead) {
			if h := cp.numHead[s]; h >= 0 {
				c.next[i] = h
			} else {
				c.next[i] = -1
				cp.numTail[s] = int32(i)
			}
			cp.numHead[s] = int32(i)
			continue
		}
		// Updated in place, never assigned again with k: a key is stored
		// once, a copy of its own (a listing key is most often a substring
		// of the file's text, which the map must not pin row by row).
		if ht, ok := cp.headTail[k]; ok {
			c.next[i] = ht[0]
			ht[0] = int32(i)
		} else {
			c.next[i] = -1
			cp.headTail[strings.Clone(k)] = &[2]int32{int32(i), int32(i)}
		}
	}
}

// Report returns what loading found.
func (ix *Index) Report() *Report { return &ix.report }

// Generated returns the extraction's generation time (zero when unknown).
func (ix *Index) Generated() time.Time { return ix.generated }

// Len returns the number of indexed rows (Report.Rows): an address attached
// to two structures counts twice; Report.Mailboxes counts it once.
func (ix *Index) Len() int { return ix.report.Rows }

// All iterates over the indexed rows in file order.
func (ix *Index) All() iter.Seq[annuaire.Mailbox] {
	return func(yield func(annuaire.Mailbox) bool) {
		for i := range ix.n {
			if ix.live(i) && !yield(ix.mailbox(i)) {
				return
			}
		}
	}
}

// Lookup returns the first row (in file order) for an address, compared
// without ASCII case. ok is false when the address is not in the index.
// An address attached to several structures has several rows: see
// LookupAll.
func (ix *Index) Lookup(addr string) (m annuaire.Mailbox, ok bool) {
	if ix == nil || len(ix.addrTab) == 0 || len(addr) > maxAddress {
		return annuaire.Mailbox{}, false
	}
	h := ix.hashLower(addr)
	mask := uint64(len(ix.addrTab) - 1)
	// The rows of an address share a home slot and were placed in file
	// order (see fillTable): the first one met is the first in the file,
	// and never a duplicate (its copies come after it).
	best := -1
	for slot := homeSlot(h, mask); ix.addrTab[slot] != 0; slot = (slot + 1) & mask {
		e := ix.addrTab[slot]
		if e>>32 != h>>32 {
			continue
		}
		if j := int(e&0xFFFFFFFF) - 1; ascii.EqualFold(ix.field(j, fAddress), addr) {
			best = j
			break
		}
	}
	if best < 0 {
		return annuaire.Mailbox{}, false
	}
	ix.fill(&m, best)
	return m, true
}

// LookupAll returns every row for an address, in file order.
func (ix *Index) LookupAll(addr string) []annuaire.Mailbox {
	var ids []int
	for i := range ix.addrRecords(addr) {
		ids = append(ids, i)
	}
	return ix.mailboxes(ids)
}

func (ix *Index) mailboxes(ids []int) []annuaire.Mailbox {
	slices.Sort(ids)
	out := make([]annuaire.Mailbox, len(ids))
	for k, i := range ids {
		out[k] = ix.mailbox(i)
	}
	return out
}

// addrRecords iterates over the indexed rows of an address (duplicates
// left out), in no particular order.
func (ix *Index) addrRecords(addr string) iter.Seq[int] {
	return func(yield func(int) bool) {
		if ix == nil || len(ix.addrTab) == 0 || len(addr) > maxAddress {
			return
		}
		h := ix.hashLower(addr)
		mask := uint64(len(ix.addrTab) - 1)
		for slot := homeSlot(h, mask); ix.addrTab[slot] != 0; slot = (slot + 1) & mask {
			e := ix.addrTab[slot]
			if e>>32 != h>>32 {
				continue
			}
			j := int(e&0xFFFFFFFF) - 1
			if !ix.dup.has(j) && ascii.EqualFold(ix.field(j, fAddress), addr) && !yield(j) {
				return
			}
		}
	}
}

// ByID returns the rows of a person by national identifier: an IDNPS (12
// characters), an RPPS (11 digits, looked up as "8"+RPPS) or an ADELI (9
// digits, as "0"+ADELI). Rows are in file order.
func (ix *Index) ByID(id string) []annuaire.Mailbox {
	if ix == nil || len(ix.idTab) == 0 || len(id) > 60 {
		return nil
	}
	var buf [64]byte
	key := idKey(buf[:0], id)
	h := maphash.Bytes(ix.seed, key)
	mask := uint64(len(ix.idTab) - 1)
	var ids []int
	for slot := homeSlot(h, mask); ix.idTab[slot] != 0; slot = (slot + 1) & mask {
		e := ix.idTab[slot]
		if e>>32 != h>>32 {
			continue
		}
		j := int(e&0xFFFFFFFF) - 1
		if ix.field(j, fIDNPS) == string(key) && !ix.dup.has(j) {
			ids = append(ids, j)
		}
	}
	return ix.mailboxes(ids)
}

// SearchName iterates, in alphabetical order of family then given name,
// over the rows whose nom d'exercice starts with family and whose prénom
// d'exercice starts with given, both compared without case or accents
// ("hélo" finds "HELOISE" and "Héloïse"; "œ" matches "OE"). An empty given
// matches any; an empty family yields nothing (use All). The index keeps the
// first 254 folded bytes of "FAMILY GIVEN": a longer name is found by a query
// that agrees with it on those bytes.
func (ix *Index) SearchName(family, given string) iter.Seq[annuaire.Mailbox] {
	return func(yield func(annuaire.Mailbox) bool) {
		if ix == nil || family == "" {
			return
		}
		qf := string(appendFolded(nil, family, maxFoldedName))
		qg := string(appendFolded(nil, given, maxFoldedName))
		if qf == "" {
			return
		}
		kn := min(len(qf), 8)
		mask := ^uint64(0) << (8 * (8 - kn))
		qk := key8(qf) & mask
		// Lower bound: the first entry whose folded name is not below qf.
		lo, hi := 0, len(ix.names)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			e := ix.names[mid]
			var less bool
			if k := e.key & mask; k != qk {
				less = k < qk
			} else {
				less = ix.name(e) < qf
			}
			if less {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		for p := lo; p < len(ix.names); p++ {
			e := ix.names[p]
			if e.key&mask != qk {
				return
			}
			name := ix.name(e)
			if !strings.HasPrefix(name, qf) {
				return
			}
			if qg != "" {
				_, g, _ := strings.Cut(name, "\x01")
				q := qg
				if len(name) >= maxFoldedName {
					// The stored name was cut at maxFoldedName bytes: the
					// query's given name is compared on the part kept.
					q = qg[:min(len(qg), len(g))]
				}
				if !strings.HasPrefix(g, q) {
					continue
				}
			}
			if ix.dup.has(int(e.rec)) {
				continue
			}
			if !yield(ix.mailbox(int(e.rec))) {
				return
			}
		}
	}
}

// ByProfession iterates over the rows of a profession code (TRE_G15, for
// example "10" médecin), in file order. The listings by profession, postal
// code, department and domain are each built on first use (tens of
// milliseconds for the national file; see BenchmarkExtraction).
func (ix *Index) ByProfession(code string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(func() *chain { return ix.listing(&ix.byProf, 3, profKey) }, code) // TRE_G15 codes: 2 digits
}

// ByPostalCode iterates over the rows whose structure has this postal code.
func (ix *Index) ByPostalCode(cp string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(func() *chain { return ix.listing(&ix.byPostal, 5, postalKey) }, cp)
}

// ByDepartment iterates over the rows of a department: the "Département
// structure BAL" column, or, when it is empty, the department of the postal
// code (97x/98x overseas; "20" for Corsica).
func (ix *Index) ByDepartment(dept string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(func() *chain { return ix.listing(&ix.byDept, 3, deptKey) }, dept) // 01–95, 971–976
}

// ByDomain iterates over the mailboxes of a domain (compared without ASCII
// case), in file order, each once: an address attached to several
// structures is given by its first row, as Lookup gives it (LookupAll gives
// its other rows). Domains counts what ByDomain yields.
func (ix *Index) ByDomain(domain string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeqOf(ix.domains, strings.ToLower(domain), true)
}

func (ix *Index) domains() *chain { return ix.listing(&ix.byDomain, 0, domainKey) }

// Domains returns, per domain (lower case), the number of its mailboxes:
// distinct addresses, an address on several rows counted once.
func (ix *Index) Domains() map[string]int {
	if ix == nil {
		return map[string]int{}
	}
	c := ix.domains()
	out := make(map[string]int, len(c.head))
	for d := range c.head {
		for i := range c.all(d) {
			if !ix.later.has(i) {
				out[d]++
			}
		}
	}
	return out
}

// chainSeq iterates over the rows of a key in a listing, duplicates left out.
func (ix *Index) chainSeq(get func() *chain, key string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeqOf(get, key, false)
}

// chainSeqOf iterates over the rows of a key in a listing, duplicates left
// out, and when firstOnly the rows after the first of their address too.
func (ix *Index) chainSeqOf(get func() *chain, key string, firstOnly bool) iter.Seq[annuaire.Mailbox] {
	return func(yield func(annuaire.Mailbox) bool) {
		if ix == nil {
			return
		}
		skip := ix.dup
		if firstOnly {
			skip = ix.later
		}
		for i := range get().all(key) {
			if !skip.has(i) && !yield(ix.mailbox(i)) {
				return
			}
		}
	}
}
