// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"errors"
	"time"

	"github.com/ecdaf744/gomss/mssante"
)

// Errors of the outbox and of its stores (errors.Is).
var (
	// ErrStore: the store could not read or write its records (I/O
	// error, disk full, a failed fsync). After a failed write or sync the
	// store refuses every later write: what is on disk is not known, and
	// only a reopen (which reads it back) tells.
	ErrStore = errors.New("outbox: store failure")
	// ErrCorrupt: the stored records cannot be read back as written: a
	// damaged frame followed by intact ones (not a write cut by a crash,
	// which is repaired), or records that contradict each other. Nothing
	// is opened: dropping records silently could lose a message or send
	// one twice. JournalOptions.Repair cuts the journal at the damage.
	ErrCorrupt = errors.New("outbox: corrupt store")
	// ErrLocked: another process (or another Journal in this one) has the
	// journal open.
	ErrLocked = errors.New("outbox: journal in use by another process")
	// ErrClosed: the outbox or the store is closed.
	ErrClosed = errors.New("outbox: closed")
	// ErrDuplicate: a message with this Message-ID is in the outbox
	// already (under another Ref, or without one).
	ErrDuplicate = errors.New("outbox: Message-ID already in the outbox")
	// ErrUnknownMessage: no message with this Message-ID or Ref.
	ErrUnknownMessage = errors.New("outbox: no such message")
)

// Kind is the kind of a Record.
type Kind string

// The kinds of records. The outbox's state is what replaying them in
// order gives: a store only keeps them, in order, and gives them back.
const (
	// KindQueued: a message entered the outbox; the record carries its
	// body (the message exactly as it is sent, every time it is sent).
	KindQueued Kind = "queued"
	// KindAttempt: the listed messages are about to be sent. Written and
	// made durable before the first of them is handed to the server, so
	// that after a crash the outbox knows which ones may have been
	// accepted (those without a later result).
	KindAttempt Kind = "attempt"
	// KindResult: the outcome of one message's attempt (or the decision
	// taken about an attempt cut by a crash).
	KindResult Kind = "result"
	// KindReport: a DSN or an MDN received, matched with its message or
	// not (Report.MessageID empty).
	KindReport Kind = "report"
	// KindState: a message's whole state, written when the journal is
	// compacted (its body too while it may still be sent).
	KindState Kind = "state"
	// KindSeen: the Message-IDs of reports already taken into account,
	// written when the journal is compacted.
	KindSeen Kind = "seen"
)

// Record is one entry of the outbox's journal. Stores keep records in the
// order they are appended and give them back in that order (Store.Load);
// they may keep the JSON form of a record without its Body, and its Body
// apart (Store.Body).
type Record struct {
	Kind Kind      `json:"k"`
	Time time.Time `json:"t"`
	// MessageID is the message a queued, result or state record is about.
	MessageID string `json:"id,omitempty"`
	// Queued: the message entered (KindQueued).
	Queued *QueuedInfo `json:"q,omitempty"`
	// Attempt: the messages about to be sent (KindAttempt).
	Attempt *AttemptInfo `json:"a,omitempty"`
	// Result: an attempt's outcome (KindResult).
	Result *Result `json:"r,omitempty"`
	// Report: a report received (KindReport).
	Report *Report `json:"rep,omitempty"`
	// State: a message's state (KindState, compaction).
	State *Status `json:"s,omitempty"`
	// Seen: report Message-IDs with the time they were received
	// (KindSeen, compaction).
	Seen map[string]time.Time `json:"seen,omitempty"`
	// Body is the message as sent, on a KindQueued record and on a
	// KindState record of a message that may still be sent. Not part of
	// the JSON form: a store keeps it beside the record.
	Body []byte `json:"-"`
}

// QueuedInfo describes a message as it entered the outbox.
type QueuedInfo struct {
	// Ref is the caller's own identifier of the message (a document id, a
	// row of its database), unique in the outbox; Enqueue with a Ref
	// already there returns that message instead of queueing another.
	Ref string `json:"ref,omitempty"`
	// From is the envelope sender; Recipients every envelope recipient
	// (To, Cc and Bcc).
	From       string   `json:"from"`
	Recipients []string `json:"rcpt"`
	// DSN is the delivery status notification request (RFC 3461) made at
	// every attempt.
	DSN mssante.DSN `json:"dsn,omitzero"`
	// ReadReceipt: the message asks for an MDN (Disposition-Notification-To).
	ReadReceipt bool `json:"mdn,omitempty"`
	// Size of the body in bytes.
	Size int64 `json:"size"`
}

// AttemptInfo lists the messages of one attempt on one connection, with
// the recipients each is sent to (those not yet accepted).
type AttemptInfo struct {
	Messages []AttemptMessage `json:"m"`
	// Correlation ties the attempt to the connection's trace events.
	Correlation string `json:"corr,omitempty"`
}

// AttemptMessage is one message of an attempt.
type AttemptMessage struct {
	MessageID  string   `json:"id"`
	Recipients []string `json:"rcpt"`
}

