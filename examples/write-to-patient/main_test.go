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
	"github.com/ecdaf744/gomss/mssante"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const patientAddress = "279035121518989@patient.mssante.fr"

// patientArgs are the flags of a message to the ANS test patient.
func patientArgs(from string) []string {
	return []string{
		"-from", from, "-entity", "Secrétariat du centre de santé des Lilas", "-product", "DEV000000",
		"-subject", "Votre rendez-vous", "-text", "Bonjour,\nvotre rendez-vous est confirmé le 3 décembre à 10 h.\n",
		"-ins", "279035121518989", "-ins-oid", "1.2.250.1.213.1.4.10", "-family", "PAT-TROIS",
		"-given", "DOMINIQUE MARIE-LOUISE", "-birth", "19790328", "-sex", "F", "-cog", "51215",
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := append(patientArgs("secretariat@lilas.mssante.fr"), "-no-reply", "-reply-to", "accueil@lilas.mssante.fr", "-dry-run", dir)
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
	if len(m.To) != 1 || m.To[0].Address != patientAddress {
		t.Errorf("To %v, want %s", m.To, patientAddress)
	}
	if m.MSS.MES != "FIN" {
		t.Errorf("X-MSS-MES %q, want FIN", m.MSS.MES)
	}
	if len(m.ReplyTo) != 1 || m.ReplyTo[0].Address != "accueil@lilas.mssante.fr" {
		t.Errorf("Reply-To %v", m.ReplyTo)
	}
	if strings.Contains(stdout.String(), "279035121518989") {
		t.Errorf("the matricule INS is printed: %s", stdout.String())
	}
}

func TestUnqualifiedRefused(t *testing.T) {
	for _, status := range []string{"PROV", "RECUP", "VALI"} {
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		args := append(patientArgs("secretariat@lilas.mssante.fr"), "-status", status, "-dry-run", dir)
		if code := run(args, &stdout, &stderr); code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s", status, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "not qualified") {
			t.Errorf("%s: %s", status, stderr.String())
		}
		_, err := os.Stat(filepath.Join(dir, "message.eml"))
		assert.Error(t, err, "%s: a message was written", status)
	}
	// traits that contradict the matricule are refused too
	var stdout, stderr bytes.Buffer
	if code := run(append(patientArgs("s@lilas.mssante.fr"), "-sex", "M", "-dry-run", t.TempDir()), &stdout, &stderr); code != 1 {
		t.Fatalf("incoherent traits: exit %d", code)
	}
}

func TestSend(t *testing.T) {
	e := exampletest.New(t, baltest.MailUser{Address: patientAddress, Password: "x"})
	op := e.Op
	args := append(patientArgs(baltest.ORGUser), "-no-reply", "-smtp", op.SMTPAddr)
	args = append(append(args, e.Args()...), e.P12Args()...)
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), op.Log())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, op.WaitMessages(ctx, patientAddress, 1))
	m, err := mssante.Parse(bytes.NewReader(op.Messages(patientAddress, "INBOX")[0]), nil)
	require.NoError(t, err)
	assert.EqualValues(t, "FIN", m.MSS.MES, "X-MSS-MES, subject")
	assert.EqualValues(t, "Votre rendez-vous", m.Subject, "X-MSS-MES, subject")
	e.Trace(t) // the send is in the signed trace log
}
