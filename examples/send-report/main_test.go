// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/examples/internal/exampletest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
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
