// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// python3-stdnum is installed by Debian for the system interpreter only; a
// pyenv python3 earlier on PATH would not find it (field notes).
const systemPython = "/usr/bin/python3"

// stdnumScript reads hex-encoded UTF-8 inputs, one per line, and prints 1 or
// 0 for stdnum.fr.nir.is_valid on each.
const stdnumScript = `
import sys
from stdnum.fr import nir
out = []
for line in sys.stdin:
    s = bytes.fromhex(line.strip()).decode('utf-8')
    out.append('1' if nir.is_valid(s) else '0')
sys.stdout.write('\n'.join(out) + '\n')
`

func requireStdnum(t testing.TB) {
	t.Helper()
	testenv.LookPath(t, "python3-stdnum", systemPython)
	testenv.Command(t, "python3-stdnum", systemPython, "-c", "import stdnum.fr.nir")
}

func stdnumVerdicts(t *testing.T, inputs []string) []bool {
	t.Helper()
	var in bytes.Buffer
	for _, s := range inputs {
		in.WriteString(hex.EncodeToString([]byte(s)))
		in.WriteByte('\n')
	}
	cmd := exec.Command(systemPython, "-c", stdnumScript)
	cmd.Stdin = &in
	out, err := cmd.Output()
	require.NoError(t, err, "python-stdnum")
	var res []bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		res = append(res, sc.Text() == "1")
	}
	if len(res) != len(inputs) {
		t.Fatalf("python-stdnum answered %d verdicts for %d inputs", len(res), len(inputs))
	}
	return res
}

// genMatricule returns a structurally valid matricule with a correct key.
func genMatricule(r *rand.Rand) string {
	var b strings.Builder
	b.WriteByte("1278"[r.IntN(4)])
	fmt.Fprintf(&b, "%02d", r.IntN(100))
	if r.IntN(10) == 0 { // incomplete civil records: months outside 01–12
		fmt.Fprintf(&b, "%02d", []int{0, 13, 20, 31, 42, 50, 63, 99}[r.IntN(8)])
	} else {
		fmt.Fprintf(&b, "%02d", 1+r.IntN(12))
	}
	switch r.IntN(10) {
	case 0:
		fmt.Fprintf(&b, "2%c%03d", "AB"[r.IntN(2)], 1+r.IntN(999))
	case 1:
		fmt.Fprintf(&b, "97%d%02d", 1+r.IntN(8), r.IntN(100))
	case 2:
		fmt.Fprintf(&b, "98%d%02d", r.IntN(10), r.IntN(100))
	case 3:
		fmt.Fprintf(&b, "99%03d", 100+r.IntN(900))
	default:
		fmt.Fprintf(&b, "%02d%03d", 1+r.IntN(96), 1+r.IntN(999))
	}
	fmt.Fprintf(&b, "%03d", 1+r.IntN(999))
	key, _ := ControlKey(b.String())
	fmt.Fprintf(&b, "%02d", key)
	return b.String()
}

// corrupt damages a matricule in one of the ways seen in data entry.
func corrupt(r *rand.Rand, s string) string {
	b := []byte(s)
	switch r.IntN(16) {
	case 0, 1, 2: // one digit changed
		i := r.IntN(15)
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '0' + (b[i]-'0'+byte(1+r.IntN(9)))%10
		} else {
			b[i] = "AB"[r.IntN(2)]
		}
	case 3, 4: // two adjacent characters swapped
		i := r.IntN(14)
		b[i], b[i+1] = b[i+1], b[i]
	case 5: // key off by one
		k, _ := strconv.Atoi(s[13:])
		return s[:13] + fmt.Sprintf("%02d", (k+1)%100)
	case 6: // impossible keys
		return s[:13] + []string{"00", "98", "99"}[r.IntN(3)]
	case 7: // spaces or dots as printed on a card
		return s[:1] + " " + s[1:3] + " " + s[3:5] + "." + s[5:]
	case 8: // lower-case Corsica, or Corsica letter elsewhere
		if s[5:7] == "2A" || s[5:7] == "2B" {
			return strings.ToLower(s)
		}
		b[r.IntN(15)] = 'A'
	case 9: // dropped or extra character
		if r.IntN(2) == 0 {
			i := r.IntN(15)
			return s[:i] + s[i+1:]
		}
		return s + strconv.Itoa(r.IntN(10))
	case 10: // any sex digit, key recomputed
		b[0] = '0' + byte(r.IntN(10))
		return withKey(string(b[:13]))
	case 11: // odd places, key recomputed: 00, commune 000, 970/979, 99 0xx
		places := []string{"00123", "75000", "97012", "97934", "99042", "20123"}
		return withKey(s[:5] + places[r.IntN(len(places))] + s[10:13])
	case 12: // a hyphen or a letter
		b[r.IntN(15)] = "-XO"[r.IntN(3)]
	case 13: // surrounding spaces
		return " " + s + " "
	case 14: // a full-width digit, as typed with an East Asian input method
		i := r.IntN(15)
		if c := s[i]; c >= '0' && c <= '9' {
			return s[:i] + string(rune('０'+rune(c-'0'))) + s[i+1:]
		}
		return s + "\uff10"
	case 15: // a trailing space, as pasted from a form
		return s + " "
	}
	return string(b)
}

