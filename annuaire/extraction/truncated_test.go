// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
)

// readCut reads data with the streaming reader to the end: its rows, and
// the error that ended it (nil at io.EOF). A *LineError fails the test:
// no cut of a clean fixture makes a malformed line that is not reported as
// a truncation.
func readCut(t *testing.T, data string) ([]annuaire.Mailbox, error) {
	t.Helper()
	x, err := NewExtractionReader(strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	var rows []annuaire.Mailbox
	for {
		m, err := x.Next()
		if err == io.EOF {
			return rows, nil
		}
		require.False(t, IsLineError(err), "%v", err)
		if err != nil {
			require.ErrorIs(t, err, ErrTruncated)
			assert.False(t, IsLineError(err), "a truncation is not a line error")
			_, again := x.Next()
			require.Equal(t, io.EOF, again, "after the truncation")
			return rows, err
		}
		rows = append(rows, m)
	}
}

// TestTruncatedEveryOffset cuts the fixtures (as published, and with CRLF
// ends of line) at every byte offset of the header and of the last row,
// and at one in four of the other rows and every one near their end, and
// reads each cut with the reader and the index:
//
//   - no row has an address other than the whole file's row of that line,
//     and every row but an unterminated last one is that row exactly;
//   - a cut inside a line, before its last value is whole, is ErrTruncated
//     (so every cut inside the last row, whose last value, FRANCE, is on
//     earlier rows, and every cut before an earlier row's last column);
//   - a cut at a line boundary is a whole, shorter file, and a cut that
//     leaves the last line's content whole (its newline, or "\n" of
//     "\r\n", missing) reads that line;
//   - the index agrees with the reader: same error sentinel, same rows.
//
// Before the fix the file cut at "noel.doe@phar" gave that address.
func TestTruncatedEveryOffset(t *testing.T) {
	for _, path := range []string{fixtureOld, fixtureNew} {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, eol := range []string{"\n", "\r\n"} {
			full := strings.ReplaceAll(string(raw), "\n", eol)
			t.Run(filepath.Base(path)+map[string]string{"\n": " LF", "\r\n": " CRLF"}[eol], func(t *testing.T) {
				checkEveryOffset(t, full, eol)
			})
		}
	}
}

func checkEveryOffset(t *testing.T, full, eol string) {
	want, err := readCut(t, full)
	require.NoError(t, err)
	byLine := map[int]annuaire.Mailbox{}
	for _, m := range want {
		byLine[m.Line] = m
	}
	lines := strings.SplitAfter(full, "\n") // each with its end of line
	require.Equal(t, "", lines[len(lines)-1], "the fixture ends with a newline")
	lines = lines[:len(lines)-1]
	require.Len(t, want, len(lines)-1, "one row a line after the header")
	// The last row's last value is on an earlier row: a cut inside it is
	// a proper start of a value seen before.
	lastOf := func(l string) string { return lastValue(strings.TrimSuffix(l, eol)) }
	last := lastOf(lines[len(lines)-1])
	require.NotEmpty(t, last)
	require.True(t, slices.ContainsFunc(lines[1:len(lines)-1], func(l string) bool { return lastOf(l) == last }))

	start := 0
	for j, line := range lines {
		content := len(line) - len(eol)
		lastPipe := strings.LastIndexByte(line, '|')
		// Every offset of the header and of the last row; in the other
		// rows one in four, and every one around their last "|" and end.
		var ks []int
		for k := range len(line) {
			if j == 0 || j == len(lines)-1 || k%4 == 0 || k >= lastPipe-1 {
				ks = append(ks, k)
			}
		}
		for _, k := range ks {
			n := start + k
			data := full[:n]
			rows, rerr := readCut(t, data)
			ix, ierr := LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{Workers: 2})
			for _, s := range []error{ErrTruncated, ErrHeader} {
				require.Equal(t, errors.Is(rerr, s), errors.Is(ierr, s), "offset %d: reader %v, index %v", n, rerr, ierr)
			}
			// Rows: never a wrong address; every one whole but for an
			// unterminated last line.
			for _, m := range rows {
				w, ok := byLine[m.Line]
				require.True(t, ok, "offset %d: line %d", n, m.Line)
				require.Equal(t, w.Address, m.Address, "offset %d: line %d", n, m.Line)
				if m.Line <= j {
					require.Equal(t, w, m, "offset %d: line %d", n, m.Line)
				}
			}
			if ierr == nil {
				var got []string
				for m := range ix.All() {
					got = append(got, m.Address)
					require.Equal(t, byLine[m.Line].Address, m.Address, "offset %d: index line %d", n, m.Line)
				}
				// The index keeps one of identical rows (the fixture has one
				// pair).
				var fromReader []string
				dup := map[annuaire.Mailbox]bool{}
				for _, m := range rows {
					m.Line = 0
					if !dup[m] {
						dup[m] = true
						fromReader = append(fromReader, m.Address)
					}
				}
				require.Equal(t, fromReader, got, "offset %d: index rows", n)
			}
			switch {
			case k == 0:
				// A line boundary: a whole file of the first j lines.
				if j == 0 {
					require.ErrorIs(t, rerr, ErrHeader, "empty file")
				} else {
					require.NoError(t, rerr, "offset %d", n)
					require.Len(t, rows, j-1, "offset %d", n)
				}
			case j == 0:
				// Inside the header: cut, or no address column yet.
				require.True(t, errors.Is(rerr, ErrTruncated) || errors.Is(rerr, ErrHeader), "offset %d: %v", n, rerr)
			case k <= lastPipe+1 || lastOf(line) == "":
				// Columns missing, or the last value empty (an empty last
				// value cannot be told from a cut after the last "|", even
				// with the "\r" of "\r\n" there).
				require.ErrorIs(t, rerr, ErrTruncated, "offset %d (line %d, byte %d)", n, j+1, k)
				assert.Contains(t, rerr.Error(), "line "+strconv.Itoa(j+1)+",", "the message names the line")
				require.Len(t, rows, j-1, "offset %d: the rows before the cut", n)
			case k < content && j == len(lines)-1:
				require.ErrorIs(t, rerr, ErrTruncated, "offset %d: inside the last row's last value", n)
				require.Len(t, rows, j-1, "offset %d", n)
			case k >= content:
				// The content whole, its end of line (or part of it) missing.
				require.NoError(t, rerr, "offset %d", n)
				require.Len(t, rows, j, "offset %d", n)
				require.Equal(t, byLine[j+1], rows[j-1], "offset %d", n)
			}
		}
		start += len(line)
	}
}

