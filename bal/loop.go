// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// Handler integrates one received document message into the vendor's
// software. It returns nil on success; on failure, an
// mssante.IntegrationError gives the code of the acknowledgement (906,
// "Erreur 'Autre'", for any other error).
type Handler func(ctx context.Context, m *mssante.Received) error

// Loop is the receive loop of an applicative BAL (the PFI pattern of the
// ANS volet "Transmission au LPS d'un document CDA provenant d'un courriel
// MSSanté"): for each new document message, call the handler; then, and
// only then, acknowledge and file the message: on success the requested
// MDN (processed) and a move to Processed; on failure the MDN with the
// integration error (or the standard error e-mail to ErrorMailbox when no
// MDN was requested) and a move to Failed. Reports (DSN, MDN) are traced
// and moved to Processed. Any other message (neither a document message,
// mssante.Received.IsDocumentMessage, nor a report, or one that Parse
// refused, even when it returned the part it read) is moved to Other, the
// move traced with its Message-ID, and listed in PassInfo.Other (the parse
// error goes to OnError): the folder read keeps only what waits for the
// loop, and what the loop did not integrate is set aside where a person
// can find it, not left unnoticed among messages the loop is past.
//
// Delivery to the handler is at least once: a message counts as done
// (State) only once it is filed, never skipped. When the session is lost
// between the handler and the move, the next pass finds the message
// recorded in Seen (below) and files it without handling it again; but
// when the process ends after the handler returned and before that
// record (or Seen is an in-memory set and the process restarts), the
// message is handled and acknowledged again. Handlers must therefore
// recognise a repeat (the CDA document id, or Received.MessageID). When
// the acknowledgement cannot be sent for a passing reason (a 4xx reply, no
// connection, its trace not written), the message is left unfiled, not
// recorded, and the pass ends with the error: it is handled again on the
// next pass. An acknowledgement refused for good (5xx) is reported
// (OnError) and the message filed.
//
// A second copy of a document message already handled (same sender, same
// Message-ID: SeenKey) is not given to the Handler again nor acknowledged
// again: it is filed where the first copy went, the move traced with its
// Message-ID, and listed in PassInfo.Duplicates. Such copies come from a
// sender resending a message whose acceptance it could not know (an
// outbox.Outbox does, with the same Message-ID) and from a relay
// redelivering after its own restart. Seen remembers the handled
// messages; give it a SeenFile so that copies are recognised across
// restarts.
type Loop struct {
	Receiver *Receiver
	// Sender sends the acknowledgements.
	Sender *Sender
	// From is the applicative BAL (Final-Recipient of the MDNs).
	From    mssante.Sender
	Product string // X-MSS-NIL of the acknowledgements
	// Folders: Folder is read ("INBOX" when empty); Processed and Failed
	// receive the messages ("Traites" and "Erreurs" when empty), Other
	// the messages that are neither documents nor reports ("Autres" when
	// empty). Missing folders are created.
	Folder, Processed, Failed, Other string
	// ErrorMailbox receives the error e-mails when no MDN was requested
	// (none sent when empty).
	ErrorMailbox string
	Handler      Handler
	// State is where the loop stopped; keep it between runs.
	State State
	// OnError receives errors the loop survives (acknowledgement not
	// sent, connection lost…).
	OnError func(error)
	// Backoff between reconnections (5 s when zero).
	Backoff time.Duration
	// OnPass, when set, is called by Run after each pass over Folder,
	// before the loop waits for new messages (IDLE): once it has been
	// called, a message delivered to Folder is handled by a later pass.
	// It runs on the loop's goroutine, which waits for it to return.
	OnPass func(PassInfo)
	// Reports, when set, is given every acknowledgement (DSN, MDN) the
	// loop reads, after its trace and before it is filed: an
	// outbox.Outbox reconciles it with the message it answers. An error
	// leaves the report in Folder and ends the pass (the loop reconnects
	// and gives it again), so a report is given at least once.
	Reports ReportHandler
	// Seen remembers the document messages handled, to recognise a
	// second copy (see above). The Loop records a message after its
	// handler returned and its acknowledgement was sent, before filing
	// it; a record that cannot be written leaves the message in Folder
	// and ends the pass. When nil, an in-memory set is used: copies are
	// recognised while the process runs, not after a restart (use
	// OpenSeenFile, kept with State).
	Seen SeenStore
}

// ReportHandler receives the acknowledgements read by a Loop.
type ReportHandler interface {
	HandleReport(ctx context.Context, m *mssante.Received) error
}

