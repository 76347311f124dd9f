// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// (about 50 % of the file size on top of it for the full national
// extraction, and 10 % more once the listings by profession, postal code,
// department and domain have been used, as they are built on first use);
// a Mailbox returned by a lookup shares that text, so a lookup allocates
// nothing.
//
// Speed: see the package documentation ("Performance") and
// docs/performance.md.
type Index struct {
	data      string
	l         layout
	n         int                    // records: one per line after the header
	starts    []uint32               // n+1 offsets in data: line i is data[starts[i]:starts[i+1]], its end of line included
	flags     []uint8                // per record: flagBad, flagDup, flagLater
	seed      maphash.Seed           // hash seed of the tables (random per index)
	addrs     table                  // lower-cased address → rows (duplicates left out)
	ids       table                  // IDNPS → rows
	names     []nameEnt              // records with a family name, sorted by folded name
	arenas    [][]byte               // folded names per parsing chunk: a length byte, then FAMILY "\x01" GIVEN
	listings  [numListings]lazyChain // built on first use (see listingKinds)
	workers   int                    // goroutines of the load and of the lazy listings
	generated time.Time              // generation time of the extraction, zero if unknown
	report    Report
}

// Record flags (Index.flags): one byte per record, so that the goroutines
// of a load each write their own records' flags without sharing a word.
const (
	flagBad   = 1 << iota // blank or malformed line, not indexed
	flagDup               // identical to an earlier row (not indexed)
	flagLater             // not the first row of its address (duplicates included)
)

// nameEnt is one entry of the name index.
type nameEnt struct {
	key uint64 // first 8 bytes of the folded name, big-endian, zero-padded
	off uint32 // chunk<<arenaShift | offset of the entry in that chunk's arena
	rec uint32
}

// arenaShift splits nameEnt.off into chunk number and offset.
const arenaShift = 28

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
	parts := workers(opts)
	errs := make([]error, parts)
	step := (len(buf) + parts - 1) / parts
	var wg sync.WaitGroup
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
// unusable header, a truncated file (ErrTruncated: see the package
// documentation), a read error or ctx ending stop the load.
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
	good     int // well-formed rows
	nnames   int // name entries written from names[first]

	addrCount, idCount [numShards]int // keys per table shard
}

