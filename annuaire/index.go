package annuaire

import (
	"context"
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
)

// Index is an in-memory, read-only directory built from one
// Extraction_Correspondance_MSSante file: exact lookups by address (case
// insensitive) and by RPPS/ADELI/IDNPS, name search by prefix (case and
// accent insensitive), and listings by profession, postal code, department
// and domain. It is safe for concurrent use.
//
// Memory: the index keeps the file's text once and refers to it by offsets
// (about 40 % of the file size on top of it for the full extraction); a
// Mailbox returned by a lookup shares that text, allocating nothing.
type Index struct {
	data      string
	l         layout
	stride    int      // uint16s per record: l.span+1 column starts, then the line length
	starts    []uint16 // per record, see splitRow; the last slot is the line length, deadLine if unused
	lineStart []uint32 // per record, offset of its line in data; record i is line i+2
	dup       []bool   // per record, true if identical to an earlier row
	seed      maphash.Seed
	addrTab   []uint32 // open addressing on lower-cased address, record+1
	idTab     []uint32 // open addressing on IDNPS, record+1
	names     []uint32 // records with a family name, sorted by folded family, given
	nameKey   []uint64 // first 8 folded bytes of each names entry
	byProf    chain
	byPostal  chain
	byDept    chain
	byDomain  chain
	generated time.Time
	report    Report
}

