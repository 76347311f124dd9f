package annuaire

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Index is an in-memory, read-only directory built from one
// Extraction_Correspondance_MSSante file: exact lookups by address (case
// insensitive) and by RPPS/ADELI/IDNPS, name search by prefix (case and
// accent insensitive), and listings by profession, postal code, department
// and domain. It is safe for concurrent use.
//
// Memory: the index keeps the file's text once and refers to it by offsets
// (about 70 % of the file size on top of it, for the full national
// extraction); a Mailbox returned by a lookup shares that text, so a lookup
// allocates nothing.
type Index struct {
	data      string
	l         layout
	span      int          // columns stored per record (l.span)
	n         int          // records: one per line after the header
	stride    int          // bytes per record in recs: 6 + span
	recs      []byte       // per record: line offset (uint32 LE), line length (uint16 LE), span column lengths (255: see over)
	over      map[int]int  // record*span+column → length, for columns of 255 bytes or more
	dup       bitset       // per record, identical to an earlier row (not indexed)
	seed      maphash.Seed // hash seed of the tables
	addrTab   []uint64     // open addressing on lower-cased address: hash>>32<<32 | record+1
	idTab     []uint32     // open addressing on IDNPS: record+1
	names     []nameEnt    // records with a family name, sorted by folded name
	arenas    [][]byte     // folded names per parsing chunk: a length byte, then FAMILY "\x01" GIVEN
	byProf    chain        // profession code → records
	byPostal  chain        // postal code → records
	byDept    chain        // department → records
	byDomain  chain        // lower-case domain → records
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
	// Mailboxes is the number of rows indexed (duplicates and errors excluded).
	Mailboxes int
	// Addresses is the number of distinct addresses (ignoring case).
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
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() > 1<<32-1 {
		return LoadIndex(ctx, f, opts)
	}
	// A regular file is read by several goroutines at once: most of the
	// time of a read is the first touch of fresh memory, which then
	// happens on all cores.
	buf := make([]byte, fi.Size())
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
					errs[p] = fmt.Errorf("annuaire: reading %s: %w", path, err)
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
		size = int(opts.SizeHint) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+4<<20)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("annuaire: reading extraction: %w", err)
		}
	}
	// The index never writes to buf again and hands out substrings of its
	// text: viewing the bytes as a string saves a copy of the whole file.
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
	nnames   int // name entries written from names[first]
}

