package baltest

import (
	"strings"
	"testing"
)

// StartOperator works without a test: the caller closes it, misuses go to
// the log.
func TestStartOperator(t *testing.T) {
	op, err := StartOperator(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	op.Deliver(CPSUser, []byte("From: a@b.mssante.fr\r\nSubject: x\r\n\r\nbonjour\r\n"))
	if msgs := op.Messages(CPSUser, "INBOX"); len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	op.Deliver("personne@ailleurs.fr", []byte("x"))
	if !strings.Contains(op.Log(), "personne@ailleurs.fr") {
		t.Errorf("the misuse is not in the log:\n%s", op.Log())
	}
}
