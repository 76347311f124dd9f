// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzListeBlanche: any input is a list or an error wrapping ErrFormat
// or ErrLimit (the fuzzer runs under small Limits, so that it meets them);
// a list answers Contains and Trusted for each of its
// names, and Trusted for an address at each of them.
func FuzzListeBlanche(f *testing.F) {
	data, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	require.NoError(f, err)
	f.Add(data)
	f.Add(append(bytes.Clone(data), []byte("</ListeBlancheMSSante>")...))
	f.Add([]byte(`<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><ListeDomaines><Domaine><Nom>ü.fr</Nom></Domaine></ListeDomaines>`))
	f.Add([]byte(`<x/>`))
	f.Add(append(bytes.Clone(data), []byte("<ListeDomaines><Domaine><Nom>b.fr</Nom></Domaine></ListeDomaines>texte")...))
	// Deep nesting, inside an entry and after the list, and many attributes.
	const head = `<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><ListeDomaines>`
	f.Add([]byte(head + "<Domaine><Nom>a.fr" + strings.Repeat("<a>", 40) + "</Nom></Domaine></ListeDomaines>"))
	f.Add([]byte(head + "</ListeDomaines>" + strings.Repeat("<a>", 5000)))
	f.Add([]byte(head + "</ListeDomaines>" + strings.Repeat("<a><b/>", 20) + strings.Repeat("</a>", 20)))
	f.Add([]byte(head + "</ListeDomaines><X " + strings.Repeat(`a="" `, 300) + "/>"))
	limits := &Limits{MaxSize: 1 << 20, MaxDepth: 12, MaxElements: 400}
	f.Fuzz(func(t *testing.T, in []byte) {
		lb, err := ParseWithLimits(bytes.NewReader(in), limits)
		if err != nil {
			if !errors.Is(err, ErrLimit) {
				require.ErrorIs(t, err, ErrFormat)
			}
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
