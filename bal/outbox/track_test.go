// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// realDSN parses a DSN written by a real Postfix 3.7 (testdata/dsn).
func realDSN(t *testing.T, name string) *mssante.Received {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "dsn", name))
	require.NoError(t, err)
	defer f.Close()
	m, err := mssante.Parse(f, nil)
	require.NoError(t, err)
	return m
}

// enqueueRaw queues a pre-built message with the given Message-ID and
// ENVID, as the messages the real DSNs of testdata/dsn answer were sent.
func enqueueRaw(t *testing.T, o *Outbox, id, envid string, rcpts ...string) {
	t.Helper()
	raw := []byte("From: dr.martin@hopital.test.mssante.fr\r\nMessage-ID: " + id + "\r\nSubject: test\r\n\r\nCorps.\r\n")
	env := mssante.Envelope{From: "dr.martin@hopital.test.mssante.fr", Recipients: rcpts,
		DSN: mssante.DSN{Notify: []string{"SUCCESS", "FAILURE", "DELAY"}, Return: "HDRS", EnvelopeID: envid}}
	_, err := o.EnqueueRaw(context.Background(), env, id, raw, EnqueueOptions{})
	require.NoError(t, err)
}

// Real Postfix DSNs reconciled with their messages: by ENVID when the
// message was sent with one, by the Original-Message-ID of the returned
// header otherwise; each recipient's state and reason from its block.
func TestRealPostfixDSNs(t *testing.T) {
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, &events{}, nil)
	enqueueRaw(t, o, "<20261124.1@hopital.test.mssante.fr>", "MSS-20261124-0001", "medecin.traitant@cabinet.test.mssante.fr")
	enqueueRaw(t, o, "<20261124.2@hopital.test.mssante.fr>", "", "dr.inconnu@cabinet.test.mssante.fr")
	enqueueRaw(t, o, "<20261124.3@hopital.test.mssante.fr>", "MSS-20261124-0003", "medecin.traitant@cabinet.test.mssante.fr", "dr.inconnu@cabinet.test.mssante.fr")
	enqueueRaw(t, o, "<20261124.4@hopital.test.mssante.fr>", "MSS-20261124-0004", "dr.absent@injoignable.test.mssante.fr")
	runUntil(t, o, func() bool { return len(o.List(Filter{Phases: []Phase{PhaseSent}})) == 4 })

	for _, f := range []string{"success-relayed.eml", "failure-unknown-user.eml", "mixed-two-recipients-success.eml",
		"mixed-two-recipients-failure.eml", "delay.eml"} {
		require.NoError(t, o.HandleReport(context.Background(), realDSN(t, f)), f)
	}
	check := func(id, rcpt string, want State, reason string) *Recipient {
		t.Helper()
		st, ok := o.Status(id)
		require.True(t, ok, id)
		rc, ok := st.Recipient(rcpt)
		require.True(t, ok, rcpt)
		assert.Equal(t, want, rc.State, "%s %s", id, rcpt)
		assert.Contains(t, rc.Reason, reason, "%s %s", id, rcpt)
		return rc
	}
	check("<20261124.1@hopital.test.mssante.fr>", "medecin.traitant@cabinet.test.mssante.fr", Relayed, "")
	rc := check("<20261124.2@hopital.test.mssante.fr>", "dr.inconnu@cabinet.test.mssante.fr", Failed, "adresse du destinataire inconnue")
	assert.Contains(t, rc.Detail, "5.1.1")
	check("<20261124.3@hopital.test.mssante.fr>", "medecin.traitant@cabinet.test.mssante.fr", Relayed, "")
	check("<20261124.3@hopital.test.mssante.fr>", "dr.inconnu@cabinet.test.mssante.fr", Failed, "inconnue")
	rc = check("<20261124.4@hopital.test.mssante.fr>", "dr.absent@injoignable.test.mssante.fr", Submitted, "retardée")
	assert.True(t, rc.Delayed)

	// The expiry that follows the delay fails it.
	require.NoError(t, o.HandleReport(context.Background(), realDSN(t, "failure-expired.eml")))
	rc = check("<20261124.4@hopital.test.mssante.fr>", "dr.absent@injoignable.test.mssante.fr", Failed, "Non distribué")
	assert.False(t, rc.Delayed)

	fails := o.FailuresSince(time.Time{})
	assert.Len(t, fails, 3)
	// The same DSN again (the loop delivers at least once): counted once.
	require.NoError(t, o.HandleReport(context.Background(), realDSN(t, "success-relayed.eml")))
	st, _ := o.Status("<20261124.1@hopital.test.mssante.fr>")
	r1, _ := st.Recipient("medecin.traitant@cabinet.test.mssante.fr")
	assert.Equal(t, 1, r1.Reports)
	assert.Equal(t, 1, r1.Copies)
	assert.Empty(t, o.Unmatched())
}

