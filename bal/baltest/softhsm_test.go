// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSoftHSMToken(t *testing.T) {
	p := sharedPKI(t)
	tk := NewSoftHSMToken(t, "", "", p.CPS.TLSCertificate())
	assert.Equal(t, tk.ConfPath, os.Getenv(SoftHSMConfEnv), SoftHSMConfEnv)
	tool, err := exec.LookPath("pkcs11-tool")
	require.NoError(t, err)
	pkcs11 := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--module", tk.ModulePath, "--token-label", tk.TokenLabel, "--login", "--pin", tk.PIN}, args...)
		out, err := exec.Command(tool, args...).CombinedOutput()
		require.NoError(t, err, "pkcs11-tool %s\n%s", strings.Join(args, " "), out)
		return out
	}

	list := string(pkcs11("--list-objects"))
	for _, want := range []string{"Certificate Object; type = X.509 cert", "Private Key Object; RSA", "label:      auth", "ID:         01", "CN=810002813839"} {
		assert.Contains(t, list, want, "--list-objects")
	}

	dir := t.TempDir()
	certOut := filepath.Join(dir, "cert.der")
	pkcs11("--read-object", "--type", "cert", "--id", "01", "--output-file", certOut)
	der, err := os.ReadFile(certOut)
	require.NoError(t, err)
	assert.Equal(t, p.CPS.Cert.Raw, der, "certificate read back from the token differs from the CPS certificate")

	// The token signs with the CPS key, in both schemes TLS needs:
	// PKCS#1 v1.5 (TLS 1.2 with a card without PSS) and PSS (TLS 1.3).
	data := filepath.Join(dir, "data")
	require.NoError(t, os.WriteFile(data, []byte("à signer"), 0o600))
	digest := sha256.Sum256([]byte("à signer"))
	pub := p.CPS.Key.Public().(*rsa.PublicKey)
	for _, mech := range []string{"SHA256-RSA-PKCS", "SHA256-RSA-PKCS-PSS"} {
		sig := filepath.Join(dir, mech)
		args := []string{"--sign", "--mechanism", mech, "--id", "01", "--input-file", data, "--output-file", sig}
		pkcs11(args...)
		s, err := os.ReadFile(sig)
		require.NoError(t, err)
		if strings.HasSuffix(mech, "PSS") {
			err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], s, nil)
		} else {
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s)
		}
		assert.NoError(t, err, "%s signature by the token does not verify with the CPS public key", mech)
	}
	assert.NotZero(t, tk.Slot, "slot not reported")
}
