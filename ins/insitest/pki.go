// SPDX-License-Identifier: Apache-2.0

package insitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// PKI is a small certificate hierarchy shaped like the part of IGC-Santé
// the INSi service uses, with the "TEST" names of the ANS test hierarchy:
//
//	TEST AC RACINE IGC-SANTE ELEMENTAIRE
//	└── TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS
//	    issues Server (localhost), Auto (CN INSI-AUTO), Manu (CN INSI-MANU),
//	    WrongCN (CN LPS-TEST-INSI)
//	TEST AC RACINE IGC-SANTE FORT
//	└── TEST AC IGC-SANTE FORT PERSONNES
//	    issues CPS (a professional's card certificate, for CPx mode)
//
// Authorities, server and ORG certificates use ECDSA P-256 keys (fast to
// generate; the real ones are RSA, which changes nothing to the checks);
// the CPS key is RSA 2048 like a card's, since the assertion PS is signed
// rsa-sha256. Use NewLeaf for a client certificate with another CN.
type PKI struct {
	RootElementaire, Organisations *CA
	RootFort, FortPersonnes        *CA

	// Server is the fake service's certificate for localhost, 127.0.0.1
	// and ::1.
	Server *Leaf
	// Auto and Manu are the structure's software certificates with the two
	// CNs the service accepts; their OU is EmitterOU.
	Auto, Manu *Leaf
	// WrongCN is a valid ORG certificate whose CN is neither INSI-AUTO nor
	// INSI-MANU: the service refuses it with DESIR_560.
	WrongCN *Leaf
	// CPS is a professional's card certificate, CN CPSIdentifier.
	CPS *Leaf
}

// Names in the test PKI.
const (
	// EmitterOU is the OU of Auto and Manu: the structure's identifier,
	// which insi.NewMTLS takes as emitter.
	EmitterOU = "10B0152872"
	// WrongCN is the CN of PKI.WrongCN.
	WrongCN = "LPS-TEST-INSI"
	// CPSIdentifier is the CN of PKI.CPS: a card's national identifier.
	CPSIdentifier = "810002813839"
)

// CA is an authority of the test PKI.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Leaf is an end-entity certificate, its key and its issuing authority.
type Leaf struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// TLSCertificate returns the leaf with its chain, for crypto/tls or
// insi.NewMTLS.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, ca := range l.Chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c
}

// NewPKI generates a new test PKI, valid from an hour ago for a year.
func NewPKI() (*PKI, error) {
	now := time.Now()
	p := &PKI{}
	var err error
	if p.RootElementaire, err = newCA(nil, "TEST AC RACINE IGC-SANTE ELEMENTAIRE", now); err != nil {
		return nil, err
	}
	if p.Organisations, err = newCA(p.RootElementaire, "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", now); err != nil {
		return nil, err
	}
	if p.RootFort, err = newCA(nil, "TEST AC RACINE IGC-SANTE FORT", now); err != nil {
		return nil, err
	}
	if p.FortPersonnes, err = newCA(p.RootFort, "TEST AC IGC-SANTE FORT PERSONNES", now); err != nil {
		return nil, err
	}
	if p.Server, err = p.Organisations.issue(leafSpec{cn: "localhost", dns: []string{"localhost"},
		ips: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, usage: x509.ExtKeyUsageServerAuth}, now); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		leaf **Leaf
		cn   string
	}{{&p.Auto, "INSI-AUTO"}, {&p.Manu, "INSI-MANU"}, {&p.WrongCN, WrongCN}} {
		if *l.leaf, err = p.NewLeaf(l.cn); err != nil {
			return nil, err
		}
	}
	if p.CPS, err = p.FortPersonnes.issue(leafSpec{cn: CPSIdentifier, surname: "DUPONT", given: "JEAN", rsa: true,
		usage: x509.ExtKeyUsageClientAuth, keyUsage: x509.KeyUsageDigitalSignature}, now); err != nil {
		return nil, err
	}
	return p, nil
}

// NewLeaf issues a structure's software certificate (client
// authentication, OU EmitterOU) with the given CN from the ORGANISATIONS
// authority.
func (p *PKI) NewLeaf(cn string) (*Leaf, error) {
	return p.Organisations.issue(leafSpec{cn: cn, ou: EmitterOU, org: "CENTRE DE SANTE TEST", usage: x509.ExtKeyUsageClientAuth}, time.Now())
}

// Roots returns a pool holding the two roots: what a client puts in
// tls.Config.RootCAs to verify the fake server, and what the server
// verifies client certificates and card certificates against.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.RootElementaire.Cert)
	pool.AddCert(p.RootFort.Cert)
	return pool
}

// ClientTLSConfig returns a client configuration that verifies the fake
// server (RootCAs); the client certificate comes from the insi
// credentials.
func (p *PKI) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: p.Roots(), MinVersion: tls.VersionTLS12}
}

type leafSpec struct {
	cn, ou, org    string
	surname, given string
	dns            []string
	ips            []net.IP
	usage          x509.ExtKeyUsage
	keyUsage       x509.KeyUsage
	rsa            bool
}

func newKey(useRSA bool) (crypto.Signer, error) {
	if useRSA {
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}

func newCA(parent *CA, cn string, now time.Time) (*CA, error) {
	key, err := newKey(false)
	if err != nil {
		return nil, fmt.Errorf("insitest: key of %s: %w", cn, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"ASIP-SANTE"}, OrganizationalUnit: []string{"IGC-SANTE TEST"}, Country: []string{"FR"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
		tmpl.MaxPathLenZero = true
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("insitest: certificate of %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

func (ca *CA) issue(s leafSpec, now time.Time) (*Leaf, error) {
	key, err := newKey(s.rsa)
	if err != nil {
		return nil, fmt.Errorf("insitest: key of %s: %w", s.cn, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	name := pkix.Name{CommonName: s.cn, Country: []string{"FR"}}
	if s.ou != "" {
		name.OrganizationalUnit = []string{s.ou}
	}
	if s.org != "" {
		name.Organization = []string{s.org}
	}
	if s.surname != "" {
		name.ExtraNames = []pkix.AttributeTypeAndValue{
			{Type: []int{2, 5, 4, 4}, Value: s.surname},
			{Type: []int{2, 5, 4, 42}, Value: s.given},
		}
	}
	ku := s.keyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      name,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     ku,
		ExtKeyUsage:  []x509.ExtKeyUsage{s.usage},
		DNSNames:     s.dns,
		IPAddresses:  s.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("insitest: certificate of %s: %w", s.cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key, Chain: []*x509.Certificate{ca.Cert}}, nil
}