const deadLine = 0xFFFF

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
	if fi, err := f.Stat(); err == nil && opts.SizeHint == 0 {
		opts.SizeHint = fi.Size()
	}
	if opts.Generated.IsZero() {
		opts.Generated = GeneratedFromName(path)
	}
	return LoadIndex(ctx, f, opts)
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
	var sb strings.Builder
	if opts.SizeHint > 0 {
		sb.Grow(int(opts.SizeHint) + 1)
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("annuaire: reading extraction: %w", err)
		}
	}
	return indexData(ctx, sb.String(), opts)
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
	ix.stride = ix.l.span + 2
	body := min(hdrEnd+1, len(data))

	// Phase 1: split the body in chunks at line boundaries, count their
	// lines, then parse the chunks in parallel into their record ranges.
	workers := opts.Workers
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	type chunk struct {
		from, to  int // byte range in data
		first     int // first record
		lines     int
		warn      [numWarn]int
		errs      []*LineError
		errCount  int
		maxErrors int
	}
	chunks := make([]chunk, 0, workers)
	size := (len(data) - body) / workers
	for from := body; from < len(data); {
		to := len(data)
		if len(chunks) < workers-1 && from+size < len(data) {
			if i := strings.IndexByte(data[from+size:], '\n'); i >= 0 {
				to = from + size + i + 1
			}
		}
		chunks = append(chunks, chunk{from: from, to: to})
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
		chunks[i].maxErrors = maxErrors
		n += chunks[i].lines
	}
	if uint64(len(data)) > 1<<32-1 || n > 1<<31-2 {
		return nil, fmt.Errorf("annuaire: extraction of %d bytes, %d lines: too large to index", len(data), n)
	}
	ix.starts = make([]uint16, n*ix.stride)
	ix.lineStart = make([]uint32, n)
	ix.dup = make([]bool, n)
	for i := range chunks {
		wg.Go(func() {
			c := &chunks[i]
			ix.parseChunk(ctx, data[c.from:c.to], c.from, c.first, &c.warn, &c.errs, &c.errCount, c.maxErrors)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &ix.report
	rep.Lines = n
	for i := range chunks {
		rep.Tolerated.add(&chunks[i].warn)
		rep.ErrorCount += chunks[i].errCount
		if maxErrors > 0 {
			rep.Errors = append(rep.Errors, chunks[i].errs...)
		}
	}
	if maxErrors > 0 && len(rep.Errors) > maxErrors {
		rep.Errors = rep.Errors[:maxErrors]
	}

	// Phase 2: build the indexes in parallel. Only the address table
	// writes ix.dup; the other builders read nothing it writes.
	wg.Go(ix.buildAddresses)
	wg.Go(ix.buildNames)
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

// parseChunk parses the lines of one chunk into records first, first+1…
func (ix *Index) parseChunk(ctx context.Context, s string, base, first int, warn *[numWarn]int, errs *[]*LineError, errCount *int, maxErrors int) {
	rec := first
	for off := 0; off < len(s); rec++ {
		if (rec-first)&0xFFFF == 0 && ctx.Err() != nil {
			return
		}
		end := strings.IndexByte(s[off:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += off
		}
		line := s[off:end]
		if strings.HasSuffix(line, "\r") {
			line = line[:len(line)-1]
		}
		ix.lineStart[rec] = uint32(base + off)
		st := ix.starts[rec*ix.stride : (rec+1)*ix.stride]
		off = end + 1
		st[ix.l.span+1] = deadLine
		if line == "" {
			continue
		}
		lineNo := rec + 2
		if len(line) >= deadLine-1 {
			*errCount++
			if len(*errs) < maxErrors {
				*errs = append(*errs, &LineError{Line: lineNo, Err: fmt.Errorf("%w: longer than %d bytes", ErrLine, deadLine-2)})
			}
			continue
		}
		found := ix.l.splitRow(line, st)
		if err := ix.l.checkRow(lineNo, line, st, found, warn); err != nil {
			*errCount++
			if len(*errs) < maxErrors {
				*errs = append(*errs, err.(*LineError))
			}
			continue
		}
		st[ix.l.span+1] = uint16(len(line))
	}
}

// live reports whether record i is an indexed row.
func (ix *Index) live(i int) bool {
	return ix.starts[i*ix.stride+ix.l.span+1] != deadLine && !ix.dup[i]
}

// row returns the line of record i and its column starts.
func (ix *Index) row(i int) (string, []uint16) {
	st := ix.starts[i*ix.stride : (i+1)*ix.stride]
	a := int(ix.lineStart[i])
	return ix.data[a : a+int(st[ix.l.span+1])], st
}

func (ix *Index) field(i int, f field) string {
	line, st := ix.row(i)
	return ix.l.col(line, st, f)
}

func (ix *Index) mailbox(i int) Mailbox {
	line, st := ix.row(i)
	return ix.l.mailbox(line, st, i+2)
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
	if len(s) > len(buf) {
		return maphash.String(ix.seed, s)
	}
	b := lowerASCII(buf[:0], s)
	return maphash.Bytes(ix.seed, b)
}

func (ix *Index) buildAddresses() {
	n := len(ix.lineStart)
	ix.addrTab = make([]uint32, tableSize(n))
	mask := uint64(len(ix.addrTab) - 1)
	distinct := 0
	dups := 0
	for i := range n {
		if ix.starts[i*ix.stride+ix.l.span+1] == deadLine {
			continue
		}
		addr := ix.field(i, fAddress)
		slot := ix.hashLower(addr) & mask
		seen := false
		for ix.addrTab[slot] != 0 {
			j := int(ix.addrTab[slot] - 1)
			if other := ix.field(j, fAddress); equalFoldASCII(other, addr) {
				seen = true
				a, _ := ix.row(i)
				b, _ := ix.row(j)
				if a == b {
					ix.dup[i] = true
					break
				}
			}
			slot = (slot + 1) & mask
		}
		if ix.dup[i] {
			dups++
			continue
		}
		if !seen {
			distinct++
		}
		ix.addrTab[slot] = uint32(i + 1)
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
	n := len(ix.lineStart)
	ix.idTab = make([]uint32, tableSize(n/2+1))
	mask := uint64(len(ix.idTab) - 1)
	for i := range n {
		if ix.starts[i*ix.stride+ix.l.span+1] == deadLine {
			continue
		}
		id := ix.field(i, fIDNPS)
		if id == "" {
			continue
		}
		if 2*(i+1) > len(ix.idTab) {
			// Should not happen for real files (ORG rows have no IDNPS);
			// grow by rebuilding when IDs are denser than planned.
			ix.growIDs()
			mask = uint64(len(ix.idTab) - 1)
		}
		slot := maphash.String(ix.seed, id) & mask
		for ix.idTab[slot] != 0 {
			slot = (slot + 1) & mask
		}
		ix.idTab[slot] = uint32(i + 1)
	}
}

func (ix *Index) growIDs() {
	old := ix.idTab
	ix.idTab = make([]uint32, 2*len(old))
	mask := uint64(len(ix.idTab) - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		slot := maphash.String(ix.seed, ix.field(int(v-1), fIDNPS)) & mask
		for ix.idTab[slot] != 0 {
			slot = (slot + 1) & mask
		}
		ix.idTab[slot] = v
	}
}

// chain is a multi-valued index: the records of a key form a linked list
// through next, in file order.
type chain struct {
	head map[string]int32
	next []int32
}

func (c *chain) init(n int) {
	c.head = make(map[string]int32)
	c.next = make([]int32, n)
}

// push prepends record i to key's list (build in reverse file order).
func (c *chain) push(key string, i int) {
	if h, ok := c.head[key]; ok {
		c.next[i] = h
	} else {
		c.next[i] = -1
	}
	c.head[key] = int32(i)
}

func (c *chain) all(key string) iter.Seq[int] {
	return func(yield func(int) bool) {
		h, ok := c.head[key]
		if !ok {
			return
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
	n := len(ix.lineStart)
	ix.byProf.init(n)
	ix.byPostal.init(n)
	ix.byDept.init(n)
	ix.byDomain.init(n)
	for i := n - 1; i >= 0; i-- {
		if ix.starts[i*ix.stride+ix.l.span+1] == deadLine {
			continue
		}
		line, st := ix.row(i)
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

// nameKey8 packs the first 8 folded bytes of family+"\x01"+given.
func nameKey8(family, given string) uint64 {
	var k uint64
	n := 0
	f := folder{s: family}
	for b, ok := f.next(); ok && n < 8; b, ok = f.next() {
		k = k<<8 | uint64(b)
		n++
	}
	if n < 8 {
		k = k<<8 | 1
		n++
		g := folder{s: given}
		for b, ok := g.next(); ok && n < 8; b, ok = g.next() {
			k = k<<8 | uint64(b)
			n++
		}
	}
	return k << (8 * (8 - n))
}

// compareNames compares family+"\x01"+given of two persons, folded.
func compareNames(fa, ga, fb, gb string) int {
	a, b := folder{s: fa}, folder{s: fb}
	for {
		x, okx := a.next()
		y, oky := b.next()
		if !okx || !oky {
			switch {
			case okx:
				return 1 // a's family is longer: "\x01" < any of its bytes
			case oky:
				return -1
			}
			break
		}
		if x != y {
			return int(x) - int(y)
		}
	}
	a, b = folder{s: ga}, folder{s: gb}
	for {
		x, okx := a.next()
		y, oky := b.next()
		switch {
		case !okx && !oky:
			return 0
		case !okx:
			return -1
		case !oky:
			return 1
		}
		if x != y {
			return int(x) - int(y)
		}
	}
}

func (ix *Index) buildNames() {
	type ent struct {
		key uint64
		id  uint32
	}
	n := len(ix.lineStart)
	ents := make([]ent, 0, n)
	for i := range n {
		if ix.starts[i*ix.stride+ix.l.span+1] == deadLine {
			continue
		}
		line, st := ix.row(i)
		fam := ix.l.col(line, st, fFamily)
		if fam == "" {
			continue
		}
		ents = append(ents, ent{nameKey8(fam, ix.l.col(line, st, fGiven)), uint32(i)})
	}
	slices.SortFunc(ents, func(a, b ent) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		la, sa := ix.row(int(a.id))
		lb, sb := ix.row(int(b.id))
		c := compareNames(ix.l.col(la, sa, fFamily), ix.l.col(la, sa, fGiven), ix.l.col(lb, sb, fFamily), ix.l.col(lb, sb, fGiven))
		if c == 0 {
			return int(a.id) - int(b.id)
		}
		return c
	})
	ix.names = make([]uint32, len(ents))
	ix.nameKey = make([]uint64, len(ents))
	for i, e := range ents {
		ix.names[i] = e.id
		ix.nameKey[i] = e.key
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
		for i := range ix.lineStart {
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
	best := -1
	for i := range ix.addrRecords(addr) {
		if best < 0 || i < best {
			best = i
		}
	}
	if best < 0 {
		return Mailbox{}, false
	}
	return ix.mailbox(best), true
}

// LookupAll returns every row for an address, in file order.
func (ix *Index) LookupAll(addr string) []Mailbox {
	var ids []int
	for i := range ix.addrRecords(addr) {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	out := make([]Mailbox, len(ids))
	for k, i := range ids {
		out[k] = ix.mailbox(i)
	}
	return out
}

func (ix *Index) addrRecords(addr string) iter.Seq[int] {
	return func(yield func(int) bool) {
		if ix == nil || len(ix.addrTab) == 0 {
			return
		}
		mask := uint64(len(ix.addrTab) - 1)
		for slot := ix.hashLower(addr) & mask; ix.addrTab[slot] != 0; slot = (slot + 1) & mask {
			j := int(ix.addrTab[slot] - 1)
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
	if ix == nil || len(ix.idTab) == 0 {
		return nil
	}
	var buf [64]byte
	if len(id) > 60 {
		return nil
	}
	key := idKey(buf[:0], id)
	mask := uint64(len(ix.idTab) - 1)
	var ids []int
	for slot := maphash.Bytes(ix.seed, key) & mask; ix.idTab[slot] != 0; slot = (slot + 1) & mask {
		j := int(ix.idTab[slot] - 1)
		if ix.field(j, fIDNPS) == string(key) && !ix.dup[j] {
			ids = append(ids, j)
		}
	}
	slices.Sort(ids)
	out := make([]Mailbox, len(ids))
	for k, i := range ids {
		out[k] = ix.mailbox(i)
	}
	return out
}

// SearchName iterates, in alphabetical order of family then given name,
// over the rows whose nom d'exercice starts with family and prénom
// d'exercice starts with given, both compared without case or accents
// ("hélo" finds "HELOISE" and "Héloïse"). An empty given matches any. An
// empty family yields nothing (use All).
func (ix *Index) SearchName(family, given string) iter.Seq[Mailbox] {
	return func(yield func(Mailbox) bool) {
		if ix == nil || family == "" {
			return
		}
		qf := foldString(family)
		qg := foldString(given)
		qk := nameKey8(qf, "")
		// The key of qf alone ends with the \x01 separator: drop it.
		kn := min(len(qf), 8)
		var mask uint64 = ^uint64(0) << (8 * (8 - kn))
		qk &= mask
		// Lower bound: the first entry whose folded family is not below qf.
		lo, hi := 0, len(ix.names)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			var c int
			switch k := ix.nameKey[mid] & mask; {
			case k < qk:
				c = -1
			case k > qk:
				c = 1
			default:
				c = comparePrefix(ix.field(int(ix.names[mid]), fFamily), qf)
			}
			if c < 0 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		for p := lo; p < len(ix.names); p++ {
			if ix.nameKey[p]&mask != qk {
				return
			}
			id := int(ix.names[p])
			line, st := ix.row(id)
			if comparePrefix(ix.l.col(line, st, fFamily), qf) != 0 {
				return
			}
			if qg != "" && comparePrefix(ix.l.col(line, st, fGiven), qg) != 0 {
				continue
			}
			if ix.dup[id] {
				continue
			}
			if !yield(ix.l.mailbox(line, st, id+2)) {
				return
			}
		}
	}
}

// comparePrefix compares the folded form of s, cut to the length of the
// folded prefix q, with q: 0 when s starts with q (after folding).
func comparePrefix(s, q string) int {
	f := folder{s: s}
	for i := 0; i < len(q); i++ {
		b, ok := f.next()
		if !ok {
			return -1
		}
		if b != q[i] {
			return int(b) - int(q[i])
		}
	}
	return 0
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
			if !ix.dup[i] {
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
			if !ix.dup[i] && !yield(ix.mailbox(i)) {
				return
			}
		}
	}
}

// lineText returns the raw line of record i (for diffs).
func (ix *Index) lineText(i int) string {
	s, _ := ix.row(i)
	return s
}

