// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

var (
	oidUnknown           = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidCertificateIssuer = asn1.ObjectIdentifier{2, 5, 29, 29}
	asn1Null             = []byte{5, 0}
)

// rawIDP is an issuingDistributionPoint extension with a value built by
// hand.
func rawIDP(value ...byte) pkix.Extension {
	return pkix.Extension{Id: baltest.OIDIssuingDistributionPoint, Critical: true, Value: value}
}

// Each rule of RFC 5280 §5 and §6.3.3 on a CRL, on the CRL of the
// operator's authority (TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS, for
// the server's certificate) or of its root (for the authority's own
// certificate). The server's certificate is in none of these CRLs: a CRL
// that breaks a rule and were used anyway would let the connection
// through, so every refusal below is the rule's doing; each refusal has a
// control that differs from it by the rule only and is accepted. Every
// case is run with the CRL handed over offline (Trust.OfflineCRLs, no
// distribution point reachable) and with it fetched from the distribution
// point.
func TestCRLRulesRFC5280(t *testing.T) {
	pub, pki := newCRLPublisher(t)
	ca, root := pki.ElementaireOrganisations, pki.RootElementaire
	leafDP := pki.Server.Cert.CRLDistributionPoints[0]
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	otherSerial := []x509.RevocationListEntry{{SerialNumber: big.NewInt(4242)}}
	withEntryExt := func(ext pkix.Extension) []x509.RevocationListEntry {
		return []x509.RevocationListEntry{{SerialNumber: big.NewInt(4242), ExtraExtensions: []pkix.Extension{ext}}}
	}
	idp := func(p baltest.IssuingDistributionPoint) *baltest.IssuingDistributionPoint { return &p }
	allReasons := []int{1, 2, 3, 4, 5, 6, 7, 8}

	for _, tc := range []struct {
		name string
		of   *baltest.CA // whose CRL is replaced
		opts baltest.CRLOptions
		want error // nil: accepted; else wrapped in ErrRevocationUnknown
		says string
		// offline CRLs are picked by issuer name (CRLList): one issued
		// under another name is never a candidate there
		offlineNotCandidate bool
	}{
		{name: "conforming CRL (control)", of: ca},
		{name: "conforming root CRL (control)", of: root},

		{name: "thisUpdate in the future", of: ca, opts: baltest.CRLOptions{ThisUpdate: time.Now().Add(time.Hour)},
			want: bal.ErrCRLRefused, says: "in the future"},
		{name: "thisUpdate just past (control)", of: ca, opts: baltest.CRLOptions{ThisUpdate: time.Now().Add(-time.Minute)}},
		{name: "no nextUpdate", of: ca, opts: baltest.CRLOptions{NoNextUpdate: true},
			want: bal.ErrCRLRefused, says: "no nextUpdate"},
		{name: "issuer name of another authority, signed by the right key", of: ca, opts: baltest.CRLOptions{IssuerName: pki.FortPersonnes.Cert.RawSubject},
			want: bal.ErrCRLRefused, says: "not by the certificate's issuer", offlineNotCandidate: true},
		{name: "signed by another key", of: ca, opts: baltest.CRLOptions{Signer: other},
			want: bal.ErrCRLRefused, says: "signature does not verify"},

		{name: "unknown critical CRL extension", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{{Id: oidUnknown, Critical: true, Value: asn1Null}}},
			want: bal.ErrCRLRefused, says: "unknown critical extension 1.3.6.1.4.1.99999.7"},
		{name: "unknown non-critical CRL extension (control)", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{{Id: oidUnknown, Value: asn1Null}}}},
		{name: "extension twice", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{{Id: oidUnknown, Value: asn1Null}, {Id: oidUnknown, Value: asn1Null}}},
			want: bal.ErrCRLRefused, says: "appears twice"},
		{name: "delta CRL", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{{Id: oidDeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}}},
			want: bal.ErrCRLRefused, says: "delta CRL"},
		{name: "unknown critical entry extension", of: ca, opts: baltest.CRLOptions{Revoked: withEntryExt(pkix.Extension{Id: oidUnknown, Critical: true, Value: asn1Null})},
			want: bal.ErrCRLRefused, says: "unknown critical entry extension"},
		{name: "unknown non-critical entry extension (control)", of: ca, opts: baltest.CRLOptions{Revoked: withEntryExt(pkix.Extension{Id: oidUnknown, Value: asn1Null})}},
		{name: "certificateIssuer entry extension (indirect CRL)", of: ca,
			opts: baltest.CRLOptions{Revoked: withEntryExt(pkix.Extension{Id: oidCertificateIssuer, Critical: true, Value: []byte{0x30, 0}})},
			want: bal.ErrCRLRefused, says: "certificateIssuer"},
		{name: "entry with a reason code (control)", of: ca, opts: baltest.CRLOptions{Revoked: []x509.RevocationListEntry{{SerialNumber: big.NewInt(4242), ReasonCode: 1}}}},

		{name: "no CRLNumber", of: ca, opts: baltest.CRLOptions{NoNumber: true, Revoked: otherSerial},
			want: bal.ErrCRLRefused, says: "no CRLNumber"},
		{name: "critical CRLNumber", of: ca, opts: baltest.CRLOptions{CriticalNumber: true},
			want: bal.ErrCRLRefused, says: "CRLNumber marked critical"},

		{name: "IDP onlyContainsCACerts, for the server's certificate", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsCACerts: true})},
			want: bal.ErrCRLNotInScope, says: "onlyContainsCACerts"},
		{name: "IDP onlyContainsCACerts, non-critical", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsCACerts: true, NonCritical: true})},
			want: bal.ErrCRLNotInScope, says: "onlyContainsCACerts"},
		{name: "IDP onlyContainsUserCerts, for the server's certificate (control)", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsUserCerts: true})}},
		{name: "IDP onlyContainsUserCerts, for the authority's certificate", of: root, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsUserCerts: true})},
			want: bal.ErrCRLNotInScope, says: "onlyContainsUserCerts"},
		{name: "IDP onlyContainsCACerts, for the authority's certificate (control)", of: root, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsCACerts: true})}},
		{name: "IDP onlyContainsAttributeCerts", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlyContainsAttributeCerts: true})},
			want: bal.ErrCRLRefused, says: "onlyContainsAttributeCerts"},
		{name: "IDP onlySomeReasons keyCompromise", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlySomeReasons: []int{1}})},
			want: bal.ErrCRLRefused, says: "onlySomeReasons (keyCompromise)"},
		{name: "IDP onlySomeReasons, every reason (control)", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{OnlySomeReasons: allReasons})}},
		{name: "IDP indirectCRL", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{IndirectCRL: true})},
			want: bal.ErrCRLRefused, says: "indirectCRL"},
		{name: "IDP for another distribution point", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{URIs: []string{leafDP + ".part2"}})},
			want: bal.ErrCRLNotInScope, says: "none of the certificate's distribution points"},
		{name: "IDP for the certificate's distribution point (control)", of: ca,
			opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{URIs: []string{"http://elsewhere.test/x.crl", leafDP}})}},
		{name: "IDP named relative to the issuer", of: ca, opts: baltest.CRLOptions{IssuingDistributionPoint: idp(baltest.IssuingDistributionPoint{RelativeName: []byte{0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05, 'p', 'a', 'r', 't', '7'}})},
			want: bal.ErrCRLNotInScope, says: "relative to the CRL issuer"},
		{name: "IDP malformed", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{rawIDP(0x30, 0x03, 0x81, 0x01)}},
			want: bal.ErrMalformedIDP},
		// [3] onlySomeReasons keyCompromise, then [2] onlyContainsCACerts:
		// a parser that skips what it does not expect would read neither
		// restriction.
		{name: "IDP fields out of order", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{rawIDP(0x30, 0x07, 0x83, 0x02, 0x06, 0x40, 0x82, 0x01, 0xff)}},
			want: bal.ErrMalformedIDP, says: "out of order"},
		{name: "IDP with an explicit FALSE (control)", of: ca, opts: baltest.CRLOptions{Extensions: []pkix.Extension{rawIDP(0x30, 0x03, 0x82, 0x01, 0x00)}}},
	} {
		crl, err := tc.of.IssueCRL(tc.opts)
		require.NoError(t, err, tc.name)
		check := func(t *testing.T, err error, notCandidate bool) {
			t.Helper()
			t.Logf("handshake: %v", err)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, bal.ErrRevocationUnknown)
			assert.NotErrorIs(t, err, bal.ErrRevoked)
			if notCandidate {
				return
			}
			assert.ErrorIs(t, err, tc.want)
			if tc.want == bal.ErrMalformedIDP {
				assert.ErrorIs(t, err, bal.ErrCRLRefused)
			}
			assert.ErrorContains(t, err, tc.says)
		}
		t.Run(tc.name+"/offline", func(t *testing.T) {
			offline := bal.CRLList{crl}
			for _, c := range pki.CAs() {
				if c != tc.of {
					offline = append(offline, c.CRL)
				}
			}
			tr := &countingTransport{fail: true}
			trust := &bal.Trust{Roots: roots(pki), OfflineCRLs: offline, CRLs: &bal.CRLCache{Client: &http.Client{Transport: tr}}}
			check(t, handshake(t, trust, handshakeServer(t, pki.ServerTLSConfig())), tc.offlineNotCandidate)
			if tc.want == nil {
				assert.Zero(t, tr.n.Load(), "a distribution point was asked although the offline CRLs were valid")
			}
		})
		t.Run(tc.name+"/fetched", func(t *testing.T) {
			pub.publish(tc.of, crl)
			t.Cleanup(func() { pub.publish(tc.of, tc.of.CRL) })
			trust := &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{}}
			check(t, handshake(t, trust, handshakeServer(t, pki.ServerTLSConfig())), false)
		})
	}
}

