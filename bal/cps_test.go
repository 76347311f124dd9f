// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package bal_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// cpsToken creates a SoftHSM token holding the test PKI's CPS key and
// certificate (ID 01, label "auth").
func cpsToken(t *testing.T) (*baltest.PKI, *baltest.Token) {
	t.Helper()
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	return pki, baltest.NewSoftHSMToken(t, "", "", pki.CPS.TLSCertificate())
}

// pinCounter is a PIN callback that counts how often it is asked.
type pinCounter struct {
	pin   string
	err   error
	asked int
}

func (p *pinCounter) PIN(context.Context) (string, error) {
	p.asked++
	return p.pin, p.err
}

func openCPS(t *testing.T, cfg bal.CPSConfig) *bal.CPS {
	t.Helper()
	c, err := bal.OpenCPS(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// tokenSerial reads the token's serial number with softhsm2-util.
func tokenSerial(t *testing.T, tk *baltest.Token) string {
	t.Helper()
	out, err := exec.Command("softhsm2-util", "--show-slots").CombinedOutput()
	require.NoError(t, err, "softhsm2-util --show-slots:\n%s", out)
	// Slots are listed with "Label:" then "Serial number:" of their token.
	re := regexp.MustCompile(`(?m)Serial number:\s+(\S+)\s*\n(?:.*\n)*?\s*Label:\s+` + regexp.QuoteMeta(tk.TokenLabel) + `\s*$`)
	m := re.FindStringSubmatch(string(out))
	require.NotNil(t, m, "no serial for token %q in:\n%s", tk.TokenLabel, out)
	return m[1]
}

func TestOpenCPS(t *testing.T) {
	pki, tk := cpsToken(t)
	ctx := context.Background()
	slot := int(tk.Slot)
	serial := tokenSerial(t, tk)

	t.Run("selection", func(t *testing.T) {
		for name, cfg := range map[string]bal.CPSConfig{
			"label":           {TokenLabel: tk.TokenLabel},
			"slot":            {SlotNumber: &slot},
			"serial":          {TokenSerial: serial},
			"label+key label": {TokenLabel: tk.TokenLabel, KeyLabel: tk.KeyLabel},
			"label+key id":    {TokenLabel: tk.TokenLabel, KeyID: tk.KeyID},
		} {
			pin := &pinCounter{pin: tk.PIN}
			cfg.ModulePath, cfg.PIN = tk.ModulePath, pin.PIN
			c, err := bal.OpenCPS(ctx, cfg)
			if !assert.NoError(t, err, name) {
				continue
			}
			assert.True(t, c.Certificate().Equal(pki.CPS.Cert), "%s: certificate %s, want the CPS certificate", name, c.Certificate().Subject)
			assert.Equal(t, 1, pin.asked, "%s: times the PIN was asked", name)
			assert.NoError(t, c.Close(), "%s: Close", name)
			assert.NoError(t, c.Close(), "%s: second Close", name)
		}
	})

	t.Run("identity", func(t *testing.T) {
		c := openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN})
		assert.Equal(t, trace.Actor{ID: "810002813839", IDType: "IDNPS", Name: "JEAN DUPONT", Auth: trace.AuthCPS}, c.Actor())
		assert.Equal(t, bal.CPSIdentity{IDNPS: "810002813839", Surname: "DUPONT", GivenName: "JEAN", Title: "Médecin"}, c.Identity())
		assert.Equal(t, bal.CPSModeTLS13PSS, c.Mode(), "zero Mode")
	})

	t.Run("errors", func(t *testing.T) {
		absent := 0
		for _, tc := range []struct {
			name      string
			cfg       bal.CPSConfig
			pin       pinCounter
			is        error
			wantText  []string
			wantAsked int
		}{
			{name: "wrong PIN", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel}, pin: pinCounter{pin: "9999"},
				is: bal.ErrCPSPINIncorrect, wantText: []string{"PIN incorrect", `token "CPS"`}, wantAsked: 1},
			{name: "missing token", cfg: bal.CPSConfig{TokenLabel: "ABSENTE"}, pin: pinCounter{pin: tk.PIN},
				is: bal.ErrCPSNotFound, wantText: []string{`token "ABSENTE"`, "card"}},
			{name: "missing serial", cfg: bal.CPSConfig{TokenSerial: "0000"}, pin: pinCounter{pin: tk.PIN},
				is: bal.ErrCPSNotFound, wantText: []string{`serial "0000"`}},
			{name: "missing slot", cfg: bal.CPSConfig{SlotNumber: &absent}, pin: pinCounter{pin: tk.PIN},
				is: bal.ErrCPSNotFound, wantText: []string{"slot 0"}},
			{name: "PIN entry cancelled", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel}, pin: pinCounter{err: io.ErrUnexpectedEOF},
				is: io.ErrUnexpectedEOF, wantText: []string{"PIN entry"}, wantAsked: 1},
			{name: "no selection", pin: pinCounter{pin: tk.PIN}, wantText: []string{"exactly one of TokenLabel, TokenSerial and SlotNumber (got 0"}},
			{name: "two selections", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel, SlotNumber: &slot}, pin: pinCounter{pin: tk.PIN},
				wantText: []string{"got 2: TokenLabel, SlotNumber"}},
			{name: "missing module", cfg: bal.CPSConfig{ModulePath: "/nonexistent/libcps.so", TokenLabel: tk.TokenLabel},
				pin: pinCounter{pin: tk.PIN}, is: fs.ErrNotExist, wantText: []string{"/nonexistent/libcps.so"}},
			{name: "unknown key label", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel, KeyLabel: "sign"}, pin: pinCounter{pin: tk.PIN},
				wantText: []string{`label "sign"`}, wantAsked: 1},
			{name: "unknown mode", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel, Mode: 7}, pin: pinCounter{pin: tk.PIN},
				wantText: []string{"CPSMode(7)"}},
			{name: "expired", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel, Now: func() time.Time { return pki.CPS.Cert.NotAfter.Add(time.Hour) }},
				pin: pinCounter{pin: tk.PIN}, is: bal.ErrCertificateExpired, wantText: []string{`"810002813839" valid from`}, wantAsked: 1},
			{name: "not yet valid", cfg: bal.CPSConfig{TokenLabel: tk.TokenLabel, Now: func() time.Time { return pki.CPS.Cert.NotBefore.Add(-time.Hour) }},
				pin: pinCounter{pin: tk.PIN}, is: bal.ErrCertificateNotYetValid, wantText: []string{`"810002813839" valid from`}, wantAsked: 1},
		} {
			if tc.cfg.ModulePath == "" {
				tc.cfg.ModulePath = tk.ModulePath
			}
			tc.cfg.PIN = tc.pin.PIN
			c, err := bal.OpenCPS(ctx, tc.cfg)
			if !assert.Error(t, err, tc.name) {
				c.Close()
				continue
			}
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is, tc.name)
			}
			// The words the user is shown: what was asked for and why it
			// failed.
			for _, s := range tc.wantText {
				assert.ErrorContains(t, err, s, tc.name)
			}
			if tc.pin.pin != "" {
				assert.NotContains(t, err.Error(), tc.pin.pin, "%s: the error shows the PIN", tc.name)
			}
			assert.Equal(t, tc.wantAsked, tc.pin.asked, "%s: times the PIN was asked", tc.name)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := bal.OpenCPS(cctx, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN})
		assert.ErrorIs(t, err, context.Canceled, "cancelled context")
		// The right PIN still opens the card after the wrong one.
		openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN})
	})
}

