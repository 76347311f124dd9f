// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecdaf744/gomss/internal/fieldtext"
)

// Action is what was done on a mailbox (SC.MSS/CONF.18: "type d'action").
type Action string

// Actions traced by gomss. Others may be used; they are kept as given.
const (
	Login           Action = "login"
	Logout          Action = "logout"
	Send            Action = "send"
	Fetch           Action = "fetch"
	Read            Action = "read"
	Move            Action = "move"
	Delete          Action = "delete"
	Append          Action = "append"
	MarkSeen        Action = "mark-seen"
	MDNSent         Action = "mdn-sent"
	DSNReceived     Action = "dsn-received"
	MDNReceived     Action = "mdn-received"
	DirectorySearch Action = "directory-search"
	// Integrate is the integration of a received document into the
	// receiving software (SC.MSS/UX.37–38: every received flow is traced
	// up to its integration), recorded by package mssante/intake: the
	// request's command is the step (DECIDE, FILE, WORKLIST, RESOLVE,
	// EXPIRE), its parameters the document's id, version and outcome and
	// the local patient identifier, never a trait.
	Integrate Action = "integrate"
)

// AuthMethod is how the actor was authenticated.
type AuthMethod string

// Authentication methods of MSSanté clients (Ref#2 §1 via mssante-spec §1).
const (
	AuthCPS         AuthMethod = "CPS"         // CPS/CPE card, PKCS#11
	AuthCertificate AuthMethod = "certificate" // IGC-Santé software certificate (ORG/APP BAL)
	AuthPSC         AuthMethod = "PSC"         // Pro Santé Connect (OAuth2 → XOAUTH2/OAUTHBEARER)
)

// Actor is who acted: the authenticated identity.
type Actor struct {
	// ID is the national identifier: IDNPS ("8"+RPPS, "0"+ADELI) of a
	// professional, or the identifier of the certificate's holder (e.g. the
	// structure's IDNST) for an applicative BAL.
	ID string `json:"id"`
	// IDType names the identifier: IDNPS, RPPS, IDNST, CN…
	IDType string     `json:"idType,omitempty"`
	Name   string     `json:"name,omitempty"`
	Auth   AuthMethod `json:"auth,omitempty"`
}

// Mailbox is the BAL acted on.
type Mailbox struct {
	Address string `json:"address"`
	Kind    string `json:"kind,omitempty"` // PER, ORG, APP, CAB
}

// Request is what was sent to the MSSanté server: the protocol command
// and its parameters (never message content).
type Request struct {
	Server  string   `json:"server,omitempty"` // host:port
	Command string   `json:"command"`          // e.g. "UID MOVE", "MAIL FROM", "AUTHENTICATE"
	Params  []string `json:"params,omitempty"`
}

// Response is the server's answer, success or failure.
type Response struct {
	OK   bool   `json:"ok"`
	Code string `json:"code,omitempty"` // SMTP reply code, IMAP status…
	Text string `json:"text,omitempty"`
}

// PendingText is the Response.Text of the record written before an action
// is attempted (package bal traces every action before and after it).
const PendingText = "pending"

// Pending reports the record made before the action: no answer yet (not
// OK, no code, no text or PendingText). Sinks report it as such, not as a
// failure.
func (r Response) Pending() bool {
	return !r.OK && r.Code == "" && (r.Text == "" || r.Text == PendingText)
}

// Event is one traced action (SC.MSS/CONF.17, SC.MSS/CONF.18): who (the
// authenticated actor, and for an organisational or applicative BAL the
// real user behind it when known), when (local workstation time with its
// zone; UTC is derived), on which mailbox, what action, the request sent to
// the server and its response, with the message and correlation ids.
type Event struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"` // local time with zone
	// UTC is Time in UTC, filled by Normalize (kept in the record so that
	// readers need no zone database).
	UTC         time.Time `json:"utc"`
	Actor       Actor     `json:"actor"`
	OnBehalfOf  *Actor    `json:"onBehalfOf,omitempty"`
	Mailbox     Mailbox   `json:"mailbox"`
	Action      Action    `json:"action"`
	Request     Request   `json:"request"`
	Response    Response  `json:"response"`
	MessageID   string    `json:"messageId,omitempty"`
	Correlation string    `json:"correlation,omitempty"`
	// Software identifies the product that recorded the event (name and
	// version), the FHIR AuditEvent source.observer.
	Software string `json:"software,omitempty"`
}

// MaxField is the longest value an event field or request parameter may
// have. Traces name things; they never carry content.
const MaxField = fieldtext.Max

