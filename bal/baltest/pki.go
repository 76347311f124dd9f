// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// PKIOptions configures [NewPKI]. The zero value (or a nil pointer) gives the
// defaults documented on each field.
type PKIOptions struct {
	// Now is the instant validity periods and CRLs are computed from.
	// Zero means time.Now().
	Now time.Time

	// CRLURL is the base URL under which the CRLs are published; the
	// certificates name <CRLURL>/<file> as their CRL distribution point
	// (files are named after the IGC-Santé gamme codes: ACR-FO.crl,
	// ACR-EL.crl, ACI-FO-PP.crl, ACI-EL-ORG.crl). Empty means a free
	// loopback port is chosen now, which [PKI.ServeCRL] listens on later.
	CRLURL string

	// CPS is the holder of the CPS card certificate. Empty fields take the
	// defaults of [DefaultCPSHolder].
	CPS CPSHolder

	// ORGName is the common name of the ORG software certificate of the
	// applicative mailbox. Empty means "LPS-TEST-MSS".
	ORGName string

	// ServerNames are the DNS names of the operator's server certificate.
	// Empty means "localhost" and "mss.test.mssante.fr". The addresses
	// 127.0.0.1 and ::1 are always included.
	ServerNames []string
}

// CPSHolder is the health professional a CPS card certificate is issued to.
type CPSHolder struct {
	// IDNat is the national identifier, "8" followed by the RPPS number; it
	// is the certificate's common name.
	IDNat string
	// Surname and GivenName are in capitals, as on the cards.
	Surname, GivenName string
	// Profession is the title attribute ("Médecin", "Pharmacien", ...).
	Profession string
}

// DefaultCPSHolder is the holder of the CPS certificate when
// [PKIOptions.CPS] is empty: the subject reads
// "CN=810002813839+SN=DUPONT+GN=JEAN,title=Médecin,C=FR".
var DefaultCPSHolder = CPSHolder{IDNat: "810002813839", Surname: "DUPONT", GivenName: "JEAN", Profession: "Médecin"}

// Default names of the leaf certificates.
const (
	DefaultORGName    = "LPS-TEST-MSS"
	DefaultServerName = "mss.test.mssante.fr"
	// WrongHostName is the only name in [PKI.WrongHost]'s certificate.
	WrongHostName = "autre-operateur.test.mssante.fr"
)

// CA is one certificate authority of the test PKI.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CRL is the authority's current revocation list, DER-encoded in CRLDER.
	CRL    *x509.RevocationList
	CRLDER []byte
	// CRLURL is where the CRL is published: the distribution point named in
	// the certificates this authority issues.
	CRLURL string

	crlFile string
}

// Leaf is an end-entity certificate with its private key.
type Leaf struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	// Chain holds the issuing intermediate authority, the certificate a
	// client or server sends after its own; the root is not included.
	Chain []*x509.Certificate
}

// PKI is an in-memory certificate hierarchy shaped like IGC-Santé, the
// authority that issues MSSanté certificates, with "TEST" names as in the
// ANS test hierarchy. Every key is RSA 2048, as on CPS cards (the CPS key
// can therefore sign TLS 1.2 PKCS#1 v1.5 and TLS 1.3 RSA-PSS handshakes).
//
//	TEST AC RACINE IGC-SANTE FORT
//	└── TEST AC IGC-SANTE FORT PERSONNES          issues CPS
//	TEST AC RACINE IGC-SANTE ELEMENTAIRE
//	└── TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS
//	    issues ORG, Server, Revoked, Expired, WrongHost
type PKI struct {
	RootFort, RootElementaire               *CA
	FortPersonnes, ElementaireOrganisations *CA

	// CPS is a CPS card authentication certificate (client authentication).
	CPS *Leaf
	// ORG is the software certificate of an applicative mailbox (client
	// authentication), the certificate exported by [PKI.ORGPKCS12].
	ORG *Leaf
	// Server is the operator's server certificate for localhost,
	// 127.0.0.1, ::1 and mss.test.mssante.fr (see PKIOptions.ServerNames).
	Server *Leaf
	// Revoked is an ORG certificate listed in the CRL of its authority.
	Revoked *Leaf
	// Expired is an ORG certificate whose validity ended 30 days before Now.
	Expired *Leaf
	// WrongHost is a valid server certificate for WrongHostName only.
	WrongHost *Leaf

	crlBase string
}

