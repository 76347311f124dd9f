// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/sha1"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/internal/testenv"
)

// TestPKCS12Encryptions reads back the files of both encryption choices,
// modern (PBES2/AES-256-CBC, HMAC-SHA256) and legacy (3DES, HMAC-SHA1),
// with the two readers that matter: bal.NewCertificateFromPKCS12, the
// SDK's own reader, and `openssl pkcs12 -info`, which also names the
// algorithms actually used. OpenSSL 3 reads 3DES-encrypted files without
// -legacy (3DES is in its default provider; only RC2 needs -legacy), so the
// legacy file is read without it.
func TestPKCS12Encryptions(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl", "openssl")
	p := sharedPKI(t)
	const password = "mot de passe p12"
	for _, tc := range []struct {
		name   string
		encode func(*Leaf, string) ([]byte, error)
		// lines openssl -info prints for the MAC, the certificates and the key
		info []string
	}{
		{"modern", (*Leaf).PKCS12, []string{
			"MAC: sha256, Iteration 2048",
			"PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
			"Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
		}},
		{"legacy", (*Leaf).PKCS12Legacy, []string{
			"MAC: sha1, Iteration 1",
			"PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
			"Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pfx, err := tc.encode(p.ORG, password)
			require.NoError(t, err)

			c, err := bal.NewCertificateFromPKCS12(pfx, password)
			require.NoError(t, err)
			assert.Equal(t, [][]byte{p.ORG.Cert.Raw, p.ElementaireOrganisations.Cert.Raw}, c.Cert.Certificate, "leaf then intermediate")
			assert.True(t, p.ORG.Key.Equal(c.Cert.PrivateKey), "private key differs")
			_, err = bal.NewCertificateFromPKCS12(pfx, "faux")
			require.ErrorIs(t, err, pkcs12.ErrIncorrectPassword)

			path := filepath.Join(t.TempDir(), tc.name+".p12")
			require.NoError(t, os.WriteFile(path, pfx, 0o600))
			out, err := exec.Command(openssl, "pkcs12", "-info", "-noout", "-in", path, "-passin", "pass:"+password).CombinedOutput()
			require.NoError(t, err, "openssl pkcs12 -info:\n%s", out)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			for _, want := range tc.info {
				assert.Contains(t, lines, want, "openssl -info output")
			}
			assert.Equal(t, 2, strings.Count(string(out), "Certificate bag"), "certificate bags:\n%s", out)

			out, err = exec.Command(openssl, "pkcs12", "-info", "-noout", "-in", path, "-passin", "pass:faux").CombinedOutput()
			require.Error(t, err, "openssl accepted a wrong password")
			assert.Contains(t, string(out), "Mac verify error")
		})
	}
}

// localKeyID is the localKeyID attribute OpenSSL prints for the bags of
// leaf: the SHA-1 of the certificate, as uppercase hex bytes.
func localKeyID(l *Leaf) string {
	sum := sha1.Sum(l.Cert.Raw)
	var b strings.Builder
	for _, c := range sum {
		fmt.Fprintf(&b, "%02X ", c)
	}
	return "localKeyID: " + strings.TrimSpace(b.String())
}
