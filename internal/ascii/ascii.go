// Package ascii holds the ASCII-only case operations the annuaire packages
// compare addresses and domains with. They are ASCII-only on purpose: an
// address with "ſ" (U+017F) is not the one with "s", as strings.EqualFold
// would say; non-ASCII domains are compared in their IDNA form
// (annuaire/listeblanche).
package ascii

import "encoding/binary"

// AppendLower appends s to dst with its ASCII letters lower-cased, eight
// bytes at a time: in each byte below 0x80, the bit 0x20 is set when the
// byte is within 'A'..'Z'.
func AppendLower(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, s...)
	b := dst[n:]
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], lower8(binary.LittleEndian.Uint64(b[i:])))
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// lower8 lower-cases the ASCII letters of the eight bytes of w.
func lower8(w uint64) uint64 {
	const ones = 0x0101010101010101
	x := w & (0x7f * ones)
	ge := x + (0x80-'A')*ones   // high bit set where x >= 'A'
	gt := x + (0x80-'Z'-1)*ones // high bit set where x > 'Z'
	upper := ge &^ gt &^ w & (0x80 * ones)
	return w | upper>>2
}

// HasUpper reports whether s holds an ASCII upper-case letter.
func HasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// EqualFold compares a and b ignoring ASCII case only.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
