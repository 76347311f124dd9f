// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"time"
)

// generator issues the certificates and CRLs of one PKI.
type generator struct {
	now  time.Time
	base string // CRL base URL, without a trailing slash
}

type period struct{ from, to time.Time }

// usage is the key usage profile of a leaf certificate.
type usage int

const (
	usageCPS    usage = iota // client authentication by a person (card)
	usageORG                 // client authentication by an organisation
	usageServer              // operator server (also a client between operators)
)

type leafSpec struct {
	ca     *CA
	cps    *CPSHolder // subject of a card; nil for ORG and server certificates
	cn     string
	dns    []string
	ips    []net.IP
	period period
	usage  usage
}

func newKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("baltest: generating an RSA key: %w", err)
	}
	return k, nil
}

func (g *generator) root(cn, crlFile string) (*CA, error) {
	return g.ca(nil, cn, crlFile)
}

func (g *generator) intermediate(parent *CA, cn, crlFile string) (*CA, error) {
	return g.ca(parent, cn, crlFile)
}

// ca creates a root (parent nil) or an intermediate authority.
func (g *generator) ca(parent *CA, cn, crlFile string) (*CA, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	subject, err := caName(cn)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             g.now.AddDate(-5, 0, 0),
		NotAfter:              g.now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuer, signer := tmpl, any(key)
	if parent != nil {
		tmpl.MaxPathLenZero = true // intermediates issue leaves only
		tmpl.CRLDistributionPoints = []string{parent.CRLURL}
		issuer, signer = parent.Cert, parent.Key
	} else {
		tmpl.MaxPathLen = -1
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("baltest: issuing %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("baltest: parsing %s: %w", cn, err)
	}
	return &CA{Cert: cert, Key: key, CRLURL: g.base + "/" + crlFile, crlFile: crlFile}, nil
}

func (g *generator) leaf(s leafSpec) (*Leaf, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	var subject []byte
	name := s.cn
	switch {
	case s.cps != nil:
		name = s.cps.IDNat
		subject, err = cpsName(*s.cps)
	case s.usage == usageServer:
		subject, err = orgName(s.cn, "34193006780006", "OPERATEUR MSSANTE TEST", "Paris (75)")
	default:
		subject, err = orgName(s.cn, "10B0000000", "CABINET TEST", "Paris (75)")
	}
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             s.period.from,
		NotAfter:              s.period.to,
		BasicConstraintsValid: true,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		CRLDistributionPoints: []string{s.ca.CRLURL},
	}
	switch s.usage {
	case usageCPS:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case usageORG:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case usageServer:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca.Cert, &key.PublicKey, s.ca.Key)
	if err != nil {
		return nil, fmt.Errorf("baltest: issuing %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("baltest: parsing %s: %w", name, err)
	}
	return &Leaf{Cert: cert, Key: key, Chain: []*x509.Certificate{s.ca.Cert}}, nil
}

// crl issues ca's revocation list, valid from an hour ago for a week.
func (g *generator) crl(ca *CA, revoked []*x509.Certificate, at time.Time) error {
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: g.now.Add(-time.Hour),
		NextUpdate: g.now.AddDate(0, 0, 7),
	}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   c.SerialNumber,
			RevocationTime: at,
			ReasonCode:     1, // keyCompromise
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return fmt.Errorf("baltest: CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("baltest: parsing the CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	ca.CRL, ca.CRLDER = list, der
	return nil
}
