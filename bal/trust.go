// SPDX-License-Identifier: Apache-2.0

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
	// ErrCRLRefused: a CRL was found but may not be used: not issued
	// under the certificate's issuer name, signature not verified with the
	// issuer's key, not valid yet (thisUpdate to come) or expired, or
	// breaking a rule of RFC 5280 §5 (no nextUpdate, no CRLNumber or a
	// critical one, a critical extension gomss does not process, a delta,
	// indirect or partial-reason CRL, a malformed issuingDistributionPoint:
	// ErrMalformedIDP). Found wrapped in ErrRevocationUnknown.
	ErrCRLRefused = errors.New("bal: CRL refused")
	// ErrCRLNotInScope: a valid CRL of the issuer does not cover the
	// certificate: its issuingDistributionPoint restricts it to CA or to
	// end-entity certificates, or to another distribution point (RFC 5280
	// §6.3.3 (b)(2)). Found wrapped in ErrRevocationUnknown.
	ErrCRLNotInScope = errors.New("bal: CRL does not cover the certificate")
	// ErrNoRoots: Trust has no roots and system roots are off.
	ErrNoRoots = errors.New("bal: no trusted roots: give the IGC-Santé roots (Trust.Roots)")
	// ErrCipherSuites: Trust.CipherSuites cannot be used: it is empty
	// (not nil), or it lists a suite crypto/tls deems insecure or does not
	// know. The error says which.
	ErrCipherSuites = errors.New("bal: Trust.CipherSuites refused")
)

// Trust says which operator certificates to accept (Ref#2 ECO.1.1.10:
// IGC-Santé is the only authority allowed): TLS 1.2 at least
// (SC.MSS/CONF.01) with the cipher suites and curves of SC.MSS/CONF.03
// that crypto/tls implements securely ([DefaultCipherSuites],
// [DefaultCurves]), the chain verified against Roots (the IGC-Santé roots
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
// A CRL is used only when it is valid by RFC 5280 (issuer name, signature
// by the issuer's key, thisUpdate past, nextUpdate to come, a non-critical
// CRLNumber, no critical extension gomss does not process; a delta,
// indirect or partial CRL is refused: [ErrCRLRefused]) and covers the
// certificate by its issuingDistributionPoint ([ErrCRLNotInScope]);
// docs/security.md lists the rules with their sections. Every chain
// crypto/tls verified is checked and the connection accepted when one
// passes: a revoked cross-certificate on one path does not refuse an
// operator reachable by a good one. The CRLs fetched during a handshake
// are fetched within the context of the Send, Open or
// [Trust.TLSConfigContext] that makes the connection.
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
	// or does not know, and an empty list, are refused (ErrCipherSuites);
	// a suite outside the list of SC.MSS/CONF.03 is allowed here for an
	// operator that needs it, at the caller's risk of non-conformity.
	// (TLS 1.3 suites are all AEAD with forward secrecy and crypto/tls
	// does not let them be chosen.)
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
			return fmt.Errorf("%w: cipher suite %s is insecure and not allowed", ErrCipherSuites, cs.Name)
		}
	}
	return fmt.Errorf("%w: unknown cipher suite %#04x", ErrCipherSuites, id)
}

// DefaultCipherSuites returns the TLS 1.2 cipher suites a Trust offers by
// default: those of SC.MSS/CONF.03 that crypto/tls implements securely.
//
// SC.MSS/CONF.03 (REM Ségur vague 2, reference mssante-spec.md §1.4: "Le
// système DOIT uniquement utiliser l'une des suites de chiffrement
// suivantes") lists, and gomss does for each:
//
//   - 0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: offered;
//   - 0xC02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: offered;
//   - 0xC028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: not implemented by
//     crypto/tls, left out;
//   - 0xC027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: in
//     tls.InsecureCipherSuites (CBC with HMAC-SHA256 has no constant-time
//     implementation in crypto/tls: Lucky Thirteen), left out and refused
//     in Trust.CipherSuites like every insecure suite;
//   - 0x009F TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 and 0x009E
//     TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: crypto/tls has no finite-field
//     DHE, left out (the requirement's 2048-bit DH group rule is then
//     moot).
//
// Nothing outside the list is offered: no ECDSA, no ChaCha20-Poly1305, no
// RSA key exchange, no SHA-1 CBC. An operator whose TLS 1.2 server offers
// none of the two (an ECDSA certificate, say) is refused, as the
// requirement says ("Dans le cas contraire, la connexion ne doit pas être
// établie"). With TLS 1.3 (allowed by SC.MSS/CONF.02) the suites are
// those of RFC 8446, which crypto/tls does not let a client choose; the
// key exchange is still restricted to [DefaultCurves].
func DefaultCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	}
}

// DefaultCurves returns the key exchanges a Trust offers, in TLS 1.2 and
// TLS 1.3 alike: SC.MSS/CONF.03 wants "la longueur du groupe elliptique
// ECDH >= 256 bits", so the NIST curves P-256, P-384 and P-521, and the
// post-quantum hybrids built on P-256 and P-384 (SecP256r1MLKEM768,
// SecP384r1MLKEM1024, TLS 1.3 only: their ECDH part meets the rule and
// ML-KEM only adds to it). X25519 is left out: its field is 2^255-19 and
// its group order about 2^252, under 256 bits by the letter of the rule;
// so is the X25519MLKEM768 hybrid, whose ECDH part is X25519. P-256 is
// mandatory for every TLS 1.3 server (RFC 8446 §9.1), so no conforming
// operator is lost. The list is not configurable.
func DefaultCurves() []tls.CurveID {
	return []tls.CurveID{
		tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
		tls.CurveP256, tls.CurveP384, tls.CurveP521,
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
		return nil, fmt.Errorf("%w: the list is empty", ErrCipherSuites)
	}
	for _, id := range suites {
		if err := checkCipherSuite(id); err != nil {
			return nil, err
		}
	}
	cfg := &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: minV, CipherSuites: slices.Clone(suites),
		CurvePreferences: DefaultCurves()}
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
			r := revocation{cache: cache, offline: offline, now: now()}
			return r.checkChains(ctx, cs.VerifiedChains)
		}
	}
	return cfg, nil
}