// Outcome is what came of an attempt.
type Outcome string

// Outcomes of an attempt.
const (
	// Accepted: the server answered 250 to the end of DATA, for the
	// recipients it accepted at RCPT (Result.Recipients says which were
	// refused).
	Accepted Outcome = "accepted"
	// Refused: the server refused the message for good (5xx): not sent,
	// never tried again.
	Refused Outcome = "refused"
	// Deferred: not accepted, for a passing reason (4xx, no connection, a
	// connection lost before the final "."): tried again at Result.Next.
	Deferred Outcome = "deferred"
	// AcceptanceUnknown: the whole message had gone, up to its final ".",
	// and no answer came (connection lost, timeout), or the sending
	// process stopped between the attempt and its result. The server may
	// have accepted it. A DSN or an MDN about it proves it was; without
	// one by Result.Next it is sent again, with the same Message-ID.
	AcceptanceUnknown Outcome = "acceptance-unknown"
	// NotAttempted: the message was part of an attempt but was not
	// handed to the server (the connection failed before its turn).
	NotAttempted Outcome = "not-attempted"
)

// Result is the outcome of one message's attempt.
type Result struct {
	Outcome Outcome `json:"o"`
	// Recipients: what the server said for each recipient of the attempt
	// (refused at RCPT, or accepted).
	Recipients []RecipientResult `json:"rcpt,omitempty"`
	// Reply is the server's answer to the end of DATA (Accepted) or the
	// refusal, Error the failure as the SDK reported it.
	Reply    string `json:"reply,omitempty"`
	Error    string `json:"err,omitempty"`
	Code     string `json:"code,omitempty"` // SMTP reply code of a refusal
	Enhanced string `json:"enh,omitempty"`  // its enhanced status code
	// Next is when the message is tried again (Deferred,
	// AcceptanceUnknown, NotAttempted).
	Next time.Time `json:"next,omitzero"`
	// Counted reports an attempt that counts towards the retry limit.
	Counted bool `json:"n,omitempty"`
	// GiveUp: the retry limit is reached: the recipients still to be
	// submitted are failed, and the message is not tried again.
	GiveUp bool `json:"giveup,omitempty"`
}

// RecipientResult is the server's answer about one recipient at RCPT.
type RecipientResult struct {
	Address  string `json:"a"`
	Accepted bool   `json:"ok,omitempty"`
	// Code, Enhanced and Text are the refusal (empty when accepted).
	Code      string `json:"code,omitempty"`
	Enhanced  string `json:"enh,omitempty"`
	Text      string `json:"text,omitempty"`
	Temporary bool   `json:"temp,omitempty"`
}

// ReportKind tells a DSN from an MDN.
type ReportKind string

// Report kinds.
const (
	ReportDSN ReportKind = "dsn"
	ReportMDN ReportKind = "mdn"
)

// Report is a DSN or MDN received, as matched with the outbox.
type Report struct {
	// ID is the report's own Message-ID: a report given again (the
	// receive loop delivers at least once, Postfix may send a DSN twice)
	// is recognised and taken into account once.
	ID   string     `json:"rid"`
	Kind ReportKind `json:"kind"`
	// MessageID is the outbox message it answers, empty when it matches
	// none (kept and reported by Outbox.Unmatched).
	MessageID string `json:"id,omitempty"`
	// MatchedBy says how it was matched: "Original-Envelope-Id",
	// "Original-Message-ID", "In-Reply-To" or "References".
	MatchedBy string `json:"by,omitempty"`
	// EnvelopeID, OriginalMessageID, InReplyTo and References are what
	// the report said (for an unmatched one, what was looked for).
	EnvelopeID        string   `json:"envid,omitempty"`
	OriginalMessageID string   `json:"orig,omitempty"`
	InReplyTo         string   `json:"irt,omitempty"`
	References        []string `json:"refs,omitempty"`
	From              string   `json:"from,omitempty"`
	// Recipients: one entry per recipient the report is about.
	Recipients []ReportRecipient `json:"rcpt,omitempty"`
	// Problem explains why a report could not be read (an unmatched one
	// only).
	Problem string `json:"problem,omitempty"`
}

// ReportRecipient is what a report says about one recipient.
type ReportRecipient struct {
	// Address is the recipient as the outbox knows it (the
	// Original-Recipient, else the Final-Recipient); Final is the
	// Final-Recipient when it differs.
	Address string `json:"a"`
	Final   string `json:"final,omitempty"`
	// DSN: Action (failed, delayed, delivered, relayed, expanded), Status
	// (5.1.1), Diagnostic (the server's words).
	Action     string `json:"action,omitempty"`
	Status     string `json:"status,omitempty"`
	Diagnostic string `json:"diag,omitempty"`
	// MDN: Disposition type (displayed, processed, deleted, dispatched)
	// and the integration error (900–906) when there is one.
	Disposition string `json:"disp,omitempty"`
	ErrorCode   int    `json:"errcode,omitempty"`
	ErrorLabel  string `json:"errlabel,omitempty"`
}
