// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
	"github.com/ecdaf744/gomss/internal/testenv"
)

// cpxClient returns a CPx client of srv whose card key is signer.
func cpxClient(t *testing.T, srv *insitest.Server, signer crypto.Signer, cert *x509.Certificate) *insi.Client {
	t.Helper()
	cred, err := insi.NewCPx(signer, cert, insi.CPxOptions{BillingID: "123456789", Sector: "SA05"})
	require.NoError(t, err)
	assert.Equal(t, insi.ModeCPx, cred.Mode())
	c, err := insi.New(insi.Config{Endpoint: srv.URL, Software: testSoftware, Credentials: cred, TLS: srv.ClientTLSConfig()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// assertion extracts the saml:Assertion of a request envelope.
func assertion(t *testing.T, body []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(body))
	a := doc.FindElement("./Envelope/Header/Security/Assertion")
	require.NotNil(t, a, "no assertion in wsse:Security")
	return a
}

// verifyGoxmldsig checks the assertion's enveloped signature with goxmldsig,
// trusting the card certificate.
func verifyGoxmldsig(t *testing.T, a *etree.Element, cert *x509.Certificate) error {
	t.Helper()
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.IdAttribute = "ID"
	doc := etree.NewDocument()
	doc.SetRoot(a.Copy())
	_, err := vc.Validate(doc.Root())
	return err
}

func pemFile(t *testing.T, dir, name string, c *x509.Certificate) string {
	f := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600))
	return f
}

// verifyXmlsec1 checks the signature of the request envelope with xmlsec1,
// the independent judge: the card certificate of KeyInfo must chain to the
// test FORT root.
func verifyXmlsec1(t *testing.T, body []byte) (string, error) {
	t.Helper()
	bin := testenv.LookPath(t, "xmlsec1", "xmlsec1")
	p := testPKI(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "request.xml")
	require.NoError(t, os.WriteFile(f, body, 0o600))
	out, err := exec.Command(bin, "--verify",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--trusted-pem", pemFile(t, dir, "root.pem", p.RootFort.Cert),
		"--untrusted-pem", pemFile(t, dir, "inter.pem", p.FortPersonnes.Cert),
		f).CombinedOutput()
	return string(out), err
}

// CPx mode end to end: the client signs an assertion PS with the card's
// key; the fake verifies it (goxmldsig) and answers; the signature also
// verifies with goxmldsig here and with xmlsec1; a tampered assertion
// fails both.
func TestCPxAssertion(t *testing.T) {
	f := newFixture(t, nil)
	p := testPKI(t)
	c := cpxClient(t, f.srv, p.CPS.Key, p.CPS.Cert)
	sr, err := c.Search(ctx(t), ecetinsi)
	require.NoError(t, err)
	assert.True(t, sr.Result.Found())

	reqs := f.srv.Requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	assert.Empty(t, got.ClientCN, "no client certificate in CPx mode")
	assert.Equal(t, insitest.CPSIdentifier, got.AssertionSubject)
	assert.Equal(t, insitest.CPSIdentifier, got.Emitter, "the emitter is the card's identifier")

	a := assertion(t, got.Body)
	assert.Equal(t, "2.0", a.SelectAttrValue("Version", ""))
	assert.Equal(t, "Issuer", a.ChildElements()[0].Tag)
	assert.Equal(t, "Signature", a.ChildElements()[1].Tag, "Signature right after Issuer (SAML schema)")
	assert.Equal(t, p.CPS.Cert.Subject.String(), a.FindElement("./Issuer").Text())
	assert.Equal(t, "SA05", a.FindElement("./AttributeStatement/Attribute[@Name='secteurActivite']/AttributeValue").Text())
	assert.Equal(t, dsig.RSASHA256SignatureMethod, a.FindElement("./Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""))

	require.NoError(t, verifyGoxmldsig(t, a, p.CPS.Cert))
	out, err := verifyXmlsec1(t, got.Body)
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK")

	// Tampered: the professional's identifier changed after signing.
	bad := []byte(strings.Replace(string(got.Body), ">"+insitest.CPSIdentifier+"</NameID>", ">810000000000</NameID>", 1))
	require.NotEqual(t, got.Body, bad)
	assert.Error(t, verifyGoxmldsig(t, assertion(t, bad), p.CPS.Cert))
	out, err = verifyXmlsec1(t, bad)
	assert.Error(t, err, "xmlsec1 accepted a tampered assertion:\n%s", out)
}

// The fake refuses a CPx request signed by a key its PKI did not certify,
// and the key must match the certificate.
func TestCPxRefused(t *testing.T) {
	f := newFixture(t, nil)
	other, err := insitest.NewPKI()
	require.NoError(t, err)
	c := cpxClient(t, f.srv, other.CPS.Key, other.CPS.Cert)
	_, err = c.Search(ctx(t), ecetinsi)
	var fault *insi.Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, "insitest_assertion", fault.ErrorCode)

	p := testPKI(t)
	_, err = insi.NewCPx(other.CPS.Key, p.CPS.Cert, insi.CPxOptions{})
	assert.ErrorIs(t, err, insi.ErrConfiguration)
	_, err = insi.NewCPx(p.Auto.Key, p.Auto.Cert, insi.CPxOptions{})
	assert.ErrorContains(t, err, "want RSA")
}
