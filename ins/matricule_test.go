// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected keys below were computed with python-stdnum 1.18
// (stdnum.fr.nir.calc_check_digits), not with this package.
func TestParseMatriculeValid(t *testing.T) {
	tests := []struct {
		in      string
		sex     Sex
		year    int
		month   int
		kind    PlaceKind
		code    string
		dep     string
		country string
		prov    bool
	}{
		// ANS examples with valid keys (TestContenuCDA 3.0, DRIM-M).
		{in: "279035121518989", sex: Female, year: 79, month: 3, kind: Metropolitan, code: "51215", dep: "51"},
		{in: "277076322082910", sex: Female, year: 77, month: 7, kind: Metropolitan, code: "63220", dep: "63"},
		{in: "162018885045327", sex: Male, year: 62, month: 1, kind: Metropolitan, code: "88850", dep: "88"},
		// python-stdnum doctests: abroad, Corsica 2B and 2A.
		{in: "295109912611193", sex: Female, year: 95, month: 10, kind: Abroad, code: "99126", country: "126"},
		{in: "253072B07300470", sex: Female, year: 53, month: 7, kind: Corsica, code: "2B073", dep: "2B"},
		{in: "253072A07300443", sex: Female, year: 53, month: 7, kind: Corsica, code: "2A073", dep: "2A"},
		// Overseas (Réunion 974, commune 11), NIA-style provisional numbers.
		{in: "285079741100403", sex: Female, year: 85, month: 7, kind: Overseas, code: "97411", dep: "974"},
		{in: "785077511500412", sex: Male, year: 85, month: 7, kind: Metropolitan, code: "75115", dep: "75", prov: true},
		{in: "885079871100485", sex: Female, year: 85, month: 7, kind: Overseas, code: "98711", dep: "987", prov: true},
		// Months outside 01–12 (incomplete civil record) are accepted.
		{in: "160019935012326", sex: Male, year: 60, month: 1, kind: Abroad, code: "99350", country: "350"},
	}
	for _, tt := range tests {
		m, err := ParseMatricule(tt.in)
		if err != nil {
			t.Errorf("ParseMatricule(%s): %v", tt.in, err)
			continue
		}
		assert.EqualValues(t, tt.in, m.String(), "%s: String() = %q", tt.in, m.String())
		assert.False(t, m.IsZero(), "%s: String() = %q", tt.in, m.String())
		p := m.Place()
		assert.EqualValues(t, tt.sex, m.Sex(), "%s: sex %s year %d month %d prov %v, want %s %d %d %v", tt.in, m.Sex(), m.BirthYear(), m.BirthMonth(), m.Provisional(), tt.sex, tt.year, tt.month, tt.prov)
		assert.EqualValues(t, tt.year, m.BirthYear(), "%s: sex %s year %d month %d prov %v, want %s %d %d %v", tt.in, m.Sex(), m.BirthYear(), m.BirthMonth(), m.Provisional(), tt.sex, tt.year, tt.month, tt.prov)
		assert.EqualValues(t, tt.month, m.BirthMonth(), "%s: sex %s year %d month %d prov %v, want %s %d %d %v", tt.in, m.Sex(), m.BirthYear(), m.BirthMonth(), m.Provisional(), tt.sex, tt.year, tt.month, tt.prov)
		assert.EqualValues(t, tt.prov, m.Provisional(), "%s: sex %s year %d month %d prov %v, want %s %d %d %v", tt.in, m.Sex(), m.BirthYear(), m.BirthMonth(), m.Provisional(), tt.sex, tt.year, tt.month, tt.prov)
		assert.EqualValues(t, tt.kind, p.Kind, "place, want kind code dep country")
		assert.EqualValues(t, tt.code, p.Code, "place, want kind code dep country")
		assert.EqualValues(t, tt.dep, p.Department, "place, want kind code dep country")
		assert.EqualValues(t, tt.country, p.Country, "place, want kind code dep country")
		if m.NIR() != tt.in[:13] || m.Order() != tt.in[10:13] || m.Key() != int(tt.in[13]-'0')*10+int(tt.in[14]-'0') {
			t.Errorf("%s: NIR %s order %s key %d", tt.in, m.NIR(), m.Order(), m.Key())
		}
	}
}