// TestCPSKeyChoice puts a signature key (non-repudiation) and then a second
// authentication key beside the CPS key: without KeyID or KeyLabel the
// authentication key is found while it is the only one.
func TestCPSKeyChoice(t *testing.T) {
	pki, tk := cpsToken(t)
	ctx := context.Background()
	addPair := func(id byte, label string, usage x509.KeyUsage, ext []x509.ExtKeyUsage) {
		t.Helper()
		c11, err := crypto11.Configure(&crypto11.Config{Path: tk.ModulePath, TokenLabel: tk.TokenLabel, Pin: tk.PIN})
		require.NoError(t, err)
		defer c11.Close()
		key, err := c11.GenerateRSAKeyPairWithLabel([]byte{id}, []byte(label), 2048)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(id)), Subject: pkix.Name{CommonName: "810002813839-" + label},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: usage, ExtKeyUsage: ext}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, pki.CPS.Chain[0], key.Public(), caKeyOf(t, pki, pki.CPS.Chain[0]))
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		require.NoError(t, c11.ImportCertificateWithLabel([]byte{id}, []byte(label), cert))
	}
	open := func() (*bal.CPS, error) {
		return bal.OpenCPS(ctx, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN})
	}

	addPair(2, "sign", x509.KeyUsageContentCommitment, nil)
	c, err := open()
	require.NoError(t, err, "with a signature key beside")
	assert.True(t, c.Certificate().Equal(pki.CPS.Cert), "found %s, want the authentication certificate", c.Certificate().Subject.CommonName)
	c.Close()

	addPair(3, "auth2", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	c, err = open()
	if c != nil {
		c.Close()
	}
	// The user is told how many keys were found and how to choose one.
	assert.ErrorContains(t, err, "2 key pairs", "two authentication keys: want an error asking for KeyID or KeyLabel")
	assert.ErrorContains(t, err, "KeyLabel", "two authentication keys: want an error asking for KeyID or KeyLabel")
	c = openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, KeyLabel: "auth2", PIN: (&pinCounter{pin: tk.PIN}).PIN})
	assert.Equal(t, "810002813839-auth2", c.Certificate().Subject.CommonName, "KeyLabel auth2")
}

