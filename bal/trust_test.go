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
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// A server that offers only TLS 1.1 is refused, by the receiver and the
// sender alike; TLS below 1.2 cannot be configured.
func TestTLS11ServerRefused(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	cfg := pki.ServerTLSConfig()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	addr := handshakeServer(t, cfg)
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	ep := endpoint(t, addr, true)
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	r := &bal.Receiver{Server: ep, ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"}, Trace: rec}
	// The Receiver has no sentinel for a failed negotiation: its error
	// says why in crypto/tls's words (an alert has no exported type).
	_, err = r.Open(context.Background())
	assert.ErrorContains(t, err, "version", "IMAP over TLS 1.1")
	s := &bal.Sender{Server: ep, ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"}, Trace: rec}
	_, err = s.Send(context.Background(), report(baltest.CPSUser))
	assert.ErrorIs(t, err, bal.ErrTLS, "SMTP over TLS 1.1")
	assert.ErrorContains(t, err, "version", "SMTP over TLS 1.1")
	_, err = (&bal.Trust{Roots: trust.Roots, MinVersion: tls.VersionTLS11}).TLSConfig("x")
	assert.Error(t, err, "a TLS 1.1 minimum was accepted")
	_, err = (&bal.Trust{}).TLSConfig("x")
	assert.ErrorIs(t, err, bal.ErrNoRoots, "no roots")
}

// The operator's own certificate revoked (listed in its authority's CRL)
// or expired: refused, the revocation with ErrRevoked.
func TestOperatorCertificateRevokedOrExpired(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
	defer crl.Close()
	ca := pki.ElementaireOrganisations
	serverCert := func(serial *big.Int, notAfter time.Time) tls.Certificate {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		tmpl := &x509.Certificate{
			SerialNumber: serial, Subject: pkix.Name{CommonName: "mss.test.mssante.fr"},
			DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			CRLDistributionPoints: pki.Server.Cert.CRLDistributionPoints,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
		require.NoError(t, err)
		return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}
	}
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}}
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	for name, c := range map[string]struct {
		cert  tls.Certificate
		check func(t *testing.T, err error)
	}{
		// the revoked ORG certificate's serial: the authority's CRL lists it
		"revoked": {serverCert(pki.Revoked.Cert.SerialNumber, time.Now().Add(24*time.Hour)), func(t *testing.T, err error) {
			assert.ErrorIs(t, err, bal.ErrRevoked)
		}},
		"expired": {serverCert(big.NewInt(777001), time.Now().Add(-time.Hour)), func(t *testing.T, err error) {
			var invalid x509.CertificateInvalidError
			if assert.ErrorAs(t, err, &invalid) {
				assert.Equal(t, x509.Expired, invalid.Reason, "%v", err)
			}
		}},
		// The server hangs up after the handshake: the Open fails, but not
		// because of the certificate (neither crypto/tls's verification
		// nor the revocation check refused it).
		"valid": {serverCert(big.NewInt(777002), time.Now().Add(24*time.Hour)), func(t *testing.T, err error) {
			require.Error(t, err)
			assert.NotErrorAs(t, err, new(*tls.CertificateVerificationError))
			assert.NotErrorIs(t, err, bal.ErrRevoked)
			assert.NotErrorIs(t, err, bal.ErrRevocationUnknown)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			addr := handshakeServer(t, &tls.Config{Certificates: []tls.Certificate{c.cert}})
			r := &bal.Receiver{Server: endpoint(t, addr, true), ServerName: "localhost", Trust: trust, Auth: auth,
				Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"}, Trace: rec}
			_, err := r.Open(context.Background())
			c.check(t, err)
		})
	}
}

// TLS 1.2 with a server that offers only CBC or RSA key exchange suites is
// refused (DefaultCipherSuites: the ECDHE-RSA AES-GCM suites of
// SC.MSS/CONF.03 only); a server that offers every suite negotiates one of
// the default list, and every default suite is in the list of
// SC.MSS/CONF.03; insecure, unknown or no suites cannot be configured.
func TestCipherSuites(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	dial := func(server []uint16) (tls.ConnectionState, error) {
		cfg := pki.ServerTLSConfig()
		cfg.MaxVersion = tls.VersionTLS12
		cfg.CipherSuites = server
		addr := handshakeServer(t, cfg)
		ccfg, err := trust.TLSConfig("localhost")
		require.NoError(t, err)
		c, err := tls.Dial("tcp", addr, ccfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	for _, weak := range [][]uint16{
		{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA},
		{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384},
		{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
	} {
		_, err := dial(weak)
		assert.Error(t, err, "server offering only %s: handshake succeeded", tls.CipherSuiteName(weak[0]))
	}
	var all []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		all = append(all, cs.ID)
	}
	st, err := dial(all)
	require.NoError(t, err)
	assert.Equal(t, tls.VersionName(tls.VersionTLS12), tls.VersionName(st.Version), "negotiated version")
	assert.Contains(t, bal.DefaultCipherSuites(), st.CipherSuite, "negotiated %s", tls.CipherSuiteName(st.CipherSuite))
	for _, id := range bal.DefaultCipherSuites() {
		assert.Contains(t, conf03Suites, id, "default suite %s is not in the list of SC.MSS/CONF.03", tls.CipherSuiteName(id))
	}
	for _, tc := range []struct {
		suites []uint16
		want   string
	}{
		{[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_RC4_128_SHA}, "insecure"},
		{[]uint16{0x1301 + 0x7000}, "unknown"},
		{[]uint16{}, "empty"},
	} {
		_, err := (&bal.Trust{Roots: trust.Roots, CipherSuites: tc.suites}).TLSConfig("x")
		assert.ErrorIs(t, err, bal.ErrCipherSuites, "CipherSuites %#04x", tc.suites)
		assert.ErrorContains(t, err, tc.want, "CipherSuites %#04x: the error says why", tc.suites)
	}
	// The returned list is a copy.
	d := bal.DefaultCipherSuites()
	d[0] = 0
	assert.NotZero(t, bal.DefaultCipherSuites()[0], "DefaultCipherSuites shares its array")
}

// conf03Suites is the list of SC.MSS/CONF.03 (REM Ségur vague 2; reference
// mssante-spec.md §1.4): with TLS 1.2 the client uses only these.
var conf03Suites = []uint16{
	0xC030, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	0xC028, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
	0xC027, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
	0x009F, // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
	0x009E, // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
}

// SC.MSS/CONF.03: a server whose only TLS 1.2 suite is outside the list
// (ECDHE-ECDSA with an ECDSA certificate, ECDHE-RSA with ChaCha20), or
// whose only key exchange is under 256 bits (X25519, and the X25519MLKEM768
// hybrid in TLS 1.3), is refused, while a default crypto/tls client
// connects to the same server (so the refusal is the Trust's); a server
// offering a listed suite with P-256 or P-384, or TLS 1.3 with P-256 or
// the P-256 hybrid, is accepted with what it offered.
func TestCipherSuitesOfCONF03(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := pki.ElementaireOrganisations
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(990001), Subject: pkix.Name{CommonName: "mss.test.mssante.fr"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.Cert, &ecKey.PublicKey, ca.Key)
	require.NoError(t, err)
	ecdsaCert := tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: ecKey}
	rsaCert := pki.Server.TLSCertificate()

	dial := func(t *testing.T, server *tls.Config, client *tls.Config) (tls.ConnectionState, error) {
		addr := handshakeServer(t, server)
		c, err := (&tls.Dialer{Config: client}).DialContext(context.Background(), "tcp", addr)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.(*tls.Conn).ConnectionState(), nil
	}
	for _, tc := range []struct {
		name    string
		cert    tls.Certificate
		version uint16
		suite   uint16 // TLS 1.2 only
		curve   tls.CurveID
		ok      bool
	}{
		{"ECDHE-ECDSA-AES128-GCM", ecdsaCert, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.CurveP256, false},
		{"ECDHE-ECDSA-AES256-GCM", ecdsaCert, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.CurveP256, false},
		{"ECDHE-RSA-CHACHA20-POLY1305", rsaCert, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.CurveP256, false},
		{"ECDHE-RSA-AES128-GCM over X25519", rsaCert, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.X25519, false},
		{"TLS 1.3 over X25519", rsaCert, tls.VersionTLS13, 0, tls.X25519, false},
		{"TLS 1.3 over X25519MLKEM768", rsaCert, tls.VersionTLS13, 0, tls.X25519MLKEM768, false},
		{"ECDHE-RSA-AES128-GCM over P-256", rsaCert, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.CurveP256, true},
		{"ECDHE-RSA-AES256-GCM over P-384", rsaCert, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.CurveP384, true},
		{"TLS 1.3 over P-256", rsaCert, tls.VersionTLS13, 0, tls.CurveP256, true},
		{"TLS 1.3 over SecP256r1MLKEM768", rsaCert, tls.VersionTLS13, 0, tls.SecP256r1MLKEM768, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := &tls.Config{Certificates: []tls.Certificate{tc.cert}, MinVersion: tc.version, MaxVersion: tc.version,
				CurvePreferences: []tls.CurveID{tc.curve}}
			if tc.suite != 0 {
				server.CipherSuites = []uint16{tc.suite}
			}
			_, err := dial(t, server, &tls.Config{RootCAs: pki.Roots(), ServerName: "localhost"})
			require.NoError(t, err, "a default crypto/tls client cannot connect either: the server is broken")
			cfg, err := trust.TLSConfig("localhost")
			require.NoError(t, err)
			st, err := dial(t, server, cfg)
			if !tc.ok {
				assert.Error(t, err, "the Trust connected")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.version, st.Version)
			assert.Equal(t, tc.curve, st.CurveID)
			if tc.suite != 0 {
				assert.Equal(t, tc.suite, st.CipherSuite)
			}
		})
	}
}