// A certificate without distribution point is covered by an offline CRL
// whose issuingDistributionPoint names its issuer (RFC 5280 §6.3.3
// (b)(2)(i), the issuer standing for the absent distribution point), not
// by one that names only a URI.
func TestCRLScopeWithoutDistributionPoint(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	ca := pki.ElementaireOrganisations
	addr := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{issueServer(t, ca, big.NewInt(660001), nil)}})
	for _, tc := range []struct {
		name string
		idp  baltest.IssuingDistributionPoint
		want error
	}{
		{"IDP naming the issuer", baltest.IssuingDistributionPoint{DirectoryNames: [][]byte{ca.Cert.RawSubject}}, nil},
		{"IDP naming another authority", baltest.IssuingDistributionPoint{DirectoryNames: [][]byte{pki.FortPersonnes.Cert.RawSubject}}, bal.ErrCRLNotInScope},
		{"IDP naming a URI only", baltest.IssuingDistributionPoint{URIs: []string{ca.CRLURL}}, bal.ErrCRLNotInScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crl, err := ca.IssueCRL(baltest.CRLOptions{IssuingDistributionPoint: &tc.idp})
			require.NoError(t, err)
			trust := &bal.Trust{Roots: roots(pki), OfflineCRLs: bal.CRLList{crl, pki.RootElementaire.CRL},
				CRLs: &bal.CRLCache{Client: &http.Client{Transport: &countingTransport{fail: true}}}}
			err = handshake(t, trust, addr)
			t.Logf("handshake: %v", err)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, bal.ErrRevocationUnknown)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// crossCertify issues a certificate for ca's name and key signed by
// issuer, whose CRL is at issuer's distribution point: the same authority
// reached through another root.
func crossCertify(t *testing.T, ca, issuer *baltest.CA) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), RawSubject: ca.Cert.RawSubject, SubjectKeyId: ca.Cert.SubjectKeyId,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
		CRLDistributionPoints: []string{issuer.CRLURL},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.Cert, ca.Cert.PublicKey, issuer.Key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