// caKeyOf returns the private key of the PKI authority whose certificate
// is cert.
func caKeyOf(t *testing.T, pki *baltest.PKI, cert *x509.Certificate) crypto.Signer {
	t.Helper()
	for _, ca := range pki.CAs() {
		if ca.Cert.Equal(cert) {
			return ca.Key
		}
	}
	t.Fatalf("no authority %s", cert.Subject)
	return nil
}

// TestCPSConfigureTLS checks what each mode puts into the TLS
// configuration, without a server.
func TestCPSConfigureTLS(t *testing.T) {
	pki, tk := cpsToken(t)
	ctx := context.Background()
	for _, tc := range []struct {
		mode    bal.CPSMode
		max     uint16
		schemes []tls.SignatureScheme
	}{
		{bal.CPSModeTLS13PSS, 0, []tls.SignatureScheme{tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PSSWithSHA512}},
		{bal.CPSModeTLS12PKCS1, tls.VersionTLS12, []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}},
	} {
		c := openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN,
			Mode: tc.mode, Chain: pki.CPS.Chain})
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		require.NoError(t, c.ConfigureTLS(cfg), "%v", tc.mode)
		assert.Equal(t, tc.max, cfg.MaxVersion, "%v: MaxVersion", tc.mode)
		require.NotNil(t, cfg.GetClientCertificate, "%v: no GetClientCertificate", tc.mode)
		allSchemes := []tls.SignatureScheme{tls.PSSWithSHA256, tls.PKCS1WithSHA256, tls.ECDSAWithP256AndSHA256}
		cert, err := cfg.GetClientCertificate(&tls.CertificateRequestInfo{Version: tls.VersionTLS12, SignatureSchemes: allSchemes})
		require.NoError(t, err, "%v: GetClientCertificate for TLS 1.2", tc.mode)
		// The server's request must allow one of the mode's schemes.
		for _, req := range []struct {
			version uint16
			schemes []tls.SignatureScheme
			ok      bool
			why     string
		}{
			{tls.VersionTLS13, allSchemes, tc.mode == bal.CPSModeTLS13PSS, "TLS 1.3 forbids the PKCS#1 v1.5 signatures"},
			{tls.VersionTLS12, []tls.SignatureScheme{tls.PKCS1WithSHA512}, tc.mode == bal.CPSModeTLS12PKCS1, "accepts none of the signatures of CPSModeTLS13PSS"},
			{tls.VersionTLS12, []tls.SignatureScheme{tls.PSSWithSHA384}, tc.mode == bal.CPSModeTLS13PSS, "accepts none of the signatures of CPSModeTLS12PKCS1"},
		} {
			_, err := cfg.GetClientCertificate(&tls.CertificateRequestInfo{Version: req.version, SignatureSchemes: req.schemes})
			request := fmt.Sprintf("%v: server request %s %v", tc.mode, tls.VersionName(req.version), req.schemes)
			if req.ok {
				assert.NoError(t, err, "%s: want accepted", request)
			} else if assert.Error(t, err, "%s: want refused", request) {
				// The refusal the user sees says why.
				assert.ErrorContains(t, err, "rules out the card's certificate", request)
				assert.ErrorContains(t, err, req.why, request)
			}
		}
		assert.Equal(t, tc.schemes, cert.SupportedSignatureAlgorithms, "%v: signature schemes", tc.mode)
		if assert.Len(t, cert.Certificate, 2, "%v: want the CPS certificate then its authority", tc.mode) {
			assert.Equal(t, pki.CPS.Cert.Raw, cert.Certificate[0], "%v: the CPS certificate first", tc.mode)
			assert.Equal(t, pki.CPS.Chain[0].Raw, cert.Certificate[1], "%v: then its authority", tc.mode)
		}
		assert.IsNotType(t, &rsa.PrivateKey{}, cert.PrivateKey, "%v: the private key is in memory, want the card's signer", tc.mode)
		err = c.ConfigureTLS(&tls.Config{MinVersion: tls.VersionTLS13})
		if tc.mode == bal.CPSModeTLS12PKCS1 {
			assert.Error(t, err, "%v with TLS 1.3 minimum", tc.mode)
		} else {
			assert.NoError(t, err, "%v with TLS 1.3 minimum", tc.mode)
		}
		sc, err := c.SASL(ctx, []string{"PLAIN", "external"})
		if assert.NoError(t, err, "SASL with EXTERNAL offered") && assert.NotNil(t, sc, "SASL with EXTERNAL offered") {
			mech, _, _ := sc.Start()
			assert.Equal(t, sasl.External, mech, "SASL mechanism")
		}
		sc, err = c.SASL(ctx, []string{"PLAIN", "XOAUTH2"})
		assert.NoError(t, err, "SASL without EXTERNAL")
		assert.Nil(t, sc, "SASL without EXTERNAL")
		c.Close()
		assert.ErrorIs(t, c.ConfigureTLS(&tls.Config{}), bal.ErrCPSClosed, "ConfigureTLS after Close")
		_, err = cfg.GetClientCertificate(&tls.CertificateRequestInfo{Version: tls.VersionTLS12, SignatureSchemes: allSchemes})
		assert.ErrorIs(t, err, bal.ErrCPSClosed, "handshake after Close")
	}
}

