// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
)

// Record mailbox actions in the tamper-evident log, verify it, and see a
// modification detected.
func ExampleVerify() {
	dir, err := os.MkdirTemp("", "trace")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "trace.jsonl")

	// Made once: keep skey secret, publish vkey to those who verify the log.
	skey, vkey, err := note.GenerateKey(rand.Reader, "cabinet-lilas")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		log.Fatal(err)
	}

	tl, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: signer, Verifier: verifier, Durable: true})
	if err != nil {
		log.Fatal(err)
	}
	guard := &trace.Guard{Recorder: tl} // fail closed: an action not recorded must not happen
	for _, a := range []trace.Action{trace.Login, trace.Send, trace.Logout} {
		err := guard.Record(context.Background(), trace.Event{
			Time:     time.Now(),
			Actor:    trace.Actor{ID: "801234567890", IDType: "IDNPS", Name: "Marcel CAMPARINI", Auth: trace.AuthCPS},
			Mailbox:  trace.Mailbox{Address: "marcel.camparini@lilas.mssante.fr", Kind: "PER"},
			Action:   a,
			Request:  trace.Request{Command: "CMD"},
			Response: trace.Response{OK: true},
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := tl.Close(); err != nil {
		log.Fatal(err)
	}

	res, err := trace.Verify(path, verifier)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Records, "records,", res.Checkpoints, "checkpoint")

	// Someone turns the send into a read.
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(`"send"`), []byte(`"read"`), 1), 0o600); err != nil {
		log.Fatal(err)
	}
	_, err = trace.Verify(path, verifier)
	var ce *trace.CorruptionError
	if !errors.As(err, &ce) {
		log.Fatalf("modified log: got %v, want a *trace.CorruptionError", err)
	}
	fmt.Println("tampered:", errors.Is(err, trace.ErrTampered), "first bad record:", ce.Record)
	// Output:
	// 3 records, 1 checkpoint
	// tampered: true first bad record: 1
}

// Turn a trace event into a FHIR AuditEvent of the ANS TDE profile, for
// an audit repository.
func ExampleAuditEvent() {
	e := trace.Event{
		ID:       "0a1b2c3d",
		Time:     time.Date(2026, 3, 14, 9, 26, 53, 0, time.FixedZone("CET", 3600)),
		Actor:    trace.Actor{ID: "810100123456", IDType: "IDNPS", Name: "Jeanne DUPONT", Auth: trace.AuthPSC},
		Mailbox:  trace.Mailbox{Address: "jeanne.dupont@hopital-exemple.mssante.fr"},
		Action:   trace.Delete,
		Request:  trace.Request{Command: "UID EXPUNGE", Params: []string{"4827"}},
		Response: trace.Response{OK: true, Code: "OK", Text: "Expunge completed"},
	}
	b, err := trace.AuditEvent(e)
	if err != nil {
		log.Fatal(err)
	}
	var ae struct {
		Type            struct{ System, Code string }
		Action, Outcome string
		Period          struct{ Start string }
		Recorded        string
	}
	if err := json.Unmarshal(b, &ae); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ae.Type.System, ae.Type.Code, ae.Action, ae.Outcome)
	fmt.Println(ae.Period.Start, ae.Recorded)
	// Output:
	// http://terminology.hl7.org/CodeSystem/audit-event-type rest D 0
	// 2026-03-14T09:26:53+01:00 2026-03-14T08:26:53Z
}
