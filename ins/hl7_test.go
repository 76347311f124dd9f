// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPatientIDForms(t *testing.T) {
	id := testIdentity(t)
	cx, err := id.PatientID()
	require.NoError(t, err, "PatientID")
	require.EqualValues(t, "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH", cx.String(), "PatientID")
	sp, err := id.SourcePatientID()
	require.NoError(t, err, "SourcePatientID")
	require.EqualValues(t, "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI", sp.String(), "SourcePatientID")
	id.LocalIDs = nil
	sp, err = id.SourcePatientID()
	require.NoError(t, err, "SourcePatientID without IPP; want the INS")
	require.EqualValues(t, cx, sp, "SourcePatientID without IPP; want the INS")
	// The ANS DRIM-M example value parses back.
	got, err := ParseCX("162018885045327^^^&1.2.250.1.213.1.4.10&ISO^NH")
	if err != nil || got != (CX{ID: "162018885045327", Authority: "1.2.250.1.213.1.4.10", TypeCode: "NH"}) {
		t.Fatalf("ParseCX = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "123", "^^^&1.2.3&ISO^PI", "123^^^1.2.3^PI", "123^^^&1.2.3&DNS^PI"} {
		_, err := ParseCX(bad)
		assert.ErrorIs(t, err, ErrCX, "ParseCX(%q)", bad)
	}
}

func TestSourcePatientInfo(t *testing.T) {
	id := testIdentity(t)
	lines := id.SourcePatientInfo()
	want := []string{
		"PID-3|279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH~1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI",
		"PID-5|PAT-TROIS^DOMINIQUE^DOMINIQUE MARIE-LOUISE^^^^L",
		"PID-5|PAT-TROIS^DOMINIQUE^^^^^D",
		"PID-7|19790328",
		"PID-8|F",
		"PID-11|^^^^^^BDL^^51215",
	}
	require.Equal(t, want, lines, "SourcePatientInfo")
	p, err := ParseSourcePatientInfo(lines)
	if err != nil || len(p.Tolerated) != 0 {
		t.Fatal(err, p.Tolerated)
	}
	back := p.Identity
	back.Status = Qualified
	back.Traits.BirthPlaceName = id.Traits.BirthPlaceName // not carried by PID-11 BDL
	require.Equal(t, id, back, "round trip")
	// Delimiters inside names are escaped and restored.
	id.Traits.UsedFamilyName = `A^B&C~D|E\F`
	p, err = ParseSourcePatientInfo(id.SourcePatientInfo())
	require.NoError(t, err, "escaping")
	require.EqualValues(t, id.Traits.UsedFamilyName, p.Identity.Traits.UsedFamilyName, "escaping")
	// Tolerated and refused lines.
	p, err = ParseSourcePatientInfo([]string{"PID-13|0102030405", "PID-5|X^Y^^^^^B", "PID-11|1 rue^^PARIS^^75001^FRA^H", "PID-7|197903281200", "PID-3|1^^^&" + OIDINSC + "&ISO^NH"})
	if err != nil || len(p.Tolerated) != 5 {
		t.Fatalf("tolerated %q, %v", p.Tolerated, err)
	}
	for _, bad := range [][]string{{"PID-5"}, {"PID-3|x"}, {"PID-3|279035121518988^^^&1.2.250.1.213.1.4.10&ISO^NH"}, {"PID-7|1979"}, {"PID-8|Z"}} {
		if _, err := ParseSourcePatientInfo(bad); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseSourcePatientInfo(%q): %v", bad, err)
		}
	}
}

func TestCXFictitious(t *testing.T) {
	for _, tc := range []struct {
		authority Authority
		want      bool
	}{
		{AuthorityNIR, false},
		{AuthorityNIA, false},
		{AuthorityNIRTest, true},
		{AuthorityNIRDemo, true},
		{"1.2.3.4.567.8.9.10", false}, // an IPP's authority
	} {
		cx := CX{ID: "279035121518989", Authority: string(tc.authority), TypeCode: "NH"}
		if got := cx.Fictitious(); got != tc.want {
			t.Errorf("%s: Fictitious() = %v, want %v", cx, got, tc.want)
		}
	}
}

// FuzzParseCX: an accepted identifier formats back to a string that parses
// to the same identifier; a refusal wraps ErrCX. The same for a Mon espace
// santé address.
func FuzzParseCX(f *testing.F) {
	for _, s := range []string{"162018885045327^^^&1.2.250.1.213.1.4.10&ISO^NH", "IPP\\S\\1^^^&1.2.3&ISO^PI", "a^^^&b", "^^^&1&ISO", "x^^^&1&DNS^NH", "279035121518989@patient.mssante.fr", "x~y^^^&1.2&&^PI^z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCX(s)
		if err != nil {
			if !errors.Is(err, ErrCX) {
				t.Fatalf("ParseCX(%q): %v does not wrap ErrCX", s, err)
			}
		} else {
			again, err := ParseCX(c.String())
			require.NoError(t, err, "ParseCX(%q) = %+v; its String %q parses to %+v, %v", s, c, c.String(), again, err)
			require.EqualValues(t, c, again, "ParseCX(%q) = %+v; its String %q parses to %+v, %v", s, c, c.String(), again, err)
		}
		m, err := ParseMonEspaceSanteAddress(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMonEspaceSanteAddress, "ParseMonEspaceSanteAddress(%q)", s)
			return
		}
		if addr := m.String() + "@" + MonEspaceSanteDomain; !strings.EqualFold(addr, s) {
			t.Fatalf("ParseMonEspaceSanteAddress(%q) = %s", s, m)
		}
	})
}

// FuzzParseSourcePatientInfo: lines are read or refused with the line
// named; what is read (traits and local identifiers) survives being
// written with SourcePatientInfo and read again.
func FuzzParseSourcePatientInfo(f *testing.F) {
	f.Add("PID-3|123^^^&1.2.250.1.71.4.2.7&ISO^PI\nPID-5|PAT-TROIS^DOMINIQUE^DOMINIQUE MARIE^^^^L\nPID-5|PT^DOM^^^^^D\nPID-7|19790328\nPID-8|F\nPID-11|^^^^^^BDL^^63220")
	f.Add("PID-13|0102030405\nPID-5|X^Y^^^^^B\nPID-11|1 rue^^PARIS^^75001^FRA^H\nPID-7|197903281200\nPID-3|1^^^&1.2.250.1.213.1.4.2&ISO^NH")
	f.Add("PID-3|279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH~a\\T\\b^^^&1.2&ISO^PI\nPID-5|^^SEUL^^^^L")
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		p, err := ParseSourcePatientInfo(lines)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		if p.Identity.Status != "" {
			t.Fatalf("a read identity has status %q", p.Identity.Status)
		}
		out := p.Identity.SourcePatientInfo()
		q, err := ParseSourcePatientInfo(out)
		require.NoError(t, err, "written %q, read back", out)
		if q.Identity.Traits != p.Identity.Traits || !slices.Equal(q.Identity.LocalIDs, p.Identity.LocalIDs) {
			t.Fatalf("read %+v %+v\nwritten %q\nread back %+v %+v", p.Identity.Traits, p.Identity.LocalIDs, out, q.Identity.Traits, q.Identity.LocalIDs)
		}
	})
}