// observedAuth wraps an Authenticator to record, for each handshake, the
// TLS version and the options the card's signer was called with, and to
// check each signature against the certificate's public key.
type observedAuth struct {
	bal.Authenticator
	pub *rsa.PublicKey

	mu       sync.Mutex
	versions []uint16
	opts     []crypto.SignerOpts
	sigErrs  []error
}

func (o *observedAuth) ConfigureTLS(cfg *tls.Config) error {
	if err := o.Authenticator.ConfigureTLS(cfg); err != nil {
		return err
	}
	if len(cfg.Certificates) != 0 || cfg.GetClientCertificate == nil {
		return errors.New("observedAuth: the authenticator did not set GetClientCertificate alone")
	}
	get := cfg.GetClientCertificate
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c, err := get(cri)
		if err != nil {
			return nil, err
		}
		rec := *c
		rec.PrivateKey = &recordingSigner{Signer: c.PrivateKey.(crypto.Signer), o: o}
		return &rec, nil
	}
	next := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		o.mu.Lock()
		o.versions = append(o.versions, cs.Version)
		o.mu.Unlock()
		if next != nil {
			return next(cs)
		}
		return nil
	}
	return nil
}

type recordingSigner struct {
	crypto.Signer
	o *observedAuth
}

func (s *recordingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(r, digest, opts)
	if err == nil {
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(s.o.pub, pss.Hash, digest, sig, pss)
		} else {
			err = rsa.VerifyPKCS1v15(s.o.pub, opts.HashFunc(), digest, sig)
		}
	}
	s.o.mu.Lock()
	s.o.opts = append(s.o.opts, opts)
	s.o.sigErrs = append(s.o.sigErrs, err)
	s.o.mu.Unlock()
	return sig, err
}

