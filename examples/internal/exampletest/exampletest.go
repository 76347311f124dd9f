// SPDX-License-Identifier: Apache-2.0

// Package exampletest starts what the tests of the example programs need
// to run them against the embedded test operator: a test PKI with its
// CRLs served, the operator, and the files the programs read — roots.pem,
// org.p12 (the ORG certificate, its password in $TEST_P12_PASSWORD),
// signer.key and verifier.key for the signed trace log. It is internal to
// the examples' tests.
package exampletest

import (
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// PasswordEnv is the environment variable holding org.p12's password.
const PasswordEnv = "TEST_P12_PASSWORD"

// Env is a running operator and the files of its clients.
type Env struct {
	Op  *baltest.Operator
	PKI *baltest.PKI
	// Dir holds roots.pem, org.p12, signer.key, verifier.key and the
	// trace log trace.jsonl the programs write.
	Dir      string
	Verifier note.Verifier
}

// New starts the operator with baltest.DefaultUsers plus users. It sets
// PasswordEnv for the rest of the test (so the test must not be parallel).
func New(t *testing.T, users ...baltest.MailUser) *Env {
	t.Helper()
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crls.Close() })
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki, Users: append(baltest.DefaultUsers(pki), users...)})

	var roots []byte
	for _, ca := range []*baltest.CA{pki.RootFort, pki.RootElementaire} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...)
	}
	p12, err := pki.ORG.PKCS12("secret")
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "gomss-example-test")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Op: op, PKI: pki, Dir: t.TempDir(), Verifier: v}
	for name, data := range map[string]string{"roots.pem": string(roots), "org.p12": string(p12), "signer.key": skey, "verifier.key": vkey} {
		if err := os.WriteFile(e.Path(name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(PasswordEnv, "secret")
	return e
}

// Path is the path of a file of Dir.
func (e *Env) Path(name string) string { return filepath.Join(e.Dir, name) }

// Args are the trust and trace flags every sending program takes.
func (e *Env) Args() []string {
	return []string{"-roots", e.Path("roots.pem"), "-trace", e.Path("trace.jsonl"),
		"-trace-signer", e.Path("signer.key"), "-trace-verifier", e.Path("verifier.key")}
}

// P12Args are the flags of the ORG software certificate.
func (e *Env) P12Args() []string {
	return []string{"-p12", e.Path("org.p12"), "-p12-password-env", PasswordEnv}
}

// Trace verifies the trace log the program wrote (it must hold at least
// one record) and returns its events.
func (e *Env) Trace(t *testing.T) []trace.Event {
	t.Helper()
	path := e.Path("trace.jsonl")
	res, err := trace.Verify(path, e.Verifier)
	if err != nil || res.Records == 0 {
		t.Fatalf("trace log: %+v, %v", res, err)
	}
	var evs []trace.Event
	if _, err := trace.Scan(path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}
