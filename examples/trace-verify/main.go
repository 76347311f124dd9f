// SPDX-License-Identifier: Apache-2.0

// Command trace-verify checks a gomss trace log (package trace): every
// record chained to the previous one, the Merkle tree against each signed
// checkpoint, nothing deleted, reordered, inserted, replayed or truncated.
// It prints a summary and exits 0 when the log verifies, 1 when it does
// not (naming the first bad record), 2 on a usage error.
//
// Usage:
//
//	trace-verify -log trace.jsonl -key verifier.key [-checkpoint FILE]... [-prove N] [-actor ID] [-mailbox ADDR] [-action send]
//
// -checkpoint names a checkpoint kept away from the log (a file holding
// the signed note that FileLogConfig.OnCheckpoint was given,
// Checkpoint.Note); repeat it for several. The log must still hold the
// records each one signed: a log cut back, or rewritten together with its
// checkpoints file, fails then (exit 1), where the log alone would show
// only a shorter or unsigned log.
//
// The verifier key is the public half of the note key pair that signs the
// log's checkpoints (golang.org/x/mod/sumdb/note format, e.g.
// "gomss-trace+1a2b3c4d+A...="), given inline or as a file. With -prove N,
// the inclusion proof of record N in the latest checkpoint is computed and
// checked. -actor, -mailbox and -action list the matching events.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trace-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logPath := fs.String("log", "", "trace log file (JSON Lines)")
	key := fs.String("key", "", "verifier key, or a file holding it")
	prove := fs.Int64("prove", -1, "record whose inclusion proof to compute and check")
	actor := fs.String("actor", "", "list the events of this actor (IDNPS)")
	mailbox := fs.String("mailbox", "", "list the events of this mailbox")
	action := fs.String("action", "", "list the events of this action")
	var witnesses []string
	fs.Func("checkpoint", "file holding a checkpoint kept away from the log (signed note); repeatable", func(file string) error {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		witnesses = append(witnesses, string(b))
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *logPath == "" || *key == "" {
		fmt.Fprintln(stderr, "trace-verify: -log and -key are required")
		fs.Usage()
		return 2
	}
	vkey := *key
	if b, err := os.ReadFile(vkey); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fmt.Fprintln(stderr, "trace-verify: verifier key:", err)
		return 2
	}
	res, err := trace.VerifyAgainst(*logPath, v, witnesses...)
	var ce *trace.CorruptionError
	if errors.As(err, &ce) {
		fmt.Fprintf(stdout, "TAMPERED %s\n%v\n", *logPath, err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "trace-verify:", err)
		return 2
	}
	fmt.Fprintf(stdout, "OK %s: origin %q, records %d to %d, %d checkpoints", *logPath, res.Origin, res.Start, res.Start+res.Records-1, res.Checkpoints)
	if res.LastCheckpoint != nil {
		fmt.Fprintf(stdout, ", last signed at %s for %d records", res.LastCheckpoint.Time, res.LastCheckpoint.Size)
	}
	if len(witnesses) > 0 {
		fmt.Fprintf(stdout, "; %d of %d checkpoints kept elsewhere checked", res.Witnessed, len(witnesses))
	}
	fmt.Fprintln(stdout)
	if res.Unsigned > 0 {
		fmt.Fprintf(stdout, "note: the last %d records are chained but not yet covered by a checkpoint\n", res.Unsigned)
	}
	if res.IncompleteCheckpoint {
		fmt.Fprintln(stdout, "note: the checkpoints file ends with an incomplete line (a checkpoint write interrupted); it is cut off when the log is reopened")
	}
	if res.IncompleteTail {
		fmt.Fprintln(stdout, "note: the file ends with an incomplete line (a write interrupted by a crash); it is cut off when the log is reopened")
	}
	if *prove >= 0 {
		p, line, err := trace.Prove(*logPath, *prove, v)
		if err == nil {
			err = trace.VerifyInclusion(p, line, v)
		}
		if err != nil {
			fmt.Fprintf(stdout, "proof of record %d: %v\n", *prove, err)
			return 1
		}
		fmt.Fprintf(stdout, "record %d is in the checkpointed log (audit path of %d hashes)\n", *prove, len(p.Proof))
	}
	if *actor != "" || *mailbox != "" || *action != "" {
		f := trace.Filter{ActorID: *actor, Mailbox: *mailbox}
		if *action != "" {
			f.Actions = []trace.Action{trace.Action(*action)}
		}
		n := 0
		_, err := trace.Scan(*logPath, f, func(seq int64, e trace.Event) error {
			n++
			fmt.Fprintf(stdout, "%d %s %s %s %s %s %v %s\n", seq, e.Time.Format("2006-01-02 15:04:05 -0700"), e.Actor.ID, e.Mailbox.Address, e.Action, e.Request.Command, e.Response.OK, e.MessageID)
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "trace-verify:", err)
			return 2
		}
		fmt.Fprintf(stdout, "%d events\n", n)
	}
	return 0
}
