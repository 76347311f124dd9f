// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/require"
)

func TestTraceVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.jsonl")
	skey, vkey, _ := note.GenerateKey(rand.Reader, "gomss-trace")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	var last *trace.Checkpoint
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Retention: -1,
		OnCheckpoint: func(c *trace.Checkpoint) { last = c }})
	require.NoError(t, err)
	for i := range 5 {
		err := l.Record(context.Background(), trace.Event{
			Time:    time.Now(),
			Actor:   trace.Actor{ID: "801234567890", Auth: trace.AuthCPS},
			Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"},
			Action:  []trace.Action{trace.Login, trace.Send, trace.Fetch, trace.Delete, trace.Logout}[i],
			Request: trace.Request{Command: "CMD"}, Response: trace.Response{OK: true},
		})
		require.NoError(t, err)
	}
	l.Close()
	keyFile := filepath.Join(dir, "verifier.key")
	os.WriteFile(keyFile, []byte(vkey+"\n"), 0o600)

	var out, errOut bytes.Buffer
	if code := run([]string{"-log", path, "-key", keyFile, "-prove", "3", "-action", "delete"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"OK ", "records 0 to 4", "record 3 is in the checkpointed log", " delete CMD true", "1 events"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Against the checkpoint kept elsewhere: passes; then the log cut back
	// to its first three records with no checkpoint left passes alone but
	// not against the kept checkpoint.
	cpFile := filepath.Join(dir, "kept.checkpoint")
	os.WriteFile(cpFile, []byte(last.Note), 0o600)
	out.Reset()
	if code := run([]string{"-log", path, "-key", keyFile, "-checkpoint", cpFile}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "1 of 1 checkpoints kept elsewhere checked") {
		t.Fatalf("with the kept checkpoint: exit %d: %s %s", code, out.String(), errOut.String())
	}
	data, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, data[:bytes.Index(data, []byte(`"seq":3`))-1], 0o600)
	out.Reset()
	if code := run([]string{"-log", cut, "-key", keyFile}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "records 0 to 2") {
		t.Fatalf("cut log alone: exit %d: %s %s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"-log", cut, "-key", keyFile, "-checkpoint", cpFile}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "truncated") {
		t.Errorf("cut log against the kept checkpoint: exit %d: %s", code, out.String())
	}
	os.WriteFile(path, bytes.Replace(data, []byte(`"delete"`), []byte(`"read"  `), 1), 0o600)
	out.Reset()
	if code := run([]string{"-log", path, "-key", vkey}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "TAMPERED") {
		t.Errorf("tampered log: exit %d\n%s", code, out.String())
	}
	if code := run([]string{"-log", path}, &out, &errOut); code != 2 {
		t.Errorf("usage error: exit %d", code)
	}
}
