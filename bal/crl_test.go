// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// countingTransport counts the CRL requests a client makes, whether or not
// a server answers them; with fail set it answers none.
type countingTransport struct {
	n    atomic.Int64
	fail bool
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if c.fail {
		return nil, errors.New("test: no CRL may be fetched here")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// clock is a settable Trust.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// handshake runs a TLS handshake with trust's configuration against addr
// (a handshakeServer) and returns its error.
func handshake(t *testing.T, trust *bal.Trust, addr string) error {
	t.Helper()
	cfg, err := trust.TLSConfigContext(context.Background(), "localhost")
	require.NoError(t, err)
	c, err := (&tls.Dialer{Config: cfg}).DialContext(context.Background(), "tcp", addr)
	if err == nil {
		c.Close()
	}
	return err
}

// issueServer issues a server certificate for localhost by ca, with the
// given serial number and CRL distribution points (none when nil).
func issueServer(t *testing.T, ca *baltest.CA, serial *big.Int, dps []string) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "mss.test.mssante.fr"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		CRLDistributionPoints: dps,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}
}

// issueCRL issues a CRL of ca (signed by signer when not nil: a forgery)
// listing the revoked serial numbers, issued at thisUpdate, valid a week.
func issueCRL(t *testing.T, ca *baltest.CA, signer *ecdsa.PrivateKey, thisUpdate time.Time, number int64, revoked ...*big.Int) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: thisUpdate, NextUpdate: thisUpdate.AddDate(0, 0, 7)}
	for _, s := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: thisUpdate.Add(-time.Minute), ReasonCode: 1})
	}
	issuer, key := ca.Cert, ca.Key
	if signer != nil {
		key = signer // same issuer name, another key
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	require.NoError(t, err)
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	return crl
}

func roots(p *baltest.PKI) []*x509.Certificate {
	return []*x509.Certificate{p.RootFort.Cert, p.RootElementaire.Cert}
}

// SC.MSS/CONF.22 with a distribution point that goes away: a CRL is
// fetched again once Refresh has passed; when the (real, stopped) HTTP
// server no longer answers, the last CRL kept is used while it has not
// expired, without a new attempt at each connection; once its nextUpdate
// has passed, the revocation status is unknown and the connection is
// refused.
func TestCRLKeptUntilExpiry(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	srv, err := pki.ServeCRL()
	require.NoError(t, err)
	defer srv.Close()
	addr := handshakeServer(t, pki.ServerTLSConfig())
	tr := &countingTransport{}
	clk := &clock{t: time.Now()}
	trust := &bal.Trust{Roots: roots(pki), Now: clk.now,
		CRLs: &bal.CRLCache{Client: &http.Client{Transport: tr}, Refresh: time.Hour}}

	// The server's certificate and its authority: two distribution points.
	require.NoError(t, handshake(t, trust, addr), "first connection")
	require.EqualValues(t, 2, tr.n.Load(), "CRLs fetched by the first connection")
	require.EqualValues(t, 2, srv.Requests())

	clk.advance(30 * time.Minute)
	require.NoError(t, handshake(t, trust, addr), "within Refresh")
	assert.EqualValues(t, 2, tr.n.Load(), "a CRL fetched 30 min ago was fetched again")

	clk.advance(time.Hour)
	require.NoError(t, handshake(t, trust, addr), "after Refresh")
	assert.EqualValues(t, 4, tr.n.Load(), "the CRLs were not fetched again once Refresh had passed")
	assert.EqualValues(t, 4, srv.Requests())

	srv.Close() // the distribution points go away
	clk.advance(2 * time.Hour)
	assert.NoError(t, handshake(t, trust, addr), "distribution point down, the kept CRLs still valid (SC.MSS/CONF.22)")
	assert.EqualValues(t, 6, tr.n.Load(), "no new attempt was made once Refresh had passed")

	clk.advance(10 * time.Minute)
	assert.NoError(t, handshake(t, trust, addr), "just after a failed attempt")
	assert.EqualValues(t, 6, tr.n.Load(), "a failed distribution point was asked again before Refresh had passed")

	// At the kept CRL's nextUpdate it has expired: never used again.
	clk.set(pki.ElementaireOrganisations.CRL.NextUpdate)
	err = handshake(t, trust, addr)
	t.Logf("expired kept CRL: %v", err)
	require.ErrorIs(t, err, bal.ErrRevocationUnknown, "the kept CRL has expired")
	assert.Contains(t, err.Error(), "expired at its nextUpdate")
	assert.Contains(t, err.Error(), pki.ElementaireOrganisations.CRLURL)
	assert.EqualValues(t, 7, tr.n.Load(), "the distribution point was not asked once the kept CRL had expired")
}