// PassInfo tells what one pass of Loop.Run over the folder did.
type PassInfo struct {
	// Handled counts the document messages given to the Handler and
	// filed (Processed or Failed), Reports the acknowledgements (DSN,
	// MDN) traced and filed in Processed.
	Handled, Reports int
	// Other lists the Message-IDs of the messages filed in Other, in UID
	// order ("" when not even the header could be parsed). The parse error
	// of a message filed there goes to OnError.
	Other []string
	// Duplicates lists the Message-IDs of the document messages filed as
	// second copies of a message already handled (Loop.Seen), without
	// calling the Handler; they are not counted in Handled.
	Duplicates []string
	// State is where the loop stands after the pass (Loop.State).
	State State
	// Err is what ended the pass early, nil when it went through every new
	// message. After an error the loop reconnects (after Backoff) and
	// starts again at the first message not filed.
	Err error
}

func (l *Loop) folders() (folder, processed, failed, other string) {
	folder, processed, failed, other = l.Folder, l.Processed, l.Failed, l.Other
	if folder == "" {
		folder = "INBOX"
	}
	if processed == "" {
		processed = "Traites"
	}
	if failed == "" {
		failed = "Erreurs"
	}
	if other == "" {
		other = "Autres"
	}
	return folder, processed, failed, other
}

func (l *Loop) seen() SeenStore {
	if l.Seen == nil {
		l.Seen = &memorySeen{}
	}
	return l.Seen
}

func (l *Loop) report(err error) {
	if err != nil && l.OnError != nil {
		l.OnError(err)
	}
}

// Run processes what is there, then waits for new messages with IDLE,
// reconnecting after a failure (after Backoff; failures go to OnError),
// until ctx ends. Ending ctx is the normal way to stop it: Run then
// returns nil. It returns an error only for a failure that retrying
// cannot mend: a trace that cannot be written (trace.ErrNotRecorded, fail
// closed), a Pro Santé Connect token that cannot be refreshed
// (*TokenError: the professional must sign in again), an authenticator
// without identity (ErrNoIdentity).
func (l *Loop) Run(ctx context.Context) error {
	backoff := l.Backoff
	if backoff == 0 {
		backoff = 5 * time.Second
	}
	for {
		s, err := l.Receiver.Open(ctx)
		if err == nil {
			err = l.serve(ctx, s)
			s.Close()
		}
		if ctx.Err() != nil {
			return nil // stopped
		}
		l.report(err)
		var te *TokenError
		if errors.Is(err, trace.ErrNotRecorded) || errors.As(err, &te) || errors.Is(err, ErrNoIdentity) {
			// fail closed: no action without trace; a token that cannot
			// be refreshed ends the session for good; and an
			// authenticator without identity never will work.
			return err
		}
		sleep(ctx, backoff)
	}
}

