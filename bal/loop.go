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
// and moved to Processed; other messages are left in the folder.
//
// Delivery to the handler is at least once: a message counts as done
// (State) only once it is filed, so when the session is lost between the
// handler and the move, the message is handled (and acknowledged) again
// on the next pass, never skipped. Handlers must therefore recognise a
// repeat (the CDA document id, or Received.MessageID). The same holds when
// the acknowledgement cannot be sent for a passing reason (a 4xx reply, no
// connection, its trace not written): the message is left unfiled and the
// pass ends with the error; an acknowledgement refused for good (5xx) is
// reported (OnError) and the message filed.
type Loop struct {
	Receiver *Receiver
	// Sender sends the acknowledgements.
	Sender *Sender
	// From is the applicative BAL (Final-Recipient of the MDNs).
	From    mssante.Sender
	Product string // X-MSS-NIL of the acknowledgements
	// Folders: Folder is read ("INBOX" when empty); Processed and Failed
	// receive the messages ("Traites" and "Erreurs" when empty).
	Folder, Processed, Failed string
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
}

func (l *Loop) folders() (string, string, string) {
	f, p, e := l.Folder, l.Processed, l.Failed
	if f == "" {
		f = "INBOX"
	}
	if p == "" {
		p = "Traites"
	}
	if e == "" {
		e = "Erreurs"
	}
	return f, p, e
}

func (l *Loop) report(err error) {
	if err != nil && l.OnError != nil {
		l.OnError(err)
	}
}

// Run processes what is there, then waits for new messages with IDLE,
// reconnecting after a failure, until ctx ends.
func (l *Loop) Run(ctx context.Context) error {
	backoff := l.Backoff
	if backoff == 0 {
		backoff = 5 * time.Second
	}
	for ctx.Err() == nil {
		s, err := l.Receiver.Open(ctx)
		if err != nil {
			l.report(err)
			var te *TokenError
			if errors.Is(err, trace.ErrNotRecorded) || errors.As(err, &te) {
				// fail closed: no action without trace; and a token that
				// cannot be refreshed ends the session for good.
				return err
			}
			sleep(ctx, backoff)
			continue
		}
		for ctx.Err() == nil {
			if _, err = l.process(ctx, s); err != nil {
				break
			}
			if err = s.WaitNew(ctx); err != nil {
				break
			}
		}
		s.Close()
		if ctx.Err() != nil {
			break
		}
		l.report(err)
		if errors.Is(err, trace.ErrNotRecorded) {
			return err
		}
		sleep(ctx, backoff)
	}
	return ctx.Err()
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
// it. It returns how many messages were handled.
func (l *Loop) ProcessOnce(ctx context.Context) (int, error) {
	s, err := l.Receiver.Open(ctx)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return l.process(ctx, s)
}

// process handles the new messages, batch after batch (Receiver.MaxFetch).
func (l *Loop) process(ctx context.Context, s *Session) (int, error) {
	n := 0
	for {
		k, err := l.processBatch(ctx, s)
		n += k
		if err != nil || !s.HasMore() {
			return n, err
		}
	}
}

func (l *Loop) processBatch(ctx context.Context, s *Session) (int, error) {
	folder, processed, failed := l.folders()
	msgs, st, err := s.FetchNew(ctx, folder, l.State)
	if err != nil && !errors.Is(err, ErrUIDValidity) {
		return 0, err
	}
	l.report(err)
	// FetchNew gives them in UID order; State is moved past a message only
	// once it is filed: if the session ends in the middle, the next pass
	// starts again at the first message not filed, not after the last one
	// fetched.
	n := 0
	for _, f := range msgs {
		done := State{UIDValidity: st.UIDValidity, LastUID: f.UID}
		m := f.Message
		if m == nil {
			l.report(fmt.Errorf("bal: message UID %d unreadable: %w", f.UID, f.ParseErr))
			l.State = done // left in the folder, reported
			continue
		}
		switch {
		case m.ContentType == "multipart/report":
			action := trace.MDNReceived
			if m.ReportType == "delivery-status" {
				action = trace.DSNReceived
			}
			if err := s.guard.Record(ctx, l.Receiver.event(action, s.corr, trace.Request{Command: "UID FETCH", Params: []string{uidStr(f.UID)}},
				trace.Response{OK: true, Text: string(m.ReportType)}, m.MessageID)); err != nil {
				return n, err // fail closed: not filed without its trace
			}
			if err := s.Move(ctx, f.UID, processed, m.MessageID); err != nil {
				return n, err
			}
		case m.IsDocumentMessage():
			herr := l.Handler(ctx, m)
			// The handler has returned: acknowledge, then file. An
			// acknowledgement that could not be sent for a passing reason
			// (4xx, network, trace) leaves the message unfiled: the next
			// pass handles and acknowledges it again.
			if err := l.acknowledge(ctx, m, herr); err != nil {
				var se *SMTPError
				if !errors.As(err, &se) || se.Temporary() {
					return n, fmt.Errorf("bal: acknowledgement of %s not sent, left in %s for the next pass: %w", m.MessageID, folder, err)
				}
				l.report(err) // refused for good: filed all the same
			}
			dest := processed
			if herr != nil {
				dest = failed
			}
			if err := s.Move(ctx, f.UID, dest, m.MessageID); err != nil {
				return n, err
			}
		default:
			l.State = done // not a document message: left in the folder
			continue
		}
		l.State = done
		n++
	}
	l.State = st
	return n, nil
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