// A report about no message of the outbox is kept, listed, traced and
// survives a reopen; one that cannot be read is kept with its problem.
func TestUnmatchedReportsKept(t *testing.T) {
	dir := t.TempDir()
	tr := &events{}
	o := newTestOutbox(t, dir, &fakeServer{}, tr, nil)
	require.NoError(t, o.HandleReport(context.Background(), realDSN(t, "success-expanded-alias.eml")))
	broken := dsn(t, "<broken@mta>", "", "<x@y>") // no recipient block
	require.NoError(t, o.HandleReport(context.Background(), broken))
	u := o.Unmatched()
	require.Len(t, u, 2)
	assert.Equal(t, "MSS-20261124-0006", u[0].Report.EnvelopeID)
	assert.Equal(t, "<20261124.6@hopital.test.mssante.fr>", u[0].Report.OriginalMessageID)
	assert.Contains(t, u[1].Report.Problem, "unreadable DSN")
	assert.Len(t, tr.of(ActionUnmatched, ""), 2)
	require.NoError(t, o.Close())
	o2 := newTestOutbox(t, dir, &fakeServer{}, &events{}, nil)
	assert.Equal(t, u, o2.Unmatched())
	// Seen: given again after the reopen, not kept twice.
	require.NoError(t, o2.HandleReport(context.Background(), realDSN(t, "success-expanded-alias.eml")))
	assert.Len(t, o2.Unmatched(), 2)
}

// An MDN with an integration error fails the recipient with the error's
// label; a displayed MDN moves it to displayed; MDNs are matched by their
// Original-Message-ID (no ENVID in an MDN).
func TestMDNReconciled(t *testing.T) {
	srv := &fakeServer{}
	o := newTestOutbox(t, t.TempDir(), srv, &events{}, nil)
	m := message(rcptA, rcptB)
	m.ReadReceipt = true
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	raw := srv.calls()[0].raw
	require.NoError(t, o.HandleReport(context.Background(), mdn(t, raw, rcptA, 902)))
	require.NoError(t, o.HandleReport(context.Background(), mdn(t, raw, rcptB, 0)))
	st, _ := o.Status(m.MessageID)
	ra, _ := st.Recipient(rcptA)
	assert.Equal(t, Failed, ra.State)
	assert.Contains(t, ra.Reason, "902")
	assert.Contains(t, ra.Reason, "Identifiant patient inconnu")
	rb, _ := st.Recipient(rcptB)
	assert.Equal(t, Processed, rb.State)
	assert.Equal(t, PhaseSent, st.Phase, "accepted by the server, failed at integration for one")
	// Nothing awaited any more for either.
	aw := o.Awaiting(time.Now().Add(365 * 24 * time.Hour))
	assert.Empty(t, aw)
}

// "No answer yet": a recipient submitted without DSN past NoAnswerAfter,
// one relayed without the MDN past NoReadAfter.
func TestAwaiting(t *testing.T) {
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, &events{}, func(c *Config) {
		c.Now = func() time.Time { return clock }
		c.NoAnswerAfter, c.NoReadAfter = time.Hour, 24*time.Hour
	})
	m := message(rcptA, rcptB)
	m.ReadReceipt = true
	_, err := o.Enqueue(context.Background(), m, EnqueueOptions{})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, m.MessageID, PhaseSent))
	st, _ := o.Status(m.MessageID)
	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<d@mta>", st.DSN.EnvelopeID, "", rcptB+" relayed 2.0.0")))
	assert.Empty(t, o.Awaiting(clock.Add(30*time.Minute)))
	aw := o.Awaiting(clock.Add(2 * time.Hour))
	require.Len(t, aw, 1)
	assert.Equal(t, []string{rcptA}, aw[0].NoAnswer)
	assert.Empty(t, aw[0].NoRead)
	aw = o.Awaiting(clock.Add(25 * time.Hour))
	require.Len(t, aw, 1)
	assert.Equal(t, []string{rcptB}, aw[0].NoRead, "relayed a day ago, no read receipt")
}

