// SPDX-License-Identifier: Apache-2.0

package outbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/bal/outbox"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// TestExample runs the program of Example (trackedBAL.send, unchanged)
// against the in-process test operator, with the files it reads written
// from the test PKI. The test plays the colleague: once the message is in
// the recipient's INBOX it answers with the MDN (processed) that the
// message asked for. send returns once the message is settled: sent, the
// recipient processed, its DSN (from the operator) and its MDN both
// matched with it. Run again with the same Ref, the program sends nothing
// more (the recipient still has one copy) and finds the same status in
// the journal; the signed trace log verifies, with the outbox's state
// changes in it.
func TestExample(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crls, err := pki.ServeCRL()
	require.NoError(t, err)
	t.Cleanup(crls.Close)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})

	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	require.NoError(t, err)
	skey, vkey, err := note.GenerateKey(rand.Reader, "lps")
	require.NoError(t, err)
	lps := &trackedBAL{
		Address:       baltest.ORGUser,
		Operator:      bal.Operator{SMTP: testEndpoint(t, op.SMTPAddr), IMAP: testEndpoint(t, op.IMAPAddr)},
		PKCS12:        files.ORGPKCS12,
		Password:      baltest.PKCS12Password,
		Roots:         files.Roots,
		TraceLog:      filepath.Join(dir, "trace.jsonl"),
		TraceSigner:   skey,
		TraceVerifier: vkey,
		Outbox:        filepath.Join(dir, "outbox"),
		Wait:          time.Minute,
	}
	message := func() *mssante.Message {
		return &mssante.Message{
			From:    mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"},
			To:      []string{baltest.CPSUser},
			Subject: "Rendez-vous de contrôle", Text: "Le contrôle est prévu le 12 janvier à 10 h.\r\n",
			Product: "DEV935997", ReadReceipt: true,
			DSN: mssante.DSN{Notify: []string{"SUCCESS", "FAILURE", "DELAY"}},
		}
	}

	// The colleague's side: read the message, answer with the MDN.
	answered := make(chan error, 1)
	go func() {
		err := func() error {
			if err := op.WaitMessages(ctx, baltest.CPSUser, 1); err != nil {
				return err
			}
			got, err := mssante.Parse(bytes.NewReader(op.Messages(baltest.CPSUser, "INBOX")[0]), nil)
			if err != nil {
				return err
			}
			ack, err := mssante.NewMDN(got, mssante.MDNOptions{
				From:    mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, Title: "Dr", GivenName: "Jean", FamilyName: "DUPONT"},
				Product: "DEV000000"})
			if err != nil {
				return err
			}
			var raw bytes.Buffer
			if _, err := ack.WriteTo(&raw); err != nil {
				return err
			}
			op.Deliver(baltest.ORGUser, raw.Bytes())
			return nil
		}()
		if err != nil {
			cancel() // send would wait for an MDN that will not come
		}
		answered <- err
	}()

	st, err := lps.send(ctx, message(), "rdv-2027-0112")
	require.NoError(t, <-answered, "the colleague's MDN")
	require.NoError(t, err, "%s", op.Log())
	check := func(st *outbox.Status) {
		t.Helper()
		assert.Equal(t, outbox.PhaseSent, st.Phase)
		assert.True(t, st.Settled(), "settled")
		require.Len(t, st.Recipients, 1)
		rc := st.Recipients[0]
		assert.Equal(t, baltest.CPSUser, rc.Address)
		assert.Equal(t, outbox.Processed, rc.State, "%+v", rc)
		assert.Equal(t, 2, rc.Reports, "its DSN and its MDN")
		assert.False(t, rc.Answered.IsZero(), "DSN time")
		assert.False(t, rc.Read.IsZero(), "MDN time")
		assert.Empty(t, rc.Reason)
	}
	check(st)

	// Again with the same Ref, as after a crash: nothing queued nor sent
	// again, the same message found settled in the journal.
	again, err := lps.send(ctx, message(), "rdv-2027-0112")
	require.NoError(t, err)
	assert.Equal(t, st.MessageID, again.MessageID)
	check(again)
	assert.Len(t, op.Messages(baltest.CPSUser, "INBOX"), 1, "the colleague got the message once")

	verifier, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	_, err = trace.Verify(lps.TraceLog, verifier)
	require.NoError(t, err)
	done := map[trace.Action]int{}
	_, err = trace.Scan(lps.TraceLog, trace.Filter{}, func(_ int64, e trace.Event) error {
		if e.Response.OK {
			done[e.Action]++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, done[trace.Send], "sent once")
	assert.Equal(t, 1, done[outbox.ActionQueued], "queued once")
	assert.Equal(t, 1, done[outbox.ActionResult], "one attempt, accepted")
	assert.Equal(t, 2, done[outbox.ActionDelivery], "the DSN and the MDN reconciled")
	assert.Zero(t, done[outbox.ActionUnmatched])
}

func testEndpoint(t *testing.T, addr string) bal.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return bal.Endpoint{Host: host, Port: p}
}