// indexData indexes the whole text of an extraction.
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

	// Phase 1: cut the body in chunks at line boundaries, count their
	// lines, then parse the chunks in parallel into their record ranges.
	workers := workers(opts)
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
		return nil, fmt.Errorf("annuaire: extraction of %d bytes, %d lines: too large to index", len(data), n)
	}
	ix.n = n
	ix.stride = 6 + ix.span
	ix.recs = make([]byte, n*ix.stride)
	ix.dup = make(bitset, (n+63)/64)
	ix.names = make([]nameEnt, n)
	ix.arenas = make([][]byte, len(chunks))
	for i := range chunks {
		wg.Go(func() { ix.parseChunk(ctx, i, &chunks[i], maxErrors) })
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

	// Phase 2: build the indexes in parallel. Only the address table
	// writes ix.dup; the other builders do not read it (a bitset shared
	// by goroutines would race on its words).
	wg.Go(ix.buildAddresses)
	wg.Go(func() { ix.buildNames(chunks) })
	wg.Go(func() {
		ix.buildIDs()
		ix.buildChains()
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range n {
		if ix.live(i) {
			rep.Mailboxes++
		}
	}
	return ix, nil
}

// parseChunk parses the lines of chunk number k into its records.
func (ix *Index) parseChunk(ctx context.Context, k int, c *chunkResult, maxErrors int) {
	s := ix.data[c.from:c.to]
	st := make([]uint16, ix.span+1)
	arena := make([]byte, 0, len(s)/12)
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
		if fam := ix.l.col(line, st, fFamily); fam != "" && len(arena) < 1<<arenaShift-512 {
			at := len(arena)
			arena = append(arena, 0)
			arena = appendFolded(arena, fam, 254)
			if len(arena)-at-1 < 254 {
				arena = append(arena, 1)
				arena = appendFolded(arena, ix.l.col(line, st, fGiven), 254-(len(arena)-at-1))
			}
			arena[at] = byte(len(arena) - at - 1)
			names[c.nnames] = nameEnt{key: key8(arena[at+1:]), off: uint32(k)<<arenaShift | uint32(at), rec: uint32(rec)}
			c.nnames++
		}
	}
	ix.arenas[k] = arena
}

// appendFolded appends the folded form of s, at most max bytes, leaving out
// control characters (so that the "\x01" separator stays unique).
func appendFolded(dst []byte, s string, max int) []byte {
	f := folder{s: s}
	for n := 0; n < max; {
		b, ok := f.next()
		if !ok {
			break
		}
		if b < ' ' {
			continue
		}
		dst = append(dst, b)
		n++
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

func (ix *Index) mailbox(i int) Mailbox {
	var m Mailbox
	ix.fill(&m, i)
	return m
}

// fill sets *m from record i, in one pass over its column lengths.
func (ix *Index) fill(m *Mailbox, i int) {
	line, lens := ix.line(i)
	var v [numFields]string
	off := 0
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
	ix.l.set(m, &v, i+2)
}

// lineText returns the raw line of record i.
func (ix *Index) lineText(i int) string {
	line, _ := ix.line(i)
	return line
}

// tableSize returns a power of two at least twice n.
func tableSize(n int) int {
	s := 1024
	for s < 2*n {
		s <<= 1
	}
	return s
}

func (ix *Index) hashLower(s string) uint64 {
	var buf [256]byte
	if len(s) > 254 {
		return 0
	}
	return maphash.Bytes(ix.seed, lowerASCII(buf[:0], s))
}

// slotEntry packs the high half of a hash and a record number.
func slotEntry(h uint64, rec int) uint64 { return h&^0xFFFFFFFF | uint64(rec+1) }

func (ix *Index) buildAddresses() {
	n := ix.n
	ix.addrTab = make([]uint64, tableSize(n))
	mask := uint64(len(ix.addrTab) - 1)
	distinct, dups := 0, 0
	for i := range n {
		if ix.bad(i) {
			continue
		}
		addr := ix.field(i, fAddress)
		h := ix.hashLower(addr)
		slot := h & mask
		seen := false
		for e := ix.addrTab[slot]; e != 0; e = ix.addrTab[slot] {
			if e>>32 == h>>32 {
				j := int(e&0xFFFFFFFF) - 1
				if equalFoldASCII(ix.field(j, fAddress), addr) {
					seen = true
					if ix.lineText(i) == ix.lineText(j) {
						ix.dup.set(i)
						break
					}
				}
			}
			slot = (slot + 1) & mask
		}
		if ix.dup.has(i) {
			dups++
			continue
		}
		if !seen {
			distinct++
		}
		ix.addrTab[slot] = slotEntry(h, i)
	}
	ix.report.Addresses = distinct
	ix.report.Tolerated.Duplicates = dups
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

func (ix *Index) buildIDs() {
	n := ix.n
	ix.idTab = make([]uint32, tableSize(n))
	mask := uint64(len(ix.idTab) - 1)
	for i := range n {
		if ix.bad(i) {
			continue
		}
		id := ix.field(i, fIDNPS)
		if id == "" {
			continue
		}
		slot := maphash.String(ix.seed, id) & mask
		for ix.idTab[slot] != 0 {
			slot = (slot + 1) & mask
		}
		ix.idTab[slot] = uint32(i + 1)
	}
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

// push prepends record i to key's list (build in reverse file order).
func (c *chain) push(key string, i int) {
	if k := numKey(key); k >= 0 && k < len(c.num) {
		c.next[i] = c.num[k]
		c.num[k] = int32(i)
		return
	}
	if h, ok := c.head[key]; ok {
		c.next[i] = h
	} else {
		c.next[i] = -1
	}
	c.head[key] = int32(i)
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
	if len(cp) < 2 {
		return ""
	}
	if (cp[:2] == "97" || cp[:2] == "98") && len(cp) >= 3 {
		return cp[:3]
	}
	return cp[:2]
}

func (ix *Index) buildChains() {
	n := ix.n
	ix.byProf.init(n, 3) // TRE_G15 codes: 2 digits
	ix.byPostal.init(n, 5)
	ix.byDept.init(n, 3) // 01–95, 971–976
	ix.byDomain.init(n, 0)
	st := make([]uint16, ix.span+1)
	for i := n - 1; i >= 0; i-- {
		if ix.bad(i) {
			continue
		}
		line := ix.starts(i, st)
		if p := ix.l.col(line, st, fProfession); p != "" {
			ix.byProf.push(p, i)
		}
		cp := ix.l.col(line, st, fPostalCode)
		if cp != "" {
			ix.byPostal.push(cp, i)
		}
		if d := departmentOf(ix.l.col(line, st, fDepartment), cp); d != "" {
			ix.byDept.push(d, i)
		}
		addr := ix.l.col(line, st, fAddress)
		dom := addr[strings.IndexByte(addr, '@')+1:]
		if hasUpperASCII(dom) {
			dom = strings.ToLower(dom)
		}
		ix.byDomain.push(dom, i)
	}
}

// name returns the folded name of an entry of the name index.
func (ix *Index) name(e nameEnt) string {
	a := ix.arenas[e.off>>arenaShift]
	off := e.off & (1<<arenaShift - 1)
	n := uint32(a[off])
	b := a[off+1 : off+1+n]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (ix *Index) buildNames(chunks []chunkResult) {
	// Compact the per-chunk regions of ix.names, then sort.
	n := 0
	for i := range chunks {
		c := &chunks[i]
		n += copy(ix.names[n:], ix.names[c.first:c.first+c.nnames])
	}
	ix.names = ix.names[:n:n]
	ix.sortNames()
}

// sortNames sorts the name index: a byte-wise LSD radix sort on the 8-byte
// keys (passes where all keys share the byte are skipped), then a
// comparison sort of each run of equal keys on the full folded names.
func (ix *Index) sortNames() {
	a := ix.names
	if len(a) < 2 {
		return
	}
	tmp := make([]nameEnt, len(a))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, e := range a {
			count[(e.key>>shift)&0xFF+1]++
		}
		if count[(a[0].key>>shift)&0xFF+1] == len(a) {
			continue
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, e := range a {
			d := (e.key >> shift) & 0xFF
			tmp[count[d]] = e
			count[d]++
		}
		a, tmp = tmp, a
	}
	if &a[0] != &ix.names[0] {
		copy(ix.names, a)
	}
	a = ix.names
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && a[j].key == a[i].key {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(a[i:j], func(x, y nameEnt) int {
				if c := strings.Compare(ix.name(x), ix.name(y)); c != 0 {
					return c
				}
				return int(x.rec) - int(y.rec)
			})
		}
		i = j
	}
}

// Report returns what loading found.
func (ix *Index) Report() *Report { return &ix.report }

// Generated returns the extraction's generation time (zero when unknown).
func (ix *Index) Generated() time.Time { return ix.generated }

// Len returns the number of indexed rows.
func (ix *Index) Len() int { return ix.report.Mailboxes }

// All iterates over the indexed rows in file order.
func (ix *Index) All() iter.Seq[Mailbox] {
	return func(yield func(Mailbox) bool) {
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
func (ix *Index) Lookup(addr string) (m Mailbox, ok bool) {
	if ix == nil || len(ix.addrTab) == 0 || len(addr) > 254 {
		return Mailbox{}, false
	}
	h := ix.hashLower(addr)
	mask := uint64(len(ix.addrTab) - 1)
	best := -1
	for slot := h & mask; ix.addrTab[slot] != 0; slot = (slot + 1) & mask {
		e := ix.addrTab[slot]
		if e>>32 != h>>32 {
			continue
		}
		j := int(e&0xFFFFFFFF) - 1
		if (best < 0 || j < best) && equalFoldASCII(ix.field(j, fAddress), addr) {
			best = j
		}
	}
	if best < 0 {
		return Mailbox{}, false
	}
	ix.fill(&m, best)
	return m, true
}

// LookupAll returns every row for an address, in file order.
func (ix *Index) LookupAll(addr string) []Mailbox {
	var ids []int
	for i := range ix.addrRecords(addr) {
		ids = append(ids, i)
	}
	return ix.mailboxes(ids)
}

func (ix *Index) mailboxes(ids []int) []Mailbox {
	slices.Sort(ids)
	out := make([]Mailbox, len(ids))
	for k, i := range ids {
		out[k] = ix.mailbox(i)
	}
	return out
}

func (ix *Index) addrRecords(addr string) iter.Seq[int] {
	return func(yield func(int) bool) {
		if ix == nil || len(ix.addrTab) == 0 || len(addr) > 254 {
			return
		}
		h := ix.hashLower(addr)
		mask := uint64(len(ix.addrTab) - 1)
		for slot := h & mask; ix.addrTab[slot] != 0; slot = (slot + 1) & mask {
			e := ix.addrTab[slot]
			if e>>32 != h>>32 {
				continue
			}
			j := int(e&0xFFFFFFFF) - 1
			if equalFoldASCII(ix.field(j, fAddress), addr) && !yield(j) {
				return
			}
		}
	}
}

// ByID returns the rows of a person by national identifier: an IDNPS (12
// characters), an RPPS (11 digits, looked up as "8"+RPPS) or an ADELI (9
// digits, as "0"+ADELI). Rows are in file order.
func (ix *Index) ByID(id string) []Mailbox {
	if ix == nil || len(ix.idTab) == 0 || len(id) > 60 {
		return nil
	}
	var buf [64]byte
	key := idKey(buf[:0], id)
	mask := uint64(len(ix.idTab) - 1)
	var ids []int
	for slot := maphash.Bytes(ix.seed, key) & mask; ix.idTab[slot] != 0; slot = (slot + 1) & mask {
		j := int(ix.idTab[slot]) - 1
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
// matches any; an empty family yields nothing (use All).
func (ix *Index) SearchName(family, given string) iter.Seq[Mailbox] {
	return func(yield func(Mailbox) bool) {
		if ix == nil || family == "" {
			return
		}
		qf := string(appendFolded(nil, family, 254))
		qg := string(appendFolded(nil, given, 254))
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
				if !strings.HasPrefix(g, qg) {
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
// example "10" médecin), in file order.
func (ix *Index) ByProfession(code string) iter.Seq[Mailbox] { return ix.chainSeq(&ix.byProf, code) }

// ByPostalCode iterates over the rows whose structure has this postal code.
func (ix *Index) ByPostalCode(cp string) iter.Seq[Mailbox] { return ix.chainSeq(&ix.byPostal, cp) }

// ByDepartment iterates over the rows of a department: the "Département
// structure BAL" column, or, when it is empty, the department of the postal
// code (97x/98x overseas; "20" for Corsica).
func (ix *Index) ByDepartment(dept string) iter.Seq[Mailbox] { return ix.chainSeq(&ix.byDept, dept) }

// ByDomain iterates over the mailboxes of a domain (case-insensitive).
func (ix *Index) ByDomain(domain string) iter.Seq[Mailbox] {
	return ix.chainSeq(&ix.byDomain, strings.ToLower(domain))
}

// Domains returns the number of rows per domain (lower case).
func (ix *Index) Domains() map[string]int {
	out := make(map[string]int, len(ix.byDomain.head))
	for d := range ix.byDomain.head {
		for i := range ix.byDomain.all(d) {
			if !ix.dup.has(i) {
				out[d]++
			}
		}
	}
	return out
}

func (ix *Index) chainSeq(c *chain, key string) iter.Seq[Mailbox] {
	return func(yield func(Mailbox) bool) {
		if ix == nil {
			return
		}
		for i := range c.all(key) {
			if !ix.dup.has(i) && !yield(ix.mailbox(i)) {
				return
			}
		}
	}
}
