// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MatriculeLen is the length of a matricule INS: 13 characters of NIR or NIA
// followed by a 2-digit control key.
const MatriculeLen = 15

// Sentinel errors, one per rule a matricule can break. A *MatriculeError
// wraps exactly one of them, so callers can branch with errors.Is.
var (
	// ErrLength: the matricule, made only of ASCII letters and digits, is
	// not 15 characters long.
	ErrLength = errors.New("length")
	// ErrCharacter: a character that has no place in a matricule, at any
	// position and whatever the length (a space, punctuation, a non-ASCII
	// character such as a full-width digit, a byte that is not UTF-8), or a
	// letter in the order number or key.
	ErrCharacter = errors.New("character")
	// ErrSex: the first character is not 1, 2, 7 or 8.
	ErrSex = errors.New("sex digit")
	// ErrYear: the year of birth is not two digits.
	ErrYear = errors.New("year of birth")
	// ErrMonth: the month of birth is not two digits.
	ErrMonth = errors.New("month of birth")
	// ErrPlace: the place of birth is malformed or impossible.
	ErrPlace = errors.New("place of birth")
	// ErrKey: the control key does not match the first 13 characters.
	ErrKey = errors.New("control key")
)

// maxQuoted is how many bytes of the input an error quotes.
const maxQuoted = 32

// MatriculeError reports why a string is not a valid matricule INS. The
// matricule itself is the identifier being judged and is quoted; no other
// patient data ever appears in it.
type MatriculeError struct {
	// Input is the string as given, cut to at most 32 bytes on a character
	// boundary (never inside a UTF-8 sequence), with "…" appended when cut.
	Input string
	Rule  error // one of ErrLength, ErrCharacter, ErrSex, ErrYear, ErrMonth, ErrPlace, ErrKey
	// Pos is the 1-based position of the first offending character,
	// counted in characters (runes, not bytes); 0 if the rule is not
	// positional (ErrLength).
	Pos    int
	Detail string // what was found and what was wanted
}

// Error formats the error as: ins: matricule "<input>": <rule> <detail>.
func (e *MatriculeError) Error() string {
	return fmt.Sprintf("ins: matricule %s: %v %s", strconv.Quote(e.Input), e.Rule, e.Detail)
}

// Unwrap returns the rule sentinel (ErrLength, ErrKey…).
func (e *MatriculeError) Unwrap() error { return e.Rule }

// clip returns s cut to at most max bytes at a rune boundary, with "…"
// appended when it was cut. Bytes that are not UTF-8 count as one rune each.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := 0
	for i := 0; i <= max; {
		cut = i
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:cut] + "…"
}

// Matricule is a valid matricule INS: the NIR (numéro d'inscription au
// répertoire) or NIA (numéro identifiant d'attente) of a person, 13
// characters, followed by its 2-digit control key. The zero value means "no
// matricule". Obtain one with ParseMatricule; a Matricule is comparable.
type Matricule struct{ s string }

