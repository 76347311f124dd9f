// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// extension returns the extension of crl with that OID, or nil.
func extension(crl *x509.RevocationList, oid asn1.ObjectIdentifier) *pkix.Extension {
	for i, e := range crl.Extensions {
		if e.Id.Equal(oid) {
			return &crl.Extensions[i]
		}
	}
	return nil
}

// The default CRL of IssueCRL is a conforming one, as crypto/x509 reads
// it; each option changes what it says and nothing else.
func TestIssueCRL(t *testing.T) {
	p := sharedPKI(t)
	ca := p.ElementaireOrganisations
	crl, err := ca.IssueCRL(CRLOptions{})
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(ca.Cert))
	assert.Equal(t, ca.Cert.RawSubject, crl.RawIssuer)
	assert.Equal(t, ca.Cert.SubjectKeyId, crl.AuthorityKeyId)
	assert.Equal(t, big.NewInt(1), crl.Number)
	assert.WithinDuration(t, time.Now().Add(-time.Hour), crl.ThisUpdate, 5*time.Minute)
	assert.WithinDuration(t, crl.ThisUpdate.AddDate(0, 0, 7), crl.NextUpdate, 0)
	assert.Empty(t, crl.RevokedCertificateEntries)
	assert.Nil(t, extension(crl, OIDIssuingDistributionPoint))

	future := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	odd := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	crl, err = ca.IssueCRL(CRLOptions{
		ThisUpdate: future, NoNextUpdate: true, CriticalNumber: true, Number: big.NewInt(42),
		Revoked: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), ReasonCode: 1,
			ExtraExtensions: []pkix.Extension{{Id: odd, Critical: true, Value: []byte{5, 0}}}}},
		Extensions: []pkix.Extension{{Id: odd, Critical: true, Value: []byte{5, 0}}},
		IssuerName: p.FortPersonnes.Cert.RawSubject,
	})
	require.NoError(t, err)
	assert.NoError(t, crl.CheckSignatureFrom(ca.Cert), "signed by the authority's key under another name")
	assert.Equal(t, p.FortPersonnes.Cert.RawSubject, crl.RawIssuer)
	assert.WithinDuration(t, future, crl.ThisUpdate, 0)
	assert.True(t, crl.NextUpdate.IsZero())
	if n := extension(crl, asn1.ObjectIdentifier{2, 5, 29, 20}); assert.NotNil(t, n) {
		assert.True(t, n.Critical)
	}
	assert.Equal(t, big.NewInt(42), crl.Number)
	require.Len(t, crl.RevokedCertificateEntries, 1)
	e := crl.RevokedCertificateEntries[0]
	assert.Equal(t, 1, e.ReasonCode)
	assert.WithinDuration(t, future.Add(-time.Minute), e.RevocationTime, 0)
	assert.Len(t, e.Extensions, 2, "the extra entry extension and the reason code")
	if x := extension(crl, odd); assert.NotNil(t, x) {
		assert.True(t, x.Critical)
	}

	crl, err = ca.IssueCRL(CRLOptions{NoNumber: true, Signer: other})
	require.NoError(t, err)
	assert.Nil(t, crl.Number)
	assert.Error(t, crl.CheckSignatureFrom(ca.Cert), "signed by another key")
	assert.NoError(t, checkECDSA(crl, other), "signed by the other key")
}

func checkECDSA(crl *x509.RevocationList, key *ecdsa.PrivateKey) error {
	c := &x509.Certificate{PublicKey: &key.PublicKey, PublicKeyAlgorithm: x509.ECDSA}
	return c.CheckSignature(crl.SignatureAlgorithm, crl.RawTBSRevocationList, crl.Signature)
}

// The issuingDistributionPoint encoding is the one of RFC 5280 §5.2.5, as
// OpenSSL, an independent decoder, prints it.
func TestIssuingDistributionPointOpenSSL(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl", "openssl")
	p := sharedPKI(t)
	ca := p.ElementaireOrganisations
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		idp  IssuingDistributionPoint
		want []string
	}{
		"full name, user certificates, some reasons": {
			IssuingDistributionPoint{URIs: []string{"http://crl.test/a.crl"}, DirectoryNames: [][]byte{ca.Cert.RawSubject},
				OnlyContainsUserCerts: true, OnlySomeReasons: []int{1, 2, 8}},
			[]string{"URI:http://crl.test/a.crl", "DirName:", "CN = TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
				"Only User Certificates", "Key Compromise", "CA Compromise", "AA Compromise"},
		},
		"CA certificates, indirect, attribute certificates": {
			IssuingDistributionPoint{OnlyContainsCACerts: true, IndirectCRL: true, OnlyContainsAttributeCerts: true},
			[]string{"Only CA Certificates", "Indirect CRL", "Only Attribute Certificates"},
		},
		"relative name": {
			IssuingDistributionPoint{RelativeName: mustMarshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true,
				Bytes: mustMarshal(pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "partition 7"})})},
			[]string{"Relative Name", "CN = partition 7"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			crl, err := ca.IssueCRL(CRLOptions{IssuingDistributionPoint: &tc.idp})
			require.NoError(t, err)
			if x := extension(crl, OIDIssuingDistributionPoint); assert.NotNil(t, x) {
				assert.True(t, x.Critical)
			}
			path := filepath.Join(dir, "crl.pem")
			require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw}), 0o600))
			out, err := exec.Command(openssl, "crl", "-in", path, "-noout", "-text").CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, w := range tc.want {
				assert.Contains(t, string(out), w)
			}
		})
	}
	_, err := IssuingDistributionPoint{OnlySomeReasons: []int{9}}.Marshal()
	assert.Error(t, err, "reason 9")
}
