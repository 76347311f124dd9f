// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrDomain: not a domain name that can be compared (see DomainASCII).
var ErrDomain = errors.New("listeblanche: invalid domain name")

// lookup is the IDNA profile domain names are compared with: golang.org/x/net/idna's
// Lookup, the profile of RFC 5891 §5 ("Domain Name Lookup") implemented as
// the processing of UTS #46 §4 with its mapping, nontransitional (ß and ς
// stay themselves, as IDNA2008 wants), STD3 ASCII rules (letters, digits
// and hyphens only), the hyphen and ContextJ checks and the Bidi rule of
// RFC 5893.
//
// Lookup rather than Registration (RFC 5891 §4, UTS #46 without mapping):
// the liste blanche holds names as their operators registered them, valid
// U-labels already in lower case and NFC, which the Lookup mapping leaves
// as they are; the names compared with them come from users and software
// (an address typed, pasted or decomposed by a file system), where the
// Lookup mapping turns "MEDECIN.MSSante.fr", a fullwidth dot or an NFD "é"
// (e + U+0301) into the registered form. Registration would refuse those
// instead of matching them, and the list and the queries must go through
// one transformation for a match to mean anything.
var lookup = idna.Lookup

// DomainASCII returns the comparable form of a domain name: its A-label
// form (RFC 5890 §2.3.2.1) after the UTS #46 mapping of the IDNA Lookup
// profile (case folded, NFC, compatibility characters such as fullwidth
// letters and dots mapped), chosen over the Registration profile because
// the liste blanche holds registered names and the queries come from
// users: Lookup maps a query onto the registered form, Registration would
// refuse it (RFC 5891 §4 and §5; UTS #46 §4). One final dot is
// removed. The result is a valid hostname: labels of 1 to 63 lower
// case letters, digits and hyphens, not starting or ending with a hyphen,
// non-ASCII labels as "xn--" Punycode (RFC 3492), at most 253 bytes; and
// DomainASCII of a result returns it unchanged.
//
// It fails with ErrDomain on an empty name, an empty label, a space, a
// control character, any other character a hostname cannot hold (such as
// "_" or "@"), a label IDNA2008 refuses, invalid UTF-8, or a name or label
// too long once encoded. Surrounding spaces are not trimmed: a name with
// them is not the listed one.
func DomainASCII(domain string) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrDomain, clip(domain), why)
	}
	if domain == "" {
		return fail("empty")
	}
	if !utf8.ValidString(domain) {
		return fail("not valid UTF-8")
	}
	a, err := lookup.ToASCII(domain)
	if err != nil {
		return fail(err.Error())
	}
	a = strings.TrimSuffix(a, ".")
	if a == "" {
		return fail("no label")
	}
	if len(a) > 253 {
		return fail(fmt.Sprintf("%d bytes once encoded, more than 253", len(a)))
	}
	for l := range strings.SplitSeq(a, ".") {
		if why := hostLabelProblem(l); why != "" {
			return fail(why)
		}
	}
	return a, nil
}

// hostLabelProblem says what keeps l from being a label of a hostname
// (RFC 1123 §2.1, RFC 5890 §2.3.1 LDH labels), "" when nothing does.
func hostLabelProblem(l string) string {
	switch {
	case l == "":
		return "empty label"
	case len(l) > 63:
		return fmt.Sprintf("label of %d bytes, more than 63", len(l))
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("label %q starts or ends with a hyphen", clip(l))
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Sprintf("character %q not allowed in a hostname", c)
		}
	}
	return ""
}
