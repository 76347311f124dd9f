// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
)

func loadFixture(t testing.TB, path string) *Index {
	t.Helper()
	ix, err := LoadIndexFile(context.Background(), path, LoadOptions{})
	require.NoError(t, err)
	return ix
}

func addrsOf(seq func(func(annuaire.Mailbox) bool)) []string {
	var out []string
	for m := range seq {
		out = append(out, m.Address)
	}
	return out
}

func TestIndexFixture(t *testing.T) {
	ix := loadFixture(t, fixtureOld)
	rep := ix.Report()
	// 22 lines: one duplicate row, one address on two rows (two structures).
	assert.Equal(t, 22, rep.Lines, "lines")
	assert.Equal(t, 21, rep.Rows, "rows")
	assert.Equal(t, 21, ix.Len(), "Len")
	assert.Equal(t, 20, rep.Mailboxes, "mailboxes")
	assert.Equal(t, 20, rep.Addresses, "addresses")
	assert.Equal(t, 1, rep.Tolerated.Duplicates, "duplicates")
	assert.Zero(t, rep.ErrorCount, "errors")
	want := time.Date(2026, 8, 25, 2, 15, 0, 0, time.FixedZone("CEST", 2*3600))
	assert.True(t, ix.Generated().Equal(want), "Generated %v, want %v", ix.Generated(), want)

	// Exact lookup, case-insensitive.
	m, ok := ix.Lookup("PAUL.MARTIN-TEST@CH-EXEMPLE.MSSANTE.FR")
	if assert.True(t, ok, "Lookup upper case") {
		assert.Equal(t, "Paul.Martin-Test@ch-exemple.mssante.fr", m.Address)
		assert.Equal(t, "MARTIN-TEST", m.Owner.Family)
		assert.Equal(t, 11, m.Line)
	}
	_, ok = ix.Lookup("inconnu@medecin.mssante.fr")
	assert.False(t, ok, "Lookup found an unknown address")
	// One mailbox linked to two structures: two rows, first one by Lookup.
	all := ix.LookupAll("raphael.cab@clinique-hélios.mssante.fr")
	if len(all) != 2 || all[0].Structure.Name != "CLINIQUE HELIOS (FICTIVE)" || all[1].Structure.Name != "CABINET MEDICAL EXEMPLE" {
		t.Errorf("LookupAll shared address: %+v", all)
	}
	// Identical duplicate row indexed once.
	if all := ix.LookupAll("noel.doe@pharmacien.mssante.fr"); len(all) != 1 {
		t.Errorf("duplicate row: %d rows", len(all))
	}

	// By identifier: RPPS, IDNPS, ADELI.
	if got := ix.ByID("10000000025"); len(got) != 1 || got[0].Address != "heloise.fictif@medecin.mssante.fr" {
		t.Errorf("ByID(RPPS) = %v", got)
	}
	if got := ix.ByID("810000000025"); len(got) != 1 || got[0].Owner.Given != "Héloïse" {
		t.Errorf("ByID(IDNPS) = %v", got)
	}
	if got := ix.ByID("750000010"); len(got) != 1 || got[0].Owner.Family != "ADELI" {
		t.Errorf("ByID(ADELI) = %v", got)
	}
	if got := ix.ByID("10000000132"); len(got) != 2 {
		t.Errorf("ByID of the practitioner with two structures: %d rows", len(got))
	}

	// Names: accents, case, ligature, apostrophe, prefix, given filter.
	for _, tc := range []struct {
		family, given string
		want          []string
	}{
		{"exemple", "", []string{"jeanne.exemple@medecin.mssante.fr", "marie.exemple@ch-exemple.mssante.fr"}},
		{"EXEMPLE", "mar", []string{"marie.exemple@ch-exemple.mssante.fr"}},
		{"fictif", "heloise", []string{"heloise.fictif@medecin.mssante.fr"}},
		{"Fictif", "Hélo", []string{"heloise.fictif@medecin.mssante.fr"}},
		{"oeuvre", "zoe", []string{"zoe.oeuvre@infirmier.mssante.fr"}},
		{"d’alm", "", []string{"agnes.dalmeida@masseur-kinesitherapeute.mssante.fr"}},
		{"lefevre", "jerome", []string{"jerome.lefevre@chirurgien-dentiste.mssante.fr"}},
		{"le g", "", []string{"camille.legall@sage-femme.mssante.fr"}},
		{"zzz", "", nil},
		{"", "jeanne", nil},
	} {
		if got := addrsOf(ix.SearchName(tc.family, tc.given)); !slices.Equal(got, tc.want) {
			t.Errorf("SearchName(%q, %q) = %q, want %q", tc.family, tc.given, got, tc.want)
		}
	}

	// Listings.
	if got := addrsOf(ix.ByProfession("21")); !slices.Equal(got, []string{"noel.doe@pharmacien.mssante.fr"}) {
		t.Errorf("ByProfession(21) = %q", got)
	}
	if got := addrsOf(ix.ByPostalCode("13005")); len(got) != 6 {
		t.Errorf("ByPostalCode(13005): %d rows, want 6: %q", len(got), got)
	}
	if got := addrsOf(ix.ByDepartment("2A")); !slices.Equal(got, []string{"hugo.corse@medecin.mssante.fr"}) {
		t.Errorf("ByDepartment(2A) = %q", got)
	}
	if got := addrsOf(ix.ByDepartment("974")); !slices.Equal(got, []string{"ines.reunion@medecin.mssante.fr"}) {
		t.Errorf("ByDepartment(974) = %q", got)
	}
	if got := addrsOf(ix.ByDomain("CH-Exemple.MSSante.fr")); len(got) != 4 {
		t.Errorf("ByDomain: %q", got)
	}
	// clinique-hélios: raphael.cab on two rows, and labo: two mailboxes.
	if d := ix.Domains(); d["medecin.mssante.fr"] != 6 || d["clinique-hélios.mssante.fr"] != 2 {
		t.Errorf("Domains: %v", d)
	}
}