// TestTruncatedAddress: the case, the national file cut inside
// the address of its last row ("noel.doe@phar"): the reader, the index,
// LoadIndexFile and Directory.LoadFile all report ErrTruncated naming the
// line, no row or index holds the cut address, and the Directory keeps
// the index it had. Before the fix the row was read, address cut.
func TestTruncatedAddress(t *testing.T) {
	raw, err := os.ReadFile(fixtureOld)
	require.NoError(t, err)
	full := string(raw)
	lastLine := strings.Count(full, "\n") // the header is line 1
	cutAt := strings.LastIndex(full, "noel.doe@phar") + len("noel.doe@phar")
	require.Greater(t, cutAt, strings.LastIndexByte(full[:len(full)-1], '\n'), "inside the last row")
	data := full[:cutAt]

	rows, err := readCut(t, data)
	require.ErrorIs(t, err, ErrTruncated)
	assert.Contains(t, err.Error(), "line "+strconv.Itoa(lastLine)+", the last")
	assert.Contains(t, err.Error(), "has 2 of the header's 31 columns")
	assert.Len(t, rows, lastLine-2, "the rows before it")
	for _, m := range rows {
		assert.NotEqual(t, "noel.doe@phar", m.Address)
	}

	_, err = LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{})
	require.ErrorIs(t, err, ErrTruncated)
	assert.Contains(t, err.Error(), "line "+strconv.Itoa(lastLine)+", the last")

	dir := t.TempDir()
	cut := filepath.Join(dir, "Extraction_Correspondance_MSSante_202608260215.txt")
	require.NoError(t, os.WriteFile(cut, []byte(data), 0o600))
	for _, w := range []int{1, 4} {
		_, err = LoadIndexFile(context.Background(), cut, LoadOptions{Workers: w})
		require.ErrorIs(t, err, ErrTruncated, "LoadIndexFile, %d workers", w)
	}

	var d Directory
	_, err = d.LoadFile(context.Background(), fixtureOld, LoadOptions{})
	require.NoError(t, err)
	before := d.Index()
	rep, err := d.LoadFile(context.Background(), cut, LoadOptions{})
	require.ErrorIs(t, err, ErrTruncated, "a newer but cut file")
	assert.Nil(t, rep)
	assert.Same(t, before, d.Index(), "the current index is kept")
	_, ok := d.Lookup("noel.doe@phar")
	assert.False(t, ok)
	_, ok = d.Lookup("noel.doe@pharmacien.mssante.fr")
	assert.True(t, ok, "from the index kept")
}

