package annuaire

import (
	"strings"
	"testing"
)

func TestLowerASCII(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "A", "Jean.DUPONT@Medecin.MSSANTE.fr", "@[]`{~\\x7f", string(all), "ÉCOLE.Zz@ÀÉ.fr", strings.Repeat("AbZz@[`{", 9)} {
		got := string(lowerASCII([]byte("x"), s))
		w := []byte("x" + s)
		for i, c := range w {
			if 'A' <= c && c <= 'Z' {
				w[i] = c + 32
			}
		}
		want := string(w)
		if got != want {
			t.Errorf("lowerASCII(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Héloïse": "HELOISE", "ŒUVRE": "OEUVRE", "d’Almeida": "D'ALMEIDA", "Straße": "STRASSE", "Ærø": "AERO", "ﬁ": "ﬁ"} {
		if got := foldString(in); got != want {
			t.Errorf("foldString(%q) = %q, want %q", in, got, want)
		}
	}
}