func TestIndexReportsMalformedLines(t *testing.T) {
	ix := loadFixture(t, "testdata/extraction_tolerance.txt")
	rep := ix.Report()
	var lines []int
	for _, e := range rep.Errors {
		lines = append(lines, e.Line)
	}
	if !slices.Equal(lines, []int{3, 4, 9}) || rep.ErrorCount != 3 {
		t.Errorf("error lines %v (count %d), want [3 4 9]", lines, rep.ErrorCount)
	}
	assert.EqualValues(t, 4, rep.Rows, "report")
	assert.EqualValues(t, 4, rep.Mailboxes, "report")
	assert.EqualValues(t, 1, rep.Tolerated.ShortRows, "report")
	assert.EqualValues(t, 1, rep.Tolerated.LongRows, "report")
	assert.EqualValues(t, 1, rep.Tolerated.BadChecksum, "report")
	m, ok := ix.Lookup("ok.six@medecin.mssante.fr")
	assert.True(t, ok, "long row")
	assert.EqualValues(t, "Émile", m.Owner.Given, "long row")
	assert.EqualValues(t, 8, m.Line, "long row")
	// MaxErrors bounds the list, not the count.
	data, _ := os.ReadFile("testdata/extraction_tolerance.txt")
	ix2, err := LoadIndex(context.Background(), bytes.NewReader(data), LoadOptions{MaxErrors: 1})
	require.NoError(t, err)
	if r := ix2.Report(); len(r.Errors) != 1 || r.ErrorCount != 3 {
		t.Errorf("MaxErrors 1: %d kept, %d counted", len(r.Errors), r.ErrorCount)
	}
}

