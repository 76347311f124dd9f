// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// CRLHandler returns a handler publishing the CRLs under their file names
// (see [PKIOptions.CRLURL]): GET <path>/ACI-EL-ORG.crl answers the DER
// encoding (application/pkix-crl), and the same name with ".pem" instead of
// ".crl" the PEM encoding. Only the last path element is looked at, so the
// handler can be mounted anywhere.
func (p *PKI) CRLHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		for _, ca := range p.CAs() {
			switch name {
			case ca.crlFile:
				w.Header().Set("Content-Type", "application/pkix-crl")
				w.Write(ca.CRLDER)
				return
			case strings.TrimSuffix(ca.crlFile, ".crl") + ".pem":
				w.Header().Set("Content-Type", "application/x-pem-file")
				w.Write(ca.CRLPEM())
				return
			}
		}
		http.NotFound(w, r)
	})
}

// CRLServer is a running HTTP server publishing a PKI's CRLs at the
// distribution points named in its certificates.
type CRLServer struct {
	// URL is the base URL of the CRLs (PKIOptions.CRLURL or the one chosen
	// by NewPKI).
	URL string

	srv  *http.Server
	hits atomic.Int64
	done chan struct{}
}

// ServeCRL starts an HTTP server on the loopback address named by the PKI's
// CRL URL. It fails when that address is not a loopback one (a PKI made
// with a PKIOptions.CRLURL of your own: serve [PKI.CRLHandler] there
// instead) or when the port was taken by someone else since NewPKI chose
// it. Close the server when done.
func (p *PKI) ServeCRL() (*CRLServer, error) {
	u, err := url.Parse(p.crlBase)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL URL %q: %w", p.crlBase, err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() || u.Port() == "" {
		return nil, fmt.Errorf("baltest: CRL URL %q is not http://<loopback address>:<port>; serve PKI.CRLHandler yourself", p.crlBase)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL server: %w", err)
	}
	s := &CRLServer{URL: p.crlBase, done: make(chan struct{})}
	h := p.CRLHandler()
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	})}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// Requests returns how many requests the server has answered, so that a
// test can tell whether a client fetched the CRLs.
func (s *CRLServer) Requests() int64 { return s.hits.Load() }

// Close stops the server and waits until it has stopped.
func (s *CRLServer) Close() {
	s.srv.Close()
	<-s.done
}

// CRLOptions shapes a CRL issued by [CA.IssueCRL]. The zero value gives a
// conforming CRL (RFC 5280 §5): version 2, issued an hour ago, next update
// in a week, authority key identifier, CRL number 1, nothing revoked. The
// other fields each break or stretch one rule, for tests of a client's CRL
// checks (RFC 5280 §6.3.3).
type CRLOptions struct {
	// ThisUpdate is the issue date: an hour ago when zero (one in the
	// future makes a CRL that is not valid yet).
	ThisUpdate time.Time
	// NextUpdate is a week after ThisUpdate when zero.
	NextUpdate time.Time
	// NoNextUpdate leaves nextUpdate out (RFC 5280 §5.1.2.5: conforming
	// CRL issuers MUST include it).
	NoNextUpdate bool
	// Number is the CRL number, 1 when nil.
	Number *big.Int
	// NoNumber leaves the CRL number extension out (RFC 5280 §5.2.3:
	// conforming CRL issuers MUST include it); CriticalNumber marks it
	// critical (§5.2.3: it is non-critical).
	NoNumber, CriticalNumber bool
	// Revoked are the entries. RevocationTime defaults to ThisUpdate less
	// a minute; a non-zero ReasonCode gives a reasonCode entry extension;
	// ExtraExtensions are copied (a critical one the client does not know
	// makes the whole CRL unusable, RFC 5280 §5.3).
	Revoked []x509.RevocationListEntry
	// IssuingDistributionPoint, when not nil, is added as the critical
	// issuingDistributionPoint extension (RFC 5280 §5.2.5).
	IssuingDistributionPoint *IssuingDistributionPoint
	// Extensions are added after the others, as they are (an unknown
	// critical extension, a delta CRL indicator, a duplicate).
	Extensions []pkix.Extension
	// IssuerName, when not nil, is the DER-encoded Name written as the
	// CRL's issuer instead of the authority's subject; the CRL is still
	// signed by the authority's key.
	IssuerName []byte
	// Signer signs the CRL instead of the authority's key (a forgery
	// under the authority's name). RSA and ECDSA keys are supported.
	Signer crypto.Signer
}

