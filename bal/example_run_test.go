// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// TestExample runs the program of Example (lpsBAL.run, unchanged) against
// the in-process test operator, with the files the program reads written
// from the test PKI: the applicative BAL sends the report to itself, so
// that its receive loop then finds it, integrates it and answers with the
// MDN. The report ends up filed in Traites with the success DSN the
// operator returned for it, the MDN (processed, about the report's
// Message-ID) waits in the INBOX, and the signed trace log verifies, the
// send, the MDN, the DSN and both moves in it, all on the BAL's mailbox.
func TestExample(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crls, err := pki.ServeCRL() // the Trust checks the operator's chain against them
	require.NoError(t, err)
	t.Cleanup(crls.Close)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})

	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	require.NoError(t, err)
	pdf := filepath.Join(dir, "report.pdf")
	require.NoError(t, os.WriteFile(pdf, testdocs.PDF("Compte rendu", 4000), 0o600))
	skey, vkey, err := note.GenerateKey(rand.Reader, "lps")
	require.NoError(t, err)

	lps := &lpsBAL{
		Address:       baltest.ORGUser,
		Operator:      bal.Operator{SMTP: endpoint(t, op.SMTPAddr, false), IMAP: endpoint(t, op.IMAPAddr, false)},
		PKCS12:        files.ORGPKCS12,
		Password:      baltest.PKCS12Password,
		Roots:         files.Roots,
		TraceLog:      filepath.Join(dir, "trace.jsonl"),
		TraceSigner:   skey,
		TraceVerifier: vkey,
	}
	require.NoError(t, lps.run(guard(t), baltest.ORGUser, pdf))

	// Filed in Traites: the report, after the handler, and the success
	// DSN the operator returned for it (the report asked for one).
	var report *mssante.Received
	var dsns []*mssante.DSNReport
	for _, raw := range op.Messages(baltest.ORGUser, "Traites") {
		m, err := mssante.Parse(bytes.NewReader(raw), nil)
		require.NoError(t, err)
		if m.IsDocumentMessage() {
			require.Nil(t, report, "report filed twice")
			report = m
			continue
		}
		dsn, err := mssante.ParseDSN(m)
		require.NoError(t, err, "filed: %s", m.Subject)
		dsns = append(dsns, dsn)
	}
	require.NotNil(t, report, "report not filed")
	assert.Equal(t, "Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979", report.DisplaySubject())
	require.Len(t, dsns, 1)
	assert.Equal(t, report.MessageID, dsns[0].OriginalMessageID)
	require.Len(t, dsns[0].Recipients, 1)
	assert.True(t, dsns[0].Recipients[0].Delivered())

	require.NoError(t, op.WaitMessages(guard(t), baltest.ORGUser, 1))
	inbox := op.Messages(baltest.ORGUser, "INBOX")
	require.Equal(t, 1, len(inbox), "the MDN of the report, and nothing else")
	ack, err := mssante.Parse(bytes.NewReader(inbox[0]), nil)
	require.NoError(t, err)
	mdn, err := mssante.ParseMDN(ack)
	require.NoError(t, err)
	assert.True(t, mdn.Success(), "MDN %s/%s %s", mdn.ActionMode, mdn.SendingMode, mdn.Type)
	assert.Equal(t, report.MessageID, mdn.OriginalMessageID)

	verifier, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	res, err := trace.Verify(lps.TraceLog, verifier)
	require.NoError(t, err)
	assert.Positive(t, res.Records)
	done := map[trace.Action]int{} // actions traced as done
	_, err = trace.Scan(lps.TraceLog, trace.Filter{}, func(_ int64, e trace.Event) error {
		assert.Equal(t, trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}, e.Mailbox)
		if e.Response.OK {
			done[e.Action]++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, done[trace.Send], "the report sent")
	assert.Equal(t, 1, done[trace.MDNSent], "its MDN sent")
	assert.Equal(t, 1, done[trace.DSNReceived], "its DSN received")
	assert.Equal(t, 2, done[trace.Move], "the report and the DSN filed")
}
