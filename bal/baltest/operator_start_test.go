// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// StartOperator works without a test: the caller closes it, misuses go to
// the log.
func TestStartOperator(t *testing.T) {
	op, err := StartOperator(nil)
	require.NoError(t, err)
	defer op.Close()
	op.Deliver(CPSUser, []byte("From: a@b.mssante.fr\r\nSubject: x\r\n\r\nbonjour\r\n"))
	require.Len(t, op.Messages(CPSUser, "INBOX"), 1, "messages")
	op.Deliver("personne@ailleurs.fr", []byte("x"))
	assert.Contains(t, op.Log(), "personne@ailleurs.fr", "the misuse is not in the log")
}