// Mon espace santé bounces are classified into the four causes, from the
// DSN status or the server's words, for patient addresses only.
func TestMonEspaceSanteBounces(t *testing.T) {
	const pat = "279035121518989@patient.mssante.fr"
	cases := []struct {
		status, diag string
		want         Bounce
	}{
		{"5.2.1", "550 5.2.1 mailbox disabled", BounceClosed},
		{"5.0.0", "550 Messagerie fermée par l'usager", BounceClosed},
		{"5.1.1", "550 5.1.1 user unknown", BouncePatientUnknown},
		{"5.0.0", "550 patient introuvable", BouncePatientUnknown},
		{"5.1.3", "501 5.1.3 bad address syntax", BounceInvalidAddress},
		{"5.3.4", "552 5.3.4 message size exceeds fixed limit", BounceTooLarge},
		{"5.2.3", "", BounceTooLarge},
		{"5.0.0", "554 rejected", BounceNone},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ClassifyBounce(pat, c.status, c.diag), "%s %s", c.status, c.diag)
		assert.Equal(t, BounceNone, ClassifyBounce(rcptA, c.status, c.diag), "professional %s", c.status)
	}
	// Through a DSN about a message sent to a patient.
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, &events{}, nil)
	enqueueRaw(t, o, "<mes@h>", "mes-1", pat)
	runUntil(t, o, phaseIs(o, "<mes@h>", PhaseSent))
	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<bounce@mes>", "mes-1", "", pat+" failed 5.2.1 550 5.2.1 mailbox disabled")))
	st, _ := o.Status("<mes@h>")
	rc, _ := st.Recipient(pat)
	assert.Equal(t, Failed, rc.State)
	assert.Equal(t, BounceClosed, rc.Bounce)
	assert.Contains(t, rc.Reason, "Mon espace santé du patient est fermée")
}

// A DSN that names a recipient in two blocks (one per copy delivered, or
// a relay that repeats itself) is one report for it: Reports and Copies
// count reports, not blocks; each block still moves its state.
func TestReportNamingRecipientTwice(t *testing.T) {
	o := newTestOutbox(t, t.TempDir(), &fakeServer{}, &events{}, nil)
	const rcpt = "medecin.traitant@cabinet.test.mssante.fr"
	enqueueRaw(t, o, "<twice.1@hopital.test.mssante.fr>", "TWICE-1", rcpt)
	runUntil(t, o, func() bool { return len(o.List(Filter{Phases: []Phase{PhaseSent}})) == 1 })
	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<r1@mta.test.mssante.fr>", "TWICE-1", "",
		rcpt+" relayed 2.0.0 x", rcpt+" delivered 2.0.0 x")))
	st, _ := o.Status("<twice.1@hopital.test.mssante.fr>")
	rc, ok := st.Recipient(rcpt)
	require.True(t, ok)
	assert.Equal(t, 1, rc.Reports)
	assert.Equal(t, 1, rc.Copies)
	assert.Equal(t, Delivered, rc.State, "the second block moved it on")
	// A second DSN (another report): counted.
	require.NoError(t, o.HandleReport(context.Background(), dsn(t, "<r2@mta.test.mssante.fr>", "TWICE-1", "",
		rcpt+" delivered 2.0.0 x")))
	st, _ = o.Status("<twice.1@hopital.test.mssante.fr>")
	rc, _ = st.Recipient(rcpt)
	assert.Equal(t, 2, rc.Reports)
	assert.Equal(t, 2, rc.Copies, "two success reports: two copies")
}
