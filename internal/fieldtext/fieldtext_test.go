// SPDX-License-Identifier: Apache-2.0

package fieldtext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// Clean gives valid UTF-8 on one line without controls, within its bound,
// cut between two characters.
func TestClean(t *testing.T) {
	for _, in := range []string{strings.Repeat("é", 400), "a\x00b\x1bc\u0085d\u2028e", "ok \xff\xfe end", "l1\r\nl2\tl3", ""} {
		for _, max := range []int{0, 7, 400, 10_000} {
			out := Clean(in, max)
			bound := max
			if bound <= 0 || bound > Max {
				bound = Max
			}
			assert.LessOrEqual(t, len(out), bound, "Clean(%.12q, %d)", in, max)
			assert.True(t, utf8.ValidString(out), "Clean(%.12q, %d) = %q: not UTF-8", in, max, out)
			assert.False(t, HasControl(out), "Clean(%.12q, %d) = %q: holds a control", in, max, out)
			assert.NotContains(t, out, "\t", "tabs are white space made one space")
		}
	}
	assert.Equal(t, "a b c", Clean("a\x00b  \tc", 0))
	assert.Equal(t, "ok \uFFFD end", Clean("ok \xff end", 0))
	// Cut between two characters: 7 bytes of "éééé" keep three (6 bytes).
	assert.Equal(t, "ééé", Clean("éééé", 7))
}

func TestIsControl(t *testing.T) {
	for _, r := range []rune{0, '\n', '\r', 0x1b, 0x7f, 0x85, 0x9f, 0x2028, 0x2029} {
		assert.True(t, IsControl(r), "%U", r)
	}
	for _, r := range []rune{'\t', ' ', 'a', 'é', 0xa0, 0xfffd} {
		assert.False(t, IsControl(r), "%U", r)
	}
}
