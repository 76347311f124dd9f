package trace

import (
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// ChainHashForTest exposes the chain hash to the tests of package
// trace_test (mutation tests rebuild a chain as an attacker would).
func ChainHashForTest(line []byte) string { return lineHash(line) }

// KeysForTest returns a new checkpoint signer and its verifier, for the
// tests of package trace and of package trace_test.
func KeysForTest(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "gomss-test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}
