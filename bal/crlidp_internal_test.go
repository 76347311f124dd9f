// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal/baltest"
)

// idpSeeds are issuingDistributionPoint values encoded by baltest (an
// encoder written apart from parseIDP and cross-checked with OpenSSL).
func idpSeeds(t testing.TB) [][]byte {
	name := []byte{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 'T', 'E', 'S', 'T'}
	var out [][]byte
	for _, p := range []baltest.IssuingDistributionPoint{
		{},
		{URIs: []string{"http://crl.test/a.crl", "ldap://crl.test/cn=a"}},
		{DirectoryNames: [][]byte{name}, OnlyContainsUserCerts: true},
		{OnlyContainsCACerts: true, OnlySomeReasons: []int{1, 2}},
		{OnlySomeReasons: []int{1, 2, 3, 4, 5, 6, 7, 8}, IndirectCRL: true},
		{OnlyContainsAttributeCerts: true},
		{RelativeName: []byte{0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, 'p', '7'}},
	} {
		der, err := p.Marshal()
		require.NoError(t, err)
		out = append(out, der)
	}
	return out
}

// parseIDP reads what RFC 5280 §5.2.5 defines and refuses, with
// ErrMalformedIDP, what is not it: each field out of its place, twice,
// in the wrong form, an undefined field, trailing bytes, a BOOLEAN that is
// not DER, a ReasonFlags with bad padding, two "only" restrictions.
func TestParseIDP(t *testing.T) {
	seeds := idpSeeds(t)
	p, err := parseIDP(seeds[1])
	require.NoError(t, err)
	require.True(t, p.hasFullName)
	require.Len(t, p.fullName, 2)
	assert.Equal(t, gnURI, p.fullName[0].tag)
	assert.Equal(t, "http://crl.test/a.crl", string(p.fullName[0].value))

	p, err = parseIDP(seeds[3])
	require.NoError(t, err)
	assert.True(t, p.onlyCACerts)
	assert.True(t, p.someReasons)
	assert.True(t, p.reason(1) && p.reason(2) && !p.reason(3))
	assert.False(t, p.allReasons())
	assert.Equal(t, "(keyCompromise, cACompromise)", p.reasonNames())

	p, err = parseIDP(seeds[4])
	require.NoError(t, err)
	assert.True(t, p.allReasons())
	assert.True(t, p.indirectCRL)

	p, err = parseIDP(seeds[6])
	require.NoError(t, err)
	assert.NotNil(t, p.relativeName)
	assert.False(t, p.hasFullName)

	p, err = parseIDP([]byte{0x30, 0x03, 0x81, 0x01, 0x00}) // explicit FALSE: tolerated
	require.NoError(t, err)
	assert.False(t, p.onlyUserCerts)

	for name, der := range map[string][]byte{
		"empty":                         {},
		"not a SEQUENCE":                {0x31, 0x00},
		"trailing bytes":                {0x30, 0x00, 0x00},
		"field out of order":            {0x30, 0x06, 0x82, 0x01, 0xff, 0x81, 0x01, 0xff},
		"field twice":                   {0x30, 0x06, 0x82, 0x01, 0xff, 0x82, 0x01, 0xff},
		"undefined field [6]":           {0x30, 0x03, 0x86, 0x01, 0xff},
		"universal element":             {0x30, 0x03, 0x01, 0x01, 0xff},
		"BOOLEAN of two bytes":          {0x30, 0x04, 0x81, 0x02, 0xff, 0xff},
		"BOOLEAN 0x01":                  {0x30, 0x03, 0x81, 0x01, 0x01},
		"constructed BOOLEAN":           {0x30, 0x03, 0xa1, 0x01, 0xff},
		"primitive distributionPoint":   {0x30, 0x02, 0x80, 0x00},
		"empty fullName":                {0x30, 0x04, 0xa0, 0x02, 0xa0, 0x00},
		"two names in the CHOICE":       {0x30, 0x08, 0xa0, 0x06, 0xa0, 0x00, 0xa1, 0x00, 0x00, 0x00},
		"URI constructed":               {0x30, 0x06, 0xa0, 0x04, 0xa0, 0x02, 0xa6, 0x00},
		"directoryName not a Name":      {0x30, 0x07, 0xa0, 0x05, 0xa0, 0x03, 0xa4, 0x01, 0x05},
		"relative name not a SET":       {0x30, 0x06, 0xa0, 0x04, 0xa1, 0x02, 0x05, 0x00},
		"reasons: 8 unused bits":        {0x30, 0x04, 0x83, 0x02, 0x08, 0x80},
		"reasons: unused bits set":      {0x30, 0x04, 0x83, 0x02, 0x06, 0x41},
		"reasons: empty":                {0x30, 0x02, 0x83, 0x00},
		"user and CA only":              {0x30, 0x06, 0x81, 0x01, 0xff, 0x82, 0x01, 0xff},
		"length past the end":           {0x30, 0x05, 0x81, 0x01, 0xff},
		"non-minimal length":            {0x30, 0x81, 0x03, 0x81, 0x01, 0xff},
		"indefinite length":             {0x30, 0x80, 0x81, 0x01, 0xff, 0x00, 0x00},
		"GeneralName [9]":               {0x30, 0x06, 0xa0, 0x04, 0xa0, 0x02, 0x89, 0x00},
		"fullName element universal":    {0x30, 0x06, 0xa0, 0x04, 0xa0, 0x02, 0x04, 0x00},
		"DistributionPointName [2]":     {0x30, 0x04, 0xa0, 0x02, 0xa2, 0x00},
		"onlySomeReasons constructed":   {0x30, 0x04, 0xa3, 0x02, 0x00, 0x00},
		"empty nameRelativeToCRLIssuer": {0x30, 0x04, 0xa0, 0x02, 0xa1, 0x00},
	} {
		_, err := parseIDP(der)
		assert.ErrorIs(t, err, ErrMalformedIDP, name)
	}
}

