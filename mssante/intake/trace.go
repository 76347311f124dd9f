// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"context"
	"strconv"
	"strings"

	"github.com/ecdaf744/gomss/trace"
)

// record writes the event of one step of a document's flow
// (SC.MSS/UX.37–38), fail closed: the error wraps trace.ErrNotRecorded
// and the caller must not go on. by is the person who acted (a worklist
// resolution), nil for the software itself. The event names the document
// (id, version), the outcome, the reasons and the local patient
// identifier; never a trait, a name or the INS.
func (dc *Decider) record(ctx context.Context, step string, d *Decision, by *trace.Actor) error {
	return dc.recordResult(ctx, step, d, by, true, "")
}

func (dc *Decider) recordResult(ctx context.Context, step string, d *Decision, by *trace.Actor, ok bool, text string) error {
	doc := &d.Document
	params := make([]string, 0, 5)
	params = append(params, "document="+doc.ID.String(), "version="+strconv.Itoa(doc.version()), "outcome="+d.Outcome.String())
	if d.Patient != nil {
		params = append(params, "patient="+d.Patient.ID)
	}
	if len(d.Reasons) > 0 {
		var b strings.Builder
		b.WriteString("reasons=")
		for i, r := range d.Reasons {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(r.Code.String())
		}
		params = append(params, b.String())
	}
	e := trace.Event{
		Time:        d.At,
		Actor:       dc.c.Actor,
		Mailbox:     dc.c.Mailbox,
		Action:      trace.Integrate,
		Request:     trace.Request{Command: step, Params: params},
		Response:    trace.Response{OK: ok, Text: text},
		MessageID:   doc.MessageID,
		Correlation: doc.Key(),
		Software:    dc.c.Software,
	}
	if e.Response.Text == "" {
		e.Response.Text = d.Outcome.String()
	}
	if d.Error != nil {
		e.Response.Code = strconv.Itoa(d.Error.Code)
	}
	if by != nil {
		e.Actor = *by
	}
	if step != "DECIDE" {
		e.Time = dc.c.Now()
	}
	return dc.guard.Record(ctx, e)
}
