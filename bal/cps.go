// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/ecdaf744/gomss/trace"
)

// CPSMode says which signatures the card makes during the TLS handshake.
type CPSMode int

const (
	// CPSModeTLS13PSS is for cards that sign RSA-PSS: TLS 1.3 when the
	// operator offers it (TLS 1.2 otherwise, within Trust's minimum), the
	// card signing only RSA-PSS (rsa_pss_rsae_sha256/384/512), the only
	// RSA signatures TLS 1.3 allows. It is the zero value.
	CPSModeTLS13PSS CPSMode = iota
	// CPSModeTLS12PKCS1 is for cards that only sign RSA PKCS#1 v1.5
	// (CKM_RSA_PKCS): TLS 1.3 is impossible with them, so the connection
	// is capped at TLS 1.2 and the card signs with
	// rsa_pkcs1_sha256/384/512 only.
	CPSModeTLS12PKCS1
)

// String names the mode as in the Go constant.
func (m CPSMode) String() string {
	switch m {
	case CPSModeTLS13PSS:
		return "CPSModeTLS13PSS"
	case CPSModeTLS12PKCS1:
		return "CPSModeTLS12PKCS1"
	}
	return fmt.Sprintf("CPSMode(%d)", int(m))
}

// Errors of OpenCPS that a caller shows differently to the professional.
var (
	// ErrCPSNotFound: no token matches the configured label, serial or
	// slot (card not inserted, reader not connected, wrong label).
	ErrCPSNotFound = errors.New("bal: CPS card not found")
	// ErrCPSPINIncorrect: the card refused the PIN. Cards block after a
	// few wrong PINs: do not retry without asking the professional.
	ErrCPSPINIncorrect = errors.New("bal: CPS PIN incorrect")
	// ErrCPSPINLocked: the PIN is blocked; the card must be unblocked with
	// its PUK (outside this SDK).
	ErrCPSPINLocked = errors.New("bal: CPS PIN blocked")
	// ErrCPSClosed: the CPS was used after Close.
	ErrCPSClosed = errors.New("bal: CPS closed")
	// ErrCPSAlreadyOpen: the card is already open in this process. PKCS#11
	// logs in a whole application, so a second OpenCPS would otherwise
	// succeed with any PIN: share the open *CPS instead.
	ErrCPSAlreadyOpen = errors.New("bal: CPS card already open in this process")
	// ErrCPSUnsupported: this program was built without cgo
	// (CGO_ENABLED=0), and PKCS#11 needs cgo: OpenCPS always fails. The
	// rest of the CPS API (CPSConfig, CPSIdentityFromCertificate…) is there
	// in every build, so that code using it compiles either way.
	ErrCPSUnsupported = errors.New("bal: CPS cards need a build with cgo (PKCS#11); this program was built with CGO_ENABLED=0")
)

// CPSConfig says which PKCS#11 module, token and key hold the
// professional's authentication certificate. Give exactly one of
// TokenLabel, TokenSerial and SlotNumber.
type CPSConfig struct {
	// ModulePath is the PKCS#11 library of the card (for a CPS, the
	// Cryptolib CPS library installed by the ANS package).
	ModulePath string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// SlotNumber selects the token by the slot ID that holds it.
	SlotNumber *int
	// TokenSerial selects the token by its serial number.
	TokenSerial string
	// PIN is asked for the card's user PIN once the token is found, during
	// OpenCPS. The PIN is not kept by the CPS.
	PIN func(ctx context.Context) (string, error)
	// KeyLabel and KeyID (CKA_LABEL, CKA_ID) select the authentication
	// key and its certificate, which share them. When both are empty, the
	// token must hold exactly one key pair whose certificate allows TLS
	// client authentication (a card's signature certificate, for
	// non-repudiation only, is skipped).
	KeyLabel string
	KeyID    []byte
	// Mode is the TLS signature mode (CPSModeTLS13PSS when zero).
	Mode CPSMode
	// Chain holds the intermediate certificates sent after the card's
	// certificate (the card holds only its own). Optional when the
	// operator already knows the IGC-Santé intermediates.
	Chain []*x509.Certificate
	// Now is the clock used to check the certificate's validity
	// (time.Now when nil): OpenCPS refuses a card whose certificate is
	// outside its validity period with an error wrapping
	// ErrCertificateExpired or ErrCertificateNotYetValid.
	Now func() time.Time
}

// CPSIdentity is the holder of a CPS card as its authentication
// certificate names it: subject "CN=<IDNPS>+SN=<surname>+GN=<given
// name>,title=<profession>,C=FR".
type CPSIdentity struct {
	// IDNPS is the national identifier of the professional: "8" followed
	// by the RPPS number, or "0" followed by the ADELI number. Empty when
	// the common name is not such an identifier.
	IDNPS string
	// Surname and GivenName are as on the card (capitals).
	Surname, GivenName string
	// Title is the profession ("Médecin", "Pharmacien"…), empty when the
	// certificate has no title attribute.
	Title string
}

// CPSIdentityFromCertificate reads the holder of a CPS authentication
// certificate from its subject attributes (by OID: Go flattens the
// multi-valued CN+SN+GN RDN into Subject.Names).
func CPSIdentityFromCertificate(c *x509.Certificate) CPSIdentity {
	a := ActorFromCertificate(c, trace.AuthCPS)
	var id CPSIdentity
	if a.IDType == "IDNPS" {
		id.IDNPS = a.ID
	}
	for _, atv := range c.Subject.Names {
		v, _ := atv.Value.(string)
		switch atv.Type.String() {
		case "2.5.4.4":
			id.Surname = v
		case "2.5.4.42":
			id.GivenName = v
		case "2.5.4.12":
			id.Title = v
		}
	}
	return id
}