// TestIndexAgreesWithReader loads a generated extraction both ways and
// checks every lookup against a brute-force answer from the streaming reader.
func TestIndexAgreesWithReader(t *testing.T) {
	var buf bytes.Buffer
	st, err := annuairetest.WriteExtraction(&buf, annuairetest.ExtractionOptions{Rows: 6000, Domains: 300, Seed: 7})
	require.NoError(t, err)
	data := buf.Bytes()
	rows, errs, _ := readAll(t, bytes.NewReader(data))
	if len(errs) != 0 || len(rows) != st.Rows {
		t.Fatalf("reader: %d rows, %d errors; generator wrote %d", len(rows), len(errs), st.Rows)
	}
	for _, w := range []int{1, 2, 3, 7} {
		ix, err := LoadIndex(context.Background(), bytes.NewReader(data), LoadOptions{Workers: w})
		require.NoError(t, err)
		require.Equal(t, len(rows), ix.Len(), "workers %d: rows indexed", w)
		require.Equal(t, len(rows)-st.SharedAddrs, ix.Report().Addresses, "workers %d: addresses", w)
		byAddr := map[string][]annuaire.Mailbox{}
		byID := map[string][]annuaire.Mailbox{}
		for _, m := range rows {
			k := strings.ToLower(m.Address)
			byAddr[k] = append(byAddr[k], m)
			if m.Owner.IDNPS != "" {
				byID[m.Owner.IDNPS] = append(byID[m.Owner.IDNPS], m)
			}
		}
		for i, m := range rows {
			if i%7 != 0 && w != 2 {
				continue
			}
			want := byAddr[strings.ToLower(m.Address)]
			got := ix.LookupAll(strings.ToUpper(m.Address))
			if !slices.Equal(got, want) {
				t.Fatalf("workers %d: LookupAll(%s) = %v, want %v", w, m.Address, got, want)
			}
			r, ok := ix.Find(strings.ToUpper(m.Address))
			require.True(t, ok, "workers %d: Find(%s)", w, m.Address)
			require.Equal(t, want[0], r.Mailbox(), "workers %d: Find(%s) is the first row", w, m.Address)
			require.Equal(t, want[0].Address, r.Address(), "Row.Address as written")
			require.Equal(t, want[0].Line, r.Line())
			if m.Owner.ID != "" {
				if got := ix.ByID(m.Owner.ID); !slices.Equal(got, byID[m.Owner.IDNPS]) {
					t.Fatalf("ByID(%s) = %d rows, want %d", m.Owner.ID, len(got), len(byID[m.Owner.IDNPS]))
				}
			}
		}
		if all := slices.Collect(ix.All()); !slices.Equal(all, rows) {
			t.Fatalf("workers %d: All differs from the reader", w)
		}
		// Name search against a brute-force scan.
		for _, q := range [][2]string{{"MAR", ""}, {"martin", "j"}, {"lef", ""}, {"BA", "é"}, {"d'", ""}, {"LE ", ""}} {
			qf, qg := foldString(q[0]), foldString(q[1])
			var want []annuaire.Mailbox
			for _, m := range rows {
				if strings.HasPrefix(foldString(m.Owner.Family), qf) && strings.HasPrefix(foldString(m.Owner.Given), qg) && m.Owner.Family != "" {
					want = append(want, m)
				}
			}
			got := slices.Collect(ix.SearchName(q[0], q[1]))
			if len(got) != len(want) {
				t.Fatalf("SearchName(%q, %q): %d rows, brute force %d", q[0], q[1], len(got), len(want))
			}
			for k := 1; k < len(got); k++ {
				a := foldString(got[k-1].Owner.Family) + "\x01" + foldString(got[k-1].Owner.Given)
				b := foldString(got[k].Owner.Family) + "\x01" + foldString(got[k].Owner.Given)
				if a > b {
					t.Fatalf("SearchName(%q) out of order: %q before %q", q[0], a, b)
				}
			}
		}
		// Listings against brute force.
		count := func(pred func(annuaire.Mailbox) bool) int {
			n := 0
			for _, m := range rows {
				if pred(m) {
					n++
				}
			}
			return n
		}
		if got, want := len(slices.Collect(ix.ByProfession("10"))), count(func(m annuaire.Mailbox) bool { return m.Owner.Profession.Code == "10" }); got != want {
			t.Fatalf("ByProfession(10) %d, want %d", got, want)
		}
		if got, want := len(slices.Collect(ix.ByDepartment("2B"))), count(func(m annuaire.Mailbox) bool { return m.Structure.Department == "2B" }); got != want || want == 0 {
			t.Fatalf("ByDepartment(2B) %d, want %d", got, want)
		}
		// ByDomain gives each mailbox once.
		medecin := map[string]bool{}
		for _, m := range rows {
			if strings.HasSuffix(m.Address, "@medecin.mssante.fr") {
				medecin[strings.ToLower(m.Address)] = true
			}
		}
		if got, want := len(slices.Collect(ix.ByDomain("medecin.mssante.fr"))), len(medecin); got != want || want == 0 {
			t.Fatalf("ByDomain %d, want %d", got, want)
		}
	}
}

func TestIndexCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := LoadIndexFile(ctx, fixtureOld, LoadOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestIndexReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("Adresse BAL\na@b.fr\n"), errReader{boom})
	_, err := LoadIndex(context.Background(), r, LoadOptions{})
	assert.ErrorIs(t, err, boom, "the reader's error")
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestGeneratedFromName(t *testing.T) {
	g := GeneratedFromName("/x/Extraction_Correspondance_MSSante_202601151230.txt")
	assert.EqualValues(t, 2026, g.Year(), "got")
	assert.EqualValues(t, 12, g.Hour(), "got")
	assert.EqualValues(t, 30, g.Minute(), "got")
	for _, n := range []string{"extraction.txt", "a_2026.txt", "Extraction_Correspondance_MSSante_20260115123x.txt"} {
		if g := GeneratedFromName(n); !g.IsZero() {
			t.Errorf("%s: %v, want zero", n, g)
		}
	}
}

func TestCompareAndDirectorySwap(t *testing.T) {
	oldIx, newIx := loadFixture(t, fixtureOld), loadFixture(t, fixtureNew)
	d := Compare(oldIx, newIx)
	addrs := func(cs []Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Address)
		}
		return out
	}
	if got := addrs(d.Created); !slices.Equal(got, []string{"nouveau.confrere@medecin.mssante.fr"}) {
		t.Errorf("created %q", got)
	}
	if got := addrs(d.Deleted); !slices.Equal(got, []string{"zoe.oeuvre@infirmier.mssante.fr"}) {
		t.Errorf("deleted %q", got)
	}
	if len(d.Changed) != 1 || d.Changed[0].Address != "heloise.fictif@medecin.mssante.fr" ||
		!slices.Equal(d.Changed[0].Fields, []string{"Dématérialisation"}) {
		t.Errorf("changed %+v", d.Changed)
	}
	// Line numbers moved (a row was removed above some rows) but nothing
	// else changed for them: not reported.
	if back := Compare(newIx, oldIx); len(back.Created) != 1 || len(back.Deleted) != 1 || len(back.Changed) != 1 {
		t.Errorf("reverse diff %d/%d/%d, want 1/1/1", len(back.Created), len(back.Deleted), len(back.Changed))
	}

	var dir Directory
	if _, ok := dir.Lookup("nouveau.confrere@medecin.mssante.fr"); ok {
		t.Error("zero Directory found an address")
	}
	if _, err := dir.LoadFile(context.Background(), fixtureNew, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := dir.LoadFile(context.Background(), fixtureOld, LoadOptions{})
	assert.ErrorIs(t, err, ErrOlder, "older reload")
	if _, ok := dir.Lookup("nouveau.confrere@medecin.mssante.fr"); !ok {
		t.Error("the newer index was replaced by the older one")
	}
}

// TestDirectorySwapUnderLoad swaps indexes while lookups run (go test -race).
func TestDirectorySwapUnderLoad(t *testing.T) {
	a, b := loadFixture(t, fixtureOld), loadFixture(t, fixtureNew)
	a.generated, b.generated = time.Time{}, time.Time{}
	var dir Directory
	require.NoError(t, dir.Swap(a))
	done := make(chan struct{})
	errc := make(chan string, 1)
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			m, ok := dir.Lookup("jeanne.exemple@medecin.mssante.fr")
			if !ok || m.Owner.Family != "EXEMPLE" {
				errc <- "lookup failed during swaps"
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		ix := a
		if i%2 == 1 {
			ix = b
		}
		require.NoError(t, dir.Swap(ix))
	}
	<-done
	select {
	case e := <-errc:
		t.Fatal(e)
	default:
	}
}

// TestIndexEmptyAndNameless: a header alone (with its newline: without it
// the file is taken as cut, see TestFinalLineRule) and rows without names.
func TestIndexEmptyAndNameless(t *testing.T) {
	for _, in := range []string{
		"Type de BAL|Adresse BAL\n",
		"Type de BAL|Adresse BAL\r\n",
		"Type de BAL|Adresse BAL|Nom d'exercice\nORG|a@b.mssante.fr|\n",
		"Type de BAL|Adresse BAL|Nom d'exercice\nPER|a@b.mssante.fr|SEUL\n",
	} {
		ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{})
		require.NoError(t, err, "%q", in)
		n := strings.Count(in, "@")
		if ix.Len() != n {
			t.Errorf("%q: %d rows, want %d", in, ix.Len(), n)
		}
		if got := addrsOf(ix.SearchName("seul", "")); len(got) != strings.Count(in, "SEUL") {
			t.Errorf("%q: SearchName = %q", in, got)
		}
	}
}