// serve makes passes over the folder on one session, waiting in IDLE in
// between, until a pass or the wait fails or ctx ends.
func (l *Loop) serve(ctx context.Context, s *Session) error {
	for {
		info := l.process(ctx, s)
		if l.OnPass != nil {
			l.OnPass(info)
		}
		if info.Err != nil {
			return info.Err
		}
		if err := s.WaitNew(ctx); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ProcessOnce opens a session, processes the new messages once and closes
// it. It returns how many document messages (second copies included) and
// reports were filed (the messages filed in Other are not counted), and
// the error that ended the pass early.
func (l *Loop) ProcessOnce(ctx context.Context) (int, error) {
	s, err := l.Receiver.Open(ctx)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	info := l.process(ctx, s)
	return info.Handled + len(info.Duplicates) + info.Reports, info.Err
}

// process handles the new messages, batch after batch (Receiver.MaxFetch).
func (l *Loop) process(ctx context.Context, s *Session) PassInfo {
	var info PassInfo
	for {
		info.Err = l.processBatch(ctx, s, &info)
		info.State = l.State
		if info.Err != nil || !s.HasMore() {
			return info
		}
	}
}

func (l *Loop) processBatch(ctx context.Context, s *Session, info *PassInfo) error {
	folder, processed, failed, other := l.folders()
	msgs, st, err := s.FetchNew(ctx, folder, l.State)
	if err != nil && !errors.Is(err, ErrUIDValidity) {
		return err
	}
	l.report(err)
	// FetchNew gives them in UID order; State is moved past a message only
	// once it is filed: if the session ends in the middle, the next pass
	// starts again at the first message not filed, not after the last one
	// fetched.
	for _, f := range msgs {
		done := State{UIDValidity: st.UIDValidity, LastUID: f.UID}
		m := f.Message
		switch {
		case m == nil || f.ParseErr != nil || (!m.IsDocumentMessage() && m.ContentType != "multipart/report"):
			// A message Parse refused (f.ParseErr, even with the part of
			// it read, past MaxParts for instance) is never integrated
			// from that part: it is set aside with the others.
			id := ""
			if m != nil {
				id = m.MessageID
			}
			if err := s.Move(ctx, f.UID, other, id); err != nil {
				return err
			}
			if f.ParseErr != nil {
				l.report(fmt.Errorf("bal: message UID %d %s could not be parsed, moved to %s: %w", f.UID, id, other, f.ParseErr))
			}
			info.Other = append(info.Other, id)
		case m.ContentType == "multipart/report":
			action := trace.MDNReceived
			if m.Kind() == mssante.KindDSN { // global DSNs (RFC 6533) too
				action = trace.DSNReceived
			}
			if err := s.guard.Record(ctx, l.Receiver.event(action, s.corr, trace.Request{Command: "UID FETCH", Params: []string{uidStr(f.UID)}},
				trace.Response{OK: true, Text: string(m.ReportType)}, m.MessageID)); err != nil {
				return err // fail closed: not filed without its trace
			}
			if l.Reports != nil {
				if err := l.Reports.HandleReport(ctx, m); err != nil {
					return fmt.Errorf("bal: report %s not taken into account, left in %s for the next pass: %w", m.MessageID, folder, err)
				}
			}
			if err := s.Move(ctx, f.UID, processed, m.MessageID); err != nil {
				return err
			}
			info.Reports++
		default: // a document message
			key := SeenKey(m)
			if key != "" {
				first, err := l.seen().Seen(ctx, key)
				if err != nil {
					return fmt.Errorf("bal: message %s left in %s, its first copy could not be looked up: %w", m.MessageID, folder, err)
				}
				if first != "" {
					// A copy of a message handled and acknowledged:
					// filed beside the first, not handled twice.
					if err := s.Move(ctx, f.UID, first, m.MessageID); err != nil {
						return err
					}
					info.Duplicates = append(info.Duplicates, m.MessageID)
					l.State = done
					continue
				}
			}
			herr := l.Handler(ctx, m)
			// The handler has returned: acknowledge, then file. An
			// acknowledgement that could not be sent for a passing reason
			// (4xx, network, trace, the login refused) leaves the message
			// unfiled: the next pass handles and acknowledges it again.
			if err := l.acknowledge(ctx, m, herr); err != nil {
				var se *SMTPError
				if !errors.As(err, &se) || se.Temporary() || errors.Is(err, ErrAuth) {
					return fmt.Errorf("bal: acknowledgement of %s not sent, left in %s for the next pass: %w", m.MessageID, folder, err)
				}
				l.report(err) // refused for good: filed all the same
			}
			dest := processed
			if herr != nil {
				dest = failed
			}
			if key != "" {
				if err := l.seen().Add(ctx, key, dest); err != nil {
					return fmt.Errorf("bal: message %s handled but not recorded as seen, left in %s for the next pass: %w", m.MessageID, folder, err)
				}
			}
			if err := s.Move(ctx, f.UID, dest, m.MessageID); err != nil {
				return err
			}
			info.Handled++
		}
		l.State = done
	}
	l.State = st
	return nil
}

// acknowledge sends the MDN (or the error e-mail); it returns the error of
// the send, if any (the rest is reported).
func (l *Loop) acknowledge(ctx context.Context, m *mssante.Received, herr error) error {
	var ie *mssante.IntegrationError
	if herr != nil {
		var x mssante.IntegrationError
		if errors.As(herr, &x) {
			ie = &x
		} else {
			other := mssante.IntegrationOther
			ie = &other
		}
	}
	ack, err := mssante.NewMDN(m, mssante.MDNOptions{From: l.From, Error: ie, Product: l.Product})
	switch {
	case err == nil:
		_, err = l.Sender.SendAck(ctx, ack)
		return err
	case errors.Is(err, mssante.ErrNoMDNRequested) && ie != nil && l.ErrorMailbox != "":
		mail, merr := mssante.NewErrorMail(m, l.From, l.ErrorMailbox, *ie, l.Product)
		if merr != nil {
			l.report(merr)
			return nil
		}
		_, err = l.Sender.SendAck(ctx, mail)
		return err
	case errors.Is(err, mssante.ErrNoMDNRequested):
	default:
		l.report(err) // e.g. needs the user's confirmation: not sent automatically
	}
	return nil
}
