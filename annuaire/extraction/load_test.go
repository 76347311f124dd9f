package extraction

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/stretchr/testify/require"
)

// TestListingsConcurrentFirstUse asks for every listing from several
// goroutines at once on fresh indexes (each listing is built on first use,
// by several goroutines joining their ranges): every answer must equal a
// brute-force filter of the streaming reader's rows. Run with -race.
func TestListingsConcurrentFirstUse(t *testing.T) {
	defer func(v int) { listingPartRows = v }(listingPartRows)
	listingPartRows = 500 // several ranges per listing
	var buf bytes.Buffer
	if _, err := annuairetest.WriteExtraction(&buf, annuairetest.ExtractionOptions{Rows: 4000, Domains: 200, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	rows, _, _ := readAll(t, bytes.NewReader(data))
	want := map[string][]annuaire.Mailbox{}
	domains := map[string]int{}
	seen := map[string]bool{}
	for _, m := range rows {
		s := m.Structure
		dom := strings.ToLower(m.Address[strings.IndexByte(m.Address, '@')+1:])
		for _, k := range []string{"prof:" + m.Owner.Profession.Code, "cp:" + s.PostalCode, "dept:" + departmentOf(s.Department, s.PostalCode)} {
			want[k] = append(want[k], m)
		}
		// By domain: each mailbox once, by the first row of its address.
		if a := strings.ToLower(m.Address); !seen[a] {
			seen[a] = true
			want["dom:"+dom] = append(want["dom:"+dom], m)
			domains[dom]++
		}
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	query := func(ix *Index, k string) []annuaire.Mailbox {
		kind, v, _ := strings.Cut(k, ":")
		switch kind {
		case "prof":
			return slices.Collect(ix.ByProfession(v))
		case "cp":
			return slices.Collect(ix.ByPostalCode(v))
		case "dept":
			return slices.Collect(ix.ByDepartment(v))
		default:
			return slices.Collect(ix.ByDomain(strings.ToUpper(v)))
		}
	}
	for _, w := range []int{1, 3} {
		ix, err := LoadIndex(context.Background(), bytes.NewReader(data), LoadOptions{Workers: w})
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 2*8) // at most two errors a goroutine: never blocks
		for g := range 8 {
			wg.Go(func() {
				if g == 0 {
					if got := ix.Domains(); !mapsEqual(got, domains) {
						errs <- fmt.Errorf("Domains: %d domains, want %d", len(got), len(domains))
					}
				}
				// Each goroutine starts with a different listing.
				for n := range keys {
					k := keys[(n+g*len(keys)/8)%len(keys)]
					if k == "prof:" || k == "cp:" || k == "dept:" {
						continue // no key: not listed
					}
					if got := query(ix, k); !slices.Equal(got, want[k]) {
						errs <- fmt.Errorf("workers %d: %s: %d rows, want %d", w, k, len(got), len(want[k]))
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestIndexDuplicatesAcrossChunks copies rows of a generated extraction to
// later places, some identical (duplicates, indexed once), some with the
// address in another case or another column changed (shared addresses, all
// indexed), and checks the counts and lookups against brute force for
// several numbers of parsing goroutines, so that the copies fall in other
// chunks than their originals.
func TestIndexDuplicatesAcrossChunks(t *testing.T) {
	var buf bytes.Buffer
	if _, err := annuairetest.WriteExtraction(&buf, annuairetest.ExtractionOptions{Rows: 3000, Domains: 100, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(buf.String(), "\n")
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 400 {
		src := lines[rng.IntN(len(lines))]
		cols := strings.Split(src, "|")
		switch rng.IntN(3) {
		case 0: // identical
		case 1: // same address, other case
			cols[1] = strings.ToUpper(cols[1])
		case 2: // same address, another structure
			cols[18] = "AUTRE STRUCTURE"
		}
		at := rng.IntN(len(lines) + 1)
		lines = slices.Insert(lines, at, strings.Join(cols, "|"))
	}
	data := header + "\n" + strings.Join(lines, "\n") + "\n"

	// Brute force: a row is a duplicate when an earlier line is identical.
	rows, _, _ := readAll(t, strings.NewReader(data))
	seenLine := map[string]bool{}
	byAddr := map[string][]annuaire.Mailbox{}
	var kept []annuaire.Mailbox
	dups := 0
	for k, m := range rows {
		if seenLine[lines[k]] {
			dups++
			continue
		}
		seenLine[lines[k]] = true
		kept = append(kept, m)
		a := strings.ToLower(m.Address)
		byAddr[a] = append(byAddr[a], m)
	}
	for _, w := range []int{1, 2, 3, 8} {
		ix, err := LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{Workers: w})
		require.NoError(t, err)
		rep := ix.Report()
		if rep.Tolerated.Duplicates != dups || rep.Rows != len(kept) || ix.Len() != len(kept) || rep.Mailboxes != len(byAddr) || rep.Addresses != len(byAddr) {
			t.Fatalf("workers %d: duplicates %d rows %d (Len %d) mailboxes %d addresses %d; want %d %d %d",
				w, rep.Tolerated.Duplicates, rep.Rows, ix.Len(), rep.Mailboxes, rep.Addresses, dups, len(kept), len(byAddr))
		}
		if all := slices.Collect(ix.All()); !slices.Equal(all, kept) {
			t.Fatalf("workers %d: All differs", w)
		}
		for a, ms := range byAddr {
			if got := ix.LookupAll(strings.ToUpper(a)); !slices.Equal(got, ms) {
				t.Fatalf("workers %d: LookupAll(%s) = %d rows, want %d", w, a, len(got), len(ms))
			}
			if got, ok := ix.Lookup(a); !ok || got != ms[0] {
				t.Fatalf("workers %d: Lookup(%s) = line %d, want line %d", w, a, got.Line, ms[0].Line)
			}
		}
	}
}

// TestSplitRowMatchesSplit compares splitRow with strings.Split on random
// lines (separators at any byte offset, runs of them, short and long rows).
func TestSplitRowMatchesSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	alphabet := "ab|é|||xyz0123456789 -"
	for range 20000 {
		span := 1 + rng.IntN(40)
		l := layout{span: span}
		b := make([]byte, rng.IntN(120))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		line := string(b)
		st := make([]uint16, span+1)
		found := l.splitRow(line, st)
		cols := strings.Split(line, "|")
		if found != len(cols) {
			t.Fatalf("%q span %d: found %d, want %d", line, span, found, len(cols))
		}
		off := 0
		for c := 0; c < span; c++ {
			var want string
			if c < len(cols) {
				want = cols[c]
				if int(st[c]) != off {
					t.Fatalf("%q: column %d starts at %d, want %d", line, c, st[c], off)
				}
				off += len(cols[c]) + 1
			}
			a, e := int(st[c]), int(st[c+1])-1
			got := ""
			if a <= len(line) && e > a {
				got = line[a:e]
			}
			if got != want {
				t.Fatalf("%q span %d: column %d = %q, want %q", line, span, c, got, want)
			}
		}
	}
}

// TestAppendFoldedMatchesFolder checks the in-line ASCII path of
// appendFolded against the folder it stands for.
func TestAppendFoldedMatchesFolder(t *testing.T) {
	ref := func(s string, max int) string {
		var out []byte
		f := folder{s: s}
		for len(out) < max {
			b, ok := f.next()
			if !ok {
				break
			}
			if b >= ' ' {
				out = append(out, b)
			}
		}
		return string(out)
	}
	pieces := []string{"a", "Z", "é", "Œ", "ß", "\u2019", "\x01", "\t", "\xff", "\xc3", "日", "-", " ", "ÿ", "Ǆ"}
	rng := rand.New(rand.NewPCG(2, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		max := rng.IntN(40)
		if got, want := string(appendFolded(nil, s, max)), ref(s, max); got != want {
			t.Fatalf("appendFolded(%q, %d) = %q, want %q", s, max, got, want)
		}
	}
}

// TestFillTableWrapsAround fills a small table with entries crowded at its
// end and at one slot: each must be found by probing from its home slot.
func TestFillTableWrapsAround(t *testing.T) {
	tab := make([]uint64, 1024)
	mask := uint64(len(tab) - 1)
	rng := rand.New(rand.NewPCG(9, 9))
	var ents []uint64
	for rec := range 700 {
		var home uint64
		switch rec % 3 {
		case 0:
			home = mask - uint64(rng.IntN(8)) // the last slots: spills over slot 0
		case 1:
			home = 5
		default:
			home = uint64(rng.IntN(len(tab)))
		}
		ents = append(ents, slotEntry(home<<32|uint64(rng.Uint32())<<42, rec))
	}
	half := len(ents) / 2
	runs := [][]uint64{slices.Clone(ents[:half]), slices.Clone(ents[half:])}
	for _, r := range runs {
		sortBySlot(r, make([]uint64, len(r)), mask)
	}
	fillTable(tab, runs, nil)
	for _, e := range ents {
		found := false
		for slot := homeSlot(e, mask); tab[slot] != 0; slot = (slot + 1) & mask {
			if tab[slot] == e {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("entry of home %d, record %d not found", homeSlot(e, mask), e&0xFFFFFFFF-1)
		}
	}
}
