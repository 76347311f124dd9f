// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// testPKI is shared by the tests of this package: generating one costs
// about a second under the race detector.
var testPKI = sync.OnceValues(func() (*PKI, error) { return NewPKI(nil) })

func sharedPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := testPKI()
	require.NoError(t, err)
	return p
}

func TestPKIChains(t *testing.T) {
	p := sharedPKI(t)
	opts := x509.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, tc := range []struct {
		name string
		leaf *Leaf
		root *CA
	}{
		{"CPS", p.CPS, p.RootFort},
		{"ORG", p.ORG, p.RootElementaire},
		{"Server", p.Server, p.RootElementaire},
		{"Revoked", p.Revoked, p.RootElementaire}, // revocation is not Verify's business
		{"WrongHost", p.WrongHost, p.RootElementaire},
	} {
		chains, err := tc.leaf.Cert.Verify(opts)
		if !assert.NoError(t, err, tc.name) {
			continue
		}
		got := chains[0][len(chains[0])-1]
		assert.True(t, got.Equal(tc.root.Cert), "%s: chain ends at %s, want %s", tc.name, got.Subject.CommonName, tc.root.Cert.Subject.CommonName)
		assert.Len(t, chains[0], 3, "%s: want leaf, intermediate, root", tc.name)
		k, ok := tc.leaf.Key.Public().(*rsa.PublicKey)
		if assert.True(t, ok, "%s: key is not RSA", tc.name) {
			assert.Equal(t, 2048, k.N.BitLen(), "%s: RSA key size", tc.name)
		}
	}
	var invalid x509.CertificateInvalidError
	_, err := p.Expired.Cert.Verify(opts)
	if assert.ErrorAs(t, err, &invalid, "Expired verifies") {
		assert.Equal(t, x509.Expired, invalid.Reason, "Expired: %v", err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", DefaultServerName} {
		assert.NoError(t, p.Server.Cert.VerifyHostname(host), "Server")
		assert.Error(t, p.WrongHost.Cert.VerifyHostname(host), "WrongHost is valid for %s", host)
	}
	if assert.NotEmpty(t, p.CPS.Cert.ExtKeyUsage, "CPS extended key usages") {
		assert.Equal(t, x509.ExtKeyUsageClientAuth, p.CPS.Cert.ExtKeyUsage[0], "CPS extended key usage")
	}
	assert.Equal(t, x509.KeyUsageDigitalSignature, p.CPS.Cert.KeyUsage, "CPS key usage")
	// The intermediate is a CA limited to leaves.
	assert.True(t, p.FortPersonnes.Cert.IsCA, "intermediate: IsCA")
	assert.True(t, p.FortPersonnes.Cert.MaxPathLenZero, "intermediate: MaxPathLenZero")
}

func TestPKICPSSubject(t *testing.T) {
	p := sharedPKI(t)
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(p.CPS.Cert.RawSubject, &rdns)
	require.NoError(t, err, "subject")
	require.Empty(t, rest, "subject: trailing bytes")
	require.Len(t, rdns, 3, "subject: want C, title and CN+SN+GN: %v", rdns)
	last := rdns[2]
	want := map[string]string{"2.5.4.3": "810002813839", "2.5.4.4": "DUPONT", "2.5.4.42": "JEAN"}
	require.Len(t, last, len(want), "last RDN values")
	for _, a := range last {
		assert.Equal(t, want[a.Type.String()], a.Value, "attribute %v", a.Type)
	}
	assert.Equal(t, "Médecin", rdns[1][0].Value, "title")
}

// TestPKIOpenSSL checks names, chains and CRLs with OpenSSL, the library
// Dovecot and Postfix verify with.
func TestPKIOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	p := sharedPKI(t)
	f, err := p.WriteFiles(t.TempDir())
	require.NoError(t, err)
	subject := func(path string) string {
		out, err := exec.Command(openssl, "x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb").CombinedOutput()
		require.NoError(t, err, "openssl x509: %s", out)
		return strings.TrimSpace(strings.TrimPrefix(string(out), "subject="))
	}
	for path, want := range map[string]string{
		f.CPS.Cert:    "CN=810002813839+SN=DUPONT+GN=JEAN,title=Médecin,C=FR",
		f.ORG.Cert:    "CN=LPS-TEST-MSS,OU=10B0000000,O=CABINET TEST,ST=Paris (75),C=FR",
		f.Server.Cert: "CN=localhost,OU=34193006780006,O=OPERATEUR MSSANTE TEST,ST=Paris (75),C=FR",
		f.Roots:       "CN=TEST AC RACINE IGC-SANTE FORT,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR",
	} {
		assert.Equal(t, want, subject(path), "%s: subject", path)
	}
	verify := func(leaf string) string {
		out, _ := exec.Command(openssl, "verify", "-crl_check_all", "-CAfile", f.CABundleCRLs, leaf).CombinedOutput()
		return string(out)
	}
	for leaf, want := range map[string]string{
		f.CPS.Cert:     ": OK",
		f.ORG.Cert:     ": OK",
		f.Server.Cert:  ": OK",
		f.Revoked.Cert: "certificate revoked",
		f.Expired.Cert: "certificate has expired",
	} {
		assert.Contains(t, verify(leaf), want, "openssl verify %s", leaf)
	}
}

