//go:build cgo

package bal_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// A CPS card (SoftHSM) signs the TLS handshake with Postfix's submission
// port, which requires a client certificate (the default): in both modes
// the report is accepted on the certificate alone (no SMTP AUTH: Postfix
// does not offer EXTERNAL) and reaches the recipient.
func TestSubmissionCPS(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	tk := baltest.NewSoftHSMToken(t, "", "", e.pki.CPS.TLSCertificate())
	for i, tc := range []struct {
		mode    bal.CPSMode
		version uint16
		pss     bool
		chain   []*x509.Certificate
	}{
		{mode: bal.CPSModeTLS13PSS, version: tls.VersionTLS13, pss: true},
		// Postfix's CA file holds the IGC-Santé intermediates, so the
		// chain is optional here (the TLS 1.3 case goes without it, and
		// so does TLS 1.2, tried by hand); sent in TLS 1.2 as with a real
		// card.
		{mode: bal.CPSModeTLS12PKCS1, version: tls.VersionTLS12, pss: false, chain: e.pki.CPS.Chain},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			c := openCPS(t, bal.CPSConfig{ModulePath: tk.ModulePath, TokenLabel: tk.TokenLabel, PIN: (&pinCounter{pin: tk.PIN}).PIN,
				Mode: tc.mode, Chain: tc.chain})
			o := &observedAuth{Authenticator: c, pub: e.pki.CPS.Cert.PublicKey.(*rsa.PublicKey)}
			res, err := e.submissionSender(t, pf, o).Send(guard(t), personalReport(baltest.OtherUser))
			if err != nil {
				t.Fatalf("%v\n%s", err, pf.Log())
			}
			if len(res.Accepted) != 1 {
				t.Errorf("send: %+v", res)
			}
			if n, err := e.dc.WaitMessages(guard(t), baltest.OtherUser, i+1); err != nil {
				t.Fatalf("%s has %d messages: %v", baltest.OtherUser, n, err)
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.versions) != 1 || o.versions[0] != tc.version {
				t.Errorf("TLS versions %v, want one handshake in %s", o.versions, tls.VersionName(tc.version))
			}
			if len(o.opts) != 1 {
				t.Fatalf("the card signed %d times, want once", len(o.opts))
			}
			if _, isPSS := o.opts[0].(*rsa.PSSOptions); isPSS != tc.pss || o.sigErrs[0] != nil {
				t.Errorf("signature options %T (want PSS %v), error %v", o.opts[0], tc.pss, o.sigErrs[0])
			}
		})
	}
	e.log.Close()
	logins := tracedLogins(t, e)
	want := jeanDupont
	want.Auth = trace.AuthCPS
	if len(logins) != 2 {
		t.Fatalf("%d successful logins traced, want 2", len(logins))
	}
	for _, ev := range logins {
		if ev.Actor != want || ev.Request.Command != "STARTTLS" {
			t.Errorf("traced login: %+v %+v, want %+v by certificate only (STARTTLS)", ev.Actor, ev.Request, want)
		}
	}
}
