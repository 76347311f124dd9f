// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package bal_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.NoError(t, err, pf.Log())
			assert.Len(t, res.Accepted, 1, "send: accepted")
			n, err := e.dc.WaitMessages(guard(t), baltest.OtherUser, i+1)
			require.NoError(t, err, "%s has %d messages", baltest.OtherUser, n)
			o.mu.Lock()
			defer o.mu.Unlock()
			assert.Equal(t, []uint16{tc.version}, o.versions, "TLS versions: want one handshake in %s", tls.VersionName(tc.version))
			require.Len(t, o.opts, 1, "the card signs once")
			_, isPSS := o.opts[0].(*rsa.PSSOptions)
			assert.Equal(t, tc.pss, isPSS, "signature options %T: PSS", o.opts[0])
			assert.NoError(t, o.sigErrs[0], "signature by the card")
		})
	}
	e.log.Close()
	logins := tracedLogins(t, e)
	want := jeanDupont
	want.Auth = trace.AuthCPS
	require.Len(t, logins, 2, "successful logins traced")
	for _, ev := range logins {
		assert.Equal(t, want, ev.Actor, "traced login")
		assert.Equal(t, "STARTTLS", ev.Request.Command, "traced login: by certificate only")
	}
}
