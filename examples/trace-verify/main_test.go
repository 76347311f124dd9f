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
)

func TestTraceVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.jsonl")
	skey, vkey, _ := note.GenerateKey(rand.Reader, "gomss-trace")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		err := l.Record(context.Background(), trace.Event{
			Time:    time.Now(),
			Actor:   trace.Actor{ID: "801234567890", Auth: trace.AuthCPS},
			Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"},
			Action:  []trace.Action{trace.Login, trace.Send, trace.Fetch, trace.Delete, trace.Logout}[i],
			Request: trace.Request{Command: "CMD"}, Response: trace.Response{OK: true},
		})
		if err != nil {
			t.Fatal(err)
		}
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
	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`"delete"`), []byte(`"read"  `), 1), 0o600)
	out.Reset()
	if code := run([]string{"-log", path, "-key", vkey}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "TAMPERED") {
		t.Errorf("tampered log: exit %d\n%s", code, out.String())
	}
	if code := run([]string{"-log", path}, &out, &errOut); code != 2 {
		t.Errorf("usage error: exit %d", code)
	}
}
