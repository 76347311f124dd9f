// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/examples/internal/exampletest"
	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/require"
)

// TestSendWithCPS sends from the personal BAL of a CPS holder whose card
// is a SoftHSM2 token (PKCS#11, the private key never leaves the token),
// in both signature modes; a wrong PIN stops the program before anything
// is sent.
func TestSendWithCPS(t *testing.T) {
	e := exampletest.New(t)
	tk := baltest.NewSoftHSMToken(t, "", "", e.PKI.CPS.TLSCertificate())
	base := append(reportArgs(t, baltest.CPSUser, baltest.ORGUser), "-smtp", e.Op.SMTPAddr)
	base = append(base, e.Args()...)
	var chain []byte
	for _, c := range e.PKI.CPS.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	chainFile := e.Path("chain.pem")
	require.NoError(t, os.WriteFile(chainFile, chain, 0o600))
	base = append(base, "-pkcs11", tk.ModulePath, "-token-label", tk.TokenLabel, "-pin-env", "TEST_CPS_PIN", "-chain", chainFile)

	t.Setenv("TEST_CPS_PIN", "0000")
	var stdout, stderr bytes.Buffer
	if code := run(base, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "PIN incorrect") {
		t.Fatalf("wrong PIN: exit %d, want 1 naming the PIN\n%s%s", code, stdout.String(), stderr.String())
	}
	if n := len(e.Op.Messages(baltest.ORGUser, "INBOX")); n != 0 {
		t.Fatalf("%d messages sent with a wrong PIN", n)
	}

	t.Setenv("TEST_CPS_PIN", tk.PIN)
	for i, mode := range []string{"tls13-pss", "tls12-pkcs1"} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append(base, "-cps-mode", mode), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s\n%s", mode, code, stdout.String(), stderr.String(), e.Op.Log())
		}
		t.Log(stdout.String())
		if got := len(e.Op.Messages(baltest.ORGUser, "INBOX")); got != i+1 {
			t.Fatalf("%s: %d messages in the INBOX, want %d", mode, got, i+1)
		}
	}
	m, evs := received(t, e, baltest.ORGUser)
	// the personal BAL is labelled with the names the card carries
	if m.From == nil || m.From.Address != baltest.CPSUser || !strings.Contains(m.From.Name, "DUPONT") {
		t.Errorf("received from %+v", m.From)
	}
	if !sentBy(evs, trace.AuthCPS) {
		t.Errorf("no successful send traced with the CPS: %+v", evs)
	}

	stderr.Reset()
	if code := run(append(base, "-cps-mode", "tls11"), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "-cps-mode") {
		t.Errorf("unknown mode: exit %d: %s", code, stderr.String())
	}
}
