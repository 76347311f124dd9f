// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// sampleRecords is a small history: two messages queued with their
// bodies, an attempt, results, a report.
func sampleRecords() []*Record {
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	q := func(id string, body string, rcpt ...string) *Record {
		return &Record{Kind: KindQueued, Time: t0, MessageID: id, Body: []byte(body),
			Queued: &QueuedInfo{From: "lps@hopital.test.mssante.fr", Recipients: rcpt, Size: int64(len(body)),
				DSN: mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, EnvelopeID: id[1 : len(id)-1]}}}
	}
	return []*Record{
		q("<a@h>", "Message-ID: <a@h>\r\n\r\nPremier message, corps de test.\r\n", rcptA),
		q("<b@h>", "Message-ID: <b@h>\r\n\r\nSecond message, un peu plus long pour varier les tailles.\r\n", rcptA, rcptB),
		{Kind: KindAttempt, Time: t0.Add(time.Second), Attempt: &AttemptInfo{Messages: []AttemptMessage{
			{MessageID: "<a@h>", Recipients: []string{rcptA}}, {MessageID: "<b@h>", Recipients: []string{rcptA, rcptB}}}}},
		{Kind: KindResult, Time: t0.Add(2 * time.Second), MessageID: "<a@h>", Result: &Result{Outcome: Accepted, Counted: true,
			Recipients: []RecipientResult{{Address: rcptA, Accepted: true}}, Reply: "2.0.0 Ok"}},
		{Kind: KindResult, Time: t0.Add(3 * time.Second), MessageID: "<b@h>", Result: &Result{Outcome: AcceptanceUnknown, Counted: true,
			Recipients: []RecipientResult{{Address: rcptA, Accepted: true}, {Address: rcptB, Accepted: true}}, Next: t0.Add(time.Hour)}},
		{Kind: KindReport, Time: t0.Add(4 * time.Second), Report: &Report{ID: "<r@mta>", Kind: ReportDSN, MessageID: "<b@h>",
			MatchedBy: "Original-Envelope-Id", Recipients: []ReportRecipient{{Address: rcptB, Action: "relayed", Status: "2.0.0"}}}},
	}
}

func writeJournal(t *testing.T, dir string, recs []*Record) []byte {
	t.Helper()
	j, err := OpenJournal(dir, &JournalOptions{NoSync: true})
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, j.Append(context.Background(), r))
	}
	require.NoError(t, j.Close())
	b, err := os.ReadFile(filepath.Join(dir, journalName))
	require.NoError(t, err)
	return b
}

func loadAll(t *testing.T, j *Journal) []string {
	t.Helper()
	out := []string{}
	require.NoError(t, j.Load(context.Background(), func(r *Record) error {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		out = append(out, string(b))
		return nil
	}))
	return out
}

// A journal cut at any byte (a crash in the middle of a write, the file
// system keeping any prefix of it) opens with exactly the records whose
// frames are whole, their bodies intact, and takes new records after
// them: nothing invented, nothing complete lost, nothing left half.
func TestJournalCutAtEveryOffset(t *testing.T) {
	recs := sampleRecords()
	full := writeJournal(t, t.TempDir(), recs)
	// Where each frame ends.
	var ends []int
	off := len(journalMagic)
	var want []string
	for _, r := range recs {
		var buf bytes.Buffer
		require.NoError(t, encodeFrame(&buf, r))
		off += buf.Len()
		ends = append(ends, off)
		b, _ := json.Marshal(r)
		want = append(want, string(b))
	}
	require.Equal(t, len(full), off)
	extra := &Record{Kind: KindReport, Time: time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC), Report: &Report{ID: "<late@mta>", Kind: ReportMDN}}
	extraJSON, _ := json.Marshal(extra)
	dir := t.TempDir()
	for cut := 0; cut <= len(full); cut++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, journalName), full[:cut], 0o600))
		j, err := OpenJournal(dir, &JournalOptions{NoSync: true})
		require.NoError(t, err, "cut at %d", cut)
		n := 0
		for n < len(ends) && ends[n] <= cut {
			n++
		}
		got := loadAll(t, j)
		require.Equal(t, want[:n], got, "cut at %d", cut)
		for i, r := range recs[:n] {
			if len(r.Body) > 0 {
				b, err := j.Body(context.Background(), r.MessageID)
				require.NoError(t, err, "cut at %d, record %d", cut, i)
				require.Equal(t, r.Body, b, "cut at %d", cut)
			}
		}
		// The torn tail is gone: a new record follows the last whole one.
		require.NoError(t, j.Append(context.Background(), extra))
		require.NoError(t, j.Close())
		j, err = OpenJournal(dir, &JournalOptions{NoSync: true})
		require.NoError(t, err, "reopen after cut at %d", cut)
		require.Equal(t, append(append([]string{}, want[:n]...), string(extraJSON)), loadAll(t, j), "reopen after cut at %d", cut)
		require.NoError(t, j.Close())
	}
}