// ParseMatricule validates s as a matricule INS, exactly as given: no spaces,
// dots or hyphens are removed, no Unicode normalisation is done (a full-width
// digit is not a digit) and letters must be upper case (only 2A or 2B, the
// Corsican departments, may hold letters). Rules checked, in order:
//
//   - stray characters: anything but ASCII digits and letters (a space, a dot,
//     a hyphen, a full-width digit, a byte that is not UTF-8) is ErrCharacter
//     at its position, whatever the length, so that "279035121518989 " is
//     reported as a space at position 16 rather than as 16 characters;
//   - length: 15 characters;
//   - characters: digits, except 2A/2B in positions 6–7;
//   - sex digit (position 1): 1 man, 2 woman; 7 and 8 (men, women) are
//     accepted for provisional numbers (NIA);
//   - year of birth (positions 2–3): two digits, any value;
//   - month of birth (positions 4–5): two digits; values outside 01–12 are
//     accepted because they are assigned to people registered from an
//     incomplete civil record;
//   - place of birth (positions 6–10): department 01–99 (not 00) or 2A/2B,
//     followed by a commune code 001–999; overseas 971–978 and 98x use a
//     3-digit department and a 2-digit commune; 99 is followed by an INSEE
//     country code 100–999;
//   - control key (positions 14–15): 97 − (the first 13 characters read as a
//     number, modulo 97), with 2A read as 19 and 2B as 18.
//
// Positions are counted in characters from 1. Errors are *MatriculeError
// values wrapping the rule's sentinel.
func ParseMatricule(s string) (Matricule, error) {
	fail := func(rule error, pos int, format string, args ...any) (Matricule, error) {
		return Matricule{}, &MatriculeError{Input: clip(s, maxQuoted), Rule: rule, Pos: pos, Detail: fmt.Sprintf(format, args...)}
	}
	n, pos, detail := scanStray(s, MatriculeLen)
	if pos != 0 {
		return fail(ErrCharacter, pos, "%s", detail)
	}
	if n != MatriculeLen {
		return fail(ErrLength, 0, "%d characters, want %d", n, MatriculeLen)
	}
	// From here s holds 15 ASCII letters and digits: bytes are characters.
	// Every position must be a digit, except 6–7 (2A/2B).
	for i := 0; i < MatriculeLen; i++ {
		c := s[i]
		if digitOrCorsica(s, i, 6) {
			continue
		}
		switch {
		case i == 0:
			return fail(ErrSex, 1, "%q: want 1 or 2 (7 or 8 for a provisional number)", c)
		case i <= 2:
			return fail(ErrYear, i+1, "%q at position %d: want two digits", c, i+1)
		case i <= 4:
			return fail(ErrMonth, i+1, "%q at position %d: want two digits", c, i+1)
		case i == 6 && s[5] == '2' && (c == 'a' || c == 'b'):
			return fail(ErrPlace, i+1, "department \"2%c\": Corsica is written upper case, 2A or 2B", c)
		case i <= 9:
			return fail(ErrPlace, i+1, "%q at position %d: want a digit (2A or 2B only for Corsica)", c, i+1)
		case i <= 12:
			return fail(ErrCharacter, i+1, "%q at position %d: want a digit in the order number", c, i+1)
		default:
			return fail(ErrCharacter, i+1, "%q at position %d: want a digit in the control key", c, i+1)
		}
	}
	switch s[0] {
	case '1', '2', '7', '8':
	default:
		return fail(ErrSex, 1, "%c: want 1 or 2 (7 or 8 for a provisional number)", s[0])
	}
	if err := checkPlace(s[5:10]); err != "" {
		return fail(ErrPlace, 6, "%s", err)
	}
	want := computeKey(s[:13])
	got := int(s[13]-'0')*10 + int(s[14]-'0')
	if got != want {
		return fail(ErrKey, 14, "%02d, want %02d", got, want)
	}
	return Matricule{s: s}, nil
}