// TestFinalLineRule: when no newline ends the last line, it is read only
// if nothing shows a cut (finalCut); the reader and the index judge alike.
func TestFinalLineRule(t *testing.T) {
	const h3 = "Type de BAL|Adresse BAL|Pays structure BAL\n"
	const france = "PER|a@b.mssante.fr|FRANCE\n"
	for _, tc := range []struct {
		name, in string
		rows     int    // rows read when whole
		why      string // "" when whole, else part of the message
	}{
		{"value seen before", h3 + france + "PER|c@b.mssante.fr|FRANCE", 2, ""},
		{"new value", h3 + france + "PER|c@b.mssante.fr|BELGIQUE", 2, ""},
		{"only row", h3 + "PER|c@b.mssante.fr|FRAN", 1, ""},
		{"with newline", h3 + france + "PER|c@b.mssante.fr|FRAN\n", 2, ""},
		{"CR kept", h3 + france + "PER|c@b.mssante.fr|FRANCE\r", 2, ""},
		{"blank after newline", h3 + france + "\r", 1, ""},
		{"more columns", h3 + france + "PER|c@b.mssante.fr|FRANCE|x", 2, ""},
		{"start of a value seen", h3 + france + "PER|c@b.mssante.fr|FRAN", 0, `its last value "FRAN" ("Pays structure BAL") is the start of "FRANCE"`},
		{"empty", h3 + france + "PER|c@b.mssante.fr|", 0, `its last value ("Pays structure BAL") is empty`},
		{"inside a UTF-8 sequence", h3 + france + "PER|c@b.mssante.fr|FRAN\xc3", 0, "inside a UTF-8 sequence"},
		{"short", h3 + france + "PER|c@b.mss", 0, "has 2 of the header's 3 columns"},
		{"address last", "Type de BAL|Adresse BAL\nPER|a@b.mssante.fr\nPER|c@b.mssante.fr", 0, `its last column is the address ("Adresse BAL")`},
		{"header alone", h3[:len(h3)-1], 0, "is the header: no row follows it"},
		{"unknown last column", "Adresse BAL|Autre\na@b.mssante.fr|x\nc@b.mssante.fr|", 0, "its last value (column 2) is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, rerr := readCut(t, tc.in)
			ix, ierr := LoadIndex(context.Background(), strings.NewReader(tc.in), LoadOptions{})
			if tc.why == "" {
				require.NoError(t, rerr)
				require.NoError(t, ierr)
				assert.Len(t, rows, tc.rows)
				assert.Equal(t, tc.rows, ix.Len())
				return
			}
			require.ErrorIs(t, rerr, ErrTruncated)
			require.ErrorIs(t, ierr, ErrTruncated)
			assert.Contains(t, rerr.Error(), tc.why)
			assert.Equal(t, rerr.Error(), ierr.Error(), "the same message")
			assert.Len(t, rows, max(0, strings.Count(tc.in, "\n")-1), "the rows before the last line")
		})
	}
}

// TestFinalLineSeenBound: the values a reader remembers of the last column
// are the first maxLastValues distinct ones; past them a start of a later
// value is not recognised, by the reader and the index alike.
func TestFinalLineSeenBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("Adresse BAL|Pays structure BAL\n")
	for i := range maxLastValues {
		b.WriteString("a" + strconv.Itoa(i) + "@b.mssante.fr|P" + strconv.Itoa(i) + "\n")
	}
	b.WriteString("x@b.mssante.fr|LATER\n")
	base := b.String()
	for _, tc := range []struct {
		last string
		cut  bool
	}{
		{"P1", false}, // a value seen (it is also the start of P10..P19, P100...)
		{"P", true},   // the start of P0, among the first values
		{"LATE", false},
	} {
		in := base + "y@b.mssante.fr|" + tc.last
		rows, rerr := readCut(t, in)
		_, ierr := LoadIndex(context.Background(), strings.NewReader(in), LoadOptions{})
		assert.Equal(t, tc.cut, errors.Is(rerr, ErrTruncated), "%s: reader %v", tc.last, rerr)
		assert.Equal(t, tc.cut, errors.Is(ierr, ErrTruncated), "%s: index %v", tc.last, ierr)
		if !tc.cut {
			assert.Len(t, rows, maxLastValues+2, tc.last)
		}
	}
}
