//go:build cgo

package bal

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
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

// signatureSchemes are the TLS signature schemes the card is allowed to
// make in mode m.
func (m CPSMode) signatureSchemes() []tls.SignatureScheme {
	if m == CPSModeTLS12PKCS1 {
		return []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}
	}
	return []tls.SignatureScheme{tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512}
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
	// (time.Now when nil).
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
type CPS struct {
	mode     CPSMode
	cert     *x509.Certificate
	tlsCert  tls.Certificate
	actor    trace.Actor
	identity CPSIdentity

	mu  sync.Mutex
	ctx *crypto11.Context // nil once closed
	key [32]byte          // entry in openCards
}

// tokenNotFound is crypto11 v1.6.0's (unexported) error when no token
// matches; TestOpenCPS checks the mapping still holds.
const tokenNotFound = "could not find PKCS#11 token"

// OpenCPS opens the token, asks cfg.PIN for the PIN, logs in, and reads
// the authentication certificate and key. The token is looked up before
// the PIN is asked, so a missing card is reported (ErrCPSNotFound) without
// asking for a PIN; a refused PIN is ErrCPSPINIncorrect or ErrCPSPINLocked.
//
// Open a card once per process and share the *CPS: PKCS#11 logs in a
// whole application, and crypto11 takes "already logged in" as success,
// so while a CPS is open another OpenCPS on the same card would succeed
// whatever PIN it is given. OpenCPS therefore refuses a card (identified
// by its certificate) that is already open, with ErrCPSAlreadyOpen.
func OpenCPS(ctx context.Context, cfg CPSConfig) (*CPS, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bal: CPS: %w", err)
	}
	sel := cfg.selection()
	// A first context without login finds the token before the PIN is
	// asked. It also keeps the module loaded until the logged-in context
	// exists (crypto11 loads a module once per process and counts users).
	probe, err := crypto11.Configure(cfg.crypto11Config(true, ""))
	if err != nil {
		return nil, cfg.openError(sel, err)
	}
	defer probe.Close()

	pin, err := cfg.PIN(ctx)
	if err != nil {
		return nil, fmt.Errorf("bal: CPS %s: PIN entry: %w", sel, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bal: CPS %s: %w", sel, err)
	}
	c11cfg := cfg.crypto11Config(false, pin)
	c11, err := crypto11.Configure(c11cfg)
	c11cfg.Pin = "" // crypto11 keeps its Config; the PIN served only to log in
	if err != nil {
		return nil, cfg.openError(sel, err)
	}
	c, err := cfg.load(c11, sel)
	if err != nil {
		c11.Close()
		return nil, err
	}
	key := sha256.Sum256(c.cert.Raw)
	openCardsMu.Lock()
	if openCards[key] {
		openCardsMu.Unlock()
		// crypto11 counts the contexts of a module: closing this one
		// leaves the open CPS logged in.
		c11.Close()
		return nil, fmt.Errorf("%w (%s)", ErrCPSAlreadyOpen, sel)
	}
	openCards[key] = true
	openCardsMu.Unlock()
	c.key = key
	return c, nil
}

// openCards are the cards open in this process, by certificate hash.
var (
	openCardsMu sync.Mutex
	openCards   = map[[32]byte]bool{}
)

// check validates the configuration before the module is loaded.
func (cfg *CPSConfig) check() error {
	if cfg.ModulePath == "" {
		return errors.New("bal: CPS: ModulePath is empty: give the PKCS#11 library of the card (Cryptolib CPS)")
	}
	if _, err := os.Stat(cfg.ModulePath); err != nil {
		return fmt.Errorf("bal: CPS: PKCS#11 module: %w", err)
	}
	var ways []string
	if cfg.TokenLabel != "" {
		ways = append(ways, "TokenLabel")
	}
	if cfg.TokenSerial != "" {
		ways = append(ways, "TokenSerial")
	}
	if cfg.SlotNumber != nil {
		ways = append(ways, "SlotNumber")
	}
	if len(ways) != 1 {
		return fmt.Errorf("bal: CPS: give exactly one of TokenLabel, TokenSerial and SlotNumber (got %d: %s)", len(ways), strings.Join(ways, ", "))
	}
	if cfg.PIN == nil {
		return errors.New("bal: CPS: no PIN callback (CPSConfig.PIN)")
	}
	if cfg.Mode != CPSModeTLS13PSS && cfg.Mode != CPSModeTLS12PKCS1 {
		return fmt.Errorf("bal: CPS: unknown mode %v", cfg.Mode)
	}
	return nil
}

// selection describes the token asked for, for error messages.
func (cfg *CPSConfig) selection() string {
	switch {
	case cfg.TokenLabel != "":
		return fmt.Sprintf("token %q", cfg.TokenLabel)
	case cfg.TokenSerial != "":
		return fmt.Sprintf("token serial %q", cfg.TokenSerial)
	default:
		return fmt.Sprintf("slot %d", *cfg.SlotNumber)
	}
}

func (cfg *CPSConfig) crypto11Config(noLogin bool, pin string) *crypto11.Config {
	c := &crypto11.Config{Path: cfg.ModulePath, TokenLabel: cfg.TokenLabel, TokenSerial: cfg.TokenSerial,
		Pin: pin, LoginNotSupported: noLogin}
	if cfg.SlotNumber != nil {
		n := *cfg.SlotNumber
		c.SlotNumber = &n
	}
	return c
}

