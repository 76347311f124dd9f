// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// SoftHSMConfEnv is the environment variable SoftHSM2 reads its
// configuration file from. It must be set in the process that loads the
// PKCS#11 module, before the module is initialised.
const SoftHSMConfEnv = "SOFTHSM2_CONF"

// SoftHSMModule is where Debian's libsofthsm2 package installs the PKCS#11
// module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// Token is a SoftHSM2 token standing for a CPS card: it holds one private
// key and its certificate under the same ID and label, as a card holds its
// authentication key.
type Token struct {
	// ModulePath is the PKCS#11 module to load (SoftHSMModule).
	ModulePath string
	// ConfPath is the SoftHSM2 configuration file; SoftHSMConfEnv must
	// name it (NewSoftHSMToken sets it for the test).
	ConfPath string
	// TokenLabel, PIN and SOPIN are the token's label, user PIN and
	// security officer PIN.
	TokenLabel, PIN, SOPIN string
	// Slot is the slot ID SoftHSM assigned to the token.
	Slot uint
	// KeyID and KeyLabel are the CKA_ID and CKA_LABEL of the private key
	// and of the certificate.
	KeyID    []byte
	KeyLabel string
	// Cert is the certificate stored on the token.
	Cert *x509.Certificate
}

// Env returns the environment entry the PKCS#11 module needs, for a child
// process: "SOFTHSM2_CONF=<ConfPath>".
func (tk *Token) Env() string { return SoftHSMConfEnv + "=" + tk.ConfPath }

// NewSoftHSMToken creates a SoftHSM2 token in a temporary directory,
// labelled label (empty: "CPS") with user PIN pin (empty: "1234"), and
// stores cert's private key (imported with softhsm2-util) and leaf
// certificate (written with opensc's pkcs11-tool) under ID 01 and label
// "auth". The chain is not stored: take it from the PKI.
//
// It sets SOFTHSM2_CONF for the rest of the test with t.Setenv, so the test
// must not be parallel, and only the last token created in a test is
// visible through the module. It skips the test (fails under
// MSS_REQUIRE=all) when softhsm2 or opensc is missing.
func NewSoftHSMToken(t testing.TB, label, pin string, cert tls.Certificate) *Token {
	t.Helper()
	util := findBinary(t, "softhsm2", "softhsm2-util", "/usr/bin/softhsm2-util")
	tool := findBinary(t, "opensc", "pkcs11-tool", "/usr/bin/pkcs11-tool")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		testenv.Missing(t, "softhsm2", err.Error())
	}
	if label == "" {
		label = "CPS"
	}
	if pin == "" {
		pin = "1234"
	}
	tk, err := newSoftHSMToken(t.TempDir(), util, tool, label, pin, cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(SoftHSMConfEnv, tk.ConfPath)
	return tk
}

var reassignedSlot = regexp.MustCompile(`reassigned to slot (\d+)`)

func newSoftHSMToken(dir, util, tool, label, pin string, cert tls.Certificate) (*Token, error) {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, fmt.Errorf("baltest: SoftHSM token %s: the certificate has no leaf or no private key", label)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("baltest: SoftHSM token %s: %w", label, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("baltest: SoftHSM token %s: the key cannot be exported (%w); a key already in a token cannot be copied", label, err)
	}
	tk := &Token{
		ModulePath: SoftHSMModule,
		ConfPath:   filepath.Join(dir, "softhsm2.conf"),
		TokenLabel: label,
		PIN:        pin,
		SOPIN:      "12345678",
		KeyID:      []byte{1},
		KeyLabel:   "auth",
		Cert:       leaf,
	}
	conf := "directories.tokendir = " + filepath.Join(dir, "tokens") + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	keyPath, certPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.der")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{tk.ConfPath, []byte(conf)},
		{keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{certPath, leaf.Raw},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("baltest: %w", err)
		}
	}
	defer os.Remove(keyPath)
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		return nil, fmt.Errorf("baltest: %w", err)
	}

	ctx, env := context.Background(), []string{tk.Env()}
	out, err := run(ctx, env, util, "--init-token", "--free", "--label", label, "--so-pin", tk.SOPIN, "--pin", pin)
	if err != nil {
		return nil, fmt.Errorf("baltest: SoftHSM: %w", err)
	}
	m := reassignedSlot.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("baltest: SoftHSM: no slot number in %q", out)
	}
	slot, _ := strconv.ParseUint(string(m[1]), 10, 0)
	tk.Slot = uint(slot)
	id := fmt.Sprintf("%x", tk.KeyID)
	if _, err := run(ctx, env, util, "--import", keyPath, "--token", label, "--label", tk.KeyLabel, "--id", id, "--pin", pin); err != nil {
		return nil, fmt.Errorf("baltest: SoftHSM: %w", err)
	}
	if _, err := run(ctx, env, tool, "--module", tk.ModulePath, "--token-label", label, "--login", "--pin", pin,
		"--write-object", certPath, "--type", "cert", "--id", id, "--label", tk.KeyLabel); err != nil {
		return nil, fmt.Errorf("baltest: SoftHSM: %w", err)
	}
	return tk, nil
}
