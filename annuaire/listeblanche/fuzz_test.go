// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzListeBlanche: any input is a list or an error wrapping
// ErrFormat; a list answers Contains and Trusted for each of its
// names, and Trusted for an address at each of them.
func FuzzListeBlanche(f *testing.F) {
	data, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	require.NoError(f, err)
	f.Add(data)
	f.Add(append(bytes.Clone(data), []byte("</ListeBlancheMSSante>")...))
	f.Add([]byte(`<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><ListeDomaines><Domaine><Nom>ü.fr</Nom></Domaine></ListeDomaines>`))
	f.Add([]byte(`<x/>`))
	f.Add(append(bytes.Clone(data), []byte("<ListeDomaines><Domaine><Nom>b.fr</Nom></Domaine></ListeDomaines>texte")...))
	f.Fuzz(func(t *testing.T, in []byte) {
		lb, err := Parse(bytes.NewReader(in))
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			require.Nil(t, lb)
			return
		}
		for _, d := range lb.Domains {
			require.True(t, lb.Contains(d.Name), "Contains(%q) for a listed name", d.Name)
			require.True(t, lb.Contains(d.ASCII), "Contains(%q) for a listed name", d.ASCII)
			require.True(t, lb.Trusted(d.ASCII), "Trusted(%q) for a listed name", d.ASCII)
			require.True(t, lb.Trusted("x@"+d.ASCII), "Trusted for an address at %q", d.ASCII)
		}
	})
}
