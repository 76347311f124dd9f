// SPDX-License-Identifier: Apache-2.0

package ascii

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendLower(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "A", "Jean.DUPONT@Medecin.MSSANTE.fr", "@[]`{~\\x7f", string(all), "ÉCOLE.Zz@ÀÉ.fr", strings.Repeat("AbZz@[`{", 9)} {
		got := string(AppendLower([]byte("x"), s))
		w := []byte("x" + s)
		for i, c := range w {
			if 'A' <= c && c <= 'Z' {
				w[i] = c + 32
			}
		}
		want := string(w)
		if got != want {
			t.Errorf("AppendLower(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestEqualFoldAndHasUpper(t *testing.T) {
	assert.True(t, EqualFold("Jean.DUPONT@Medecin.MSSANTE.fr", "jean.dupont@medecin.mssante.fr"))
	assert.False(t, EqualFold("ſ@x.fr", "s@x.fr"), "only ASCII letters fold: U+017F is not s")
	assert.False(t, EqualFold("É@x.fr", "é@x.fr"), "only ASCII letters fold")
	assert.False(t, EqualFold("a@x.fr", "a@x.f"))
	assert.False(t, EqualFold("[", "{"), "[ and { differ by the case bit but are not letters")
	assert.True(t, HasUpper("a@X.fr"))
	assert.False(t, HasUpper("é@x.fr"))
}

// HasUpper, eight bytes at a time, agrees with a byte-wise check on every
// byte value at every position.
func TestHasUpperEveryByte(t *testing.T) {
	for n := range 20 {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				want := 'A' <= c && c <= 'Z'
				require.Equal(t, want, HasUpper(string(b)), "byte %#x at %d of %d", c, pos, n)
			}
		}
		require.False(t, HasUpper(strings.Repeat("\xc3\xa9z@[`{", n)), "no upper-case letter in %d copies", n)
	}
}
