package baltest

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// testPKI is shared by the tests of this package: generating one costs
// about a second under the race detector.
var testPKI = sync.OnceValues(func() (*PKI, error) { return NewPKI(nil) })

func sharedPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := testPKI()
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := chains[0][len(chains[0])-1]; !got.Equal(tc.root.Cert) {
			t.Errorf("%s: chain ends at %s, want %s", tc.name, got.Subject.CommonName, tc.root.Cert.Subject.CommonName)
		}
		if len(chains[0]) != 3 {
			t.Errorf("%s: chain of %d certificates, want leaf, intermediate, root", tc.name, len(chains[0]))
		}
		if k, ok := tc.leaf.Key.Public().(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
			t.Errorf("%s: key is not RSA 2048", tc.name)
		}
	}
	var invalid x509.CertificateInvalidError
	if _, err := p.Expired.Cert.Verify(opts); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("Expired verifies: %v", err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", DefaultServerName} {
		if err := p.Server.Cert.VerifyHostname(host); err != nil {
			t.Errorf("Server: %v", err)
		}
		if err := p.WrongHost.Cert.VerifyHostname(host); err == nil {
			t.Errorf("WrongHost is valid for %s", host)
		}
	}
	if p.CPS.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || p.CPS.Cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("CPS usages: %v %v", p.CPS.Cert.KeyUsage, p.CPS.Cert.ExtKeyUsage)
	}
	if !p.FortPersonnes.Cert.MaxPathLenZero || !p.FortPersonnes.Cert.IsCA {
		t.Error("intermediate is not a CA limited to leaves")
	}
}

func TestPKICPSSubject(t *testing.T) {
	p := sharedPKI(t)
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(p.CPS.Cert.RawSubject, &rdns); err != nil || len(rest) != 0 {
		t.Fatalf("subject: %v", err)
	}
	if len(rdns) != 3 {
		t.Fatalf("subject has %d RDNs, want C, title and CN+SN+GN: %v", len(rdns), rdns)
	}
	last := rdns[2]
	want := map[string]string{"2.5.4.3": "810002813839", "2.5.4.4": "DUPONT", "2.5.4.42": "JEAN"}
	if len(last) != len(want) {
		t.Fatalf("last RDN has %d values, want 3", len(last))
	}
	for _, a := range last {
		if want[a.Type.String()] != a.Value {
			t.Errorf("attribute %v = %v, want %q", a.Type, a.Value, want[a.Type.String()])
		}
	}
	if rdns[1][0].Value != "Médecin" {
		t.Errorf("title = %v", rdns[1][0].Value)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	subject := func(path string) string {
		out, err := exec.Command(openssl, "x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509: %v: %s", err, out)
		}
		return strings.TrimSpace(strings.TrimPrefix(string(out), "subject="))
	}
	for path, want := range map[string]string{
		f.CPS.Cert:    "CN=810002813839+SN=DUPONT+GN=JEAN,title=Médecin,C=FR",
		f.ORG.Cert:    "CN=LPS-TEST-MSS,OU=10B0000000,O=CABINET TEST,ST=Paris (75),C=FR",
		f.Server.Cert: "CN=localhost,OU=34193006780006,O=OPERATEUR MSSANTE TEST,ST=Paris (75),C=FR",
		f.Roots:       "CN=TEST AC RACINE IGC-SANTE FORT,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR",
	} {
		if got := subject(path); got != want {
			t.Errorf("%s: subject\n got %s\nwant %s", path, got, want)
		}
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
		if got := verify(leaf); !strings.Contains(got, want) {
			t.Errorf("openssl verify %s: %q, want %q", leaf, got, want)
		}
	}
}

func TestPKICRL(t *testing.T) {
	p := sharedPKI(t)
	if !p.IsRevoked(p.Revoked.Cert) || p.IsRevoked(p.ORG.Cert) || p.IsRevoked(p.CPS.Cert) {
		t.Error("IsRevoked disagrees with the CRLs")
	}
	for _, ca := range p.CAs() {
		if err := ca.CRL.CheckSignatureFrom(ca.Cert); err != nil {
			t.Errorf("CRL of %s: %v", ca.Cert.Subject.CommonName, err)
		}
	}
	if n := len(p.ElementaireOrganisations.CRL.RevokedCertificateEntries); n != 1 {
		t.Errorf("ELEMENTAIRE ORGANISATIONS CRL lists %d certificates, want 1", n)
	}

	srv, err := p.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cdp := p.Revoked.Cert.CRLDistributionPoints
	if len(cdp) != 1 || !strings.HasPrefix(cdp[0], srv.URL+"/") {
		t.Fatalf("distribution points %v, server at %s", cdp, srv.URL)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(url string) []byte {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		return b
	}
	der := get(cdp[0])
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(p.ElementaireOrganisations.Cert); err != nil {
		t.Errorf("served CRL: %v", err)
	}
	if crl.RevokedCertificateEntries[0].SerialNumber.Cmp(p.Revoked.Cert.SerialNumber) != 0 {
		t.Error("served CRL does not list the revoked certificate")
	}
	if pemCRL := get(strings.TrimSuffix(cdp[0], ".crl") + ".pem"); !bytes.Equal(pemCRL, p.ElementaireOrganisations.CRLPEM()) {
		t.Error("PEM CRL differs")
	}
	if got := p.FortPersonnes.Cert.CRLDistributionPoints; len(got) != 1 || got[0] != p.RootFort.CRLURL {
		t.Errorf("intermediate distribution point %v, want the root's CRL", got)
	}
	if srv.Requests() != 2 {
		t.Errorf("server counted %d requests, want 2", srv.Requests())
	}
}

// TestPKCS12OpenSSL decodes the ORG PKCS#12 file with OpenSSL: right
// password gives back the key and the chain, the key and the leaf paired by
// their localKeyID, a wrong password fails the MAC.
func TestPKCS12OpenSSL(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl", "openssl")
	p := sharedPKI(t)
	f, err := p.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "pkcs12", "-in", f.ORGPKCS12, "-passin", "pass:"+PKCS12Password, "-nodes").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
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
	if len(certs) != 2 || !bytes.Equal(certs[0], p.ORG.Cert.Raw) || !bytes.Equal(certs[1], p.ElementaireOrganisations.Cert.Raw) {
		t.Errorf("certificates in the PKCS#12 file: %d, want the ORG leaf then its intermediate", len(certs))
	}
	k, err := x509.ParsePKCS8PrivateKey(key)
	if err != nil || !p.ORG.Key.Equal(k) {
		t.Errorf("key in the PKCS#12 file: %v", err)
	}
	if n := strings.Count(string(out), localKeyID(p.ORG)); n != 2 {
		t.Errorf("%q on %d bags, want the key and the leaf:\n%s", localKeyID(p.ORG), n, out)
	}
	out, err = exec.Command(openssl, "pkcs12", "-in", f.ORGPKCS12, "-passin", "pass:faux", "-nodes").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Mac verify error") {
		t.Errorf("wrong password: %v\n%s", err, out)
	}
}
