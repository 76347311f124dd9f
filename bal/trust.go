package bal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Errors of the trust checks.
var (
	// ErrRevoked: a certificate of the operator's chain is in its CRL.
	ErrRevoked = errors.New("bal: certificate revoked")
	// ErrRevocationUnknown: no valid CRL could be had for a certificate
	// (fetch failed and no cached CRL is still valid).
	ErrRevocationUnknown = errors.New("bal: revocation status unknown")
	// ErrNoRoots: Trust has no roots and system roots are off.
	ErrNoRoots = errors.New("bal: no trusted roots: give the IGC-Santé roots (Trust.Roots)")
)

// Trust says which operator certificates to accept (Ref#2 ECO.1.1.10:
// IGC-Santé is the only authority allowed): TLS 1.2 at least (SC.MSS/CONF.01)
// with forward-secret AEAD cipher suites only (DefaultCipherSuites), the chain
// verified against Roots (the IGC-Santé roots the caller supplies; system
// roots only when asked), the host name checked, and every certificate of
// the chain but the root checked against the CRL of its distribution
// point, through a cache that keeps the last CRL that has not expired.
type Trust struct {
	Roots          []*x509.Certificate
	UseSystemRoots bool
	// MinVersion is tls.VersionTLS12 when zero; lower is refused.
	MinVersion uint16
	// CipherSuites are the TLS 1.2 cipher suites offered;
	// DefaultCipherSuites when nil. Suites crypto/tls lists as insecure
	// are refused. (TLS 1.3 suites are all AEAD with forward secrecy and
	// crypto/tls does not let them be chosen.)
	CipherSuites []uint16
	// CRLs fetches and caches CRLs; a shared default cache when nil.
	CRLs *CRLCache
	// SkipRevocation turns CRL checks off (tests of other features only).
	SkipRevocation bool
	// Now is the clock for CRL validity (time.Now when nil).
	Now func() time.Time
}

var defaultCRLCache = &CRLCache{}

// checkCipherSuite refuses a suite crypto/tls deems insecure, or does not
// know (it would be left out of the handshake without a word).
func checkCipherSuite(id uint16) error {
	for _, cs := range tls.CipherSuites() {
		if cs.ID == id {
			return nil
		}
	}
	for _, cs := range tls.InsecureCipherSuites() {
		if cs.ID == id {
			return fmt.Errorf("bal: cipher suite %s is insecure and not allowed", cs.Name)
		}
	}
	return fmt.Errorf("bal: unknown cipher suite %#04x", id)
}

// DefaultCipherSuites returns the TLS 1.2 cipher suites a Trust offers by
// default: ephemeral elliptic-curve Diffie-Hellman (forward secrecy) and
// authenticated encryption (AES-GCM, ChaCha20-Poly1305) only; no CBC, no
// RSA key exchange.
//
// The list allowed by SC.MSS/CONF.03 (HPF-ANA, Ségur vague 2: "only
// allowed cipher suites") was not found in what could be read (reference
// mssante-spec.md §1.4 and §11). This list follows the ANSSI TLS guide's
// principles (forward secrecy by ECDHE, authenticated encryption, SHA-2)
// and is the one seen in a third-party MSSanté operator design
// (ECDHE-(ECDSA|RSA)-AES(128|256)-GCM and CHACHA20-POLY1305, mssante-spec.md
// §1.4). Set Trust.CipherSuites to change it if an operator needs it.
func DefaultCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// TLSConfig returns the client TLS configuration for serverName.
func (t *Trust) TLSConfig(serverName string) (*tls.Config, error) {
	var roots *x509.CertPool
	if t.UseSystemRoots {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, err
		}
		roots = sys
	} else {
		if len(t.Roots) == 0 {
			return nil, ErrNoRoots
		}
		roots = x509.NewCertPool()
	}
	for _, c := range t.Roots {
		roots.AddCert(c)
	}
	minV := t.MinVersion
	if minV == 0 {
		minV = tls.VersionTLS12
	}
	if minV < tls.VersionTLS12 {
		return nil, fmt.Errorf("bal: TLS minimum version %#x below TLS 1.2 is not allowed", minV)
	}
	suites := t.CipherSuites
	if suites == nil {
		suites = DefaultCipherSuites()
	}
	if len(suites) == 0 {
		return nil, errors.New("bal: Trust.CipherSuites is empty")
	}
	for _, id := range suites {
		if err := checkCipherSuite(id); err != nil {
			return nil, err
		}
	}
	cfg := &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: minV, CipherSuites: slices.Clone(suites)}
	if !t.SkipRevocation {
		cache := t.CRLs
		if cache == nil {
			cache = defaultCRLCache
		}
		now := t.Now
		if now == nil {
			now = time.Now
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, chain := range cs.VerifiedChains {
				return cache.checkChain(context.Background(), chain, now())
			}
			return errors.New("bal: no verified chain")
		}
	}
	return cfg, nil
}

// CRLCache fetches CRLs from distribution points (HTTP) and keeps each
// until its NextUpdate. The zero value is ready to use.
type CRLCache struct {
	// Client fetches CRLs (a client with a 10 s timeout when nil).
	Client *http.Client
	mu     sync.Mutex
	crls   map[string]*x509.RevocationList
}

func (c *CRLCache) get(ctx context.Context, url string, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	c.mu.Lock()
	cached := c.crls[url]
	c.mu.Unlock()
	if cached != nil && now.Before(cached.NextUpdate) {
		return cached, nil
	}
	crl, err := c.fetch(ctx, url, issuer)
	if err != nil {
		if cached != nil && now.Before(cached.NextUpdate) {
			return cached, nil
		}
		return nil, fmt.Errorf("%w: CRL %s: %v", ErrRevocationUnknown, url, err)
	}
	if !crl.NextUpdate.IsZero() && !now.Before(crl.NextUpdate) {
		return nil, fmt.Errorf("%w: CRL %s expired at %s", ErrRevocationUnknown, url, crl.NextUpdate.Format(time.RFC3339))
	}
	c.mu.Lock()
	if c.crls == nil {
		c.crls = map[string]*x509.RevocationList{}
	}
	c.crls[url] = crl
	c.mu.Unlock()
	return crl, nil
}

func (c *CRLCache) fetch(ctx context.Context, url string, issuer *x509.Certificate) (*x509.RevocationList, error) {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, err
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	return crl, nil
}

// checkChain checks every certificate but the root against its issuer's
// CRL.
func (c *CRLCache) checkChain(ctx context.Context, chain []*x509.Certificate, now time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		if len(cert.CRLDistributionPoints) == 0 {
			return fmt.Errorf("%w: %q has no CRL distribution point", ErrRevocationUnknown, cert.Subject.CommonName)
		}
		var lastErr error
		checked := false
		for _, url := range cert.CRLDistributionPoints {
			crl, err := c.get(ctx, url, issuer, now)
			if err != nil {
				lastErr = err
				continue
			}
			for _, r := range crl.RevokedCertificateEntries {
				if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("%w: %q (serial %s) revoked on %s", ErrRevoked, cert.Subject.CommonName, cert.SerialNumber, r.RevocationTime.Format("2006-01-02"))
				}
			}
			checked = true
			break
		}
		if !checked {
			return lastErr
		}
	}
	return nil
}