// The operator's authority is cross-certified by the second root, and the
// server sends both of its certificates: crypto/x509 verifies two chains.
// Every verified chain is checked, not only the first: when one runs
// through a revoked certificate of the authority and the other is good,
// the connection is accepted through the good one, whichever of the two
// crypto/x509 lists first; when both are revoked it is refused
// (ErrRevoked); when one is revoked and the other's status is unknown, the
// error is ErrRevocationUnknown (a later attempt may succeed through the
// second chain), not ErrRevoked, and names both.
func TestCRLEveryVerifiedChain(t *testing.T) {
	pub, pki := newCRLPublisher(t)
	ca := pki.ElementaireOrganisations
	cross := crossCertify(t, ca, pki.RootFort)
	revokeCA := func(root *baltest.CA, serial *big.Int) *x509.RevocationList {
		crl, err := root.IssueCRL(baltest.CRLOptions{Number: big.NewInt(2), Revoked: []x509.RevocationListEntry{{SerialNumber: serial, ReasonCode: 2}}})
		require.NoError(t, err)
		return crl
	}
	revokedOriginal := revokeCA(pki.RootElementaire, ca.Cert.SerialNumber)
	revokedCross := revokeCA(pki.RootFort, cross.SerialNumber)
	leaf := pki.Server.TLSCertificate()
	orders := map[string][][]byte{
		"original first": {leaf.Certificate[0], ca.Cert.Raw, cross.Raw},
		"cross first":    {leaf.Certificate[0], cross.Raw, ca.Cert.Raw},
	}
	for _, tc := range []struct {
		name           string
		fortCRL, elCRL *x509.RevocationList // nil: the PKI's own; unpublished: see gone
		fortGone       bool                 // RootFort's distribution point answers 404
		want, wantNot  error
	}{
		{name: "both good"},
		{name: "cross-certificate revoked", fortCRL: revokedCross},
		{name: "original certificate revoked", elCRL: revokedOriginal},
		{name: "both revoked", fortCRL: revokedCross, elCRL: revokedOriginal, want: bal.ErrRevoked},
		{name: "one revoked, the other unknown", elCRL: revokedOriginal, fortGone: true, want: bal.ErrRevocationUnknown, wantNot: bal.ErrRevoked},
	} {
		firstRoots := map[string]bool{} // the root of the first verified chain, over both orders
		for order, chain := range orders {
			t.Run(tc.name+"/"+order, func(t *testing.T) {
				pub.publish(pki.RootFort, pki.RootFort.CRL)
				pub.publish(pki.RootElementaire, pki.RootElementaire.CRL)
				if tc.fortCRL != nil {
					pub.publish(pki.RootFort, tc.fortCRL)
				}
				if tc.elCRL != nil {
					pub.publish(pki.RootElementaire, tc.elCRL)
				}
				if tc.fortGone {
					pub.unpublish(pki.RootFort)
				}
				t.Cleanup(func() {
					pub.publish(pki.RootFort, pki.RootFort.CRL)
					pub.publish(pki.RootElementaire, pki.RootElementaire.CRL)
				})
				addr := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: leaf.PrivateKey}}})
				var chains int
				trust := &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{}}
				cfg, err := trust.TLSConfig("localhost")
				require.NoError(t, err)
				verify := cfg.VerifyConnection
				cfg.VerifyConnection = func(cs tls.ConnectionState) error {
					chains = len(cs.VerifiedChains)
					if len(cs.VerifiedChains) > 0 {
						first := cs.VerifiedChains[0][len(cs.VerifiedChains[0])-1].Subject.CommonName
						firstRoots[first] = true
						t.Logf("first verified chain through %s", first)
					}
					return verify(cs)
				}
				c, err := tls.Dial("tcp", addr, cfg)
				if err == nil {
					c.Close()
				}
				t.Logf("handshake: %v", err)
				require.Equal(t, 2, chains, "verified chains")
				if tc.want == nil {
					assert.NoError(t, err)
					return
				}
				assert.ErrorIs(t, err, tc.want)
				if tc.wantNot != nil {
					assert.NotErrorIs(t, err, tc.wantNot)
					assert.ErrorContains(t, err, "revoked", "the revoked chain is named")
					assert.ErrorContains(t, err, "none of the 2 verified chains")
				}
			})
		}
		// Each path came first once: the revoked one was, in one order,
		// the chain a check of the first chain alone would have judged.
		assert.Len(t, firstRoots, 2, "%s: the first verified chain was always through the same root: %v", tc.name, firstRoots)
	}
}

