// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
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

// TestSplitMatchesSplit compares layout.split with strings.Split on random
// lines (separators at any byte offset, runs of them, short and long rows)
// and random layouts (known fields in any column, unknown columns between).
func TestSplitMatchesSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	alphabet := "ab|é|||xyz0123456789 -"
	for range 20000 {
		var l layout
		for c := range l.field {
			l.field[c] = -1
		}
		// Known fields in random columns below span, some columns unknown.
		l.span = 1 + rng.IntN(40)
		for f, c := range rng.Perm(max(l.span, int(numFields)))[:numFields] {
			if c < l.span {
				l.field[c] = int8(f)
			}
		}
		b := make([]byte, rng.IntN(120))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		line := string(b)
		var v row
		found := l.split(line, &v)
		cols := strings.Split(line, "|")
		require.Equal(t, len(cols), found, "%q span %d: columns found", line, l.span)
		var want [numFields]string
		for c := 0; c < l.span && c < len(cols); c++ {
			if f := l.field[c]; f >= 0 {
				want[f] = cols[c]
			}
		}
		var got [numFields]string
		for f := range got {
			got[f] = v.get(field(f))
		}
		require.Equal(t, want, got, "%q span %d", line, l.span)
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

// TestTableWrapsAround fills a table shard with keys crowded at its end
// and at one slot (hashes chosen so): each record must be found by probing
// from its home slot, past the end of the shard back to its start, and the
// records of one hash in file order.
func TestTableWrapsAround(t *testing.T) {
	var buf bytes.Buffer
	_, err := annuairetest.WriteExtraction(&buf, annuairetest.ExtractionOptions{Rows: 700, Domains: 50, Seed: 9})
	require.NoError(t, err)
	ix, err := LoadIndex(context.Background(), &buf, LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, 700, ix.n)

	const s = 3 // the shard filled
	rng := rand.New(rand.NewPCG(9, 9))
	hashes := make([]uint64, ix.n)
	count := 0
	for rec := range hashes {
		var low uint32
		switch rec % 4 {
		case 0:
			low = math.MaxUint32 - uint32(rng.IntN(1<<20)) // the last slots: spills over slot 0
		case 1:
			low = 5 << 24 // one slot
		case 2:
			low = rng.Uint32()
		default:
			continue // no key
		}
		hashes[rec] = uint64(rng.Uint32())<<32 | uint64(low&^(numShards-1)|s)
		count++
	}
	var tab table
	dups, later := tab.fill(ix, s, hashes, make([]uint16, len(hashes)), count, false)
	assert.Zero(t, dups+later, "no address checks without dedup")
	require.Len(t, tab[s], count+count/2+1)
	for rec, h := range hashes {
		if h == 0 {
			continue
		}
		var recs []int
		for i, e := range tab.find(ix, h) {
			require.Equal(t, ix.line(i), e.line(ix.data))
			recs = append(recs, i)
		}
		require.Contains(t, recs, rec, "record %d not found from its home slot", rec)
		assert.True(t, slices.IsSorted(recs), "records of a hash in file order")
	}
	for i := range tab {
		if i != s {
			assert.Empty(t, tab[i], "shard %d", i)
		}
	}
	// The test is about wrapping: some record sits before its home slot.
	wrapped := 0
	for p, e := range tab[s] {
		if e.rec != 0 {
			if _, home := tab.home(hashes[e.rec-1]); home > p {
				wrapped++
			}
		}
	}
	assert.Positive(t, wrapped, "records placed past the end of the shard, at its start")
}
