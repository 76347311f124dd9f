// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// TestDomainASCII: the A-label form of names as registered and as users
// type them (case, NFD, fullwidth dot, final dot), and the names a
// hostname cannot be (spaces, NUL, "_", empty labels, lengths).
// Expected A-labels: RFC 3492 §7.1 and the IDNA2008 results of UTS #46's
// conformance data (ß stays ß: nontransitional).
func TestDomainASCII(t *testing.T) {
	for in, want := range map[string]string{
		"medecin.mssante.fr":                   "medecin.mssante.fr",
		"MEDECIN.MSSante.fr":                   "medecin.mssante.fr",
		"medecin.mssante.fr.":                  "medecin.mssante.fr",
		"clinique-hélios.mssante.fr":           "xn--clinique-hlios-kkb.mssante.fr",
		"clinique-he\u0301lios.mssante.fr":     "xn--clinique-hlios-kkb.mssante.fr", // NFD: e + combining acute
		"CLINIQUE-HÉLIOS.mssante.fr":           "xn--clinique-hlios-kkb.mssante.fr",
		"xn--clinique-hlios-kkb.mssante.fr":    "xn--clinique-hlios-kkb.mssante.fr",
		"XN--CLINIQUE-HLIOS-KKB.MSSANTE.FR":    "xn--clinique-hlios-kkb.mssante.fr",
		"clinique-hélios\u3002mssante\uff0efr": "xn--clinique-hlios-kkb.mssante.fr", // ideographic and fullwidth full stops
		"ß.de":                                 "xn--zca.de",
		"bücher.example":                       "xn--bcher-kva.example",
		"1.2.3":                                "1.2.3",
	} {
		got, err := DomainASCII(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	long := strings.Repeat("a", 63)
	for _, in := range []string{
		"", ".", "..", "a..fr", ".a.fr", "a.fr..",
		"J .", "j ", " medecin.mssante.fr", "medecin.mssante.fr ", "medecin .mssante.fr", "a\tb.fr",
		"a\x00b.fr", "a\x7fb.fr", "a_b.fr", "a@b.fr", "a/b.fr", "a:b.fr",
		"-a.fr", "a-.fr", "ab--cd.fr", // hyphen rules (RFC 5891 §4.2.3.1)
		"xn--a.fr",            // not Punycode of a valid label
		"a\u200db.fr",         // ZERO WIDTH JOINER outside its ContextJ rule
		"a\u00a0b.fr",         // NBSP
		"\xff.fr", "a\xc3.fr", // invalid UTF-8
		strings.Repeat("a", 64) + ".fr",
		strings.Join([]string{long, long, long, long}, "."), // 255 bytes
	} {
		got, err := DomainASCII(in)
		require.ErrorIs(t, err, ErrDomain, "%q gave %q", in, got)
		assert.Empty(t, got, "%q", in)
	}
	got, err := DomainASCII(strings.Join([]string{long, long, long, long[:61]}, "."))
	require.NoError(t, err, "253 bytes")
	assert.Len(t, got, 253)
}

// TestListeBlancheNFD: a liste blanche entry and the address checked
// against it may be in either Unicode normalisation form; NFD and NFC
// twins are one domain (before the change the NFD form was encoded on its
// own and not trusted).
func TestListeBlancheNFD(t *testing.T) {
	nfc := "clinique-hélios.mssante.fr"
	nfd := norm.NFD.String(nfc)
	require.NotEqual(t, nfc, nfd, "the NFD form differs in bytes")
	lb := loadListeBlanche(t) // lists the NFC form
	for _, in := range []string{nfc, nfd, "labo@" + nfd, "LABO@" + strings.ToUpper(nfd)} {
		assert.True(t, lb.Trusted(in), "%q", in)
	}
	const head = `<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema"><ListeDomaines><Domaine><Nom>`
	lbNFD, err := Parse(strings.NewReader(head + nfd + `</Nom></Domaine></ListeDomaines></ListeBlancheMSSante>`))
	require.NoError(t, err)
	require.Len(t, lbNFD.Domains, 1)
	assert.Equal(t, nfd, lbNFD.Domains[0].Name, "the name as published")
	assert.Equal(t, "xn--clinique-hlios-kkb.mssante.fr", lbNFD.Domains[0].ASCII)
	assert.True(t, lbNFD.Trusted("labo@"+nfc), "an NFD entry trusts the NFC address")
}

// hostLabel is an LDH label of a hostname (RFC 1123 §2.1, RFC 5890
// §2.3.1) in lower case.
var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// FuzzDomainASCII: DomainASCII is idempotent, and what it returns is a
// hostname in A-label form: 1 to 253 bytes, labels of 1 to 63 lower case
// letters, digits and hyphens, not at either end (found by a 2 s run of
// an earlier version: "J ." gave "j ", which gave "j").
func FuzzDomainASCII(f *testing.F) {
	for _, s := range []string{"J .", "medecin.mssante.fr", "clinique-hélios.mssante.fr", "clinique-he\u0301lios.mssante.fr",
		"xn--clinique-hlios-kkb.mssante.fr", "a\x00b", "ß.de", "a。b", "a..", "xn--a", "\xff", "-a.b", strings.Repeat("é", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := DomainASCII(in)
		if err != nil {
			require.ErrorIs(t, err, ErrDomain)
			require.Empty(t, a)
			return
		}
		require.True(t, utf8.ValidString(in), "invalid UTF-8 %q accepted", in)
		require.NotEmpty(t, a)
		require.LessOrEqual(t, len(a), 253)
		for l := range strings.SplitSeq(a, ".") {
			require.Regexp(t, hostLabel, l, "%q gave %q", in, a)
		}
		again, err := DomainASCII(a)
		require.NoError(t, err, "%q gave %q", in, a)
		require.Equal(t, a, again, "not idempotent: %q gave %q", in, a)
	})
}
