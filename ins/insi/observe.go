// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ecdaf744/gomss/trace"
)

// Call describes one exchange with the service, for traceability: who
// (the emitter and authentication mode), when, which operation, the
// request's wsa:MessageID, and what came back (CR or fault). It holds no
// trait of the patient: no name, no date, no place, no matricule; the
// request and the answer are not in it. A search by the strategy makes
// several calls sharing one Correlation.
type Call struct {
	// Start is when the request was built; Duration how long the exchange
	// took.
	Start    time.Time
	Duration time.Duration
	// Operation is the operation called.
	Operation Operation
	// Endpoint is the service URL.
	Endpoint string
	// Mode and Emitter say who called: the structure (mTLS, emitter from
	// the certificate) or the professional (CPx, card identifier).
	Mode    Mode
	Emitter string
	// Automatic is true for an INSI-AUTO certificate (a call the software
	// made by itself), false for INSI-MANU and CPx.
	Automatic bool
	// MessageID is the request's wsa:MessageID without "uuid:".
	MessageID string
	// Correlation is the identifier of the Search or Verify this call
	// belongs to, empty for a single call.
	Correlation string
	// Attempt is 1 for the first attempt, 2… for retries.
	Attempt int
	// CR is the CodeCR of the answer, when one came.
	CR string
	// FaultSubcode and FaultCode are the siram subcode and the
	// desir_/insi_ code of a fault.
	FaultSubcode, FaultCode string
	// Err is the failure when no answer could be read (transport, timeout,
	// malformed answer): the error's text, which never holds traits.
	Err string
}

// OK reports whether the call found an identity (CR 00).
func (c *Call) OK() bool { return c.CR == CROK }

// Observer receives every Call after it ends. An error it returns is
// returned by the method that made the call (joined with the call's own
// outcome), so that a vendor whose rules forbid an untraced call can stop
// there.
type Observer func(ctx context.Context, c Call) error

func (c *Client) observe(ctx context.Context, req *Request, attempt int, start time.Time, correlation string, res *Result, err error) error {
	if c.cfg.Observer == nil {
		return nil
	}
	call := Call{
		Start:       start,
		Duration:    c.now().Sub(start),
		Operation:   req.Operation,
		Endpoint:    c.cfg.Endpoint,
		Mode:        c.cfg.Credentials.Mode(),
		Emitter:     c.emitter,
		MessageID:   req.MessageID,
		Correlation: correlation,
		Attempt:     attempt,
	}
	if m, ok := c.cfg.Credentials.(*MTLS); ok {
		call.Automatic = m.Automatic()
	}
	if res != nil {
		call.CR = res.CR
	}
	if f, ok := isFault(err); ok {
		call.FaultSubcode, call.FaultCode = f.Subcode, f.ErrorCode
	} else if err != nil && res == nil {
		call.Err = callError(err)
	}
	if oerr := c.cfg.Observer(ctx, call); oerr != nil {
		return fmt.Errorf("insi: observer refused call %s: %w", req.MessageID, oerr)
	}
	return nil
}

// callError describes a failure without what the answer held: a malformed
// answer's diagnosis may quote a matricule, an HTTP error a proxy's page.
func callError(err error) string {
	var he *HTTPError
	switch {
	case errors.Is(err, ErrMalformedAnswer):
		return ErrMalformedAnswer.Error()
	case errors.As(err, &he):
		return "insi: HTTP " + strconv.Itoa(he.Status)
	}
	return err.Error()
}

// Trace actions recorded by TraceObserver.
const (
	TraceSearchTraits trace.Action = "insi-search-traits"
	TraceSearchVitale trace.Action = "insi-search-vitale"
)

// TraceObserver returns an Observer that records each call as a
// trace.Event through rec: actor (who called: for INSI-MANU and CPx the
// user or professional; for INSI-AUTO the structure), time, action
// insi-search-traits or insi-search-vitale, request (server, operation,
// attempt, mode), response (CR, or fault subcode/code, or failure),
// MessageID (the wsa:MessageID) and Correlation (the search). software
// names the recording product (trace.Event.Software).
//
// Nothing of the patient is recorded: Call holds no trait.
func TraceObserver(rec trace.Recorder, actor trace.Actor, software string) Observer {
	return func(ctx context.Context, c Call) error {
		if rec == nil {
			return errors.New("insi: TraceObserver: nil recorder")
		}
		action := TraceSearchTraits
		if c.Operation == OpSearchWithVitale {
			action = TraceSearchVitale
		}
		server := c.Endpoint
		if u, err := url.Parse(c.Endpoint); err == nil {
			server = u.Host
		}
		e := trace.Event{
			Time:   c.Start,
			Actor:  actor,
			Action: action,
			Request: trace.Request{
				Server:  server,
				Command: string(c.Operation),
				Params:  []string{"attempt=" + strconv.Itoa(c.Attempt), "mode=" + string(c.Mode), "emitter=" + c.Emitter},
			},
			MessageID:   "uuid:" + c.MessageID,
			Correlation: c.Correlation,
			Software:    software,
		}
		switch {
		case c.CR != "":
			e.Response = trace.Response{OK: c.CR == CROK, Code: c.CR}
		case c.FaultCode != "" || c.FaultSubcode != "":
			e.Response = trace.Response{Code: c.FaultSubcode + "/" + c.FaultCode, Text: "fault"}
		default:
			text := c.Err
			if len(text) > 200 {
				text = text[:200]
			}
			e.Response = trace.Response{Code: "error", Text: text}
		}
		return rec.Record(ctx, e)
	}
}
