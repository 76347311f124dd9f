// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestListeBlancheTrustedDomainOrAddress: Trusted answers for a bare domain
// as for an address (before the fix a domain was silently not trusted).
func TestListeBlancheTrustedDomainOrAddress(t *testing.T) {
	lb := loadListeBlanche(t)
	require.True(t, lb.Contains("medecin.mssante.fr"), "fixture")
	for in, want := range map[string]bool{
		"medecin.mssante.fr":               true,
		"MEDECIN.MSSante.fr":               true,
		"medecin.mssante.fr.":              true, // absolute form
		"jeanne@medecin.mssante.fr":        true,
		"Jeanne@MEDECIN.mssante.fr":        true,
		"sub.medecin.mssante.fr":           false, // sub-domains are not listed
		"x@sub.medecin.mssante.fr":         false,
		"example.com":                      false,
		"a@example.com":                    false,
		"a@b@medecin.mssante.fr":           false, // not an address
		"@medecin.mssante.fr":              false,
		"jeanne@":                          false,
		"jeanne dupont@medecin.mssante.fr": false,
		"":                                 false,
	} {
		assert.Equal(t, want, lb.Trusted(in), "Trusted(%q)", in)
	}
	var none *List
	assert.False(t, none.Trusted("medecin.mssante.fr"))
}

// TestListeBlancheContentAfterList: what follows </ListeDomaines> is not
// read and is named in Tolerated (before the fix it was dropped silently).
func TestListeBlancheContentAfterList(t *testing.T) {
	base, err := os.ReadFile("../../testdata/annuaire/listeblanche.xml")
	require.NoError(t, err)
	// The fixture ends after </ListeDomaines>, like the published file.
	require.True(t, bytes.HasSuffix(bytes.TrimSpace(base), []byte("</ListeDomaines>")))
	const late = "<Domaine><Nom>tardif.mssante.fr</Nom></Domaine>"
	tests := []struct {
		name, tail string
		note       string // "" for no note
		missing    bool   // the closing root tag is missing
	}{
		{"nothing", "\n", "", true},
		{"second list", "<ListeDomaines>" + late + "</ListeDomaines>\n", "content after </ListeDomaines> ignored: <ListeDomaines>", true},
		{"stray entry", late, "content after </ListeDomaines> ignored: <Domaine>", true},
		{"text", "\ntexte parasite\n", `content after </ListeDomaines> ignored: text "texte parasite"`, true},
		{"element, root end, text", "<Extra>x</Extra></ListeBlancheMSSante>\nfin\n",
			`content after </ListeDomaines> ignored: <Extra>, text "fin"`, false},
		{"many", strings.Repeat("<X/>", 7), "content after </ListeDomaines> ignored: <X>, <X>, <X>, <X>, <X> and 2 more", true},
		{"root end only", "</ListeBlancheMSSante>\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, err := Parse(bytes.NewReader(append(bytes.Clone(base), tt.tail...)))
			require.NoError(t, err)
			assert.False(t, lb.Contains("tardif.mssante.fr"), "a domain outside the list is not read")
			assert.True(t, lb.Contains("medecin.mssante.fr"))
			var notes []string
			for _, n := range lb.Tolerated {
				if strings.HasPrefix(n, "content after") {
					notes = append(notes, n)
				}
			}
			if tt.note == "" {
				assert.Empty(t, notes)
			} else {
				assert.Equal(t, []string{tt.note}, notes)
			}
			assert.Equal(t, tt.missing, strings.Contains(strings.Join(lb.Tolerated, "\n"), "closing tag </ListeBlancheMSSante> missing"))
		})
	}
}

// TestListeBlancheElementAfterRoot: an element after the root element is
// broken XML, refused rather than read as a list (a second root element
// without a list in the first one was read as the list before the fix).
func TestListeBlancheElementAfterRoot(t *testing.T) {
	const ns = `xmlns="https://listeblanche.mssante.fr/schema"`
	list := `<ListeDomaines><Domaine><Nom>a.mssante.fr</Nom></Domaine></ListeDomaines>`
	for _, in := range []string{
		`<ListeBlancheMSSante ` + ns + `></ListeBlancheMSSante><ListeBlancheMSSante ` + ns + `>` + list + `</ListeBlancheMSSante>`,
		`<ListeBlancheMSSante ` + ns + `>` + list + `</ListeBlancheMSSante><Autre/>`,
	} {
		_, err := Parse(strings.NewReader(in))
		require.ErrorIs(t, err, ErrFormat, in)
		assert.Contains(t, err.Error(), "after the root element")
	}
}

func loadListeBlanche(t testing.TB) *List {
	t.Helper()
	f, err := os.Open("../../testdata/annuaire/listeblanche.xml")
	require.NoError(t, err)
	defer f.Close()
	sum, err := os.ReadFile("../../testdata/annuaire/listeblanche.checksum")
	require.NoError(t, err)
	lb, err := Read(f, string(sum))
	require.NoError(t, err)
	return lb
}
