// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"unicode/utf8"
)

// Name folding: names are compared without case and accents, the way people
// type them ("héloïse" finds "HELOISE" and "Héloïse"). The folded form is
// upper-case ASCII for the Latin letters of French and neighbouring
// languages; ligatures expand (Œ → OE, Æ → AE, ß → SS); typographic
// apostrophes become "'"; other characters are kept as their UTF-8 bytes.

// foldTable maps the Latin-1 Supplement and Latin Extended-A letters
// (U+00C0–U+017F) to their folded ASCII form; "" means "keep as is".
var foldTable = [0x180 - 0xC0]string{
	// U+00C0
	"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
	"D", "N", "O", "O", "O", "O", "O", "", "O", "U", "U", "U", "U", "Y", "TH", "SS",
	"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
	"D", "N", "O", "O", "O", "O", "O", "", "O", "U", "U", "U", "U", "Y", "TH", "Y",
	// U+0100
	"A", "A", "A", "A", "A", "A", "C", "C", "C", "C", "C", "C", "C", "C", "D", "D",
	"D", "D", "E", "E", "E", "E", "E", "E", "E", "E", "E", "E", "G", "G", "G", "G",
	"G", "G", "G", "G", "H", "H", "H", "H", "I", "I", "I", "I", "I", "I", "I", "I",
	"I", "I", "IJ", "IJ", "J", "J", "K", "K", "K", "L", "L", "L", "L", "L", "L", "L",
	"L", "L", "L", "N", "N", "N", "N", "N", "N", "N", "N", "N", "O", "O", "O", "O",
	"O", "O", "OE", "OE", "R", "R", "R", "R", "R", "R", "S", "S", "S", "S", "S", "S",
	"S", "S", "T", "T", "T", "T", "T", "T", "U", "U", "U", "U", "U", "U", "U", "U",
	"U", "U", "U", "U", "W", "W", "Y", "Y", "Y", "Z", "Z", "Z", "Z", "Z", "Z", "S",
}

// folder yields the folded bytes of a string one at a time, without
// allocating. The zero value folds "".
type folder struct {
	s       string
	i       int
	pending string
}

// next returns the next folded byte, or ok=false at the end.
func (f *folder) next() (b byte, ok bool) {
	if f.pending != "" {
		b, f.pending = f.pending[0], f.pending[1:]
		return b, true
	}
	if f.i >= len(f.s) {
		return 0, false
	}
	c := f.s[f.i]
	if c < utf8.RuneSelf {
		f.i++
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		return c, true
	}
	r, size := utf8.DecodeRuneInString(f.s[f.i:])
	rep := foldRune(r, f.s[f.i:f.i+size])
	f.i += size
	b, f.pending = rep[0], rep[1:]
	return b, true
}

// foldRune returns the folded form of a non-ASCII rune r written raw.
func foldRune(r rune, raw string) string {
	switch {
	case r >= 0xC0 && r < 0x180:
		if rep := foldTable[r-0xC0]; rep != "" {
			return rep
		}
	case r == '\u2019' || r == '\u02BC' || r == '\u2018':
		return "'"
	}
	return raw
}

// foldString returns the folded form of s (allocating only when it differs).
func foldString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	buf := make([]byte, 0, len(s)+4)
	f := folder{s: s}
	for b, ok := f.next(); ok; b, ok = f.next() {
		buf = append(buf, b)
	}
	return string(buf)
}
