// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"fmt"

	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// An action whose context has ended before it starts is not attempted,
// and the trace says so: a failed action is still an action the trace must
// show (Ref#2 and SC.MSS/UX.37–38 ask for every exchange to be traced, its
// failures included). begin and notSent implement that rule for every
// traced action of this package: its failure is recorded as its outcome,
// with context.WithoutCancel as every outcome is (a trace.FileLog refuses
// to write once ctx has ended), and the error wraps ctx's error, not
// trace.ErrNotRecorded: the trace did not fail, the caller stopped.

// begin records the pending event of an action about to be attempted
// (fail closed: an error means the action must not happen). When ctx has
// ended, before or while the pending event is written, it records the
// action's failure instead and returns an error wrapping ctx.Err(); what
// names the action in that error.
func begin(ctx context.Context, g *trace.Guard, pending trace.Event, what string) error {
	err := ctx.Err()
	if err == nil {
		if err = g.Record(ctx, pending); err == nil || ctx.Err() == nil {
			return err
		}
	}
	err = fmt.Errorf("bal: %s not attempted: %w", what, ctx.Err())
	ev := pending
	ev.Response = failure(err)
	if rerr := g.Record(context.WithoutCancel(ctx), ev); rerr != nil {
		return fmt.Errorf("%w; its failure could not be traced: %w", err, rerr)
	}
	return err
}

// notSent records the failure of a send that never reached its message
// transaction (the connection or the login failed, or ctx had ended), so
// that the trace names the message that was not sent. The connection's own
// failure is traced by the login event; a trace that cannot be written here
// changes nothing (the message was not sent either way).
func (s *Sender) notSent(ctx context.Context, action trace.Action, env mssante.Envelope, msgID string, err error) {
	req := trace.Request{Command: "MAIL", Params: append([]string{"FROM:<" + env.From + ">"}, prefixAll("TO:", env.Recipients)...)}
	s.guard().Record(context.WithoutCancel(ctx), s.event(action, trace.NewID(), req, failure(fmt.Errorf("not sent: %w", err)), msgID))
}
