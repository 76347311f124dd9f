// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// Attribute types used in IGC-Santé subjects (X.520).
var (
	oidCountry    = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrg        = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSurname    = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName  = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidTitle      = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidProvince   = asn1.ObjectIdentifier{2, 5, 4, 8}
)

// atv is one attribute of a distinguished name.
func atv(oid asn1.ObjectIdentifier, value string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oid, Value: value}
}

// rawName encodes a distinguished name RDN by RDN, in the order given (the
// order of the DER encoding, country first). pkix.Name cannot express the
// names IGC-Santé uses: it puts several values of one type (two OU) into a
// single multi-valued RDN, and it cannot group different types (CN+SN+GN)
// into one RDN as CPS cards do.
func rawName(rdns ...[]pkix.AttributeTypeAndValue) ([]byte, error) {
	seq := make(pkix.RDNSequence, 0, len(rdns))
	for _, r := range rdns {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(r))
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		return nil, fmt.Errorf("baltest: encoding subject: %w", err)
	}
	return der, nil
}

// one is an RDN with a single attribute.
func one(oid asn1.ObjectIdentifier, value string) []pkix.AttributeTypeAndValue {
	return []pkix.AttributeTypeAndValue{atv(oid, value)}
}

// caName is the subject of a test IGC-Santé authority: in RFC 4514 form
// "CN=<cn>,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
// (0002 + the SIREN of ASIP Santé, as in the real authorities).
func caName(cn string) ([]byte, error) {
	return rawName(
		one(oidCountry, "FR"),
		one(oidOrg, "ASIP-SANTE"),
		one(oidOrgUnit, "0002 187512751"),
		one(oidOrgUnit, "IGC-SANTE TEST"),
		one(oidCommonName, cn),
	)
}

// cpsName is the subject of a CPS card authentication certificate, in RFC
// 4514 form "CN=<id>+SN=<surname>+GN=<given>,title=<profession>,C=FR": the
// last RDN is multi-valued, as on real cards.
func cpsName(p CPSHolder) ([]byte, error) {
	return rawName(
		one(oidCountry, "FR"),
		one(oidTitle, p.Profession),
		[]pkix.AttributeTypeAndValue{
			atv(oidCommonName, p.IDNat),
			atv(oidSurname, p.Surname),
			atv(oidGivenName, p.GivenName),
		},
	)
}

// orgName is the subject of an ORG or SERV certificate, in RFC 4514 form
// "CN=<cn>,OU=<unit>,O=<org>,ST=<province>,C=FR".
func orgName(cn, unit, org, province string) ([]byte, error) {
	return rawName(
		one(oidCountry, "FR"),
		one(oidProvince, province),
		one(oidOrg, org),
		one(oidOrgUnit, unit),
		one(oidCommonName, cn),
	)
}
