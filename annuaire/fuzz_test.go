package annuaire

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzExtractionLine feeds arbitrary lines under the real header: every line
// is either returned as a row or reported as a *LineError with its line
// number; nothing is lost, and the index agrees with the reader.
func FuzzExtractionLine(f *testing.F) {
	data, err := os.ReadFile(fixtureOld)
	if err != nil {
		f.Fatal(err)
	}
	header, body, _ := strings.Cut(string(data), "\n")
	for _, l := range strings.Split(body, "\n")[:5] {
		f.Add(l)
	}
	f.Add("PER|a@b|||||||||||||||||||||||||||||||||||||")
	f.Add("XYZ|a@b")
	f.Add("PER|a@@b")
	f.Add("PER|\xff@b|8|1|81")
	f.Add("\r")
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return
		}
		in := header + "\n" + line + "\n" + line + "\n"
		x, err := NewExtractionReader(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		rows, bad := 0, 0
		for {
			m, err := x.Next()
			if err == io.EOF {
				break
			}
			var le *LineError
			if errors.As(err, &le) {
				if le.Line < 2 || le.Line > 3 || !strings.Contains(le.Error(), "line") {
					t.Fatalf("line error %v", le)
				}
				bad++
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := SplitAddress(m.Address); err != nil {
				t.Fatalf("row with a bad address %q", m.Address)
			}
			rows++
		}
		blank := strings.TrimSuffix(line, "\r") == ""
		if !blank && rows+bad != 2 {
			t.Fatalf("%d rows + %d errors for 2 lines", rows, bad)
		}
		ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		rep := ix.Report()
		if rep.ErrorCount != bad {
			t.Fatalf("index: %d errors, reader %d", rep.ErrorCount, bad)
		}
		if want := min(rows, 1); ix.Len() != want || rep.Mailboxes != want {
			t.Fatalf("index holds %d rows, %d mailboxes, want %d (the second line duplicates the first)", ix.Len(), rep.Mailboxes, want)
		}
		total := 0
		for _, n := range ix.Domains() {
			total += n
		}
		if total != rep.Mailboxes {
			t.Fatalf("Domains adds up to %d, Mailboxes %d", total, rep.Mailboxes)
		}
		for m := range ix.All() {
			if got, ok := ix.Lookup(m.Address); !ok || got != m {
				t.Fatalf("Lookup(%q) = %v %v", m.Address, ok, got)
			}
			if m.Owner.Family != "" {
				found := false
				for n := range ix.SearchName(m.Owner.Family, m.Owner.Given) {
					found = found || n == m
				}
				// A family name of control characters only folds to nothing
				// and is not searchable; any other is, whatever its length.
				if !found && len(appendFolded(nil, m.Owner.Family, maxFoldedName)) > 0 {
					t.Fatalf("SearchName(%q, %q) misses the row", m.Owner.Family, m.Owner.Given)
				}
			}
		}
	})
}