// scanStray counts the characters (runes) of s and finds the first one that
// can never appear in a NIR: anything but an ASCII digit or letter. It
// returns the count, and the 1-based position of that character with a
// description of it (0 and "" when there is none). wantLen is the length of
// the number being read (15 for a matricule, 13 for a NIR), which names the
// part of the number a position falls in.
func scanStray(s string, wantLen int) (n, pos int, detail string) {
	for i := 0; i < len(s); {
		c := s[i]
		n++
		if c < utf8.RuneSelf {
			i++
			if isDigit(c) || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
				continue
			}
			if pos == 0 {
				pos = n
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
					detail = fmt.Sprintf("space %q at position %d: a matricule is written without spaces", c, n)
				} else {
					detail = fmt.Sprintf("%q at position %d: want an ASCII digit%s", c, n, part(n, wantLen))
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if pos != 0 {
			continue
		}
		pos = n
		switch {
		case r == utf8.RuneError && size == 1:
			detail = fmt.Sprintf("byte 0x%02x at position %d: not UTF-8, want an ASCII digit", c, n)
		case unicode.IsSpace(r):
			detail = fmt.Sprintf("space %U at position %d: a matricule is written without spaces", r, n)
		case '０' <= r && r <= '９':
			detail = fmt.Sprintf("full-width digit %q (%U) at position %d: want the ASCII digit %c%s", r, r, n, '0'+(r-'０'), part(n, wantLen))
		default:
			detail = fmt.Sprintf("%q (%U) at position %d: want an ASCII digit%s", r, r, n, part(n, wantLen))
		}
	}
	return n, pos, detail
}

// part names the part of a NIR (wantLen 13) or matricule (wantLen 15) that
// the 1-based position pos falls in, as " in the <part>", or "" beyond it.
func part(pos, wantLen int) string {
	switch {
	case pos > wantLen:
		return ""
	case pos == 1:
		return " in the sex digit"
	case pos <= 3:
		return " in the year of birth"
	case pos <= 5:
		return " in the month of birth"
	case pos <= 10:
		return " in the place of birth"
	case pos <= 13:
		return " in the order number"
	default:
		return " in the control key"
	}
}

// checkPlace returns "" when the 5 place characters are acceptable, or the
// reason they are not. Characters are already known to be digits or 2A/2B.
func checkPlace(p string) string {
	dep, com := p[:2], p[2:]
	switch {
	case dep == "00":
		return "department 00: want 01–99, 2A or 2B"
	case dep == "97":
		if p[2] < '1' || p[2] > '8' {
			return fmt.Sprintf("overseas department %s: want 971–978", p[:3])
		}
	case dep == "99":
		if com < "100" {
			return fmt.Sprintf("country code %s: want 100–999 after 99", com)
		}
	case dep == "98":
		// 98x overseas collectivities (984 TAAF, 986 Wallis-et-Futuna,
		// 987 Polynésie française, 988 Nouvelle-Calédonie…): the list has
		// changed over time, so any third digit is accepted.
	default:
		if com == "000" {
			return fmt.Sprintf("commune 000 in department %s: want 001–999", dep)
		}
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitOrCorsica reports whether s[i] is a digit, or the letter of a
// Corsican department (2A, 2B) when i is letterPos, the index that follows
// the '2' (6 in a NIR, 1 in a COG).
func digitOrCorsica(s string, i, letterPos int) bool {
	c := s[i]
	return isDigit(c) || (i == letterPos && s[i-1] == '2' && (c == 'A' || c == 'B'))
}

// computeKey returns the control key of 13 characters already checked to be
// digits or 2A/2B in positions 6–7.
func computeKey(s13 string) int {
	var n uint64
	for i := 0; i < 13; i++ {
		c := s13[i]
		switch {
		case i == 5 && (s13[6] == 'A' || s13[6] == 'B'): // 2A → 19, 2B → 18
			n = n*10 + 1
		case i == 6 && c == 'A':
			n = n*10 + 9
		case i == 6 && c == 'B':
			n = n*10 + 8
		default:
			n = n*10 + uint64(c-'0')
		}
	}
	return int(97 - n%97)
}

// ControlKey returns the 2-digit control key of the first 13 characters of a
// NIR or NIA (digits, with 2A or 2B allowed in positions 6–7). It lets a
// caller complete a 13-character number read from a card or a form. Like
// ParseMatricule it takes the number as given: a space, a full-width digit
// or any character other than an ASCII digit or letter is ErrCharacter at its
// position (in characters), checked before the length (ErrLength).
func ControlKey(nir13 string) (int, error) {
	n, pos, detail := scanStray(nir13, 13)
	if pos != 0 {
		return 0, fmt.Errorf("ins: NIR %q: %w %s", clip(nir13, maxQuoted), ErrCharacter, detail)
	}
	if n != 13 {
		return 0, fmt.Errorf("ins: NIR %q: %w %d characters, want 13", clip(nir13, maxQuoted), ErrLength, n)
	}
	for i := 0; i < 13; i++ {
		if digitOrCorsica(nir13, i, 6) {
			continue
		}
		return 0, fmt.Errorf("ins: NIR %q: %w %q at position %d", nir13, ErrCharacter, nir13[i], i+1)
	}
	return computeKey(nir13), nil
}

// String returns the 15 characters of the matricule, or "" for the zero value.
func (m Matricule) String() string { return m.s }

// IsZero reports whether m is the zero value (no matricule).
func (m Matricule) IsZero() bool { return m.s == "" }

// NIR returns the 13 characters before the control key.
func (m Matricule) NIR() string {
	if m.s == "" {
		return ""
	}
	return m.s[:13]
}

// Key returns the 2-digit control key.
func (m Matricule) Key() int {
	if m.s == "" {
		return 0
	}
	return int(m.s[13]-'0')*10 + int(m.s[14]-'0')
}

// Sex returns the sex encoded by the first digit: Male for 1 and 7, Female
// for 2 and 8; "" for the zero value.
func (m Matricule) Sex() Sex {
	if m.s == "" {
		return ""
	}
	switch m.s[0] {
	case '1', '7':
		return Male
	default:
		return Female
	}
}

// Provisional reports whether the first digit (7 or 8) marks a provisional
// number rather than a certified NIR.
func (m Matricule) Provisional() bool { return m.s != "" && (m.s[0] == '7' || m.s[0] == '8') }

// BirthYear returns the last two digits of the year of birth (0–99). The
// century is not encoded.
func (m Matricule) BirthYear() int { return m.two(1) }

// BirthMonth returns the month of birth as encoded, which may lie outside
// 1–12 for people registered from an incomplete civil record.
func (m Matricule) BirthMonth() int { return m.two(3) }

// Order returns the 3-digit order number that distinguishes people born at
// the same place in the same month.
func (m Matricule) Order() string {
	if m.s == "" {
		return ""
	}
	return m.s[10:13]
}

func (m Matricule) two(i int) int {
	if m.s == "" {
		return 0
	}
	return int(m.s[i]-'0')*10 + int(m.s[i+1]-'0')
}

// Place returns the place of birth encoded in positions 6–10.
func (m Matricule) Place() Place {
	if m.s == "" {
		return Place{}
	}
	p := m.s[5:10]
	switch dep := p[:2]; {
	case dep == "2A" || dep == "2B":
		return Place{Kind: Corsica, Code: p, Department: dep, Commune: p[2:]}
	case dep == "97" || dep == "98":
		return Place{Kind: Overseas, Code: p, Department: p[:3], Commune: p[3:]}
	case dep == "99":
		return Place{Kind: Abroad, Code: p, Country: p[2:]}
	case dep == "96":
		return Place{Kind: NorthAfrica, Code: p, Department: dep, Commune: p[2:]}
	case dep == "20":
		return Place{Kind: Corsica, Code: p, Department: dep, Commune: p[2:]}
	default:
		return Place{Kind: Metropolitan, Code: p, Department: dep, Commune: p[2:]}
	}
}

// PlaceKind classifies the place of birth of a matricule.
type PlaceKind int

// Kinds of place of birth.
const (
	UnknownPlace PlaceKind = iota
	// Metropolitan: department 01–95 (91–95 may also be Algeria or Morocco
	// before independence for older numbers: the code alone cannot tell).
	Metropolitan
	// Corsica: 2A or 2B since 1976, 20 before.
	Corsica
	// Overseas: 97x and 98x departments and collectivities.
	Overseas
	// Abroad: 99 followed by an INSEE country code.
	Abroad
	// NorthAfrica: 96, Tunisia before independence.
	NorthAfrica
)

var placeKindNames = [...]string{"unknown", "metropolitan", "Corsica", "overseas", "abroad", "North Africa before independence"}

// String returns a short English label of the kind.
func (k PlaceKind) String() string {
	if k < 0 || int(k) >= len(placeKindNames) {
		return "PlaceKind(" + strconv.Itoa(int(k)) + ")"
	}
	return placeKindNames[k]
}

// Place is the place of birth read from a matricule.
type Place struct {
	Kind       PlaceKind
	Code       string // the 5 characters as encoded (department + commune, or 99 + country)
	Department string // "75", "2A", "974"; empty when Kind is Abroad
	Commune    string // commune code within the department ("115", "11"); empty when Kind is Abroad
	Country    string // INSEE country code after 99 ("350"); only when Kind is Abroad
}