// IssuingDistributionPoint is the content of the issuingDistributionPoint
// CRL extension (RFC 5280 §5.2.5), which restricts the certificates a CRL
// covers.
type IssuingDistributionPoint struct {
	// URIs and DirectoryNames (DER-encoded Names) make the fullName of the
	// distribution point the CRL is published for; RelativeName (a
	// DER-encoded RelativeDistinguishedName, a SET) makes it
	// nameRelativeToCRLIssuer instead. All empty: no distribution point.
	URIs           []string
	DirectoryNames [][]byte
	RelativeName   []byte
	// OnlyContainsUserCerts, OnlyContainsCACerts and
	// OnlyContainsAttributeCerts restrict the CRL to end-entity
	// certificates, CA certificates, or attribute certificates.
	OnlyContainsUserCerts, OnlyContainsCACerts, OnlyContainsAttributeCerts bool
	// OnlySomeReasons, when not empty, restricts the CRL to revocations
	// for these reasons: the ReasonFlags bits of RFC 5280 §4.2.1.13
	// (1 keyCompromise … 8 aACompromise).
	OnlySomeReasons []int
	// IndirectCRL says the CRL may list certificates of other issuers.
	IndirectCRL bool
	// NonCritical marks the extension non-critical (RFC 5280 §5.2.5: it
	// is critical).
	NonCritical bool
}

// OIDIssuingDistributionPoint is the object identifier of the
// issuingDistributionPoint CRL extension (RFC 5280 §5.2.5).
var OIDIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

var (
	oidCRLNumber       = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLReasonCode   = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// context-specific tagged value (implicit tagging unless compound).
func tagged(tag int, compound bool, content []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: compound, Bytes: content}
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil { // only values built here are marshalled
		panic("baltest: DER encoding: " + err.Error())
	}
	return b
}

// Marshal returns the DER encoding of the extension's value:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	  distributionPoint          [0] DistributionPointName OPTIONAL,
//	  onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
//	  onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
//	  onlySomeReasons            [3] ReasonFlags OPTIONAL,
//	  indirectCRL                [4] BOOLEAN DEFAULT FALSE,
//	  onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
//
// (RFC 5280 §5.2.5, implicit tags; DistributionPointName is a CHOICE, so
// its tag [0] is explicit.) A reason outside 1–8 is an error.
func (p IssuingDistributionPoint) Marshal() ([]byte, error) {
	var body []byte
	switch {
	case p.RelativeName != nil:
		var set asn1.RawValue
		if rest, err := asn1.Unmarshal(p.RelativeName, &set); err != nil || len(rest) > 0 || set.Tag != asn1.TagSet {
			return nil, fmt.Errorf("baltest: IssuingDistributionPoint.RelativeName is not one DER SET")
		}
		body = append(body, mustMarshal(tagged(0, true, mustMarshal(tagged(1, true, set.Bytes))))...)
	case len(p.URIs) > 0 || len(p.DirectoryNames) > 0:
		var names []byte
		for _, n := range p.DirectoryNames {
			names = append(names, mustMarshal(tagged(4, true, n))...)
		}
		for _, u := range p.URIs {
			names = append(names, mustMarshal(tagged(6, false, []byte(u)))...)
		}
		body = append(body, mustMarshal(tagged(0, true, mustMarshal(tagged(0, true, names))))...)
	}
	flag := func(tag int, on bool) {
		if on {
			body = append(body, mustMarshal(tagged(tag, false, []byte{0xff}))...)
		}
	}
	flag(1, p.OnlyContainsUserCerts)
	flag(2, p.OnlyContainsCACerts)
	if len(p.OnlySomeReasons) > 0 {
		bits := make([]byte, 2)
		last := 0
		for _, r := range p.OnlySomeReasons {
			if r < 1 || r > 8 {
				return nil, fmt.Errorf("baltest: reason flag %d outside 1-8", r)
			}
			bits[r/8] |= 0x80 >> (r % 8)
			last = max(last, r)
		}
		n := last/8 + 1
		content := append([]byte{byte(7 - last%8)}, bits[:n]...) // unused bits, then the named bits
		body = append(body, mustMarshal(tagged(3, false, content))...)
	}
	flag(4, p.IndirectCRL)
	flag(5, p.OnlyContainsAttributeCerts)
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
}