func TestParseMatriculeMonthsOutsideRange(t *testing.T) {
	for _, month := range []string{"00", "13", "20", "30", "42", "50", "99"} {
		nir13 := "185" + month + "75115004"
		key, err := ControlKey(nir13)
		require.NoError(t, err)
		in := nir13 + twoDigits(key)
		if _, err := ParseMatricule(in); err != nil {
			t.Errorf("month %s: %v", month, err)
		}
	}
}

func twoDigits(k int) string { return string([]byte{byte('0' + k/10), byte('0' + k%10)}) }

func TestParseMatriculeErrors(t *testing.T) {
	tests := []struct {
		in   string
		rule error
		pos  int
		msg  string
	}{
		{"", ErrLength, 0, "0 characters, want 15"},
		{"27903512151898", ErrLength, 0, "14 characters, want 15"},
		{"2790351215189890", ErrLength, 0, "16 characters, want 15"},
		// A stray character is named at its position, whatever the length.
		{"2 79 03 51 215 189 89", ErrCharacter, 2, "space ' ' at position 2: a matricule is written without spaces"},
		{"27903512151898é", ErrCharacter, 15, "'é' (U+00E9) at position 15: want an ASCII digit in the control key"}, // 15 runes, 16 bytes
		{"A79035121518989", ErrSex, 1, "want 1 or 2"},
		{"379035121518989", ErrSex, 1, "3: want 1 or 2"},
		{"579035121518989", ErrSex, 1, "5: want 1 or 2"},
		{"079035121518989", ErrSex, 1, "0: want 1 or 2"},
		{"2X9035121518989", ErrYear, 2, "position 2"},
		{"27 035121518989", ErrCharacter, 3, "space ' ' at position 3"},
		{"2790A5121518989", ErrMonth, 5, "position 5"},
		{"279035121518988", ErrKey, 14, "88, want 89"},
		// ANS examples whose keys are wrong (K30 DECOURCY children).
		{"221042545611404", ErrKey, 14, "04, want 83"},
		{"223042545611404", ErrKey, 14, "04, want 82"},
		{"222127505611201", ErrKey, 14, "01, want 47"},
		{"224027511583555", ErrKey, 14, "55, want 12"},
		{"253072a07300443", ErrPlace, 7, "upper case"},
		{"253072C07300443", ErrPlace, 7, "2A or 2B only for Corsica"},
		{"25307A207300443", ErrPlace, 6, "position 6"},
		{"2530720X7300443", ErrPlace, 8, "position 8"},
		{"185050000100402", ErrPlace, 6, "department 00"},
		{"185077500000476", ErrPlace, 6, "commune 000"},
		{"185079701100425", ErrPlace, 6, "overseas department 970"},
		{"185079791100400", ErrPlace, 6, "overseas department 979"},
		{"185079909900400", ErrPlace, 6, "country code 099"},
		{"18507751150A412", ErrCharacter, 12, "order number"},
		{"1850775115004-2", ErrCharacter, 14, "control key"},
		{"185077511500.12", ErrCharacter, 13, "order number"},
		{"1850775115004.2", ErrCharacter, 14, "control key"},
	}
	for _, tt := range tests {
		m, err := ParseMatricule(tt.in)
		if err == nil {
			t.Errorf("ParseMatricule(%q) = %v, want error %v", tt.in, m, tt.rule)
			continue
		}
		if !m.IsZero() {
			t.Errorf("ParseMatricule(%q) returned a non-zero matricule with an error", tt.in)
		}
		if !errors.Is(err, tt.rule) {
			t.Errorf("ParseMatricule(%q) error %q, want rule %v", tt.in, err, tt.rule)
		}
		var me *MatriculeError
		if !errors.As(err, &me) {
			t.Errorf("ParseMatricule(%q): error %T is not *MatriculeError", tt.in, err)
			continue
		}
		if me.Pos != tt.pos {
			t.Errorf("ParseMatricule(%q): position %d, want %d (%v)", tt.in, me.Pos, tt.pos, err)
		}
		assert.ErrorContains(t, err, tt.msg, "ParseMatricule(%q): the message a user reads", tt.in)
		assert.True(t, strings.HasPrefix(err.Error(), "ins: matricule "), "ParseMatricule(%q): message %q", tt.in, err)
	}
}

