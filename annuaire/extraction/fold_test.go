// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Héloïse": "HELOISE", "ŒUVRE": "OEUVRE", "d’Almeida": "D'ALMEIDA", "Straße": "STRASSE", "Ærø": "AERO", "ﬁ": "ﬁ"} {
		if got := foldString(in); got != want {
			t.Errorf("foldString(%q) = %q, want %q", in, got, want)
		}
	}
}
