// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Software identifies the calling software in ContexteLPS. The IDAM is the
// authorisation number the CNDA gives the software when it passes the INSi
// homologation: obtaining it is the vendor's business, not this package's.
type Software struct {
	// IDAM is the CNDA authorisation number (ContexteLPS/LPS/IDAM, R="4").
	IDAM string
	// Name and Version name the software; Nom is written
	// urn:lps:<Name>:<Version> (the form integrators send).
	Name, Version string
	// Instance identifies this installation of the software: a UUID
	// generated once at installation and kept.
	Instance string
}

func (s Software) nom() string { return "urn:lps:" + s.Name + ":" + s.Version }

func (s Software) validate() error {
	var missing []string
	if strings.TrimSpace(s.IDAM) == "" {
		missing = append(missing, "IDAM (the CNDA authorisation number)")
	}
	if strings.TrimSpace(s.Name) == "" {
		missing = append(missing, "Name")
	}
	if strings.TrimSpace(s.Version) == "" {
		missing = append(missing, "Version")
	}
	if !isUUID(s.Instance) {
		missing = append(missing, "Instance (a UUID of the installation, such as 2f1c…-…)")
	}
	if len(missing) > 0 {
		return configErrorf("insi: Software: %s required", strings.Join(missing, ", "))
	}
	for _, f := range []struct{ name, v string }{{"IDAM", s.IDAM}, {"Name", s.Name}, {"Version", s.Version}} {
		if err := checkToken("Software."+f.name, f.v); err != nil {
			return &configError{err}
		}
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Mode is how the client authenticates to the service.
type Mode string

// The two authentication modes of the INSi service.
const (
	// ModeMTLS authenticates the structure with its IGC-Santé software
	// certificate (ORG, client authentication) in the TLS handshake.
	ModeMTLS Mode = "mTLS"
	// ModeCPx authenticates a health professional with a CPS card: a SAML
	// 2.0 assertion signed by the card's key is sent in wsse:Security.
	ModeCPx Mode = "CPx"
)

// Credentials is how a Client authenticates: *MTLS or *CPx.
type Credentials interface {
	// Mode names the authentication mode.
	Mode() Mode
	// Emitter is the value written in ContexteBAM/Emetteur and
	// ContexteLPS/Emetteur, unless Config.Emitter overrides it.
	Emitter() string
	configureTLS(cfg *tls.Config)
	security(now time.Time, newID func() string) ([]byte, error)
}

// Certificate CNs the INSi service accepts in mTLS mode: "INSI-AUTO" for
// calls the software makes by itself, "INSI-MANU" for calls a user
// triggers. Upper case, with a hyphen; any other CN is refused with
// DESIR_560 "niveau d'accès insuffisant" (padoa/tlsi-ins README, quoting the
// CNAM: "Le CN doit être égal à INSI-MANU ou INSI-AUTO et tous les
// caractères doivent être en majuscule").
const (
	CNAuto = "INSI-AUTO"
	CNManu = "INSI-MANU"
)

// MTLS authenticates with the structure's IGC-Santé software certificate
// (gamme ORG, client authentication, issued by "AC IGC-SANTE ELEMENTAIRE
// ORGANISATIONS", or its TEST counterpart on the qualification platform).
type MTLS struct {
	cert    tls.Certificate
	leaf    *x509.Certificate
	emitter string
}

// NewMTLS checks cert and returns the credentials. The leaf's CN must be
// exactly CNAuto or CNManu (ErrCertificateCN otherwise, before any call is
// made); the certificate must hold a private key and, when it lists
// extended key usages, client authentication. The emitter is the leaf's
// first OU (the structure's identifier on IGC-Santé ORG certificates, the
// value integrators send), else its CN.
//
// A PKCS#12 file loads with bal.NewCertificateFromPKCS12 (its Cert field is
// the tls.Certificate) or any PKCS#12 decoder.
func NewMTLS(cert tls.Certificate) (*MTLS, error) {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return nil, configErrorf("insi: mTLS: the tls.Certificate holds no certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, configErrorf("insi: mTLS: leaf certificate: %w", err)
		}
	}
	if cert.PrivateKey == nil {
		return nil, configErrorf("insi: mTLS: certificate %q has no private key", leaf.Subject.CommonName)
	}
	if cn := leaf.Subject.CommonName; cn != CNAuto && cn != CNManu {
		return nil, &configError{fmt.Errorf("%w: the certificate's CN is %q (issued by %q)", ErrCertificateCN, cn, leaf.Issuer.CommonName)}
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, configErrorf("insi: mTLS: certificate %s is not for client authentication (extended key usage)", leaf.Subject.CommonName)
	}
	m := &MTLS{cert: cert, leaf: leaf, emitter: leaf.Subject.CommonName}
	if len(leaf.Subject.OrganizationalUnit) > 0 && leaf.Subject.OrganizationalUnit[0] != "" {
		m.emitter = leaf.Subject.OrganizationalUnit[0]
	}
	m.cert.Leaf = leaf
	return m, nil
}

// Mode returns ModeMTLS.
func (m *MTLS) Mode() Mode { return ModeMTLS }

// Emitter returns the certificate's first OU, or its CN.
func (m *MTLS) Emitter() string { return m.emitter }

// Leaf returns the client certificate.
func (m *MTLS) Leaf() *x509.Certificate { return m.leaf }

// Automatic reports whether the certificate is INSI-AUTO (calls made by the
// software without a user), rather than INSI-MANU.
func (m *MTLS) Automatic() bool { return m.leaf.Subject.CommonName == CNAuto }

func (m *MTLS) configureTLS(cfg *tls.Config) {
	cert := m.cert
	cfg.Certificates = nil
	// Always present this certificate, whatever CAs the server names in
	// its CertificateRequest: the client checked it itself.
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
}

// security: in mTLS mode no wsse:Security is sent. Security.xsd requires at
// least one Assertion in it, so an empty header would not be valid, and
// the mTLS requests integrators send have none.
func (m *MTLS) security(time.Time, func() string) ([]byte, error) { return nil, nil }

// CPx authenticates a health professional with a CPS card (or CPE, CPF…):
// each request carries an "assertion PS", a SAML 2.0 assertion signed with
// XML-DSig by the card's signature key. The TLS connection itself carries
// no client certificate.
type CPx struct {
	signer  crypto.Signer
	cert    *x509.Certificate
	opts    CPxOptions
	emitter string
}

// CPxOptions are the attributes of the assertion PS. Observed in an
// assertion accepted by the qualification platform (padoa/tlsi-ins
// fixture assertionPsSecurity): attributes identifiantFacturation and
// secteurActivite ("SA05").
type CPxOptions struct {
	// BillingID is the identifiantFacturation attribute (the
	// professional's billing number), omitted when empty.
	BillingID string
	// Sector is the secteurActivite attribute (e.g. "SA05"), omitted when
	// empty.
	Sector string
	// NameID is the professional's identifier written in Subject/NameID
	// (NameQualifier "CPS"); empty means the certificate's CN (the card's
	// national identifier).
	NameID string
}

// NewCPx returns credentials that sign an assertion PS with signer for
// each request. cert is the card's signature certificate (for bal.OpenCPS:
// cps.Certificate(); the signer is the card's key as a crypto.Signer). The
// key must be RSA (CPS cards hold RSA 2048 keys; the assertion is signed
// rsa-sha256) and cert must hold signer's public key.
func NewCPx(signer crypto.Signer, cert *x509.Certificate, opts CPxOptions) (*CPx, error) {
	if signer == nil || cert == nil {
		return nil, configErrorf("insi: CPx: a signer and its certificate are required")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, configErrorf("insi: CPx: the signer's key is not the key of certificate %q", cert.Subject.CommonName)
	}
	if cert.PublicKeyAlgorithm != x509.RSA {
		return nil, configErrorf("insi: CPx: certificate %q holds a %v key, want RSA (rsa-sha256)", cert.Subject.CommonName, cert.PublicKeyAlgorithm)
	}
	for _, f := range []struct{ name, v string }{{"BillingID", opts.BillingID}, {"Sector", opts.Sector}, {"NameID", opts.NameID}} {
		if err := checkToken("CPxOptions."+f.name, f.v); err != nil {
			return nil, &configError{err}
		}
	}
	c := &CPx{signer: signer, cert: cert, opts: opts, emitter: opts.NameID}
	if c.emitter == "" {
		c.emitter = cert.Subject.CommonName
	}
	if c.emitter == "" {
		return nil, configErrorf("insi: CPx: certificate has no CN and CPxOptions.NameID is empty")
	}
	return c, nil
}

// Mode returns ModeCPx.
func (c *CPx) Mode() Mode { return ModeCPx }

// Emitter returns the professional's identifier (Subject/NameID).
func (c *CPx) Emitter() string { return c.emitter }

// Certificate returns the card's certificate.
func (c *CPx) Certificate() *x509.Certificate { return c.cert }

func (c *CPx) configureTLS(cfg *tls.Config) {
	cfg.Certificates = nil
	cfg.GetClientCertificate = nil
}

func (c *CPx) security(now time.Time, newID func() string) ([]byte, error) {
	var b bytes.Buffer
	if err := c.writeAssertion(&b, now, "_"+newID()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