func TestMatriculeErrorFormat(t *testing.T) {
	_, err := ParseMatricule("279035121518988")
	want := `ins: matricule "279035121518988": control key 88, want 89`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	long := strings.Repeat("1", 200)
	_, err = ParseMatricule(long)
	if err == nil || len(err.Error()) > 120 {
		t.Fatalf("long input should give a short error, got %d bytes", len(err.Error()))
	}
}

func TestControlKey(t *testing.T) {
	for nir, want := range map[string]int{
		"2790351215189": 89, "253072B073004": 70, "253072A073004": 43, "1850775115004": 21, "1850775000004": 76,
	} {
		got, err := ControlKey(nir)
		assert.NoError(t, err, "ControlKey(%s)", nir)
		assert.EqualValues(t, want, got, "ControlKey(%s)", nir)
	}
	for _, bad := range []string{"", "279035121518", "27903512151898", "27903512X5189", "25307A2073004"} {
		_, err := ControlKey(bad)
		assert.Error(t, err, "ControlKey(%q) accepted", bad)
	}
}

func TestZeroMatricule(t *testing.T) {
	var m Matricule
	if !m.IsZero() || m.String() != "" || m.NIR() != "" || m.Key() != 0 || m.Sex() != "" || m.Provisional() ||
		m.BirthYear() != 0 || m.BirthMonth() != 0 || m.Order() != "" || m.Place() != (Place{}) {
		t.Fatal("zero Matricule must read as empty")
	}
	if UnknownPlace.String() != "unknown" || Abroad.String() != "abroad" || PlaceKind(42).String() != "PlaceKind(42)" {
		t.Fatal("PlaceKind names")
	}
}

func FuzzParseMatricule(f *testing.F) {
	for _, s := range []string{"279035121518989", "253072B07300470", "253072a07300443", "185079909900400", "", "2 79", "27903512151898é", "2790351215\uff118989", "279035121518989 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatricule(s)
		if err != nil {
			var me *MatriculeError
			if !errors.As(err, &me) || !m.IsZero() {
				t.Fatalf("bad error shape for %q: %v", s, err)
			}
			// The length rule counts characters, and only inputs made of
			// ASCII letters and digits reach it.
			if errors.Is(err, ErrLength) && (utf8.RuneCountInString(s) == MatriculeLen || strings.ContainsFunc(s, func(r rune) bool {
				return r >= utf8.RuneSelf || !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
			})) {
				t.Fatalf("%q: %v: a stray character must be reported, not counted", s, err)
			}
			if me.Pos > utf8.RuneCountInString(s) {
				t.Fatalf("%q: position %d beyond the input", s, me.Pos)
			}
			if len(strings.TrimSuffix(me.Input, "…")) > 32 || (utf8.ValidString(s) && !utf8.ValidString(me.Input)) {
				t.Fatalf("%q: Input %q cut badly", s, me.Input)
			}
			return
		}
		// Accepted: round-trips, has a consistent key, and decodes.
		if m.String() != s {
			t.Fatalf("String() = %q, want %q", m.String(), s)
		}
		key, err := ControlKey(s[:13])
		if err != nil || key != m.Key() {
			t.Fatalf("ControlKey(%q) = %d, %v; matricule key %d", s[:13], key, err, m.Key())
		}
		if m.Place().Code != s[5:10] || (m.Sex() != Male && m.Sex() != Female) {
			t.Fatalf("decoding of %q: %+v %s", s, m.Place(), m.Sex())
		}
	})
}

