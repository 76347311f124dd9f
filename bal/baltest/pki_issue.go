// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// IssueORG issues a new ORG software certificate (client authentication)
// with common name cn from the ELEMENTAIRE ORGANISATIONS authority, valid
// from two hours ago for three years, like [PKI.ORG]: the certificate of
// one more applicative mailbox. It takes a fraction of a second (an RSA
// 2048 key).
func (p *PKI) IssueORG(cn string) (*Leaf, error) {
	if cn == "" {
		return nil, fmt.Errorf("baltest: IssueORG: empty common name")
	}
	now := time.Now()
	g := &generator{now: now, base: p.crlBase}
	return g.leaf(leafSpec{ca: p.ElementaireOrganisations, cn: cn,
		period: period{now.Add(-2 * time.Hour), now.AddDate(3, 0, 0)}, usage: usageORG})
}

// ReissueCRL returns a new CRL of ca (one of the PKI's authorities),
// DER-encoded: the entries of ca.CRL plus the certificates in revoke
// (revoked now, reason keyCompromise), with the next CRL number, valid
// from now for a week. ca.CRL is not changed: the caller publishes the
// new list where it wants (a test operator revoking a certificate while it
// runs).
func (p *PKI) ReissueCRL(ca *CA, revoke ...*x509.Certificate) ([]byte, error) {
	now := time.Now()
	number := big.NewInt(1)
	if ca.CRL != nil && ca.CRL.Number != nil {
		number = new(big.Int).Add(ca.CRL.Number, big.NewInt(1))
	}
	tmpl := &x509.RevocationList{Number: number, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.AddDate(0, 0, 7)}
	if ca.CRL != nil {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, ca.CRL.RevokedCertificateEntries...)
	}
	for _, c := range revoke {
		if c.CheckSignatureFrom(ca.Cert) != nil {
			return nil, fmt.Errorf("baltest: ReissueCRL: %q was not issued by %s", c.Subject.CommonName, ca.Cert.Subject.CommonName)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: c.SerialNumber, RevocationTime: now, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	return der, nil
}

// Issuer returns the authority of the PKI that issued cert, or nil.
func (p *PKI) Issuer(cert *x509.Certificate) *CA {
	for _, ca := range p.CAs() {
		if cert.CheckSignatureFrom(ca.Cert) == nil {
			return ca
		}
	}
	return nil
}
