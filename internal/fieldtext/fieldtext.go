// SPDX-License-Identifier: Apache-2.0

// Package fieldtext holds the one definition of the text a trace field may
// carry, shared by package trace (which refuses anything else) and package
// bal (which turns a server's reply into such text before tracing it).
//
// It is internal: a vendor records events through trace, whose
// Event.Normalize documents the same rules.
package fieldtext

import (
	"strings"
	"unicode/utf8"
)

// Max is the longest value a trace field may hold, in bytes (trace.MaxField).
const Max = 512

// IsControl reports a character a field may not hold: C0 controls but tab,
// DEL, C1, and the Unicode line and paragraph separators (they would break a
// JSON line reader, a syslog frame or a FHIR string).
func IsControl(r rune) bool {
	return r != '\t' && (r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029)
}

// HasControl reports whether s holds a character IsControl refuses.
func HasControl(s string) bool { return strings.ContainsFunc(s, IsControl) }

// Clean makes text from outside (a server's reply, a received Message-ID)
// fit a field: invalid UTF-8 replaced by U+FFFD, control characters and runs
// of white space made one space, at most max bytes (Max when max is not in
// 1..Max), cut between two characters.
func Clean(s string, max int) string {
	if max <= 0 || max > Max {
		max = Max
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		i := max
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}