// ErrEvent is wrapped by errors about an event that may not be recorded.
var ErrEvent = errors.New("trace: invalid event")

// NewID returns a random event identifier (128 bits, hex).
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Normalize fills ID, Time and UTC when they are empty and checks the
// event: actor identifier, action and command present; every string valid
// UTF-8, at most MaxField bytes and on one line. A message body, an
// attachment or a document cannot pass: content has line breaks or is
// longer, and no field is meant for it.
func (e *Event) Normalize() error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.UTC = e.Time.UTC()
	var problems []string
	if e.Actor.ID == "" {
		problems = append(problems, "actor.id is required (the authenticated author)")
	}
	if e.Action == "" {
		problems = append(problems, "action is required")
	}
	if e.Request.Command == "" {
		problems = append(problems, "request.command is required")
	}
	check := func(name, v string) {
		switch {
		case len(v) > MaxField:
			problems = append(problems, fmt.Sprintf("%s is %d bytes, at most %d: traces never carry content", name, len(v), MaxField))
		case strings.ContainsAny(v, "\r\n"):
			problems = append(problems, name+" has a line break: traces never carry content")
		case fieldtext.HasControl(v):
			problems = append(problems, name+" has a control character (only tab is allowed)")
		case !utf8.ValidString(v):
			problems = append(problems, name+" is not UTF-8")
		}
	}
	// In field order, so that the problems are always listed in the same
	// order (a map built per call also cost an allocation per event).
	check("id", e.ID)
	check("actor.id", e.Actor.ID)
	check("actor.idType", e.Actor.IDType)
	check("actor.name", e.Actor.Name)
	check("actor.auth", string(e.Actor.Auth))
	check("mailbox.address", e.Mailbox.Address)
	check("mailbox.kind", e.Mailbox.Kind)
	check("action", string(e.Action))
	check("request.server", e.Request.Server)
	check("request.command", e.Request.Command)
	check("response.code", e.Response.Code)
	check("response.text", e.Response.Text)
	check("messageId", e.MessageID)
	check("correlation", e.Correlation)
	check("software", e.Software)
	if e.OnBehalfOf != nil {
		check("onBehalfOf.id", e.OnBehalfOf.ID)
		check("onBehalfOf.idType", e.OnBehalfOf.IDType)
		check("onBehalfOf.name", e.OnBehalfOf.Name)
		check("onBehalfOf.auth", string(e.OnBehalfOf.Auth))
	}
	if len(e.Request.Params) > 32 {
		problems = append(problems, "request.params: more than 32 parameters")
	}
	for i, p := range e.Request.Params {
		check(fmt.Sprintf("request.params[%d]", i), p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrEvent, strings.Join(problems, "; "))
	}
	return nil
}

// Recorder records events. bal records every mailbox action through one.
// Record returns once the event is accepted by the recorder's guarantee
// (written, or durable, depending on the sink); an error means it was not
// recorded.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(ctx context.Context, e Event) error

// Record calls f.
func (f RecorderFunc) Record(ctx context.Context, e Event) error { return f(ctx, e) }

// ErrNotRecorded is wrapped by FailClosed errors: the action must not take
// place because its trace could not be written.
var ErrNotRecorded = errors.New("trace: event not recorded, action refused")

// Policy tells what a failure to record means for the action.
type Policy int

const (
	// FailClosed refuses the action when its trace cannot be written: the
	// recorder's error is returned (wrapping ErrNotRecorded) and the caller
	// must not proceed. This is the default of Guard.
	FailClosed Policy = iota
	// FailOpen lets the action proceed; the error goes to Guard.OnError.
	FailOpen
)

// Guard applies a policy around a recorder. bal records an action's
// request before sending it: with FailClosed, an action whose trace
// cannot be written is never sent.
type Guard struct {
	Recorder Recorder
	Policy   Policy
	// OnError receives the errors FailOpen swallows (may be nil).
	OnError func(Event, error)
}

// Record normalises and records e under the policy.
func (g *Guard) Record(ctx context.Context, e Event) error {
	err := e.Normalize()
	if err == nil {
		if g.Recorder == nil {
			err = errors.New("trace: no recorder")
		} else {
			err = g.Recorder.Record(ctx, e)
		}
	}
	if err == nil {
		return nil
	}
	if g.Policy == FailOpen {
		if g.OnError != nil {
			g.OnError(e, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNotRecorded, err)
}

// Multi records to every recorder in turn and returns the first error
// (all recorders are still tried).
func Multi(rs ...Recorder) Recorder {
	return RecorderFunc(func(ctx context.Context, e Event) error {
		var first error
		for _, r := range rs {
			if err := r.Record(ctx, e); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}
