// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/ecdaf744/gomss/internal/testenv"
)

// TestStructureIDValid judges public identifiers of real structures and
// damaged copies of them. FINESS: 750712184 AP-HP (entité juridique),
// 750803447 (the IDNST 1750803447 of the ANS K30 CDA examples), 690781810
// Hospices civils de Lyon, 130786049 AP-HM, 330781196 CHU de Bordeaux.
// SIREN 267500452 and SIRET 26750045200011: AP-HP. 35600000000048: the
// head office of La Poste, the one La Poste SIRET keyed by Luhn.
func TestStructureIDValid(t *testing.T) {
	valid := []struct{ typ, id string }{
		{"1", "750712184"}, {"1", "750803447"}, {"1", "690781810"}, {"1", "130786049"}, {"1", "330781196"},
		{"1", "2A0000019"}, // Corsica: the letter is not judged
		{"2", "267500452"}, {"2", "356000000"},
		{"3", "26750045200011"}, {"3", "35600000000048"},
		{"3", "35600000020009"}, // La Poste establishment: digits add up to 25, a multiple of 5 (not a Luhn number)
		// Types without a key, and no identifier at all.
		{"4", "1000000007401"}, {"0", "anything"}, {"", ""}, {"1", ""},
	}
	for _, v := range valid {
		assert.True(t, StructureIDValid(v.typ, v.id), "type %s %q", v.typ, v.id)
	}
	invalid := []struct{ typ, id, why string }{
		{"1", "750712185", "key changed"},
		{"1", "705712184", "two digits swapped"},
		{"1", "1750712184", "IDNST given where the identifier is wanted"},
		{"1", "75071218", "8 characters"},
		{"1", "75071218A", "letter"},
		{"1", "2C0000019", "letter other than 2A/2B"},
		{"2", "267500453", "key changed"},
		{"2", "2675004520", "10 digits"},
		{"3", "26750045200012", "key changed"},
		{"3", "26750045200101", "digits swapped"},
		{"3", "75000000000018", "Luhn over the 14 digits but not over the SIREN 750000000"},
		{"3", "35600000000030", "La Poste, Luhn number but digits add up to 17"},
		{"3", "2675004520001", "13 digits"},
		{"3", "2675004520001X", "letter"},
	}
	for _, v := range invalid {
		assert.False(t, StructureIDValid(v.typ, v.id), "type %s %q: %s", v.typ, v.id, v.why)
	}
}

// TestExtractionStructureIDNST reads the "Identification Structure" column
// as it is published, an IDNST (type digit + identifier), and as a bare
// identifier: valid FINESS, SIREN and SIRET pass in both forms and come out
// without the type digit, invalid ones are counted in BadChecksum, by the
// reader and by the index alike. Before the fix the Luhn check ran over the
// whole IDNST, so every valid type-1 and type-3 value failed it.
func TestExtractionStructureIDNST(t *testing.T) {
	const head = "Type de BAL|Adresse BAL|Type identifiant structure|Identification Structure\n"
	rows := []struct {
		typ, raw, wantID string
		bad              bool
	}{
		{"1", "1750712184", "750712184", false},           // AP-HP, IDNST
		{"3", "326750045200011", "26750045200011", false}, // AP-HP SIRET, IDNST
		{"2", "2267500452", "267500452", false},           // AP-HP SIREN, IDNST
		{"1", "750803447", "750803447", false},            // bare FINESS
		{"3", "35600000000048", "35600000000048", false},  // bare SIRET, La Poste head office
		{"4", "41000000007401", "1000000007401", false},   // RPPS rang: no key
		{"1", "1750712185", "750712185", true},            // key changed
		{"3", "326750045200012", "26750045200012", true},  // key changed
		{"1", "3750712184", "3750712184", true},           // IDNST of another type: 10 characters kept, wrong length
		{"3", "75000000000018", "75000000000018", true},   // SIREN part fails its key
	}
	var b strings.Builder
	b.WriteString(head)
	wantBad := 0
	for i, r := range rows {
		fmt.Fprintf(&b, "ORG|s%d@ch.mssante.fr|%s|%s\n", i, r.typ, r.raw)
		if r.bad {
			wantBad++
		}
	}
	data := b.String()

	got, errs, x := readAll(t, strings.NewReader(data))
	require.Empty(t, errs)
	require.Len(t, got, len(rows))
	assert.Equal(t, wantBad, x.Tolerated().BadChecksum, "reader")
	for i, r := range rows {
		assert.Equal(t, r.typ, got[i].Structure.IDType, "row %d", i)
		assert.Equal(t, r.wantID, got[i].Structure.ID, "row %d (%s)", i, r.raw)
	}

	ix, err := LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, wantBad, ix.Report().Tolerated.BadChecksum, "index")
	m, ok := ix.Lookup("s0@ch.mssante.fr")
	require.True(t, ok)
	assert.Equal(t, "750712184", m.Structure.ID)
}