// crlPublisher is a real HTTP server publishing a PKI's CRLs, some of
// which a test replaces.
type crlPublisher struct {
	srv  *httptest.Server
	mu   sync.Mutex
	pki  *baltest.PKI
	repl map[string][]byte // last path element → DER
}

func newCRLPublisher(t *testing.T) (*crlPublisher, *baltest.PKI) {
	p := &crlPublisher{repl: map[string][]byte{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		der, ok := p.repl[r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]]
		pki := p.pki
		p.mu.Unlock()
		if ok && der == nil {
			http.NotFound(w, r) // unpublished
			return
		}
		if ok {
			w.Write(der)
			return
		}
		pki.CRLHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	pki, err := baltest.NewPKI(&baltest.PKIOptions{CRLURL: p.srv.URL + "/crl"})
	require.NoError(t, err)
	p.mu.Lock()
	p.pki = pki
	p.mu.Unlock()
	return p, pki
}

// unpublish makes ca's distribution point answer 404.
func (p *crlPublisher) unpublish(ca *baltest.CA) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.repl[ca.CRLURL[strings.LastIndexByte(ca.CRLURL, '/')+1:]] = nil
}

// publish replaces the CRL published at ca's distribution point.
func (p *crlPublisher) publish(ca *baltest.CA, crl *x509.RevocationList) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.repl[ca.CRLURL[strings.LastIndexByte(ca.CRLURL, '/')+1:]] = crl.Raw
}

// A revocation published after a CRL was kept is seen once Refresh has
// passed; an older CRL served afterwards (a stale mirror, a replay) does
// not replace the newer one; a CRL that does not verify for the issuer
// (another key, or the issuer's key under another name) is not used.
func TestCRLRefreshAndForgeries(t *testing.T) {
	pub, pki := newCRLPublisher(t)
	ca := pki.ElementaireOrganisations
	addr := handshakeServer(t, pki.ServerTLSConfig())
	clk := &clock{t: time.Now()}
	trust := &bal.Trust{Roots: roots(pki), Now: clk.now, CRLs: &bal.CRLCache{Refresh: time.Hour}}
	require.NoError(t, handshake(t, trust, addr))

	revoking := issueCRL(t, ca, nil, time.Now(), 2, pki.Server.Cert.SerialNumber)
	pub.publish(ca, revoking)
	clk.advance(30 * time.Minute)
	require.NoError(t, handshake(t, trust, addr), "the kept CRL is used within Refresh")
	clk.advance(time.Hour)
	err := handshake(t, trust, addr)
	require.ErrorIs(t, err, bal.ErrRevoked, "the new CRL was not fetched after Refresh")

	pub.publish(ca, ca.CRL) // the first CRL, issued before the revoking one
	clk.advance(2 * time.Hour)
	require.ErrorIs(t, handshake(t, trust, addr), bal.ErrRevoked, "an older CRL replaced the newer one")

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	renamed := *ca // the issuer's key under another authority's name
	renamed.Cert = pki.FortPersonnes.Cert
	renamed.Key = ca.Key
	for name, forged := range map[string]*x509.RevocationList{
		"another key":  issueCRL(t, ca, other, time.Now(), 3),
		"another name": issueCRL(t, &renamed, nil, time.Now(), 3),
	} {
		pub.publish(ca, forged)
		fresh := &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{}}
		err := handshake(t, fresh, addr)
		assert.ErrorIs(t, err, bal.ErrRevocationUnknown, "forged CRL (%s)", name)
	}
}