func withKey(nir13 string) string {
	k, err := ControlKey(nir13)
	if err != nil {
		return nir13 + "00"
	}
	return nir13 + fmt.Sprintf("%02d", k)
}

// stdnumClean is python-stdnum's compact(): map look-alike Unicode characters
// to ASCII (stdnum.util.clean; of those only full-width digits are
// generated here), remove spaces and dots, trim, upper-case.
func stdnumClean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		return r
	}, s)
	return strings.ToUpper(strings.TrimSpace(strings.NewReplacer(" ", "", ".", "").Replace(s)))
}

// wellFormed is the format stdnum checks: 15 characters, digits except 2A/2B
// in positions 6–7.
func wellFormed(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := 0; i < 15; i++ {
		if !digitOrCorsica(s, i, 6) {
			return false
		}
	}
	return true
}

// TestDifferentialStdnum compares ParseMatricule with python-stdnum's
// stdnum.fr.nir on generated matricules, valid and corrupted.
//
// Deliberate differences, counted and checked separately:
//   - stdnum cleans its input (spaces, dots, case, full-width digits);
//     ParseMatricule does not.
//     The verdicts are compared on the cleaned input, and every input that
//     cleaning changes must be rejected by ParseMatricule as given.
//   - stdnum checks format, length and key only; ParseMatricule also rejects
//     sex digits other than 1/2/7/8 and impossible places. On those inputs the
//     verdicts are compared on the key alone.
func TestDifferentialStdnum(t *testing.T) {
	requireStdnum(t)
	r := rand.New(rand.NewPCG(2026, 11))
	const n = 12000
	inputs := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s := genMatricule(r)
		if i%2 == 1 {
			s = corrupt(r, s)
		}
		inputs = append(inputs, s)
	}
	theirs := stdnumVerdicts(t, inputs)
	var valid, cleaned, semantic int
	for i, raw := range inputs {
		s := stdnumClean(raw)
		if s != raw {
			cleaned++
			_, err := ParseMatricule(raw)
			assert.Error(t, err, "%q: accepted although it needs cleaning", raw)
		}
		_, err := ParseMatricule(s)
		ours := err == nil
		switch {
		case ours:
			valid++
			if !theirs[i] {
				t.Errorf("%q: gomss valid, stdnum invalid", raw)
			}
		case wellFormed(s) && !errors.Is(err, ErrKey):
			// A rule stdnum does not define: compare the key verdicts.
			semantic++
			k, _ := ControlKey(s[:13])
			keyOK := fmt.Sprintf("%02d", k) == s[13:]
			if keyOK != theirs[i] {
				t.Errorf("%q: key verdict %v, stdnum %v (%v)", raw, keyOK, theirs[i], err)
			}
		default:
			if theirs[i] {
				t.Errorf("%q: gomss %v, stdnum valid", raw, err)
			}
		}
	}
	t.Logf("%d cases: %d valid, %d invalid; %d needed stdnum's cleaning; %d rejected by a rule stdnum lacks (key verdicts compared)", n, valid, n-valid, cleaned, semantic)
	if valid < n/3 || n-valid < n/4 || cleaned == 0 || semantic == 0 {
		t.Fatalf("generator coverage too thin: %d valid, %d cleaned, %d semantic", valid, cleaned, semantic)
	}
}

// BenchmarkMatricule measures ParseMatricule and, in the same run, python-
// stdnum's is_valid per matricule (timed inside one Python process with
// timeit, so interpreter start-up is excluded). Compare the ns/op of the two
// sub-benchmarks for the ratio.
func BenchmarkMatricule(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := make([]string, 1024)
	for i := range inputs {
		inputs[i] = genMatricule(r)
	}
	b.Run("gomss", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := ParseMatricule(inputs[i&1023]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdnum", func(b *testing.B) {
		requireStdnum(b)
		script := `
import sys, timeit
from stdnum.fr import nir
xs = sys.stdin.read().split()
n = int(sys.argv[1])
def run():
    for i in range(n):
        nir.is_valid(xs[i & 1023])
print(min(timeit.repeat(run, number=1, repeat=3)) / n * 1e9)
`
		cmd := exec.Command(systemPython, "-c", script, strconv.Itoa(max(b.N, 1000)))
		cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n"))
		out, err := cmd.Output()
		require.NoError(b, err, "python-stdnum")
		ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		require.NoError(b, err, "python-stdnum output %q", out)
		b.ReportMetric(ns, "ns/op")
	})
}
