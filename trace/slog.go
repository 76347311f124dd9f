// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"context"
	"log/slog"
)

// SlogRecorder routes events to a slog.Handler, so that a vendor can send
// them through its own logging. Successful actions are logged at Info,
// failed ones at Warn; the event's fields become attribute groups. It adds
// no tamper evidence: use it beside FileLog, not instead of it.
type SlogRecorder struct {
	h slog.Handler
}

// NewSlogRecorder returns a recorder writing to h.
func NewSlogRecorder(h slog.Handler) *SlogRecorder { return &SlogRecorder{h: h} }

// Record normalises e and hands it to the handler (if it is enabled for
// the event's level).
func (r *SlogRecorder) Record(ctx context.Context, e Event) error {
	if err := e.Normalize(); err != nil {
		return err
	}
	level := slog.LevelInfo
	if !e.Response.OK {
		level = slog.LevelWarn
	}
	if !r.h.Enabled(ctx, level) {
		return nil
	}
	rec := slog.NewRecord(e.Time, level, "mssante "+string(e.Action), 0)
	rec.AddAttrs(slog.String("id", e.ID), slog.Time("utc", e.UTC), actorAttr("actor", e.Actor))
	if e.OnBehalfOf != nil {
		rec.AddAttrs(actorAttr("onBehalfOf", *e.OnBehalfOf))
	}
	params := make([]any, len(e.Request.Params))
	for i, p := range e.Request.Params {
		params[i] = p
	}
	rec.AddAttrs(
		slog.Group("mailbox", slog.String("address", e.Mailbox.Address), slog.String("kind", e.Mailbox.Kind)),
		slog.String("action", string(e.Action)),
		slog.Group("request", slog.String("server", e.Request.Server), slog.String("command", e.Request.Command), slog.Any("params", params)),
		slog.Group("response", slog.Bool("ok", e.Response.OK), slog.String("code", e.Response.Code), slog.String("text", e.Response.Text)),
	)
	for _, a := range []struct{ k, v string }{{"messageId", e.MessageID}, {"correlation", e.Correlation}, {"software", e.Software}} {
		if a.v != "" {
			rec.AddAttrs(slog.String(a.k, a.v))
		}
	}
	return r.h.Handle(ctx, rec)
}

func actorAttr(key string, a Actor) slog.Attr {
	return slog.Group(key, slog.String("id", a.ID), slog.String("idType", a.IDType), slog.String("name", a.Name), slog.String("auth", string(a.Auth)))
}