// NewPKI generates a new test PKI. It takes about a second (ten RSA keys).
func NewPKI(opts *PKIOptions) (*PKI, error) {
	var o PKIOptions
	if opts != nil {
		o = *opts
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := &PKI{crlBase: strings.TrimSuffix(o.CRLURL, "/")}
	if p.crlBase == "" {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("baltest: reserving a port for the CRL server: %w", err)
		}
		p.crlBase = fmt.Sprintf("http://127.0.0.1:%d/crl", port)
	}
	g := &generator{now: now, base: p.crlBase}

	var err error
	if p.RootFort, err = g.root("TEST AC RACINE IGC-SANTE FORT", "ACR-FO.crl"); err != nil {
		return nil, err
	}
	if p.RootElementaire, err = g.root("TEST AC RACINE IGC-SANTE ELEMENTAIRE", "ACR-EL.crl"); err != nil {
		return nil, err
	}
	if p.FortPersonnes, err = g.intermediate(p.RootFort, "TEST AC IGC-SANTE FORT PERSONNES", "ACI-FO-PP.crl"); err != nil {
		return nil, err
	}
	if p.ElementaireOrganisations, err = g.intermediate(p.RootElementaire, "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "ACI-EL-ORG.crl"); err != nil {
		return nil, err
	}

	holder := o.CPS.withDefaults()
	org := o.ORGName
	if org == "" {
		org = DefaultORGName
	}
	serverNames := o.ServerNames
	if len(serverNames) == 0 {
		serverNames = []string{"localhost", DefaultServerName}
	}
	valid := period{now.Add(-2 * time.Hour), now.AddDate(3, 0, 0)} // IGC-Santé: 3 years
	expired := period{now.AddDate(-3, -1, 0), now.AddDate(0, 0, -30)}
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

	steps := []struct {
		leaf **Leaf
		spec leafSpec
	}{
		{&p.CPS, leafSpec{ca: p.FortPersonnes, cps: &holder, period: valid, usage: usageCPS}},
		{&p.ORG, leafSpec{ca: p.ElementaireOrganisations, cn: org, period: valid, usage: usageORG}},
		{&p.Revoked, leafSpec{ca: p.ElementaireOrganisations, cn: org + "-REVOQUE", period: valid, usage: usageORG}},
		{&p.Expired, leafSpec{ca: p.ElementaireOrganisations, cn: org + "-EXPIRE", period: expired, usage: usageORG}},
		{&p.Server, leafSpec{ca: p.ElementaireOrganisations, cn: serverNames[0], dns: serverNames, ips: loopback, period: valid, usage: usageServer}},
		{&p.WrongHost, leafSpec{ca: p.ElementaireOrganisations, cn: WrongHostName, dns: []string{WrongHostName}, period: valid, usage: usageServer}},
	}
	for _, s := range steps {
		if *s.leaf, err = g.leaf(s.spec); err != nil {
			return nil, err
		}
	}

	revokedAt := now.Add(-time.Hour)
	for _, ca := range p.CAs() {
		var revoked []*x509.Certificate
		if ca == p.ElementaireOrganisations {
			revoked = []*x509.Certificate{p.Revoked.Cert}
		}
		if err := g.crl(ca, revoked, revokedAt); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (h CPSHolder) withDefaults() CPSHolder {
	d := DefaultCPSHolder
	if h.IDNat != "" {
		d.IDNat = h.IDNat
	}
	if h.Surname != "" {
		d.Surname = h.Surname
	}
	if h.GivenName != "" {
		d.GivenName = h.GivenName
	}
	if h.Profession != "" {
		d.Profession = h.Profession
	}
	return d
}

// CAs returns the four authorities, roots first.
func (p *PKI) CAs() []*CA {
	return []*CA{p.RootFort, p.RootElementaire, p.FortPersonnes, p.ElementaireOrganisations}
}

// Roots returns a pool holding the two root authorities, the trust anchors
// for verifying both client and server certificates.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.RootFort.Cert)
	pool.AddCert(p.RootElementaire.Cert)
	return pool
}

// Intermediates returns a pool holding the two intermediate authorities.
func (p *PKI) Intermediates() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.FortPersonnes.Cert)
	pool.AddCert(p.ElementaireOrganisations.Cert)
	return pool
}

// ClientTLSConfig returns a client configuration that trusts the PKI's roots
// and, when leaf is not nil, presents leaf as the client certificate.
// ServerName is left empty: crypto/tls then takes it from the dialled host.
func (p *PKI) ClientTLSConfig(leaf *Leaf) *tls.Config {
	cfg := &tls.Config{RootCAs: p.Roots(), MinVersion: tls.VersionTLS12}
	if leaf != nil {
		cfg.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	}
	return cfg
}

// ServerTLSConfig returns a server configuration presenting the Server
// certificate and verifying client certificates, when given, against the
// PKI's roots. crypto/tls does not read CRLs: a server that must refuse the
// Revoked certificate has to check it itself (see [PKI.IsRevoked]).
func (p *PKI) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Server.TLSCertificate()},
		ClientCAs:    p.Roots(),
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}
}

// IsRevoked reports whether cert is listed in the CRL of one of the PKI's
// authorities that issued it.
func (p *PKI) IsRevoked(cert *x509.Certificate) bool {
	for _, ca := range p.CAs() {
		if cert.CheckSignatureFrom(ca.Cert) != nil {
			continue
		}
		for _, e := range ca.CRL.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// TLSCertificate returns the leaf, its chain and its key for crypto/tls.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, ca := range l.Chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c
}

// CertPEM returns the leaf certificate followed by its chain, PEM-encoded.
func (l *Leaf) CertPEM() []byte {
	out := pemCert(l.Cert)
	for _, ca := range l.Chain {
		out = append(out, pemCert(ca)...)
	}
	return out
}

// KeyPEM returns the private key as an unencrypted PKCS#8 "PRIVATE KEY"
// PEM block (the form softhsm2-util --import, Dovecot and Postfix read).
func (l *Leaf) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil { // cannot happen for an *rsa.PrivateKey
		panic("baltest: PKCS#8 encoding of an RSA key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// CRLPEM returns the authority's CRL as an "X509 CRL" PEM block.
func (ca *CA) CRLPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: ca.CRLDER})
}

// randomSerial returns a positive 127-bit serial number.
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("baltest: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
