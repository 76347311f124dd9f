// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	fixtureOld = "../../testdata/annuaire/Extraction_Correspondance_MSSante_202608250215.txt"
	fixtureNew = "../../testdata/annuaire/Extraction_Correspondance_MSSante_202608260215.txt"
)

// readAll reads an extraction with ExtractionReader, collecting rows and
// line errors.
func readAll(t *testing.T, r io.Reader) ([]annuaire.Mailbox, []*LineError, *ExtractionReader) {
	t.Helper()
	x, err := NewExtractionReader(r)
	require.NoError(t, err)
	var rows []annuaire.Mailbox
	var errs []*LineError
	for {
		m, err := x.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			errs = append(errs, le)
			continue
		}
		require.NoError(t, err)
		rows = append(rows, m)
	}
	return rows, errs, x
}

func TestExtractionReaderFixture(t *testing.T) {
	f, err := os.Open(fixtureOld)
	require.NoError(t, err)
	defer f.Close()
	rows, errs, x := readAll(t, f)
	if len(errs) != 0 {
		t.Fatalf("line errors on the clean fixture: %v", errs)
	}
	if len(rows) != 22 {
		t.Fatalf("%d rows, want 22", len(rows))
	}
	if h := x.Header(); len(h.Missing) != 0 || len(h.Extra) != 0 || len(h.Columns) != 31 {
		t.Errorf("header: %d columns, missing %v, extra %v", len(h.Columns), h.Missing, h.Extra)
	}
	m := rows[1]
	want := annuaire.Mailbox{
		Address: "heloise.fictif@medecin.mssante.fr", Type: annuaire.PER, Digitization: annuaire.DigitizationAccepted,
		Owner: annuaire.Person{IDType: "8", ID: "10000000025", IDNPS: "810000000025", Civility: "DR", Family: "FICTIF", Given: "Héloïse",
			Category: annuaire.Code{Code: "C", Label: "Civil"}, Profession: annuaire.Code{Code: "10", Label: "Médecin"}, Specialty: annuaire.Code{Code: "SM04", Label: "Cardiologie et maladies vasculaires"}},
		Structure: annuaire.Structure{IDType: "1", ID: "130000003", Name: "CENTRE HOSPITALIER D'EXEMPLE", TradeName: "CH EXEMPLE",
			Distribution: "BP 12", Number: "1", StreetType: "BD", Street: "DE LA MER", CityLine: "13005 MARSEILLE",
			PostalCode: "13005", Department: "13", Country: "FRANCE"},
		Source: annuaire.FromExtraction, Line: 3,
	}
	if m != want {
		t.Errorf("row 2:\n got %+v\nwant %+v", m, want)
	}
	org := rows[16]
	if org.Type != annuaire.ORG || org.Service != "Cardiologie" || org.Owner != (annuaire.Person{}) || org.Structure.ID != "130000003" {
		t.Errorf("ORG row: %+v", org)
	}
	if tol := x.Tolerated(); tol != (Tolerated{}) {
		t.Errorf("tolerated on the clean fixture: %+v", tol)
	}
}