type tbsCRL struct {
	Version    int
	Signature  pkix.AlgorithmIdentifier
	Issuer     asn1.RawValue
	ThisUpdate time.Time
	NextUpdate time.Time                 `asn1:"optional"`
	Revoked    []pkix.RevokedCertificate `asn1:"optional"`
	Extensions []pkix.Extension          `asn1:"tag:0,optional,explicit"`
}

type signedCRL struct {
	TBS       asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// IssueCRL issues a CRL of the authority shaped by o and returns it
// parsed (its DER encoding is in Raw). The authority's own CRL (CA.CRL,
// the one PKI.CRLHandler serves) is left as it is. Unlike
// x509.CreateRevocationList it can break the rules, for tests: see
// [CRLOptions].
func (ca *CA) IssueCRL(o CRLOptions) (*x509.RevocationList, error) {
	signer := o.Signer
	if signer == nil {
		signer = ca.Key
	}
	var alg pkix.AlgorithmIdentifier
	switch signer.Public().(type) {
	case *rsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	case *ecdsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	default:
		return nil, fmt.Errorf("baltest: CRL signer key %T: only RSA and ECDSA", signer.Public())
	}
	this := o.ThisUpdate
	if this.IsZero() {
		this = time.Now().Add(-time.Hour)
	}
	next := o.NextUpdate
	if next.IsZero() {
		next = this.AddDate(0, 0, 7)
	}
	if o.NoNextUpdate {
		next = time.Time{}
	}
	issuer := ca.Cert.RawSubject
	if o.IssuerName != nil {
		issuer = o.IssuerName
	}
	tbs := tbsCRL{Version: 1, Signature: alg, Issuer: asn1.RawValue{FullBytes: issuer},
		ThisUpdate: this.UTC(), NextUpdate: next.UTC()}
	for _, e := range o.Revoked {
		rc := pkix.RevokedCertificate{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime.UTC(), Extensions: e.ExtraExtensions}
		if e.RevocationTime.IsZero() {
			rc.RevocationTime = this.Add(-time.Minute).UTC()
		}
		if e.ReasonCode != 0 {
			rc.Extensions = append(slices.Clone(rc.Extensions), pkix.Extension{Id: oidCRLReasonCode, Value: mustMarshal(asn1.Enumerated(e.ReasonCode))})
		}
		tbs.Revoked = append(tbs.Revoked, rc)
	}
	aki := mustMarshal(struct {
		ID []byte `asn1:"optional,tag:0"`
	}{ca.Cert.SubjectKeyId})
	tbs.Extensions = append(tbs.Extensions, pkix.Extension{Id: oidAuthorityKeyID, Value: aki})
	if !o.NoNumber {
		n := o.Number
		if n == nil {
			n = big.NewInt(1)
		}
		tbs.Extensions = append(tbs.Extensions, pkix.Extension{Id: oidCRLNumber, Critical: o.CriticalNumber, Value: mustMarshal(n)})
	}
	if o.IssuingDistributionPoint != nil {
		v, err := o.IssuingDistributionPoint.Marshal()
		if err != nil {
			return nil, err
		}
		tbs.Extensions = append(tbs.Extensions, pkix.Extension{Id: OIDIssuingDistributionPoint, Critical: !o.IssuingDistributionPoint.NonCritical, Value: v})
	}
	tbs.Extensions = append(tbs.Extensions, o.Extensions...)
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	digest := sha256.Sum256(tbsDER)
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("baltest: signing the CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	der, err := asn1.Marshal(signedCRL{TBS: asn1.RawValue{FullBytes: tbsDER}, Algorithm: alg, Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL of %s: %w", ca.Cert.Subject.CommonName, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("baltest: parsing the CRL issued for %s: %w", ca.Cert.Subject.CommonName, err)
	}
	return crl, nil
}