// openError maps crypto11's errors to ours. crypto11 returns the PKCS#11
// return value (a miekg/pkcs11 Error, whose text is the CKR_ name) inside
// its own messages.
func (cfg *CPSConfig) openError(sel string, err error) error {
	msg := err.Error()
	switch {
	case msg == tokenNotFound:
		return fmt.Errorf("%w: no %s in %s (is the card in the reader?)", ErrCPSNotFound, sel, cfg.ModulePath)
	case strings.Contains(msg, "CKR_PIN_INCORRECT"):
		return fmt.Errorf("%w (%s)", ErrCPSPINIncorrect, sel)
	case strings.Contains(msg, "CKR_PIN_LOCKED"):
		return fmt.Errorf("%w (%s): unblock it with the PUK", ErrCPSPINLocked, sel)
	case strings.Contains(msg, "CKR_PIN_EXPIRED"):
		return fmt.Errorf("bal: CPS %s: the PIN has expired and must be changed", sel)
	}
	return fmt.Errorf("bal: CPS %s (%s): %w", sel, cfg.ModulePath, err)
}

// load finds the key pair and certificate on a logged-in token.
func (cfg *CPSConfig) load(c11 *crypto11.Context, sel string) (*CPS, error) {
	var (
		signer crypto.Signer
		cert   *x509.Certificate
		err    error
	)
	if len(cfg.KeyID) == 0 && cfg.KeyLabel == "" {
		signer, cert, err = findAuthKey(c11, sel)
		if err != nil {
			return nil, err
		}
	} else {
		what := keyDescription(cfg.KeyID, cfg.KeyLabel)
		label := []byte(cfg.KeyLabel)
		if cfg.KeyLabel == "" {
			label = nil
		}
		if signer, err = c11.FindKeyPair(cfg.KeyID, label); err != nil {
			return nil, fmt.Errorf("bal: CPS %s: key %s: %w", sel, what, err)
		}
		if signer == nil {
			return nil, fmt.Errorf("bal: CPS %s: no key pair %s", sel, what)
		}
		if cert, err = c11.FindCertificate(cfg.KeyID, label, nil); err != nil {
			return nil, fmt.Errorf("bal: CPS %s: certificate %s: %w", sel, what, err)
		}
		if cert == nil {
			return nil, fmt.Errorf("bal: CPS %s: no certificate %s", sel, what)
		}
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("bal: CPS %s: the certificate %q does not match the card's key", sel, cert.Subject.CommonName)
	}
	if _, isRSA := signer.Public().(*rsa.PublicKey); !isRSA && cfg.Mode == CPSModeTLS12PKCS1 {
		return nil, fmt.Errorf("bal: CPS %s: %v needs an RSA key, the card has %T", sel, cfg.Mode, signer.Public())
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if t := now(); t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return nil, fmt.Errorf("bal: CPS %s: certificate %q valid from %s to %s, not at %s", sel, cert.Subject.CommonName,
			cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly), t.Format(time.DateOnly))
	}
	tc := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: signer, Leaf: cert}
	if _, isRSA := signer.Public().(*rsa.PublicKey); isRSA {
		tc.SupportedSignatureAlgorithms = cfg.Mode.signatureSchemes()
	}
	for _, ca := range cfg.Chain {
		tc.Certificate = append(tc.Certificate, ca.Raw)
	}
	return &CPS{mode: cfg.Mode, cert: cert, tlsCert: tc, ctx: c11,
		actor: ActorFromCertificate(cert, trace.AuthCPS), identity: CPSIdentityFromCertificate(cert)}, nil
}

func keyDescription(id []byte, label string) string {
	var parts []string
	if len(id) > 0 {
		parts = append(parts, fmt.Sprintf("id %x", id))
	}
	if label != "" {
		parts = append(parts, fmt.Sprintf("label %q", label))
	}
	return strings.Join(parts, " ")
}

// findAuthKey returns the only key pair of the token whose certificate
// allows TLS client authentication.
func findAuthKey(c11 *crypto11.Context, sel string) (crypto.Signer, *x509.Certificate, error) {
	pairs, err := c11.FindAllPairedCertificates()
	if err != nil {
		return nil, nil, fmt.Errorf("bal: CPS %s: listing key pairs: %w", sel, err)
	}
	var found []tls.Certificate
	var names []string
	for _, p := range pairs {
		names = append(names, fmt.Sprintf("%q", p.Leaf.Subject.CommonName))
		if clientAuthUsable(p.Leaf) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0].PrivateKey.(crypto.Signer), found[0].Leaf, nil
	case 0:
		return nil, nil, fmt.Errorf("bal: CPS %s: no key pair with a client authentication certificate (certificates with a key: %d %s)",
			sel, len(pairs), strings.Join(names, ", "))
	}
	return nil, nil, fmt.Errorf("bal: CPS %s: %d key pairs with a client authentication certificate: set KeyID or KeyLabel", sel, len(found))
}

// clientAuthUsable: the certificate may sign a TLS client handshake.
func clientAuthUsable(c *x509.Certificate) bool {
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return false
	}
	if len(c.ExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

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
	return c.ctx == nil
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
	c11 := c.ctx
	c.ctx = nil
	c.mu.Unlock()
	if c11 == nil {
		return nil
	}
	openCardsMu.Lock()
	delete(openCards, c.key)
	openCardsMu.Unlock()
	if err := c11.Close(); err != nil {
		return fmt.Errorf("bal: CPS close: %w", err)
	}
	return nil
}
