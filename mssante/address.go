// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/address"
)

// DomainSuffix ends every domain of the MSSanté trust space (liste blanche).
const DomainSuffix = ".mssante.fr"

// ErrAddress is wrapped by errors about an e-mail address. It is the
// same value as annuaire.ErrAddress: an address refused by either package
// satisfies errors.Is with both names.
var ErrAddress = address.ErrInvalid

// CheckAddress checks the form of an addr-spec as MSSanté uses them:
// local@domain, no display name, no spaces, a dotted domain. A
// patient.mssante.fr address must be a valid matricule INS.
func CheckAddress(addr string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrAddress, addr, why) }
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return bad("want local@domain")
	}
	local, domain := addr[:at], addr[at+1:]
	if len(addr) > 254 || len(local) > 64 {
		return bad("too long")
	}
	for _, c := range local {
		if c <= ' ' || c > '~' || strings.ContainsRune(`"(),:;<>@[\]`, c) {
			return bad(fmt.Sprintf("character %q not allowed in the local part", c))
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return bad("misplaced dot in the local part")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("the domain needs a dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad("malformed domain")
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad("malformed domain")
			}
		}
	}
	if IsPatientAddress(addr) {
		if _, err := ins.ParseMonEspaceSanteAddress(addr); err != nil {
			return fmt.Errorf("%w %q: %w", ErrAddress, addr, err)
		}
	}
	return nil
}

// Domain returns the domain of addr in lower case.
func Domain(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return strings.ToLower(addr[at+1:])
	}
	return ""
}

// IsMSSanteAddress reports whether addr is in a *.mssante.fr domain. It
// does not check the liste blanche (see package annuaire).
func IsMSSanteAddress(addr string) bool {
	return strings.HasSuffix(Domain(addr), DomainSuffix)
}

// IsPatientAddress reports whether addr is a Mon espace santé mailbox
// (patient.mssante.fr).
func IsPatientAddress(addr string) bool {
	return Domain(addr) == ins.MonEspaceSanteDomain
}
