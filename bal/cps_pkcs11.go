// SPDX-License-Identifier: Apache-2.0

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
	"strings"
	"time"

	"github.com/ThalesGroup/crypto11"

	"github.com/ecdaf744/gomss/trace"
)

// signatureSchemes are the TLS signature schemes the card is allowed to
// make in mode m.
func (m CPSMode) signatureSchemes() []tls.SignatureScheme {
	if m == CPSModeTLS12PKCS1 {
		return []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}
	}
	return []tls.SignatureScheme{tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512}
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
		kind := ErrCertificateExpired
		if t.Before(cert.NotBefore) {
			kind = ErrCertificateNotYetValid
		}
		return nil, fmt.Errorf("bal: CPS %s: certificate %q valid from %s to %s, not at %s (%w)", sel, cert.Subject.CommonName,
			cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly), t.Format(time.DateOnly), kind)
	}
	tc := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: signer, Leaf: cert}
	if _, isRSA := signer.Public().(*rsa.PublicKey); isRSA {
		tc.SupportedSignatureAlgorithms = cfg.Mode.signatureSchemes()
	}
	for _, ca := range cfg.Chain {
		tc.Certificate = append(tc.Certificate, ca.Raw)
	}
	return &CPS{mode: cfg.Mode, cert: cert, tlsCert: tc, card: c11,
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
