// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testIdentity is the ANS TestContenuCDA 3.0 test patient (INS-NIR de test
// 279035121518989, traits as published in its DOC_NON_STRUCTURE example).
func testIdentity(t testing.TB) Identity {
	t.Helper()
	m, err := ParseMatricule("279035121518989")
	require.NoError(t, err)
	return Identity{
		Status: Qualified,
		INS:    INS{Matricule: m, Authority: AuthorityNIRTest},
		Traits: Traits{
			BirthFamilyName:     "PAT-TROIS",
			FirstBirthGivenName: "DOMINIQUE",
			BirthGivenNames:     "DOMINIQUE MARIE-LOUISE",
			BirthDate:           Date{1979, 3, 28},
			Sex:                 Female,
			BirthPlace:          "51215",
			BirthPlaceName:      "DOMPREMY",
			UsedFamilyName:      "PAT-TROIS",
			UsedGivenName:       "DOMINIQUE",
		},
		LocalIDs: []LocalID{{Value: "1234567890121", Authority: "1.2.3.4.567.8.9.10"}},
	}
}

func TestAuthorities(t *testing.T) {
	for _, a := range []Authority{AuthorityNIR, AuthorityNIA, AuthorityNIRTest, AuthorityNIRDemo} {
		got, err := ParseAuthority(string(a))
		if err != nil || got != a || !a.IsINS() || a.TypeCode() == "" || a.String() != string(a) {
			t.Errorf("authority %s: %v %v", a, got, err)
		}
	}
	assert.EqualValues(t, "INS-NIR-DEMO", AuthorityNIRDemo.TypeCode(), ".10 is INS-NIR de test and .11 INS-NIR de démonstration")
	assert.EqualValues(t, "INS-NIR-TEST", AuthorityNIRTest.TypeCode(), ".10 is INS-NIR de test and .11 INS-NIR de démonstration")
	assert.True(t, AuthorityNIRDemo.IsFictitious(), "IsFictitious")
	assert.False(t, AuthorityNIR.IsFictitious(), "IsFictitious")
	_, err := ParseAuthority(OIDINSC)
	assert.ErrorIs(t, err, ErrINSC, "INS-C")
	for _, oid := range []string{OIDNIRSocialSecurity, "1.2.250.1.213.1.4.12", "", "1.2.3"} {
		_, err := ParseAuthority(oid)
		assert.ErrorIs(t, err, ErrNotINSAuthority, "ParseAuthority(%q)", oid)
		if Authority(oid).TypeCode() != "" {
			t.Errorf("%q has a type code", oid)
		}
	}
}

func TestStatus(t *testing.T) {
	for _, c := range []string{"PROV", "RECUP", "VALI", "QUAL"} {
		if s, err := ParseStatus(c); err != nil || string(s) != c {
			t.Errorf("ParseStatus(%s): %v", c, err)
		}
	}
	for _, c := range []string{"", "qual", "DOUB"} {
		_, err := ParseStatus(c)
		assert.Error(t, err, "ParseStatus(%q) accepted", c)
	}
}

// Every emitting path refuses a non-qualified identity.
func TestOnlyQualifiedEmitsINS(t *testing.T) {
	for _, st := range []Status{"", Provisional, Recovered, Validated} {
		id := testIdentity(t)
		id.Status = st
		_, err := id.QualifiedINS()
		assert.ErrorIs(t, err, ErrNotQualified, "%q: QualifiedINS", st)
		_, err = id.PatientID()
		assert.ErrorIs(t, err, ErrNotQualified, "%q: PatientID", st)
		_, err = id.MonEspaceSanteAddress()
		assert.ErrorIs(t, err, ErrNotQualified, "%q: MonEspaceSanteAddress", st)
		for _, l := range id.SourcePatientInfo() {
			if strings.Contains(l, id.INS.Matricule.String()) {
				t.Errorf("%q: sourcePatientInfo carries the matricule: %s", st, l)
			}
		}
		cx, err := id.SourcePatientID()
		assert.NoError(t, err, "%q: SourcePatientID; want the IPP", st)
		assert.EqualValues(t, TypePI, cx.TypeCode, "%q: SourcePatientID; want the IPP", st)
		if st == "" {
			continue // unknown status: Validate refuses it
		}
		rt, err := id.RecordTarget()
		require.NoError(t, err, "%q: RecordTarget", st)
		if s := xmlString(rt); strings.Contains(s, "279035121518989") || !strings.Contains(s, "1234567890121") || !strings.Contains(s, "PAT-TROIS") {
			t.Errorf("%q: recordTarget must carry the IPP and traits, never the INS:\n%s", st, s)
		}
		// Without local identifier, nothing identifies the patient.
		id.LocalIDs = nil
		_, err = id.RecordTarget()
		assert.ErrorIs(t, err, ErrRecordTarget, "%q without IPP", st)
		_, err = id.SourcePatientID()
		assert.ErrorIs(t, err, ErrNotQualified, "%q without IPP: SourcePatientID", st)
	}
}