// indexData indexes the whole text of an extraction.
//
// One goroutine per chunk of lines parses its lines, notes where each
// starts, hashes its address and IDNPS and folds its name; it then sorts
// its part of the name index. The address and IDNPS tables are then
// filled shard by shard, one goroutine a shard, each in file order (see
// table.fill), and the sorted name runs are merged. The listings
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
	if hdrEnd == len(data) {
		return nil, truncated(1, headerAlone)
	}
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
	if uint64(n) >= math.MaxUint32 { // rec+1 is a uint32
		return nil, fmt.Errorf("%w: %d lines", ErrTooLarge, n)
	}
	if err := ix.checkFinal(body, n); err != nil {
		return nil, err
	}
	ix.n = n
	ix.starts = makeLarge[uint32](n + 1)
	ix.starts[n] = uint32(len(data))
	ix.flags = makeLarge[uint8](n)
	ix.names = makeLarge[nameEnt](n)
	ix.arenas = make([][]byte, len(chunks))
	hashes := &loadHashes{addr: makeLarge[uint64](n), id: makeLarge[uint64](n), addrAt: makeLarge[uint16](n), idAt: makeLarge[uint16](n)}
	tmp := makeLarge[nameEnt](n)
	maxErrors := cmp.Or(opts.MaxErrors, 100)
	for i := range chunks {
		wg.Go(func() { ix.parseChunk(ctx, i, &chunks[i], maxErrors, hashes, tmp) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &ix.report
	rep.Lines = n
	for i := range chunks {
		c := &chunks[i]
		rep.Tolerated.add(&c.warn)
		rep.ErrorCount += c.errCount
		rep.Rows += c.good
		if maxErrors > 0 {
			rep.Errors = append(rep.Errors, c.errs...)
		}
		for s := range numShards {
			hashes.addrCount[s] += c.addrCount[s]
			hashes.idCount[s] += c.idCount[s]
		}
	}
	if maxErrors > 0 && len(rep.Errors) > maxErrors {
		rep.Errors = rep.Errors[:maxErrors]
	}
	// The tables, shard by shard, while the name runs are merged.
	ix.addrs.alloc(&hashes.addrCount)
	ix.ids.alloc(&hashes.idCount)
	var dups, later [numShards]int
	var next atomic.Int32
	for range workers {
		wg.Go(func() {
			for t := int(next.Add(1) - 1); t < 2*numShards; t = int(next.Add(1) - 1) {
				if s := t % numShards; t < numShards {
					dups[s], later[s] = ix.addrs.fill(ix, s, hashes.addr, hashes.addrAt, hashes.addrCount[s], true)
				} else {
					ix.ids.fill(ix, s, hashes.id, hashes.idAt, hashes.idCount[s], false)
				}
			}
		})
	}
	ix.names = mergeNames(ix, chunks, ix.names, tmp)
	wg.Wait()
	for s := range numShards {
		rep.Tolerated.Duplicates += dups[s]
		rep.Mailboxes -= later[s]
	}
	rep.Mailboxes += rep.Rows
	rep.Rows -= rep.Tolerated.Duplicates
	rep.Addresses = rep.Mailboxes
	return ix, nil
}

// checkFinal judges the last line, record n-1, when no newline ends it,
// as ExtractionReader.Next does (see finalCut): an error wrapping
// ErrTruncated when it may have been cut. The values of the last column
// on the lines before it are read only then, in one pass.
func (ix *Index) checkFinal(body, n int) error {
	data := ix.data
	if n == 0 || data[len(data)-1] == '\n' {
		return nil
	}
	start := strings.LastIndexByte(data, '\n') + 1 // the header ends with one
	line := strings.TrimSuffix(data[start:], "\r")
	if line == "" {
		return nil
	}
	var v row
	found := 0
	if len(line) <= maxRowLine {
		found = ix.l.split(line, &v)
	}
	seen := func() lastValues {
		var s lastValues
		for rest := data[body:start]; rest != "" && len(s) < maxLastValues; {
			i := strings.IndexByte(rest, '\n')
			l := strings.TrimSuffix(rest[:i], "\r")
			rest = rest[i+1:]
			if l != "" && len(l) <= maxRowLine && strings.Count(l, "|")+1 == ix.l.ncols {
				s.add(l)
			}
		}
		return s
	}
	if why := ix.l.finalCut(line, found, seen); why != "" {
		return truncated(n+1, why)
	}
	return nil
}

// loadHashes holds, during a load, the hash of each record's address and
// IDNPS (0: none) and the number of each shard's keys.
type loadHashes struct {
	addr, id           []uint64
	addrAt, idAt       []uint16 // where the key starts in the record's line
	addrCount, idCount [numShards]int
}

// parseChunk parses the lines of chunk number k: where each starts, its
// flags, the hashes of its keys and its name entry, which it then sorts
// (tmp is scratch space, shared by the chunks by record range).
func (ix *Index) parseChunk(ctx context.Context, k int, c *chunkResult, maxErrors int, hashes *loadHashes, tmp []nameEnt) {
	s := ix.data[c.from:c.to]
	arena := makeLarge[byte](len(s) / 10)[:0]
	names := ix.names[c.first : c.first+c.lines]
	rec := c.first
	for off := 0; off < len(s); rec++ {
		if (rec-c.first)&0xFFFF == 0 && ctx.Err() != nil {
			return
		}
		ix.starts[rec] = uint32(c.from + off)
		end := strings.IndexByte(s[off:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += off
		}
		line := strings.TrimSuffix(s[off:end], "\r")
		off = end + 1
		if line == "" {
			ix.flags[rec] = flagBad
			continue
		}
		lineNo := rec + 2
		var err error
		var v row
		if len(line) > maxRowLine {
			err = &LineError{Line: lineNo, Err: fmt.Errorf("%w: longer than %d bytes", ErrLine, maxRowLine)}
		} else {
			err = ix.l.checkRow(lineNo, &v, ix.l.split(line, &v), &c.warn)
		}
		if err != nil {
			ix.flags[rec] = flagBad
			c.errCount++
			if len(c.errs) < maxErrors {
				c.errs = append(c.errs, err.(*LineError))
			}
			continue
		}
		c.good++
		h := ix.hashLower(v.get(fAddress)) // checkRow bounded the address to 254 bytes
		hashes.addr[rec] = h
		hashes.addrAt[rec] = v.at[fAddress].a
		c.addrCount[h%numShards]++
		if id := v.get(fIDNPS); id != "" {
			h := max(1, ix.hash(id))
			hashes.id[rec] = h
			hashes.idAt[rec] = v.at[fIDNPS].a
			c.idCount[h%numShards]++
		}
		if fam := v.get(fFamily); fam != "" && len(arena) < 1<<arenaShift-512 {
			at := len(arena)
			arena = append(arena, 0)
			arena = appendFolded(arena, fam, maxFoldedName)
			if len(arena)-at-1 < maxFoldedName {
				arena = append(arena, 1)
				arena = appendFolded(arena, v.get(fGiven), maxFoldedName-(len(arena)-at-1))
			}
			arena[at] = byte(len(arena) - at - 1)
			names[c.nnames] = nameEnt{key: key8(arena[at+1:]), off: uint32(k)<<arenaShift | uint32(at), rec: uint32(rec)}
			c.nnames++
		}
	}
	ix.arenas[k] = arena
	sortNames(names[:c.nnames], tmp[c.first:c.first+c.lines], arena)
}

// numShards is the number of parts of a table, each filled by one
// goroutine and probed on its own: the shard of a key is its hash modulo
// numShards.
const numShards = 16

// table is a hash table of records by key (an address, lower-cased, or an
// IDNPS), in numShards shards of open addressing with linear probing.
// A key's shard is its hash modulo numShards, its first slot the low 32
// bits of its hash scaled to the shard's length, its tag the high 32 bits.
// The rows of a key are in the slots in file order.
type table [numShards][]slot

// slot is one entry of a table; rec is 0 in an empty slot. The slot holds
// the record's line (off, n) and where its key starts in it (at), so that a
// lookup reads the table and the key in the line, and nothing else: no
// splitting of the line into its columns (the key ends at the next "|" or
// at the end of the line). 16 bytes: a line is at most maxRowLine bytes.
type slot struct {
	tag, rec uint32 // high half of the key's hash; record + 1
	off      uint32 // the record's line: data[off:off+n], without its end of line
	n, at    uint16 // the line's length; the key's offset in it
}

// line returns the slot's line.
func (e *slot) line(data string) string { return data[e.off : e.off+uint32(e.n)] }

// keyIs reports whether the slot's key is k, compared without ASCII case:
// the line holds k at e.at, followed by "|" or by the end of the line, and
// k holds no "|" (which would run into the next column).
func (e *slot) keyIs(data, k string) bool {
	line := e.line(data)
	rest := line[e.at:]
	if len(rest) < len(k) || (len(rest) > len(k) && rest[len(k)] != '|') {
		return false
	}
	return ascii.EqualFold(rest[:len(k)], k) && strings.IndexByte(k, '|') < 0
}

// key returns the slot's key as written in the file.
func (e *slot) key(data string) string {
	rest := e.line(data)[e.at:]
	if i := strings.IndexByte(rest, '|'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// home returns the shard and the first slot of a hash.
func (t *table) home(h uint64) ([]slot, int) {
	sh := t[h%numShards]
	return sh, int(uint64(uint32(h)) * uint64(len(sh)) >> 32)
}

// alloc gives each shard of t its slots (counts[s] keys: one and a half
// slot per key, one empty slot at least, so that probing ends), all in one
// allocation: a lookup on spread keys then finds its slot through a huge
// page (large_linux.go) where 16 separate shards, each under the 4 MiB
// adviseHuge asks for, took a page walk more.
func (t *table) alloc(counts *[numShards]int) {
	total := 0
	for _, c := range counts {
		total += c + c/2 + 1
	}
	all := makeLarge[slot](total)
	for s, c := range counts {
		n := c + c/2 + 1
		t[s], all = all[:n:n], all[n:]
	}
}

// fill fills shard s of t with the records whose key hash (hashes; 0 for
// no key) falls in it, count of them, in file order. For the address table
// (dedup), a row whose address is already in it is flagged flagLater, and
// flagDup and left out when its line equals that of an earlier row (which
// is in the table: duplicates never are); fill returns how many of each.
func (t *table) fill(ix *Index, s int, hashes []uint64, at []uint16, count int, dedup bool) (dups, later int) {
	sh := t[s]
	if sh == nil { // not given by alloc
		sh = makeLarge[slot](count + count/2 + 1)
		t[s] = sh
	}
	for rec, h := range hashes {
		if h == 0 || h%numShards != uint64(s) {
			continue
		}
		_, p := t.home(h)
		tag := uint32(h >> 32)
		line := ix.line(rec)
		e := slot{tag: tag, rec: uint32(rec + 1), off: ix.starts[rec], n: uint16(len(line)), at: at[rec]}
		if dedup {
			addr := e.key(ix.data)
			shared, dup := false, false
			for ; sh[p].rec != 0 && !dup; p = next(p, sh) {
				if o := &sh[p]; o.tag == tag && o.keyIs(ix.data, addr) {
					shared = true
					dup = o.line(ix.data) == line
				}
			}
			if shared {
				ix.flags[rec] |= flagLater
				later++
			}
			if dup {
				ix.flags[rec] |= flagDup
				dups++
				continue
			}
		}
		for ; sh[p].rec != 0; p = next(p, sh) {
		}
		sh[p] = e
	}
	return dups, later
}

// next returns the slot after p in sh, wrapping around.
func next(p int, sh []slot) int {
	if p++; p == len(sh) {
		return 0
	}
	return p
}

// find iterates over the records whose key hashes to h (the tags agree),
// in file order, with their slots.
func (t *table) find(ix *Index, h uint64) iter.Seq2[int, *slot] {
	return func(yield func(int, *slot) bool) {
		sh, p := t.home(h)
		if len(sh) == 0 {
			return
		}
		for tag := uint32(h >> 32); sh[p].rec != 0; p = next(p, sh) {
			if e := &sh[p]; e.tag == tag && !yield(int(e.rec)-1, e) {
				return
			}
		}
	}
}

// line returns the line of record i, without its end of line.
func (ix *Index) line(i int) string {
	line := ix.data[ix.starts[i]:ix.starts[i+1]]
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
}

// field returns one column of record i.
func (ix *Index) field(i int, f field) string {
	var v row
	ix.l.split(ix.line(i), &v)
	return v.get(f)
}

func (ix *Index) mailbox(i int) annuaire.Mailbox {
	var m annuaire.Mailbox
	ix.fill(&m, i, ix.line(i))
	return m
}

// fill sets *m from record i, whose line is line.
func (ix *Index) fill(m *annuaire.Mailbox, i int, line string) {
	var v row
	ix.l.split(line, &v)
	ix.l.set(m, &v, i+2)
}

// live reports whether record i is an indexed row.
func (ix *Index) live(i int) bool { return ix.flags[i]&(flagBad|flagDup) == 0 }

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

// Row is a row of the index found by Find: a handle that holds where the
// row is, so that finding an address costs no more than a map lookup. Its
// Mailbox is built on demand. The zero Row is no row.
type Row struct {
	ix *Index
	e  *slot
}

// Address returns the row's address as written in the file.
func (r Row) Address() string {
	if r.e == nil {
		return ""
	}
	return r.e.key(r.ix.data)
}

// Line returns the row's line number in the file (the header is line 1;
// 0 for the zero Row).
func (r Row) Line() int {
	if r.e == nil {
		return 0
	}
	return int(r.e.rec) + 1
}

// Mailbox returns the row as a Mailbox (the zero Mailbox for the zero Row).
func (r Row) Mailbox() annuaire.Mailbox {
	var m annuaire.Mailbox
	if r.e != nil {
		var v row
		r.ix.l.split(r.e.line(r.ix.data), &v)
		r.ix.l.set(&m, &v, r.Line())
	}
	return m
}

// Find returns the first row (in file order) for an address, compared
// without ASCII case, as a Row; ok is false when the address is not in the
// index. It reads the index's table and the address in the row's line, and
// builds nothing: use it to check that an address is listed, and Lookup
// (or Row.Mailbox) for the row's fields.
func (ix *Index) Find(addr string) (r Row, ok bool) {
	if ix == nil || len(addr) > maxAddress {
		return Row{}, false
	}
	// The loop of table.find, written out: this is the hot path, and the
	// first row met is the first of the address in the file.
	h := ix.hashLower(addr)
	sh, p := ix.addrs.home(h)
	if len(sh) == 0 {
		return Row{}, false
	}
	for tag := uint32(h >> 32); sh[p].rec != 0; p = next(p, sh) {
		if e := &sh[p]; e.tag == tag && e.keyIs(ix.data, addr) {
			return Row{ix: ix, e: e}, true
		}
	}
	return Row{}, false
}

// Lookup returns the first row (in file order) for an address, compared
// without ASCII case. ok is false when the address is not in the index.
// An address attached to several structures has several rows: see
// LookupAll. It is Find followed by Row.Mailbox.
func (ix *Index) Lookup(addr string) (m annuaire.Mailbox, ok bool) {
	r, ok := ix.Find(addr)
	return r.Mailbox(), ok
}

// LookupAll returns every row for an address, in file order.
func (ix *Index) LookupAll(addr string) []annuaire.Mailbox {
	out := make([]annuaire.Mailbox, 0)
	for i := range ix.addrRecords(addr) {
		out = append(out, ix.mailbox(i))
	}
	return out
}

// addrRecords iterates over the indexed rows of an address (duplicates
// left out), in file order.
func (ix *Index) addrRecords(addr string) iter.Seq[int] {
	return func(yield func(int) bool) {
		if ix == nil || len(addr) > maxAddress {
			return
		}
		for i, e := range ix.addrs.find(ix, ix.hashLower(addr)) {
			if e.keyIs(ix.data, addr) && !yield(i) {
				return
			}
		}
	}
}

// ByID returns the rows of a person by national identifier: an IDNPS (12
// characters), an RPPS (11 digits, looked up as "8"+RPPS) or an ADELI (9
// digits, as "0"+ADELI). Rows are in file order.
func (ix *Index) ByID(id string) []annuaire.Mailbox {
	if ix == nil || len(id) > 60 {
		return nil
	}
	var buf [64]byte
	key := idKey(buf[:0], id)
	out := make([]annuaire.Mailbox, 0)
	for i, e := range ix.ids.find(ix, max(1, maphash.Bytes(ix.seed, key))) {
		if ix.flags[i]&flagDup == 0 && e.key(ix.data) == string(key) {
			out = append(out, ix.mailbox(i))
		}
	}
	return out
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
		// (Written out: a comparison closure passed to slices.BinarySearchFunc
		// escapes, one allocation a search.)
		lo, hi := 0, len(ix.names)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			e := ix.names[mid]
			if k := e.key & mask; k < qk || k == qk && ix.name(e) < qf {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		for _, e := range ix.names[lo:] {
			name := ix.name(e)
			if e.key&mask != qk || !strings.HasPrefix(name, qf) {
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
			if ix.flags[e.rec]&flagDup == 0 && !yield(ix.mailbox(int(e.rec))) {
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
	return ix.chainSeq(byProfession, code, flagDup)
}

// ByPostalCode iterates over the rows whose structure has this postal code.
func (ix *Index) ByPostalCode(cp string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(byPostalCode, cp, flagDup)
}

// ByDepartment iterates over the rows of a department: the "Département
// structure BAL" column, or, when it is empty, the department of the postal
// code (97x/98x overseas; "20" for Corsica).
func (ix *Index) ByDepartment(dept string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(byDepartment, dept, flagDup)
}

// ByDomain iterates over the mailboxes of a domain (compared without ASCII
// case), in file order, each once: an address attached to several
// structures is given by its first row, as Lookup gives it (LookupAll gives
// its other rows). Domains counts what ByDomain yields.
func (ix *Index) ByDomain(domain string) iter.Seq[annuaire.Mailbox] {
	return ix.chainSeq(byDomain, strings.ToLower(domain), flagLater)
}

// Domains returns, per domain (lower case), the number of its mailboxes:
// distinct addresses, an address on several rows counted once.
func (ix *Index) Domains() map[string]int {
	if ix == nil {
		return map[string]int{}
	}
	c := ix.listing(byDomain)
	out := make(map[string]int, len(c.head))
	for d := range c.head {
		for i := range c.all(d) {
			if ix.flags[i]&flagLater == 0 {
				out[d]++
			}
		}
	}
	return out
}

// chainSeq iterates over the rows of a key in a listing (built on first
// use), those flagged skip left out.
func (ix *Index) chainSeq(kind int, k string, skip uint8) iter.Seq[annuaire.Mailbox] {
	return func(yield func(annuaire.Mailbox) bool) {
		if ix == nil {
			return
		}
		for i := range ix.listing(kind).all(k) {
			if ix.flags[i]&skip == 0 && !yield(ix.mailbox(i)) {
				return
			}
		}
	}
}

// lazyChain is a listing built on first use, once, even when several
// goroutines ask for it at the same time.
type lazyChain struct {
	once sync.Once
	c    chain
}

// listingKey returns the key of a row in a listing, "" for none; buf is
// scratch space the key may live in.
type listingKey func(v *row, buf []byte) string

// The listings, in Index.listings.
const (
	byProfession = iota
	byPostalCode
	byDepartment
	byDomain
	numListings
)

// listingKinds gives each listing its key and the most digits of the keys
// held in an array (0: none), see chain.
var listingKinds = [numListings]struct {
	digits int
	key    listingKey
}{
	byProfession: {3, profKey}, // TRE_G15 codes: 2 digits
	byPostalCode: {5, postalKey},
	byDepartment: {3, deptKey}, // 01–95, 971–976
	byDomain:     {0, domainKey},
}

func profKey(v *row, _ []byte) string   { return v.get(fProfession) }
func postalKey(v *row, _ []byte) string { return v.get(fPostalCode) }
func deptKey(v *row, _ []byte) string {
	return departmentOf(v.get(fDepartment), v.get(fPostalCode))
}

func domainKey(v *row, buf []byte) string {
	addr := v.get(fAddress)
	dom := addr[strings.IndexByte(addr, '@')+1:]
	if ascii.HasUpper(dom) {
		return string(ascii.AppendLower(buf[:0], dom))
	}
	return dom
}

// listing returns a listing, building it on first use.
func (ix *Index) listing(kind int) *chain {
	lc := &ix.listings[kind]
	lc.once.Do(func() { ix.buildChain(&lc.c, listingKinds[kind].digits, listingKinds[kind].key) })
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
	var buf [256]byte
	for i := cp.to - 1; i >= cp.from; i-- {
		if ix.flags[i]&flagBad != 0 {
			continue
		}
		var v row
		ix.l.split(ix.line(i), &v)
		k := key(&v, buf[:])
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

// departmentOf returns the department column, or derives it from the
// postal code: 97x/98x overseas, 20 Corsica (2A/2B cannot be told apart
// from the postal code alone, so "20"), otherwise the first two digits.
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
