// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/outbox"
)

// The sending goes through a durable outbox (package bal/outbox): the
// message is recorded (fsync) in a journal before its first attempt, its
// attempts and their answers after, so that a command killed half-way
// loses nothing and sends nothing twice: the next run of the command on
// the same -outbox sends what was left, and a message whose acceptance is
// unknown is sent again only with the same Message-ID. The DSNs and MDNs
// read back from the sender's mailbox (-imap) are reconciled with it, and
// the tracked status of each recipient is printed.

// defaultOutboxDir is the journal's folder when -outbox is not given: in
// the user's cache directory, else in the temporary directory.
func defaultOutboxDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gomss", "send-report", "outbox")
	}
	return filepath.Join(os.TempDir(), "gomss-send-report-outbox")
}

// openOutbox opens the outbox journal in dir for the sender s.
func openOutbox(ctx context.Context, dir string, s *bal.Sender, onError func(error)) (*outbox.Outbox, error) {
	j, err := outbox.OpenJournal(dir, nil)
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(ctx, outbox.Config{Store: j, Sender: s, OnError: onError,
		// A command waits for its message: a temporary failure is tried
		// again a few times within the run, then left to the next run.
		Retry: outbox.Retry{MaxAttempts: 5, Backoff: 5 * time.Second, MaxBackoff: time.Minute}})
	if err != nil {
		j.Close()
		return nil, err
	}
	return ob, nil
}

// runUntilTried runs the outbox until the message id has been tried (it
// is no longer queued for its first time nor being sent) or ctx ends.
// Messages left by an earlier run are sent too.
func runUntilTried(ctx context.Context, ob *outbox.Outbox, id string) (*outbox.Status, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- ob.Run(rctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, ok := ob.Status(id)
		if !ok {
			return nil, fmt.Errorf("%w: %s", outbox.ErrUnknownMessage, id)
		}
		if st.Phase == outbox.PhaseSent || st.Phase == outbox.PhaseFailed {
			stop()
			return st, <-done
		}
		select {
		case err := <-done:
			if err == nil {
				err = ctx.Err()
			}
			return st, err
		case <-ctx.Done():
			stop()
			<-done
			return st, nil // still queued: the next run sends it
		case <-tick.C:
		}
	}
}

// readReports reads the new reports (DSN, MDN) of the sender's INBOX
// and gives them to the outbox, which reconciles them with the messages
// sent. The mailbox is not changed (nothing moved, nothing marked seen):
// where the reading stopped is kept in the outbox's folder
// (imap-state.json), so that a report is read once.
func readReports(ctx context.Context, r *bal.Receiver, ob *outbox.Outbox, dir string) (int, error) {
	statePath := filepath.Join(dir, "imap-state.json")
	var st bal.State
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return 0, fmt.Errorf("%s: %w", statePath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	s, err := r.Open(ctx)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := 0
	for {
		fetched, next, err := s.FetchNew(ctx, "INBOX", st)
		if err != nil {
			return n, err
		}
		for _, f := range fetched {
			if f.Message == nil || f.Message.ContentType != "multipart/report" {
				continue
			}
			if err := ob.HandleReport(ctx, f.Message); err != nil {
				return n, err // not saved: read again next time
			}
			n++
		}
		st = next
		b, _ := json.Marshal(st)
		if err := os.WriteFile(statePath, b, 0o600); err != nil {
			return n, err
		}
		if !s.HasMore() {
			return n, nil
		}
	}
}

// waitAnswers reads the reports every few seconds until the message is
// settled (every recipient has its final answer) or wait has passed.
func waitAnswers(ctx context.Context, r *bal.Receiver, ob *outbox.Outbox, dir, id string, wait time.Duration) (*outbox.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		if _, err := readReports(ctx, r, ob, dir); err != nil {
			return nil, err
		}
		st, ok := ob.Status(id)
		if !ok {
			return nil, fmt.Errorf("%w: %s", outbox.ErrUnknownMessage, id)
		}
		if st.Settled() || !time.Now().Before(deadline) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, nil
		case <-time.After(min(2*time.Second, time.Until(deadline))):
		}
	}
}

// printStatus writes a message's tracked status, one line per recipient:
// its state and, when it failed or is late, the reason in French for the
// user and the technical detail.
func printStatus(w io.Writer, st *outbox.Status) {
	fmt.Fprintf(w, "status of %s: %s", st.MessageID, st.Phase)
	if st.Attempts > 0 {
		fmt.Fprintf(w, " after %d attempt(s)", st.Attempts)
	}
	if st.Phase == outbox.PhaseQueued && !st.Next.IsZero() {
		fmt.Fprintf(w, ", next attempt %s", st.Next.Format(time.RFC3339))
	}
	if st.LastError != "" && st.Phase != outbox.PhaseSent {
		fmt.Fprintf(w, " (last error: %s)", st.LastError)
	}
	fmt.Fprintln(w)
	for _, r := range st.Recipients {
		line := fmt.Sprintf("  %s: %s", r.Address, r.State)
		if r.Delayed {
			line += " (delayed)"
		}
		if r.Reason != "" {
			line += " — " + r.Reason
		}
		if r.Detail != "" && r.Detail != string(r.State) {
			line += " [" + r.Detail + "]"
		}
		if r.Bounce != outbox.BounceNone {
			line += " (Mon espace santé: " + string(r.Bounce) + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