// TestGeneratedExtractionKeysPass: a realistic extraction (annuairetest
// writes the structure column as the real file, IDNST) has no bad checksum,
// read row by row or indexed.
func TestGeneratedExtractionKeysPass(t *testing.T) {
	var buf bytes.Buffer
	_, err := annuairetest.WriteExtraction(&buf, annuairetest.ExtractionOptions{Rows: 20000, Seed: 15})
	require.NoError(t, err)
	data := buf.Bytes()
	// The generator writes IDNST values: "1"+FINESS (10 characters) and
	// "3"+SIRET (15).
	var finess, siret int
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if f := strings.Split(line, "|"); len(f) > 6 {
			switch {
			case f[5] == "1" && len(f[6]) == 10 && f[6][0] == '1':
				finess++
			case f[5] == "3" && len(f[6]) == 15 && f[6][0] == '3':
				siret++
			}
		}
	}
	require.Greater(t, finess, 1000)
	require.Greater(t, siret, 1000)

	rows, errs, x := readAll(t, bytes.NewReader(data))
	require.Empty(t, errs)
	assert.Equal(t, 0, x.Tolerated().BadChecksum, "reader")
	ix, err := LoadIndex(context.Background(), bytes.NewReader(data), LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, 0, ix.Report().Tolerated.BadChecksum, "index")
	for _, m := range rows {
		switch m.Structure.IDType {
		case "1":
			require.Len(t, m.Structure.ID, 9, "FINESS of line %d", m.Line)
		case "3":
			require.Len(t, m.Structure.ID, 14, "SIRET of line %d", m.Line)
		}
	}
}

// stdnumSIRETScript reads "kind number" lines (kind siren or siret) and
// prints 1 or 0 for stdnum.fr.<kind>.is_valid on each.
const stdnumSIRETScript = `
import sys
from stdnum.fr import siren, siret
out = []
for line in sys.stdin:
    kind, number = line.split()
    out.append('1' if (siren if kind == 'siren' else siret).is_valid(number) else '0')
sys.stdout.write('\n'.join(out) + '\n')
`

// TestStructureIDDifferentialStdnum compares StructureIDValid on SIREN and
// SIRET numbers with python-stdnum's stdnum.fr.siren and stdnum.fr.siret
// (an independent implementation, La Poste rule included): valid numbers,
// La Poste numbers, and numbers damaged as in data entry.
func TestStructureIDDifferentialStdnum(t *testing.T) {
	const py = "/usr/bin/python3" // Debian's python3-stdnum is for the system interpreter (field notes)
	testenv.LookPath(t, "python3-stdnum", py)
	testenv.Command(t, "python3-stdnum", py, "-c", "import stdnum.fr.siret")
	r := rand.New(rand.NewPCG(15, 16))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	withLuhn := func(prefix string) string {
		for k := byte('0'); k <= '9'; k++ {
			if s := prefix + string(k); luhnOK(s) {
				return s
			}
		}
		panic("unreachable")
	}
	type tc struct{ kind, number string }
	var cases []tc
	for i := 0; i < 4000; i++ {
		var siren, siret string
		switch i % 4 {
		case 0: // valid
			siren = withLuhn(digits(8))
			siret = withLuhn(siren + digits(4))
		case 1: // La Poste: any NIC
			siren, siret = "356000000", "356000000"+digits(5)
		case 2: // random
			siren, siret = digits(9), digits(14)
		case 3: // one digit changed, or two swapped, in a valid number
			siren = withLuhn(digits(8))
			siret = withLuhn(siren + digits(4))
			b := []byte(siret)
			if j := r.IntN(13); r.IntN(2) == 0 {
				b[j], b[j+1] = b[j+1], b[j]
			} else {
				b[j] = '0' + (b[j]-'0'+byte(1+r.IntN(9)))%10
			}
			siret = string(b)
			siren = siret[:9]
		}
		cases = append(cases, tc{"siren", siren}, tc{"siret", siret})
	}
	cases = append(cases, tc{"siret", "35600000000048"}, tc{"siret", "2675004520001"}, tc{"siren", "26750045"})

	var in bytes.Buffer
	for _, c := range cases {
		fmt.Fprintf(&in, "%s %s\n", c.kind, c.number)
	}
	cmd := exec.Command(py, "-c", stdnumSIRETScript)
	cmd.Stdin = &in
	out, err := cmd.Output()
	require.NoError(t, err, "python-stdnum")
	sc := bufio.NewScanner(bytes.NewReader(out))
	var validCount, n int
	for i := 0; sc.Scan(); i++ {
		require.Less(t, i, len(cases))
		c := cases[i]
		typ := "3"
		if c.kind == "siren" {
			typ = "2"
		}
		ours := StructureIDValid(typ, c.number)
		if ours {
			validCount++
		}
		assert.Equal(t, sc.Text() == "1", ours, "%s %s: gomss %v, stdnum %s", c.kind, c.number, ours, sc.Text())
		n++
	}
	require.Equal(t, len(cases), n, "verdicts")
	t.Logf("%d numbers compared, %d valid", n, validCount)
	require.Greater(t, validCount, n/5)
	require.Less(t, validCount, n-n/5)
}
