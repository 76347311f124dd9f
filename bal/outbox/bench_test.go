// SPDX-License-Identifier: Apache-2.0

//go:build unix

package outbox_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/bal/outbox"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// BenchmarkOutboxPostfix compares, in the same run and on the same real
// Postfix (STARTTLS, client certificate, relayed by LMTP to Dovecot), one
// connection sending N pre-built messages of about 100 KB:
//
//   - "direct": bal.Batch.SendRaw, no outbox (what bal's BenchmarkSendPostfix
//     measures as gomss-prebuilt);
//   - "outbox": the same messages through the outbox, journal with fsync:
//     a producer calls EnqueueRaw for each (each returns once its record is
//     durable; concurrent callers share an fsync) while Run sends them,
//     recording and syncing each attempt (a group of up to BatchSize
//     messages) before its first message is handed over, and each result.
//     The clock runs from the first EnqueueRaw to the last message Sent.
//
// Each sub-benchmark checks that Dovecot stored every message ("lost"
// metric); the ratio outbox/direct is logged at the end. Run with
// -benchtime 1000x (see docs/performance.md).
func BenchmarkOutboxPostfix(b *testing.B) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(b, err)
	crl, _ := pki.ServeCRL()
	defer crl.Close()
	dc := baltest.StartDovecot(b, baltest.DovecotConfig{PKI: pki})
	pf := baltest.StartPostfix(b, baltest.PostfixConfig{PKI: pki, Dovecot: dc})
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(b, err)
	i := strings.LastIndexByte(pf.SubmissionAddr, ':')
	host := pf.SubmissionAddr[:i]
	pn, err := strconv.Atoi(pf.SubmissionAddr[i+1:])
	require.NoError(b, err)
	snd := &bal.Sender{Server: bal.Endpoint{Host: host, Port: pn}, ServerName: "localhost",
		Trust:   &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}},
		Auth:    auth,
		Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"},
		Trace:   trace.RecorderFunc(func(context.Context, trace.Event) error { return nil }),
	}
	proto := &mssante.Message{
		From: mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
		To:   []string{baltest.CPSUser}, Text: "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
			PDF: mssante.BytesOpener(testdocs.PDF("CR", 36_000))}}, // a message of about 100 KB
		XDM:       xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:   "DEV000000",
		MessageID: "<bench-000000000-0000@hopital.test.mssante.fr>",
	}
	var raw bytes.Buffer
	_, err = proto.WriteTo(&raw)
	require.NoError(b, err)
	env := proto.Envelope()
	b.Logf("message size %d bytes", raw.Len())

	// messages returns n copies of the message, each with its own
	// Message-ID of the same length (the outbox refuses a Message-ID it
	// holds already): only the header block is changed.
	run := 0
	messages := func(n int) (ids []string, raws [][]byte) {
		run++
		hdrEnd := bytes.Index(raw.Bytes(), []byte("\r\n\r\n"))
		require.Positive(b, hdrEnd)
		for i := range n {
			id := fmt.Sprintf("<bench-%09d-%04d@hopital.test.mssante.fr>", i, run%10000)
			m := bytes.Clone(raw.Bytes())
			h := bytes.Replace(m[:hdrEnd], []byte(proto.MessageID), []byte(id), 1)
			require.NotEqual(b, m[:hdrEnd], h, "Message-ID not found in the header")
			copy(m, h)
			ids, raws = append(ids, id), append(raws, m)
		}
		return ids, raws
	}
	stored := 0
	expect := func(b *testing.B, n int) {
		stored += n
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		got, _ := dc.WaitMessages(ctx, baltest.CPSUser, stored)
		b.ReportMetric(float64(stored-got), "lost")
		stored = got
	}
	ctx := context.Background()
	var direct, viaOutbox float64

	b.Run("direct", func(b *testing.B) {
		ids, raws := messages(b.N)
		bt, err := snd.Batch(ctx)
		require.NoError(b, err)
		b.ResetTimer()
		for i := range b.N {
			_, err := bt.SendRaw(ctx, env, ids[i], raws[i])
			require.NoError(b, err)
		}
		b.StopTimer()
		bt.Close()
		direct = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(direct, "msgs/s")
		expect(b, b.N)
	})
	b.Run("outbox", func(b *testing.B) {
		ids, raws := messages(b.N)
		j, err := outbox.OpenJournal(b.TempDir(), nil) // fsync on
		require.NoError(b, err)
		var runErr []error
		o, err := outbox.Open(ctx, outbox.Config{Store: j, Sender: snd, OnError: func(e error) { runErr = append(runErr, e) }})
		require.NoError(b, err)
		defer o.Close()
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.ResetTimer()
		go func() { done <- o.Run(rctx) }()
		enq := make(chan error, 1)
		go func() {
			for i := range b.N {
				if _, err := o.EnqueueRaw(ctx, env, ids[i], raws[i], outbox.EnqueueOptions{}); err != nil {
					enq <- err
					return
				}
			}
			enq <- nil
		}()
		require.NoError(b, <-enq)
		// Messages go oldest first: the last one Sent means all were
		// handled; each is checked below.
		last := ids[b.N-1]
		for {
			st, ok := o.Status(last)
			require.True(b, ok)
			if st.Phase == outbox.PhaseSent || st.Phase == outbox.PhaseFailed {
				break
			}
			select {
			case err := <-done:
				require.NoError(b, err)
				b.Fatal("Run returned before the last message was sent")
			case <-time.After(time.Millisecond):
			}
		}
		b.StopTimer()
		stop()
		require.NoError(b, <-done)
		require.Empty(b, runErr)
		for _, id := range ids {
			st, _ := o.Status(id)
			require.Equal(b, outbox.PhaseSent, st.Phase, id)
		}
		viaOutbox = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(viaOutbox, "msgs/s")
		b.ReportMetric(float64(j.Size())/float64(b.N), "journal-bytes/msg")
		expect(b, b.N)
	})
	if direct > 0 && viaOutbox > 0 {
		b.Logf("outbox %.0f msgs/s, direct %.0f msgs/s: ratio %.2f (goal ≥ 0.80)", viaOutbox, direct, viaOutbox/direct)
	}
}
