// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"fmt"
)

// Authority is the OID of the assigning authority of a matricule INS, as
// written in CDA patientRole/id/@root and in the fourth component of an
// HL7 v2 CX identifier.
type Authority string

// The four INS assigning authorities (FR Core FRCorePatientINSProfile slices;
// ANS TestContenuCDA 3.0 CDA-FO.xsl labels).
const (
	// AuthorityNIR is INS-NIR, production.
	AuthorityNIR Authority = "1.2.250.1.213.1.4.8"
	// AuthorityNIA is INS-NIA, production.
	AuthorityNIA Authority = "1.2.250.1.213.1.4.9"
	// AuthorityNIRTest is INS-NIR de test (fictitious test patients).
	AuthorityNIRTest Authority = "1.2.250.1.213.1.4.10"
	// AuthorityNIRDemo is INS-NIR de démonstration (fictitious demonstration
	// patients). It is not a "test NIA", whatever some libraries say.
	AuthorityNIRDemo Authority = "1.2.250.1.213.1.4.11"
)

// OIDINSC is the OID of the historical INS-C, computed from the carte Vitale.
// It is never an INS: ParseAuthority refuses it with ErrINSC.
const OIDINSC = "1.2.250.1.213.1.4.2"

// OIDNIRSocialSecurity is the OID of a NIR used as social-security number.
// It is not an INS either.
const OIDNIRSocialSecurity = "1.2.250.1.213.1.4.13"

var (
	// ErrINSC is returned for the INS-C OID, which must not be used as an INS.
	ErrINSC = errors.New("ins: OID 1.2.250.1.213.1.4.2 is the historical INS-C, never an INS")
	// ErrNotINSAuthority is returned for an OID that is not one of the four
	// INS assigning authorities.
	ErrNotINSAuthority = errors.New("ins: not an INS assigning authority")
)

// ParseAuthority returns the Authority for oid, or an error wrapping
// ErrINSC or ErrNotINSAuthority.
func ParseAuthority(oid string) (Authority, error) {
	a := Authority(oid)
	switch {
	case a.IsINS():
		return a, nil
	case oid == OIDINSC:
		return "", ErrINSC
	default:
		return "", fmt.Errorf("%w: %q (want %s, %s, %s or %s)", ErrNotINSAuthority, oid,
			AuthorityNIR, AuthorityNIA, AuthorityNIRTest, AuthorityNIRDemo)
	}
}

// IsINS reports whether a is one of the four INS assigning authorities.
func (a Authority) IsINS() bool {
	switch a {
	case AuthorityNIR, AuthorityNIA, AuthorityNIRTest, AuthorityNIRDemo:
		return true
	}
	return false
}

// IsFictitious reports whether a designates test or demonstration patients.
func (a Authority) IsFictitious() bool { return a == AuthorityNIRTest || a == AuthorityNIRDemo }

// TypeCode returns the HL7 v2 table 0203 (France) identifier type of the
// authority: INS-NIR, INS-NIA, INS-NIR-TEST or INS-NIR-DEMO; "" otherwise.
func (a Authority) TypeCode() string {
	switch a {
	case AuthorityNIR:
		return "INS-NIR"
	case AuthorityNIA:
		return "INS-NIA"
	case AuthorityNIRTest:
		return "INS-NIR-TEST"
	case AuthorityNIRDemo:
		return "INS-NIR-DEMO"
	}
	return ""
}

// String returns the OID.
func (a Authority) String() string { return string(a) }
