// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/stretchr/testify/require"
)

// FuzzExtractionLine feeds arbitrary lines under the real header: every line
// is either returned as a row or reported as a *LineError with its line
// number; nothing is lost, and the index agrees with the reader.
func FuzzExtractionLine(f *testing.F) {
	data, err := os.ReadFile(fixtureOld)
	require.NoError(f, err)
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
		require.NoError(t, err)
		rows, bad := 0, 0
		for {
			m, err := x.Next()
			if err == io.EOF {
				break
			}
			var le *LineError
			if errors.As(err, &le) {
				require.GreaterOrEqual(t, le.Line, 2, "%v", le)
				require.LessOrEqual(t, le.Line, 3, "%v", le)
				require.Contains(t, le.Error(), "line", "the message names the line")
				bad++
				continue
			}
			require.NoError(t, err)
			_, _, err = annuaire.SplitAddress(m.Address)
			require.NoError(t, err, "row with a bad address %q", m.Address)
			rows++
		}
		blank := strings.TrimSuffix(line, "\r") == ""
		if !blank {
			require.Equal(t, 2, rows+bad, "%d rows + %d errors for 2 lines", rows, bad)
		}
		ix, err := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{Workers: 2})
		require.NoError(t, err)
		rep := ix.Report()
		require.Equal(t, bad, rep.ErrorCount, "index errors against the reader's")
		want := min(rows, 1) // the second line duplicates the first
		require.Equal(t, want, ix.Len(), "rows")
		require.Equal(t, want, rep.Mailboxes, "mailboxes")
		total := 0
		for _, n := range ix.Domains() {
			total += n
		}
		require.Equal(t, rep.Mailboxes, total, "Domains adds up to Mailboxes")
		for m := range ix.All() {
			got, ok := ix.Lookup(m.Address)
			require.True(t, ok, "Lookup(%q)", m.Address)
			require.Equal(t, m, got, "Lookup(%q)", m.Address)
			if m.Owner.Family != "" {
				found := false
				for n := range ix.SearchName(m.Owner.Family, m.Owner.Given) {
					found = found || n == m
				}
				// A family name of control characters only folds to nothing
				// and is not searchable; any other is, whatever its length.
				if len(appendFolded(nil, m.Owner.Family, maxFoldedName)) > 0 {
					require.True(t, found, "SearchName(%q, %q) misses the row", m.Owner.Family, m.Owner.Given)
				}
			}
		}
	})
}

// FuzzExtractionTruncated feeds arbitrary text after the real header, with
// or without a final newline: the reader and the index agree on whether
// the file was cut (ErrTruncated), and on the addresses read; a cut file
// gives no row of its last line, and a file ending in a newline is never
// taken as cut.
func FuzzExtractionTruncated(f *testing.F) {
	data, err := os.ReadFile(fixtureOld)
	require.NoError(f, err)
	header, body, _ := strings.Cut(string(data), "\n")
	for _, n := range []int{0, 40, 180, len(body) - 200, len(body) - 8, len(body) - 1, len(body)} {
		f.Add(body[:n])
	}
	f.Add(body[:strings.LastIndex(body, "noel.doe@phar")+len("noel.doe@phar")])
	f.Add("PER|a@b.fr|" + strings.Repeat("|", 28) + "FRAN\xc3")
	f.Add("\r\n\r")
	f.Fuzz(func(t *testing.T, tail string) {
		in := header + "\n" + tail
		lastLine := strings.Count(in, "\n") + 1 // the line after the last newline
		x, err := NewExtractionReader(strings.NewReader(in))
		require.NoError(t, err)
		addrs := map[string]bool{}
		var rerr error
		for {
			m, err := x.Next()
			if err == io.EOF {
				break
			}
			if IsLineError(err) {
				continue
			}
			if err != nil {
				rerr = err
				require.ErrorIs(t, err, ErrTruncated)
				require.Contains(t, err.Error(), "line "+strconv.Itoa(lastLine)+", the last")
				continue
			}
			if rerr == nil {
				addrs[m.Address] = true
			}
			require.Nil(t, rerr, "a row after the truncation")
			if m.Line == lastLine {
				require.False(t, strings.HasSuffix(in, "\n"))
			}
		}
		if strings.HasSuffix(in, "\n") {
			require.NoError(t, rerr, "a file ending in a newline")
		}
		ix, ierr := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{Workers: 2})
		require.Equal(t, errors.Is(rerr, ErrTruncated), errors.Is(ierr, ErrTruncated), "reader %v, index %v", rerr, ierr)
		if ierr != nil {
			require.Equal(t, rerr.Error(), ierr.Error())
			return
		}
		got := map[string]bool{}
		for m := range ix.All() {
			got[m.Address] = true
		}
		require.Equal(t, addrs, got, "addresses read")
	})
}