// The CRL fetch of a handshake ends with the caller's context: against a
// distribution point that accepts the request and never answers, a Send
// (STARTTLS through go-smtp) and an Open (STARTTLS through go-imap) end at
// their context's deadline, which is set only once the stalled request
// has reached the server, and the CRL request itself is abandoned. The
// CRL client has no timeout of its own: without the context nothing would
// end the wait.
func TestCRLFetchEndsWithContext(t *testing.T) {
	reached := make(chan struct{}, 4)
	abandoned := make(chan struct{}, 4)
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
		select {
		case <-r.Context().Done(): // the client gave the request up
			abandoned <- struct{}{}
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); stall.Close() })
	pki, err := baltest.NewPKI(&baltest.PKIOptions{CRLURL: stall.URL + "/crl"})
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	trust := func() *bal.Trust {
		return &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{Client: &http.Client{}}}
	}
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	box := trace.Mailbox{Address: baltest.ORGUser}

	for name, connect := range map[string]func(ctx context.Context) error{
		"SMTP Send": func(ctx context.Context) error {
			s := &bal.Sender{Server: endpoint(t, op.SMTPAddr, false), ServerName: "localhost", Trust: trust(), Auth: auth, Mailbox: box, Trace: rec}
			_, err := s.Send(ctx, report(baltest.CPSUser))
			return err
		},
		"IMAP Open": func(ctx context.Context) error {
			r := &bal.Receiver{Server: endpoint(t, op.IMAPAddr, false), ServerName: "localhost", Trust: trust(), Auth: auth, Mailbox: box, Trace: rec}
			s, err := r.Open(ctx)
			if err == nil {
				s.Close()
			}
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := newLateDeadline()
			done := make(chan error, 1)
			go func() { done <- connect(ctx) }()
			select {
			case <-reached:
			case err := <-done:
				t.Fatalf("ended before the CRL request reached the distribution point: %v", err)
			case <-time.After(2 * time.Minute):
				t.Fatal("the CRL request never reached the distribution point")
			}
			ctx.arm(300 * time.Millisecond)
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("still held by the stalled CRL server 30 s after the context's deadline")
			}
			t.Logf("error: %v", err)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			select {
			case <-abandoned:
			case <-time.After(30 * time.Second):
				t.Error("the CRL request was not abandoned when the context ended")
			}
		})
	}
}

// lateDeadline is a context whose deadline is set by arm, once the test
// has reached the condition it waits for: the time before (building the
// message, the TLS handshake on a busy machine) is not in the budget.
type lateDeadline struct {
	context.Context // values: none
	done            chan struct{}
	once            sync.Once
	mu              sync.Mutex
	deadline        time.Time
	err             error
}

func newLateDeadline() *lateDeadline {
	return &lateDeadline{Context: context.Background(), done: make(chan struct{})}
}

func (c *lateDeadline) arm(d time.Duration) {
	c.once.Do(func() {
		c.mu.Lock()
		c.deadline = time.Now().Add(d)
		c.mu.Unlock()
		time.AfterFunc(d, func() {
			c.mu.Lock()
			c.err = context.DeadlineExceeded
			c.mu.Unlock()
			close(c.done)
		})
	})
}