// FuzzParseIDP: parseIDP never panics, what it accepts keeps the
// invariants of RFC 5280 §5.2.5, and what it accepts and baltest can
// encode parses back to the same meaning.
func FuzzParseIDP(f *testing.F) {
	for _, s := range idpSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0x30, 0x07, 0x83, 0x02, 0x06, 0x40, 0x82, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, der []byte) {
		p, err := parseIDP(der)
		if err != nil {
			if !errors.Is(err, ErrMalformedIDP) {
				t.Fatalf("error without ErrMalformedIDP: %v", err)
			}
			return
		}
		n := 0
		for _, b := range []bool{p.onlyUserCerts, p.onlyCACerts, p.onlyAttributeCerts} {
			if b {
				n++
			}
		}
		if n > 1 {
			t.Fatal("two only* restrictions accepted")
		}
		if p.hasFullName && (len(p.fullName) == 0 || p.relativeName != nil) {
			t.Fatalf("inconsistent distribution point: %+v", p)
		}
		if p.reasonBits < 0 || p.reasonBits > 8*len(p.reasons) {
			t.Fatalf("reasonBits %d for %d octets", p.reasonBits, len(p.reasons))
		}
		_ = p.reasonNames()
		_ = p.names()

		q, ok := toBaltest(p)
		if !ok {
			return
		}
		again, err := q.Marshal()
		if err != nil {
			t.Fatalf("baltest cannot encode %+v: %v", q, err)
		}
		p2, err := parseIDP(again)
		if err != nil {
			t.Fatalf("re-encoded value refused: %v", err)
		}
		if !sameIDP(p, p2) {
			t.Fatalf("round trip changed the meaning:\n%+v\n%+v", p, p2)
		}
	})
}

// toBaltest returns p as a baltest value, when baltest can encode it
// (URIs and directory names only, reasons 1–8 only).
func toBaltest(p issuingDP) (baltest.IssuingDistributionPoint, bool) {
	q := baltest.IssuingDistributionPoint{
		OnlyContainsUserCerts: p.onlyUserCerts, OnlyContainsCACerts: p.onlyCACerts,
		OnlyContainsAttributeCerts: p.onlyAttributeCerts, IndirectCRL: p.indirectCRL,
	}
	if p.relativeName != nil {
		q.RelativeName = append([]byte{0x31, byte(len(p.relativeName))}, p.relativeName...)
		if len(p.relativeName) > 127 {
			return q, false
		}
	}
	for _, n := range p.fullName {
		switch n.tag {
		case gnURI:
			q.URIs = append(q.URIs, string(n.value))
		case gnDirectoryName:
			q.DirectoryNames = append(q.DirectoryNames, n.value)
		default:
			return q, false
		}
	}
	for i := 0; i < p.reasonBits; i++ {
		if p.reason(i) {
			if i == 0 || i > 8 {
				return q, false
			}
			q.OnlySomeReasons = append(q.OnlySomeReasons, i)
		}
	}
	if p.someReasons && len(q.OnlySomeReasons) == 0 {
		return q, false // an empty ReasonFlags: baltest leaves the field out
	}
	return q, true
}

func sameIDP(a, b issuingDP) bool {
	names := func(p issuingDP) []string {
		var out []string
		for _, n := range p.fullName {
			out = append(out, string(rune('0'+n.tag))+string(n.value))
		}
		slices.Sort(out)
		return out
	}
	reasons := func(p issuingDP) []int {
		var out []int
		for i := 0; i < p.reasonBits; i++ {
			if p.reason(i) {
				out = append(out, i)
			}
		}
		return out
	}
	return a.hasFullName == b.hasFullName && slices.Equal(names(a), names(b)) && bytes.Equal(a.relativeName, b.relativeName) &&
		a.onlyUserCerts == b.onlyUserCerts && a.onlyCACerts == b.onlyCACerts && a.onlyAttributeCerts == b.onlyAttributeCerts &&
		a.indirectCRL == b.indirectCRL && a.someReasons == b.someReasons && slices.Equal(reasons(a), reasons(b))
}
