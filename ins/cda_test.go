// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func xmlString(e *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(e.Copy())
	doc.Indent(2)
	s, _ := doc.WriteToString()
	return s
}

func TestRecordTargetQualified(t *testing.T) {
	id := testIdentity(t)
	rt, err := id.RecordTarget()
	require.NoError(t, err)
	got := xmlString(rt)
	want, err := os.ReadFile(filepath.Join("testdata", "recordtarget-qual.xml"))
	require.NoError(t, err)
	if got != string(want) {
		t.Fatalf("recordTarget:\n%s\nwant (testdata/recordtarget-qual.xml):\n%s", got, want)
	}
	ids := rt.FindElements("patientRole/id")
	if len(ids) != 2 || ids[0].SelectAttrValue("root", "") != string(AuthorityNIRTest) {
		t.Fatal("INS id must come first")
	}
	for _, q := range rt.FindElements("//[@qualifier]") {
		if v := q.SelectAttrValue("qualifier", ""); v != "BR" && v != "CL" {
			t.Errorf("qualifier %s written", v)
		}
	}
	// And it reads back to the same identity (status aside).
	p, err := ReadRecordTarget(rt)
	require.NoError(t, err)
	if len(p.Tolerated) != 0 {
		t.Errorf("tolerated on our own output: %v", p.Tolerated)
	}
	back := p.Identity
	if back.Status != "" {
		t.Errorf("read status %q, want empty", back.Status)
	}
	back.Status = Qualified
	assert.Equal(t, id, back, "round trip")
}

// TestReadRecordTargetField reads documents as found in the field.
func TestReadRecordTargetField(t *testing.T) {
	tests := []struct {
		file      string
		wantErr   error
		ins       string
		family    string
		used      string
		given     string
		sex       Sex
		birth     string
		cog       string
		localIDs  int
		tolerated []string
	}{
		{file: "k30-style.xml", ins: "279035121518989", family: "PAT-TROIS", used: "PAT-TROIS", given: "DOMINIQUE MARIE-LOUISE", sex: Female, birth: "19790328", cog: "51215", localIDs: 1},
		{file: "field-sp.xml", ins: "277076322082910", family: "NESSI", used: "DECOURCY", given: "Marie Jeanne Michelle", sex: Female, birth: "19770714", cog: "51215",
			tolerated: []string{"INS-C identifier", "INS matricule normalised", "family qualifier SP", "birthTime has a time part"}},
		{file: "field-unqualified.xml", family: "MARTIN", given: "JEAN PAUL", sex: "", birth: "19500101", localIDs: 1,
			tolerated: []string{"family without qualifier", "2 given elements without qualifier", "administrativeGenderCode \"X\""}},
		{file: "bad-key.xml", wantErr: ErrKey, family: "DECOURCY", given: "Paul", sex: Male, birth: "20210422", cog: "51215", localIDs: 1},
	}
	for _, tt := range tests {
		doc := etree.NewDocument()
		require.NoError(t, doc.ReadFromFile(filepath.Join("testdata", tt.file)))
		p, err := ReadRecordTarget(doc.Root())
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrRecordTarget) {
				t.Errorf("%s: error %v, want %v", tt.file, err, tt.wantErr)
			}
		} else if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		tr := p.Identity.Traits
		if p.Identity.INS.Matricule.String() != tt.ins || tr.BirthFamilyName != tt.family || tr.UsedFamilyName != tt.used ||
			tr.BirthGivenNames != tt.given || tr.Sex != tt.sex || tr.BirthDate.String() != tt.birth && tt.birth != "" || tr.BirthPlace != tt.cog ||
			len(p.Identity.LocalIDs) != tt.localIDs {
			t.Errorf("%s: read %+v", tt.file, p.Identity)
		}
		if len(p.IDs) == 0 {
			t.Errorf("%s: IDs not kept", tt.file)
		}
		if len(p.Tolerated) != len(tt.tolerated) {
			t.Errorf("%s: tolerated %q, want %d notes", tt.file, p.Tolerated, len(tt.tolerated))
		}
		for i, want := range tt.tolerated {
			if i < len(p.Tolerated) && !strings.Contains(p.Tolerated[i], want) {
				t.Errorf("%s: tolerated[%d] = %q, want %q", tt.file, i, p.Tolerated[i], want)
			}
		}
	}
}

func TestReadRecordTargetStructure(t *testing.T) {
	for _, src := range []string{
		`<ClinicalDocument xmlns="urn:hl7-org:v3"/>`,
		`<recordTarget xmlns="urn:hl7-org:v3"/>`,
		`<patientRole xmlns="urn:hl7-org:v3"><id root="1.2.3" extension="4"/></patientRole>`,
		`<author xmlns="urn:hl7-org:v3"/>`,
	} {
		doc := etree.NewDocument()
		require.NoError(t, doc.ReadFromString(src))
		_, err := ReadRecordTarget(doc.Root())
		assert.ErrorIs(t, err, ErrRecordTarget, "%s: error", src)
	}
	_, err := ReadRecordTarget(nil)
	assert.ErrorIs(t, err, ErrRecordTarget, "nil element accepted")
	// Elements of another namespace are not CDA elements.
	doc := etree.NewDocument()
	_ = doc.ReadFromString(`<recordTarget xmlns="urn:hl7-org:v3" xmlns:x="urn:other"><x:patientRole/></recordTarget>`)
	_, err = ReadRecordTarget(doc.Root())
	assert.ErrorIs(t, err, ErrRecordTarget, "foreign patientRole")
}

func FuzzReadRecordTarget(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil || doc.Root() == nil {
			return
		}
		p, err := ReadRecordTarget(doc.Root())
		if p == nil {
			t.Fatal("nil Patient")
		}
		if err != nil && !errors.Is(err, ErrRecordTarget) {
			t.Fatalf("error does not wrap ErrRecordTarget: %v", err)
		}
		if err == nil && !p.Identity.INS.IsZero() {
			// A read INS is valid and re-parses.
			if _, err := ParseMatricule(p.Identity.INS.Matricule.String()); err != nil {
				t.Fatal(err)
			}
		}
		if p.Identity.Status != "" {
			t.Fatal("reader must not set a status")
		}
	})
}

func BenchmarkRecordTarget(b *testing.B) {
	id := testIdentity(b)
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := id.RecordTarget(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		rt, err := id.RecordTarget()
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadRecordTarget(rt); err != nil {
				b.Fatal(err)
			}
		}
	})
}