func (c *lateDeadline) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, !c.deadline.IsZero()
}
func (c *lateDeadline) Done() <-chan struct{} { return c.done }
func (c *lateDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// CRLs handed over offline are used before, and instead of, the
// distribution points: the revoked certificate is refused and a good one
// accepted without any fetch; a certificate without distribution point is
// accepted only with a valid offline CRL of its issuer; an offline CRL that
// does not verify with the issuer's key is ignored; an expired one sends
// the check back to the distribution point.
func TestOfflineCRLs(t *testing.T) {
	pki, err := baltest.NewPKI(nil) // its CRL server is never started
	require.NoError(t, err)
	ca := pki.ElementaireOrganisations
	var bundle []byte
	for _, c := range pki.CAs() {
		bundle = append(bundle, c.CRLPEM()...)
	}
	all, err := bal.ParseCRLs(bundle)
	require.NoError(t, err)
	require.Len(t, all, 4)
	rootsOnly := bal.CRLList{pki.RootFort.CRL, pki.RootElementaire.CRL}

	withDP := []string{ca.CRLURL}
	good := handshakeServer(t, pki.ServerTLSConfig())
	revoked := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{issueServer(t, ca, pki.Revoked.Cert.SerialNumber, withDP)}})
	noDP := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{issueServer(t, ca, big.NewInt(880001), nil)}})
	noDPRevokedSerial := big.NewInt(880002)
	noDPRevoked := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{issueServer(t, ca, noDPRevokedSerial, nil)}})
	newer := issueCRL(t, ca, nil, time.Now(), 2, pki.Revoked.Cert.SerialNumber, noDPRevokedSerial)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	forged := issueCRL(t, ca, other, time.Now().Add(time.Minute), 3) // newest, revokes nothing

	for _, tc := range []struct {
		name    string
		addr    string
		offline bal.CRLSource
		now     time.Time
		want    error // nil: accepted
		fetched bool  // a distribution point was asked
	}{
		{"good certificate", good, bal.CRLList(all), time.Time{}, nil, false},
		{"revoked certificate", revoked, bal.CRLList(all), time.Time{}, bal.ErrRevoked, false},
		{"no distribution point, offline CRL of its issuer", noDP, bal.CRLList(all), time.Time{}, nil, false},
		{"no distribution point, no offline CRL of its issuer", noDP, rootsOnly, time.Time{}, bal.ErrRevocationUnknown, false},
		{"no distribution point, no offline CRL", noDP, nil, time.Time{}, bal.ErrRevocationUnknown, false},
		{"no distribution point, revoked in the newest offline CRL", noDPRevoked, append(bal.CRLList{newer}, all...), time.Time{}, bal.ErrRevoked, false},
		{"forged offline CRL ignored, the real one used", revoked, append(bal.CRLList{forged}, all...), time.Time{}, bal.ErrRevoked, false},
		{"only a forged offline CRL", noDP, append(bal.CRLList{forged}, rootsOnly...), time.Time{}, bal.ErrRevocationUnknown, false},
		{"offline CRLs expired", good, bal.CRLList(all), ca.CRL.NextUpdate.Add(time.Second), bal.ErrRevocationUnknown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &countingTransport{fail: true}
			trust := &bal.Trust{Roots: roots(pki), OfflineCRLs: tc.offline, CRLs: &bal.CRLCache{Client: &http.Client{Transport: tr}}}
			if !tc.now.IsZero() {
				trust.Now = func() time.Time { return tc.now }
			}
			err := handshake(t, trust, tc.addr)
			t.Logf("handshake: %v", err)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, tc.fetched, tr.n.Load() > 0, "distribution point asked (%d requests)", tr.n.Load())
			if errors.Is(err, bal.ErrRevocationUnknown) && tc.addr == noDP {
				assert.Contains(t, err.Error(), "no CRL distribution point and no valid offline CRL of its issuer")
			}
			if tc.name == "only a forged offline CRL" {
				assert.Contains(t, err.Error(), "signature does not verify")
			}
		})
	}
}

// CRLDir reads the CRL files of a directory as operators publish them (DER
// .crl, PEM bundles with certificates mixed in), skips and names a file
// it cannot parse, and sees a file replaced or removed without a restart.
func TestCRLDir(t *testing.T) {
	pki, err := baltest.NewPKI(nil) // its CRL server is never started
	require.NoError(t, err)
	ca := pki.ElementaireOrganisations
	dir := t.TempDir()
	write := func(name string, data []byte, mod time.Time) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		require.NoError(t, os.Chtimes(path, mod, mod))
	}
	day := time.Now().Add(-24 * time.Hour)
	write("ACI-EL-ORG.crl", ca.CRLDER, day)
	rootsPEM := append(append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.RootFort.Cert.Raw}),
		pki.RootFort.CRLPEM()...), pki.RootElementaire.CRLPEM()...)
	write("racines.pem", rootsPEM, day)
	write("abime.crl", []byte("not a CRL"), day)
	write("LISEZMOI.txt", []byte("ignored"), day)

	addr := handshakeServer(t, pki.ServerTLSConfig())
	tr := &countingTransport{fail: true}
	trust := &bal.Trust{Roots: roots(pki), OfflineCRLs: &bal.CRLDir{Path: dir}, CRLs: &bal.CRLCache{Client: &http.Client{Transport: tr}}}
	require.NoError(t, handshake(t, trust, addr), "CRLs from the directory")
	assert.Zero(t, tr.n.Load(), "a distribution point was asked")

	write("ACI-EL-ORG.crl", issueCRL(t, ca, nil, time.Now(), 2, pki.Server.Cert.SerialNumber).Raw, time.Now())
	require.ErrorIs(t, handshake(t, trust, addr), bal.ErrRevoked, "the replaced file was not read again")

	require.NoError(t, os.Remove(filepath.Join(dir, "ACI-EL-ORG.crl")))
	err = handshake(t, trust, addr)
	require.ErrorIs(t, err, bal.ErrRevocationUnknown, "the removed file is still used")
	assert.Contains(t, err.Error(), "abime.crl", "the unreadable file is not named")
	assert.Positive(t, tr.n.Load(), "without an offline CRL the distribution point was not asked")

	_, err = (&bal.CRLDir{Path: filepath.Join(dir, "absent")}).CRLs(context.Background(), ca.Cert)
	assert.Error(t, err)
}

