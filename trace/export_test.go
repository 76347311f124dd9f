// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	s, err := note.NewSigner(skey)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	return s, v
}
