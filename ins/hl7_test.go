package ins

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPatientIDForms(t *testing.T) {
	id := testIdentity(t)
	cx, err := id.PatientID()
	if err != nil || cx.String() != "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH" {
		t.Fatalf("PatientID = %q, %v", cx, err)
	}
	sp, err := id.SourcePatientID()
	if err != nil || sp.String() != "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI" {
		t.Fatalf("SourcePatientID = %q, %v", sp, err)
	}
	id.LocalIDs = nil
	if sp, err := id.SourcePatientID(); err != nil || sp != cx {
		t.Fatalf("SourcePatientID without IPP = %q, %v; want the INS", sp, err)
	}
	// The ANS DRIM-M example value parses back.
	got, err := ParseCX("162018885045327^^^&1.2.250.1.213.1.4.10&ISO^NH")
	if err != nil || got != (CX{ID: "162018885045327", Authority: "1.2.250.1.213.1.4.10", TypeCode: "NH"}) {
		t.Fatalf("ParseCX = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "123", "^^^&1.2.3&ISO^PI", "123^^^1.2.3^PI", "123^^^&1.2.3&DNS^PI"} {
		if _, err := ParseCX(bad); !errors.Is(err, ErrCX) {
			t.Errorf("ParseCX(%q): %v", bad, err)
		}
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
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("SourcePatientInfo:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	p, err := ParseSourcePatientInfo(lines)
	if err != nil || len(p.Tolerated) != 0 {
		t.Fatal(err, p.Tolerated)
	}
	back := p.Identity
	back.Status = Qualified
	back.Traits.BirthPlaceName = id.Traits.BirthPlaceName // not carried by PID-11 BDL
	if !reflect.DeepEqual(back, id) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, id)
	}
	// Delimiters inside names are escaped and restored.
	id.Traits.UsedFamilyName = `A^B&C~D|E\F`
	p, err = ParseSourcePatientInfo(id.SourcePatientInfo())
	if err != nil || p.Identity.Traits.UsedFamilyName != id.Traits.UsedFamilyName {
		t.Fatalf("escaping: %q, %v", p.Identity.Traits.UsedFamilyName, err)
	}
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