// ParseCRLs reads DER and PEM (several blocks, other blocks skipped) and
// says what it cannot read.
func TestParseCRLs(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	der, err := bal.ParseCRLs(pki.RootFort.CRLDER)
	require.NoError(t, err)
	require.Len(t, der, 1)
	assert.Equal(t, pki.RootFort.CRL.Raw, der[0].Raw)
	bundle := append(append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.RootFort.Cert.Raw}),
		pki.RootFort.CRLPEM()...), pki.ElementaireOrganisations.CRLPEM()...)
	got, err := bal.ParseCRLs(append([]byte("\n"), bundle...))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, pki.ElementaireOrganisations.CRL.Raw, got[1].Raw)
	for name, bad := range map[string][]byte{
		"garbage":         []byte("not a CRL"),
		"PEM without CRL": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.RootFort.Cert.Raw}),
		"damaged PEM CRL": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x03, 1, 2, 3}}),
		"empty":           nil,
	} {
		_, err := bal.ParseCRLs(bad)
		assert.Error(t, err, name)
	}
}

// A kept CRL serves only the issuer it verified with: a certificate of
// another authority naming the same distribution point is not checked
// against it (on a cache hit by URL alone, that authority's revoked
// certificates would pass), and the CRL served there, another issuer's,
// does not verify for it: the status is unknown.
func TestCRLCacheKeyedByIssuer(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	srv, err := pki.ServeCRL()
	require.NoError(t, err)
	defer srv.Close()
	trust := &bal.Trust{Roots: roots(pki), CRLs: &bal.CRLCache{}}
	require.NoError(t, handshake(t, trust, handshakeServer(t, pki.ServerTLSConfig())), "caches the organisations' CRL")
	sameURL := issueServer(t, pki.FortPersonnes, big.NewInt(770001), []string{pki.ElementaireOrganisations.CRLURL})
	err = handshake(t, trust, handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{sameURL}}))
	t.Logf("handshake: %v", err)
	require.ErrorIs(t, err, bal.ErrRevocationUnknown, "checked against another authority's CRL")
	assert.Contains(t, err.Error(), "not by the certificate's issuer")
}

// The CRL cache keeps the last valid CRL when the distribution point is
// unreachable, and without a cached CRL the revocation status is unknown:
// refused.
func TestCRLCache(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
	addr := handshakeServer(t, pki.ServerTLSConfig())
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	open := func(cache *bal.CRLCache) error {
		r := &bal.Receiver{Server: endpoint(t, addr, true), ServerName: "localhost",
			Trust: &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, CRLs: cache},
			Auth:  auth, Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"},
			Trace: trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })}
		_, err := r.Open(context.Background())
		return err
	}
	cache := &bal.CRLCache{Client: &http.Client{Timeout: 2 * time.Second}}
	// The test server closes after the handshake: an error that is not
	// about revocation means the TLS stage passed.
	err = open(cache)
	require.NotErrorIs(t, err, bal.ErrRevocationUnknown, "first open")
	require.NotErrorIs(t, err, bal.ErrRevoked, "first open")
	require.NotZero(t, crl.Requests(), "no CRL was fetched")
	crl.Close() // distribution point now unreachable
	err = open(cache)
	assert.NotErrorIs(t, err, bal.ErrRevocationUnknown, "with the cached CRL")
	assert.NotErrorIs(t, err, bal.ErrRevoked, "with the cached CRL")
	err = open(&bal.CRLCache{Client: &http.Client{Timeout: 2 * time.Second}})
	assert.ErrorIs(t, err, bal.ErrRevocationUnknown, "no CRL at all")
}
