package listeblanche

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzListeBlanche: any input is a list or an error wrapping
// ErrFormat; a list answers Contains and Trusted for each of its
// names, and Trusted for an address at each of them.
func FuzzListeBlanche(f *testing.F) {
	data, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(append(bytes.Clone(data), []byte("</ListeBlancheMSSante>")...))
	f.Add([]byte(`<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><ListeDomaines><Domaine><Nom>ü.fr</Nom></Domaine></ListeDomaines>`))
	f.Add([]byte(`<x/>`))
	f.Add(append(bytes.Clone(data), []byte("<ListeDomaines><Domaine><Nom>b.fr</Nom></Domaine></ListeDomaines>texte")...))
	f.Fuzz(func(t *testing.T, in []byte) {
		lb, err := Parse(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for _, d := range lb.Domains {
			if !lb.Contains(d.Name) || !lb.Contains(d.ASCII) {
				t.Fatalf("Contains(%q) false for a listed name", d.Name)
			}
			if !lb.Trusted(d.ASCII) || !lb.Trusted("x@"+d.ASCII) {
				t.Fatalf("Trusted false for the listed name %q or an address at it", d.ASCII)
			}
		}
	})
}
