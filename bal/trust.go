package bal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of the trust checks.
var (
	// ErrRevoked: a certificate of the operator's chain is in its CRL.
	ErrRevoked = errors.New("bal: certificate revoked")
	// ErrRevocationUnknown: no valid CRL could be had for a certificate
	// (no valid offline CRL, the fetch failed or was cut short by the
	// caller's context, and no kept CRL is still valid).
	ErrRevocationUnknown = errors.New("bal: revocation status unknown")
	// ErrNoRoots: Trust has no roots and system roots are off.
	ErrNoRoots = errors.New("bal: no trusted roots: give the IGC-Santé roots (Trust.Roots)")
)

// Trust says which operator certificates to accept (Ref#2 ECO.1.1.10:
// IGC-Santé is the only authority allowed): TLS 1.2 at least
// (SC.MSS/CONF.01) with forward-secret AEAD cipher suites only
// ([DefaultCipherSuites]), the chain verified against Roots (the IGC-Santé roots
// the caller supplies; system roots only when asked), the host name
// checked, and every certificate of the chain but the root checked
// against a CRL of its issuer (Ref#2 ECO.1.1.5/ECO.1.1.6):
//
//   - an offline CRL of the issuer (OfflineCRLs) valid now is used first,
//     and then nothing is fetched;
//   - otherwise the CRL of the certificate's distribution point, through
//     the CRL cache: refreshed every CRLCache.Refresh (one hour by
//     default); when the distribution point cannot be reached, the last
//     CRL kept is used as long as it has not expired (SC.MSS/CONF.22);
//   - a CRL past its nextUpdate is expired and never used: with no valid
//     CRL the status is unknown and the connection refused
//     ([ErrRevocationUnknown]); a certificate without distribution point
//     is accepted only with a valid offline CRL of its issuer.
//
// A CRL is valid when its issuer name is the certificate's issuer, its
// signature verifies with the issuer's key and its nextUpdate (which it
// must have, RFC 5280 §5.1.2.5) is still to come. The CRLs fetched during
// a handshake are fetched within the context of the Send, Open or
// [Trust.TLSConfigContext] that makes the connection. Only the first chain
// crypto/tls verified is checked.
type Trust struct {
	// Roots are the trusted roots: the IGC-Santé ones.
	Roots []*x509.Certificate
	// UseSystemRoots adds the system's roots to Roots (off by default:
	// Ref#2 ECO.1.1.10 allows IGC-Santé only).
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
	// OfflineCRLs hands over CRLs without fetching them (files an
	// operator publishes: [CRLDir]; a fixed set: [CRLList]). A valid CRL
	// found there is used before, and instead of, the distribution point.
	OfflineCRLs CRLSource
	// SkipRevocation turns CRL checks off (tests of other features only).
	SkipRevocation bool
	// Now is the clock for CRL validity (time.Now when nil).
	Now func() time.Time
}

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

// TLSConfig returns the client TLS configuration for serverName, as
// [Trust.TLSConfigContext] with a context that never ends: the CRLs its
// handshakes fetch are bounded only by the CRL cache's HTTP client.
func (t *Trust) TLSConfig(serverName string) (*tls.Config, error) {
	return t.TLSConfigContext(context.Background(), serverName)
}

// TLSConfigContext returns the client TLS configuration of a connection to
// serverName made on behalf of a caller whose context is ctx: a CRL
// fetched during the handshake is fetched within ctx, so that a stalled
// distribution point holds the caller no longer than its context (the
// handshake then fails with ErrRevocationUnknown wrapping ctx's error,
// unless a valid CRL is kept). Sender and Receiver make one per
// connection with their context. The configuration must not outlive ctx:
// once ctx has ended, a handshake that needs to fetch a CRL fails.
func (t *Trust) TLSConfigContext(ctx context.Context, serverName string) (*tls.Config, error) {
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
		offline := t.OfflineCRLs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.VerifiedChains) == 0 {
				return errors.New("bal: no verified chain")
			}
			r := revocation{cache: cache, offline: offline, now: now()}
			return r.checkChain(ctx, cs.VerifiedChains[0])
		}
	}
	return cfg, nil
}
