// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/ecdaf744/gomss/internal/ascii"
	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkExtraction measures, on a generated extraction of the national
// size (536,000 rows, ≈ 88 MB, made once in a temporary directory):
//
//   - load+index: LoadIndexFile, all indexes built (MB/s and ns/op);
//
//   - python-csv: the peer, Python's csv module streaming the same file
//     (/usr/bin/python3, timed inside the interpreter, start-up excluded),
//     with the ratio to the median load+index run as "x-slower-than-go";
//
//   - peak-rss: a fresh process loading the file, its VmHWM (peak
//     resident set) in MB and as a multiple of the file size;
//
//   - find: exact address lookups (case-insensitive) by Index.Find, which
//     answers whether and where the address is listed, in batches, as
//     ns/lookup; find-spread: the same over one row in 8, shuffled;
//
//   - lookup, lookup-spread: the same by Index.Lookup, which also builds the
//     row's 35-field Mailbox;
//
//   - search-name: name-prefix searches, first 20 results, as ns/search;
//
//   - listings-first-use: building the listings by profession, postal
//     code, department and domain, which happens on their first use.
//
//   - map-peer-find, map-peer-find-spread: the peer, a plain Go map from the
//     lower-cased address to its first row, answering Find's question (the
//     address lower-cased into a stack buffer, then the map lookup);
//     map-peer, map-peer-spread: the same map, then building the same
//     Mailbox from the same line, as Lookup does.
//
// The figures, before and after the index's rewrite (issue 16), with the
// machine's load at the time, are in docs/performance.md.
func BenchmarkExtraction(b *testing.B) {
	path := filepath.Join(b.TempDir(), "Extraction_Correspondance_MSSante_202608250215.txt")
	f, err := os.Create(path)
	require.NoError(b, err)
	st, err := annuairetest.WriteExtraction(f, annuairetest.ExtractionOptions{Seed: 1})
	if err2 := f.Close(); err == nil {
		err = err2
	}
	require.NoError(b, err)
	var goRuns []float64 // ns/op of each load+index run (-count)
	b.Run("load+index", func(b *testing.B) {
		b.SetBytes(st.Bytes)
		b.ReportAllocs()
		for b.Loop() {
			ix, err := LoadIndexFile(context.Background(), path, LoadOptions{})
			require.NoError(b, err)
			if ix.Len() != st.Rows {
				b.Fatalf("%d rows indexed, want %d", ix.Len(), st.Rows)
			}
		}
		goRuns = append(goRuns, float64(b.Elapsed().Nanoseconds())/float64(b.N))
	})
	b.Run("python-csv", func(b *testing.B) {
		py := testenv.LookPath(b, "python3", "/usr/bin/python3")
		script := `import csv, sys, time
path, n = sys.argv[1], int(sys.argv[2])
total, rows = 0.0, 0
for _ in range(n):
    t = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as f:
        rows = sum(1 for _ in csv.reader(f, delimiter="|"))
    total += time.perf_counter() - t
print(total, rows)
`
		b.SetBytes(st.Bytes)
		out, err := exec.Command(py, "-c", script, path, strconv.Itoa(b.N)).Output()
		require.NoError(b, err, "python")
		var secs float64
		var rows int
		_, err = fmt.Sscan(string(out), &secs, &rows)
		require.NoError(b, err, "python printed %q (want rows with the header)", out)
		require.EqualValues(b, st.Rows+1, rows, "python printed %q (want rows with the header)", out)
		ns := secs * 1e9 / float64(b.N)
		b.ReportMetric(ns, "ns/op")
		b.ReportMetric(float64(st.Bytes)/secs*float64(b.N)/1e6, "MB/s")
		if len(goRuns) > 0 {
			// Against the median of the load+index runs so far (with
			// -count, all of them run before the first Python run), not
			// against the last one alone, which may be a noisy outlier.
			sorted := slices.Sorted(slices.Values(goRuns))
			b.ReportMetric(ns/sorted[len(sorted)/2], "x-slower-than-go")
		}
	})
	b.Run("peak-rss", func(b *testing.B) {
		exe, err := os.Executable()
		require.NoError(b, err)
		var hwm, elapsed float64
		for b.Loop() {
			cmd := exec.Command(exe, "-test.run=^TestLoadChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "MSS_ANNUAIRE_LOAD="+path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("child: %v\n%s", err, out)
			}
			kb, ns, ok := parseChild(string(out))
			if !ok {
				b.Fatalf("child printed %q", out)
			}
			hwm = max(hwm, kb)
			elapsed += ns
		}
		b.ReportMetric(hwm/1024, "peak-MB")
		b.ReportMetric(hwm*1024/float64(st.Bytes), "peak/file")
		b.ReportMetric(elapsed/float64(b.N)/1e6, "cold-load-ms")
	})
	ix, err := LoadIndexFile(context.Background(), path, LoadOptions{})
	require.NoError(b, err)
	// Lookups and searches are timed in batches (one op is the whole
	// batch) after a garbage collection and an untimed pass over the batch, so that a -benchtime of
	// a few iterations still times many calls, and not only the first
	// touch of the index; the per-call figure is reported as ns/lookup or
	// ns/search.
	// The addresses looked up are copies, as an address read from a
	// message would be: a substring of the index's own text would bring
	// the row's line into the cache before the lookup starts.
	var addrs, spread []string
	rng := rand.New(rand.NewPCG(1, 2))
	for m := range ix.All() {
		if rng.IntN(500) == 0 {
			addrs = append(addrs, strings.Clone(m.Address))
		}
		if rng.IntN(8) == 0 {
			spread = append(spread, strings.Clone(m.Address))
		}
	}
	rng.Shuffle(len(spread), func(i, j int) { spread[i], spread[j] = spread[j], spread[i] })
	// Let the collection started by the loads end before timing calls
	// of a few microseconds.
	runtime.GC()
	finds := func(addrs []string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for _, a := range addrs { // untimed warm-up pass
				ix.Find(a)
			}
			reps := max(1, 20000/len(addrs))
			for b.Loop() {
				for range reps {
					for _, a := range addrs {
						if _, ok := ix.Find(a); !ok {
							b.Fatal("not found")
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*len(addrs)), "ns/lookup")
		}
	}
	b.Run("find", finds(addrs))
	b.Run("find-spread", finds(spread))
	lookups := func(addrs []string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for _, a := range addrs { // untimed warm-up pass
				ix.Lookup(a)
			}
			reps := max(1, 20000/len(addrs)) // at least 20,000 lookups an op
			for b.Loop() {
				for range reps {
					for _, a := range addrs {
						if _, ok := ix.Lookup(a); !ok {
							b.Fatal("not found")
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*len(addrs)), "ns/lookup")
		}
	}
	// lookup: about 1,000 addresses in a loop, 20 times an op (their rows
	// stay in cache).
	b.Run("lookup", lookups(addrs))
	// lookup-spread: one row in 8 of the file, shuffled: most lookups
	// miss the processor caches, as on a server answering many senders.
	b.Run("lookup-spread", lookups(spread))
	// map-peer, map-peer-spread: the peer named by the issue, a plain Go
	// map from the lower-cased address to its first row, answering the
	// same lookups with the same Mailbox (ix.fill), in the same run.
	peer := make(map[string]int32, ix.Len())
	for i := range ix.n {
		if ix.live(i) {
			k := strings.ToLower(ix.field(i, fAddress))
			if _, ok := peer[k]; !ok {
				peer[k] = int32(i)
			}
		}
	}
	peerFinds := func(addrs []string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			var buf [maxAddress]byte
			for _, a := range addrs { // untimed warm-up pass
				_ = peer[string(ascii.AppendLower(buf[:0], a))]
			}
			reps := max(1, 20000/len(addrs))
			for b.Loop() {
				for range reps {
					for _, a := range addrs {
						if _, ok := peer[string(ascii.AppendLower(buf[:0], a))]; !ok {
							b.Fatal("not found")
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*len(addrs)), "ns/lookup")
		}
	}
	b.Run("map-peer-find", peerFinds(addrs))
	b.Run("map-peer-find-spread", peerFinds(spread))
	peerLookups := func(addrs []string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			var buf [maxAddress]byte
			var m annuaire.Mailbox
			reps := max(1, 20000/len(addrs))
			for b.Loop() {
				for range reps {
					for _, a := range addrs {
						i, ok := peer[string(ascii.AppendLower(buf[:0], a))]
						if !ok {
							b.Fatal("not found")
						}
						ix.fill(&m, int(i), ix.line(int(i)))
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*len(addrs)), "ns/lookup")
		}
	}
	b.Run("map-peer", peerLookups(addrs))
	b.Run("map-peer-spread", peerLookups(spread))
	queries := []string{"mar", "dup", "lef", "ber", "rob", "mor", "gar", "leg", "ch", "s", "dubois", "vin", "fa", "ri", "pet", "lamb"}
	b.Run("search-name", func(b *testing.B) {
		b.ReportAllocs()
		found := 0
		for _, q := range queries { // untimed warm-up pass
			for range ix.SearchName(q, "") {
				break
			}
		}
		const reps = 50 // 800 searches an op
		for b.Loop() {
			for range reps {
				for _, q := range queries {
					n := 0
					for range ix.SearchName(q, "") {
						n++
						if n == 20 {
							break
						}
					}
					found += n
				}
			}
		}
		if found == 0 {
			b.Fatal("no name found")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*reps*len(queries)), "ns/search")
	})
	// listings-first-use: the listings are built on first use, not by
	// LoadIndexFile; this is the cost of that first use, each listing
	// from scratch (ns/op: the four).
	b.Run("listings-first-use", func(b *testing.B) {
		var ms [4]time.Duration
		for b.Loop() {
			ix.listings = [numListings]lazyChain{}
			for k, seq := range []func() iter.Seq[annuaire.Mailbox]{
				func() iter.Seq[annuaire.Mailbox] { return ix.ByProfession("10") },
				func() iter.Seq[annuaire.Mailbox] { return ix.ByPostalCode("75010") },
				func() iter.Seq[annuaire.Mailbox] { return ix.ByDepartment("69") },
				func() iter.Seq[annuaire.Mailbox] { return ix.ByDomain("medecin.mssante.fr") },
			} {
				start := time.Now()
				for range seq() {
					break
				}
				ms[k] += time.Since(start)
			}
		}
		for k, name := range []string{"profession-ms", "postal-ms", "department-ms", "domain-ms"} {
			b.ReportMetric(float64(ms[k].Milliseconds())/float64(b.N), name)
		}
	})
}

// parseChild reads "VmHWM <kB> elapsed <ns>" from the child's output.
func parseChild(out string) (kb, ns float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var a, b float64
		if n, _ := fmt.Sscanf(sc.Text(), "annuaire-child VmHWM %g elapsed %g", &a, &b); n == 2 {
			return a, b, true
		}
	}
	return 0, 0, false
}

// TestLoadChild is the child process of the peak-rss benchmark: it loads
// the file named by MSS_ANNUAIRE_LOAD and prints its peak resident set.
// Without the variable it does nothing.
func TestLoadChild(t *testing.T) {
	path := os.Getenv("MSS_ANNUAIRE_LOAD")
	if path == "" {
		t.Skip("child of BenchmarkExtraction/peak-rss only")
	}
	start := time.Now()
	ix, err := LoadIndexFile(context.Background(), path, LoadOptions{})
	require.NoError(t, err)
	elapsed := time.Since(start)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			fmt.Printf("annuaire-child VmHWM %g elapsed %d\n", kb, elapsed.Nanoseconds())
		}
	}
	if ix.Len() == 0 {
		t.Fatal("empty index")
	}
}
