// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/bal/outbox"
	"github.com/ecdaf744/gomss/examples/internal/exampletest"
	"github.com/ecdaf744/gomss/examples/internal/setup"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reportArgs are the flags of a report about the ANS test patient.
func reportArgs(t *testing.T, from, to string) []string {
	pdf := filepath.Join(t.TempDir(), "cr.pdf")
	require.NoError(t, os.WriteFile(pdf, testdocs.PDF("Compte rendu de consultation", 20_000), 0o644))
	return []string{
		"-from", from, "-to", to, "-pdf", pdf, "-product", "DEV000000", "-oid", "1.2.250.1.999.1.2",
		"-ins", "279035121518989", "-ins-oid", "1.2.250.1.213.1.4.10", "-family", "PAT-TROIS",
		"-given", "DOMINIQUE MARIE-LOUISE", "-birth", "19790328", "-sex", "F", "-cog", "51215",
		"-rpps", "801234567890", "-author-family", "CAMPARINI", "-author-given", "Marcel",
		"-org-idnst", "1750803447", "-org-name", "Centre de santé des Lilas", "-title", "Compte rendu de consultation",
		"-outbox", filepath.Join(t.TempDir(), "outbox"),
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := append(reportArgs(t, "lps@lilas.mssante.fr", "integration@chu-exemple.mssante.fr"), "-dry-run", dir, "-mdn")
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	eml, err := os.ReadFile(filepath.Join(dir, "message.eml"))
	require.NoError(t, err)
	if ps, err := mssante.Check(bytes.NewReader(eml)); err != nil || len(ps) > 0 {
		t.Fatalf("Check: %v %v", ps, err)
	}
	m, err := mssante.Parse(bytes.NewReader(eml), nil)
	require.NoError(t, err)
	if m.XDM == nil || m.XDM.Verify() != nil || m.PatientID == nil || m.MSS.INS == "" {
		t.Fatalf("archive %v (%v), patient %v, X-MSS-INS %q", m.XDM, m.XDMErr, m.PatientID, m.MSS.INS)
	}
	if len(m.DispositionNotificationTo) != 1 || m.MSS.NIL != "DEV000000" {
		t.Errorf("Disposition-Notification-To %v, X-MSS-NIL %q", m.DispositionNotificationTo, m.MSS.NIL)
	}
	if _, err := os.Stat(filepath.Join(dir, "IHE_XDM.ZIP")); err != nil {
		t.Error(err)
	}
	t.Log(stdout.String())
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-from", "a@b.mssante.fr"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "-smtp or -domain") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// an incoherent identity (sex M against a matricule of a woman) is refused
	var stderr2 bytes.Buffer
	args := append(reportArgs(t, "lps@lilas.mssante.fr", "x@y.mssante.fr"), "-dry-run", t.TempDir(), "-sex", "M")
	if code := run(args, &stdout, &stderr2); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr2.String())
	}
}

// received waits for the one message in to's INBOX, parses it, checks it
// against the Ref#2 rules and its archive, and verifies the trace log.
func received(t *testing.T, e *exampletest.Env, to string) (*mssante.Received, []trace.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, e.Op.WaitMessages(ctx, to, 1))
	m, err := mssante.Parse(bytes.NewReader(e.Op.Messages(to, "INBOX")[0]), nil)
	require.NoError(t, err)
	if ps := m.Check(); len(ps) > 0 {
		t.Errorf("received message breaks rules: %v", ps)
	}
	if m.XDM == nil || m.XDM.Verify() != nil {
		t.Errorf("archive %v (%v)", m.XDM, m.XDMErr)
	}
	return m, e.Trace(t)
}

func TestSend(t *testing.T) {
	e := exampletest.New(t)
	args := append(reportArgs(t, baltest.ORGUser, baltest.CPSUser), "-smtp", e.Op.SMTPAddr)
	args = append(append(args, e.Args()...), e.P12Args()...)
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), e.Op.Log())
	}
	t.Log(stdout.String())
	m, evs := received(t, e, baltest.CPSUser)
	if m.From == nil || m.From.Address != baltest.ORGUser {
		t.Errorf("received from %v", m.From)
	}
	if !sentBy(evs, trace.AuthCertificate) {
		t.Errorf("no successful send traced with a software certificate: %+v", evs)
	}
}