// TestSearchNameLongNames: the index keeps the first maxFoldedName folded
// bytes of "FAMILY\x01GIVEN"; a row whose name is longer is still found by
// its whole name, and by a query that differs from it only past the cut
// (found by FuzzExtractionLine: family "R", a given name of 300 letters).
func TestSearchNameLongNames(t *testing.T) {
	long := strings.Repeat("D", 300)
	fam253 := strings.Repeat("F", 253)
	in := "Type de BAL|Adresse BAL|Nom d'exercice|Prénom d'exercice\n" +
		"PER|a@b.mssante.fr|R|" + long + "\n" +
		"PER|c@b.mssante.fr|" + fam253 + "|Xavier\n" +
		"PER|d@b.mssante.fr|R|DD\n"
	ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{})
	require.NoError(t, err)
	for _, tc := range []struct {
		family, given string
		want          []string
	}{
		{"R", long, []string{"a@b.mssante.fr"}},
		{"r", long + "E", []string{"a@b.mssante.fr"}}, // differs past the cut
		{"R", "DD", []string{"d@b.mssante.fr", "a@b.mssante.fr"}},
		{"R", "DDD", []string{"a@b.mssante.fr"}},
		{"R", strings.Repeat("D", 250) + "E", nil}, // differs before the cut
		{fam253, "Xavier", []string{"c@b.mssante.fr"}},
		{fam253, "Y", []string{"c@b.mssante.fr"}}, // no room kept for the given name
		{fam253 + "G", "", nil},
	} {
		got := addrsOf(ix.SearchName(tc.family, tc.given))
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("SearchName(%.10q…, %.10q…) = %q, want %q", tc.family, tc.given, got, want)
		}
	}
}

// Listings by domain with domains written in capitals: each domain keeps
// its own rows (found by a review: the map kept a key that the next
// capitalised domain overwrote, and ByDomain mixed domains up).
func TestByDomainCapitalisedDomains(t *testing.T) {
	in := "Type de BAL|Adresse BAL|Nom d'exercice\n" +
		"PER|x@ZZZZZZ.mssante.fr|X\n" +
		"PER|a@UC-CMP.mssante.fr|A\n" +
		"PER|b@UC-CMP.mssante.fr|B\n" +
		"PER|c@lower.mssante.fr|C\n"
	ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{})
	require.NoError(t, err)
	for dom, want := range map[string][]string{
		"zzzzzz.mssante.fr": {"x@ZZZZZZ.mssante.fr"},
		"uc-cmp.mssante.fr": {"a@UC-CMP.mssante.fr", "b@UC-CMP.mssante.fr"},
		"lower.mssante.fr":  {"c@lower.mssante.fr"},
	} {
		got := addrsOf(ix.ByDomain(dom))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("ByDomain(%s) = %q, want %q", dom, got, want)
		}
	}
	if d := ix.Domains(); d["uc-cmp.mssante.fr"] != 2 || d["zzzzzz.mssante.fr"] != 1 || len(d) != 3 {
		t.Errorf("Domains() = %v", d)
	}
}

// Swapping in no index is refused; the current one stays.
func TestDirectorySwapNil(t *testing.T) {
	var dir Directory
	ix, err := LoadIndex(context.Background(), strings.NewReader("Type de BAL|Adresse BAL\nPER|a@b.mssante.fr\n"), LoadOptions{})
	require.NoError(t, err)
	require.NoError(t, dir.Swap(ix))
	assert.Error(t, dir.Swap(nil), "Swap(nil) accepted")
	_, ok := dir.Lookup("a@b.mssante.fr")
	assert.True(t, ok, "the current index was lost")
}

// A duplicate of the second row of an address (not of its first) is still
// a duplicate: each earlier row of the address is compared, not only the
// first one met in the table.
func TestDuplicateOfLaterRow(t *testing.T) {
	in := "Type de BAL|Adresse BAL|Raison Sociale structure BAL\n" +
		"PER|a@b.mssante.fr|X\n" +
		"PER|A@b.mssante.fr|Y\n" +
		"PER|c@b.mssante.fr|X\n" +
		"PER|A@b.mssante.fr|Y\n" +
		"PER|a@b.mssante.fr|Z\n"
	ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{})
	require.NoError(t, err)
	rep := ix.Report()
	assert.Equal(t, 1, rep.Tolerated.Duplicates)
	assert.Equal(t, 4, rep.Rows)
	assert.Equal(t, 2, rep.Mailboxes)
	var lines []int
	for _, m := range ix.LookupAll("A@B.MSSANTE.FR") {
		lines = append(lines, m.Line)
	}
	assert.Equal(t, []int{2, 3, 6}, lines, "rows of the address in file order, the duplicate left out")
	m, ok := ix.Lookup("a@B.mssante.fr")
	require.True(t, ok)
	assert.Equal(t, 2, m.Line, "Lookup gives the first row")
	assert.Equal(t, map[string]int{"b.mssante.fr": 2}, ix.Domains(), "two mailboxes")
	assert.Equal(t, []string{"a@b.mssante.fr", "c@b.mssante.fr"}, addrsOf(ix.ByDomain("b.mssante.fr")), "each mailbox by its first row")
}