// CPS authenticates with a CPS card (or any PKCS#11 token holding an
// IGC-Santé authentication certificate): the card's certificate is the TLS
// client certificate and the card signs the handshake, the private key
// never leaving it; SASL EXTERNAL follows when the server offers it.
//
// A CPS may be used by several connections at once. Close it when done:
// it logs out of the card and unloads the PKCS#11 module when no other CPS
// uses it.
//
// The type and its methods exist in every build, but only OpenCPS makes a
// usable one, and OpenCPS needs cgo (PKCS#11): built with CGO_ENABLED=0 it
// returns ErrCPSUnsupported. A CPS not made by OpenCPS is a closed card
// (ConfigureTLS fails with ErrCPSClosed).
type CPS struct {
	mode     CPSMode
	cert     *x509.Certificate
	tlsCert  tls.Certificate
	actor    trace.Actor
	identity CPSIdentity

	mu sync.Mutex
	// card logs out and releases the PKCS#11 session (crypto11's
	// Context.Close); nil once closed.
	card io.Closer
	key  [32]byte // entry in openCards
}

// openCards are the cards open in this process, by certificate hash.
var (
	openCardsMu sync.Mutex
	openCards   = map[[32]byte]bool{}
)

// Actor is the card's holder: IDNPS, "GIVEN SURNAME", AuthCPS.
func (c *CPS) Actor() trace.Actor { return c.actor }

// Identity is the card's holder with the profession (title).
func (c *CPS) Identity() CPSIdentity { return c.identity }

// Certificate is the authentication certificate read from the card.
func (c *CPS) Certificate() *x509.Certificate { return c.cert }

// Mode is the TLS signature mode.
func (c *CPS) Mode() CPSMode { return c.mode }

func (c *CPS) closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.card == nil
}

// ConfigureTLS presents the card's certificate when the server asks for
// one (cfg.GetClientCertificate), the card signing the handshake. In
// CPSModeTLS12PKCS1 it also caps cfg at TLS 1.2, and fails when cfg
// requires TLS 1.3.
//
// When the server's certificate request rules the card's certificate out
// (none of the signature schemes the mode allows, or an unknown issuer),
// the handshake fails with an error saying so, where crypto/tls would
// silently send no certificate and the login would fail later as an
// unexplained authentication failure.
func (c *CPS) ConfigureTLS(cfg *tls.Config) error {
	if c.closed() {
		return ErrCPSClosed
	}
	if c.mode == CPSModeTLS12PKCS1 {
		if cfg.MinVersion > tls.VersionTLS12 {
			return fmt.Errorf("bal: CPS: %v signs PKCS#1 v1.5, which needs TLS 1.2, but the TLS minimum is %s",
				c.mode, tls.VersionName(cfg.MinVersion))
		}
		cfg.MaxVersion = tls.VersionTLS12
	}
	cert := c.tlsCert
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if c.closed() {
			return nil, ErrCPSClosed
		}
		if err := cri.SupportsCertificate(&cert); err != nil {
			return nil, fmt.Errorf("bal: CPS: the server's request rules out the card's certificate %q: %s", cert.Leaf.Subject.CommonName, c.refusalReason(cri, &cert, err))
		}
		return &cert, nil
	}
	return nil
}

// refusalReason explains why cri rules out cert: crypto/tls's own message
// ("RSA key size too small…") does not say that a mode's schemes are
// missing.
func (c *CPS) refusalReason(cri *tls.CertificateRequestInfo, cert *tls.Certificate, err error) string {
	if c.mode == CPSModeTLS12PKCS1 && cri.Version >= tls.VersionTLS13 {
		return fmt.Sprintf("%s forbids the PKCS#1 v1.5 signatures of %v", tls.VersionName(cri.Version), c.mode)
	}
	if cert.SupportedSignatureAlgorithms != nil && !slices.ContainsFunc(cri.SignatureSchemes, func(s tls.SignatureScheme) bool {
		return slices.Contains(cert.SupportedSignatureAlgorithms, s)
	}) {
		return fmt.Sprintf("the server (%s) accepts none of the signatures of %v %v; it accepts %v",
			tls.VersionName(cri.Version), c.mode, cert.SupportedSignatureAlgorithms, cri.SignatureSchemes)
	}
	return err.Error()
}

// SASL answers EXTERNAL (the identity is the certificate's) when the
// server offers it, else nil: the TLS client certificate is enough.
func (c *CPS) SASL(_ context.Context, mechs []string) (sasl.Client, error) {
	if hasMech(mechs, sasl.External) {
		return sasl.NewExternalClient(""), nil
	}
	return nil, nil
}

// Close waits for signatures under way, logs out and releases the card.
// Connections already established are not affected; new ones cannot use
// the card. Closing twice is harmless.
func (c *CPS) Close() error {
	c.mu.Lock()
	card := c.card
	c.card = nil
	c.mu.Unlock()
	if card == nil {
		return nil
	}
	openCardsMu.Lock()
	delete(openCards, c.key)
	openCardsMu.Unlock()
	if err := card.Close(); err != nil {
		return fmt.Errorf("bal: CPS close: %w", err)
	}
	return nil
}