// TestCPSDovecot logs into a real Dovecot as the CPS holder (SASL
// EXTERNAL after the card signed the TLS handshake) in both modes, several
// sessions at once on one card, and checks the TLS version, the signature
// scheme the card was asked for, and the actor in the trace.
func TestCPSDovecot(t *testing.T) {
	e := newEnv(t)
	tk := baltest.NewSoftHSMToken(t, "", "", e.pki.CPS.TLSCertificate())
	ctx := context.Background()
	for _, tc := range []struct {
		mode     bal.CPSMode
		version  uint16
		pss      bool
		sessions int
		chain    []*x509.Certificate
	}{
		{mode: bal.CPSModeTLS13PSS, version: tls.VersionTLS13, pss: true, sessions: 3},
		{mode: bal.CPSModeTLS12PKCS1, version: tls.VersionTLS12, pss: false, sessions: 1, chain: e.pki.CPS.Chain},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			start := time.Now()
			c := openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN,
				Mode: tc.mode, Chain: tc.chain})
			t.Logf("OpenCPS: %v", time.Since(start))
			o := &observedAuth{Authenticator: c, pub: e.pki.CPS.Cert.PublicKey.(*rsa.PublicKey)}
			r := e.receiver(t, o, baltest.CPSUser)
			var wg sync.WaitGroup
			errs := make([]error, tc.sessions)
			start = time.Now()
			for i := range tc.sessions {
				wg.Go(func() {
					s, err := r.Open(ctx)
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					folders, err := s.Folders(ctx)
					if err == nil && len(folders) == 0 {
						err = errors.New("no folders")
					}
					errs[i] = err
				})
			}
			wg.Wait()
			t.Logf("%d sessions (login + LIST): %v", tc.sessions, time.Since(start))
			for i, err := range errs {
				require.NoError(t, err, "session %d\n%s", i, e.dc.Log())
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			assert.Len(t, o.versions, tc.sessions, "handshakes seen")
			for _, v := range o.versions {
				assert.Equal(t, tls.VersionName(tc.version), tls.VersionName(v), "TLS version")
			}
			assert.Len(t, o.opts, tc.sessions, "the card signs once per handshake")
			for i, opts := range o.opts {
				_, isPSS := opts.(*rsa.PSSOptions)
				assert.Equal(t, tc.pss, isPSS, "signature %d: options %T: PSS", i, opts)
				assert.Contains(t, []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}, opts.HashFunc(), "signature %d: hash", i)
				assert.NoError(t, o.sigErrs[i], "signature %d by the card", i)
			}
		})
	}
	// A card without PSS configured as if it had it cannot sign for TLS 1.3:
	// the handshake fails and says why, rather than going on without a
	// client certificate to an unexplained EXTERNAL refusal.
	t.Run("PKCS1 card in TLS 1.3", func(t *testing.T) {
		c := openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN,
			Mode: bal.CPSModeTLS12PKCS1})
		_, err := e.receiver(t, uncapped{c}, baltest.CPSUser).Open(ctx)
		// The reason the user is shown, not a later authentication failure.
		assert.ErrorContains(t, err, "TLS 1.3 forbids the PKCS#1 v1.5 signatures of CPSModeTLS12PKCS1", "Open: want the handshake refused by the CPS")
		assert.NotErrorIs(t, err, bal.ErrAuth, "Open: want the handshake refused by the CPS")
	})
	e.log.Close()
	logins := 0
	_, err := trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Action == trace.Login && ev.Response.OK {
			logins++
			assert.Equal(t, trace.Actor{ID: "810002813839", IDType: "IDNPS", Name: "JEAN DUPONT", Auth: trace.AuthCPS}, ev.Actor, "trace actor")
			assert.Equal(t, baltest.CPSUser, ev.Mailbox.Address, "trace mailbox")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 4, logins, "successful logins traced")
}

// uncapped undoes CPSModeTLS12PKCS1's TLS 1.2 cap.
type uncapped struct{ bal.Authenticator }

func (u uncapped) ConfigureTLS(cfg *tls.Config) error {
	err := u.Authenticator.ConfigureTLS(cfg)
	cfg.MaxVersion = 0
	return err
}

// While a card is open, a second OpenCPS on it is refused — with a wrong
// PIN as with the right one (PKCS#11 would accept any PIN once logged in);
// after Close it opens again.
func TestCPSOpenTwice(t *testing.T) {
	_, tk := cpsToken(t)
	cfg := func(pin string) bal.CPSConfig {
		return bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: pin}).PIN}
	}
	c := openCPS(t, cfg(tk.PIN))
	for _, pin := range []string{"0000", tk.PIN} {
		c2, err := bal.OpenCPS(context.Background(), cfg(pin))
		if !assert.ErrorIs(t, err, bal.ErrCPSAlreadyOpen, "second open with PIN %q", pin) && c2 != nil {
			c2.Close()
		}
	}
	// The first one is still open: it can still give its client
	// certificate.
	tc := &tls.Config{}
	require.NoError(t, c.ConfigureTLS(tc), "the open CPS no longer configures TLS")
	require.NotNil(t, tc.GetClientCertificate, "the open CPS no longer configures TLS")
	c.Close()
	c3, err := bal.OpenCPS(context.Background(), cfg(tk.PIN))
	require.NoError(t, err, "reopen after Close")
	c3.Close()
	_, err = bal.OpenCPS(context.Background(), cfg("0000"))
	assert.ErrorIs(t, err, bal.ErrCPSPINIncorrect, "wrong PIN after Close")
}