// TestParseMatriculeStrayCharacter covers issue 15 point 15: a character that
// has no place in a matricule (a full-width digit, a space anywhere, a byte
// that is not UTF-8) is ErrCharacter at its position in characters, never an
// ErrLength that counts it, even when the input has 15 characters.
func TestParseMatriculeStrayCharacter(t *testing.T) {
	const valid = "279035121518989"
	tests := []struct {
		name string
		in   string
		pos  int
		msg  string
	}{
		// 15 characters, 17 bytes: U+FF11 FULLWIDTH DIGIT ONE in the order number.
		{"full-width digit in the order number", "2790351215\uff11" + "8989", 11, "full-width digit '１' (U+FF11) at position 11: want the ASCII digit 1 in the order number"},
		{"full-width digit first", "\uff12" + valid[1:], 1, "full-width digit '２' (U+FF12) at position 1: want the ASCII digit 2 in the sex digit"},
		{"full-width digit in the key", valid[:14] + "\uff19", 15, "(U+FF19) at position 15: want the ASCII digit 9 in the control key"},
		{"all full-width", "２７９０３５１２１５１８９８９", 1, "full-width digit '２'"},
		{"trailing space", valid + " ", 16, "space ' ' at position 16: a matricule is written without spaces"},
		{"leading space", " " + valid, 1, "space ' ' at position 1"},
		{"trailing newline", valid + "\n", 16, `space '\n' at position 16`},
		{"no-break space", "2790351215\u00a018989", 11, "space U+00A0 at position 11: a matricule is written without spaces"},
		{"space in a 15-character input", "27903512151898 ", 15, "space ' ' at position 15"},
		{"not UTF-8", "2790351215\xff18989", 11, "byte 0xff at position 11: not UTF-8"},
		{"hyphen in the year", "2-9035121518989", 2, "'-' at position 2: want an ASCII digit in the year of birth"},
		{"beyond the length", valid + "-0", 16, "'-' at position 16: want an ASCII digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMatricule(tt.in)
			require.Error(t, err)
			assert.True(t, m.IsZero())
			assert.ErrorIs(t, err, ErrCharacter)
			assert.NotErrorIs(t, err, ErrLength)
			var me *MatriculeError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.pos, me.Pos, "position in characters")
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "ins: matricule "), err.Error())
		})
	}
}

// TestParseMatriculeLengthCountsCharacters: the length rule counts
// characters; a message can never read "15 characters, want 15".
func TestParseMatriculeLengthCountsCharacters(t *testing.T) {
	for _, in := range []string{"2790351215189", "27903512151898", "2790351215189890", strings.Repeat("1", 200)} {
		_, err := ParseMatricule(in)
		require.ErrorIs(t, err, ErrLength, in)
		var me *MatriculeError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, 0, me.Pos)
		assert.Equal(t, fmt.Sprintf("%d characters, want 15", len(in)), me.Detail)
	}
}

// TestMatriculeErrorInputCutOnRuneBoundary: Input quotes at most 32 bytes of
// the input and never cuts a UTF-8 sequence.
func TestMatriculeErrorInputCutOnRuneBoundary(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// 31 ASCII bytes then a 2-byte é across the 32-byte mark.
		{strings.Repeat("1", 31) + "é" + "23", strings.Repeat("1", 31) + "…"},
		// 3-byte full-width digits: 10 of them fill 30 bytes, the 11th would cross.
		{strings.Repeat("１", 20), strings.Repeat("１", 10) + "…"},
		// Exactly 32 bytes ending on a boundary: kept whole, then cut.
		{strings.Repeat("1", 30) + "é" + "9", strings.Repeat("1", 30) + "é" + "…"},
		// Short inputs are quoted whole, even when they are not UTF-8.
		{"2790351215\xff18989", "2790351215\xff18989"},
		// Invalid bytes count one each and are never merged with what follows.
		{strings.Repeat("\xff", 31) + "１", strings.Repeat("\xff", 31) + "…"},
	}
	for _, tt := range tests {
		_, err := ParseMatricule(tt.in)
		var me *MatriculeError
		require.ErrorAs(t, err, &me, tt.in)
		assert.Equal(t, tt.want, me.Input)
		assert.LessOrEqual(t, len(strings.TrimSuffix(me.Input, "…")), 32)
		if utf8.ValidString(tt.in) {
			assert.True(t, utf8.ValidString(me.Input), "Input %q is not UTF-8", me.Input)
		}
	}
}

// TestControlKeyStrayCharacter: ControlKey reads its 13 characters the same
// way as ParseMatricule (characters before length, counted in runes).
func TestControlKeyStrayCharacter(t *testing.T) {
	_, err := ControlKey("279035121518\uff19") // 13 characters, 15 bytes
	require.ErrorIs(t, err, ErrCharacter)
	assert.NotErrorIs(t, err, ErrLength)
	assert.Contains(t, err.Error(), "position 13")
	_, err = ControlKey("2790351215189 ")
	require.ErrorIs(t, err, ErrCharacter)
	assert.Contains(t, err.Error(), "space ' ' at position 14")
	_, err = ControlKey("279035121518")
	require.ErrorIs(t, err, ErrLength)
	assert.Contains(t, err.Error(), "12 characters, want 13")
}