// sentBy reports whether the trace holds a successful send by an actor
// authenticated with method.
func sentBy(evs []trace.Event, method trace.AuthMethod) bool {
	for _, ev := range evs {
		if ev.Action == trace.Send && ev.Response.OK && ev.Actor.Auth == method {
			return true
		}
	}
	return false
}

// TestSendTracked sends through the outbox to the recipient and to an
// unknown user of the operator's domain, while the recipient's receive
// loop integrates the document and returns the MDN; the command reads the
// DSN and the MDN back (-imap) and prints each recipient's tracked status:
// processed for the one, failed with its reason in French for the other.
// A second run on the same outbox finds the first message there, settled.
func TestSendTracked(t *testing.T) {
	e := exampletest.New(t)
	unknown := "inconnu@" + strings.SplitN(baltest.CPSUser, "@", 2)[1]
	obDir := filepath.Join(t.TempDir(), "outbox")
	args := append(reportArgs(t, baltest.ORGUser, baltest.CPSUser+","+unknown), "-smtp", e.Op.SMTPAddr,
		"-imap", e.Op.IMAPAddr, "-wait", "1m", "-outbox", obDir, "-mdn")
	args = append(append(args, e.Args()...), e.P12Args()...)

	// The recipient's DPI: its receive loop integrates the document and
	// sends the MDN "processed".
	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan error, 1)
	go func() { loopDone <- recipientLoop(t, e).Run(loopCtx) }()
	defer func() { stopLoop(); <-loopDone }()

	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), e.Op.Log())
	}
	out := stdout.String()
	t.Log(out)
	require.Contains(t, out, "queued <")
	require.Contains(t, out, "accepted for "+baltest.CPSUser+"\n")
	// First status: submitted for the recipient, refused at RCPT for the
	// unknown user; last status: the MDN came back.
	blocks := strings.Split(out, "status of ")
	require.Len(t, blocks, 3, "a status after the send and one after the answers")
	assert.Contains(t, blocks[1], "  "+baltest.CPSUser+": submitted\n")
	assert.Regexp(t, `  `+regexpQuote(unknown)+`: failed — .+5\.1\.1`, blocks[1])
	assert.Contains(t, blocks[2], "  "+baltest.CPSUser+": processed\n")
	assert.Regexp(t, `  `+regexpQuote(unknown)+`: failed — `, blocks[2])
	// The trace holds the send, accepted by the server.
	assert.True(t, sentBy(e.Trace(t), trace.AuthCertificate))

	// The journal is in -outbox and survives the command: reopened, it
	// holds the message with its reconciled status.
	j, err := outbox.OpenJournal(obDir, nil)
	require.NoError(t, err)
	ob, err := outbox.Open(context.Background(), outbox.Config{Store: j, Sender: &bal.Sender{}})
	require.NoError(t, err)
	defer ob.Close()
	sts := ob.List(outbox.Filter{})
	require.Len(t, sts, 1)
	rc, ok := sts[0].Recipient(baltest.CPSUser)
	require.True(t, ok)
	assert.Equal(t, outbox.Processed, rc.State)
	assert.False(t, rc.Answered.IsZero(), "a DSN was reconciled before the MDN")
	assert.Empty(t, ob.Unmatched())
}

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

// recipientLoop is the recipient's receive loop (CPS certificate): it
// accepts every document and returns the MDN.
func recipientLoop(t *testing.T, e *exampletest.Env) *bal.Loop {
	t.Helper()
	cps, err := bal.NewCertificate(e.PKI.CPS.TLSCertificate())
	require.NoError(t, err)
	trust := &bal.Trust{Roots: []*x509.Certificate{e.PKI.RootFort.Cert, e.PKI.RootElementaire.Cert}}
	smtpEP, err := setup.ParseEndpoint("SMTP", e.Op.SMTPAddr, 0)
	require.NoError(t, err)
	imapEP, err := setup.ParseEndpoint("IMAP", e.Op.IMAPAddr, 0)
	require.NoError(t, err)
	discard := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	box := trace.Mailbox{Address: baltest.CPSUser}
	return &bal.Loop{
		Receiver: &bal.Receiver{Server: imapEP, ServerName: "localhost", Trust: trust, Auth: cps, Mailbox: box, Trace: discard},
		Sender:   &bal.Sender{Server: smtpEP, ServerName: "localhost", Trust: trust, Auth: cps, Mailbox: box, Trace: discard},
		From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "DUPONT"},
		Product:  "DEV000000",
		Handler:  func(context.Context, *mssante.Received) error { return nil },
		Backoff:  100 * time.Millisecond,
	}
}
