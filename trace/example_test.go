package trace_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
)

// Record mailbox actions in the tamper-evident log, verify it, and see a
// modification detected.
func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "trace")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "trace.jsonl")
	skey, vkey, _ := note.GenerateKey(rand.Reader, "cabinet-lilas") // keep skey secret, publish vkey
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)

	log, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: signer, Verifier: verifier, Durable: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	guard := &trace.Guard{Recorder: log} // fail closed
	for _, a := range []trace.Action{trace.Login, trace.Send, trace.Logout} {
		guard.Record(context.Background(), trace.Event{
			Time:     time.Now(),
			Actor:    trace.Actor{ID: "801234567890", IDType: "IDNPS", Name: "Marcel CAMPARINI", Auth: trace.AuthCPS},
			Mailbox:  trace.Mailbox{Address: "marcel.camparini@lilas.mssante.fr", Kind: "PER"},
			Action:   a,
			Request:  trace.Request{Command: "CMD"},
			Response: trace.Response{OK: true},
		})
	}
	log.Close()

	res, err := trace.Verify(path, verifier)
	fmt.Println(res.Records, "records,", res.Checkpoints, "checkpoint,", err)

	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`"send"`), []byte(`"read"`), 1), 0o600)
	_, err = trace.Verify(path, verifier)
	var ce *trace.CorruptionError
	fmt.Println(errors.As(err, &ce), ce.Record)
	// Output:
	// 3 records, 1 checkpoint, <nil>
	// true 1
}