// The certificates two chains share are checked once per connection: when
// the leaf's distribution point fails, it is asked once, not once per
// chain (with a stalled distribution point and no deadline, each ask
// would cost the CRL client's whole timeout).
func TestCRLSharedCertificateCheckedOnce(t *testing.T) {
	pub, pki := newCRLPublisher(t)
	ca := pki.ElementaireOrganisations
	cross := crossCertify(t, ca, pki.RootFort)
	pub.unpublish(ca) // the leaf's distribution point: 404
	leaf := pki.Server.TLSCertificate()
	addr := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Certificate[0], ca.Cert.Raw, cross.Raw}, PrivateKey: leaf.PrivateKey}}})
	tr := &countingTransport{}
	trust := &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{Client: &http.Client{Transport: tr}}}
	err := handshake(t, trust, addr)
	t.Logf("handshake: %v", err)
	require.ErrorIs(t, err, bal.ErrRevocationUnknown)
	assert.ErrorContains(t, err, "none of the 2 verified chains")
	assert.EqualValues(t, 1, tr.n.Load(), "requests to the distribution points")
}

// A stalled distribution point and a Send whose context has a 2 s
// deadline: the Send ends with the context (DeadlineExceeded, the status
// unknown), not after the CRL client's own timeout, and the CRL request is
// abandoned. The bound asserted is a hang guard (a minute), not a speed:
// the issue this answers saw 10 to 30 s.
func TestCRLStalledWithTwoSecondContext(t *testing.T) {
	reached := make(chan struct{}, 8)
	abandoned := make(chan struct{}, 8)
	release := make(chan struct{})
	stall := newStallServer(t, reached, abandoned, release)
	pki, err := baltest.NewPKI(&baltest.PKIOptions{CRLURL: stall + "/crl"})
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	s := &bal.Sender{Server: endpoint(t, op.SMTPAddr, false), ServerName: "localhost", Auth: auth,
		Trust:   &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{}}, // the default client: a 10 s timeout
		Mailbox: traceBox(), Trace: nopRecorder()}
	msg := report(baltest.CPSUser)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := s.Send(ctx, msg); done <- err }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Send still held by the stalled distribution point a minute after its 2 s context began")
	}
	t.Logf("Send: %v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// Send reports the interruption (ErrInterrupted, the context's error)
	// and says in words what it was waiting for.
	require.ErrorContains(t, err, "revocation status unknown", "the deadline struck before the revocation check")
	select {
	case <-reached:
	default:
		t.Fatal("the CRL request never reached the distribution point")
	}
	select {
	case <-abandoned:
	case <-time.After(time.Minute):
		t.Error("the CRL request was not abandoned when the context ended")
	}
}

// newStallServer starts a distribution point that accepts requests and
// never answers them: each request is signalled on reached, and on
// abandoned when the client gives it up; closing release lets them go.
func newStallServer(t *testing.T, reached, abandoned chan<- struct{}, release chan struct{}) string {
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
		select {
		case <-r.Context().Done():
			abandoned <- struct{}{}
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); stall.Close() })
	return stall.URL
}

func traceBox() trace.Mailbox { return trace.Mailbox{Address: baltest.ORGUser} }

func nopRecorder() trace.Recorder {
	return trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
}