// TestFindComparesTheWholeAddress: Find compares the address where the row
// holds it, up to the next column; an address that is a prefix or an
// extension of a listed one is not found, whatever its case, and the zero
// Row answers nothing.
func TestFindComparesTheWholeAddress(t *testing.T) {
	hdr := "Type BAL|Adresse BAL|Nom d'exercice|Prénom d'exercice\n"
	data := hdr + "PER|Jean.Dupont@medecin.mssante.fr|DUPONT|Jean\n" +
		"PER|jean.dupont@medecin.mssante.fr.x|DUPONT|Jeanne\n" +
		"PER|an@medecin.mssante.fr\n"
	ix, err := LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{})
	require.NoError(t, err)
	// Without its newline the last line may be a cut one: the address at
	// the end of the file is refused, not indexed (see TestTruncated).
	_, err = LoadIndex(context.Background(), strings.NewReader(strings.TrimSuffix(data, "\n")), LoadOptions{})
	require.ErrorIs(t, err, ErrTruncated)
	for addr, want := range map[string]int{
		"jean.dupont@medecin.mssante.fr":   2,
		"JEAN.DUPONT@MEDECIN.MSSANTE.FR":   2,
		"jean.dupont@medecin.mssante.fr.x": 3,
		"an@medecin.mssante.fr":            4, // the last column of the last line, up to its newline
		"jean.dupont@medecin.mssante.f":    0,
		"jean.dupont@medecin.mssante.fr.":  0,
		"jean.dupont@medecin.mssante.fr|":  0,
		"n@medecin.mssante.fr":             0,
		"":                                 0,
	} {
		r, ok := ix.Find(addr)
		assert.Equal(t, want != 0, ok, "Find(%q)", addr)
		assert.Equal(t, want, r.Line(), "Find(%q)", addr)
		if ok {
			assert.True(t, strings.EqualFold(addr, r.Address()), "Find(%q).Address() = %q", addr, r.Address())
		}
	}
	var zero Row
	assert.Empty(t, zero.Address())
	assert.Zero(t, zero.Line())
	assert.Equal(t, annuaire.Mailbox{}, zero.Mailbox())
	var nilIndex *Index
	_, ok := nilIndex.Find("a@b.fr")
	assert.False(t, ok)
}

// TestSlotKeyIs: a slot's key is compared up to the next "|" or the end of
// the line, without ASCII case; a lookup of a prefix or an extension of the
// key fails even when the tags of their hashes agree (this is what Find
// relies on after the tag check).
func TestSlotKeyIs(t *testing.T) {
	data := "xx|PER|A.b@c.fr|Z\nPER|last@c.fr"
	mid := slot{rec: 1, off: 3, n: uint16(strings.IndexByte(data, '\n') - 3), at: 4}
	end := slot{rec: 2, off: uint32(strings.IndexByte(data, '\n') + 1), n: uint16(len("PER|last@c.fr")), at: 4}
	require.Equal(t, "PER|A.b@c.fr|Z", mid.line(data))
	require.Equal(t, "A.b@c.fr", mid.key(data))
	require.Equal(t, "last@c.fr", end.key(data))
	for k, want := range map[string]bool{"a.b@c.fr": true, "A.B@C.FR": true, "A.b@c.f": false, "A.b@c.fr|": false, "A.b@c.fr|Z": false, "": false, ".b@c.fr": false} {
		assert.Equal(t, want, mid.keyIs(data, k), "mid %q", k)
	}
	for k, want := range map[string]bool{"LAST@c.fr": true, "last@c.f": false, "last@c.frx": false} {
		assert.Equal(t, want, end.keyIs(data, k), "end %q", k)
	}
}