func TestPKICRL(t *testing.T) {
	p := sharedPKI(t)
	// IsRevoked agrees with the CRLs.
	assert.True(t, p.IsRevoked(p.Revoked.Cert), "IsRevoked(Revoked)")
	assert.False(t, p.IsRevoked(p.ORG.Cert), "IsRevoked(ORG)")
	assert.False(t, p.IsRevoked(p.CPS.Cert), "IsRevoked(CPS)")
	for _, ca := range p.CAs() {
		assert.NoError(t, ca.CRL.CheckSignatureFrom(ca.Cert), "CRL of %s", ca.Cert.Subject.CommonName)
	}
	assert.Len(t, p.ElementaireOrganisations.CRL.RevokedCertificateEntries, 1, "certificates the ELEMENTAIRE ORGANISATIONS CRL lists")

	srv, err := p.ServeCRL()
	require.NoError(t, err)
	defer srv.Close()
	cdp := p.Revoked.Cert.CRLDistributionPoints
	require.Len(t, cdp, 1, "distribution points")
	require.True(t, strings.HasPrefix(cdp[0], srv.URL+"/"), "distribution point %s, server at %s", cdp[0], srv.URL)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(url string) []byte {
		resp, err := client.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, resp.Status)
		return b
	}
	der := get(cdp[0])
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	assert.NoError(t, crl.CheckSignatureFrom(p.ElementaireOrganisations.Cert), "served CRL")
	if assert.NotEmpty(t, crl.RevokedCertificateEntries, "served CRL does not list the revoked certificate") {
		assert.Equal(t, p.Revoked.Cert.SerialNumber.String(), crl.RevokedCertificateEntries[0].SerialNumber.String(), "served CRL: the revoked certificate's serial")
	}
	pemCRL := get(strings.TrimSuffix(cdp[0], ".crl") + ".pem")
	assert.Equal(t, p.ElementaireOrganisations.CRLPEM(), pemCRL, "PEM CRL differs")
	assert.Equal(t, []string{p.RootFort.CRLURL}, p.FortPersonnes.Cert.CRLDistributionPoints, "intermediate distribution point: want the root's CRL")
	assert.EqualValues(t, 2, srv.Requests(), "requests the server counted")
}

// TestPKCS12OpenSSL decodes the ORG PKCS#12 file with OpenSSL: right
// password gives back the key and the chain, the key and the leaf paired by
// their localKeyID, a wrong password fails the MAC.
func TestPKCS12OpenSSL(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl", "openssl")
	p := sharedPKI(t)
	f, err := p.WriteFiles(t.TempDir())
	require.NoError(t, err)
	out, err := exec.Command(openssl, "pkcs12", "-in", f.ORGPKCS12, "-passin", "pass:"+PKCS12Password, "-nodes").CombinedOutput()
	require.NoError(t, err, "openssl pkcs12:\n%s", out)
	var certs [][]byte
	var key []byte
	for rest := out; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, b.Bytes)
		case "PRIVATE KEY":
			key = b.Bytes
		}
	}
	if assert.Len(t, certs, 2, "certificates in the PKCS#12 file: want the ORG leaf then its intermediate") {
		assert.Equal(t, p.ORG.Cert.Raw, certs[0], "the ORG leaf first")
		assert.Equal(t, p.ElementaireOrganisations.Cert.Raw, certs[1], "then its intermediate")
	}
	k, err := x509.ParsePKCS8PrivateKey(key)
	if assert.NoError(t, err, "key in the PKCS#12 file") {
		assert.True(t, p.ORG.Key.Equal(k), "the key in the PKCS#12 file is not the ORG key")
	}
	assert.Equal(t, 2, strings.Count(string(out), localKeyID(p.ORG)), "bags with %q, want the key and the leaf:\n%s", localKeyID(p.ORG), out)
	// openssl's own words for the refused password.
	out, err = exec.Command(openssl, "pkcs12", "-in", f.ORGPKCS12, "-passin", "pass:faux", "-nodes").CombinedOutput()
	assert.Error(t, err, "wrong password:\n%s", out)
	assert.Contains(t, string(out), "Mac verify error", "wrong password")
}