// The outbox state from a cut journal is the state of its whole records:
// replayed, a cut never makes a message vanish once its queued record is
// whole, and a cut attempt makes it acceptance unknown.
func TestOutboxFromCutJournal(t *testing.T) {
	recs := sampleRecords()
	full := writeJournal(t, t.TempDir(), recs)
	var buf bytes.Buffer
	for _, r := range recs[:3] { // two queued, one attempt
		require.NoError(t, encodeFrame(&buf, r))
	}
	cut := len(journalMagic) + buf.Len() + 5 // in the middle of the first result
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, journalName), full[:cut], 0o600))
	o := newTestOutbox(t, dir, &fakeServer{}, &events{}, nil)
	for _, id := range []string{"<a@h>", "<b@h>"} {
		st, ok := o.Status(id)
		require.True(t, ok, id)
		assert.Equal(t, PhaseUnknown, st.Phase, "%s: attempted, no result", id)
	}
}

// Damage that is not a crash's (a frame broken with whole frames after
// it) is refused, unless the operator asks for the repair.
func TestJournalDamageRefused(t *testing.T) {
	recs := sampleRecords()
	dir := t.TempDir()
	full := writeJournal(t, dir, recs)
	bad := bytes.Clone(full)
	bad[len(journalMagic)+frameHeader+3] ^= 0x20 // inside the first record's JSON
	require.NoError(t, os.WriteFile(filepath.Join(dir, journalName), bad, 0o600))
	_, err := OpenJournal(dir, &JournalOptions{NoSync: true})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "intact frames after it")

	j, err := OpenJournal(dir, &JournalOptions{NoSync: true, Repair: true})
	require.NoError(t, err)
	assert.Empty(t, loadAll(t, j), "cut before the damage")
	require.NoError(t, j.Close())

	// Not a journal at all.
	require.NoError(t, os.WriteFile(filepath.Join(dir, journalName), []byte("From: someone\r\n\r\nhello, not a journal at all\r\n"), 0o600))
	_, err = OpenJournal(dir, nil)
	require.ErrorIs(t, err, ErrCorrupt)
}

// One process at a time: a second open is refused while the first holds
// the journal, allowed once it is closed.
func TestJournalLocked(t *testing.T) {
	if !lockingSupported {
		t.Skip("no file locking on this system")
	}
	dir := t.TempDir()
	j, err := OpenJournal(dir, nil)
	require.NoError(t, err)
	_, err = OpenJournal(dir, nil)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, j.Close())
	j, err = OpenJournal(dir, nil)
	require.NoError(t, err)
	require.NoError(t, j.Close())
}

// Compaction keeps the state and the bodies of the messages still to be
// sent, drops settled messages past Keep, and a compaction cut by a crash
// (its new file left unrenamed) changes nothing.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	srv := &fakeServer{}
	clock := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	tune := func(c *Config) { c.Now = now; c.Keep = 24 * time.Hour; c.CompactAfter = 1000 }
	o := newTestOutbox(t, dir, srv, &events{}, tune)
	old := message(rcptA)
	old.DSN = mssante.DSN{} // settled once submitted
	_, err := o.Enqueue(context.Background(), old, EnqueueOptions{Ref: "old"})
	require.NoError(t, err)
	runUntil(t, o, phaseIs(o, old.MessageID, PhaseSent))
	clock = clock.Add(48 * time.Hour)
	waiting := message(rcptB)
	_, err = o.Enqueue(context.Background(), waiting, EnqueueOptions{Ref: "waiting"})
	require.NoError(t, err)
	body, err := o.store.Body(context.Background(), waiting.MessageID)
	require.NoError(t, err)
	require.NoError(t, o.Close())

	// A compaction cut before its rename.
	require.NoError(t, os.WriteFile(filepath.Join(dir, journalName+".new"), []byte("half written"), 0o600))
	o2 := newTestOutbox(t, dir, srv, &events{}, func(c *Config) { tune(c); c.CompactAfter = 1 }) // compacts at open
	_, ok := o2.Status(old.MessageID)
	assert.False(t, ok, "settled two days ago, Keep one day: dropped")
	_, ok = o2.ByRef("old")
	assert.False(t, ok)
	st, ok := o2.Status(waiting.MessageID)
	require.True(t, ok)
	assert.Equal(t, PhaseQueued, st.Phase)
	b, err := o2.store.Body(context.Background(), waiting.MessageID)
	require.NoError(t, err)
	assert.Equal(t, body, b, "the body of a message still to send is kept")
	_, err = os.Stat(filepath.Join(dir, journalName+".new"))
	assert.True(t, os.IsNotExist(err))
	runUntil(t, o2, phaseIs(o2, waiting.MessageID, PhaseSent))
	assert.Equal(t, body, srv.calls()[len(srv.calls())-1].raw)
}