func TestExtractionReaderTolerance(t *testing.T) {
	f, err := os.Open("testdata/extraction_tolerance.txt")
	require.NoError(t, err)
	defer f.Close()
	rows, errs, x := readAll(t, f)
	var addrs []string
	for _, m := range rows {
		addrs = append(addrs, m.Address)
	}
	wantAddrs := []string{"ok.un@medecin.mssante.fr", "ok.quatre@medecin.mssante.fr", "ok.cinq@medecin.mssante.fr", "ok.six@medecin.mssante.fr"}
	if !slices.Equal(addrs, wantAddrs) {
		t.Errorf("rows %q, want %q", addrs, wantAddrs)
	}
	// Columns found by name although shuffled; CRLF removed.
	m := rows[0]
	assert.EqualValues(t, "UN", m.Owner.Family, "row 1")
	assert.EqualValues(t, "Albert", m.Owner.Given, "row 1")
	assert.EqualValues(t, "10", m.Owner.Profession.Code, "row 1")
	assert.EqualValues(t, annuaire.DigitizationAccepted, m.Digitization, "row 1")
	assert.EqualValues(t, 2, m.Line, "row 1")
	m = rows[1]
	assert.EqualValues(t, "QUATRE", m.Owner.Family, "short row")
	assert.EqualValues(t, "", m.Owner.Given, "short row")
	type lineRule struct {
		line   int
		column string
		rule   error
	}
	var got []lineRule
	for _, e := range errs {
		got = append(got, lineRule{e.Line, e.Column, errors.Unwrap(e.Err)})
		if !strings.Contains(e.Error(), "line ") {
			t.Errorf("error %q does not name the line", e)
		}
	}
	want := []lineRule{{3, "Adresse BAL", nil}, {4, "Type de BAL", nil}, {9, "Adresse BAL", nil}}
	if len(got) != len(want) {
		t.Fatalf("line errors %v, want lines 3, 4, 9", errs)
	}
	for i := range want {
		if got[i].line != want[i].line || got[i].column != want[i].column {
			t.Errorf("error %d: line %d column %q, want line %d column %q", i, got[i].line, got[i].column, want[i].line, want[i].column)
		}
	}
	if !errors.Is(errs[0], annuaire.ErrAddress) || !errors.Is(errs[1], annuaire.ErrBALType) || !errors.Is(errs[2], annuaire.ErrAddress) {
		t.Errorf("rules: %v", errs)
	}
	h := x.Header()
	if !slices.Equal(h.Extra, []string{"Colonne inconnue"}) || len(h.Missing) != 31-9 {
		t.Errorf("header extra %q, %d missing", h.Extra, len(h.Missing))
	}
	tol := x.Tolerated()
	assert.EqualValues(t, 1, tol.ShortRows, "tolerated, want 1 short, 1 long, 1 bad checksum, 1 odd digitization")
	assert.EqualValues(t, 1, tol.LongRows, "tolerated, want 1 short, 1 long, 1 bad checksum, 1 odd digitization")
	assert.EqualValues(t, 1, tol.BadChecksum, "tolerated, want 1 short, 1 long, 1 bad checksum, 1 odd digitization")
	assert.EqualValues(t, 1, tol.Digitization, "tolerated, want 1 short, 1 long, 1 bad checksum, 1 odd digitization")
}

func TestExtractionHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no address column", "Type de BAL|Nom d'exercice\nPER|X\n"},
		{"twice", "Adresse BAL|Adresse BAL\na@b|a@b\n"},
		{"blank header", "\nPER|a@b\n"},
	} {
		_, err := NewExtractionReader(strings.NewReader(tc.in))
		if !errors.Is(err, ErrHeader) {
			t.Errorf("%s: err %v, want ErrHeader", tc.name, err)
		}
		if _, err := LoadIndex(context.Background(), strings.NewReader(tc.in), LoadOptions{}); !errors.Is(err, ErrHeader) {
			t.Errorf("%s: LoadIndex err %v, want ErrHeader", tc.name, err)
		}
	}
}

func TestHeaderVariants(t *testing.T) {
	// Lower case, no accents, no " structure BAL" suffix, trailing "|".
	in := "type de bal|ADRESSE BAL|nom d'exercice|prenom d'exercice|Code postal|Departement|\n" +
		"PER|a.b@x.mssante.fr|NOM|Prénom|75001|75|\n"
	rows, errs, _ := readAll(t, strings.NewReader(in))
	if len(errs) != 0 || len(rows) != 1 {
		t.Fatalf("rows %v errs %v", rows, errs)
	}
	m := rows[0]
	assert.EqualValues(t, "Prénom", m.Owner.Given)
	assert.EqualValues(t, "75001", m.Structure.PostalCode)
	assert.EqualValues(t, "75", m.Structure.Department)
}

func TestLuhn(t *testing.T) {
	for _, s := range []string{"10000000017", "130000003", "75000000000018", "0"} {
		if !luhnOK(s) {
			t.Errorf("luhnOK(%s) = false", s)
		}
	}
	for _, s := range []string{"10000000018", "130000004", "75000000000019"} {
		if luhnOK(s) {
			t.Errorf("luhnOK(%s) = true", s)
		}
	}
}

func TestParseDigitization(t *testing.T) {
	for in, want := range map[string]annuaire.Digitization{"true": annuaire.DigitizationAccepted, "True": annuaire.DigitizationAccepted, "1": annuaire.DigitizationAccepted,
		"O": annuaire.DigitizationAccepted, "false": annuaire.DigitizationRefused, "0": annuaire.DigitizationRefused, "N": annuaire.DigitizationRefused, "": annuaire.DigitizationUnknown} {
		got, ok := parseDigitization(in)
		assert.EqualValues(t, want, got, "parseDigitization(%q)", in)
		assert.True(t, ok, "parseDigitization(%q)", in)
	}
	if _, ok := parseDigitization("peut-être"); ok {
		t.Error("parseDigitization accepted an unknown value")
	}
}