func TestQualifiedIdentity(t *testing.T) {
	id := testIdentity(t)
	require.NoError(t, id.Validate())
	addr, err := id.MonEspaceSanteAddress()
	require.NoError(t, err, "address")
	require.EqualValues(t, "279035121518989@patient.mssante.fr", addr, "address")
	m, err := ParseMonEspaceSanteAddress("279035121518989@Patient.MSSante.fr")
	require.NoError(t, err, "ParseMonEspaceSanteAddress")
	require.EqualValues(t, id.INS.Matricule, m, "ParseMonEspaceSanteAddress")
	for _, bad := range []string{"279035121518989@mssante.fr", "279035121518988@patient.mssante.fr", "nobody"} {
		_, err := ParseMonEspaceSanteAddress(bad)
		assert.ErrorIs(t, err, ErrMonEspaceSanteAddress, "ParseMonEspaceSanteAddress(%q)", bad)
	}
	if c := id.Coherence(); len(c) != 0 {
		t.Errorf("coherent identity reported %v", c)
	}
	id.Traits.Sex = Male
	id.Traits.BirthDate = Date{1980, 4, 28}
	id.Traits.BirthPlace = "75115"
	if c := id.Coherence(); len(c) != 4 {
		t.Errorf("Coherence = %v, want 4 discrepancies", c)
	}
}

func TestQualifiedNeedsINSAndTraits(t *testing.T) {
	mutate := []struct {
		name string
		f    func(*Identity)
		want error
	}{
		{"no INS", func(i *Identity) { i.INS = INS{} }, ErrNoINS},
		{"INS-C authority", func(i *Identity) { i.INS.Authority = OIDINSC }, ErrINSC},
		{"unknown authority", func(i *Identity) { i.INS.Authority = "1.2.3" }, ErrNotINSAuthority},
		{"no birth name", func(i *Identity) { i.Traits.BirthFamilyName = " " }, ErrTraits},
		{"no first given", func(i *Identity) { i.Traits.FirstBirthGivenName = "" }, ErrTraits},
		{"no given list", func(i *Identity) { i.Traits.BirthGivenNames = "" }, ErrTraits},
		{"no birth date", func(i *Identity) { i.Traits.BirthDate = Date{} }, ErrTraits},
		{"no sex", func(i *Identity) { i.Traits.Sex = "" }, ErrTraits},
		{"sex unknown", func(i *Identity) { i.Traits.Sex = Unknown }, ErrTraits},
		{"no COG", func(i *Identity) { i.Traits.BirthPlace = "" }, ErrTraits},
		{"bad COG", func(i *Identity) { i.Traits.BirthPlace = "5121" }, ErrTraits},
		{"bad COG chars", func(i *Identity) { i.Traits.BirthPlace = "2C004" }, ErrTraits},
		{"COG 00", func(i *Identity) { i.Traits.BirthPlace = "00123" }, ErrTraits},
		{"bad date", func(i *Identity) { i.Traits.BirthDate = Date{1979, 2, 30} }, ErrTraits},
		{"bad sex", func(i *Identity) { i.Traits.Sex = "X" }, ErrTraits},
	}
	for _, m := range mutate {
		id := testIdentity(t)
		m.f(&id)
		_, err := id.RecordTarget()
		if !errors.Is(err, m.want) {
			t.Errorf("%s: RecordTarget error %v, want %v", m.name, err, m.want)
		}
		if err != nil && (strings.Contains(err.Error(), "DOMINIQUE") || strings.Contains(err.Error(), "1979")) {
			t.Errorf("%s: error leaks traits: %v", m.name, err)
		}
		if _, err := id.PatientID(); !errors.Is(err, m.want) {
			t.Errorf("%s: PatientID error %v, want %v", m.name, err, m.want)
		}
	}
	// StrucMin requires birthTime/@value whatever the status.
	id := testIdentity(t)
	id.Status, id.Traits.BirthDate = Provisional, Date{}
	_, err := id.RecordTarget()
	assert.ErrorIs(t, err, ErrRecordTarget, "provisional identity without birth date")
	// Local identifiers must be complete and not INS OIDs.
	id = testIdentity(t)
	id.LocalIDs = append(id.LocalIDs, LocalID{Value: "x"})
	assert.Error(t, id.Validate(), "local id without authority accepted")
	id.LocalIDs[1].Authority = string(AuthorityNIR)
	assert.Error(t, id.Validate(), "local id under an INS OID accepted")
}

func TestDate(t *testing.T) {
	for _, s := range []string{"19790328", "1979-03-28"} {
		d, err := ParseDate(s)
		if err != nil || d != (Date{1979, 3, 28}) || d.String() != "19790328" || !d.Valid() {
			t.Errorf("ParseDate(%s) = %v, %v", s, d, err)
		}
	}
	// Year 0000 is read by time.Parse but is no Date.Valid (found by
	// FuzzParseDate).
	for _, s := range []string{"", "1979032", "19790230", "28/03/1979", "00000101", "0000-01-01", "1979-0328", "19790328 "} {
		_, err := ParseDate(s)
		assert.Error(t, err, "ParseDate(%q) accepted", s)
	}
}
