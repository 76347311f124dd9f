// SPDX-License-Identifier: Apache-2.0

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
func lower8(w uint64) uint64 { return w | upper8(w)>>2 }

// upper8 marks with their high bit the bytes of w that are ASCII
// upper-case letters.
func upper8(w uint64) uint64 {
	const ones = 0x0101010101010101
	x := w & (0x7f * ones)
	ge := x + (0x80-'A')*ones   // high bit set where x >= 'A'
	gt := x + (0x80-'Z'-1)*ones // high bit set where x > 'Z'
	return ge &^ gt &^ w & (0x80 * ones)
}

// load64 reads the eight bytes of s at i as a little-endian word; the
// compiler merges the byte loads into one.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// HasUpper reports whether s holds an ASCII upper-case letter, eight bytes
// at a time (it runs on every lookup by address).
func HasUpper(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if upper8(load64(s, i)) != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
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
